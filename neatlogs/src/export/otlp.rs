//! Finished spans as an OTLP `ExportTraceServiceRequest`, with the attributes
//! of the wire contract (see `DESIGN.md`), in protobuf or in the OTLP JSON
//! mapping.
//!
//! The message types are the maintained ones from `opentelemetry-proto`
//! (prost); nothing here writes protobuf by hand.

use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{
    any_value, AnyValue, ArrayValue, InstrumentationScope, KeyValue,
};
use opentelemetry_proto::tonic::resource::v1::Resource as OtlpResource;
use opentelemetry_proto::tonic::trace::v1::{
    span::SpanKind as OtlpSpanKind, status::StatusCode, ResourceSpans, ScopeSpans, Span, Status,
};
use prost::Message as _;

use super::Resource;
use crate::id::SpanId;
use crate::record::{self, SpanRecord, Value};

/// Attribute keys of the wire contract.
pub mod attr {
    /// Resource: the workflow name, else `neatlogs-app`.
    pub const SERVICE_NAME: &str = "service.name";
    /// Resource: the workflow name.
    pub const WORKFLOW_NAME: &str = "neatlogs.workflow_name";
    /// Resource: `neatlogs`.
    pub const SDK_NAME: &str = "telemetry.sdk.name";
    /// Resource: `rust`.
    pub const SDK_LANGUAGE: &str = "telemetry.sdk.language";
    /// Resource: the crate version.
    pub const SDK_VERSION: &str = "telemetry.sdk.version";
    /// Resource: the **operator** (`Config::user_id`), never the end-user.
    pub const OPERATOR: &str = "user.id";
    /// Resource: the process-wide session.
    pub const RESOURCE_SESSION: &str = "session.id";
    /// Resource: `Config::tags`, comma-joined.
    pub const RESOURCE_TAGS: &str = "neatlogs.tags";
    /// Every span: the kind, upper case.
    pub const OPENINFERENCE_KIND: &str = "openinference.span.kind";
    /// Every span: the kind, lower case (`Neatlogs.INTERNAL` on the marker).
    pub const NEATLOGS_KIND: &str = "neatlogs.span.kind";
    /// Every span: `true`.
    pub const INTERNAL: &str = "neatlogs.internal";
    /// Root only: the resolved end-user id.
    pub const END_USER_ID: &str = "neatlogs.end_user.id";
    /// Root only: the same id, as the OpenTelemetry semantic convention names it.
    pub const ENDUSER_ID: &str = "enduser.id";
    /// Root only: the end-user's metadata, a JSON object as a string.
    pub const END_USER_METADATA: &str = "neatlogs.end_user.metadata";
    /// Root only: the resolved session.
    pub const SESSION: &str = "neatlogs.session.id";
    /// Root only: the trace's tags, a list of strings.
    pub const TAGS: &str = "tag.tags";
    /// The completion marker: `true`.
    pub const TRACE_COMPLETE: &str = "neatlogs.trace.complete";
}

/// The name of the span emitted after each root ends.
pub const TRACE_COMPLETE_SPAN_NAME: &str = "neatlogs.trace.complete";
/// `neatlogs.span.kind` of the completion marker.
pub const TRACE_COMPLETE_KIND: &str = "Neatlogs.INTERNAL";

/// Keys the SDK owns: an application attribute with one of these names is
/// dropped, so a nested span can never carry identity and the kind cannot be
/// forged.
const RESERVED_SPAN_KEYS: [&str; 9] = [
    attr::OPENINFERENCE_KIND,
    attr::NEATLOGS_KIND,
    attr::INTERNAL,
    attr::END_USER_ID,
    attr::ENDUSER_ID,
    attr::END_USER_METADATA,
    attr::SESSION,
    attr::TAGS,
    attr::TRACE_COMPLETE,
];

/// `SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK` with `IS_REMOTE` clear (parents are
/// local) plus the sampled trace flag.
const SPAN_FLAGS: u32 = 0x100 | 0x01;

/// How OTLP payloads are encoded on the wire.
///
/// ```
/// use neatlogs::Protocol;
/// assert_eq!("http/json".parse::<Protocol>().unwrap(), Protocol::HttpJson);
/// assert_eq!(Protocol::default(), Protocol::HttpProtobuf);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Protocol {
    /// `application/x-protobuf` (the default; `NEATLOGS_PROTOCOL=http/protobuf`).
    #[default]
    HttpProtobuf,
    /// `application/json`, the OTLP JSON mapping (`NEATLOGS_PROTOCOL=http/json`).
    HttpJson,
}

impl Protocol {
    /// The name used by `NEATLOGS_PROTOCOL` (and `OTEL_EXPORTER_OTLP_PROTOCOL`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Protocol::HttpProtobuf => "http/protobuf",
            Protocol::HttpJson => "http/json",
        }
    }

    /// The request's `Content-Type`.
    pub const fn content_type(self) -> &'static str {
        match self {
            Protocol::HttpProtobuf => "application/x-protobuf",
            Protocol::HttpJson => "application/json",
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error for a protocol name other than `http/protobuf` or `http/json`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown OTLP protocol `{0}`; expected `http/protobuf` or `http/json` (gRPC is not supported)"
)]
pub struct ParseProtocolError(pub String);

impl FromStr for Protocol {
    type Err = ParseProtocolError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "http/protobuf" | "protobuf" => Ok(Protocol::HttpProtobuf),
            "http/json" | "json" => Ok(Protocol::HttpJson),
            _ => Err(ParseProtocolError(s.to_owned())),
        }
    }
}

fn str_value(v: impl Into<String>) -> AnyValue {
    AnyValue {
        value: Some(any_value::Value::StringValue(v.into())),
    }
}

fn string(v: impl Into<String>) -> Option<AnyValue> {
    Some(str_value(v))
}

fn kv(key: &str, value: Option<AnyValue>) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value,
        ..Default::default()
    }
}

fn any(value: &Value) -> Option<AnyValue> {
    let v = match value {
        Value::Str(s) => any_value::Value::StringValue(s.to_string()),
        Value::Bool(b) => any_value::Value::BoolValue(*b),
        Value::I64(i) => any_value::Value::IntValue(*i),
        Value::F64(f) => any_value::Value::DoubleValue(*f),
        Value::StrList(list) => return str_list(list),
    };
    Some(AnyValue { value: Some(v) })
}

fn str_list(list: &[String]) -> Option<AnyValue> {
    Some(AnyValue {
        value: Some(any_value::Value::ArrayValue(ArrayValue {
            values: list.iter().map(|s| str_value(s.as_str())).collect(),
        })),
    })
}

fn bool_value(b: bool) -> Option<AnyValue> {
    Some(AnyValue {
        value: Some(any_value::Value::BoolValue(b)),
    })
}

fn resource_attributes(resource: &Resource) -> Vec<KeyValue> {
    let mut out = vec![kv(attr::SERVICE_NAME, string(&resource.service_name))];
    if let Some(w) = &resource.workflow_name {
        out.push(kv(attr::WORKFLOW_NAME, string(w)));
    }
    out.push(kv(attr::SDK_NAME, string("neatlogs")));
    out.push(kv(attr::SDK_LANGUAGE, string("rust")));
    out.push(kv(attr::SDK_VERSION, string(resource.sdk_version)));
    if let Some(op) = &resource.operator {
        out.push(kv(attr::OPERATOR, string(op.as_str())));
    }
    if let Some(s) = &resource.session_id {
        out.push(kv(attr::RESOURCE_SESSION, string(s)));
    }
    if !resource.tags.is_empty() {
        out.push(kv(attr::RESOURCE_TAGS, string(resource.tags.join(","))));
    }
    out
}

/// The marker's span id, derived from the root's so that encoding the same
/// root twice (a split batch, a retry) yields the same marker.
fn marker_span_id(root: SpanId) -> Vec<u8> {
    let mut z = root.0 ^ 0x6e65_6174_6c6f_6773; // "neatlogs"
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    if z == 0 || z == root.0 {
        z = root.0.rotate_left(32) ^ 1;
    }
    z.to_be_bytes().to_vec()
}

fn span(record: &SpanRecord) -> Span {
    let kind = record.kind();
    let mut attributes = vec![
        kv(attr::OPENINFERENCE_KIND, string(kind.as_str())),
        kv(attr::NEATLOGS_KIND, string(kind.as_lower_str())),
        kv(attr::INTERNAL, bool_value(true)),
    ];
    if record.is_root() {
        if let Some(user) = record.end_user() {
            attributes.push(kv(attr::END_USER_ID, string(user.id().as_str())));
            attributes.push(kv(attr::ENDUSER_ID, string(user.id().as_str())));
            if let Some(json) = user.metadata_json() {
                attributes.push(kv(attr::END_USER_METADATA, string(json)));
            }
        }
        if let Some(s) = record.session_id() {
            attributes.push(kv(attr::SESSION, string(s)));
        }
        if !record.tags().is_empty() {
            attributes.push(kv(attr::TAGS, str_list(record.tags())));
        }
    }
    // OTLP keys are unique: the last value set wins, at the place the key
    // first appeared.
    let user_attrs = record.attributes();
    let mut seen: HashSet<&str> = HashSet::with_capacity(user_attrs.len());
    for (i, (key, value)) in user_attrs.iter().enumerate() {
        let key: &str = key;
        if RESERVED_SPAN_KEYS.contains(&key) {
            log::debug!(
                "neatlogs: attribute `{key}` on span `{}` is owned by the SDK and was dropped",
                record.name()
            );
            continue;
        }
        if !seen.insert(key) {
            continue;
        }
        let last = user_attrs[i..]
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map_or(value, |(_, v)| v);
        attributes.push(kv(key, any(last)));
    }
    let status = match record.status() {
        record::Status::Unset => None,
        record::Status::Ok => Some(Status {
            code: StatusCode::Ok as i32,
            message: String::new(),
        }),
        record::Status::Error(message) => Some(Status {
            code: StatusCode::Error as i32,
            message: message.clone(),
        }),
    };
    Span {
        trace_id: record.trace_id().to_bytes().to_vec(),
        span_id: record.span_id().to_bytes().to_vec(),
        parent_span_id: record
            .parent_span_id()
            .map(|p| p.to_bytes().to_vec())
            .unwrap_or_default(),
        flags: SPAN_FLAGS,
        name: record.name().to_owned(),
        kind: OtlpSpanKind::Internal as i32,
        start_time_unix_nano: record.start_unix_nanos(),
        end_time_unix_nano: record.end_unix_nanos(),
        attributes,
        status,
        ..Default::default()
    }
}

/// The completion marker for a root that just ended.
fn trace_complete(root: &SpanRecord) -> Span {
    Span {
        trace_id: root.trace_id().to_bytes().to_vec(),
        span_id: marker_span_id(root.span_id()),
        parent_span_id: root.span_id().to_bytes().to_vec(),
        flags: SPAN_FLAGS,
        name: TRACE_COMPLETE_SPAN_NAME.to_owned(),
        kind: OtlpSpanKind::Internal as i32,
        start_time_unix_nano: root.end_unix_nanos(),
        end_time_unix_nano: root.end_unix_nanos(),
        attributes: vec![
            kv(attr::TRACE_COMPLETE, bool_value(true)),
            kv(attr::NEATLOGS_KIND, string(TRACE_COMPLETE_KIND)),
            kv(attr::INTERNAL, bool_value(true)),
        ],
        ..Default::default()
    }
}

/// Encode a batch as one `ExportTraceServiceRequest`: one resource, one
/// instrumentation scope (`neatlogs`), and the spans in batch order, each
/// root followed by its `neatlogs.trace.complete` marker.
pub(crate) fn encode(resource: &Resource, batch: &[SpanRecord]) -> ExportTraceServiceRequest {
    let roots = batch.iter().filter(|s| s.is_root()).count();
    let mut spans = Vec::with_capacity(batch.len() + roots);
    for record in batch {
        spans.push(span(record));
        if record.is_root() {
            spans.push(trace_complete(record));
        }
    }
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(OtlpResource {
                attributes: resource_attributes(resource),
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                scope: Some(InstrumentationScope {
                    name: "neatlogs".to_owned(),
                    version: resource.sdk_version.to_owned(),
                    ..Default::default()
                }),
                spans,
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    }
}

/// The protobuf encoding of a request.
#[cfg_attr(not(feature = "otlp-http"), allow(dead_code))]
pub(crate) fn to_protobuf(request: &ExportTraceServiceRequest) -> Vec<u8> {
    request.encode_to_vec()
}

/// The OTLP JSON encoding of a request, on one line: hex trace and span ids,
/// camelCase field names, 64-bit integers as strings, enums as integers, and
/// fields at their default value left out (as the OTLP JSON mapping allows),
/// so that decoders built from older `.proto` files accept it too.
pub(crate) fn to_json(request: &ExportTraceServiceRequest) -> String {
    match serde_json::to_value(request) {
        Ok(mut value) => {
            strip_defaults(&mut value);
            value.to_string()
        }
        // The generated serializers cannot fail on these types; an empty
        // request keeps the line well-formed if they ever do.
        Err(e) => {
            log::warn!("neatlogs: OTLP JSON encoding failed: {e}");
            "{}".to_owned()
        }
    }
}

/// `AnyValue` variants: their values are data, never defaults to drop
/// (`{"boolValue": false}` and `{"stringValue": ""}` are real values).
const VALUE_KEYS: [&str; 7] = [
    "stringValue",
    "boolValue",
    "intValue",
    "doubleValue",
    "arrayValue",
    "kvlistValue",
    "bytesValue",
];

fn strip_defaults(value: &mut serde_json::Value) {
    use serde_json::Value as J;
    match value {
        J::Object(map) => {
            map.retain(|key, v| {
                VALUE_KEYS.contains(&key.as_str())
                    || !match v {
                        J::Null => true,
                        J::String(s) => s.is_empty(),
                        J::Array(a) => a.is_empty(),
                        J::Number(n) => n.as_u64() == Some(0) || n.as_i64() == Some(0),
                        _ => false,
                    }
            });
            for v in map.values_mut() {
                strip_defaults(v);
            }
        }
        J::Array(items) => items.iter_mut().for_each(strip_defaults),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_names() {
        assert_eq!(
            "http/protobuf".parse::<Protocol>().unwrap(),
            Protocol::HttpProtobuf
        );
        assert_eq!(
            " HTTP/JSON ".parse::<Protocol>().unwrap(),
            Protocol::HttpJson
        );
        assert!("grpc".parse::<Protocol>().is_err());
        assert_eq!(Protocol::HttpJson.to_string(), "http/json");
    }

    #[test]
    fn marker_id_is_stable_and_distinct() {
        let a = marker_span_id(SpanId(42));
        assert_eq!(a, marker_span_id(SpanId(42)));
        assert_ne!(a, SpanId(42).to_bytes().to_vec());
        assert_ne!(a, vec![0; 8]);
    }

    #[test]
    fn json_keeps_false_and_empty_values() {
        let mut v = serde_json::json!({
            "a": "", "b": [], "c": 0, "d": null,
            "attributes": [{"key": "k", "value": {"boolValue": false}},
                           {"key": "e", "value": {"stringValue": ""}},
                           {"key": "i", "value": {"intValue": "0"}}]
        });
        strip_defaults(&mut v);
        assert_eq!(
            v,
            serde_json::json!({"attributes": [
                {"key": "k", "value": {"boolValue": false}},
                {"key": "e", "value": {"stringValue": ""}},
                {"key": "i", "value": {"intValue": "0"}}
            ]})
        );
    }
}

#[cfg(test)]
mod json_tests {
    use super::*;
    use crate::testing::Capture;

    fn resource() -> Resource {
        Resource {
            service_name: "svc".into(),
            workflow_name: Some("svc".into()),
            operator: Some(crate::identity::OperatorId::new("op")),
            session_id: Some("s_proc".into()),
            tags: vec!["a".into(), "b".into()],
            sdk_version: "0.1.0",
        }
    }

    fn sample() -> Vec<SpanRecord> {
        let capture = Capture::start();
        {
            let _root = crate::trace("chat")
                .end_user_id("u_1")
                .end_user_metadata(serde_json::json!({"plan": "pro"}))
                .session_id("s_1")
                .tags(["t1"])
                .enter();
            let llm = crate::span(crate::SpanKind::Llm, "completion")
                .model("gpt")
                .attribute("enduser.id", "forged")
                .attribute("k", 1)
                .attribute("k", 2)
                .enter();
            llm.set_usage(3, 4);
            llm.record_error(&"boom");
        }
        capture.spans()
    }

    fn attrs(span: &serde_json::Value) -> Vec<(String, serde_json::Value)> {
        span["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|kv| (kv["key"].as_str().unwrap().to_owned(), kv["value"].clone()))
            .collect()
    }

    #[test]
    fn json_mapping() {
        let spans = sample();
        let req = encode(&resource(), &spans);
        let json: serde_json::Value = serde_json::from_str(&to_json(&req)).unwrap();
        let rs = &json["resourceSpans"][0];
        let res = attrs(&rs["resource"]);
        assert!(res.contains(&("user.id".into(), serde_json::json!({"stringValue": "op"}))));
        assert!(res.contains(&(
            "neatlogs.tags".into(),
            serde_json::json!({"stringValue": "a,b"})
        )));
        let out = rs["scopeSpans"][0]["spans"].as_array().unwrap();
        assert_eq!(out.len(), 3, "child, root, marker");
        let (llm, root, marker) = (&out[0], &out[1], &out[2]);
        // hex ids, 64-bit integers as strings, enums as integers
        assert_eq!(root["traceId"].as_str().unwrap().len(), 32);
        assert_eq!(root["spanId"].as_str().unwrap().len(), 16);
        assert!(root.get("parentSpanId").is_none());
        assert!(root["startTimeUnixNano"].is_string());
        assert_eq!(root["kind"], 1);
        assert_eq!(
            llm["status"],
            serde_json::json!({"code": 2, "message": "boom"})
        );
        let llm_attrs = attrs(llm);
        assert!(llm_attrs.contains(&(
            "gen_ai.usage.input_tokens".into(),
            serde_json::json!({"intValue": "3"})
        )));
        assert!(
            llm_attrs.iter().all(|(k, _)| k != "enduser.id"),
            "reserved key dropped on a child"
        );
        let k: Vec<_> = llm_attrs.iter().filter(|(k, _)| k == "k").collect();
        assert_eq!(
            k,
            [&("k".to_owned(), serde_json::json!({"intValue": "2"}))],
            "last value wins, once"
        );
        let root_attrs = attrs(root);
        assert!(root_attrs.contains(&(
            "neatlogs.session.id".into(),
            serde_json::json!({"stringValue": "s_1"})
        )));
        assert!(root_attrs.contains(&(
            "tag.tags".into(),
            serde_json::json!({"arrayValue": {"values": [{"stringValue": "t1"}]}})
        )));
        assert_eq!(marker["name"], TRACE_COMPLETE_SPAN_NAME);
        assert_eq!(marker["parentSpanId"], root["spanId"]);
        assert_eq!(marker["traceId"], root["traceId"]);
        assert!(attrs(marker).contains(&(
            "neatlogs.span.kind".into(),
            serde_json::json!({"stringValue": "Neatlogs.INTERNAL"})
        )));
    }

    #[test]
    fn protobuf_round_trip() {
        let spans = sample();
        let req = encode(&resource(), &spans);
        let back = ExportTraceServiceRequest::decode(to_protobuf(&req).as_slice()).unwrap();
        assert_eq!(back, req);
        let json_back: ExportTraceServiceRequest = serde_json::from_str(&to_json(&req)).unwrap();
        assert_eq!(json_back, req);
    }
}
