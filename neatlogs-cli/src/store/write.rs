//! Writing a batch: spans in, then every touched trace's summary, metadata
//! rows and catalogue entry recomputed from all of its stored spans, all in
//! one transaction.

use std::collections::BTreeSet;

use rusqlite::{params, OptionalExtension, Transaction};
use serde_json::Value;

use super::{Store, StoreError};
use crate::ingest::{Batch, SpanRow};
use crate::pricing::{Nanos, PriceTable, Usage};

/// `spans.cost_source` of a cost the sender gave.
pub(crate) const COST_FROM_SENDER: &str = "sender";
/// `spans.cost_source` of a cost priced from the table.
pub(crate) const COST_FROM_TABLE: &str = "table";

/// What a write stored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriteSummary {
    /// Spans written (a re-sent span replaces the stored one).
    pub spans: usize,
    /// Traces whose summary was recomputed.
    pub traces: usize,
}

/// Deepest metadata nesting that gets `metadata:a.b.c` rows.
const MAX_METADATA_DEPTH: usize = 8;

impl Store {
    /// Stores a batch in one transaction: all of it or, on error, none.
    ///
    /// ```
    /// use neatlogs_cli::{ingest, store::Store};
    /// let mut store = Store::in_memory().unwrap();
    /// let body = br#"{"name":"chat","attributes":{"neatlogs.end_user.id":"u_1"}}"#;
    /// let (batch, trace_id) = ingest::batch_from_simple_trace(body).unwrap();
    /// store.write(&batch).unwrap();
    /// let trace = store.trace(&trace_id).unwrap().unwrap();
    /// assert_eq!(trace.trace.end_user.as_deref(), Some("u_1"));
    /// ```
    pub fn write(&mut self, batch: &Batch) -> Result<WriteSummary, StoreError> {
        let tx = self.conn.transaction()?;
        let resource_ids = insert_resources(&tx, batch)?;
        let mut touched = BTreeSet::new();
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO spans (trace_id, span_id, parent_span_id, name, kind, start_ns, end_ns,
                    status, status_message, model, input_tokens, output_tokens, is_marker,
                    claimed_end_user, claimed_session, claimed_metadata, resource_id, attributes,
                    cache_read_tokens, cache_write_tokens, reasoning_tokens, cost_nanos, cost_source)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
                    ?19, ?20, ?21, ?22, ?23)
                 ON CONFLICT (trace_id, span_id) DO UPDATE SET
                    parent_span_id = excluded.parent_span_id, name = excluded.name,
                    kind = excluded.kind, start_ns = excluded.start_ns, end_ns = excluded.end_ns,
                    status = excluded.status, status_message = excluded.status_message,
                    model = excluded.model, input_tokens = excluded.input_tokens,
                    output_tokens = excluded.output_tokens, is_marker = excluded.is_marker,
                    claimed_end_user = excluded.claimed_end_user,
                    claimed_session = excluded.claimed_session,
                    claimed_metadata = excluded.claimed_metadata,
                    resource_id = excluded.resource_id, attributes = excluded.attributes,
                    cache_read_tokens = excluded.cache_read_tokens,
                    cache_write_tokens = excluded.cache_write_tokens,
                    reasoning_tokens = excluded.reasoning_tokens,
                    cost_nanos = excluded.cost_nanos, cost_source = excluded.cost_source",
            )?;
            for span in &batch.spans {
                let resource_id = resource_ids.get(span.resource).copied().unwrap_or(0);
                let (cost, cost_source) = span_cost(&self.prices, span);
                insert.execute(params![
                    span.trace_id,
                    span.span_id,
                    span.parent_span_id,
                    span.name,
                    span.kind,
                    span.start_ns,
                    span.end_ns,
                    span.status.as_str(),
                    span.status_message,
                    span.model,
                    span.input_tokens,
                    span.output_tokens,
                    span.is_marker,
                    span.claimed_end_user,
                    span.claimed_session,
                    span.claimed_metadata,
                    resource_id,
                    span.attributes,
                    span.cache_read_tokens,
                    span.cache_write_tokens,
                    span.reasoning_tokens,
                    cost,
                    cost_source,
                ])?;
                if !touched.contains(span.trace_id.as_str()) {
                    touched.insert(span.trace_id.clone());
                }
            }
        }
        for trace_id in &touched {
            recompute_trace(&tx, trace_id)?;
        }
        tx.commit()?;
        self.maybe_optimize()?;
        Ok(WriteSummary {
            spans: batch.spans.len(),
            traces: touched.len(),
        })
    }
}

/// A span's cost and where it came from: the sender's own figure wins;
/// else its tokens priced from the table when the model is in it; else
/// none (never a made-up 0).
fn span_cost(prices: &PriceTable, span: &SpanRow) -> (Option<Nanos>, Option<&'static str>) {
    if let Some(cost) = span.sender_cost {
        return (Some(cost), Some(COST_FROM_SENDER));
    }
    let usage = Usage {
        input: span.input_tokens,
        output: span.output_tokens,
        cache_read: span.cache_read_tokens,
        cache_write: span.cache_write_tokens,
    };
    match span
        .model
        .as_deref()
        .and_then(|model| prices.cost(model, &usage))
    {
        Some(cost) => (Some(cost), Some(COST_FROM_TABLE)),
        None => (None, None),
    }
}

fn insert_resources(tx: &Transaction<'_>, batch: &Batch) -> Result<Vec<i64>, StoreError> {
    let mut insert = tx.prepare_cached(
        "INSERT INTO resources (attributes, service, workflow, operator, session)
         VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (attributes) DO NOTHING",
    )?;
    let mut select = tx.prepare_cached("SELECT id FROM resources WHERE attributes = ?1")?;
    let mut ids = Vec::with_capacity(batch.resources.len());
    for r in &batch.resources {
        insert.execute(params![
            r.attributes,
            r.service,
            r.workflow,
            r.operator,
            r.session
        ])?;
        ids.push(select.query_row([&r.attributes], |row| row.get(0))?);
    }
    Ok(ids)
}

/// The span a trace is summarised from.
struct Head {
    span_id: String,
    name: String,
    start_ns: i64,
    end_ns: i64,
    claimed_end_user: Option<String>,
    claimed_session: Option<String>,
    claimed_metadata: Option<String>,
    service: Option<String>,
    workflow: Option<String>,
    operator: Option<String>,
    resource_session: Option<String>,
}

const HEAD_COLUMNS: &str = "s.span_id, s.name, s.start_ns, s.end_ns, s.claimed_end_user,
    s.claimed_session, s.claimed_metadata, r.service, r.workflow, r.operator, r.session";

fn head(row: &rusqlite::Row<'_>) -> rusqlite::Result<Head> {
    Ok(Head {
        span_id: row.get(0)?,
        name: row.get(1)?,
        start_ns: row.get(2)?,
        end_ns: row.get(3)?,
        claimed_end_user: row.get(4)?,
        claimed_session: row.get(5)?,
        claimed_metadata: row.get(6)?,
        service: row.get(7)?,
        workflow: row.get(8)?,
        operator: row.get(9)?,
        resource_session: row.get(10)?,
    })
}

/// Rebuilds one trace's summary from all of its stored spans.
///
/// The root is the span with no parent. Only the root's claims (end-user,
/// session, metadata) count: a child that carries `enduser.id` is ignored,
/// whatever order the spans arrived in. Until the root arrives (or when the
/// trace continues a remote parent) the earliest span whose parent is not
/// stored names the trace, but gives it no end-user.
fn recompute_trace(tx: &Transaction<'_>, trace_id: &str) -> Result<(), StoreError> {
    #[allow(clippy::type_complexity)]
    let (
        span_count,
        error_count,
        min_start,
        max_end,
        input_tokens,
        output_tokens,
        complete,
        cost,
        unpriced_spans,
    ): (
        i64,
        i64,
        Option<i64>,
        Option<i64>,
        i64,
        i64,
        bool,
        Option<Nanos>,
        i64,
    ) = tx
        .prepare_cached(
            "SELECT COUNT(*) FILTER (WHERE NOT is_marker),
                    COUNT(*) FILTER (WHERE NOT is_marker AND status = 'error'),
                    MIN(start_ns) FILTER (WHERE NOT is_marker),
                    MAX(end_ns) FILTER (WHERE NOT is_marker),
                    COALESCE(SUM(input_tokens), 0), COALESCE(SUM(output_tokens), 0),
                    COALESCE(MAX(is_marker), 0), SUM(cost_nanos),
                    COUNT(*) FILTER (WHERE cost_nanos IS NULL
                        AND (input_tokens IS NOT NULL OR output_tokens IS NOT NULL))
             FROM spans WHERE trace_id = ?1",
        )?
        .query_row([trace_id], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
                r.get(8)?,
            ))
        })?;
    tx.prepare_cached(
        "DELETE FROM trace_metadata WHERE trace_rowid = (SELECT id FROM traces WHERE trace_id = ?1)",
    )?
    .execute([trace_id])?;
    let (Some(min_start), Some(max_end)) = (min_start, max_end) else {
        // Only the completion marker so far: nothing to summarise yet.
        tx.prepare_cached("DELETE FROM traces WHERE trace_id = ?1")?
            .execute([trace_id])?;
        return Ok(());
    };

    let root = tx
        .prepare_cached(&format!(
            "SELECT {HEAD_COLUMNS} FROM spans s JOIN resources r ON r.id = s.resource_id
             WHERE s.trace_id = ?1 AND s.parent_span_id IS NULL AND NOT s.is_marker
             ORDER BY s.start_ns, s.span_id LIMIT 1"
        ))?
        .query_row([trace_id], head)
        .optional()?;
    let top = match &root {
        Some(_) => None,
        None => tx
            .prepare_cached(&format!(
                "SELECT {HEAD_COLUMNS} FROM spans s JOIN resources r ON r.id = s.resource_id
                 WHERE s.trace_id = ?1 AND NOT s.is_marker AND s.parent_span_id NOT IN
                     (SELECT span_id FROM spans WHERE trace_id = ?1)
                 ORDER BY s.start_ns, s.span_id LIMIT 1"
            ))?
            .query_row([trace_id], head)
            .optional()?,
    };

    let (start_ns, end_ns) = match &root {
        Some(r) => (r.start_ns, r.end_ns.max(r.start_ns)),
        None => (min_start, max_end.max(min_start)),
    };
    let shown = root.as_ref().or(top.as_ref());
    let end_user = root.as_ref().and_then(|r| r.claimed_end_user.clone());
    let metadata = root.as_ref().and_then(|r| r.claimed_metadata.clone());
    let session = root
        .as_ref()
        .and_then(|r| r.claimed_session.clone())
        .or_else(|| shown.and_then(|h| h.resource_session.clone()));
    let workflow = shown.and_then(|h| h.workflow.clone());
    let rowid: i64 = tx.prepare_cached(
        "INSERT INTO traces (trace_id, root_span_id, name, workflow, service, operator, end_user,
            session, end_user_metadata, status, start_ns, end_ns, duration_ns, span_count,
            error_count, input_tokens, output_tokens, complete, cost_nanos, unpriced_spans)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
            ?19, ?20)
         ON CONFLICT (trace_id) DO UPDATE SET
            root_span_id = excluded.root_span_id, name = excluded.name,
            workflow = excluded.workflow, service = excluded.service,
            operator = excluded.operator, end_user = excluded.end_user,
            session = excluded.session, end_user_metadata = excluded.end_user_metadata,
            status = excluded.status, start_ns = excluded.start_ns, end_ns = excluded.end_ns,
            duration_ns = excluded.duration_ns, span_count = excluded.span_count,
            error_count = excluded.error_count, input_tokens = excluded.input_tokens,
            output_tokens = excluded.output_tokens, complete = excluded.complete,
            cost_nanos = excluded.cost_nanos, unpriced_spans = excluded.unpriced_spans
         RETURNING id",
    )?
    .query_row(params![
        trace_id,
        root.as_ref().map(|r| r.span_id.clone()),
        shown.map(|h| h.name.clone()),
        workflow,
        shown.and_then(|h| h.service.clone()),
        shown.and_then(|h| h.operator.clone()),
        end_user,
        session,
        metadata,
        if error_count > 0 { "error" } else { "ok" },
        start_ns,
        end_ns,
        end_ns - start_ns,
        span_count,
        error_count,
        input_tokens,
        output_tokens,
        complete,
        cost,
        unpriced_spans,
    ], |r| r.get(0))?;

    let parsed_metadata = metadata
        .as_deref()
        .and_then(|m| serde_json::from_str::<Value>(m).ok());
    if let Some(value) = &parsed_metadata {
        let mut rows = Vec::new();
        flatten(value, "", 0, &mut rows);
        let mut insert = tx.prepare_cached(
            "INSERT OR IGNORE INTO trace_metadata (path, value, trace_rowid) VALUES (?1, ?2, ?3)",
        )?;
        for (path, value) in rows {
            insert.execute(params![path, value, rowid])?;
        }
    }

    if let Some(end_user) = &end_user {
        tx.prepare_cached(
            "INSERT INTO end_users (end_user, workflow, first_seen_ns, last_seen_ns, metadata,
                metadata_at_ns)
             VALUES (?1, ?2, ?3, ?4, ?5, CASE WHEN ?5 IS NULL THEN NULL ELSE ?4 END)
             ON CONFLICT (end_user, workflow) DO UPDATE SET
                first_seen_ns = min(first_seen_ns, excluded.first_seen_ns),
                last_seen_ns = max(last_seen_ns, excluded.last_seen_ns),
                metadata = CASE
                    WHEN excluded.metadata IS NOT NULL
                         AND (metadata_at_ns IS NULL OR excluded.metadata_at_ns >= metadata_at_ns)
                    THEN excluded.metadata ELSE metadata END,
                metadata_at_ns = CASE
                    WHEN excluded.metadata IS NOT NULL
                         AND (metadata_at_ns IS NULL OR excluded.metadata_at_ns >= metadata_at_ns)
                    THEN excluded.metadata_at_ns ELSE metadata_at_ns END",
        )?
        .execute(params![
            end_user,
            workflow.as_deref().unwrap_or(""),
            start_ns,
            end_ns,
            metadata,
        ])?;
    }
    Ok(())
}

/// Metadata as `(dotted path, text)` rows: strings as themselves, other
/// scalars and arrays as JSON, objects both as JSON and key by key. Nulls
/// count as not set.
fn flatten(value: &Value, prefix: &str, depth: usize, out: &mut Vec<(String, String)>) {
    let Value::Object(map) = value else { return };
    for (key, v) in map {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match v {
            Value::Null => {}
            Value::String(s) => out.push((path, s.clone())),
            Value::Object(_) => {
                out.push((path.clone(), v.to_string()));
                if depth + 1 < MAX_METADATA_DEPTH {
                    flatten(v, &path, depth + 1, out);
                }
            }
            other => out.push((path, other.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flattens_nested_metadata() {
        let mut rows = Vec::new();
        let v: Value = serde_json::json!({
            "plan": "pro", "seats": 3, "beta": true, "gone": null,
            "org": {"tier": "gold", "tags": ["a", "b"]}
        });
        flatten(&v, "", 0, &mut rows);
        rows.sort();
        assert_eq!(
            rows,
            vec![
                ("beta".into(), "true".into()),
                ("org".into(), r#"{"tags":["a","b"],"tier":"gold"}"#.into()),
                ("org.tags".into(), r#"["a","b"]"#.into()),
                ("org.tier".into(), "gold".into()),
                ("plan".into(), "pro".into()),
                ("seats".into(), "3".into()),
            ]
        );
    }
}
