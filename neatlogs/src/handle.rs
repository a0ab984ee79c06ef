//! [`SpanHandle`]: what can be recorded on an open span, written once for
//! every value that holds one.

use std::borrow::Cow;
use std::fmt;

use crate::content::Captured;
use crate::llm::{Message, ToolCall, ToolDefinition, Usage};
use crate::open::{Fact, OpenSpan};
use crate::value::Value;

/// What can be recorded on an open span: the one set of recording methods,
/// implemented by every value that holds an open span —
/// [`SpanGuard`](crate::SpanGuard) (from `enter()`), [`Span`](crate::Span)
/// (from `start()`), [`Instrumented`](crate::Instrumented) (from
/// `instrument()`, before its first poll) and [`ActiveSpan`](crate::ActiveSpan)
/// (the current span, from [`with_current_span`](crate::with_current_span)).
///
/// Every method takes `&mut self`. On a span that is not recorded (tracing
/// off) each one does nothing and costs a branch.
///
/// ```
/// use neatlogs::{llm::Usage, SpanHandle, SpanKind};
/// # neatlogs::testing::with_capture(|| {
/// let mut llm = neatlogs::span(SpanKind::Llm, "completion").enter();
/// llm.set_model("gpt-4o");
/// llm.set_usage(Usage::new(120, 48));
/// # });
/// ```
///
/// The trait is sealed: only this crate's handles implement it.
pub trait SpanHandle: sealed::Holder {
    /// Whether this span is being recorded (`false` when tracing is off).
    fn is_recording(&self) -> bool {
        self.holds_span()
    }

    /// Set an attribute.
    fn set_attribute(&mut self, key: impl Into<Cow<'static, str>>, value: impl Into<Value>) {
        self.with_open(|s| s.set_attribute(key.into(), value.into()));
    }

    /// The input: text, or a `serde_json::Value` (written as JSON on the
    /// export thread).
    fn set_input(&mut self, input: impl Into<Captured>) {
        fact(self, Fact::Input(input.into()));
    }

    /// The output: text, or a `serde_json::Value`.
    fn set_output(&mut self, output: impl Into<Captured>) {
        fact(self, Fact::Output(output.into()));
    }

    /// What this span does (`tool.description` on a TOOL span,
    /// `neatlogs.description` on others).
    fn set_description(&mut self, description: impl Into<Cow<'static, str>>) {
        fact(self, Fact::Description(description.into()));
    }

    /// The model asked for.
    fn set_model(&mut self, model: impl Into<Cow<'static, str>>) {
        fact(self, Fact::RequestModel(model.into()));
    }

    /// The model that answered (it names the call on the wire when known).
    fn set_response_model(&mut self, model: impl Into<Cow<'static, str>>) {
        fact(self, Fact::ResponseModel(model.into()));
    }

    /// The provider: `openai`, `anthropic`, ...
    fn set_provider(&mut self, provider: impl Into<Cow<'static, str>>) {
        fact(self, Fact::Provider(provider.into()));
    }

    /// The AI system, when it differs from the provider (OpenAI models
    /// served by Azure: system `openai`, provider `azure`).
    fn set_system(&mut self, system: impl Into<Cow<'static, str>>) {
        fact(self, Fact::System(system.into()));
    }

    /// Add one message of the prompt.
    fn add_input_message(&mut self, message: Message) {
        fact(self, Fact::InputMessage(message));
    }

    /// Add one message of the reply.
    fn add_output_message(&mut self, message: Message) {
        fact(self, Fact::OutputMessage(message));
    }

    /// Add a tool call the model asked for.
    fn add_tool_call(&mut self, call: ToolCall) {
        fact(self, Fact::ToolCall(call));
    }

    /// Add a tool offered to the model in the request.
    fn add_tool_definition(&mut self, tool: ToolDefinition) {
        fact(self, Fact::Tool(tool));
    }

    /// The invocation parameters (temperature, max tokens, ...), a JSON
    /// object; written as JSON text on the export thread.
    fn set_invocation_parameters(&mut self, parameters: serde_json::Value) {
        fact(self, Fact::InvocationParameters(parameters));
    }

    /// Whether the reply is streamed.
    fn set_streaming(&mut self, streaming: bool) {
        fact(self, Fact::Streaming(streaming));
    }

    /// Token usage ([`Usage::new(prompt, completion)`](Usage::new), with
    /// cache, reasoning and total tokens when known).
    fn set_usage(&mut self, usage: Usage) {
        fact(self, Fact::Usage(usage));
    }

    /// Why the model stopped: `stop`, `length`, `tool_calls`, ...
    fn set_finish_reason(&mut self, reason: impl Into<Cow<'static, str>>) {
        fact(self, Fact::FinishReason(reason.into()));
    }

    /// The provider's id of the response.
    fn set_response_id(&mut self, id: impl Into<Cow<'static, str>>) {
        fact(self, Fact::ResponseId(id.into()));
    }

    /// The first token of the reply arrived now (the first time only):
    /// the time to first token is measured from the span's start.
    fn record_first_token(&mut self) {
        self.with_open(OpenSpan::first_token);
    }

    /// Mark the span as successful.
    fn set_ok(&mut self) {
        self.with_open(OpenSpan::set_ok);
    }

    /// Mark the span as failed, with `error`'s message.
    fn record_error(&mut self, error: &dyn fmt::Display) {
        self.with_open(|s| s.record_error(error));
    }
}

fn fact<H: sealed::Holder + ?Sized>(handle: &mut H, fact: Fact) {
    handle.with_open(|s| fact.apply(s.details()));
}

pub(crate) mod sealed {
    use crate::open::OpenSpan;

    /// A value that may hold an open span.
    pub trait Holder {
        /// Whether it holds one that is being recorded.
        fn holds_span(&self) -> bool;
        /// Run `f` on the span, if there is one.
        fn with_open(&mut self, f: impl FnOnce(&mut OpenSpan));
    }
}
