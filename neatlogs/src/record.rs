//! Finished spans, as exporters and test captures see them (immutable
//! records), and the trace they belong to: what every span of one trace
//! shares, resolved once when its root opens. The two point at each other
//! (a record holds its trace; a trace says where its records go), so they
//! live together.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use crate::clock::{self, Instant};
use crate::content::{Captured, CodeLocation, Details, Site};
use crate::id::{SpanId, TraceId};
use crate::identity::{EndUser, EndUserId, IdInput, Resolved};
use crate::kind::SpanKind;
use crate::llm::LlmCall;
use crate::sampling::Sampling;
use crate::session::SessionId;
use crate::value::{last_value, Attributes, SpanEvent, Status, Value};

/// A span's name: a string, or a `#[neatlogs::span]` function's static
/// [`Site`] (its name and code location in one pointer, so that the code
/// location costs an open span and a record nothing).
#[derive(Clone)]
pub(crate) enum SpanName {
    Static(&'static str),
    Owned(String),
    Site(&'static Site),
}

impl SpanName {
    #[inline(always)]
    pub(crate) fn as_str(&self) -> &str {
        match self {
            SpanName::Static(s) => s,
            SpanName::Owned(s) => s,
            SpanName::Site(site) => site.name,
        }
    }

    pub(crate) fn code(&self) -> Option<&'static CodeLocation> {
        match self {
            SpanName::Site(site) => Some(&site.code),
            _ => None,
        }
    }
}

impl From<Cow<'static, str>> for SpanName {
    #[inline(always)]
    fn from(name: Cow<'static, str>) -> Self {
        match name {
            Cow::Borrowed(s) => SpanName::Static(s),
            Cow::Owned(s) => SpanName::Owned(s),
        }
    }
}

impl std::fmt::Display for SpanName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Debug for SpanName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

/// A finished span: what exporters receive and test captures return.
/// Immutable: it is read by accessors only.
#[derive(Debug, Clone)]
pub struct SpanRecord {
    pub(crate) trace: Arc<Trace>,
    pub(crate) span_id: SpanId,
    pub(crate) parent: Option<SpanId>,
    pub(crate) name: SpanName,
    pub(crate) kind: SpanKind,
    pub(crate) start: Instant,
    pub(crate) end: Instant,
    pub(crate) attributes: Attributes,
    /// Captured input and output, the LLM call, the status: boxed, and
    /// allocated only when one is given (most spans have none, and a record
    /// is moved several times between the stack and the export thread).
    pub(crate) details: Option<Box<Details>>,
}

impl SpanRecord {
    /// The trace this span belongs to.
    pub fn trace_id(&self) -> TraceId {
        self.trace.trace_id
    }
    /// This span's id.
    pub fn span_id(&self) -> SpanId {
        self.span_id
    }
    /// The parent span's id: `None` for a trace root, the caller's span
    /// for a root that continues a trace from another process.
    pub fn parent_span_id(&self) -> Option<SpanId> {
        match (&self.parent, &self.trace.remote) {
            (None, Some(remote)) if self.span_id == self.trace.root_span_id => Some(remote.span_id),
            (parent, _) => *parent,
        }
    }
    /// Whether this span is its trace's root in this process (the one that
    /// owns the identity). A root that continues a caller's trace is one
    /// too, with a [remote parent](SpanRecord::has_remote_parent).
    pub fn is_root(&self) -> bool {
        self.parent.is_none() && self.span_id == self.trace.root_span_id
    }
    /// Whether this span's parent is in another process (a root that
    /// continues a trace read from a request's `traceparent`).
    pub fn has_remote_parent(&self) -> bool {
        self.trace.remote.is_some() && self.is_root()
    }
    /// On a root: the span of another trace this trace was started from
    /// without continuing it (a [`new_trace`](crate::new_trace) job
    /// spawned from a request, or a request whose caller's trace context
    /// was not trusted), written as an OTLP span link.
    pub fn link(&self) -> Option<(TraceId, SpanId)> {
        let link = self.trace.link.as_ref().filter(|_| self.is_root())?;
        Some((link.trace_id, link.span_id))
    }
    /// The W3C `tracestate` the trace was continued with, if any.
    pub fn trace_state(&self) -> Option<&str> {
        self.trace.remote.as_ref()?.trace_state.as_deref()
    }
    /// The span name.
    pub fn name(&self) -> &str {
        self.name.as_str()
    }
    /// The span kind.
    pub fn kind(&self) -> SpanKind {
        self.kind
    }
    /// The trace's end-user (the same for every span of a trace; exporters
    /// write it on the root only).
    pub fn end_user(&self) -> Option<&EndUser> {
        self.trace.end_user.as_ref()
    }
    /// The trace's session id.
    pub fn session_id(&self) -> Option<&str> {
        self.trace.session.as_deref()
    }
    /// The trace's span-level tags (given on the root; exporters write them
    /// on the root only).
    pub fn tags(&self) -> &[String] {
        &self.trace.tags
    }
    /// Start time, in nanoseconds since the Unix epoch.
    pub fn start_unix_nanos(&self) -> u64 {
        clock::unix_nanos(self.start)
    }
    /// End time, in nanoseconds since the Unix epoch.
    pub fn end_unix_nanos(&self) -> u64 {
        clock::unix_nanos(self.end)
    }
    /// How long the span lasted.
    pub fn duration(&self) -> Duration {
        self.end.saturating_duration_since(self.start)
    }
    /// Attributes, in the order they were set (a key set twice appears twice;
    /// the last one wins, see [`SpanRecord::attribute`]).
    pub fn attributes(&self) -> &[(Cow<'static, str>, Value)] {
        &self.attributes
    }
    /// The last value set for `key`.
    pub fn attribute(&self, key: &str) -> Option<&Value> {
        last_value(&self.attributes, key)
    }
    /// The span's status.
    pub fn status(&self) -> &Status {
        self.details.as_ref().map_or(&Status::Unset, |d| &d.status)
    }
    /// The captured input (`input.value`).
    pub fn input(&self) -> Option<&Captured> {
        self.details.as_ref()?.input.as_ref()
    }
    /// The captured output (`output.value`).
    pub fn output(&self) -> Option<&Captured> {
        self.details.as_ref()?.output.as_ref()
    }
    /// What this span does (`set_description`).
    pub fn description(&self) -> Option<&str> {
        self.details.as_ref()?.description.as_deref()
    }
    /// The LLM call recorded on this span, if any.
    pub fn llm(&self) -> Option<&LlmCall> {
        self.details.as_ref()?.llm.as_ref()
    }
    /// Where the `#[neatlogs::span]` function that made this span is.
    pub fn code(&self) -> Option<&CodeLocation> {
        self.name.code()
    }
    /// The span's events (OTLP span events), in the order they happened.
    pub fn events(&self) -> &[SpanEvent] {
        self.details.as_ref().map_or(&[], |d| &d.events)
    }
    /// Time to the first token of a streamed reply, when recorded.
    pub fn time_to_first_token(&self) -> Option<Duration> {
        let at = self.llm()?.first_token_at()?;
        Some(at.saturating_duration_since(self.start))
    }
}

/// State shared by every span of one trace (one `Arc` per trace; children
/// hold a clone and never copy the identity).
#[derive(Debug)]
pub(crate) struct Trace {
    pub(crate) trace_id: TraceId,
    pub(crate) root_span_id: SpanId,
    pub(crate) end_user: Option<EndUser>,
    pub(crate) session: Option<SessionId>,
    pub(crate) tags: Vec<String>,
    pub(crate) sink: Sink,
    /// Whether the trace is recorded (the head sampler's decision at the
    /// root). A trace that is not still carries its identity and context;
    /// its spans are dropped, and its children not opened.
    pub(crate) sampled: bool,
    /// Set when the head sampler dropped the trace and tail keep is on:
    /// its spans are recorded and held until its root ends.
    pub(crate) tail: Option<Box<crate::tail::TraceTail>>,
    /// The probability the head sampler kept the trace with, when it was a
    /// ratio below 1.
    pub(crate) probability: Option<f64>,
    /// Set when the trace continues one from another process: the root's
    /// parent is the caller's span.
    pub(crate) remote: Option<Arc<Remote>>,
    /// A span of another trace this one was started from without
    /// continuing it (a job spawned from a request; a request whose
    /// caller's `traceparent` was not trusted): a span link on the root.
    pub(crate) link: Option<Link>,
}

/// A span of another trace, linked from a root (OTLP `Span.links`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Link {
    pub(crate) trace_id: TraceId,
    pub(crate) span_id: SpanId,
}

/// A caller's position in a trace, read from the headers of a request that
/// crossed a process boundary (W3C `traceparent` / `tracestate`, and the
/// end-user from `baggage` when the receiving side accepts it).
#[derive(Debug)]
pub(crate) struct Remote {
    pub(crate) trace_id: TraceId,
    pub(crate) span_id: SpanId,
    /// The caller's `sampled` flag (`traceparent` flags bit 0).
    pub(crate) sampled: bool,
    /// The caller's `tracestate`, passed on unchanged.
    pub(crate) trace_state: Option<Box<str>>,
    /// The caller's end-user from `baggage`, read only when the receiving
    /// application decided to believe this caller: `None` when not read,
    /// `Invalid` when the caller sent a bad one (the trace then has no
    /// end-user, never a fallback).
    pub(crate) end_user: Option<IdInput<EndUserId>>,
}

/// Where the finished spans of a trace go, chosen once at the root.
pub(crate) enum Sink {
    /// The export pipeline `init` installed (dropped if there is none).
    Export,
    /// A test capture, opened on the thread where the root opened; the spans
    /// are also exported if `init` ran.
    Capture(Arc<dyn SpanSink>),
    /// A [`Neatlogs`](crate::Neatlogs) instance made the default where the
    /// root opened: its pipeline alone, with its defaults.
    Instance(Arc<dyn Destination>),
}

impl std::fmt::Debug for Sink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Sink::Export => "Export",
            Sink::Capture(_) => "Capture",
            Sink::Instance(_) => "Instance",
        })
    }
}

/// A pipeline of its own that takes a trace's finished spans (a
/// [`Neatlogs`](crate::Neatlogs) instance), and the defaults its roots
/// resolve their identity against.
pub(crate) trait Destination:
    Send + Sync + std::panic::UnwindSafe + std::panic::RefUnwindSafe
{
    fn send(&self, record: SpanRecord);
    fn defaults(&self) -> &Resolved;
    fn sampling(&self) -> &Sampling;
    fn usage(&self) -> &crate::usage::UsageTable;
}

/// Takes a copy of each finished span of a trace that reports to it (a test
/// capture, [`capture`](crate::capture)). Unwind-safe, as the test capture
/// is, so that records and contexts stay so.
pub(crate) trait SpanSink:
    Send + Sync + std::panic::UnwindSafe + std::panic::RefUnwindSafe
{
    fn push(&self, record: &SpanRecord);
}

/// A position in a trace: the trace and one span of it. What a child's
/// parent is, what a [`Context`](crate::Context) carries, and what an
/// attached frame holds. Cheap to clone (an `Arc` and an id).
#[derive(Debug, Clone)]
pub(crate) struct SpanContext {
    pub(crate) trace: Arc<Trace>,
    pub(crate) span_id: SpanId,
}

/// Records built field by field, for the encoder's tests.
#[cfg(test)]
pub(crate) mod synthetic {
    use super::*;

    /// What a synthetic trace carries.
    #[derive(Default)]
    pub(crate) struct TraceSpec {
        pub(crate) trace_id: u128,
        pub(crate) root_span_id: u64,
        pub(crate) end_user: Option<EndUser>,
        pub(crate) session: Option<String>,
        pub(crate) tags: Vec<String>,
        /// The caller's span and `tracestate`, for a continued trace.
        pub(crate) remote: Option<(u64, Option<String>)>,
        /// A linked span of another trace: (trace id, span id).
        pub(crate) link: Option<(u128, u64)>,
    }

    /// A shared trace for synthetic records.
    pub(crate) fn trace(spec: TraceSpec) -> Arc<Trace> {
        Arc::new(Trace {
            trace_id: TraceId::from_u128(spec.trace_id),
            root_span_id: SpanId::from_u64(spec.root_span_id),
            end_user: spec.end_user,
            session: spec.session.map(Arc::from),
            tags: spec.tags,
            sink: crate::record::Sink::Export,
            sampled: true,
            tail: None,
            probability: None,
            remote: spec.remote.map(|(span_id, state)| {
                Arc::new(crate::record::Remote {
                    trace_id: TraceId::from_u128(spec.trace_id),
                    span_id: SpanId::from_u64(span_id),
                    sampled: true,
                    trace_state: state.map(String::into_boxed_str),
                    end_user: None,
                })
            }),
            link: spec.link.map(|(trace_id, span_id)| crate::record::Link {
                trace_id: TraceId::from_u128(trace_id),
                span_id: SpanId::from_u64(span_id),
            }),
        })
    }

    /// A record with every field given (times are `now` + the offsets, in ns).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn record(
        trace: &Arc<Trace>,
        span_id: u64,
        parent: Option<u64>,
        name: impl Into<Cow<'static, str>>,
        kind: SpanKind,
        duration_ns: u64,
        attributes: Attributes,
        status: Status,
    ) -> SpanRecord {
        let start = clock::now();
        SpanRecord {
            trace: trace.clone(),
            span_id: SpanId::from_u64(span_id),
            parent: parent.map(SpanId::from_u64),
            name: SpanName::from(name.into()),
            kind,
            start,
            end: start + Duration::from_nanos(duration_ns),
            attributes,
            details: (status != Status::Unset).then(|| {
                Box::new(Details {
                    status,
                    ..Details::default()
                })
            }),
        }
    }

    /// `record` with events `(name, nanoseconds after its start, attributes)`.
    pub(crate) fn with_events(
        mut record: SpanRecord,
        events: &[(String, u64, Attributes)],
    ) -> SpanRecord {
        if events.is_empty() {
            return record;
        }
        let details = record.details.get_or_insert_with(Box::default);
        for (name, offset, attributes) in events {
            details.events.push(SpanEvent {
                time: record.start + Duration::from_nanos(*offset),
                name: Cow::Owned(name.clone()),
                attributes: attributes.clone(),
            });
        }
        record
    }
}
