//! What an LLM call is made of, typed: messages, tool calls and token usage,
//! recorded through [`SpanHandle`](crate::SpanHandle) and written on the
//! export thread under the keys of the wire contract
//! ([`wire::llm`](crate::wire::llm)).
//!
//! ```
//! use neatlogs::llm::{Message, ToolCall, Usage};
//! use neatlogs::{SpanHandle, SpanKind};
//!
//! let (_, spans) = neatlogs::testing::with_capture(|| {
//!     let mut call = neatlogs::span(SpanKind::Llm, "chat gpt-4o").enter();
//!     call.set_model("gpt-4o");
//!     call.set_provider("openai");
//!     call.add_input_message(Message::system("Be brief."));
//!     call.add_input_message(Message::user("Refund status?"));
//!     call.set_response_model("gpt-4o-2024-08-06");
//!     call.add_output_message(Message::assistant("It was sent on Monday."));
//!     call.set_usage(Usage::new(12, 7).cache_read(4));
//!     call.set_finish_reason("stop");
//! });
//! let llm = spans[0].llm().unwrap();
//! assert_eq!(llm.model(), Some("gpt-4o-2024-08-06"));
//! assert_eq!(llm.input_messages()[1].content(), "Refund status?");
//! assert_eq!(llm.usage().total_tokens(), Some(19));
//! ```

use std::borrow::Cow;

use crate::clock::Instant;

type Text = Cow<'static, str>;

/// One chat message: a role, its text, and for tool traffic the name and the
/// tool call it answers.
///
/// ```
/// use neatlogs::llm::Message;
/// let m = Message::tool("42 °C", "call_1").with_name("weather");
/// assert_eq!((m.role(), m.content(), m.tool_call_id()), ("tool", "42 °C", Some("call_1")));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub(crate) role: Text,
    pub(crate) content: Text,
    pub(crate) name: Option<Text>,
    pub(crate) tool_call_id: Option<Text>,
}

impl Message {
    /// A message with any role.
    pub fn new(role: impl Into<Text>, content: impl Into<Text>) -> Self {
        Message {
            role: role.into(),
            content: content.into(),
            name: None,
            tool_call_id: None,
        }
    }

    /// A `system` message.
    pub fn system(content: impl Into<Text>) -> Self {
        Self::new("system", content)
    }

    /// A `user` message.
    pub fn user(content: impl Into<Text>) -> Self {
        Self::new("user", content)
    }

    /// An `assistant` message.
    pub fn assistant(content: impl Into<Text>) -> Self {
        Self::new("assistant", content)
    }

    /// A `tool` message: the result of the tool call `tool_call_id`.
    pub fn tool(content: impl Into<Text>, tool_call_id: impl Into<Text>) -> Self {
        Self::new("tool", content).with_tool_call_id(tool_call_id)
    }

    /// The author's name (OpenAI's `name` field).
    pub fn with_name(mut self, name: impl Into<Text>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// The tool call this message answers.
    pub fn with_tool_call_id(mut self, id: impl Into<Text>) -> Self {
        self.tool_call_id = Some(id.into());
        self
    }

    /// The role: `system`, `user`, `assistant`, `tool`, ...
    pub fn role(&self) -> &str {
        &self.role
    }

    /// The text.
    pub fn content(&self) -> &str {
        &self.content
    }

    /// The author's name, if given.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The tool call answered, if given.
    pub fn tool_call_id(&self) -> Option<&str> {
        self.tool_call_id.as_deref()
    }
}

/// A tool call the model asked for: its id, the function's name and its
/// arguments (the JSON text the model wrote).
///
/// ```
/// use neatlogs::llm::ToolCall;
/// let call = ToolCall::new("call_1", "weather", r#"{"city":"Oslo"}"#);
/// assert_eq!(call.name(), "weather");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ToolCall {
    pub(crate) id: Text,
    pub(crate) name: Text,
    pub(crate) arguments: Text,
}

impl ToolCall {
    /// A tool call.
    pub fn new(id: impl Into<Text>, name: impl Into<Text>, arguments: impl Into<Text>) -> Self {
        ToolCall {
            id: id.into(),
            name: name.into(),
            arguments: arguments.into(),
        }
    }

    /// The call's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The function called.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its arguments, as the model wrote them.
    pub fn arguments(&self) -> &str {
        &self.arguments
    }
}

/// A tool the model may call, as offered in the request: its name, what it
/// does, and the JSON schema of its arguments.
///
/// ```
/// use neatlogs::llm::ToolDefinition;
/// let tool = ToolDefinition::new("get_weather")
///     .description("Current weather for a city")
///     .input_schema(serde_json::json!({"type": "object"}));
/// assert_eq!(tool.name(), "get_weather");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ToolDefinition {
    pub(crate) name: Text,
    pub(crate) description: Option<Text>,
    pub(crate) input_schema: Option<serde_json::Value>,
    /// The schema and the whole definition as JSON text, written on the
    /// export thread.
    pub(crate) written: Option<(Option<String>, String)>,
}

impl ToolDefinition {
    /// A tool named `name`.
    pub fn new(name: impl Into<Text>) -> Self {
        ToolDefinition {
            name: name.into(),
            description: None,
            input_schema: None,
            written: None,
        }
    }

    /// What the tool does.
    pub fn description(mut self, description: impl Into<Text>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// The JSON schema of its arguments.
    pub fn input_schema(mut self, schema: serde_json::Value) -> Self {
        self.input_schema = Some(schema);
        self
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The whole definition as JSON text (OpenAI's `{"type": "function",
    /// "function": {..}}`), once the export thread has written it.
    pub fn definition_json(&self) -> Option<&str> {
        self.written.as_ref().map(|(_, d)| d.as_str())
    }

    /// Write the schema and the OpenAI-style definition as JSON text.
    pub(crate) fn write(&mut self) {
        if self.written.is_some() {
            return;
        }
        let schema = self
            .input_schema
            .as_ref()
            .map(|s| serde_json::to_string(s).unwrap_or_else(|_| "{}".into()));
        let mut function = serde_json::Map::new();
        function.insert("name".into(), self.name.as_ref().into());
        if let Some(d) = &self.description {
            function.insert("description".into(), d.as_ref().into());
        }
        if let Some(s) = &self.input_schema {
            function.insert("parameters".into(), s.clone());
        }
        let definition = serde_json::json!({"type": "function", "function": function});
        self.written = Some((schema, definition.to_string()));
    }
}

/// Token usage of one call. `total` is prompt + completion unless given.
///
/// ```
/// use neatlogs::llm::Usage;
/// let u = Usage::new(100, 20).reasoning(8).total(128);
/// assert_eq!(u.prompt_tokens(), Some(100));
/// assert_eq!(u.completion_tokens(), Some(20));
/// assert_eq!(u.total_tokens(), Some(128));
/// assert_eq!(u.reasoning_tokens(), Some(8));
/// let from_pair: Usage = (3, 4).into();
/// assert_eq!(from_pair.total_tokens(), Some(7));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub(crate) prompt: Option<u64>,
    pub(crate) completion: Option<u64>,
    pub(crate) total: Option<u64>,
    pub(crate) cache_read: Option<u64>,
    pub(crate) cache_write: Option<u64>,
    pub(crate) reasoning: Option<u64>,
}

impl Usage {
    /// Prompt (input) and completion (output) tokens.
    pub fn new(prompt: u64, completion: u64) -> Self {
        Usage {
            prompt: Some(prompt),
            completion: Some(completion),
            ..Usage::default()
        }
    }

    /// The total, when the provider reports one that is not prompt +
    /// completion.
    pub fn total(mut self, total: u64) -> Self {
        self.total = Some(total);
        self
    }

    /// Prompt tokens read from the provider's cache.
    pub fn cache_read(mut self, tokens: u64) -> Self {
        self.cache_read = Some(tokens);
        self
    }

    /// Prompt tokens written to the provider's cache.
    pub fn cache_write(mut self, tokens: u64) -> Self {
        self.cache_write = Some(tokens);
        self
    }

    /// Completion tokens spent on reasoning.
    pub fn reasoning(mut self, tokens: u64) -> Self {
        self.reasoning = Some(tokens);
        self
    }

    /// Prompt tokens.
    pub fn prompt_tokens(&self) -> Option<u64> {
        self.prompt
    }

    /// Completion tokens.
    pub fn completion_tokens(&self) -> Option<u64> {
        self.completion
    }

    /// The total: as given, else prompt + completion when either is known.
    pub fn total_tokens(&self) -> Option<u64> {
        self.total.or(match (self.prompt, self.completion) {
            (None, None) => None,
            (p, c) => Some(p.unwrap_or(0).saturating_add(c.unwrap_or(0))),
        })
    }

    /// Cache-read prompt tokens.
    pub fn cache_read_tokens(&self) -> Option<u64> {
        self.cache_read
    }

    /// Cache-write prompt tokens.
    pub fn cache_write_tokens(&self) -> Option<u64> {
        self.cache_write
    }

    /// Reasoning tokens.
    pub fn reasoning_tokens(&self) -> Option<u64> {
        self.reasoning
    }

    /// Whether nothing is known.
    pub fn is_empty(&self) -> bool {
        *self == Usage::default()
    }
}

impl From<(u64, u64)> for Usage {
    /// `(prompt, completion)`.
    fn from((prompt, completion): (u64, u64)) -> Self {
        Usage::new(prompt, completion)
    }
}

/// Everything recorded about an LLM call on one span, as exporters and test
/// captures read it from [`SpanRecord::llm`](crate::export::SpanRecord::llm).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LlmCall {
    pub(crate) request_model: Option<Text>,
    pub(crate) response_model: Option<Text>,
    pub(crate) provider: Option<Text>,
    pub(crate) system: Option<Text>,
    pub(crate) input_messages: Vec<Message>,
    pub(crate) output_messages: Vec<Message>,
    pub(crate) tool_calls: Vec<ToolCall>,
    pub(crate) tools: Vec<ToolDefinition>,
    pub(crate) finish_reason: Option<Text>,
    pub(crate) usage: Usage,
    pub(crate) invocation_parameters: Option<Params>,
    pub(crate) response_id: Option<Text>,
    pub(crate) streaming: Option<bool>,
    pub(crate) first_token: Option<Instant>,
    /// `gen_ai.input.messages` and `gen_ai.output.messages`, written on the
    /// export thread when the GenAI vocabulary is configured.
    pub(crate) genai_messages: Option<Box<(String, String)>>,
}

/// Invocation parameters: as handed over, then as JSON text once the export
/// thread has written them (nothing is serialised on the caller's thread).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Params {
    Given(serde_json::Value),
    Written {
        value: serde_json::Value,
        text: String,
    },
}

impl LlmCall {
    /// Write [`LlmCall::genai_messages`]: the messages in the GenAI form,
    /// `[{"role", "parts": [{"type": "text", "content"}], ...}]`, the tool
    /// calls as `tool_call` parts of the reply, the finish reason on it.
    pub(crate) fn write_genai_messages(&mut self) {
        use serde_json::{json, Value};
        let message = |m: &Message| {
            let mut parts = vec![json!({"type": "text", "content": m.content()})];
            if m.role() == "tool" {
                parts = vec![json!({
                    "type": "tool_call_response",
                    "id": m.tool_call_id(),
                    "response": m.content(),
                })];
            }
            let mut out = json!({"role": m.role(), "parts": parts});
            if let Some(name) = m.name() {
                out["name"] = Value::from(name);
            }
            out
        };
        let input: Vec<Value> = self.input_messages.iter().map(message).collect();
        let mut output: Vec<Value> = self.output_messages.iter().map(message).collect();
        if !self.tool_calls.is_empty() {
            if output.is_empty() {
                output.push(json!({"role": "assistant", "parts": []}));
            }
            let calls = self.tool_calls.iter().map(|c| {
                let mut call = json!({"type": "tool_call", "id": c.id(), "name": c.name()});
                if !c.arguments().is_empty() {
                    // Left out when content is not captured, as elsewhere.
                    call["arguments"] = serde_json::from_str::<Value>(c.arguments())
                        .unwrap_or_else(|_| Value::from(c.arguments()));
                }
                call
            });
            if let Some(Value::Array(parts)) = output[0].get_mut("parts") {
                parts.extend(calls);
            }
        }
        if let (Some(reason), Some(first)) = (self.finish_reason(), output.first_mut()) {
            first["finish_reason"] = Value::from(reason);
        }
        let text = |v: Vec<Value>| {
            if v.is_empty() {
                String::new()
            } else {
                Value::Array(v).to_string()
            }
        };
        self.genai_messages = Some(Box::new((text(input), text(output))));
    }

    /// The model that answered when known, else the model asked for.
    pub fn model(&self) -> Option<&str> {
        self.response_model
            .as_deref()
            .or(self.request_model.as_deref())
    }

    /// The model asked for.
    pub fn request_model(&self) -> Option<&str> {
        self.request_model.as_deref()
    }

    /// The model that answered.
    pub fn response_model(&self) -> Option<&str> {
        self.response_model.as_deref()
    }

    /// The provider (`openai`, `anthropic`, ...).
    pub fn provider(&self) -> Option<&str> {
        self.provider.as_deref()
    }

    /// The AI system (`openai`, ...), as OpenInference names it.
    pub fn system(&self) -> Option<&str> {
        self.system.as_deref()
    }

    /// The prompt's messages.
    pub fn input_messages(&self) -> &[Message] {
        &self.input_messages
    }

    /// The reply's messages.
    pub fn output_messages(&self) -> &[Message] {
        &self.output_messages
    }

    /// Tool calls the model asked for.
    pub fn tool_calls(&self) -> &[ToolCall] {
        &self.tool_calls
    }

    /// The tools offered to the model.
    pub fn tools(&self) -> &[ToolDefinition] {
        &self.tools
    }

    /// Why the model stopped (`stop`, `length`, `tool_calls`, ...).
    pub fn finish_reason(&self) -> Option<&str> {
        self.finish_reason.as_deref()
    }

    /// Token usage.
    pub fn usage(&self) -> &Usage {
        &self.usage
    }

    /// The invocation parameters as JSON text, once written by the export
    /// thread; `None` before (in a test capture) or when not given.
    pub fn invocation_parameters_json(&self) -> Option<&str> {
        match &self.invocation_parameters {
            Some(Params::Written { text, .. }) => Some(text),
            _ => None,
        }
    }

    /// The invocation parameters as given.
    pub fn invocation_parameters(&self) -> Option<&serde_json::Value> {
        match &self.invocation_parameters {
            Some(Params::Given(value) | Params::Written { value, .. }) => Some(value),
            None => None,
        }
    }

    /// The provider's response id.
    pub fn response_id(&self) -> Option<&str> {
        self.response_id.as_deref()
    }

    /// Whether the reply was streamed.
    pub fn is_streaming(&self) -> Option<bool> {
        self.streaming
    }

    /// Time from the span's start to the first token, when recorded.
    pub(crate) fn first_token_at(&self) -> Option<Instant> {
        self.first_token
    }
}
