//! Finished spans as an OTLP `ExportTraceServiceRequest`, with the attributes
//! of the wire contract (see `DESIGN.md`), in protobuf or in the OTLP JSON
//! mapping.
//!
//! The message types are the maintained ones from `opentelemetry-proto`
//! (prost); nothing here writes protobuf by hand.

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
/// use neatlogs::export::Protocol;
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

/// Writes attributes into a reused `Vec<KeyValue>`: entries, their keys and
/// their string values keep their allocations from one batch to the next.
struct Attrs<'a> {
    list: &'a mut Vec<KeyValue>,
    len: usize,
}

impl<'a> Attrs<'a> {
    fn new(list: &'a mut Vec<KeyValue>) -> Self {
        Attrs { list, len: 0 }
    }

    fn next(&mut self, key: &str) -> &mut Option<any_value::Value> {
        if self.list.len() == self.len {
            self.list.push(KeyValue::default());
        }
        let kv = &mut self.list[self.len];
        self.len += 1;
        kv.key.clear();
        kv.key.push_str(key);
        &mut kv.value.get_or_insert_with(AnyValue::default).value
    }

    fn str(&mut self, key: &str, value: &str) {
        set_str(self.next(key), value);
    }

    fn bool(&mut self, key: &str, value: bool) {
        *self.next(key) = Some(any_value::Value::BoolValue(value));
    }

    fn list(&mut self, key: &str, values: &[String]) {
        let slot = self.next(key);
        if !matches!(slot, Some(any_value::Value::ArrayValue(_))) {
            *slot = Some(any_value::Value::ArrayValue(ArrayValue::default()));
        }
        if let Some(any_value::Value::ArrayValue(array)) = slot {
            array.values.truncate(values.len());
            for (i, v) in values.iter().enumerate() {
                if array.values.len() == i {
                    array.values.push(AnyValue::default());
                }
                set_str(&mut array.values[i].value, v);
            }
        }
    }

    fn value(&mut self, key: &str, value: &Value) {
        match value {
            Value::Str(v) => self.str(key, v),
            Value::Bool(v) => self.bool(key, *v),
            Value::I64(v) => *self.next(key) = Some(any_value::Value::IntValue(*v)),
            Value::F64(v) => *self.next(key) = Some(any_value::Value::DoubleValue(*v)),
            other => *self.next(key) = Some(any(other)),
        }
    }
}

impl Drop for Attrs<'_> {
    fn drop(&mut self) {
        self.list.truncate(self.len);
    }
}

fn any(value: &Value) -> any_value::Value {
    use opentelemetry_proto::tonic::common::v1::KeyValueList;
    match value {
        Value::Str(v) => any_value::Value::StringValue(v.to_string()),
        Value::Bool(v) => any_value::Value::BoolValue(*v),
        Value::I64(v) => any_value::Value::IntValue(*v),
        Value::F64(v) => any_value::Value::DoubleValue(*v),
        Value::Bytes(v) => any_value::Value::BytesValue(v.clone()),
        Value::Array(v) => any_value::Value::ArrayValue(ArrayValue {
            values: v
                .iter()
                .map(|v| AnyValue {
                    value: Some(any(v)),
                })
                .collect(),
        }),
        Value::Map(v) => any_value::Value::KvlistValue(KeyValueList {
            values: v
                .iter()
                .map(|(k, v)| KeyValue {
                    key: k.to_string(),
                    value: Some(AnyValue {
                        value: Some(any(v)),
                    }),
                    ..Default::default()
                })
                .collect(),
        }),
    }
}

fn set_str(slot: &mut Option<any_value::Value>, value: &str) {
    match slot {
        Some(any_value::Value::StringValue(s)) => {
            s.clear();
            s.push_str(value);
        }
        other => *other = Some(any_value::Value::StringValue(value.to_owned())),
    }
}

fn set_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    out.clear();
    out.extend_from_slice(bytes);
}

fn set_string(out: &mut String, value: &str) {
    out.clear();
    out.push_str(value);
}

fn fill_resource(out: &mut OtlpResource, resource: &Resource) {
    let mut a = Attrs::new(&mut out.attributes);
    a.str(attr::SERVICE_NAME, &resource.service_name);
    if let Some(w) = &resource.workflow_name {
        a.str(attr::WORKFLOW_NAME, w);
    }
    a.str(attr::SDK_NAME, "neatlogs");
    a.str(attr::SDK_LANGUAGE, "rust");
    a.str(attr::SDK_VERSION, resource.sdk_version);
    if let Some(op) = &resource.operator {
        a.str(attr::OPERATOR, op.as_str());
    }
    if let Some(s) = &resource.session_id {
        a.str(attr::RESOURCE_SESSION, s);
    }
    if !resource.tags.is_empty() {
        a.str(attr::RESOURCE_TAGS, &resource.tags.join(","));
    }
}

/// The marker's span id, derived from the root's so that encoding the same
/// root twice (a split batch, a retry) yields the same marker.
fn marker_span_id(root: SpanId) -> [u8; 8] {
    let mut z = root.to_u64() ^ 0x6e65_6174_6c6f_6773; // "neatlogs"
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    if z == 0 || z == root.to_u64() {
        z = root.to_u64().rotate_left(32) ^ 1;
    }
    z.to_be_bytes()
}

fn fill_span(out: &mut Span, record: &SpanRecord) {
    set_bytes(&mut out.trace_id, &record.trace_id().to_bytes());
    set_bytes(&mut out.span_id, &record.span_id().to_bytes());
    match record.parent_span_id() {
        Some(p) => set_bytes(&mut out.parent_span_id, &p.to_bytes()),
        None => out.parent_span_id.clear(),
    }
    out.flags = SPAN_FLAGS;
    set_string(&mut out.name, record.name());
    out.kind = OtlpSpanKind::Internal as i32;
    out.start_time_unix_nano = record.start_unix_nanos();
    out.end_time_unix_nano = record.end_unix_nanos();

    let kind = record.kind();
    let mut a = Attrs::new(&mut out.attributes);
    a.str(attr::OPENINFERENCE_KIND, kind.as_str());
    a.str(attr::NEATLOGS_KIND, kind.as_lower_str());
    a.bool(attr::INTERNAL, true);
    if record.is_root() {
        if let Some(user) = record.end_user() {
            a.str(attr::END_USER_ID, user.id().as_str());
            a.str(attr::ENDUSER_ID, user.id().as_str());
            if let Some(json) = user.metadata_json() {
                a.str(attr::END_USER_METADATA, json);
            }
        }
        if let Some(s) = record.session_id() {
            a.str(attr::SESSION, s);
        }
        if !record.tags().is_empty() {
            a.list(attr::TAGS, record.tags());
        }
    }
    // OTLP keys are unique: the last value set wins, at the place the key
    // first appeared. Spans carry few attributes, so a scan beats a set.
    let user_attrs = record.attributes();
    for (i, (key, value)) in user_attrs.iter().enumerate() {
        let key: &str = key;
        if RESERVED_SPAN_KEYS.contains(&key) {
            log::debug!(
                "neatlogs: attribute `{key}` on span `{}` is owned by the SDK and was dropped",
                record.name()
            );
            continue;
        }
        if user_attrs[..i].iter().any(|(k, _)| k == key) {
            continue;
        }
        let last = user_attrs[i..]
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map_or(value, |(_, v)| v);
        a.value(key, last);
    }
    drop(a);

    out.status = match record.status() {
        record::Status::Unset => None,
        record::Status::Ok => Some(Status {
            code: StatusCode::Ok as i32,
            message: String::new(),
        }),
        record::Status::Error(message) => {
            let status = out.status.get_or_insert_with(Status::default);
            status.code = StatusCode::Error as i32;
            set_string(&mut status.message, message);
            out.status.take()
        }
    };
}

/// The completion marker for a root that just ended.
fn fill_trace_complete(out: &mut Span, root: &SpanRecord) {
    set_bytes(&mut out.trace_id, &root.trace_id().to_bytes());
    set_bytes(&mut out.span_id, &marker_span_id(root.span_id()));
    set_bytes(&mut out.parent_span_id, &root.span_id().to_bytes());
    out.flags = SPAN_FLAGS;
    set_string(&mut out.name, TRACE_COMPLETE_SPAN_NAME);
    out.kind = OtlpSpanKind::Internal as i32;
    out.start_time_unix_nano = root.end_unix_nanos();
    out.end_time_unix_nano = root.end_unix_nanos();
    let mut a = Attrs::new(&mut out.attributes);
    a.bool(attr::TRACE_COMPLETE, true);
    a.str(attr::NEATLOGS_KIND, TRACE_COMPLETE_KIND);
    a.bool(attr::INTERNAL, true);
    drop(a);
    out.status = None;
}

/// Encodes batches into one reused OTLP message tree: after the first few
/// batches, filling it allocates only for a longer string or a larger batch
/// than any before. (Building a fresh tree per batch spent about half of the
/// export thread's instructions in `malloc` and `free`.)
#[derive(Debug, Default)]
pub struct Encoder {
    request: ExportTraceServiceRequest,
    /// Spans beyond the current batch, kept for the next larger one.
    spare: Vec<Span>,
    buf: Vec<u8>,
}

impl Encoder {
    /// An encoder with nothing cached yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Fill the request for `batch` and return it.
    pub fn fill(
        &mut self,
        resource: &Resource,
        batch: &[SpanRecord],
    ) -> &ExportTraceServiceRequest {
        if self.request.resource_spans.len() != 1 {
            self.request.resource_spans = vec![ResourceSpans::default()];
        }
        let rs = &mut self.request.resource_spans[0];
        fill_resource(
            rs.resource.get_or_insert_with(OtlpResource::default),
            resource,
        );
        if rs.scope_spans.len() != 1 {
            rs.scope_spans = vec![ScopeSpans::default()];
        }
        let ss = &mut rs.scope_spans[0];
        let scope = ss.scope.get_or_insert_with(InstrumentationScope::default);
        set_string(&mut scope.name, "neatlogs");
        set_string(&mut scope.version, resource.sdk_version);
        let spans = &mut ss.spans;
        let mut n = 0;
        let mut slot = |spans: &mut Vec<Span>, spare: &mut Vec<Span>| -> usize {
            if spans.len() == n {
                spans.push(spare.pop().unwrap_or_default());
            }
            n += 1;
            n - 1
        };
        for record in batch {
            let i = slot(spans, &mut self.spare);
            fill_span(&mut spans[i], record);
            if record.is_root() {
                let i = slot(spans, &mut self.spare);
                fill_trace_complete(&mut spans[i], record);
            }
        }
        self.spare.extend(spans.drain(n..));
        &self.request
    }

    /// The protobuf encoding (`application/x-protobuf`) of `batch`.
    pub fn protobuf(&mut self, resource: &Resource, batch: &[SpanRecord]) -> &[u8] {
        self.fill(resource, batch);
        self.buf.clear();
        // `encode_raw` skips the top-level length pass that `encode` makes
        // only to check the buffer's room: a `Vec` always has room.
        self.request.encode_raw(&mut self.buf);
        &self.buf
    }
}

/// Encode a batch as one `ExportTraceServiceRequest`: one resource, one
/// instrumentation scope (`neatlogs`), and the spans in batch order, each
/// root followed by its `neatlogs.trace.complete` marker.
///
/// Useful in a custom [`Exporter`](crate::Exporter) that ships OTLP its own
/// way; the built-in exporters use an [`Encoder`] that reuses its buffers.
#[cfg(test)]
pub fn encode(resource: &Resource, batch: &[SpanRecord]) -> ExportTraceServiceRequest {
    let mut encoder = Encoder::new();
    encoder.fill(resource, batch);
    encoder.request
}

/// The protobuf encoding of a request (`application/x-protobuf`).
#[cfg(test)]
pub fn to_protobuf(request: &ExportTraceServiceRequest) -> Vec<u8> {
    request.encode_to_vec()
}

/// The OTLP JSON encoding of a request, on one line: hex trace and span ids,
/// camelCase field names, 64-bit integers as strings, enums as integers, and
/// fields at their default value left out (as the OTLP JSON mapping allows),
/// so that decoders built from older `.proto` files accept it too.
pub fn to_json(request: &ExportTraceServiceRequest) -> String {
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
        let a = marker_span_id(SpanId::from_u64(42));
        assert_eq!(a, marker_span_id(SpanId::from_u64(42)));
        assert_ne!(a, SpanId::from_u64(42).to_bytes());
        assert_ne!(a, [0u8; 8]);
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

    /// The reused tree must never carry anything over from an earlier batch
    /// (an attribute, a status, a parent, a surplus span).
    #[test]
    fn reused_encoder_matches_fresh_encoding() {
        let rich = sample();
        let plain = {
            let capture = Capture::start();
            {
                let _root = crate::trace("plain").enter();
                let _child = crate::span(crate::SpanKind::Tool, "t").enter();
            }
            capture.spans()
        };
        let mut two = rich.clone();
        two.extend(rich.iter().cloned());
        let fresh = |batch: &[SpanRecord]| to_protobuf(&encode(&resource(), batch));
        let mut encoder = Encoder::new();
        for batch in [&two[..], &plain[..], &rich[..], &plain[..1], &two[..]] {
            assert_eq!(encoder.protobuf(&resource(), batch), &fresh(batch)[..]);
        }
        let mut other = resource();
        other.operator = None;
        other.tags.clear();
        assert_eq!(
            encoder.protobuf(&other, &plain),
            &to_protobuf(&encode(&other, &plain))[..]
        );
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
