//! The protobuf wire format of an `ExportMetricsServiceRequest` carrying the
//! usage totals ([`crate::usage`]): written once a minute at most, so plainly
//! (each nested message encoded into its own buffer, then copied behind its
//! length), not with the span encoder's single pass.
//!
//! Three cumulative histograms, one point per series:
//!
//! - `gen_ai.client.token.usage` (`{token}`), `gen_ai.token.type` `input`
//!   or `output`, as the GenAI metric conventions define it;
//! - `neatlogs.client.token.usage.details` (`{token}`), `gen_ai.token.type`
//!   `cache_read`, `cache_write` or `reasoning` (kept apart so that summing
//!   the standard metric over its token types never counts a token twice);
//! - `gen_ai.client.operation.duration` (`s`), one point per call.
//!
//! Each point carries `gen_ai.operation.name` (`chat`), the provider
//! (`gen_ai.provider.name`), the models (`gen_ai.request.model`,
//! `gen_ai.response.model`), the end-user (`enduser.id`), `error.type`
//! (`_OTHER`) for calls that failed, and `otel.metric.overflow` on the
//! series past the cardinality limit.

use super::{resource_attributes_str, Attr};
use crate::export::Resource;
use crate::usage::{Histogram, Key, Totals, DURATION_BOUNDS, TOKEN_BOUNDS, TOKEN_TYPES};

use crate::wire::usage::{
    END_USER_ID, ERROR_TYPE, OPERATION_DURATION, OPERATION_NAME, OVERFLOW, PROVIDER_NAME,
    REQUEST_MODEL, RESPONSE_MODEL, TOKEN_TYPE, TOKEN_USAGE, TOKEN_USAGE_DETAILS,
};

/// `AGGREGATION_TEMPORALITY_CUMULATIVE`.
const CUMULATIVE: u64 = 2;

/// The request for `series`, counted from `start` until `now` (Unix ns).
#[cfg_attr(not(feature = "otlp-http"), allow(dead_code))]
pub(crate) fn encode(
    resource: &Resource,
    series: &[(Key, Totals)],
    start: u64,
    now: u64,
) -> Vec<u8> {
    let mut resource_msg = Vec::new();
    resource_attributes_str(resource, |k, a| {
        let value = match a {
            Attr::Str(s) => s.to_owned(),
            Attr::Joined(parts) => parts.join(","),
            _ => return,
        };
        kv_str(&mut resource_msg, 1, k, &value);
    });

    let mut scope = Vec::new();
    str_field(&mut scope, 1, crate::wire::resource::SDK_NAME_VALUE);
    str_field(&mut scope, 2, env!("CARGO_PKG_VERSION"));

    let point = |key: &Key, extra: Option<&str>, h: &Histogram, bounds: &[f64]| {
        let mut p = Vec::new();
        fixed64(&mut p, 2, start);
        fixed64(&mut p, 3, now);
        fixed64(&mut p, 4, h.count);
        double(&mut p, 5, h.sum);
        let mut packed = Vec::new();
        for b in &h.buckets {
            packed.extend_from_slice(&b.to_le_bytes());
        }
        ld(&mut p, 6, &packed);
        packed.clear();
        for b in bounds {
            packed.extend_from_slice(&b.to_le_bytes());
        }
        ld(&mut p, 7, &packed);
        for (k, v) in point_attributes(key, extra) {
            kv_any(&mut p, 9, k, v);
        }
        if h.count > 0 {
            double(&mut p, 11, h.min);
            double(&mut p, 12, h.max);
        }
        p
    };

    let mut metrics = Vec::new();
    let mut metric = |name: &str, description: &str, unit: &str, points: Vec<Vec<u8>>| {
        if points.is_empty() {
            return;
        }
        let mut histogram = Vec::new();
        for p in &points {
            ld(&mut histogram, 1, p);
        }
        varint_field(&mut histogram, 2, CUMULATIVE);
        let mut m = Vec::new();
        str_field(&mut m, 1, name);
        str_field(&mut m, 2, description);
        str_field(&mut m, 3, unit);
        ld(&mut m, 9, &histogram);
        ld(&mut metrics, 2, &m);
    };
    let tokens = |types: std::ops::Range<usize>| -> Vec<Vec<u8>> {
        series
            .iter()
            .flat_map(|(key, totals)| {
                types.clone().filter_map(move |i| {
                    let h = &totals.tokens[i];
                    (h.count > 0).then(|| point(key, Some(TOKEN_TYPES[i]), h, &TOKEN_BOUNDS))
                })
            })
            .collect()
    };
    metric(
        TOKEN_USAGE,
        TOKEN_USAGE_DESCRIPTION,
        "{token}",
        tokens(0..2),
    );
    metric(
        TOKEN_USAGE_DETAILS,
        TOKEN_USAGE_DETAILS_DESCRIPTION,
        "{token}",
        tokens(2..5),
    );
    let durations = series
        .iter()
        .map(|(key, totals)| point(key, None, &totals.duration, &DURATION_BOUNDS))
        .collect();
    metric(OPERATION_DURATION, DURATION_DESCRIPTION, "s", durations);

    let mut scope_metrics = Vec::new();
    ld(&mut scope_metrics, 1, &scope);
    scope_metrics.extend_from_slice(&metrics);
    let mut resource_metrics = Vec::new();
    ld(&mut resource_metrics, 1, &resource_msg);
    ld(&mut resource_metrics, 2, &scope_metrics);
    let mut request = Vec::new();
    ld(&mut request, 1, &resource_metrics);
    request
}

/// The same request in the OTLP JSON mapping, on one line (the local
/// file's form: one request per line, as the OpenTelemetry file exporter
/// writes).
pub(crate) fn encode_json(
    resource: &Resource,
    series: &[(Key, Totals)],
    start: u64,
    now: u64,
) -> String {
    use serde_json::{json, Value};
    let any = |v: &Any<'_>| match v {
        Any::Str(s) => json!({ "stringValue": s }),
        Any::Bool(b) => json!({ "boolValue": b }),
    };
    let mut resource_attributes = Vec::new();
    resource_attributes_str(resource, |k, a| {
        let value = match a {
            Attr::Str(s) => s.to_owned(),
            Attr::Joined(parts) => parts.join(","),
            _ => return,
        };
        resource_attributes.push(json!({"key": k, "value": {"stringValue": value}}));
    });
    let point = |key: &Key, extra: Option<&str>, h: &Histogram, bounds: &[f64]| -> Value {
        let attributes: Vec<Value> = point_attributes(key, extra)
            .iter()
            .map(|(k, v)| json!({"key": k, "value": any(v)}))
            .collect();
        let mut p = json!({
            "attributes": attributes,
            "startTimeUnixNano": start.to_string(),
            "timeUnixNano": now.to_string(),
            "count": h.count.to_string(),
            "sum": h.sum,
            "bucketCounts": h.buckets.iter().map(u64::to_string).collect::<Vec<_>>(),
            "explicitBounds": bounds,
        });
        if h.count > 0 {
            p["min"] = json!(h.min);
            p["max"] = json!(h.max);
        }
        p
    };
    let mut metrics = Vec::new();
    let mut metric = |name: &str, description: &str, unit: &str, points: Vec<Value>| {
        if !points.is_empty() {
            metrics.push(json!({
                "name": name,
                "description": description,
                "unit": unit,
                "histogram": {"dataPoints": points, "aggregationTemporality": CUMULATIVE},
            }));
        }
    };
    let tokens = |types: std::ops::Range<usize>| -> Vec<Value> {
        series
            .iter()
            .flat_map(|(key, totals)| {
                types.clone().filter_map(move |i| {
                    let h = &totals.tokens[i];
                    (h.count > 0).then(|| point(key, Some(TOKEN_TYPES[i]), h, &TOKEN_BOUNDS))
                })
            })
            .collect()
    };
    metric(
        TOKEN_USAGE,
        TOKEN_USAGE_DESCRIPTION,
        "{token}",
        tokens(0..2),
    );
    metric(
        TOKEN_USAGE_DETAILS,
        TOKEN_USAGE_DETAILS_DESCRIPTION,
        "{token}",
        tokens(2..5),
    );
    let durations = series
        .iter()
        .map(|(key, totals)| point(key, None, &totals.duration, &DURATION_BOUNDS))
        .collect();
    metric(OPERATION_DURATION, DURATION_DESCRIPTION, "s", durations);
    json!({"resourceMetrics": [{
        "resource": {"attributes": resource_attributes},
        "scopeMetrics": [{
            "scope": {"name": crate::wire::resource::SDK_NAME_VALUE, "version": env!("CARGO_PKG_VERSION")},
            "metrics": metrics,
        }],
    }]})
    .to_string()
}

/// The metrics' descriptions.
const TOKEN_USAGE_DESCRIPTION: &str = "Number of input and output tokens used";
const TOKEN_USAGE_DETAILS_DESCRIPTION: &str =
    "Cache-read, cache-write and reasoning tokens (part of the input and output tokens)";
const DURATION_DESCRIPTION: &str = "GenAI operation duration";

/// An attribute's value: a string or a boolean.
enum Any<'a> {
    Str(&'a str),
    Bool(bool),
}

fn point_attributes<'a>(key: &'a Key, token_type: Option<&'a str>) -> Vec<(&'a str, Any<'a>)> {
    let mut out = Vec::with_capacity(7);
    if key.overflow {
        out.push((OVERFLOW, Any::Bool(true)));
    } else {
        out.push((OPERATION_NAME, Any::Str("chat")));
        if let Some(p) = &key.provider {
            out.push((PROVIDER_NAME, Any::Str(p)));
        }
        if let Some(m) = &key.request_model {
            out.push((REQUEST_MODEL, Any::Str(m)));
        }
        if let Some(m) = &key.response_model {
            out.push((RESPONSE_MODEL, Any::Str(m)));
        }
        if let Some(u) = &key.end_user {
            out.push((END_USER_ID, Any::Str(u.as_str())));
        }
        if key.failed {
            out.push((ERROR_TYPE, Any::Str("_OTHER")));
        }
    }
    if let Some(t) = token_type {
        out.push((TOKEN_TYPE, Any::Str(t)));
    }
    out
}

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn tag(out: &mut Vec<u8>, field: u64, wire_type: u64) {
    varint(out, (field << 3) | wire_type);
}

fn varint_field(out: &mut Vec<u8>, field: u64, v: u64) {
    tag(out, field, 0);
    varint(out, v);
}

fn fixed64(out: &mut Vec<u8>, field: u64, v: u64) {
    tag(out, field, 1);
    out.extend_from_slice(&v.to_le_bytes());
}

fn double(out: &mut Vec<u8>, field: u64, v: f64) {
    tag(out, field, 1);
    out.extend_from_slice(&v.to_le_bytes());
}

fn ld(out: &mut Vec<u8>, field: u64, body: &[u8]) {
    tag(out, field, 2);
    varint(out, body.len() as u64);
    out.extend_from_slice(body);
}

fn str_field(out: &mut Vec<u8>, field: u64, s: &str) {
    if !s.is_empty() {
        ld(out, field, s.as_bytes());
    }
}

fn kv_str(out: &mut Vec<u8>, field: u64, key: &str, value: &str) {
    kv_any(out, field, key, Any::Str(value));
}

/// A `KeyValue` (`key` 1, `value` 2: an `AnyValue`, `string_value` 1 or
/// `bool_value` 2).
fn kv_any(out: &mut Vec<u8>, field: u64, key: &str, value: Any<'_>) {
    let mut any = Vec::new();
    match value {
        Any::Str(s) => ld(&mut any, 1, s.as_bytes()),
        Any::Bool(b) => varint_field(&mut any, 2, u64::from(b)),
    }
    let mut kv = Vec::new();
    str_field(&mut kv, 1, key);
    ld(&mut kv, 2, &any);
    ld(out, field, &kv);
}
