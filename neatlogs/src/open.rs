//! An open span: started, not yet ended. It lives on its thread's stack (a
//! guard), in its thread's batch of ended spans (a guard's child: written
//! once, where it stays), or inside an instrumented future between polls,
//! and is an immutable [`SpanRecord`] once it ends.

use std::borrow::Cow;
use std::fmt;

use crate::clock;
use crate::content::{Captured, Details};
use crate::id::SpanId;
use crate::kind::SpanKind;
use crate::llm::{LlmCall, Message, Params, ToolCall, ToolDefinition, Usage};
use crate::record::SpanContext;
use crate::record::{SpanName, SpanRecord};
use crate::value::{Attributes, Status, Value};

/// An open span is the record it becomes, its end not yet written: ending
/// it writes the end time and nothing moves but the record itself. `pub`
/// only so that the sealed [`SpanHandle`](crate::SpanHandle) trait can name
/// it; the module is private, so no user can.
pub type OpenSpan = SpanRecord;

impl SpanRecord {
    #[inline(always)]
    pub(crate) fn start(
        cx: SpanContext,
        parent: Option<SpanId>,
        name: SpanName,
        kind: SpanKind,
        attributes: Attributes,
    ) -> OpenSpan {
        let start = clock::now();
        SpanRecord {
            trace: cx.trace,
            span_id: cx.span_id,
            parent,
            name,
            kind,
            start,
            end: start,
            attributes,
            details: None,
        }
    }

    /// This span's position, for a child or a [`Context`](crate::Context):
    /// its trace (one more reference) and id.
    #[inline]
    pub(crate) fn context(&self) -> SpanContext {
        SpanContext {
            trace: self.trace.clone(),
            span_id: self.span_id,
        }
    }

    /// End the span now: status ERROR if the thread is unwinding.
    #[inline(always)]
    pub(crate) fn end(mut self) -> SpanRecord {
        self.end_here();
        self
    }

    /// End the span where it is: its end time, and status ERROR if the
    /// thread is unwinding.
    #[inline(always)]
    pub(crate) fn end_here(&mut self) {
        self.end = clock::now();
        if std::thread::panicking() {
            self.details.get_or_insert_with(Box::default).status =
                Status::Error(Cow::Borrowed("panicked"));
        }
    }

    pub(crate) fn set_attribute(&mut self, key: Cow<'static, str>, value: Value) {
        self.attributes.push((key, value));
    }

    pub(crate) fn record_error(&mut self, error: &dyn fmt::Display) {
        self.set_status(Status::Error(Cow::Owned(error.to_string())));
    }

    pub(crate) fn set_ok(&mut self) {
        self.set_status(Status::Ok);
    }

    pub(crate) fn set_status(&mut self, status: Status) {
        self.details().status = status;
    }

    pub(crate) fn details(&mut self) -> &mut Details {
        self.details.get_or_insert_with(Box::default)
    }

    pub(crate) fn llm_mut(&mut self) -> &mut LlmCall {
        self.details().llm_mut()
    }

    pub(crate) fn first_token(&mut self) {
        let llm = self.llm_mut();
        if llm.first_token.is_none() {
            llm.first_token = Some(clock::now());
        }
    }
}

/// What a builder or a live span can be told about its content and LLM
/// call: each variant sets one fact.
pub(crate) enum Fact {
    Input(Captured),
    Output(Captured),
    RequestModel(Cow<'static, str>),
    ResponseModel(Cow<'static, str>),
    Provider(Cow<'static, str>),
    System(Cow<'static, str>),
    InputMessage(Message),
    OutputMessage(Message),
    ToolCall(ToolCall),
    Tool(ToolDefinition),
    Description(Cow<'static, str>),
    FinishReason(Cow<'static, str>),
    Usage(Usage),
    InvocationParameters(serde_json::Value),
    ResponseId(Cow<'static, str>),
    Streaming(bool),
}

impl Fact {
    /// Record the fact in `details`.
    pub(crate) fn apply(self, details: &mut Details) {
        match self {
            Fact::Input(c) => details.input = Some(c),
            Fact::Output(c) => details.output = Some(c),
            Fact::RequestModel(m) => details.llm_mut().request_model = Some(m),
            Fact::ResponseModel(m) => details.llm_mut().response_model = Some(m),
            Fact::Provider(p) => details.llm_mut().provider = Some(p),
            Fact::System(s) => details.llm_mut().system = Some(s),
            Fact::InputMessage(m) => details.llm_mut().input_messages.push(m),
            Fact::OutputMessage(m) => details.llm_mut().output_messages.push(m),
            Fact::ToolCall(c) => details.llm_mut().tool_calls.push(c),
            Fact::Tool(t) => details.llm_mut().tools.push(t),
            Fact::Description(d) => details.description = Some(d),
            Fact::FinishReason(r) => details.llm_mut().finish_reason = Some(r),
            Fact::Usage(u) => details.llm_mut().usage = u,
            Fact::InvocationParameters(v) => {
                details.llm_mut().invocation_parameters = Some(Params::Given(v))
            }
            Fact::ResponseId(id) => details.llm_mut().response_id = Some(id),
            Fact::Streaming(s) => details.llm_mut().streaming = Some(s),
        }
    }
}
