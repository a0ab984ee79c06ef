//! The typed facts of a span (captured input and output, the LLM call, the
//! code location, the duration) as attributes of a vocabulary, applied here,
//! on the export thread: the hot path records each fact once.

use super::{Attr, Key};
use crate::export::Resource;
use crate::kind::SpanKind;
use crate::llm::{LlmCall, Message, Params};
use crate::record::SpanRecord;
use crate::wire::{code, io, llm, metrics, resource, span, tool};

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
    if let Some(m) = call.model() {
        f(Key::Str(llm::MODEL_NAME), Attr::Str(m));
    }
    if let Some(p) = call.provider() {
        f(Key::Str(llm::PROVIDER), Attr::Str(p));
    }
    if let Some(s) = call.system().or(call.provider()) {
        f(Key::Str(llm::SYSTEM), Attr::Str(s));
    }
    let usage = call.usage();
    let counts = [
        (llm::TOKENS_PROMPT, usage.prompt_tokens()),
        (llm::TOKENS_COMPLETION, usage.completion_tokens()),
        (llm::TOKENS_TOTAL, usage.total_tokens()),
        (llm::TOKENS_CACHE_READ, usage.cache_read_tokens()),
        (llm::TOKENS_CACHE_WRITE, usage.cache_write_tokens()),
        (llm::TOKENS_REASONING, usage.reasoning_tokens()),
    ];
    for (key, count) in counts {
        if let Some(n) = count {
            f(Key::Str(key), int(n));
        }
    }
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
    if let Some(Params::Written { value, text }) = &call.invocation_parameters {
        f(Key::Str(llm::INVOCATION_PARAMETERS), Attr::Str(text));
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
            f(Key::Joined(llm::PARAMETER_PREFIX, name, ""), attr);
        }
    }
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
    for (i, m) in list.iter().enumerate() {
        f(
            Key::Indexed(prefix, i, llm::MESSAGE_ROLE),
            Attr::Str(&m.role),
        );
        f(
            Key::Indexed(prefix, i, llm::MESSAGE_CONTENT),
            Attr::Str(&m.content),
        );
        if let Some(n) = &m.name {
            f(Key::Indexed(prefix, i, llm::MESSAGE_NAME), Attr::Str(n));
        }
        if let Some(id) = &m.tool_call_id {
            f(
                Key::Indexed(prefix, i, llm::MESSAGE_TOOL_CALL_ID),
                Attr::Str(id),
            );
        }
    }
}
