//! A chat completion request as the facts of its span: the prompt's
//! messages, the tools offered, the invocation parameters.

use async_openai::types::chat::{
    ChatCompletionMessageToolCalls, ChatCompletionRequestAssistantMessageContent,
    ChatCompletionRequestAssistantMessageContentPart, ChatCompletionRequestDeveloperMessageContent,
    ChatCompletionRequestDeveloperMessageContentPart, ChatCompletionRequestMessage,
    ChatCompletionRequestSystemMessageContent, ChatCompletionRequestSystemMessageContentPart,
    ChatCompletionRequestToolMessageContent, ChatCompletionRequestToolMessageContentPart,
    ChatCompletionRequestUserMessageContent, ChatCompletionRequestUserMessageContentPart,
    ChatCompletionTools, CreateChatCompletionRequest,
};
use serde_json::{Map, Value};

use crate::llm::{Message, ToolDefinition};
use crate::Span;
use crate::SpanHandle;

/// Record the request's model, messages, tools and parameters on `span`.
pub(super) fn describe(span: &mut Span, request: &CreateChatCompletionRequest) {
    span.set_model(request.model.clone());
    for m in &request.messages {
        span.add_input_message(message(m));
    }
    for tool in tools(request) {
        span.add_tool_definition(tool);
    }
    if let Some(parameters) = parameters(request) {
        span.set_invocation_parameters(parameters);
    }
}

/// One message of the prompt.
fn message(message: &ChatCompletionRequestMessage) -> Message {
    use ChatCompletionRequestMessage as M;
    let (out, name) = match message {
        M::Developer(m) => (
            Message::new("developer", developer_text(&m.content)),
            m.name.as_deref(),
        ),
        M::System(m) => (Message::system(system_text(&m.content)), m.name.as_deref()),
        M::User(m) => (Message::user(user_text(&m.content)), m.name.as_deref()),
        M::Assistant(m) => {
            let mut text = m.content.as_ref().map(assistant_text).unwrap_or_default();
            if text.is_empty() {
                text = m.refusal.clone().unwrap_or_default();
            }
            if text.is_empty() {
                text = tool_calls_json(m.tool_calls.as_deref().unwrap_or_default());
            }
            (Message::assistant(text), m.name.as_deref())
        }
        M::Tool(m) => (
            Message::tool(tool_text(&m.content), m.tool_call_id.clone()),
            None,
        ),
        M::Function(m) => (
            Message::new("function", m.content.clone().unwrap_or_default()),
            Some(m.name.as_str()),
        ),
    };
    match name {
        Some(name) => out.with_name(name.to_owned()),
        None => out,
    }
}

/// Text parts, one per line.
fn join<'a>(parts: impl Iterator<Item = &'a str>) -> String {
    parts.collect::<Vec<_>>().join("\n")
}

fn developer_text(content: &ChatCompletionRequestDeveloperMessageContent) -> String {
    use ChatCompletionRequestDeveloperMessageContentPart as P;
    match content {
        ChatCompletionRequestDeveloperMessageContent::Text(text) => text.clone(),
        ChatCompletionRequestDeveloperMessageContent::Array(parts) => join(parts.iter().map(|p| {
            let P::Text(t) = p;
            t.text.as_str()
        })),
    }
}

fn system_text(content: &ChatCompletionRequestSystemMessageContent) -> String {
    use ChatCompletionRequestSystemMessageContentPart as P;
    match content {
        ChatCompletionRequestSystemMessageContent::Text(text) => text.clone(),
        ChatCompletionRequestSystemMessageContent::Array(parts) => join(parts.iter().map(|p| {
            let P::Text(t) = p;
            t.text.as_str()
        })),
    }
}

/// A user message's text; images, audio and files are named, not copied
/// (a base64 image has no place in a span attribute).
fn user_text(content: &ChatCompletionRequestUserMessageContent) -> String {
    use ChatCompletionRequestUserMessageContentPart as P;
    match content {
        ChatCompletionRequestUserMessageContent::Text(text) => text.clone(),
        ChatCompletionRequestUserMessageContent::Array(parts) => {
            join(parts.iter().map(|p| match p {
                P::Text(t) => t.text.as_str(),
                P::ImageUrl(_) => "[image]",
                P::InputAudio(_) => "[audio]",
                P::File(_) => "[file]",
            }))
        }
    }
}

fn assistant_text(content: &ChatCompletionRequestAssistantMessageContent) -> String {
    use ChatCompletionRequestAssistantMessageContentPart as P;
    match content {
        ChatCompletionRequestAssistantMessageContent::Text(text) => text.clone(),
        ChatCompletionRequestAssistantMessageContent::Array(parts) => {
            join(parts.iter().map(|p| match p {
                P::Text(t) => t.text.as_str(),
                P::Refusal(r) => r.refusal.as_str(),
            }))
        }
    }
}

fn tool_text(content: &ChatCompletionRequestToolMessageContent) -> String {
    use ChatCompletionRequestToolMessageContentPart as P;
    match content {
        ChatCompletionRequestToolMessageContent::Text(text) => text.clone(),
        ChatCompletionRequestToolMessageContent::Array(parts) => join(parts.iter().map(|p| {
            let P::Text(t) = p;
            t.text.as_str()
        })),
    }
}

/// An assistant message's tool calls in OpenAI's JSON form; empty when it
/// has none.
fn tool_calls_json(calls: &[ChatCompletionMessageToolCalls]) -> String {
    if calls.is_empty() {
        return String::new();
    }
    serde_json::to_string(calls).unwrap_or_default()
}

/// The tools offered: `tools`, then the deprecated `functions`.
fn tools(request: &CreateChatCompletionRequest) -> impl Iterator<Item = ToolDefinition> + '_ {
    let tools = request.tools.iter().flatten().map(|tool| match tool {
        ChatCompletionTools::Function(t) => {
            let f = &t.function;
            let mut out = ToolDefinition::new(f.name.clone());
            if let Some(d) = &f.description {
                out = out.description(d.clone());
            }
            match &f.parameters {
                Some(p) => out.input_schema(p.clone()),
                None => out,
            }
        }
        ChatCompletionTools::Custom(t) => {
            let c = &t.custom;
            let out = ToolDefinition::new(c.name.clone());
            match &c.description {
                Some(d) => out.description(d.clone()),
                None => out,
            }
        }
    });
    #[allow(deprecated)]
    let functions = request.functions.iter().flatten().map(|f| {
        let out = ToolDefinition::new(f.name.clone()).input_schema(f.parameters.clone());
        match &f.description {
            Some(d) => out.description(d.clone()),
            None => out,
        }
    });
    tools.chain(functions)
}

/// A float as its shortest decimal, so `0.2f32` is `0.2`, not
/// `0.20000000298023224`.
fn float(x: f32) -> Value {
    x.to_string()
        .parse::<f64>()
        .ok()
        .and_then(serde_json::Number::from_f64)
        .map_or(Value::Null, Value::Number)
}

/// The invocation parameters given, as one JSON object; `None` when none
/// is.
#[allow(deprecated)] // `max_tokens` and `seed`: still sent by many callers
fn parameters(request: &CreateChatCompletionRequest) -> Option<Value> {
    let mut out = Map::new();
    let mut put = |name: &str, value: Option<Value>| {
        if let Some(v) = value.filter(|v| !v.is_null()) {
            out.insert(name.to_owned(), v);
        }
    };
    put("temperature", request.temperature.map(float));
    put("top_p", request.top_p.map(float));
    put("max_tokens", request.max_tokens.map(Value::from));
    put(
        "max_completion_tokens",
        request.max_completion_tokens.map(Value::from),
    );
    put("frequency_penalty", request.frequency_penalty.map(float));
    put("presence_penalty", request.presence_penalty.map(float));
    put("n", request.n.map(Value::from));
    put("seed", request.seed.map(Value::from));
    put("stop", request.stop.as_ref().map(json));
    put("logprobs", request.logprobs.map(Value::from));
    put("top_logprobs", request.top_logprobs.map(Value::from));
    put(
        "reasoning_effort",
        request.reasoning_effort.as_ref().map(json),
    );
    put("verbosity", request.verbosity.as_ref().map(json));
    put("service_tier", request.service_tier.as_ref().map(json));
    put(
        "response_format",
        request.response_format.as_ref().map(json),
    );
    put("tool_choice", request.tool_choice.as_ref().map(json));
    put(
        "parallel_tool_calls",
        request.parallel_tool_calls.map(Value::from),
    );
    put("store", request.store.map(Value::from));
    (!out.is_empty()).then_some(Value::Object(out))
}

/// A request field as JSON (`Null`, hence left out, if it cannot be).
fn json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}
