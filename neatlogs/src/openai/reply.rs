//! What came back, recorded on the call's span: a chat completion whole,
//! a streamed one chunk by chunk ([`StreamedReply`]), an embedding call.

use crate::SpanHandle;
use async_openai::error::OpenAIError;
use async_openai::types::chat::{
    ChatCompletionMessageToolCalls, CompletionUsage, CreateChatCompletionResponse,
    CreateChatCompletionStreamResponse, FinishReason, Role,
};
use async_openai::types::embeddings::EmbeddingUsage;

use crate::llm::{Message, ToolCall, Usage};
use crate::wire;
use crate::Span;

fn role(role: Role) -> &'static str {
    match role {
        Role::Developer => "developer",
        Role::System => "system",
        Role::User => "user",
        Role::Assistant => "assistant",
        Role::Tool => "tool",
        Role::Function => "function",
    }
}

fn finish_reason(reason: FinishReason) -> &'static str {
    match reason {
        FinishReason::Stop => "stop",
        FinishReason::Length => "length",
        FinishReason::ToolCalls => "tool_calls",
        FinishReason::ContentFilter => "content_filter",
        FinishReason::FunctionCall => "function_call",
    }
}

/// The usage in full: cached prompt tokens and reasoning tokens when the
/// provider reports them.
fn usage(u: &CompletionUsage) -> Usage {
    let mut out = Usage::new(u64::from(u.prompt_tokens), u64::from(u.completion_tokens))
        .total(u64::from(u.total_tokens));
    if let Some(cached) = u
        .prompt_tokens_details
        .as_ref()
        .and_then(|d| d.cached_tokens)
    {
        out = out.cache_read(u64::from(cached));
    }
    if let Some(reasoning) = u
        .completion_tokens_details
        .as_ref()
        .and_then(|d| d.reasoning_tokens)
    {
        out = out.reasoning(u64::from(reasoning));
    }
    out
}

fn tool_call(call: &ChatCompletionMessageToolCalls) -> ToolCall {
    match call {
        ChatCompletionMessageToolCalls::Function(c) => ToolCall::new(
            c.id.clone(),
            c.function.name.clone(),
            c.function.arguments.clone(),
        ),
        ChatCompletionMessageToolCalls::Custom(c) => ToolCall::new(
            c.id.clone(),
            c.custom_tool.name.clone(),
            c.custom_tool.input.clone(),
        ),
    }
}

/// A plain chat completion's reply: the model that answered, the id, one
/// output message per choice, the first choice's tool calls and finish
/// reason, the usage.
pub(super) fn record_response(span: &mut Span, response: &CreateChatCompletionResponse) {
    span.set_response_model(response.model.clone());
    span.set_response_id(response.id.clone());
    let mut choices: Vec<_> = response.choices.iter().collect();
    choices.sort_by_key(|c| c.index);
    for (i, choice) in choices.into_iter().enumerate() {
        let m = &choice.message;
        let text = m.content.as_ref().or(m.refusal.as_ref());
        span.add_output_message(Message::new(
            role(m.role),
            text.cloned().unwrap_or_default(),
        ));
        if i == 0 {
            for call in m.tool_calls.iter().flatten() {
                span.add_tool_call(tool_call(call));
            }
            if let Some(reason) = choice.finish_reason {
                span.set_finish_reason(finish_reason(reason));
            }
        }
    }
    if let Some(u) = &response.usage {
        span.set_usage(usage(u));
    }
}

/// A streamed reply as its chunks arrive, recorded on the span at its end
/// (or at the drop of the stream).
#[derive(Debug, Default)]
pub(super) struct StreamedReply {
    id: Option<String>,
    model: Option<String>,
    /// By choice index, in order.
    choices: Vec<ChoiceSoFar>,
    usage: Option<Usage>,
}

#[derive(Debug)]
struct ChoiceSoFar {
    index: u32,
    role: Option<Role>,
    text: String,
    refusal: String,
    /// By tool call index, in order.
    tool_calls: Vec<ToolCallSoFar>,
    finish_reason: Option<FinishReason>,
}

#[derive(Debug)]
struct ToolCallSoFar {
    index: u32,
    id: String,
    name: String,
    arguments: String,
}

/// The entry of `list` with `index`, added in order if missing.
fn entry<T>(
    list: &mut Vec<T>,
    index: u32,
    key: impl Fn(&T) -> u32,
    new: impl FnOnce() -> T,
) -> &mut T {
    let at = match list.binary_search_by_key(&index, key) {
        Ok(at) => at,
        Err(at) => {
            list.insert(at, new());
            at
        }
    };
    &mut list[at]
}

impl StreamedReply {
    /// Add `chunk`; whether it carries part of the reply (text, a refusal,
    /// a tool call): the first such chunk is the first token.
    pub(super) fn add(&mut self, chunk: &CreateChatCompletionStreamResponse) -> bool {
        if !chunk.id.is_empty() && self.id.is_none() {
            self.id = Some(chunk.id.clone());
        }
        if !chunk.model.is_empty() {
            match &mut self.model {
                Some(model) if *model == chunk.model => {}
                model => *model = Some(chunk.model.clone()),
            }
        }
        if let Some(u) = &chunk.usage {
            self.usage = Some(usage(u));
        }
        let mut output = false;
        for c in &chunk.choices {
            let choice = entry(
                &mut self.choices,
                c.index,
                |c| c.index,
                || ChoiceSoFar {
                    index: c.index,
                    role: None,
                    text: String::new(),
                    refusal: String::new(),
                    tool_calls: Vec::new(),
                    finish_reason: None,
                },
            );
            let delta = &c.delta;
            if let Some(role) = delta.role {
                choice.role = Some(role);
            }
            if let Some(text) = delta.content.as_deref().filter(|t| !t.is_empty()) {
                choice.text.push_str(text);
                output = true;
            }
            if let Some(refusal) = delta.refusal.as_deref().filter(|t| !t.is_empty()) {
                choice.refusal.push_str(refusal);
                output = true;
            }
            for t in delta.tool_calls.iter().flatten() {
                output = true;
                let call = entry(
                    &mut choice.tool_calls,
                    t.index,
                    |t| t.index,
                    || ToolCallSoFar {
                        index: t.index,
                        id: String::new(),
                        name: String::new(),
                        arguments: String::new(),
                    },
                );
                if let Some(id) = t.id.as_deref().filter(|id| !id.is_empty()) {
                    call.id = id.to_owned();
                }
                if let Some(f) = &t.function {
                    if let Some(name) = f.name.as_deref().filter(|n| !n.is_empty()) {
                        call.name = name.to_owned();
                    }
                    if let Some(arguments) = &f.arguments {
                        call.arguments.push_str(arguments);
                    }
                }
            }
            if c.finish_reason.is_some() {
                choice.finish_reason = c.finish_reason;
            }
        }
        output
    }

    /// Record what arrived on `span`.
    pub(super) fn record(self, span: &mut Span) {
        if let Some(model) = self.model {
            span.set_response_model(model);
        }
        if let Some(id) = self.id {
            span.set_response_id(id);
        }
        for (i, choice) in self.choices.into_iter().enumerate() {
            let text = if choice.text.is_empty() {
                choice.refusal
            } else {
                choice.text
            };
            span.add_output_message(Message::new(
                role(choice.role.unwrap_or(Role::Assistant)),
                text,
            ));
            if i == 0 {
                for call in choice.tool_calls {
                    span.add_tool_call(ToolCall::new(call.id, call.name, call.arguments));
                }
                if let Some(reason) = choice.finish_reason {
                    span.set_finish_reason(finish_reason(reason));
                }
            }
        }
        if let Some(usage) = self.usage {
            span.set_usage(usage);
        }
    }
}

/// What an embedding call returned, as its span records it.
pub(super) struct Embedded<'a> {
    pub(super) model: &'a str,
    pub(super) count: usize,
    pub(super) dimensions: Option<usize>,
    pub(super) usage: &'a EmbeddingUsage,
}

/// An embedding call's outcome on its span; `requested` is the model asked
/// for.
pub(super) fn record_embeddings(
    span: &mut Span,
    requested: &str,
    outcome: Result<Embedded<'_>, &OpenAIError>,
) {
    if !span.is_open() {
        return;
    }
    match outcome {
        Ok(e) => {
            let model = if e.model.is_empty() {
                requested
            } else {
                span.set_response_model(e.model.to_owned());
                e.model
            };
            span.set_attribute(wire::embedding::MODEL_NAME, model.to_owned());
            span.set_usage(Usage {
                prompt: Some(u64::from(e.usage.prompt_tokens)),
                total: Some(u64::from(e.usage.total_tokens)),
                ..Usage::default()
            });
            span.set_attribute(
                wire::embedding::TOKEN_COUNT,
                u64::from(e.usage.total_tokens),
            );
            span.set_attribute(wire::embedding::COUNT, e.count);
            if let Some(d) = e.dimensions {
                span.set_attribute(wire::embedding::DIMENSIONS, d);
            }
            span.set_ok();
        }
        Err(error) => {
            span.set_attribute(wire::embedding::MODEL_NAME, requested.to_owned());
            span.record_error(error);
        }
    }
}
