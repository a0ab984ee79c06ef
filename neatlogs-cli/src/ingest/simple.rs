//! The browser SDK's simple-trace JSON (`POST /v1/trace`): one nested trace
//! per call, identity in the root's `attributes` under the same keys as OTLP.

use serde::Deserialize;
use serde_json::{Map, Value};

use neatlogs::wire;

use super::{random_hex, Batch, Claims, IngestError, ResourceRow, SpanRow, SpanStatus};

/// `telemetry.sdk.language` of traces that came in as simple-trace JSON.
const BROWSER_SDK_LANGUAGE: &str = "webjs";
/// The attribute that keeps a simple span's free-form `metadata` field
/// (the collector's own key: not part of the SDK's wire contract).
const METADATA_ATTRIBUTE: &str = "metadata";

/// Deepest nesting accepted, so a hostile body cannot exhaust the stack.
const MAX_DEPTH: usize = 64;

/// Unknown fields are ignored, so newer browser SDKs keep working.
#[derive(Debug, Deserialize)]
struct SimpleSpan {
    name: String,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    input: Option<Value>,
    #[serde(default)]
    output: Option<Value>,
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    tokens: Option<Tokens>,
    #[serde(default)]
    metadata: Option<Value>,
    #[serde(default)]
    attributes: Option<Map<String, Value>>,
    #[serde(default)]
    children: Vec<SimpleSpan>,
    #[serde(default)]
    duration_ms: Option<f64>,
    #[serde(default)]
    start: Option<Value>,
    #[serde(default)]
    end: Option<Value>,
    #[serde(default)]
    project: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    error: Option<Value>,
}

#[derive(Debug, Deserialize)]
struct Tokens {
    #[serde(default)]
    prompt: Option<i64>,
    #[serde(default)]
    completion: Option<i64>,
    #[serde(default)]
    #[allow(dead_code)]
    total: Option<i64>,
}

/// Converts one simple trace to rows; returns them and the new trace id.
///
/// Times are epoch milliseconds or RFC 3339 strings; a span without them is
/// placed from `duration_ms` and its parent's start.
///
/// ```
/// let body = br#"{"name":"chat","kind":"workflow","duration_ms":12,
///   "attributes":{"neatlogs.end_user.id":"u_1"},
///   "children":[{"name":"gpt","kind":"llm","model":"gpt-4o","tokens":{"prompt":3,"completion":5}}]}"#;
/// let (batch, trace_id) = neatlogs_cli::ingest::batch_from_simple_trace(body).unwrap();
/// assert_eq!(batch.spans.len(), 2);
/// assert_eq!(trace_id.len(), 32);
/// assert_eq!(batch.spans[0].claimed_end_user.as_deref(), Some("u_1"));
/// assert_eq!(batch.spans[1].input_tokens, Some(3));
/// ```
pub fn batch_from_simple_trace(body: &[u8]) -> Result<(Batch, String), IngestError> {
    let root: SimpleSpan = serde_json::from_slice(body)
        .map_err(|e| IngestError::Malformed(format!("invalid simple-trace JSON: {e}")))?;
    let mut resource = Map::new();
    resource.insert(
        wire::resource::SDK_LANGUAGE.into(),
        BROWSER_SDK_LANGUAGE.into(),
    );
    if let Some(project) = root.project.as_ref().filter(|p| !p.is_empty()) {
        resource.insert(wire::resource::SERVICE_NAME.into(), project.clone().into());
        resource.insert(wire::resource::WORKFLOW_NAME.into(), project.clone().into());
    }
    let mut batch = Batch {
        resources: vec![ResourceRow::from_attributes(&resource)],
        spans: Vec::new(),
        usage: Vec::new(),
    };
    let trace_id = random_hex(16);
    let now = crate::time::now_nanos();
    convert(&root, &trace_id, None, now, 0, &mut batch)?;
    Ok((batch, trace_id))
}

fn convert(
    span: &SimpleSpan,
    trace_id: &str,
    parent: Option<&str>,
    default_start: i64,
    depth: usize,
    batch: &mut Batch,
) -> Result<(), IngestError> {
    if depth > MAX_DEPTH {
        return Err(IngestError::Malformed(format!(
            "simple trace nests deeper than {MAX_DEPTH} levels"
        )));
    }
    let start = time(span.start.as_ref(), "start")?;
    let end = time(span.end.as_ref(), "end")?;
    let duration = span
        .duration_ms
        .filter(|d| d.is_finite() && *d >= 0.0)
        .map(ms_to_nanos);
    // Saturating: a huge `start` or `duration_ms` must give a late end, never
    // one wrapped around before the start.
    let (start_ns, end_ns) = match (start, end, duration) {
        (Some(s), Some(e), _) => (s, e.max(s)),
        (Some(s), None, d) => (s, s.saturating_add(d.unwrap_or(0))),
        (None, Some(e), d) => (e.saturating_sub(d.unwrap_or(0)).max(0), e),
        (None, None, d) if parent.is_none() => {
            let d = d.unwrap_or(0);
            (default_start.saturating_sub(d).max(0), default_start)
        }
        (None, None, d) => (default_start, default_start.saturating_add(d.unwrap_or(0))),
    };

    let mut attrs = span.attributes.clone().unwrap_or_default();
    if let Some(kind) = span.kind.as_ref().filter(|k| !k.is_empty()) {
        attrs.insert(
            wire::span::OPENINFERENCE_KIND.into(),
            kind.to_uppercase().into(),
        );
        attrs.insert(wire::span::NEATLOGS_KIND.into(), kind.to_lowercase().into());
    }
    if let Some(model) = &span.model {
        attrs.insert(wire::llm::MODEL_NAME.into(), model.clone().into());
    }
    if let Some(tokens) = &span.tokens {
        if let Some(p) = tokens.prompt {
            attrs.insert(wire::llm::TOKENS_PROMPT.into(), p.into());
        }
        if let Some(c) = tokens.completion {
            attrs.insert(wire::llm::TOKENS_COMPLETION.into(), c.into());
        }
    }
    for (key, value) in [
        (wire::io::INPUT, &span.input),
        (wire::io::OUTPUT, &span.output),
        (METADATA_ATTRIBUTE, &span.metadata),
    ] {
        match value {
            Some(Value::String(s)) => {
                attrs.insert(key.into(), s.clone().into());
            }
            Some(Value::Null) | None => {}
            Some(other) => {
                attrs.insert(key.into(), other.to_string().into());
            }
        }
    }
    let claims = Claims::read(&span.name, &attrs);
    let error_message = match &span.error {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Null) | None => None,
        Some(other) => Some(other.to_string()),
    };
    let status = match (span.status.as_deref(), &error_message) {
        (Some(s), _) if s.eq_ignore_ascii_case("error") => SpanStatus::Error,
        (_, Some(_)) => SpanStatus::Error,
        (Some(s), _) if s.eq_ignore_ascii_case("ok") => SpanStatus::Ok,
        _ => SpanStatus::Unset,
    };
    let span_id = random_hex(8);
    batch.spans.push(SpanRow {
        trace_id: trace_id.to_owned(),
        span_id: span_id.clone(),
        parent_span_id: parent.map(str::to_owned),
        name: span.name.clone(),
        kind: claims.kind,
        start_ns,
        end_ns,
        status,
        status_message: error_message,
        model: claims.llm.model,
        input_tokens: claims.llm.input_tokens,
        output_tokens: claims.llm.output_tokens,
        cache_read_tokens: claims.llm.cache_read_tokens,
        cache_write_tokens: claims.llm.cache_write_tokens,
        reasoning_tokens: claims.llm.reasoning_tokens,
        sender_cost: claims.llm.cost,
        is_marker: false,
        claimed_end_user: claims.end_user,
        claimed_session: claims.session,
        claimed_metadata: claims.metadata,
        resource: 0,
        attributes: Value::Object(attrs).to_string(),
        links: Vec::new(),
    });
    for child in &span.children {
        convert(child, trace_id, Some(&span_id), start_ns, depth + 1, batch)?;
    }
    Ok(())
}

/// Milliseconds (finite, not negative) as nanoseconds: the whole
/// milliseconds by integer arithmetic, only the fraction through floating
/// point, so that `1796603637130` is `1796603637130000000` exactly (a
/// double holds integers exactly only up to 2^53). Saturates.
fn ms_to_nanos(ms: f64) -> i64 {
    let whole = ms.trunc();
    let fraction = ((ms - whole) * 1e6).round() as i64;
    (whole as i64)
        .saturating_mul(1_000_000)
        .saturating_add(fraction)
}

fn time(value: Option<&Value>, what: &str) -> Result<Option<i64>, IngestError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_u64()
            .filter(|ms| *ms < 100_000_000_000_000)
            .map(|ms| Some((ms as i64).saturating_mul(1_000_000)))
            .or_else(|| {
                n.as_f64()
                    .filter(|ms| ms.is_finite() && *ms >= 0.0 && *ms < 1e14)
                    .map(|ms| Some(ms_to_nanos(ms)))
            })
            .ok_or_else(|| {
                IngestError::Malformed(format!("`{what}` is not a valid epoch-millisecond time"))
            }),
        Some(Value::String(s)) => crate::time::parse_rfc3339(s).map(Some).ok_or_else(|| {
            IngestError::Malformed(format!(
                "`{what}` is not an RFC 3339 time (2026-05-01T12:00:03.123Z): `{s}`"
            ))
        }),
        Some(_) => Err(IngestError::Malformed(format!(
            "`{what}` must be epoch milliseconds or an RFC 3339 string"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::batch_from_simple_trace;

    /// Epoch milliseconds become nanoseconds exactly: a browser's
    /// `Date.now()` read back must not be a fraction of a millisecond early.
    #[test]
    fn milliseconds_become_nanoseconds_exactly() {
        let body = br#"{"name":"t","start":1796603637130,"end":1796603637131.5,"duration_ms":0.25,
            "children":[{"name":"c","start":1796603637130,"duration_ms":12.345678}]}"#;
        let (batch, _) = batch_from_simple_trace(body).unwrap();
        assert_eq!(batch.spans[0].start_ns, 1_796_603_637_130_000_000);
        assert_eq!(batch.spans[0].end_ns, 1_796_603_637_131_500_000);
        assert_eq!(batch.spans[1].start_ns, 1_796_603_637_130_000_000);
        assert_eq!(
            batch.spans[1].end_ns,
            1_796_603_637_130_000_000 + 12_345_678
        );
        assert_eq!(super::ms_to_nanos(0.000_001), 1);
    }

    /// A huge `start` and `duration_ms` end late, never wrapped around to
    /// before the start (and never overflow).
    #[test]
    fn huge_times_saturate_instead_of_wrapping() {
        for body in [
            br#"{"name":"t","start":99999999999999,"duration_ms":1e300}"#.as_slice(),
            br#"{"name":"t","start":9223372036854,"duration_ms":9223372036854}"#,
            br#"{"name":"t","duration_ms":1e300,"children":[{"name":"c","duration_ms":1e300}]}"#,
        ] {
            let (batch, _) = batch_from_simple_trace(body).unwrap();
            for span in &batch.spans {
                assert!(span.start_ns >= 0, "{span:?}");
                assert!(span.end_ns >= span.start_ns, "{span:?}");
            }
        }
    }
}
