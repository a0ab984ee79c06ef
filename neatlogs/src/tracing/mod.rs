//! The `tracing` integration (feature `tracing`): every `tracing` span
//! becomes a span of the current neatlogs trace, and so belongs to its
//! end-user.
//!
//! Two lines:
//!
//! ```
//! use tracing_subscriber::prelude::*;
//!
//! tracing_subscriber::registry().with(neatlogs::tracing::layer()).init();
//! # neatlogs::testing::with_capture(|| {
//! let _root = neatlogs::trace("chat").end_user_id("u_1").enter();
//! let span = tracing::info_span!("lookup", order = 42);
//! let _entered = span.enter();
//! assert_eq!(neatlogs::current_end_user().unwrap().id().as_str(), "u_1");
//! # });
//! ```
//!
//! # What a `tracing` span becomes
//!
//! - **Its parent** is the nearer of the current neatlogs span and its
//!   `tracing` parent: a span with an explicit `parent:` goes under the
//!   nearest recorded span of that chain; a contextual one under whatever is
//!   current on this thread (an entered `tracing` span is current for
//!   neatlogs too). A span with `parent: None`, or opened outside any trace,
//!   is a **trace root**, with the `init` default end-user — the rule of every
//!   root. A root's fields `neatlogs.end_user.id`, `neatlogs.end_user.metadata`
//!   (a JSON object) and `neatlogs.session.id`, given when it opens, set its
//!   identity as [`SpanBuilder::end_user_id`](crate::SpanBuilder::end_user_id)
//!   and friends do.
//! - **Entered** (`Span::enter`, `#[tracing::instrument]`, `tracing::Instrument`),
//!   it is the current neatlogs position on that thread:
//!   [`current_end_user`](crate::current_end_user) and neatlogs spans opened
//!   inside see it. `tracing::Span::current()` and `current_end_user()` agree.
//! - **Its kind** is the field `neatlogs.span.kind` (`"TOOL"`, `"agent"`, ...)
//!   when given; else, when its callsite declares `gen_ai.*` fields, the kind
//!   its `gen_ai.operation.name` implies (`embeddings`: EMBEDDING,
//!   `execute_tool`: TOOL, `invoke_agent`: AGENT, anything else: LLM); else
//!   WORKFLOW for a root and CHAIN for a child.
//! - **Its fields** are attributes, typed (integers, floats, booleans,
//!   strings; `Debug` and `Display` values as strings), set when it opens and
//!   by `Span::record` later. `otel.name` renames it and `otel.status_code` /
//!   `otel.status_message` set its status, as with `tracing-opentelemetry`.
//! - **GenAI fields** (the OpenTelemetry semantic conventions' names, as
//!   `rig-core` and `genai` write them) become the typed LLM call
//!   ([`SpanRecord::llm`](crate::export::SpanRecord::llm)), written on the wire in
//!   every configured vocabulary: `gen_ai.request.model`,
//!   `gen_ai.response.model`, `gen_ai.provider.name`, `gen_ai.system`,
//!   `gen_ai.usage.input_tokens` / `output_tokens` (and `prompt_tokens` /
//!   `completion_tokens`, `total_tokens`, cache and reasoning counts),
//!   `gen_ai.response.finish_reasons`, `gen_ai.response.id`,
//!   `gen_ai.input.messages` / `gen_ai.output.messages` /
//!   `gen_ai.system_instructions` (JSON, in the conventions' `parts` form or
//!   the chat completions' `content` form), and `gen_ai.request.*` parameters
//!   (`temperature`, `max_tokens`, ...) as the invocation parameters.
//! - **Events** inside it become span events (OTLP `Span.events`,
//!   [`SpanRecord::events`](crate::export::SpanRecord::events)): the message is the
//!   name, the fields are attributes, plus `level` and `target`. An
//!   ERROR-level event marks the span failed, with its message
//!   ([`NeatlogsLayer::error_events_set_status`] turns that off). Events
//!   outside any span are not recorded.
//! - **Closed**, it ends and goes to the export pipeline like any span.
//!
//! # What it costs
//!
//! Spans and events the layer's filter rejects (`.with_filter(..)`, or a
//! global filter) never reach it: they cost what `tracing` alone costs. With
//! no [`init`](crate::init) and no test capture, every callback returns after
//! one relaxed atomic load. A recorded span costs what a neatlogs span does,
//! plus the registry's lookup of its extensions on open, enter, exit and
//! close; each field read allocates only its value (keys are the callsite's
//! static names). Figures side by side with `tracing-opentelemetry` are in
//! `BENCHMARKS.md`.
//!
//! # Logs that name their trace
//!
//! [`TraceContextFormat`] wraps a `tracing_subscriber::fmt` event formatter
//! so that each line written inside a trace starts with its trace id and
//! end-user.

mod fields;
mod format;

use std::borrow::Cow;
use std::cell::RefCell;

use tracing_core::span::{Attributes, Id, Record};
use tracing_core::{Event, Level, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

pub use format::TraceContextFormat;

use crate::seam::{
    self, open_span, Frame, Given, OpenSpan, Parent, SpanContext, SpanEvent, SpanName, Status, Top,
};
use crate::SpanKind;

use fields::{EventRecorder, Recorder};

/// The [`NeatlogsLayer`] with its defaults: add it to a
/// `tracing_subscriber::registry()`.
///
/// ```
/// use tracing_subscriber::prelude::*;
/// let subscriber = tracing_subscriber::registry().with(neatlogs::tracing::layer());
/// # drop(subscriber);
/// ```
pub fn layer() -> NeatlogsLayer {
    NeatlogsLayer::default()
}

/// A `tracing_subscriber::Layer` that records `tracing` spans as neatlogs
/// spans: see [the module documentation](self). Made by
/// [`layer`].
#[derive(Debug, Clone)]
pub struct NeatlogsLayer {
    error_events_set_status: bool,
}

impl Default for NeatlogsLayer {
    fn default() -> Self {
        NeatlogsLayer {
            error_events_set_status: true,
        }
    }
}

impl NeatlogsLayer {
    /// Whether an ERROR-level event inside a span marks the span failed,
    /// with the event's message (default: `true`).
    ///
    /// ```
    /// let layer = neatlogs::tracing::layer().error_events_set_status(false);
    /// # drop(layer);
    /// ```
    pub fn error_events_set_status(mut self, on: bool) -> Self {
        self.error_events_set_status = on;
        self
    }
}

/// What the layer keeps in a `tracing` span's extensions: the open neatlogs
/// span, until the `tracing` span closes.
struct Recorded(OpenSpan);

thread_local! {
    /// The `tracing` spans entered on this thread, innermost last: each with
    /// the token of the frame it pushed on the neatlogs stack, popped when
    /// it exits.
    static ENTERED: RefCell<Vec<(u64, u64)>> = const { RefCell::new(Vec::new()) };
}

/// The position of the nearest recorded span from `id` up its `tracing`
/// ancestors.
fn recorded_ancestor<S>(ctx: &Context<'_, S>, id: &Id) -> Option<SpanContext>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    ctx.span(id)?
        .scope()
        .find_map(|span| span.extensions().get::<Recorded>().map(|r| r.0.context()))
}

impl<S> tracing_subscriber::Layer<S> for NeatlogsLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if !seam::enabled() {
            return;
        }
        let parent = if attrs.is_root() {
            Parent::Root
        } else if let Some(parent) = attrs.parent() {
            // An explicit parent: the nearest span of its chain that is
            // recorded, else wherever this thread is.
            match recorded_ancestor(&ctx, parent) {
                Some(cx) => Parent::Child(cx),
                None => match seam::parent() {
                    Parent::Unknown => return,
                    parent => parent,
                },
            }
        } else {
            // Contextual: entered `tracing` spans are on the neatlogs stack
            // too, so its top is the nearer of the two.
            match seam::parent() {
                Parent::Unknown => return,
                parent => parent,
            }
        };
        let Some(span) = ctx.span(id) else { return };
        let metadata = attrs.metadata();
        let mut attributes = Vec::new();
        let mut details = None;
        let mut given = Given {
            origin: Some("given as a tracing field"),
            ..Given::default()
        };
        let root = !matches!(parent, Parent::Child(_));
        let mut recorder = Recorder {
            attributes: &mut attributes,
            details: &mut details,
            kind: None,
            name: None,
            identity: root.then_some(&mut given),
        };
        attrs.record(&mut recorder);
        let (kind, name) = (recorder.kind, recorder.name);
        let kind = kind.unwrap_or_else(|| {
            let genai = metadata
                .fields()
                .iter()
                .any(|f| f.name().starts_with(fields::GENAI_PREFIX));
            match (genai, root) {
                (true, _) => SpanKind::Llm,
                (false, true) => SpanKind::Workflow,
                (false, false) => SpanKind::Chain,
            }
        });
        let name = match name {
            Some(name) => SpanName::Owned(name),
            None => SpanName::Static(metadata.name()),
        };
        let open = open_span(parent, name, kind, given, attributes, details);
        span.extensions_mut().insert(Recorded(open));
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut extensions = span.extensions_mut();
        let Some(Recorded(open)) = extensions.get_mut::<Recorded>() else {
            return;
        };
        let mut recorder = Recorder {
            attributes: &mut open.attributes,
            details: &mut open.details,
            kind: None,
            name: None,
            identity: None,
        };
        values.record(&mut recorder);
        let (kind, name) = (recorder.kind, recorder.name);
        if let Some(kind) = kind {
            open.kind = kind;
        }
        if let Some(name) = name {
            open.name = SpanName::Owned(name);
        }
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let cx = match span.extensions().get::<Recorded>() {
            Some(Recorded(open)) => open.context(),
            None => return,
        };
        if let Ok(token) = seam::push(Frame::Attached(cx)) {
            ENTERED.with(|e| e.borrow_mut().push((id.into_u64(), token)));
        }
    }

    fn on_exit(&self, id: &Id, _ctx: Context<'_, S>) {
        let id = id.into_u64();
        let token = ENTERED
            .try_with(|e| {
                let mut e = e.borrow_mut();
                let at = e.iter().rposition(|(span, _)| *span == id)?;
                Some(e.remove(at).1)
            })
            .ok()
            .flatten();
        if let Some(token) = token {
            seam::pop(token);
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        if !seam::enabled() {
            return;
        }
        let metadata = event.metadata();
        let make = || {
            let mut fields = EventRecorder {
                message: None,
                attributes: vec![
                    (Cow::Borrowed("level"), metadata.level().as_str().into()),
                    (Cow::Borrowed("target"), metadata.target().into()),
                ],
            };
            event.record(&mut fields);
            let name = match fields.message {
                Some(m) => Cow::Owned(m),
                None => Cow::Borrowed(metadata.name()),
            };
            SpanEvent::now(name, fields.attributes)
        };
        let error = self.error_events_set_status && *metadata.level() == Level::ERROR;
        let add = |open: &mut OpenSpan, event: SpanEvent| {
            let details = open.details();
            if error {
                details.status = Status::Error(Cow::Owned(event.name().to_owned()));
            }
            details.events.push(event);
        };
        // Explicit parent: that span (or its nearest recorded ancestor).
        if let Some(parent) = event.parent() {
            if let Some(span) = ctx.span(parent) {
                for span in span.scope() {
                    if let Some(Recorded(open)) = span.extensions_mut().get_mut::<Recorded>() {
                        add(open, make());
                        return;
                    }
                }
            }
            return;
        }
        if event.is_root() {
            return;
        }
        // Contextual: the innermost span on this thread; a neatlogs span open
        // here directly, an entered `tracing` span through the registry.
        let attached = seam::with_top(|top| match top {
            Top::Open(open) => {
                add(open, make());
                None
            }
            Top::Attached(span_id) => Some(span_id),
            Top::None => None,
        })
        .flatten();
        let Some(span_id) = attached else { return };
        let Some(current) = ctx.lookup_current() else {
            return;
        };
        for span in current.scope() {
            let mut extensions = span.extensions_mut();
            if let Some(Recorded(open)) = extensions.get_mut::<Recorded>() {
                // Only when it is the span the stack says is current (not a
                // context attached from elsewhere).
                if open.span_id == span_id {
                    add(open, make());
                }
                return;
            }
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        let recorded = span.extensions_mut().remove::<Recorded>();
        if let Some(Recorded(open)) = recorded {
            seam::end_detached(open);
        }
    }
}
