//! The writers checked against `opentelemetry-proto`, the maintained OTLP
//! message types: random batches are encoded by [`OtlpEncoder`], decoded
//! with `prost` (protobuf) and with the crate's serde mapping (JSON), and
//! compared with a request built independently from the same records by the
//! reference model below (the message-tree filling of the earlier encoder,
//! with the wire contract's keys written out as literals).

use crate::handle::SpanHandle;
use std::borrow::Cow;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{
    any_value, AnyValue, ArrayValue, InstrumentationScope, KeyValue, KeyValueList,
};
use opentelemetry_proto::tonic::resource::v1::Resource as OtlpResource;
use opentelemetry_proto::tonic::trace::v1::{
    span::Event as OtlpEvent, span::Link as OtlpLink, span::SpanKind as OtlpSpanKind,
    status::StatusCode, ResourceSpans, ScopeSpans, Span, Status as OtlpStatus,
};
use proptest::collection::vec;
use proptest::prelude::*;
use prost::Message as _;
use serde_json::Value as Json;

use super::OtlpEncoder;
use crate::export::Conventions;
use crate::export::Resource;
use crate::identity::{EndUser, EndUserId, OperatorId};
use crate::kind::SpanKind;
use crate::record::SpanRecord;
use crate::value::{Status, Value};

// ---------------------------------------------------------------------------
// Records. Every synthetic record is built here, through
// `crate::record::synthetic`, so that pointing the tests at another record
// layout means changing this section only.

/// A span to build, within a [`TraceIn`].
#[derive(Debug, Clone)]
struct SpanIn {
    /// `None`: the trace's root span id.
    span_id: Option<u64>,
    parent: Option<u64>,
    name: String,
    kind: SpanKind,
    duration_ns: u64,
    attributes: Vec<(Cow<'static, str>, Value)>,
    status: Status,
    /// `(name, nanoseconds after the span's start, attributes)`.
    events: Vec<EventIn>,
}

type EventIn = (String, u64, Vec<(Cow<'static, str>, Value)>);

/// A trace to build: its shared identity and its spans.
#[derive(Debug, Clone)]
struct TraceIn {
    trace_id: u128,
    root_span_id: u64,
    /// The end-user id and, maybe, its metadata (a JSON object).
    end_user: Option<(String, Option<Json>)>,
    session: Option<String>,
    tags: Vec<String>,
    /// A continued trace: the caller's span id and `tracestate`.
    remote: Option<(u64, Option<String>)>,
    /// A span link on the root: (trace id, span id).
    link: Option<(u128, u64)>,
    spans: Vec<SpanIn>,
}

fn end_user(id: &str, metadata: Option<&Json>) -> EndUser {
    let id = EndUserId::new(id).expect("a valid id");
    let metadata = metadata.map(|m| crate::identity::metadata_from(m).expect("an object"));
    EndUser::new(id, metadata)
}

fn records(traces: &[TraceIn]) -> Vec<SpanRecord> {
    use crate::record::synthetic::{self, TraceSpec};
    let mut out = Vec::new();
    for t in traces {
        let trace = synthetic::trace(TraceSpec {
            trace_id: t.trace_id,
            root_span_id: t.root_span_id,
            end_user: t.end_user.as_ref().map(|(id, m)| end_user(id, m.as_ref())),
            session: t.session.clone(),
            tags: t.tags.clone(),
            remote: t.remote.clone(),
            link: t.link,
        });
        for s in &t.spans {
            let record = synthetic::record(
                &trace,
                s.span_id.unwrap_or(t.root_span_id),
                s.parent,
                s.name.clone(),
                s.kind,
                s.duration_ns,
                s.attributes.clone(),
                s.status.clone(),
            );
            out.push(synthetic::with_events(record, &s.events));
        }
    }
    out
}

// ---------------------------------------------------------------------------
// The reference model.

const RESERVED: [&str; 20] = [
    "user.id",
    "session.id",
    "metadata",
    "openinference.project.name",
    "gen_ai.conversation.id",
    "langfuse.user.id",
    "langfuse.session.id",
    "langfuse.trace.tags",
    "openinference.span.kind",
    "neatlogs.span.kind",
    "neatlogs.internal",
    "neatlogs.end_user.id",
    "enduser.id",
    "neatlogs.end_user.metadata",
    "neatlogs.session.id",
    "tag.tags",
    "neatlogs.trace.complete",
    "neatlogs.workflow_name",
    "neatlogs.user.id",
    "neatlogs.tags",
];

fn kv(key: &str, value: any_value::Value) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue { value: Some(value) }),
        ..Default::default()
    }
}

fn string(s: &str) -> any_value::Value {
    any_value::Value::StringValue(s.to_owned())
}

fn model_value(v: &Value) -> any_value::Value {
    match v {
        Value::Str(s) => string(s),
        Value::Bool(b) => any_value::Value::BoolValue(*b),
        Value::I64(i) => any_value::Value::IntValue(*i),
        Value::F64(f) => any_value::Value::DoubleValue(*f),
        Value::Bytes(b) => any_value::Value::BytesValue(b.clone()),
        Value::Array(items) => any_value::Value::ArrayValue(ArrayValue {
            values: items
                .iter()
                .map(|i| AnyValue {
                    value: Some(model_value(i)),
                })
                .collect(),
        }),
        Value::Map(entries) => any_value::Value::KvlistValue(KeyValueList {
            values: entries.iter().map(|(k, v)| kv(k, model_value(v))).collect(),
        }),
    }
}

fn model_marker_id(root: u64) -> Vec<u8> {
    let mut z = root ^ 0x6e65_6174_6c6f_6773;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    if z == 0 || z == root {
        z = root.rotate_left(32) ^ 1;
    }
    z.to_be_bytes().to_vec()
}

fn model_span(r: &SpanRecord, res: &Resource) -> Span {
    let kind = r.kind();
    let mut attributes = vec![
        kv("openinference.span.kind", string(kind.as_str())),
        kv("neatlogs.span.kind", string(kind.as_lower_str())),
        kv("neatlogs.internal", any_value::Value::BoolValue(true)),
    ];
    if r.is_root() {
        if let Some(user) = r.end_user() {
            attributes.push(kv("neatlogs.end_user.id", string(user.id().as_str())));
            attributes.push(kv("enduser.id", string(user.id().as_str())));
            if let Some(json) = user.metadata_json() {
                attributes.push(kv("neatlogs.end_user.metadata", string(json)));
            }
        }
        if let Some(s) = r.session_id() {
            attributes.push(kv("neatlogs.session.id", string(s)));
        }
        if !r.tags().is_empty() {
            let values = r
                .tags()
                .iter()
                .map(|t| AnyValue {
                    value: Some(string(t)),
                })
                .collect();
            attributes.push(kv(
                "tag.tags",
                any_value::Value::ArrayValue(ArrayValue { values }),
            ));
        }
    }
    // The application's: reserved keys dropped; a repeated key keeps its
    // first place and takes its last value.
    let sdk = attributes.len();
    for (key, value) in r.attributes() {
        if RESERVED.contains(&&**key) || key.starts_with("langfuse.trace.metadata.") {
            continue;
        }
        let value = Some(AnyValue {
            value: Some(model_value(value)),
        });
        match attributes[sdk..].iter_mut().find(|a| a.key == **key) {
            Some(earlier) => earlier.value = value,
            None => attributes.push(KeyValue {
                key: key.to_string(),
                value,
                ..Default::default()
            }),
        }
    }
    attributes.extend(model_vocabulary(r));
    attributes.extend(model_constants(res));
    Span {
        trace_id: r.trace_id().to_bytes().to_vec(),
        span_id: r.span_id().to_bytes().to_vec(),
        parent_span_id: r
            .parent_span_id()
            .map_or_else(Vec::new, |p| p.to_bytes().to_vec()),
        trace_state: r.trace_state().unwrap_or_default().to_owned(),
        // Bit 8: whether the parent is remote is known; bit 9: it is.
        flags: if r.has_remote_parent() { 0x301 } else { 0x101 },
        links: r
            .link()
            .map(|(trace, span)| OtlpLink {
                trace_id: trace.to_bytes().to_vec(),
                span_id: span.to_bytes().to_vec(),
                ..Default::default()
            })
            .into_iter()
            .collect(),
        name: r.name().to_owned(),
        kind: OtlpSpanKind::Internal as i32,
        start_time_unix_nano: r.start_unix_nanos(),
        end_time_unix_nano: r.end_unix_nanos(),
        attributes,
        events: r
            .events()
            .iter()
            .map(|e| OtlpEvent {
                time_unix_nano: e.unix_nanos(),
                name: e.name().to_owned(),
                attributes: e
                    .attributes()
                    .iter()
                    .map(|(k, v)| kv(k, model_value(v)))
                    .collect(),
                ..Default::default()
            })
            .collect(),
        status: match r.status() {
            Status::Unset => None,
            Status::Ok => Some(OtlpStatus {
                code: StatusCode::Ok as i32,
                message: String::new(),
            }),
            Status::Error(m) => Some(OtlpStatus {
                code: StatusCode::Error as i32,
                message: m.to_string(),
            }),
        },
        ..Default::default()
    }
}

/// What the Python SDK copies from the resource onto every span, last on
/// each record.
fn model_constants(res: &Resource) -> Vec<KeyValue> {
    let mut out = vec![
        kv("neatlogs.instrumentation.name", string("neatlogs")),
        kv(
            "neatlogs.workflow_name",
            string(res.workflow_name.as_deref().unwrap_or("neatlogs-app")),
        ),
    ];
    if let Some(op) = &res.operator {
        out.push(kv("neatlogs.user.id", string(op.as_str())));
    }
    if !res.tags.is_empty() {
        out.push(kv("neatlogs.tags", string(&res.tags.join(","))));
    }
    out
}

/// The Neatlogs vocabulary of a record's typed facts, written out key by
/// key with `format!` (the writers build keys from parts).
fn model_vocabulary(r: &SpanRecord) -> Vec<KeyValue> {
    let double = any_value::Value::DoubleValue;
    let int = |n: u64| any_value::Value::IntValue(n as i64);
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
    let mut out = vec![kv("neatlogs.metrics.duration_ms", double(ms(r.duration())))];
    if let Some(c) = r.code() {
        for prefix in ["", "neatlogs."] {
            out.push(kv(
                &format!("{prefix}code.function.name"),
                string(c.function),
            ));
            out.push(kv(&format!("{prefix}code.namespace"), string(c.namespace)));
            out.push(kv(&format!("{prefix}code.file.path"), string(c.file)));
            out.push(kv(
                &format!("{prefix}code.line.number"),
                any_value::Value::IntValue(i64::from(c.line)),
            ));
        }
    }
    let name = r.name();
    if r.kind() == SpanKind::Tool {
        for prefix in ["", "neatlogs."] {
            out.push(kv(&format!("{prefix}tool.name"), string(name)));
            if let Some(d) = r.description() {
                out.push(kv(&format!("{prefix}tool.description"), string(d)));
            }
        }
    } else if let Some(d) = r.description() {
        out.push(kv("neatlogs.description", string(d)));
    }
    let kind = r.kind().as_lower_str();
    for (name, c) in [("input", r.input()), ("output", r.output())] {
        if let Some(text) = c.and_then(|c| c.as_str()) {
            let mime = c.unwrap().mime_type();
            out.push(kv(&format!("{name}.value"), string(text)));
            out.push(kv(&format!("{name}.mime_type"), string(mime)));
            out.push(kv(&format!("neatlogs.{kind}.{name}"), string(text)));
            out.push(kv(
                &format!("neatlogs.{kind}.{name}_mime_type"),
                string(mime),
            ));
        }
    }
    let Some(call) = r.llm() else { return out };
    let p = "neatlogs.llm";
    if let Some(m) = call.model() {
        out.push(kv(&format!("{p}.model_name"), string(m)));
    }
    if let Some(v) = call.provider() {
        out.push(kv(&format!("{p}.provider"), string(v)));
    }
    if let Some(v) = call.system().or(call.provider()) {
        out.push(kv(&format!("{p}.system"), string(v)));
    }
    let u = call.usage();
    for (name, n) in [
        ("prompt", u.prompt_tokens()),
        ("completion", u.completion_tokens()),
        ("total", u.total_tokens()),
        ("cache_read", u.cache_read_tokens()),
        ("cache_write", u.cache_write_tokens()),
        ("reasoning", u.reasoning_tokens()),
    ] {
        if let Some(n) = n {
            out.push(kv(&format!("{p}.token_count.{name}"), int(n)));
        }
    }
    for (list, messages) in [
        ("input_messages", call.input_messages()),
        ("output_messages", call.output_messages()),
    ] {
        for (i, m) in messages.iter().enumerate() {
            out.push(kv(&format!("{p}.{list}.{i}.role"), string(m.role())));
            out.push(kv(&format!("{p}.{list}.{i}.content"), string(m.content())));
            if let Some(n) = m.name() {
                out.push(kv(&format!("{p}.{list}.{i}.name"), string(n)));
            }
            if let Some(id) = m.tool_call_id() {
                out.push(kv(&format!("{p}.{list}.{i}.tool_call_id"), string(id)));
            }
        }
    }
    for (i, t) in call.tool_calls().iter().enumerate() {
        out.push(kv(&format!("{p}.tool_calls.{i}.id"), string(t.id())));
        out.push(kv(&format!("{p}.tool_calls.{i}.name"), string(t.name())));
        if !t.arguments().is_empty() {
            out.push(kv(
                &format!("{p}.tool_calls.{i}.arguments"),
                string(t.arguments()),
            ));
        }
        out.push(kv(&format!("{p}.tool_calls.{i}.type"), string("function")));
        out.push(kv(
            &format!("{p}.tool_calls.{i}.tool_call_index"),
            int(i as u64),
        ));
        out.push(kv(&format!("{p}.tool_calls.{i}.choice_index"), int(0)));
    }
    for (i, t) in call.tools().iter().enumerate() {
        out.push(kv(&format!("{p}.tools.{i}.name"), string(t.name())));
        let given: Json = serde_json::from_str(t.definition_json().unwrap()).unwrap();
        let function = &given["function"];
        if let Some(d) = function.get("description") {
            out.push(kv(
                &format!("{p}.tools.{i}.description"),
                string(d.as_str().unwrap()),
            ));
        }
        out.push(kv(&format!("{p}.tools.{i}.type"), string("function")));
        if let Some(schema) = function.get("parameters") {
            out.push(kv(
                &format!("{p}.tools.{i}.input_schema"),
                string(&schema.to_string()),
            ));
        }
        out.push(kv(
            &format!("{p}.tools.{i}.definition"),
            string(t.definition_json().unwrap()),
        ));
    }
    if let Some(v) = call.finish_reason() {
        out.push(kv(&format!("{p}.finish_reason"), string(v)));
        out.push(kv(&format!("{p}.choices.0.finish_reason"), string(v)));
    }
    if let Some(v) = call.is_streaming() {
        out.push(kv(
            &format!("{p}.is_streaming"),
            any_value::Value::BoolValue(v),
        ));
    }
    if let Some(v) = call.response_id() {
        out.push(kv(&format!("{p}.response_id"), string(v)));
    }
    if let Some(v) = call.invocation_parameters_json() {
        out.push(kv(&format!("{p}.invocation_parameters"), string(v)));
        let given = call.invocation_parameters().unwrap();
        for name in [
            "temperature",
            "top_p",
            "max_tokens",
            "frequency_penalty",
            "presence_penalty",
        ] {
            if let Some(n) = given.get(name).filter(|n| n.is_number()) {
                let value = match n.as_i64() {
                    Some(i) => any_value::Value::IntValue(i),
                    None => double(n.as_f64().unwrap()),
                };
                out.push(kv(&format!("{p}.{name}"), value));
            }
        }
    }
    out.push(kv(
        &format!("{p}.metrics.duration_ms"),
        double(ms(r.duration())),
    ));
    if let Some(t) = r.time_to_first_token() {
        out.push(kv(&format!("{p}.metrics.ttft_ms"), double(ms(t))));
        out.push(kv(
            &format!("{p}.metrics.streaming_time_to_generate_ms"),
            double(ms(r.duration().saturating_sub(t))),
        ));
    }
    out
}

fn model_marker(root: &SpanRecord, res: &Resource) -> Span {
    let root_id = root.span_id().to_bytes();
    let mut attributes = vec![
        kv("neatlogs.trace.complete", any_value::Value::BoolValue(true)),
        kv("neatlogs.span.kind", string("Neatlogs.INTERNAL")),
        kv("neatlogs.internal", any_value::Value::BoolValue(true)),
    ];
    if !res.tags.is_empty() {
        attributes.push(kv("neatlogs.tags", string(&res.tags.join(","))));
    }
    Span {
        trace_id: root.trace_id().to_bytes().to_vec(),
        span_id: model_marker_id(u64::from_be_bytes(root_id)),
        parent_span_id: root_id.to_vec(),
        trace_state: root.trace_state().unwrap_or_default().to_owned(),
        flags: 0x101,
        name: "neatlogs.trace.complete".into(),
        kind: OtlpSpanKind::Internal as i32,
        start_time_unix_nano: root.end_unix_nanos(),
        end_time_unix_nano: root.end_unix_nanos(),
        attributes,
        ..Default::default()
    }
}

fn model(resource: &Resource, batch: &[SpanRecord]) -> ExportTraceServiceRequest {
    let mut attributes = vec![kv("service.name", string(&resource.service_name))];
    if let Some(w) = &resource.workflow_name {
        attributes.push(kv("neatlogs.workflow_name", string(w)));
    }
    attributes.push(kv("telemetry.sdk.name", string("neatlogs")));
    attributes.push(kv("telemetry.sdk.language", string("rust")));
    attributes.push(kv("telemetry.sdk.version", string(resource.sdk_version)));
    if let Some(op) = &resource.operator {
        attributes.push(kv("user.id", string(op.as_str())));
    }
    if let Some(s) = &resource.session_id {
        attributes.push(kv("session.id", string(s)));
    }
    if !resource.tags.is_empty() {
        attributes.push(kv("neatlogs.tags", string(&resource.tags.join(","))));
    }
    for (k, v) in &resource.attributes {
        attributes.push(kv(k, string(v)));
    }
    let mut spans = Vec::new();
    for r in batch {
        spans.push(model_span(r, resource));
        // The caller's root, not a continuing one, completes a trace.
        if r.is_root() && !r.has_remote_parent() {
            spans.push(model_marker(r, resource));
        }
    }
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(OtlpResource {
                attributes,
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                scope: Some(InstrumentationScope {
                    name: "neatlogs".into(),
                    version: resource.sdk_version.into(),
                    ..Default::default()
                }),
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

// ---------------------------------------------------------------------------
// Comparing.

/// Non-finite doubles become marked strings: NaN is never equal to itself,
/// and `opentelemetry-proto`'s serde reads neither `"NaN"` nor `"Infinity"`.
fn normalize(request: &mut ExportTraceServiceRequest) {
    fn value(v: &mut any_value::Value) {
        match v {
            any_value::Value::DoubleValue(f) if !f.is_finite() => {
                *v = string(&format!("\0{}", non_finite_name(*f)));
            }
            any_value::Value::ArrayValue(a) => a.values.iter_mut().for_each(any_mut),
            any_value::Value::KvlistValue(l) => l.values.iter_mut().for_each(key_value),
            _ => {}
        }
    }
    fn any_mut(a: &mut AnyValue) {
        if let Some(v) = &mut a.value {
            value(v);
        }
    }
    fn key_value(kv: &mut KeyValue) {
        if let Some(a) = &mut kv.value {
            any_mut(a);
        }
    }
    for rs in &mut request.resource_spans {
        for ss in &mut rs.scope_spans {
            for s in &mut ss.spans {
                s.attributes.iter_mut().for_each(key_value);
                for e in &mut s.events {
                    e.attributes.iter_mut().for_each(key_value);
                }
            }
        }
    }
}

fn non_finite_name(f: f64) -> &'static str {
    if f.is_nan() {
        "NaN"
    } else if f > 0.0 {
        "Infinity"
    } else {
        "-Infinity"
    }
}

/// The same marking on the JSON text's values, and checks of the mapping's
/// rules along the way: ids in lowercase hex, 64-bit integers as strings,
/// enums as integers, no field at its default value but the ones decoders
/// require (`key`, `values`) and attribute values.
fn check_and_mark_json(v: &mut Json) {
    const VALUE_KEYS: [&str; 7] = [
        "stringValue",
        "boolValue",
        "intValue",
        "doubleValue",
        "arrayValue",
        "kvlistValue",
        "bytesValue",
    ];
    match v {
        Json::Object(map) => {
            if let Some(Json::String(s)) = map.get("doubleValue") {
                assert!(
                    ["NaN", "Infinity", "-Infinity"].contains(&s.as_str()),
                    "doubleValue {s:?}"
                );
                let marked = Json::String(format!("\0{s}"));
                map.clear();
                map.insert("stringValue".into(), marked);
                return;
            }
            for (key, value) in map.iter_mut() {
                let key = key.as_str();
                if !VALUE_KEYS.contains(&key) && key != "key" && key != "values" {
                    let default = match value {
                        Json::Null => true,
                        Json::String(s) => s.is_empty(),
                        Json::Array(a) => a.is_empty(),
                        Json::Number(n) => n.as_u64() == Some(0) || n.as_i64() == Some(0),
                        _ => false,
                    };
                    assert!(!default, "`{key}` at its default value: {value}");
                }
                match key {
                    "traceId" | "spanId" | "parentSpanId" => {
                        let hex = value.as_str().expect("hex id");
                        assert_eq!(hex.len(), if key == "traceId" { 32 } else { 16 });
                        assert!(hex
                            .bytes()
                            .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase()));
                    }
                    "intValue" | "startTimeUnixNano" | "endTimeUnixNano" | "timeUnixNano" => {
                        let s = value.as_str().expect("a 64-bit integer as a string");
                        assert!(s.parse::<i128>().is_ok(), "{s}");
                    }
                    "kind" | "code" | "flags" => assert!(value.is_u64(), "{key}: {value}"),
                    _ => {}
                }
                check_and_mark_json(value);
            }
        }
        Json::Array(items) => items.iter_mut().for_each(check_and_mark_json),
        _ => {}
    }
}

/// Encode `batch` both ways with `encoder` and check both against the model.
fn check(encoder: &mut OtlpEncoder, resource: &Resource, batch: &[SpanRecord]) {
    let mut expected = model(resource, batch);

    // Protobuf: byte for byte what prost writes for the model's request, and
    // decoded, the same request.
    let bytes = encoder.protobuf(resource, batch).to_vec();
    assert_eq!(
        bytes,
        expected.encode_to_vec(),
        "protobuf differs from prost's encoding of the model"
    );
    let mut decoded = ExportTraceServiceRequest::decode(bytes.as_slice()).expect("valid protobuf");
    normalize(&mut decoded);
    normalize(&mut expected);
    assert_eq!(decoded, expected);

    // JSON.
    let json = encoder.json(resource, batch).to_owned();
    assert!(!json.contains('\n') && !json.contains('\r'), "one line");
    let mut value: Json = serde_json::from_str(&json).expect("valid JSON");
    check_and_mark_json(&mut value);
    let decoded: ExportTraceServiceRequest =
        serde_json::from_value(value).expect("decodable OTLP JSON");
    assert_eq!(decoded, expected);
    if !json.contains(r#""doubleValue":""#) {
        let direct: ExportTraceServiceRequest =
            serde_json::from_str(&json).expect("decodable OTLP JSON");
        assert_eq!(direct, expected);
    }
}

// ---------------------------------------------------------------------------
// Strategies.

fn huge_string() -> impl Strategy<Value = String> {
    (any::<char>(), 100_000..110_000usize).prop_map(|(c, n)| {
        let unit = format!("{c}é\"\\\n\u{1}😀x");
        unit.repeat(n / unit.len() + 1)
    })
}

/// Any character, with the ones JSON escapes or multi-byte UTF-8 often.
fn character() -> impl Strategy<Value = char> {
    prop_oneof![
        3 => any::<char>(),
        2 => (0u8..0x20).prop_map(char::from),
        2 => prop::sample::select(vec!['"', '\\', '/', '\u{7f}', '\u{2028}', 'é', '😀', '\u{feff}']),
        2 => prop::char::range(' ', '~'),
    ]
}

/// Short strings: empty, ASCII, any Unicode (control characters included).
fn short_text() -> impl Strategy<Value = String> {
    prop_oneof![
        1 => Just(String::new()),
        2 => vec(prop::char::range('a', 'z'), 1..8).prop_map(String::from_iter),
        3 => vec(character(), 0..12).prop_map(String::from_iter),
    ]
}

/// [`short_text`], or now and then one of over 100 KB.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![20 => short_text(), 1 => huge_string()]
}

/// Keys: reserved ones, a few common ones (so that keys repeat), empty and
/// random ones.
fn key() -> impl Strategy<Value = Cow<'static, str>> {
    prop_oneof![
        2 => prop::sample::select(RESERVED.to_vec()).prop_map(Cow::Borrowed),
        6 => prop::sample::select(vec!["k", "a", "gen_ai.request.model", "input.value"])
            .prop_map(Cow::Borrowed),
        1 => Just(Cow::Borrowed("")),
        2 => vec(character(), 1..10).prop_map(|c| Cow::Owned(String::from_iter(c))),
    ]
}

fn double() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => any::<f64>(),
        1 => prop::sample::select(vec![
            f64::NAN,
            -f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            0.0,
            -0.0,
            f64::MAX,
            f64::MIN_POSITIVE,
            1e-310,
            0.1,
        ]),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        text().prop_map(|s| Value::Str(s.into())),
        Just(Value::Str(Cow::Borrowed("static"))),
        any::<bool>().prop_map(Value::Bool),
        prop_oneof![
            any::<i64>(),
            Just(0),
            Just(-1),
            Just(i64::MIN),
            Just(i64::MAX)
        ]
        .prop_map(Value::I64),
        double().prop_map(Value::F64),
        vec(any::<u8>(), 0..20).prop_map(Value::Bytes),
    ];
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(Value::Array),
            vec((key(), inner), 0..4).prop_map(Value::Map),
        ]
    })
}

/// Span ids: never zero (the record types rule it out), the extremes often.
fn id64() -> impl Strategy<Value = u64> {
    prop_oneof![Just(1), Just(u64::MAX), 1..=u64::MAX]
}

fn status() -> impl Strategy<Value = Status> {
    prop_oneof![
        Just(Status::Unset),
        Just(Status::Ok),
        text().prop_map(|m| Status::Error(m.into())),
        Just(Status::Error(Cow::Borrowed(""))),
    ]
}

fn span_in() -> impl Strategy<Value = SpanIn> {
    (
        // the root's id, or another (any of them may have a parent)
        prop_oneof![Just(None), id64().prop_map(Some)],
        prop_oneof![Just(None), id64().prop_map(Some)],
        text(),
        prop::sample::select(SpanKind::ALL.to_vec()),
        prop_oneof![Just(0u64), 1..10_000_000_000u64],
        vec((key(), value()), 0..8),
        status(),
        vec(event_in(), 0..3),
    )
        .prop_map(
            |(span_id, parent, name, kind, duration_ns, attributes, status, events)| SpanIn {
                span_id,
                parent,
                name,
                kind,
                duration_ns,
                attributes,
                status,
                events,
            },
        )
}

fn event_in() -> impl Strategy<Value = EventIn> {
    (
        text(),
        prop_oneof![Just(0u64), 1..10_000_000_000u64],
        vec((key(), value()), 0..4),
    )
}

fn end_user_id() -> impl Strategy<Value = String> {
    vec(
        prop::sample::select(vec!['u', '_', '1', 'Z', ' ', 'é', '漢', '😀', '"', '\\']),
        1..16,
    )
    // Ids have no whitespace at either end (they are never trimmed).
    .prop_map(|inner| format!("u{}1", String::from_iter(inner)))
}

fn metadata() -> impl Strategy<Value = Json> {
    // (metadata is capped at 16 KB: a larger object is no end-user's)
    (short_text(), any::<i64>(), any::<bool>())
        .prop_map(|(plan, n, b)| serde_json::json!({ "plan": plan, "n": n, "b": b, "nested": { "x": [1, "two"] } }))
}

fn trace_in() -> impl Strategy<Value = TraceIn> {
    (
        prop_oneof![Just(1u128), Just(u128::MAX), 1..=u128::MAX],
        id64(),
        prop::option::of((end_user_id(), prop::option::of(metadata()))),
        prop::option::of(text()),
        vec(text(), 0..4),
        prop::option::of((id64(), prop::option::of("[a-z0-9=,@_-]{1,40}"))),
        prop::option::of((1..=u128::MAX, id64())),
        vec(span_in(), 0..5),
    )
        .prop_map(
            |(trace_id, root_span_id, end_user, session, tags, remote, link, spans)| TraceIn {
                trace_id,
                root_span_id,
                end_user,
                session,
                tags,
                remote,
                link,
                spans,
            },
        )
}

fn resource() -> impl Strategy<Value = Resource> {
    (
        text(),
        prop::option::of(text()),
        prop::option::of(text()),
        prop::option::of(text()),
        vec(text(), 0..4),
        prop::sample::select(vec!["0.1.0", "", "1.2.3-é"]),
        vec((text(), text()), 0..3),
    )
        .prop_map(
            |(service_name, workflow_name, operator, session_id, tags, sdk_version, attributes)| {
                Resource {
                    service_name,
                    workflow_name,
                    operator: operator.map(|o| OperatorId::new(&o)),
                    session_id,
                    tags,
                    sdk_version,
                    attributes,
                    conventions: Conventions::NEATLOGS,
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn writers_match_the_opentelemetry_proto_oracle(
        resource in resource(),
        traces in vec(trace_in(), 0..4),
    ) {
        let batch = records(&traces);
        check(&mut OtlpEncoder::new(), &resource, &batch);
    }

    /// A reused encoder carries nothing over from an earlier batch (an
    /// attribute, a status, a parent, a longer span list or string).
    #[test]
    fn a_reused_encoder_writes_what_a_fresh_one_does(
        batches in vec((resource(), vec(trace_in(), 0..3)), 1..5),
    ) {
        let mut reused = OtlpEncoder::new();
        for (resource, traces) in &batches {
            let batch = records(traces);
            let fresh_protobuf = OtlpEncoder::new().protobuf(resource, &batch).to_vec();
            let fresh_json = OtlpEncoder::new().json(resource, &batch).to_owned();
            prop_assert_eq!(reused.protobuf(resource, &batch), &fresh_protobuf[..]);
            prop_assert_eq!(reused.json(resource, &batch), fresh_json.as_str());
            check(&mut reused, resource, &batch);
        }
    }
}

// ---------------------------------------------------------------------------
// Fixed cases.

fn fixed_resource() -> Resource {
    Resource {
        service_name: "svc".into(),
        workflow_name: Some("svc".into()),
        operator: Some(OperatorId::new("op")),
        session_id: Some("s_proc".into()),
        tags: vec!["a".into(), "b".into()],
        sdk_version: "0.1.0",
        attributes: vec![("deployment.environment".into(), "test".into())],
        conventions: Conventions::NEATLOGS,
    }
}

/// Spans recorded through the public API, not built field by field.
fn recorded() -> Vec<SpanRecord> {
    let capture = crate::testing::Capture::start();
    {
        let _root = crate::trace("chat")
            .end_user_id("u_1")
            .end_user_metadata(serde_json::json!({"plan": "pro"}))
            .session_id("s_1")
            .tags(["t1"])
            .enter();
        let mut llm = crate::span(SpanKind::Llm, "completion")
            .attribute("enduser.id", "forged")
            .attribute("k", 1)
            .attribute("k", 2)
            .enter();
        llm.set_model("gpt");
        llm.set_provider("openai");
        llm.add_input_message(crate::llm::Message::system("Be brief \"é\"."));
        llm.add_input_message(crate::llm::Message::tool("42", "call_1").with_name("calc"));
        llm.set_invocation_parameters(
            serde_json::json!({"temperature": 0.5, "max_tokens": 64, "stop": ["x"]}),
        );
        llm.set_streaming(true);
        llm.set_input(serde_json::json!({"q": ["a", 1]}));
        llm.record_first_token();
        llm.set_response_model("gpt-2024");
        llm.add_output_message(crate::llm::Message::assistant("ok"));
        llm.add_tool_call(crate::llm::ToolCall::new("call_2", "search", "{}"));
        llm.add_tool_definition(
            crate::llm::ToolDefinition::new("search")
                .description("Find documents")
                .input_schema(serde_json::json!({"type": "object"})),
        );
        llm.set_description("not a tool");
        llm.set_finish_reason("tool_calls");
        llm.set_response_id("resp_1");
        llm.set_usage(crate::llm::Usage::new(3, 4).cache_read(1).reasoning(2));
        llm.record_error(&"boom");
        drop(llm);
        let mut tool = crate::span(SpanKind::Tool, "search").enter();
        tool.set_description("Find documents");
        tool.set_output("3 documents");
    }
    let mut spans = capture.spans();
    // What the export pipeline does before any exporter sees a span.
    let policy = crate::content::Policy::default();
    spans
        .iter_mut()
        .for_each(|s| policy.prepare(s.details.as_deref_mut(), &mut s.attributes));
    spans
}

#[test]
fn recorded_spans_match_the_oracle() {
    check(&mut OtlpEncoder::new(), &fixed_resource(), &recorded());
    check(&mut OtlpEncoder::new(), &fixed_resource(), &[]);
}

#[test]
fn every_value_type_and_edge_case() {
    let huge = "é😀\"\\\u{0}\n".repeat(20_000);
    let nested = Value::Array(vec![
        Value::Map(vec![
            ("".into(), Value::Array(vec![])),
            ("m".into(), Value::Map(vec![])),
            (
                "a".into(),
                Value::Array(vec![Value::Map(vec![("x".into(), Value::I64(-1))])]),
            ),
        ]),
        Value::Bytes(vec![]),
        Value::Bytes(vec![0, 255, 62, 63]),
        Value::F64(f64::NAN),
        Value::F64(f64::NEG_INFINITY),
        Value::F64(-0.0),
        Value::Str("".into()),
        Value::Bool(false),
        Value::I64(0),
    ]);
    let traces = [TraceIn {
        trace_id: 1,
        root_span_id: 1,
        end_user: Some((
            "u_é 漢".into(),
            Some(serde_json::json!({"q": "\"\u{1}\u{2028}"})),
        )),
        session: Some(String::new()),
        tags: vec![String::new(), "t,1".into(), huge.clone()],
        remote: None,
        link: None,
        spans: vec![
            SpanIn {
                span_id: Some(u64::MAX),
                parent: Some(1),
                name: String::new(),
                kind: SpanKind::Tool,
                duration_ns: 0,
                attributes: vec![
                    ("nested".into(), nested.clone()),
                    ("neatlogs.session.id".into(), Value::Str("forged".into())),
                    ("".into(), Value::Str(huge.clone().into())),
                    ("nested".into(), Value::from(vec!["x".to_owned()])),
                    ("".into(), Value::Bool(true)),
                ],
                status: Status::Error("".into()),
                events: vec![
                    (String::new(), 0, vec![]),
                    (
                        huge.clone(),
                        5,
                        vec![
                            ("level".into(), Value::Str("ERROR".into())),
                            ("".into(), nested.clone()),
                            ("n".into(), Value::F64(f64::NAN)),
                        ],
                    ),
                ],
            },
            SpanIn {
                span_id: None,
                parent: None,
                name: huge.clone(),
                kind: SpanKind::Workflow,
                duration_ns: 1,
                attributes: vec![("k".into(), nested)],
                status: Status::Ok,
                events: vec![],
            },
        ],
    }];
    let batch = records(&traces);
    assert!(batch[1].is_root() && !batch[0].is_root());
    let mut resource = fixed_resource();
    resource.tags = vec![String::new(), huge];
    check(&mut OtlpEncoder::new(), &resource, &batch);
}

/// A bare WORKFLOW span of a fixed case.
fn workflow_span(span_id: Option<u64>, parent: Option<u64>, status: Status) -> SpanIn {
    SpanIn {
        span_id,
        parent,
        name: "s".into(),
        kind: SpanKind::Workflow,
        duration_ns: 10,
        attributes: vec![],
        status,
        events: vec![],
    }
}

/// A root that continues a caller's trace: its parent is the caller's span,
/// flagged remote; every span carries the caller's `tracestate`; no
/// completion marker (the caller's root completes the trace).
#[test]
fn a_continued_trace_has_a_remote_parent_and_its_tracestate() {
    let span = |id, parent| workflow_span(id, parent, Status::Unset);
    let traces = [TraceIn {
        trace_id: 0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736,
        root_span_id: 7,
        end_user: Some(("u_1".into(), None)),
        session: None,
        tags: vec![],
        remote: Some((0x00f0_67aa_0ba9_02b7, Some("vendor=a1,other=b2".into()))),
        link: None,
        spans: vec![span(Some(8), Some(7)), span(None, None)],
    }];
    let batch = records(&traces);
    let root = &batch[1];
    assert!(root.is_root() && root.has_remote_parent() && !batch[0].has_remote_parent());
    check(&mut OtlpEncoder::new(), &fixed_resource(), &batch);

    let mut encoder = OtlpEncoder::new();
    let request = ExportTraceServiceRequest::decode(encoder.protobuf(&fixed_resource(), &batch))
        .expect("decodes");
    let spans = &request.resource_spans[0].scope_spans[0].spans;
    assert_eq!(spans.len(), 2, "no completion marker for a continued root");
    assert_eq!(
        spans[1].parent_span_id,
        0x00f0_67aa_0ba9_02b7u64.to_be_bytes()
    );
    assert_eq!(spans[1].flags, 0x301);
    assert_eq!(spans[0].flags, 0x101);
    assert!(spans.iter().all(|s| s.trace_state == "vendor=a1,other=b2"));
    let json: Json = serde_json::from_str(encoder.json(&fixed_resource(), &batch)).unwrap();
    let spans = &json["resourceSpans"][0]["scopeSpans"][0]["spans"];
    assert_eq!(spans[1]["flags"], 0x301);
    assert_eq!(spans[1]["parentSpanId"], "00f067aa0ba902b7");
    assert_eq!(spans[0]["traceState"], "vendor=a1,other=b2");
}

/// A root started from another trace without continuing it (a job spawned
/// from a request, an untrusted caller): one span link on the root, none on
/// its children or its completion marker; both encoders.
#[test]
fn a_linked_root_carries_one_span_link() {
    let span = |id, parent| workflow_span(id, parent, Status::Error("failed".into()));
    let traces = [TraceIn {
        trace_id: 0x0af7_6519_16cd_43dd_8448_eb21_1c80_319c,
        root_span_id: 7,
        end_user: Some(("u_job".into(), None)),
        session: None,
        tags: vec![],
        remote: None,
        link: Some((
            0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736,
            0x00f0_67aa_0ba9_02b7,
        )),
        spans: vec![span(Some(8), Some(7)), span(None, None)],
    }];
    let batch = records(&traces);
    check(&mut OtlpEncoder::new(), &fixed_resource(), &batch);

    let mut encoder = OtlpEncoder::new();
    let request = ExportTraceServiceRequest::decode(encoder.protobuf(&fixed_resource(), &batch))
        .expect("decodes");
    let spans = &request.resource_spans[0].scope_spans[0].spans;
    assert_eq!(spans.len(), 3, "child, root, completion marker");
    assert!(spans[0].links.is_empty() && spans[2].links.is_empty());
    assert_eq!(spans[1].links.len(), 1);
    assert_eq!(
        spans[1].links[0].trace_id,
        0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736u128.to_be_bytes()
    );
    assert_eq!(
        spans[1].links[0].span_id,
        0x00f0_67aa_0ba9_02b7u64.to_be_bytes()
    );
    assert!(spans[1].parent_span_id.is_empty(), "a link, not a parent");
    let json: Json = serde_json::from_str(encoder.json(&fixed_resource(), &batch)).unwrap();
    let spans = &json["resourceSpans"][0]["scopeSpans"][0]["spans"];
    assert_eq!(
        spans[1]["links"],
        serde_json::json!([{ "traceId": "4bf92f3577b34da6a3ce929d0e0e4736", "spanId": "00f067aa0ba902b7" }])
    );
    assert!(spans[0].get("links").is_none());
}

#[test]
fn json_mapping_of_recorded_spans() {
    let spans = recorded();
    let mut encoder = OtlpEncoder::new();
    let json: Json = serde_json::from_str(encoder.json(&fixed_resource(), &spans)).unwrap();
    let attrs = |span: &Json| -> Vec<(String, Json)> {
        span["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|kv| (kv["key"].as_str().unwrap().to_owned(), kv["value"].clone()))
            .collect()
    };
    let rs = &json["resourceSpans"][0];
    let res = attrs(&rs["resource"]);
    assert!(res.contains(&("user.id".into(), serde_json::json!({"stringValue": "op"}))));
    assert!(res.contains(&(
        "neatlogs.tags".into(),
        serde_json::json!({"stringValue": "a,b"})
    )));
    assert_eq!(
        rs["scopeSpans"][0]["scope"],
        serde_json::json!({"name": "neatlogs", "version": "0.1.0"})
    );
    let out = rs["scopeSpans"][0]["spans"].as_array().unwrap();
    assert_eq!(out.len(), 4, "llm, tool, root, marker");
    let (llm, root, marker) = (&out[0], &out[2], &out[3]);
    let tool = attrs(&out[1]);
    assert!(tool.contains(&(
        "tool.name".into(),
        serde_json::json!({"stringValue": "search"})
    )));
    assert!(tool.contains(&(
        "neatlogs.tool.description".into(),
        serde_json::json!({"stringValue": "Find documents"})
    )));
    assert_eq!(root["traceId"].as_str().unwrap().len(), 32);
    assert_eq!(root["spanId"].as_str().unwrap().len(), 16);
    assert!(root.get("parentSpanId").is_none());
    assert!(root.get("status").is_none());
    assert!(root["startTimeUnixNano"].is_string());
    assert_eq!(root["kind"], 1);
    assert_eq!(root["flags"], 257);
    assert_eq!(
        llm["status"],
        serde_json::json!({"code": 2, "message": "boom"})
    );
    let llm_attrs = attrs(llm);
    assert!(llm_attrs.contains(&(
        "neatlogs.llm.token_count.prompt".into(),
        serde_json::json!({"intValue": "3"})
    )));
    assert!(llm_attrs.contains(&(
        "neatlogs.llm.input_messages.1.tool_call_id".into(),
        serde_json::json!({"stringValue": "call_1"})
    )));
    // JSON text, compared as JSON: its key order is serde_json's (sorted,
    // or insertion order where a build turns on `preserve_order`).
    let params = llm_attrs
        .iter()
        .find(|(k, _)| k == "neatlogs.llm.invocation_parameters")
        .and_then(|(_, v)| v["stringValue"].as_str())
        .expect("the invocation parameters");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(params).unwrap(),
        serde_json::json!({"max_tokens": 64, "stop": ["x"], "temperature": 0.5})
    );
    assert!(llm_attrs.contains(&(
        "neatlogs.llm.temperature".into(),
        serde_json::json!({"doubleValue": 0.5})
    )));
    assert!(llm_attrs.contains(&(
        "neatlogs.llm.max_tokens".into(),
        serde_json::json!({"intValue": "64"})
    )));
    assert!(llm_attrs.contains(&(
        "input.value".into(),
        serde_json::json!({"stringValue": "{\"q\":[\"a\",1]}"})
    )));
    assert!(llm_attrs.contains(&(
        "neatlogs.llm.input_mime_type".into(),
        serde_json::json!({"stringValue": "application/json"})
    )));
    assert!(llm_attrs.iter().all(|(k, _)| k != "enduser.id"));
    let k: Vec<_> = llm_attrs.iter().filter(|(k, _)| k == "k").collect();
    assert_eq!(k, [&("k".to_owned(), serde_json::json!({"intValue": "2"}))]);
    let root_attrs = attrs(root);
    assert_eq!(
        root_attrs[..3],
        [
            (
                "openinference.span.kind".to_owned(),
                serde_json::json!({"stringValue": "WORKFLOW"})
            ),
            (
                "neatlogs.span.kind".to_owned(),
                serde_json::json!({"stringValue": "workflow"})
            ),
            (
                "neatlogs.internal".to_owned(),
                serde_json::json!({"boolValue": true})
            ),
        ]
    );
    assert!(root_attrs.contains(&(
        "tag.tags".into(),
        serde_json::json!({"arrayValue": {"values": [{"stringValue": "t1"}]}})
    )));
    assert!(root_attrs.contains(&(
        "neatlogs.end_user.metadata".into(),
        serde_json::json!({"stringValue": r#"{"plan":"pro"}"#})
    )));
    assert_eq!(marker["name"], "neatlogs.trace.complete");
    assert_eq!(marker["parentSpanId"], root["spanId"]);
    assert_eq!(marker["traceId"], root["traceId"]);
    assert_eq!(marker["startTimeUnixNano"], root["endTimeUnixNano"]);
}

#[test]
fn json_line_is_the_json_and_a_newline() {
    let spans = recorded();
    let mut encoder = OtlpEncoder::new();
    let json = encoder.json(&fixed_resource(), &spans).to_owned();
    let line = encoder.json_line(&fixed_resource(), &spans).to_vec();
    assert_eq!(line, format!("{json}\n").into_bytes());
    // and the line's newline does not leak into the next `json`
    assert_eq!(encoder.json(&fixed_resource(), &spans), json);
}
