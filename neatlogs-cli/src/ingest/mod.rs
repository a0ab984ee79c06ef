//! From the wire to rows: decoding OTLP (protobuf, JSON, gzip), the browser
//! SDK's simple-trace JSON and the SDK's JSON-lines file into a [`Batch`]
//! that the store writes in one transaction.
//!
//! Ingest extracts what each span *claims* (an end-user, a session,
//! metadata). Which claim counts is the store's business: only the trace
//! root's, the same rule as the SDK, enforced again here because other SDKs
//! send data too.

mod decode;
mod depth;
mod file;
pub mod llm;
pub mod metrics;
mod otlp;
mod simple;

pub use decode::{
    decode_cost, decode_otlp, decompress, decompress_within, Encoding, MAX_BODY_BYTES,
};
pub use depth::{MAX_VALUE_DEPTH, TOO_DEEP};
pub use file::{read_jsonl, FileReport};
pub use otlp::batch_from_otlp;
pub use simple::batch_from_simple_trace;

use neatlogs::wire::{resource, span, trace_complete};

/// Why a request was refused. Each maps to one HTTP status.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// Not valid OTLP (or simple-trace JSON): HTTP 400.
    #[error("{0}")]
    Malformed(String),
    /// Over the size limit, before or after decompression: HTTP 413.
    #[error("{0}")]
    TooLarge(String),
    /// A content type or encoding this collector does not speak: HTTP 415.
    #[error("{0}")]
    Unsupported(String),
    /// The collector is busy with other requests (its ingest memory budget
    /// is taken): HTTP 503 with `Retry-After`; sending again later works.
    #[error("{0}")]
    Overloaded(String),
}

/// Span status, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpanStatus {
    /// No status was set.
    Unset,
    /// Explicitly OK.
    Ok,
    /// Failed.
    Error,
}

impl SpanStatus {
    /// The stored text: `unset`, `ok` or `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            SpanStatus::Unset => "unset",
            SpanStatus::Ok => "ok",
            SpanStatus::Error => "error",
        }
    }
}

/// What a resource says about whoever sent the spans.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResourceRow {
    /// `service.name`.
    pub service: Option<String>,
    /// `neatlogs.workflow_name`, else `service.name`.
    pub workflow: Option<String>,
    /// `user.id`: the operator running the SDK, never the end-user.
    pub operator: Option<String>,
    /// `session.id`: the process-wide session.
    pub session: Option<String>,
    /// Every resource attribute, as a JSON object.
    pub attributes: String,
}

/// One span, ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct SpanRow {
    /// 32 lowercase hex digits.
    pub trace_id: String,
    /// 16 lowercase hex digits.
    pub span_id: String,
    /// `None` for a span that says it is a root.
    pub parent_span_id: Option<String>,
    /// Span name.
    pub name: String,
    /// `openinference.span.kind` (`LLM`, `TOOL`, ...).
    pub kind: Option<String>,
    /// Start, ns since the epoch.
    pub start_ns: i64,
    /// End, ns since the epoch (never before the start).
    pub end_ns: i64,
    /// Status code.
    pub status: SpanStatus,
    /// Status message, when there is one.
    pub status_message: Option<String>,
    /// The model, from any of the three conventions (see [`llm`]).
    pub model: Option<String>,
    /// Prompt tokens (`neatlogs.llm.token_count.prompt`,
    /// `llm.token_count.prompt`, `gen_ai.usage.input_tokens`).
    pub input_tokens: Option<i64>,
    /// Completion tokens.
    pub output_tokens: Option<i64>,
    /// Prompt tokens read from the provider's cache.
    pub cache_read_tokens: Option<i64>,
    /// Prompt tokens written to the provider's cache.
    pub cache_write_tokens: Option<i64>,
    /// Reasoning tokens (counted inside the completion tokens).
    pub reasoning_tokens: Option<i64>,
    /// The cost the sender gives (`llm.cost.total`, ...), in nano-dollars.
    /// The store prices the others from its price table.
    pub sender_cost: Option<crate::pricing::Nanos>,
    /// The `neatlogs.trace.complete` marker the SDK sends when a root ends.
    pub is_marker: bool,
    /// `neatlogs.end_user.id` (or `enduser.id`) on this span. Counts only
    /// if this span is the trace's root.
    pub claimed_end_user: Option<String>,
    /// `neatlogs.session.id` (or `session.id`) on this span; root only.
    pub claimed_session: Option<String>,
    /// `neatlogs.end_user.metadata` on this span, as a JSON object; root only.
    pub claimed_metadata: Option<String>,
    /// Index into [`Batch::resources`].
    pub resource: usize,
    /// Every span attribute, as a JSON object.
    pub attributes: String,
    /// Spans of other traces this span links to (OTLP `Span.links`): a
    /// trace started from another without continuing it, such as a job
    /// spawned from a request (`neatlogs::new_trace`). At most
    /// [`MAX_LINKS_PER_SPAN`]; links with malformed ids are skipped.
    pub links: Vec<SpanLink>,
}

/// One OTLP span link: the linked span's trace and span ids (lower-case hex).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpanLink {
    /// 32 lowercase hex digits.
    pub trace_id: String,
    /// 16 lowercase hex digits.
    pub span_id: String,
}

/// The most links kept per span (the OpenTelemetry SDKs' default limit).
pub const MAX_LINKS_PER_SPAN: usize = 128;

/// Everything one request (or one file line) carries.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Batch {
    /// Resources, referenced by [`SpanRow::resource`].
    pub resources: Vec<ResourceRow>,
    /// Spans.
    pub spans: Vec<SpanRow>,
    /// Usage points (from OTLP metrics lines of a file).
    pub usage: Vec<metrics::UsageRow>,
}

/// Where the collector looks for each claim, in order of preference: the
/// SDK's own key first, then the OpenTelemetry and OpenInference keys other
/// SDKs send. Every key comes from [`neatlogs::wire`], the definition the
/// SDK writes with.
pub(crate) mod keys {
    use neatlogs::wire::{resource, span};

    /// The end-user's id: the SDK's key, then the OpenTelemetry one.
    pub const END_USER_ID: &[&str] = &[span::END_USER_ID, span::ENDUSER_ID];
    /// The session: the SDK's root key, then `session.id` (also a resource key).
    pub const SESSION_ID: &[&str] = &[span::SESSION, resource::SESSION];
    /// The span kind: OpenInference's upper-case key, then the SDK's own.
    pub const SPAN_KIND: &[&str] = &[span::OPENINFERENCE_KIND, span::NEATLOGS_KIND];
    // The model and token counts: see `llm`, which reads all three
    // conventions.
}

/// The claims and derived fields common to OTLP and simple-trace spans,
/// read from a span's attributes (as JSON).
pub(crate) struct Claims {
    pub kind: Option<String>,
    pub llm: llm::LlmFacts,
    pub is_marker: bool,
    pub end_user: Option<String>,
    /// An end-user id was claimed but breaks the identity rules: the span
    /// has none, and no default may stand in for it.
    pub end_user_rejected: bool,
    pub session: Option<String>,
    pub metadata: Option<String>,
}

/// A session id that follows the identity rules (as `neatlogs` validates
/// one: the same rules as an end-user id).
fn valid_session(session: &str) -> bool {
    matches!(neatlogs::EndUserId::parse(session), Ok(Some(_)))
}

impl Claims {
    pub(crate) fn read(name: &str, attrs: &serde_json::Map<String, serde_json::Value>) -> Claims {
        use serde_json::Value;
        let text = |key: &str| -> Option<String> {
            match attrs.get(key)? {
                Value::String(s) if !s.is_empty() => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            }
        };
        let first_text = |keys: &[&str]| keys.iter().find_map(|k| text(k));
        let kind = first_text(keys::SPAN_KIND).map(|k| k.to_uppercase());
        let is_marker = match attrs.get(trace_complete::ATTRIBUTE) {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => s == "true",
            _ => false,
        } || name == trace_complete::NAME;
        let metadata = match attrs.get(span::END_USER_METADATA) {
            Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
                Ok(v @ Value::Object(_)) => Some(v.to_string()),
                _ => None,
            },
            Some(v @ Value::Object(_)) => Some(v.to_string()),
            _ => None,
        };
        // The SDK's identity rules (`neatlogs::EndUserId`): a sender's id
        // that breaks them (blank, padded, control or bidi characters, too
        // long) is no end-user, and is not replaced by any other.
        let end_user = first_text(keys::END_USER_ID);
        let end_user_rejected = end_user
            .as_deref()
            .is_some_and(|id| !matches!(neatlogs::EndUserId::parse(id), Ok(Some(_))));
        let end_user = end_user.filter(|_| !end_user_rejected);
        let session = first_text(keys::SESSION_ID).filter(|s| valid_session(s));
        Claims {
            kind,
            llm: llm::LlmFacts::read(attrs),
            is_marker,
            end_user,
            end_user_rejected,
            session,
            metadata: metadata.filter(|_| !end_user_rejected),
        }
    }
}

impl ResourceRow {
    pub(crate) fn from_attributes(attrs: &serde_json::Map<String, serde_json::Value>) -> Self {
        let text = |key: &str| match attrs.get(key) {
            Some(serde_json::Value::String(s)) if !s.is_empty() => Some(s.clone()),
            _ => None,
        };
        let service = text(resource::SERVICE_NAME);
        ResourceRow {
            workflow: text(resource::WORKFLOW_NAME).or_else(|| service.clone()),
            service,
            // `neatlogs.user.id` when the sender wrote another vocabulary
            // too (where `user.id` is an end-user's key); else `user.id`.
            operator: text(span::OPERATOR).or_else(|| text(resource::OPERATOR)),
            session: text(resource::SESSION),
            attributes: serde_json::Value::Object(attrs.clone()).to_string(),
        }
    }
}

/// Fresh random bytes for ids the sender did not give (simple traces).
pub(crate) fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    if getrandom::fill(&mut buf).is_err() || buf.iter().all(|b| *b == 0) {
        // No OS randomness: fall back to the clock and a counter, which is
        // still unique within this process.
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNTER: AtomicU64 = AtomicU64::new(1);
        let seed = (crate::time::now_nanos() as u64) ^ COUNTER.fetch_add(1, Ordering::Relaxed);
        for (i, b) in buf.iter_mut().enumerate() {
            *b = (seed.rotate_left((i as u32 * 8) % 64) & 0xff) as u8 | 1;
        }
    }
    hex(&buf)
}

/// Lowercase hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_operator_is_read_from_either_resource_key() {
        let attrs = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), serde_json::Value::from(*v)))
                .collect::<serde_json::Map<_, _>>()
        };
        let row = ResourceRow::from_attributes(&attrs(&[("user.id", "ops")]));
        assert_eq!(row.operator.as_deref(), Some("ops"));
        let row = ResourceRow::from_attributes(&attrs(&[("neatlogs.user.id", "ops")]));
        assert_eq!(row.operator.as_deref(), Some("ops"));
        let row = ResourceRow::from_attributes(&attrs(&[]));
        assert_eq!(row.operator, None);
    }
}
