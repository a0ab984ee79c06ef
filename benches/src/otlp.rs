//! A stand-in for neatlogs' OTLP protobuf encoder, used by the benchmark's
//! exporter while `neatlogs::export::otlp::{encode, to_protobuf}` are
//! crate-private.
//!
//! It builds the same `ExportTraceServiceRequest` as
//! `neatlogs/src/export/otlp.rs` (same `opentelemetry-proto` message types,
//! same wire-contract attributes, one `neatlogs.trace.complete` marker after
//! each root) from `SpanRecord`'s public accessors, then encodes it with
//! prost, so the measured cost is that of the real encoding path. Once the
//! runtime's encoder is public, `stacks::neatlogs::OtlpDiscard::export` calls
//! it instead (a one-line change) and this file goes.

use std::collections::HashSet;

use neatlogs::export::otlp::{attr, TRACE_COMPLETE_KIND, TRACE_COMPLETE_SPAN_NAME};
use neatlogs::{Resource, SpanId, SpanRecord, Status, Value};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{
    any_value, AnyValue, ArrayValue, InstrumentationScope, KeyValue,
};
use opentelemetry_proto::tonic::resource::v1::Resource as OtlpResource;
use opentelemetry_proto::tonic::trace::v1::{
    span::SpanKind as OtlpSpanKind, status::StatusCode, ResourceSpans, ScopeSpans, Span,
    Status as OtlpStatus,
};
use prost::Message as _;

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

/// Local parents, sampled.
const SPAN_FLAGS: u32 = 0x100 | 0x01;

/// The batch as the protobuf bytes of one `ExportTraceServiceRequest`.
pub fn encode_protobuf(resource: &Resource, batch: &[SpanRecord]) -> Vec<u8> {
    encode(resource, batch).encode_to_vec()
}

fn string(v: impl Into<String>) -> Option<AnyValue> {
    Some(AnyValue {
        value: Some(any_value::Value::StringValue(v.into())),
    })
}

fn bool_value(b: bool) -> Option<AnyValue> {
    Some(AnyValue {
        value: Some(any_value::Value::BoolValue(b)),
    })
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
        Value::StrList(list) => any_value::Value::ArrayValue(ArrayValue {
            values: list.iter().filter_map(|s| string(s.as_str())).collect(),
        }),
        // `Value` may grow variants; an unknown one is left out.
        #[allow(unreachable_patterns)]
        _ => return None,
    };
    Some(AnyValue { value: Some(v) })
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

fn marker_span_id(root: SpanId) -> Vec<u8> {
    let mut z = root.0 ^ 0x6e65_6174_6c6f_6773;
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
            if let Some(m) = user.metadata() {
                let json = serde_json::Value::Object(m.clone()).to_string();
                attributes.push(kv(attr::END_USER_METADATA, string(json)));
            }
        }
        if let Some(s) = record.session_id() {
            attributes.push(kv(attr::SESSION, string(s)));
        }
        if !record.tags().is_empty() {
            attributes.push(kv(attr::TAGS, any(&Value::StrList(record.tags().to_vec()))));
        }
    }
    let user_attrs = record.attributes();
    let mut seen: HashSet<&str> = HashSet::with_capacity(user_attrs.len());
    for (i, (key, value)) in user_attrs.iter().enumerate() {
        let key: &str = key;
        if RESERVED_SPAN_KEYS.contains(&key) || !seen.insert(key) {
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
        Status::Ok => Some(OtlpStatus {
            code: StatusCode::Ok as i32,
            message: String::new(),
        }),
        Status::Error(message) => Some(OtlpStatus {
            code: StatusCode::Error as i32,
            message: message.clone(),
        }),
        _ => None,
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

fn encode(resource: &Resource, batch: &[SpanRecord]) -> ExportTraceServiceRequest {
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

#[cfg(test)]
mod tests {
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use prost::Message as _;

    use crate::scenario::Request;
    use crate::stacks::neatlogs::request_trace;

    #[test]
    fn one_request_trace_encodes_as_eleven_spans_and_a_marker() {
        let ((), spans) = neatlogs::testing::with_capture(|| request_trace(&Request::new(1)));
        assert_eq!(spans.len(), 11);
        let resource = neatlogs::Resource {
            service_name: "bench".into(),
            workflow_name: None,
            operator: None,
            session_id: None,
            tags: Vec::new(),
            sdk_version: "0",
        };
        let bytes = super::encode_protobuf(&resource, &spans);
        let decoded = ExportTraceServiceRequest::decode(bytes.as_slice()).unwrap();
        let out = &decoded.resource_spans[0].scope_spans[0].spans;
        assert_eq!(out.len(), 12);
        let root = out.iter().find(|s| s.name == "request").unwrap();
        let keys: Vec<&str> = root.attributes.iter().map(|kv| kv.key.as_str()).collect();
        assert!(keys.contains(&"neatlogs.end_user.id"));
        assert!(keys.contains(&"neatlogs.end_user.metadata"));
    }
}
