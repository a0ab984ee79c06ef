//! The integrations' one way into the core.
//!
//! `tracing`, `tower`, `propagation` and `openai` build on the public API
//! and on what this module names, and on nothing else of the core: reading
//! this file says everything they depend on. The core, for its part, names
//! no integration and no feature.
//!
//! What is here: opening spans whose parent or identity an integration
//! decides itself (a `tracing` span's parent, a request's root), the thread's
//! stack and the trace's shared state as the `tracing` layer walks them, a
//! caller's position read from headers, and the content a span records.
// Each integration uses its part of the seam; a build with none uses none
// (and then neither the functions nor the names brought in here).
#![allow(dead_code, unused_imports)]

use std::borrow::Cow;
use std::sync::Arc;

pub(crate) use crate::builder::SpanBuilder;
pub(crate) use crate::content::Details;
pub(crate) use crate::context::{Context, Position};
pub(crate) use crate::global::enabled;
pub(crate) use crate::identity::{
    first_time_at, metadata_from, parse_session, EndUserId, Given, IdInput, IntoEndUserId,
};
pub(crate) use crate::llm::Params;
pub(crate) use crate::local::{
    end_detached, parent, pop, push, with_current, with_top, Frame, Parent, Top,
};
pub(crate) use crate::open::{Fact, OpenSpan};
pub(crate) use crate::record::{Link, Remote, SpanContext, SpanName};
pub(crate) use crate::value::{Attributes, SpanEvent, Status, Value};

use crate::builder;
use crate::kind::SpanKind;

/// Open a span under `parent`, or as a trace root (then with `identity`
/// resolved against the default, exactly as [`trace`](crate::trace) does):
/// for integrations that find the parent themselves, such as the `tracing`
/// layer. On a child, `identity` has no effect. `Parent::Unknown` opens a
/// root.
pub(crate) fn open_span(
    parent: Parent,
    name: SpanName,
    kind: SpanKind,
    identity: Given,
    attributes: Attributes,
    details: Option<Box<Details>>,
) -> OpenSpan {
    builder::open_under(parent, name, kind, identity, attributes, details)
}

/// The root of a request this process answers: it continues the caller's
/// trace when `caller` is given (read from the request's headers), else
/// starts a trace of its own (linked to `link`, an untrusted caller's span,
/// when given), whatever span is current on this thread, so the request's
/// identity is always its own. Records nothing when tracing is off, or on a
/// thread that must not be traced (the exporter's).
pub(crate) fn request_root(
    name: Cow<'static, str>,
    caller: Option<Arc<Remote>>,
    link: Option<Link>,
    identity: Given,
) -> SpanBuilder {
    builder::root_builder(
        SpanName::from(name),
        SpanKind::Workflow,
        caller,
        link,
        identity,
    )
}

/// A context at a caller's span in another process.
pub(crate) fn remote_context(remote: Arc<Remote>) -> Context {
    Context::remote(remote)
}

/// Where `cx` is, if in a trace.
pub(crate) fn position(cx: &Context) -> Option<&Position> {
    cx.position()
}
