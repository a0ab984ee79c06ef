//! An open span: started, not yet ended. It lives on its thread's stack (a
//! guard) or inside an instrumented future between polls, and becomes an
//! immutable [`SpanRecord`] when it ends.

use std::borrow::Cow;
use std::fmt;

use crate::clock::{self, Instant};
use crate::content::{Captured, Details};
use crate::id::SpanId;
use crate::kind::SpanKind;
use crate::llm::{LlmCall, Message, Params, ToolCall, ToolDefinition, Usage};
use crate::record::SpanContext;
use crate::record::{SpanName, SpanRecord};
use crate::value::{Attributes, Status, Value};

pub(crate) struct OpenSpan {
    /// This span's trace and id.
    pub(crate) cx: SpanContext,
    pub(crate) parent: Option<SpanId>,
    pub(crate) name: SpanName,
    pub(crate) kind: SpanKind,
    pub(crate) start: Instant,
    pub(crate) attributes: Attributes,
    /// Boxed, as in [`SpanRecord`]: allocated when content, an LLM call or
    /// a status is given.
    pub(crate) details: Option<Box<Details>>,
}

impl OpenSpan {
    #[inline(always)]
    pub(crate) fn start(
        cx: SpanContext,
        parent: Option<SpanId>,
        name: SpanName,
        kind: SpanKind,
        attributes: Attributes,
    ) -> OpenSpan {
        OpenSpan {
            cx,
            parent,
            name,
            kind,
            start: clock::now(),
            attributes,
            details: None,
        }
    }

    /// End the span now: status ERROR if the thread is unwinding.
    #[inline(always)]
    pub(crate) fn end(self) -> SpanRecord {
        let end = clock::now();
        let OpenSpan {
            cx,
            parent,
            name,
            kind,
            start,
            attributes,
            mut details,
        } = self;
        if std::thread::panicking() {
            details.get_or_insert_with(Box::default).status =
                Status::Error(Cow::Borrowed("panicked"));
        }
        SpanRecord {
            trace: cx.trace,
            span_id: cx.span_id,
            parent,
            name,
            kind,
            start,
            end,
            attributes,
            details,
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

    pub(crate) fn llm(&mut self) -> &mut LlmCall {
        self.details().llm_mut()
    }

    pub(crate) fn first_token(&mut self) {
        let llm = self.llm();
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
    InputMessages(Vec<Message>),
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
            Fact::InputMessages(ms) => details.llm_mut().input_messages.extend(ms),
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

/// The recording methods every handle on an open span offers
/// ([`SpanGuard`](crate::SpanGuard), [`ActiveSpan`](crate::ActiveSpan),
/// [`Instrumented`](crate::Instrumented)), written once. The handle brings
/// `fn with_open(self, f: impl FnOnce(&mut OpenSpan))` with the receiver
/// given here (`&` or `&mut`).
macro_rules! recording_methods {
    ($($receiver:tt)+) => {
        fn fact($($receiver)+ self, fact: $crate::open::Fact) {
            self.with_open(|s| fact.apply(s.details()));
        }

        /// Set an attribute.
        pub fn set_attribute(
            $($receiver)+ self,
            key: impl Into<std::borrow::Cow<'static, str>>,
            value: impl Into<$crate::Value>,
        ) {
            self.with_open(|s| s.set_attribute(key.into(), value.into()));
        }

        /// The input: text, or a `serde_json::Value` (written as JSON on the
        /// export thread).
        pub fn set_input($($receiver)+ self, input: impl Into<$crate::Captured>) {
            self.fact($crate::open::Fact::Input(input.into()));
        }

        /// The output: text, or a `serde_json::Value`.
        pub fn set_output($($receiver)+ self, output: impl Into<$crate::Captured>) {
            self.fact($crate::open::Fact::Output(output.into()));
        }

        /// The model asked for.
        pub fn set_model($($receiver)+ self, model: impl Into<std::borrow::Cow<'static, str>>) {
            self.fact($crate::open::Fact::RequestModel(model.into()));
        }

        /// The model that answered (it names the call on the wire when known).
        pub fn set_response_model($($receiver)+ self, model: impl Into<std::borrow::Cow<'static, str>>) {
            self.fact($crate::open::Fact::ResponseModel(model.into()));
        }

        /// The provider: `openai`, `anthropic`, ...
        pub fn set_provider($($receiver)+ self, provider: impl Into<std::borrow::Cow<'static, str>>) {
            self.fact($crate::open::Fact::Provider(provider.into()));
        }

        /// The AI system, when it differs from the provider (OpenAI models
        /// served by Azure: system `openai`, provider `azure`).
        pub fn set_system($($receiver)+ self, system: impl Into<std::borrow::Cow<'static, str>>) {
            self.fact($crate::open::Fact::System(system.into()));
        }

        /// Add one message of the prompt.
        pub fn add_input_message($($receiver)+ self, message: $crate::llm::Message) {
            self.fact($crate::open::Fact::InputMessage(message));
        }

        /// Add the prompt's messages.
        pub fn add_input_messages(
            $($receiver)+ self,
            messages: impl IntoIterator<Item = $crate::llm::Message>,
        ) {
            self.fact($crate::open::Fact::InputMessages(messages.into_iter().collect()));
        }

        /// Add one message of the reply.
        pub fn add_output_message($($receiver)+ self, message: $crate::llm::Message) {
            self.fact($crate::open::Fact::OutputMessage(message));
        }

        /// Add a tool call the model asked for.
        pub fn add_tool_call($($receiver)+ self, call: $crate::llm::ToolCall) {
            self.fact($crate::open::Fact::ToolCall(call));
        }

        /// Add a tool offered to the model in the request.
        pub fn add_tool_definition($($receiver)+ self, tool: $crate::llm::ToolDefinition) {
            self.fact($crate::open::Fact::Tool(tool));
        }

        /// What this span does (`tool.description` on a TOOL span,
        /// `neatlogs.description` on others).
        pub fn set_description($($receiver)+ self, description: impl Into<std::borrow::Cow<'static, str>>) {
            self.fact($crate::open::Fact::Description(description.into()));
        }

        /// Why the model stopped: `stop`, `length`, `tool_calls`, ...
        pub fn set_finish_reason($($receiver)+ self, reason: impl Into<std::borrow::Cow<'static, str>>) {
            self.fact($crate::open::Fact::FinishReason(reason.into()));
        }

        /// Token usage: prompt (input) and completion (output) tokens.
        pub fn set_usage($($receiver)+ self, prompt_tokens: u64, completion_tokens: u64) {
            self.fact($crate::open::Fact::Usage($crate::llm::Usage::new(prompt_tokens, completion_tokens)));
        }

        /// Token usage in full: cache reads and writes, reasoning, a total
        /// ([`Usage`]($crate::llm::Usage)).
        pub fn set_token_usage($($receiver)+ self, usage: $crate::llm::Usage) {
            self.fact($crate::open::Fact::Usage(usage));
        }

        /// The invocation parameters (temperature, max tokens, ...), a JSON
        /// object; written as JSON text on the export thread.
        pub fn set_invocation_parameters($($receiver)+ self, parameters: serde_json::Value) {
            self.fact($crate::open::Fact::InvocationParameters(parameters));
        }

        /// The provider's id of the response.
        pub fn set_response_id($($receiver)+ self, id: impl Into<std::borrow::Cow<'static, str>>) {
            self.fact($crate::open::Fact::ResponseId(id.into()));
        }

        /// Whether the reply is streamed.
        pub fn set_streaming($($receiver)+ self, streaming: bool) {
            self.fact($crate::open::Fact::Streaming(streaming));
        }

        /// The first token of the reply arrived now (the first time only):
        /// the time to first token is measured from the span's start.
        pub fn record_first_token($($receiver)+ self) {
            self.with_open($crate::open::OpenSpan::first_token);
        }

        /// Mark the span as successful.
        pub fn set_ok($($receiver)+ self) {
            self.with_open($crate::open::OpenSpan::set_ok);
        }

        /// Mark the span as failed, with `error`'s message.
        pub fn record_error($($receiver)+ self, error: &dyn std::fmt::Display) {
            self.with_open(|s| s.record_error(error));
        }
    };
}
pub(crate) use recording_methods;
