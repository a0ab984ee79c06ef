//! The typed facts of a span (captured input and output, the LLM call, the
//! code location, the duration) as attributes of a vocabulary, applied here,
//! on the export thread: the hot path records each fact once.

use super::{Attr, Key};
use crate::export::Resource;
use crate::identity::EndUser;
use crate::kind::SpanKind;
use crate::llm::{LlmCall, Message, Params};
use crate::record::SpanRecord;
use crate::wire::{code, genai, io, llm, metrics, openinference as oi, resource, span, tool};

/// Milliseconds, as the Neatlogs SDKs write durations (a double).
fn millis(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Saturating: OTLP integers are signed.
fn int(v: u64) -> Attr<'static> {
    Attr::I64(i64::try_from(v).unwrap_or(i64::MAX))
}

/// The Neatlogs vocabulary's attributes that are the same on every span of
/// a batch: what the Python SDK copies from the resource onto each span.
/// The protobuf writer encodes them once per batch.
pub(super) fn neatlogs_constants<'a>(res: &'a Resource, f: &mut impl FnMut(Key<'a>, Attr<'a>)) {
    f(
        Key::Str(span::INSTRUMENTATION_NAME),
        Attr::Str(resource::SDK_NAME_VALUE),
    );
    let workflow = res
        .workflow_name
        .as_deref()
        .unwrap_or(resource::DEFAULT_SERVICE_NAME);
    f(Key::Str(span::WORKFLOW_NAME), Attr::Str(workflow));
    if let Some(op) = &res.operator {
        f(Key::Str(span::OPERATOR), Attr::Str(op.as_str()));
    }
    if !res.tags.is_empty() {
        f(Key::Str(span::PROCESS_TAGS), Attr::Joined(&res.tags));
    }
}

/// The Neatlogs vocabulary: what the Neatlogs backend reads, with the keys
/// the official Python SDK writes (`docs/wire.md`); the per-batch constants
/// are [`neatlogs_constants`].
pub(super) fn neatlogs<'a>(record: &'a SpanRecord, f: &mut impl FnMut(Key<'a>, Attr<'a>)) {
    f(
        Key::Str(metrics::DURATION_MS),
        Attr::F64(millis(record.duration())),
    );
    if let Some(c) = record.code() {
        let line = Attr::I64(i64::from(c.line));
        f(Key::Str(code::FUNCTION), Attr::Str(c.function));
        f(Key::Str(code::NAMESPACE), Attr::Str(c.namespace));
        f(Key::Str(code::FILE), Attr::Str(c.file));
        f(Key::Str(code::LINE), line);
        f(Key::Str(code::TWIN_FUNCTION), Attr::Str(c.function));
        f(Key::Str(code::TWIN_NAMESPACE), Attr::Str(c.namespace));
        f(Key::Str(code::TWIN_FILE), Attr::Str(c.file));
        f(Key::Str(code::TWIN_LINE), line);
    }
    let description = record.description();
    if record.kind() == SpanKind::Tool {
        f(Key::Str(tool::NAME), Attr::Str(record.name()));
        if let Some(d) = description {
            f(Key::Str(tool::DESCRIPTION), Attr::Str(d));
        }
        f(Key::Str(tool::TWIN_NAME), Attr::Str(record.name()));
        if let Some(d) = description {
            f(Key::Str(tool::TWIN_DESCRIPTION), Attr::Str(d));
        }
    } else if let Some(d) = description {
        f(Key::Str(span::DESCRIPTION), Attr::Str(d));
    }
    let kind = record.kind().as_lower_str();
    let io = [
        (
            record.input(),
            io::INPUT,
            io::INPUT_MIME_TYPE,
            io::TWIN_INPUT,
            io::TWIN_INPUT_MIME_TYPE,
        ),
        (
            record.output(),
            io::OUTPUT,
            io::OUTPUT_MIME_TYPE,
            io::TWIN_OUTPUT,
            io::TWIN_OUTPUT_MIME_TYPE,
        ),
    ];
    for (captured, value, mime, twin, twin_mime) in io {
        let Some(c) = captured else { continue };
        // A JSON value not yet written (a record that did not go through the
        // export pipeline) is left out rather than serialised here.
        let Some(text) = c.as_str() else { continue };
        let mime_type = c.mime_type();
        f(Key::Str(value), Attr::Str(text));
        f(Key::Str(mime), Attr::Str(mime_type));
        f(Key::Joined(io::TWIN_PREFIX, kind, twin), Attr::Str(text));
        f(
            Key::Joined(io::TWIN_PREFIX, kind, twin_mime),
            Attr::Str(mime_type),
        );
    }
    if let Some(call) = record.llm() {
        neatlogs_llm(record, call, f);
    }
}

fn neatlogs_llm<'a>(
    record: &'a SpanRecord,
    call: &'a LlmCall,
    f: &mut impl FnMut(Key<'a>, Attr<'a>),
) {
    model_and_tokens(
        call,
        &ModelKeys {
            model: llm::MODEL_NAME,
            provider: llm::PROVIDER,
            system: llm::SYSTEM,
            tokens: [
                llm::TOKENS_PROMPT,
                llm::TOKENS_COMPLETION,
                llm::TOKENS_TOTAL,
                llm::TOKENS_CACHE_READ,
                llm::TOKENS_CACHE_WRITE,
                llm::TOKENS_REASONING,
            ],
        },
        f,
    );
    messages(llm::INPUT_MESSAGES, call.input_messages(), f);
    messages(llm::OUTPUT_MESSAGES, call.output_messages(), f);
    for (i, t) in call.tool_calls().iter().enumerate() {
        f(
            Key::Indexed(llm::TOOL_CALLS, i, llm::TOOL_CALL_ID),
            Attr::Str(&t.id),
        );
        f(
            Key::Indexed(llm::TOOL_CALLS, i, llm::TOOL_CALL_NAME),
            Attr::Str(&t.name),
        );
        if !t.arguments.is_empty() {
            f(
                Key::Indexed(llm::TOOL_CALLS, i, llm::TOOL_CALL_ARGUMENTS),
                Attr::Str(&t.arguments),
            );
        }
        f(
            Key::Indexed(llm::TOOL_CALLS, i, llm::TOOL_CALL_TYPE),
            Attr::Str("function"),
        );
        f(
            Key::Indexed(llm::TOOL_CALLS, i, llm::TOOL_CALL_INDEX),
            int(i as u64),
        );
        f(
            Key::Indexed(llm::TOOL_CALLS, i, llm::TOOL_CALL_CHOICE_INDEX),
            Attr::I64(0),
        );
    }
    for (i, t) in call.tools().iter().enumerate() {
        f(
            Key::Indexed(llm::TOOLS, i, llm::TOOL_NAME),
            Attr::Str(&t.name),
        );
        if let Some(d) = &t.description {
            f(
                Key::Indexed(llm::TOOLS, i, llm::TOOL_DESCRIPTION),
                Attr::Str(d),
            );
        }
        f(
            Key::Indexed(llm::TOOLS, i, llm::TOOL_TYPE),
            Attr::Str("function"),
        );
        if let Some((schema, definition)) = &t.written {
            if let Some(schema) = schema {
                f(
                    Key::Indexed(llm::TOOLS, i, llm::TOOL_INPUT_SCHEMA),
                    Attr::Str(schema),
                );
            }
            f(
                Key::Indexed(llm::TOOLS, i, llm::TOOL_DEFINITION),
                Attr::Str(definition),
            );
        }
    }
    if let Some(r) = call.finish_reason() {
        f(Key::Str(llm::FINISH_REASON), Attr::Str(r));
        f(Key::Str(llm::CHOICE_0_FINISH_REASON), Attr::Str(r));
    }
    if let Some(s) = call.is_streaming() {
        f(Key::Str(llm::IS_STREAMING), Attr::Bool(s));
    }
    if let Some(id) = call.response_id() {
        f(Key::Str(llm::RESPONSE_ID), Attr::Str(id));
    }
    if let Some(Params::Written { text, .. }) = &call.invocation_parameters {
        f(Key::Str(llm::INVOCATION_PARAMETERS), Attr::Str(text));
    }
    typed_parameters(call, |name, attr| {
        f(Key::Joined(llm::PARAMETER_PREFIX, name, ""), attr)
    });
    f(
        Key::Str(llm::DURATION_MS),
        Attr::F64(millis(record.duration())),
    );
    if let Some(ttft) = record.time_to_first_token() {
        f(Key::Str(llm::TTFT_MS), Attr::F64(millis(ttft)));
        let generating = record.duration().saturating_sub(ttft);
        f(
            Key::Str(llm::STREAMING_TIME_TO_GENERATE_MS),
            Attr::F64(millis(generating)),
        );
    }
}

fn messages<'a>(prefix: &'static str, list: &'a [Message], f: &mut impl FnMut(Key<'a>, Attr<'a>)) {
    let keys = MessageKeys {
        role: llm::MESSAGE_ROLE,
        content: llm::MESSAGE_CONTENT,
        name: llm::MESSAGE_NAME,
        tool_call_id: llm::MESSAGE_TOOL_CALL_ID,
    };
    messages_with(prefix, &keys, list, f);
}

/// The numeric invocation parameters that have typed keys, with `f`
/// called as `(name, value)`.
fn typed_parameters<'a>(call: &'a LlmCall, mut f: impl FnMut(&'static str, Attr<'a>)) {
    let Some(Params::Written { value, .. }) = &call.invocation_parameters else {
        return;
    };
    for name in llm::PARAMETERS {
        let number = match value.get(name) {
            Some(serde_json::Value::Number(n)) => n,
            _ => continue,
        };
        let attr = match (number.as_i64(), number.as_f64()) {
            (Some(i), _) => Attr::I64(i),
            (None, Some(x)) => Attr::F64(x),
            (None, None) => continue,
        };
        f(name, attr);
    }
}

/// The OpenInference vocabulary (what Phoenix reads). `shared`: the
/// Neatlogs vocabulary is written too and has already written the keys the
/// two share (the kind, `input.value`, `tool.name`, `tag.tags`).
pub(super) fn openinference<'a>(
    record: &'a SpanRecord,
    shared: bool,
    f: &mut impl FnMut(Key<'a>, Attr<'a>),
) {
    if !shared {
        f(
            Key::Str(span::OPENINFERENCE_KIND),
            Attr::Str(record.kind().as_str()),
        );
    }
    if record.is_root() {
        if let Some(user) = record.end_user() {
            f(Key::Str(oi::USER_ID), Attr::Str(user.id().as_str()));
            if let Some(json) = user.metadata_json() {
                f(Key::Str(oi::METADATA), Attr::Str(json));
            }
        }
        if let Some(s) = record.session_id() {
            f(Key::Str(oi::SESSION_ID), Attr::Str(s));
        }
        if !shared && !record.tags().is_empty() {
            f(Key::Str(span::TAGS), Attr::Tags(record.tags()));
        }
    }
    if !shared {
        shared_io(record, f);
    }
    let Some(call) = record.llm() else { return };
    model_and_tokens(
        call,
        &ModelKeys {
            model: oi::MODEL_NAME,
            provider: oi::PROVIDER,
            system: oi::SYSTEM,
            tokens: [
                oi::TOKENS_PROMPT,
                oi::TOKENS_COMPLETION,
                oi::TOKENS_TOTAL,
                oi::TOKENS_CACHE_READ,
                oi::TOKENS_CACHE_WRITE,
                oi::TOKENS_REASONING,
            ],
        },
        f,
    );
    let keys = MessageKeys {
        role: oi::MESSAGE_ROLE,
        content: oi::MESSAGE_CONTENT,
        name: oi::MESSAGE_NAME,
        tool_call_id: oi::MESSAGE_TOOL_CALL_ID,
    };
    messages_with(oi::INPUT_MESSAGES, &keys, call.input_messages(), f);
    messages_with(oi::OUTPUT_MESSAGES, &keys, call.output_messages(), f);
    if !call.tool_calls().is_empty() && call.output_messages().is_empty() {
        f(
            Key::Indexed(oi::OUTPUT_MESSAGES, 0, oi::MESSAGE_ROLE),
            Attr::Str("assistant"),
        );
    }
    for (j, t) in call.tool_calls().iter().enumerate() {
        let key = |suffix| Key::Indexed2(oi::OUTPUT_MESSAGES, 0, oi::TOOL_CALLS, j, suffix);
        f(key(oi::TOOL_CALL_ID), Attr::Str(&t.id));
        f(key(oi::TOOL_CALL_NAME), Attr::Str(&t.name));
        if !t.arguments.is_empty() {
            f(key(oi::TOOL_CALL_ARGUMENTS), Attr::Str(&t.arguments));
        }
    }
    for (i, t) in call.tools().iter().enumerate() {
        if let Some((_, definition)) = &t.written {
            f(
                Key::Indexed(oi::TOOLS, i, oi::TOOL_JSON_SCHEMA),
                Attr::Str(definition),
            );
        }
    }
    if let Some(Params::Written { text, .. }) = &call.invocation_parameters {
        f(Key::Str(oi::INVOCATION_PARAMETERS), Attr::Str(text));
    }
}

/// `input.value` / `output.value` with their MIME types, and on TOOL spans
/// `tool.name` / `tool.description`: keys the Neatlogs and OpenInference
/// vocabularies share.
fn shared_io<'a>(record: &'a SpanRecord, f: &mut impl FnMut(Key<'a>, Attr<'a>)) {
    if record.kind() == SpanKind::Tool {
        f(Key::Str(tool::NAME), Attr::Str(record.name()));
        if let Some(d) = record.description() {
            f(Key::Str(tool::DESCRIPTION), Attr::Str(d));
        }
    }
    let io = [
        (record.input(), io::INPUT, io::INPUT_MIME_TYPE),
        (record.output(), io::OUTPUT, io::OUTPUT_MIME_TYPE),
    ];
    for (captured, value, mime) in io {
        let Some(c) = captured else { continue };
        let Some(text) = c.as_str() else { continue };
        f(Key::Str(value), Attr::Str(text));
        f(Key::Str(mime), Attr::Str(c.mime_type()));
    }
}

/// The GenAI operation of a span kind, if it has one.
pub(super) fn genai_operation(kind: SpanKind) -> Option<&'static str> {
    match kind {
        SpanKind::Llm => Some("chat"),
        SpanKind::Embedding => Some("embeddings"),
        SpanKind::Tool | SpanKind::McpTool => Some("execute_tool"),
        SpanKind::Agent => Some("invoke_agent"),
        _ => None,
    }
}

/// The OpenTelemetry GenAI vocabulary, plus the trace-level keys Langfuse
/// reads. `shared`: the Neatlogs vocabulary is written too (it has written
/// `enduser.id`); `io_written`: `input.value` / `output.value` are written
/// already (Langfuse reads a span's input and output there).
pub(super) fn genai<'a>(
    record: &'a SpanRecord,
    shared: bool,
    io_written: bool,
    f: &mut impl FnMut(Key<'a>, Attr<'a>),
) {
    if !io_written {
        shared_io(record, f);
    }
    if record.is_root() {
        if let Some(user) = record.end_user() {
            if !shared {
                f(Key::Str(span::ENDUSER_ID), Attr::Str(user.id().as_str()));
            }
            f(
                Key::Str(genai::LANGFUSE_USER_ID),
                Attr::Str(user.id().as_str()),
            );
            langfuse_metadata(user, f);
        }
        if let Some(s) = record.session_id() {
            f(Key::Str(genai::CONVERSATION_ID), Attr::Str(s));
            f(Key::Str(genai::LANGFUSE_SESSION_ID), Attr::Str(s));
        }
        if !record.tags().is_empty() {
            f(Key::Str(genai::LANGFUSE_TAGS), Attr::Tags(record.tags()));
        }
    }
    if let Some(op) = genai_operation(record.kind()) {
        f(Key::Str(genai::OPERATION), Attr::Str(op));
    }
    if matches!(record.kind(), SpanKind::Tool | SpanKind::McpTool) {
        f(Key::Str(genai::TOOL_NAME), Attr::Str(record.name()));
    }
    let Some(call) = record.llm() else { return };
    if let Some(p) = call.provider() {
        f(Key::Str(genai::PROVIDER), Attr::Str(p));
    }
    if let Some(s) = call.system().or(call.provider()) {
        f(Key::Str(genai::SYSTEM), Attr::Str(s));
    }
    if let Some(m) = call.request_model().or(call.response_model()) {
        f(Key::Str(genai::REQUEST_MODEL), Attr::Str(m));
    }
    if let Some(m) = call.response_model() {
        f(Key::Str(genai::RESPONSE_MODEL), Attr::Str(m));
    }
    if let Some(id) = call.response_id() {
        f(Key::Str(genai::RESPONSE_ID), Attr::Str(id));
    }
    if let Some(r) = call.finish_reason() {
        f(Key::Str(genai::FINISH_REASONS), Attr::OneTag(r));
    }
    let usage = call.usage();
    if let Some(n) = usage.prompt_tokens() {
        f(Key::Str(genai::INPUT_TOKENS), int(n));
    }
    if let Some(n) = usage.completion_tokens() {
        f(Key::Str(genai::OUTPUT_TOKENS), int(n));
    }
    typed_parameters(call, |name, attr| {
        f(Key::Joined(genai::REQUEST_PREFIX, name, ""), attr)
    });
    if let Some(written) = &call.genai_messages {
        let (input, output) = &**written;
        if !input.is_empty() {
            f(Key::Str(genai::INPUT_MESSAGES), Attr::Str(input));
        }
        if !output.is_empty() {
            f(Key::Str(genai::OUTPUT_MESSAGES), Attr::Str(output));
        }
    }
}

/// `langfuse.trace.metadata.<key>` for each key of the end-user's metadata.
fn langfuse_metadata<'a>(user: &'a EndUser, f: &mut impl FnMut(Key<'a>, Attr<'a>)) {
    for (key, value) in user.metadata_flat() {
        f(
            Key::Prefixed(genai::LANGFUSE_METADATA_PREFIX, key),
            Attr::Str(value),
        );
    }
}

/// One vocabulary's keys for the model, provider, system and token counts
/// (prompt, completion, total, cache read, cache write, reasoning).
struct ModelKeys {
    model: &'static str,
    provider: &'static str,
    system: &'static str,
    tokens: [&'static str; 6],
}

/// The model (the one that answered when known), provider, system (else the
/// provider) and the token counts given.
fn model_and_tokens<'a>(
    call: &'a LlmCall,
    keys: &ModelKeys,
    f: &mut impl FnMut(Key<'a>, Attr<'a>),
) {
    if let Some(m) = call.model() {
        f(Key::Str(keys.model), Attr::Str(m));
    }
    if let Some(p) = call.provider() {
        f(Key::Str(keys.provider), Attr::Str(p));
    }
    if let Some(s) = call.system().or(call.provider()) {
        f(Key::Str(keys.system), Attr::Str(s));
    }
    let u = call.usage();
    let counts = [
        u.prompt_tokens(),
        u.completion_tokens(),
        u.total_tokens(),
        u.cache_read_tokens(),
        u.cache_write_tokens(),
        u.reasoning_tokens(),
    ];
    for (key, count) in keys.tokens.into_iter().zip(counts) {
        if let Some(n) = count {
            f(Key::Str(key), int(n));
        }
    }
}

/// The suffixes of a message's keys in one vocabulary.
struct MessageKeys {
    role: &'static str,
    content: &'static str,
    name: &'static str,
    tool_call_id: &'static str,
}

fn messages_with<'a>(
    prefix: &'static str,
    keys: &MessageKeys,
    list: &'a [Message],
    f: &mut impl FnMut(Key<'a>, Attr<'a>),
) {
    for (i, m) in list.iter().enumerate() {
        f(Key::Indexed(prefix, i, keys.role), Attr::Str(&m.role));
        f(Key::Indexed(prefix, i, keys.content), Attr::Str(&m.content));
        if let Some(n) = &m.name {
            f(Key::Indexed(prefix, i, keys.name), Attr::Str(n));
        }
        if let Some(id) = &m.tool_call_id {
            f(Key::Indexed(prefix, i, keys.tool_call_id), Attr::Str(id));
        }
    }
}
