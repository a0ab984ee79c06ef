//! Reading traces: the filtered list and one trace with its spans.

use rusqlite::types::Value as SqlValue;
use rusqlite::{params_from_iter, OptionalExtension, Row};
use serde::Serialize;
use serde_json::Value;

use super::{Store, StoreError};
use crate::filter::Filter;
use crate::pricing::nanos_to_usd;
use crate::time;

/// One trace, as listed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TraceSummary {
    /// 32 hex digits.
    pub trace_id: String,
    /// The root span's name (or the earliest span's, while the root has not
    /// arrived).
    pub name: Option<String>,
    /// `neatlogs.workflow_name`, else `service.name`.
    pub workflow: Option<String>,
    /// The end-user from the root span; `None` when the root carried none.
    pub end_user: Option<String>,
    /// The session (root's `neatlogs.session.id`, else the process session).
    pub session: Option<String>,
    /// The operator (`user.id` on the resource): who ran the SDK.
    pub operator: Option<String>,
    /// End-user metadata sent on the root.
    pub end_user_metadata: Option<Value>,
    /// `ok`, or `error` when any span failed.
    pub status: String,
    /// Start, RFC 3339 UTC.
    pub start: String,
    /// Start, ns since the epoch.
    pub start_unix_nano: i64,
    /// Root duration (span range until the root arrives), in milliseconds.
    pub duration_ms: f64,
    /// Spans, not counting the completion marker.
    pub span_count: i64,
    /// Spans with an error status.
    pub error_count: i64,
    /// LLM input tokens over all spans.
    pub input_tokens: i64,
    /// LLM output tokens over all spans.
    pub output_tokens: i64,
    /// What the trace's LLM calls cost, in USD: the senders' figures, else
    /// the price table's; `None` when no call has a known cost.
    pub cost_usd: Option<f64>,
    /// LLM spans with tokens but no known cost (a model not in the price
    /// table): when more than 0, `cost_usd` covers only the others.
    pub unpriced_spans: i64,
    /// Whether the root has arrived.
    pub has_root: bool,
    /// Whether the SDK's `neatlogs.trace.complete` marker has arrived.
    pub complete: bool,
    #[serde(skip)]
    pub(crate) duration_ns: i64,
}

/// One span of a trace.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SpanView {
    /// 16 hex digits.
    pub span_id: String,
    /// `None` for the root.
    pub parent_span_id: Option<String>,
    /// Span name.
    pub name: String,
    /// `LLM`, `TOOL`, ...
    pub kind: Option<String>,
    /// Start, RFC 3339 UTC.
    pub start: String,
    /// Start, ns since the epoch.
    pub start_unix_nano: i64,
    /// Duration in milliseconds.
    pub duration_ms: f64,
    /// `unset`, `ok` or `error`.
    pub status: String,
    /// The status message, if any.
    pub status_message: Option<String>,
    /// The model (the response model when the span names both).
    pub model: Option<String>,
    /// LLM input tokens.
    pub input_tokens: Option<i64>,
    /// LLM output tokens.
    pub output_tokens: Option<i64>,
    /// Prompt tokens read from the provider's cache.
    pub cache_read_tokens: Option<i64>,
    /// Prompt tokens written to the provider's cache.
    pub cache_write_tokens: Option<i64>,
    /// Reasoning tokens (inside the output tokens).
    pub reasoning_tokens: Option<i64>,
    /// What this call cost in USD; `None` when unknown.
    pub cost_usd: Option<f64>,
    /// Where the cost came from: `sender` (an attribute on the span) or
    /// `table` (its tokens at the price table's prices).
    pub cost_source: Option<String>,
    /// All attributes.
    pub attributes: Value,
    #[serde(skip)]
    pub(crate) duration_ns: i64,
}

/// How many traces match a filter, counted up to a limit
/// ([`Store::count_traces_up_to`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TraceCount {
    /// Matching traces, or the limit when there are more.
    pub count: u64,
    /// True when the count stopped at the limit: there are more than
    /// `count` matching traces.
    pub is_lower_bound: bool,
}

/// A trace and its spans (in start order, without the completion marker).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TraceDetail {
    /// The summary.
    pub trace: TraceSummary,
    /// The spans.
    pub spans: Vec<SpanView>,
    /// Spans of other traces that this trace's spans link to: the trace it
    /// was started from (a job spawned from a request, a request whose
    /// caller was not trusted).
    pub links: Vec<TraceLink>,
    /// Spans of other traces that link to this trace's spans: the traces
    /// started from it.
    pub linked_from: Vec<TraceLink>,
}

/// One OTLP span link between two traces, seen from one of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TraceLink {
    /// The span of this trace at the link's end.
    pub span_id: String,
    /// The other trace.
    pub other_trace_id: String,
    /// The span of the other trace.
    pub other_span_id: String,
    /// Whether the other trace is stored here.
    pub stored: bool,
}

pub(crate) const SUMMARY_COLUMNS: &str = "t.trace_id, t.name, t.workflow, t.end_user, t.session,
    t.operator, t.end_user_metadata, t.status, t.start_ns, t.duration_ns, t.span_count,
    t.error_count, t.input_tokens, t.output_tokens, t.root_span_id IS NOT NULL, t.complete,
    t.cost_nanos, t.unpriced_spans";

pub(crate) fn summary(row: &Row<'_>) -> rusqlite::Result<TraceSummary> {
    let metadata: Option<String> = row.get(6)?;
    let start_ns: i64 = row.get(8)?;
    let duration_ns: i64 = row.get(9)?;
    Ok(TraceSummary {
        trace_id: row.get(0)?,
        name: row.get(1)?,
        workflow: row.get(2)?,
        end_user: row.get(3)?,
        session: row.get(4)?,
        operator: row.get(5)?,
        end_user_metadata: metadata.and_then(|m| serde_json::from_str(&m).ok()),
        status: row.get(7)?,
        start: time::rfc3339(start_ns),
        start_unix_nano: start_ns,
        duration_ms: duration_ns as f64 / 1e6,
        span_count: row.get(10)?,
        error_count: row.get(11)?,
        input_tokens: row.get(12)?,
        output_tokens: row.get(13)?,
        has_root: row.get(14)?,
        complete: row.get(15)?,
        cost_usd: row.get::<_, Option<i64>>(16)?.map(nanos_to_usd),
        unpriced_spans: row.get(17)?,
        duration_ns,
    })
}

impl Store {
    /// Traces matching `filter`, newest first.
    pub fn list_traces(
        &self,
        filter: &Filter,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<TraceSummary>, StoreError> {
        let condition = self.compile(filter)?;
        let sql = format!(
            "SELECT {SUMMARY_COLUMNS} FROM traces t WHERE {}
             ORDER BY t.start_ns DESC, t.trace_id LIMIT ? OFFSET ?",
            condition.sql
        );
        let mut params: Vec<SqlValue> = condition.params.into_iter().map(SqlValue::Text).collect();
        params.push(SqlValue::Integer(limit.into()));
        params.push(SqlValue::Integer(offset.into()));
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(params_from_iter(params), summary)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// How many traces match `filter`.
    pub fn count_traces(&self, filter: &Filter) -> Result<u64, StoreError> {
        let condition = self.compile(filter)?;
        let sql = format!("SELECT COUNT(*) FROM traces t WHERE {}", condition.sql);
        let n: i64 = self
            .conn
            .prepare_cached(&sql)?
            .query_row(params_from_iter(condition.params.iter()), |r| r.get(0))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// How many traces match `filter`, counting no further than `limit`: the
    /// cost is that of reading `limit` matching rows, however large the
    /// store, where [`count_traces`](Self::count_traces) reads every match.
    ///
    /// ```
    /// let store = neatlogs_cli::store::Store::in_memory().unwrap();
    /// let n = store.count_traces_up_to(&Default::default(), 10_000).unwrap();
    /// assert_eq!((n.count, n.is_lower_bound), (0, false));
    /// ```
    pub fn count_traces_up_to(
        &self,
        filter: &Filter,
        limit: u64,
    ) -> Result<TraceCount, StoreError> {
        let condition = self.compile(filter)?;
        // One row past the limit tells "exactly `limit`" from "more".
        let sql = format!(
            "SELECT COUNT(*) FROM (SELECT 1 FROM traces t WHERE {} LIMIT ?)",
            condition.sql
        );
        let mut params: Vec<SqlValue> = condition.params.into_iter().map(SqlValue::Text).collect();
        params.push(SqlValue::Integer(
            i64::try_from(limit.saturating_add(1)).unwrap_or(i64::MAX),
        ));
        let n: i64 = self
            .conn
            .prepare_cached(&sql)?
            .query_row(params_from_iter(params), |r| r.get(0))?;
        let n = u64::try_from(n).unwrap_or(0);
        Ok(TraceCount {
            count: n.min(limit),
            is_lower_bound: n > limit,
        })
    }

    /// One trace by id, or by a unique prefix of its id.
    pub fn trace(&self, id: &str) -> Result<Option<TraceDetail>, StoreError> {
        let id = id.trim().to_ascii_lowercase();
        let Some(trace_id) = self.resolve_trace_id(&id)? else {
            return Ok(None);
        };
        let summary_row = self
            .conn
            .prepare_cached(&format!(
                "SELECT {SUMMARY_COLUMNS} FROM traces t WHERE t.trace_id = ?1"
            ))?
            .query_row([&trace_id], summary)
            .optional()?;
        let Some(trace) = summary_row else {
            return Ok(None);
        };
        let mut stmt = self.conn.prepare_cached(
            "SELECT span_id, parent_span_id, name, kind, start_ns, end_ns, status, status_message,
                    model, input_tokens, output_tokens, attributes, cache_read_tokens,
                    cache_write_tokens, reasoning_tokens, cost_nanos, cost_source
             FROM spans WHERE trace_id = ?1 AND NOT is_marker ORDER BY start_ns, span_id",
        )?;
        let spans = stmt
            .query_map([&trace_id], |row| {
                let start_ns: i64 = row.get(4)?;
                let end_ns: i64 = row.get(5)?;
                let attributes: String = row.get(11)?;
                Ok(SpanView {
                    span_id: row.get(0)?,
                    parent_span_id: row.get(1)?,
                    name: row.get(2)?,
                    kind: row.get(3)?,
                    start: time::rfc3339(start_ns),
                    start_unix_nano: start_ns,
                    duration_ms: (end_ns - start_ns) as f64 / 1e6,
                    status: row.get(6)?,
                    status_message: row.get(7)?,
                    model: row.get(8)?,
                    input_tokens: row.get(9)?,
                    output_tokens: row.get(10)?,
                    cache_read_tokens: row.get(12)?,
                    cache_write_tokens: row.get(13)?,
                    reasoning_tokens: row.get(14)?,
                    cost_usd: row.get::<_, Option<i64>>(15)?.map(nanos_to_usd),
                    cost_source: row.get(16)?,
                    attributes: serde_json::from_str(&attributes).unwrap_or(Value::Null),
                    duration_ns: end_ns - start_ns,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let links = self.links(
            "SELECT l.span_id, l.linked_trace_id, l.linked_span_id,
                    EXISTS (SELECT 1 FROM traces t WHERE t.trace_id = l.linked_trace_id)
             FROM span_links l WHERE l.trace_id = ?1
             ORDER BY l.linked_trace_id, l.span_id LIMIT 1000",
            &trace_id,
        )?;
        let linked_from = self.links(
            "SELECT l.linked_span_id, l.trace_id, l.span_id,
                    EXISTS (SELECT 1 FROM traces t WHERE t.trace_id = l.trace_id)
             FROM span_links l WHERE l.linked_trace_id = ?1
             ORDER BY l.trace_id, l.span_id LIMIT 1000",
            &trace_id,
        )?;
        Ok(Some(TraceDetail {
            trace,
            spans,
            links,
            linked_from,
        }))
    }

    /// Links of one trace, either way (at most 1,000: a trace that spawned
    /// more lists the first).
    fn links(&self, sql: &str, trace_id: &str) -> Result<Vec<TraceLink>, StoreError> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        let links = stmt
            .query_map([trace_id], |row| {
                Ok(TraceLink {
                    span_id: row.get(0)?,
                    other_trace_id: row.get(1)?,
                    other_span_id: row.get(2)?,
                    stored: row.get(3)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(links)
    }

    fn resolve_trace_id(&self, id: &str) -> Result<Option<String>, StoreError> {
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(None);
        }
        let exact: Option<String> = self
            .conn
            .prepare_cached("SELECT trace_id FROM traces WHERE trace_id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?;
        if exact.is_some() {
            return Ok(exact);
        }
        // Hex digits only, so the prefix's successor is simple.
        let upper = crate::filter::prefix_upper_bound(id).unwrap_or_default();
        let mut stmt = self.conn.prepare_cached(
            "SELECT trace_id FROM traces WHERE trace_id >= ?1 AND trace_id < ?2 LIMIT 2",
        )?;
        let matches: Vec<String> = stmt
            .query_map([id, upper.as_str()], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        match matches.len() {
            0 => Ok(None),
            1 => Ok(matches.into_iter().next()),
            _ => Err(StoreError::AmbiguousTrace {
                prefix: id.to_owned(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::parse;
    use crate::ingest::batch_from_simple_trace;

    #[test]
    fn a_bounded_count_stops_at_its_limit_and_says_so() {
        let mut store = Store::in_memory().unwrap();
        for i in 0..7 {
            let body = serde_json::json!({
                "name": "chat",
                "attributes": { "neatlogs.end_user.id": format!("u_{}", i % 2) }
            });
            let (batch, _) = batch_from_simple_trace(body.to_string().as_bytes()).unwrap();
            store.write(&batch).unwrap();
        }
        let all = Filter::default();
        let u1 = parse("end_user is u_1").unwrap();
        let count = |filter: &Filter, limit| {
            let c = store.count_traces_up_to(filter, limit).unwrap();
            (c.count, c.is_lower_bound)
        };
        assert_eq!(store.count_traces(&all).unwrap(), 7);
        assert_eq!(count(&all, 100), (7, false));
        assert_eq!(count(&all, 7), (7, false), "exactly the limit is exact");
        assert_eq!(count(&all, 6), (6, true));
        assert_eq!(count(&all, 0), (0, true));
        assert_eq!(count(&all, u64::MAX), (7, false));
        assert_eq!(count(&u1, 3), (3, false));
        assert_eq!(count(&u1, 2), (2, true));
    }
}
