//! A `tracing` span's fields, read into a neatlogs span: typed attributes,
//! the few keys the layer understands (the kind, the name, the status, a
//! root's identity), and the OpenTelemetry GenAI semantic conventions'
//! `gen_ai.*` fields as the typed LLM call.

use std::borrow::Cow;
use std::fmt;

use serde_json::Value as Json;
use tracing_core::field::{Field, Visit};

use crate::llm::{Message, ToolCall};
use crate::seam::{self, Attributes, Details, Fact, Given, IntoEndUserId, Params, Status, Value};
use crate::SpanKind;

/// The field that sets a span's kind: `neatlogs.span.kind = "TOOL"`.
pub(crate) const KIND_FIELD: &str = "neatlogs.span.kind";
/// The field that renames a span, as `tracing-opentelemetry` reads it.
const NAME_FIELD: &str = "otel.name";
/// `"ok"` or `"error"`, as `tracing-opentelemetry` reads it.
const STATUS_CODE_FIELD: &str = "otel.status_code";
const STATUS_MESSAGE_FIELD: &str = "otel.status_message";
/// `tracing-opentelemetry`'s span kind (client, server, ...): not a
/// neatlogs kind, and not an attribute either.
const OTEL_KIND_FIELD: &str = "otel.kind";
/// The GenAI fields' common prefix.
pub(crate) const GENAI_PREFIX: &str = "gen_ai.";

/// The kind of a span whose callsite declares `gen_ai.*` fields and no
/// `gen_ai.operation.name` that says otherwise.
pub(crate) fn kind_of_operation(operation: &str) -> SpanKind {
    match operation {
        "embeddings" => SpanKind::Embedding,
        "execute_tool" => SpanKind::Tool,
        "invoke_agent" | "create_agent" => SpanKind::Agent,
        _ => SpanKind::Llm,
    }
}

/// Reads fields into a span being opened or an open one.
pub(crate) struct Recorder<'a> {
    pub(crate) attributes: &'a mut Attributes,
    pub(crate) details: &'a mut Option<Box<Details>>,
    /// A kind given by a field (`neatlogs.span.kind`, `gen_ai.operation.name`).
    pub(crate) kind: Option<SpanKind>,
    /// A name given by `otel.name`.
    pub(crate) name: Option<String>,
    /// A root's identity; `None` once the span is open (identity is
    /// resolved once, when the root opens).
    pub(crate) identity: Option<&'a mut Given>,
}

impl Recorder<'_> {
    fn details(&mut self) -> &mut Details {
        self.details.get_or_insert_with(Box::default)
    }

    fn fact(&mut self, fact: Fact) {
        fact.apply(self.details());
    }

    /// A field with a string value (or a number written as text).
    fn text(&mut self, field: &Field, value: Cow<'static, str>) {
        let name = field.name();
        if let Some(rest) = name.strip_prefix(GENAI_PREFIX) {
            if self.genai_text(rest, &value) {
                return;
            }
            if let Ok(n) = value.trim().parse::<u64>() {
                if self.genai_count(rest, n) {
                    return;
                }
            }
        } else if self.special(field, &value) {
            return;
        }
        self.attributes
            .push((Cow::Borrowed(name), Value::Str(value)));
    }

    /// A field with a numeric or boolean value.
    fn typed(&mut self, field: &Field, value: Value) {
        let name = field.name();
        if let Some(rest) = name.strip_prefix(GENAI_PREFIX) {
            // Recorded as a bool (`gen_ai.request.stream = true`), as
            // instrumented clients such as `genai` do: the call's
            // streaming flag, like its text form, not a parameter.
            if let ("request.stream", Value::Bool(streaming)) = (rest, &value) {
                self.fact(Fact::Streaming(*streaming));
                return;
            }
            if let Some(n) = value.as_i64().and_then(|n| u64::try_from(n).ok()) {
                if self.genai_count(rest, n) {
                    return;
                }
            }
            if let Some(param) = rest.strip_prefix("request.") {
                self.parameter(param, json_of(&value));
                return;
            }
        }
        self.attributes.push((Cow::Borrowed(name), value));
    }

    /// The layer's own keys; `true` when `field` was one.
    fn special(&mut self, field: &Field, value: &str) -> bool {
        let name = field.name();
        match name {
            KIND_FIELD => match value.trim().to_ascii_uppercase().parse::<SpanKind>() {
                Ok(kind) => self.kind = Some(kind),
                Err(e) => {
                    log::warn!("neatlogs: tracing field `{KIND_FIELD}`: {e}; kept the default kind")
                }
            },
            NAME_FIELD => self.name = Some(value.to_owned()),
            OTEL_KIND_FIELD => {}
            STATUS_CODE_FIELD => match value.to_ascii_lowercase().as_str() {
                "error" => {
                    let details = self.details();
                    if !matches!(details.status, Status::Error(_)) {
                        details.status = Status::Error(Cow::Borrowed(""));
                    }
                }
                "ok" => self.details().status = Status::Ok,
                _ => {}
            },
            STATUS_MESSAGE_FIELD => {
                self.details().status = Status::Error(Cow::Owned(value.to_owned()));
            }
            crate::wire::span::END_USER_ID | crate::wire::span::ENDUSER_ID => {
                match self.identity.as_deref_mut() {
                    Some(given) => given.end_user = Some(value.to_owned().into_end_user_id()),
                    None => {
                        let site = {
                            use std::hash::{Hash, Hasher};
                            let mut h = std::collections::hash_map::DefaultHasher::new();
                            field.callsite().hash(&mut h);
                            h.finish()
                        };
                        if seam::first_time_at(site) {
                            log::warn!(
                                "neatlogs: tracing field `{name}` on a nested span or after the span opened has no effect; the trace root owns the identity (further occurrences at this callsite are logged at debug)"
                            );
                        } else {
                            log::debug!(
                                "neatlogs: tracing field `{name}` on a nested span or after the span opened has no effect; the trace root owns the identity"
                            );
                        }
                    }
                }
            }
            crate::wire::span::END_USER_METADATA => {
                if let Some(given) = self.identity.as_deref_mut() {
                    let metadata = serde_json::from_str::<Json>(value)
                        .map_err(|_| ())
                        .and_then(|v| seam::metadata_from(&v).map_err(|_| ()));
                    given.metadata = Some(match metadata {
                        Ok(m) => Ok(m),
                        Err(()) => seam::metadata_from(&value),
                    });
                }
            }
            crate::wire::span::SESSION => {
                if let Some(given) = self.identity.as_deref_mut() {
                    given.session = Some(seam::parse_session(value));
                }
            }
            _ => return false,
        }
        true
    }

    /// A token count (`rest` is the key after `gen_ai.`); `true` when it
    /// was one.
    fn genai_count(&mut self, rest: &str, n: u64) -> bool {
        use crate::llm::Usage;
        let slot: fn(&mut Usage) -> &mut Option<u64> = match rest {
            "usage.input_tokens" | "usage.prompt_tokens" => |u| &mut u.prompt,
            "usage.output_tokens" | "usage.completion_tokens" => |u| &mut u.completion,
            "usage.total_tokens" => |u| &mut u.total,
            "usage.cache_read.input_tokens" | "usage.cache_read_input_tokens" => {
                |u| &mut u.cache_read
            }
            "usage.cache_creation.input_tokens" | "usage.cache_creation_input_tokens" => {
                |u| &mut u.cache_write
            }
            "usage.reasoning.output_tokens" | "usage.reasoning_tokens" => |u| &mut u.reasoning,
            _ => return false,
        };
        *slot(&mut self.details().llm_mut().usage) = Some(n);
        true
    }

    /// A GenAI field with a text value (`rest` is the key after
    /// `gen_ai.`); `true` when it was mapped.
    fn genai_text(&mut self, rest: &str, value: &str) -> bool {
        let text = || Cow::Owned(value.to_string());
        match rest {
            "operation.name" => self.kind = Some(kind_of_operation(value)),
            "provider.name" => self.fact(Fact::Provider(text())),
            "system" => self.fact(Fact::System(text())),
            "request.model" => self.fact(Fact::RequestModel(text())),
            "response.model" => self.fact(Fact::ResponseModel(text())),
            "response.id" => self.fact(Fact::ResponseId(text())),
            "response.finish_reasons" | "response.finish_reason" => {
                if let Some(reason) = first_reason(value) {
                    self.fact(Fact::FinishReason(Cow::Owned(reason)));
                }
            }
            "system_instructions" => {
                let text = match serde_json::from_str::<Json>(value) {
                    Ok(Json::Array(parts)) => parts_text(&parts),
                    _ => value.to_string(),
                };
                let llm = self.details().llm_mut();
                llm.input_messages.insert(0, Message::system(text));
            }
            "input.messages" | "prompt" => match parse_messages(value) {
                Some(parsed) => {
                    let llm = self.details().llm_mut();
                    llm.input_messages.extend(parsed.messages);
                }
                None => return false,
            },
            "output.messages" | "completion" => match parse_messages(value) {
                Some(parsed) => {
                    let llm = self.details().llm_mut();
                    llm.output_messages.extend(parsed.messages);
                    llm.tool_calls.extend(parsed.tool_calls);
                    if llm.finish_reason.is_none() {
                        llm.finish_reason = parsed.finish_reason.map(Cow::Owned);
                    }
                }
                None => return false,
            },
            "request.stream" => match value.trim() {
                "true" => self.fact(Fact::Streaming(true)),
                "false" => self.fact(Fact::Streaming(false)),
                _ => return false,
            },
            _ => {
                if let Some(param) = rest.strip_prefix("request.") {
                    let v =
                        serde_json::from_str::<Json>(value).unwrap_or_else(|_| Json::from(value));
                    self.parameter(param, v);
                    return true;
                }
                return false;
            }
        }
        true
    }

    /// One request parameter (`temperature`, `max_tokens`, ...), merged
    /// into the invocation parameters.
    fn parameter(&mut self, name: &str, value: Json) {
        let llm = self.details().llm_mut();
        let mut object = match llm.invocation_parameters.take() {
            Some(Params::Given(Json::Object(map))) => map,
            _ => serde_json::Map::new(),
        };
        object.insert(name.to_owned(), value);
        llm.invocation_parameters = Some(Params::Given(Json::Object(object)));
    }
}

/// A value as JSON (a request parameter).
fn json_of(v: &Value) -> Json {
    match v {
        Value::Bool(b) => Json::from(*b),
        Value::I64(i) => Json::from(*i),
        Value::F64(f) => serde_json::Number::from_f64(*f).map_or(Json::Null, Json::Number),
        Value::Str(s) => Json::from(s.as_ref()),
        _ => Json::Null,
    }
}

impl Visit for Recorder<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.typed(field, Value::F64(value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.typed(field, Value::I64(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        match i64::try_from(value) {
            Ok(v) => self.typed(field, Value::I64(v)),
            // Above i64::MAX: OTLP integers are signed; keep every digit.
            Err(_) => self.text(field, Cow::Owned(value.to_string())),
        }
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        match i64::try_from(value) {
            Ok(v) => self.typed(field, Value::I64(v)),
            Err(_) => self.text(field, Cow::Owned(value.to_string())),
        }
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        match i64::try_from(value) {
            Ok(v) => self.typed(field, Value::I64(v)),
            Err(_) => self.text(field, Cow::Owned(value.to_string())),
        }
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.typed(field, Value::Bool(value));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.text(field, Cow::Owned(value.to_owned()));
    }

    fn record_bytes(&mut self, field: &Field, value: &[u8]) {
        self.attributes
            .push((Cow::Borrowed(field.name()), Value::Bytes(value.to_vec())));
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.text(field, Cow::Owned(value.to_string()));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.text(field, Cow::Owned(format!("{value:?}")));
    }
}

/// Reads an event's fields: `message` is its name, the rest attributes.
pub(crate) struct EventRecorder {
    pub(crate) message: Option<String>,
    pub(crate) attributes: Attributes,
}

impl EventRecorder {
    fn push(&mut self, field: &Field, value: Value) {
        self.attributes.push((Cow::Borrowed(field.name()), value));
    }
}

impl Visit for EventRecorder {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.push(field, Value::F64(value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.push(field, Value::I64(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        match i64::try_from(value) {
            Ok(v) => self.push(field, Value::I64(v)),
            Err(_) => self.push(field, Value::Str(Cow::Owned(value.to_string()))),
        }
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.push(field, Value::Bool(value));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = Some(value.to_owned());
        } else {
            self.push(field, Value::Str(Cow::Owned(value.to_owned())));
        }
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.push(field, Value::Str(Cow::Owned(value.to_string())));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let text = format!("{value:?}");
        if field.name() == "message" {
            self.message = Some(text);
        } else {
            self.push(field, Value::Str(Cow::Owned(text)));
        }
    }
}

/// The first finish reason of `["stop"]`, `stop` or `"stop"`.
fn first_reason(value: &str) -> Option<String> {
    let value = value.trim();
    if value.starts_with('[') {
        if let Ok(Json::Array(items)) = serde_json::from_str::<Json>(value) {
            return items.first().and_then(Json::as_str).map(str::to_owned);
        }
    }
    let value = value.trim_matches(|c| c == '"' || c == '\'');
    (!value.is_empty()).then(|| value.to_owned())
}

/// Messages read from a `gen_ai.*.messages` field.
#[derive(Debug, Default)]
pub(crate) struct Parsed {
    pub(crate) messages: Vec<Message>,
    pub(crate) tool_calls: Vec<ToolCall>,
    pub(crate) finish_reason: Option<String>,
}

/// Messages in the GenAI conventions' form (`[{"role", "parts": [{"type":
/// "text", "content"}, {"type": "tool_call", ..}, {"type":
/// "tool_call_response", ..}], "finish_reason"}]`) or in the chat
/// completions form (`[{"role", "content"}]`, content a string or a list
/// of `{"type": "text", "text"}`). `None` when it is neither.
pub(crate) fn parse_messages(json: &str) -> Option<Parsed> {
    let Json::Array(items) = serde_json::from_str::<Json>(json).ok()? else {
        return None;
    };
    let mut out = Parsed::default();
    for item in &items {
        let Json::Object(m) = item else { return None };
        let role = m.get("role").and_then(Json::as_str).unwrap_or("user");
        let name = m.get("name").and_then(Json::as_str);
        if out.finish_reason.is_none() {
            out.finish_reason = m
                .get("finish_reason")
                .and_then(Json::as_str)
                .map(str::to_owned);
        }
        let mut text = String::new();
        let mut tool_response: Option<(String, String)> = None;
        match (m.get("parts"), m.get("content")) {
            (Some(Json::Array(parts)), _) => {
                for part in parts {
                    match part.get("type").and_then(Json::as_str) {
                        Some("tool_call") => out.tool_calls.push(ToolCall::new(
                            string_of(part.get("id")),
                            string_of(part.get("name")),
                            json_text(part.get("arguments")),
                        )),
                        Some("tool_call_response") => {
                            tool_response =
                                Some((string_of(part.get("id")), json_text(part.get("response"))));
                        }
                        _ => push_text(&mut text, part),
                    }
                }
            }
            (_, Some(Json::String(s))) => text.push_str(s),
            (_, Some(Json::Array(parts))) => text = parts_text(parts),
            _ => {}
        }
        if let Some(Json::Array(calls)) = m.get("tool_calls") {
            for call in calls {
                let function = call.get("function").unwrap_or(call);
                out.tool_calls.push(ToolCall::new(
                    string_of(call.get("id")),
                    string_of(function.get("name")),
                    json_text(function.get("arguments")),
                ));
            }
        }
        let mut message = match tool_response {
            Some((id, response)) => Message::tool(response, id),
            None => Message::new(role.to_owned(), text),
        };
        if let Some(id) = m.get("tool_call_id").and_then(Json::as_str) {
            message = message.with_tool_call_id(id.to_owned());
        }
        if let Some(name) = name {
            message = message.with_name(name.to_owned());
        }
        out.messages.push(message);
    }
    Some(out)
}

/// The text parts of a list, joined.
fn parts_text(parts: &[Json]) -> String {
    let mut text = String::new();
    for part in parts {
        push_text(&mut text, part);
    }
    text
}

/// A text part's text (`content` in the GenAI form, `text` in the chat
/// completions form), after what is already there.
fn push_text(text: &mut String, part: &Json) {
    let t = match part {
        Json::String(s) => Some(s.as_str()),
        _ => part
            .get("content")
            .or_else(|| part.get("text"))
            .and_then(Json::as_str),
    };
    if let Some(t) = t {
        text.push_str(t);
    }
}

fn string_of(v: Option<&Json>) -> String {
    match v {
        Some(Json::String(s)) => s.clone(),
        Some(Json::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

/// A string as is, anything else as JSON text.
fn json_text(v: Option<&Json>) -> String {
    match v {
        Some(Json::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The spans `f` makes, through the layer alone.
    fn layer_spans(f: impl FnOnce()) -> Vec<crate::export::SpanRecord> {
        use tracing_subscriber::layer::SubscriberExt;
        let subscriber = tracing_subscriber::registry().with(crate::tracing::layer());
        tracing::subscriber::with_default(subscriber, || crate::testing::with_capture(f)).1
    }

    #[test]
    fn request_stream_as_bool_or_text_is_the_streaming_flag() {
        let spans = layer_spans(|| {
            let _root = crate::trace("chat").enter();
            tracing::info_span!("bool on", gen_ai.request.stream = true).in_scope(|| {});
            tracing::info_span!("bool off", gen_ai.request.stream = false).in_scope(|| {});
            tracing::info_span!("text", gen_ai.request.stream = "true").in_scope(|| {});
            let late = tracing::info_span!("late", gen_ai.request.stream = tracing::field::Empty);
            late.record("gen_ai.request.stream", true);
        });
        for (name, streaming) in [
            ("bool on", true),
            ("bool off", false),
            ("text", true),
            ("late", true),
        ] {
            let span = spans.iter().find(|s| s.name() == name).unwrap();
            let llm = span.llm().expect("an LLM call");
            assert_eq!(llm.is_streaming(), Some(streaming), "{name}");
            assert_eq!(llm.invocation_parameters(), None, "{name}: not a parameter");
        }
    }

    #[test]
    fn genai_messages_of_either_form() {
        let parsed = parse_messages(
            r#"[{"role":"system","parts":[{"type":"text","content":"Be brief."}]},
                {"role":"user","parts":[{"type":"text","content":"Hi"},{"type":"text","content":"!"}]},
                {"role":"tool","parts":[{"type":"tool_call_response","id":"c1","response":{"t":3}}]}]"#,
        )
        .unwrap();
        let roles: Vec<_> = parsed.messages.iter().map(|m| m.role()).collect();
        assert_eq!(roles, ["system", "user", "tool"]);
        assert_eq!(parsed.messages[1].content(), "Hi!");
        assert_eq!(parsed.messages[2].tool_call_id(), Some("c1"));
        assert_eq!(parsed.messages[2].content(), r#"{"t":3}"#);

        let parsed = parse_messages(
            r#"[{"role":"assistant","parts":[{"type":"tool_call","id":"c2","name":"search","arguments":{"q":"x"}}],"finish_reason":"tool_calls"}]"#,
        )
        .unwrap();
        assert_eq!(parsed.tool_calls[0].name(), "search");
        assert_eq!(parsed.tool_calls[0].arguments(), r#"{"q":"x"}"#);
        assert_eq!(parsed.finish_reason.as_deref(), Some("tool_calls"));

        let parsed = parse_messages(
            r#"[{"role":"user","content":"plain"},{"role":"user","content":[{"type":"text","text":"list"}]}]"#,
        )
        .unwrap();
        assert_eq!(parsed.messages[0].content(), "plain");
        assert_eq!(parsed.messages[1].content(), "list");
    }

    #[test]
    fn not_messages_is_none() {
        for bad in ["", "hello", "{}", "[1]", r#"{"role":"user"}"#] {
            assert!(parse_messages(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn finish_reasons_in_any_spelling() {
        assert_eq!(
            first_reason(r#"["stop","length"]"#).as_deref(),
            Some("stop")
        );
        assert_eq!(first_reason("stop").as_deref(), Some("stop"));
        assert_eq!(first_reason(r#""length""#).as_deref(), Some("length"));
        assert_eq!(first_reason("[]"), None);
        assert_eq!(first_reason(""), None);
    }

    #[test]
    fn operations_pick_the_kind() {
        assert_eq!(kind_of_operation("chat"), SpanKind::Llm);
        assert_eq!(kind_of_operation("embeddings"), SpanKind::Embedding);
        assert_eq!(kind_of_operation("execute_tool"), SpanKind::Tool);
        assert_eq!(kind_of_operation("invoke_agent"), SpanKind::Agent);
    }
}
