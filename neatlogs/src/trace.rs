//! What every span of one trace shares, resolved once when its root opens:
//! the ids, the identity, and where its finished spans go.

use std::sync::Arc;

use crate::capture::CaptureSink;
use crate::id::{SpanId, TraceId};
use crate::identity::{EndUser, EndUserId, IdInput};
use crate::session::SessionId;

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
    /// The caller's `tracestate`, passed on unchanged.
    pub(crate) trace_state: Option<Box<str>>,
    /// The caller's end-user from `baggage`, read only when the receiving
    /// application decided to believe this caller: `None` when not read,
    /// `Invalid` when the caller sent a bad one (the trace then has no
    /// end-user, never a fallback).
    pub(crate) end_user: Option<IdInput<EndUserId>>,
}

/// Where the finished spans of a trace go, chosen once at the root.
#[derive(Debug)]
pub(crate) enum Sink {
    /// The export pipeline (if `init` ran; dropped otherwise).
    Export,
    /// A test capture, opened on the thread where the root opened; the spans
    /// are also exported if `init` ran.
    Capture(Arc<CaptureSink>),
}

/// A position in a trace: the trace and one span of it. What a child's
/// parent is, what a [`Context`](crate::Context) carries, and what an
/// attached frame holds. Cheap to clone (an `Arc` and an id).
#[derive(Debug, Clone)]
pub(crate) struct SpanContext {
    pub(crate) trace: Arc<Trace>,
    pub(crate) span_id: SpanId,
}
