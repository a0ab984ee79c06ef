//! OTLP metrics to usage rows: the SDK's usage totals per end-user
//! (`gen_ai.client.token.usage`, `neatlogs.client.token.usage.details`,
//! `gen_ai.client.operation.duration`, cumulative histograms; other
//! senders' metrics of the same names count too). Every other metric is
//! accepted and not stored.
//!
//! A point is one series' total since its start: the store keeps the
//! latest point of each series (identified by its resource, its start time,
//! its metric and its attributes) and sums over series.

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, KeyValue};
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use prost::Message;

use super::{Encoding, IngestError};

use neatlogs::wire::usage::{
    END_USER_ID, ERROR_TYPE, OVERFLOW, PROVIDER_NAME, REQUEST_MODEL, RESPONSE_MODEL, TOKEN_TYPE,
};
pub use neatlogs::wire::usage::{OPERATION_DURATION, TOKEN_USAGE, TOKEN_USAGE_DETAILS};

/// One series' cumulative total, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct UsageRow {
    /// The series' identity: resource, start time, metric and attributes.
    pub series: String,
    /// `enduser.id`.
    pub end_user: Option<String>,
    /// The resource's workflow (`neatlogs.workflow_name`, else
    /// `service.name`).
    pub workflow: Option<String>,
    /// The model that answered, else the one asked for.
    pub model: Option<String>,
    /// `gen_ai.provider.name` (or `gen_ai.system`).
    pub provider: Option<String>,
    /// The metric.
    pub metric: String,
    /// `gen_ai.token.type`, for the token metrics.
    pub token_type: Option<String>,
    /// `error.type` was set: the calls failed.
    pub failed: bool,
    /// The overflow series past the sender's cardinality limit.
    pub overflow: bool,
    /// `start_time_unix_nano`.
    pub start_ns: i64,
    /// `time_unix_nano`: a later point of the series replaces this one.
    pub time_ns: i64,
    /// How many values (calls) the histogram counted.
    pub count: i64,
    /// Their sum (tokens, or seconds).
    pub sum: f64,
}

/// Decodes an OTLP/HTTP metrics body (already inflated).
pub fn decode_metrics(
    raw: &[u8],
    encoding: Encoding,
) -> Result<ExportMetricsServiceRequest, IngestError> {
    match encoding {
        Encoding::Protobuf => ExportMetricsServiceRequest::decode(raw)
            .map_err(|e| IngestError::Malformed(format!("invalid OTLP protobuf: {e}"))),
        Encoding::Json => serde_json::from_slice(raw)
            .map_err(|e| IngestError::Malformed(format!("invalid OTLP JSON: {e}"))),
    }
}

/// The usage rows of a metrics request.
pub fn usage_from_metrics(request: &ExportMetricsServiceRequest) -> Vec<UsageRow> {
    let mut rows = Vec::new();
    for rm in &request.resource_metrics {
        let resource = rm
            .resource
            .as_ref()
            .map(|r| r.attributes.as_slice())
            .unwrap_or_default();
        let workflow = string(resource, neatlogs::wire::resource::WORKFLOW_NAME)
            .or_else(|| string(resource, neatlogs::wire::resource::SERVICE_NAME));
        let resource_id = identity(resource);
        for sm in &rm.scope_metrics {
            for metric in &sm.metrics {
                let name = metric.name.as_str();
                if ![TOKEN_USAGE, TOKEN_USAGE_DETAILS, OPERATION_DURATION].contains(&name) {
                    continue;
                }
                let Some(Data::Histogram(h)) = &metric.data else {
                    continue;
                };
                for point in &h.data_points {
                    let a = point.attributes.as_slice();
                    let model = string(a, RESPONSE_MODEL).or_else(|| string(a, REQUEST_MODEL));
                    rows.push(UsageRow {
                        series: format!(
                            "{resource_id}|{}|{name}|{}",
                            point.start_time_unix_nano,
                            identity(a)
                        ),
                        end_user: string(a, END_USER_ID)
                            .or_else(|| string(a, neatlogs::wire::span::END_USER_ID)),
                        workflow: workflow.clone(),
                        model,
                        provider: string(a, PROVIDER_NAME).or_else(|| string(a, "gen_ai.system")),
                        metric: name.to_owned(),
                        token_type: string(a, TOKEN_TYPE),
                        failed: a.iter().any(|kv| kv.key == ERROR_TYPE),
                        overflow: a.iter().any(|kv| {
                            kv.key == OVERFLOW
                                && matches!(
                                    kv.value.as_ref().and_then(|v| v.value.as_ref()),
                                    Some(any_value::Value::BoolValue(true))
                                )
                        }),
                        start_ns: clamp(point.start_time_unix_nano),
                        time_ns: clamp(point.time_unix_nano),
                        count: clamp(point.count),
                        sum: point.sum.filter(|s| s.is_finite()).unwrap_or(0.0),
                    });
                }
            }
        }
    }
    rows
}

fn clamp(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn string(attributes: &[KeyValue], key: &str) -> Option<String> {
    attributes.iter().find(|kv| kv.key == key).and_then(|kv| {
        match kv.value.as_ref()?.value.as_ref()? {
            any_value::Value::StringValue(s) if !s.is_empty() => Some(s.clone()),
            _ => None,
        }
    })
}

/// Attributes as one sorted string (`key=value` joined by `,`): equal for
/// the same set in any order.
fn identity(attributes: &[KeyValue]) -> String {
    let mut parts: Vec<String> = attributes
        .iter()
        .map(|kv| {
            let value = match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
                Some(any_value::Value::StringValue(s)) => s.clone(),
                Some(any_value::Value::BoolValue(b)) => b.to_string(),
                Some(any_value::Value::IntValue(i)) => i.to_string(),
                Some(any_value::Value::DoubleValue(d)) => d.to_string(),
                _ => String::new(),
            };
            format!("{}={}", kv.key.escape_default(), value.escape_default())
        })
        .collect();
    parts.sort();
    parts.join(",")
}
