//! OTLP trace messages to rows.

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use serde_json::{Map, Value};

use super::{
    hex, Batch, Claims, IngestError, ResourceRow, SpanLink, SpanRow, SpanStatus,
    MAX_LINKS_PER_SPAN, MAX_VALUE_DEPTH, TOO_DEEP,
};

/// Converts an OTLP export request to rows, refusing the whole request if
/// any span is invalid (bad ids or timestamps) so nothing is half-stored.
///
/// ```
/// use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
/// let batch = neatlogs_cli::ingest::batch_from_otlp(&ExportTraceServiceRequest::default()).unwrap();
/// assert!(batch.spans.is_empty());
/// ```
pub fn batch_from_otlp(request: &ExportTraceServiceRequest) -> Result<Batch, IngestError> {
    let mut batch = Batch::default();
    for (ri, resource_spans) in request.resource_spans.iter().enumerate() {
        let resource_attrs = resource_spans
            .resource
            .as_ref()
            .map(|r| attributes(&r.attributes))
            .unwrap_or_default();
        let resource_index = batch.resources.len();
        let process_default = Claims::read("", &resource_attrs);
        batch
            .resources
            .push(ResourceRow::from_attributes(&resource_attrs));
        for (si, scope_spans) in resource_spans.scope_spans.iter().enumerate() {
            for (pi, span) in scope_spans.spans.iter().enumerate() {
                let at = || format!("resourceSpans[{ri}].scopeSpans[{si}].spans[{pi}]");
                let trace_id = id(&span.trace_id, 16, "trace id")
                    .map_err(|e| IngestError::Malformed(format!("{}: {e}", at())))?;
                let span_id = id(&span.span_id, 8, "span id")
                    .map_err(|e| IngestError::Malformed(format!("{}: {e}", at())))?;
                let parent_span_id = if span.parent_span_id.iter().all(|b| *b == 0) {
                    None
                } else {
                    Some(
                        id(&span.parent_span_id, 8, "parent span id")
                            .map_err(|e| IngestError::Malformed(format!("{}: {e}", at())))?,
                    )
                };
                let start_ns = nanos(span.start_time_unix_nano).ok_or_else(|| {
                    IngestError::Malformed(format!("{}: start time is out of range", at()))
                })?;
                let end_ns = nanos(span.end_time_unix_nano).ok_or_else(|| {
                    IngestError::Malformed(format!("{}: end time is out of range", at()))
                })?;
                let attrs = attributes(&span.attributes);
                let mut claims = Claims::read(&span.name, &attrs);
                if parent_span_id.is_none()
                    && !claims.is_marker
                    && claims.end_user.is_none()
                    && !claims.end_user_rejected
                {
                    // A sender's process-wide default end-user on its
                    // resource (the Python SDK 1.3.x `init(end_user_id=..)`,
                    // which with opentelemetry-sdk 1.43+ reaches the wire
                    // only there) is that process's roots' end-user, with
                    // the metadata it came with.
                    if let Some(user) = &process_default.end_user {
                        claims.end_user = Some(user.clone());
                        claims.metadata = process_default.metadata.clone();
                    }
                }
                let (status, status_message) = match &span.status {
                    Some(s) => (
                        match StatusCode::try_from(s.code) {
                            Ok(StatusCode::Error) => SpanStatus::Error,
                            Ok(StatusCode::Ok) => SpanStatus::Ok,
                            _ => SpanStatus::Unset,
                        },
                        Some(s.message.clone()).filter(|m| !m.is_empty()),
                    ),
                    None => (SpanStatus::Unset, None),
                };
                batch.spans.push(SpanRow {
                    trace_id,
                    span_id,
                    parent_span_id,
                    name: span.name.clone(),
                    kind: claims.kind,
                    start_ns,
                    end_ns: end_ns.max(start_ns),
                    status,
                    status_message,
                    model: claims.llm.model,
                    input_tokens: claims.llm.input_tokens,
                    output_tokens: claims.llm.output_tokens,
                    cache_read_tokens: claims.llm.cache_read_tokens,
                    cache_write_tokens: claims.llm.cache_write_tokens,
                    reasoning_tokens: claims.llm.reasoning_tokens,
                    sender_cost: claims.llm.cost,
                    is_marker: claims.is_marker,
                    claimed_end_user: claims.end_user,
                    claimed_session: claims.session,
                    claimed_metadata: claims.metadata,
                    resource: resource_index,
                    attributes: Value::Object(attrs).to_string(),
                    links: span
                        .links
                        .iter()
                        .filter_map(|link| {
                            Some(SpanLink {
                                trace_id: id(&link.trace_id, 16, "link trace id").ok()?,
                                span_id: id(&link.span_id, 8, "link span id").ok()?,
                            })
                        })
                        .take(MAX_LINKS_PER_SPAN)
                        .collect(),
                });
            }
        }
    }
    Ok(batch)
}

fn id(bytes: &[u8], len: usize, what: &str) -> Result<String, String> {
    if bytes.len() != len {
        return Err(format!("{what} is {} bytes, expected {len}", bytes.len()));
    }
    if bytes.iter().all(|b| *b == 0) {
        return Err(format!("{what} is all zeros"));
    }
    Ok(hex(bytes))
}

fn nanos(value: u64) -> Option<i64> {
    i64::try_from(value).ok()
}

/// OTLP attributes as a JSON object (later keys win, as in a map).
pub(crate) fn attributes(kvs: &[KeyValue]) -> Map<String, Value> {
    attributes_at(kvs, 1)
}

/// Attributes whose values sit at `level` (1 for a span's own).
fn attributes_at(kvs: &[KeyValue], level: usize) -> Map<String, Value> {
    kvs.iter()
        .map(|kv| (kv.key.clone(), any_to_json(kv.value.as_ref(), level)))
        .collect()
}

/// One value as JSON; past [`MAX_VALUE_DEPTH`] levels, [`TOO_DEEP`] (the
/// same cut the decoders make when they cannot take the nesting, so what
/// is stored does not depend on which decoder took the request).
fn any_to_json(value: Option<&AnyValue>, level: usize) -> Value {
    if level > MAX_VALUE_DEPTH {
        return Value::String(TOO_DEEP.to_owned());
    }
    let Some(value) = value.and_then(|v| v.value.as_ref()) else {
        return Value::Null;
    };
    match value {
        any_value::Value::StringValue(s) => Value::String(s.clone()),
        any_value::Value::BoolValue(b) => Value::Bool(*b),
        any_value::Value::IntValue(i) => Value::from(*i),
        any_value::Value::DoubleValue(d) => serde_json::Number::from_f64(*d)
            .map_or_else(|| Value::String(d.to_string()), Value::Number),
        any_value::Value::ArrayValue(a) => Value::Array(
            a.values
                .iter()
                .map(|v| any_to_json(Some(v), level + 1))
                .collect(),
        ),
        any_value::Value::KvlistValue(kv) => Value::Object(attributes_at(&kv.values, level + 1)),
        any_value::Value::BytesValue(b) => Value::String(hex(b)),
        // A string-table index refers to a dictionary OTLP/HTTP never sends.
        _ => Value::Null,
    }
}
