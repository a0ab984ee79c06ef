//! A trace's summary, kept current span by span.
//!
//! The summary (the `traces` row, its `trace_metadata` rows and the
//! end-user's catalogue entry) is a function of the trace's stored spans;
//! [`update`] gives the rules. A write keeps it current without reading the
//! trace's other spans, so a request costs what it carries, not what its
//! traces already hold:
//!
//! - `trace_totals` holds each trace's running counts, token sums and time
//!   range. A stored span adds itself; a re-sent span first takes the stored
//!   copy out. Only when a re-sent span may have held the earliest start or
//!   the latest end (or a token sum had reached its cap) are the totals
//!   recounted from the trace's spans, once per request.
//! - The root is found through `spans_roots`, a partial index that holds
//!   root spans only.
//! - Until its root arrives, a trace is named after its earliest span whose
//!   parent is not stored. `orphan_spans` lists those spans; a span leaves it
//!   when its parent arrives.

use std::collections::HashSet;

use rusqlite::{params, OptionalExtension, Transaction};
use serde_json::Value;

use super::StoreError;
use crate::ingest::{SpanRow, SpanStatus};

/// Deepest metadata nesting that gets `metadata:a.b.c` rows.
const MAX_METADATA_DEPTH: usize = 8;

/// What a span contributes to its trace's totals.
pub(super) struct SpanFacts {
    parent_span_id: Option<String>,
    start_ns: i64,
    end_ns: i64,
    error: bool,
    input_tokens: i64,
    output_tokens: i64,
    is_marker: bool,
    /// The span's cost, when known.
    cost_nanos: Option<i64>,
    /// It has tokens but no cost: the trace's cost is partial.
    unpriced: bool,
}

/// The `spans` columns [`SpanFacts::from_row`] reads, in order.
pub(super) const FACT_COLUMNS: &str = "parent_span_id, start_ns, end_ns, status, input_tokens,
    output_tokens, is_marker, cost_nanos";

impl SpanFacts {
    /// From a row selected with [`FACT_COLUMNS`].
    pub(super) fn from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<SpanFacts> {
        let input: Option<i64> = row.get(4)?;
        let output: Option<i64> = row.get(5)?;
        let cost_nanos: Option<i64> = row.get(7)?;
        Ok(SpanFacts {
            parent_span_id: row.get(0)?,
            start_ns: row.get(1)?,
            end_ns: row.get(2)?,
            error: row.get::<_, String>(3)? == SpanStatus::Error.as_str(),
            input_tokens: input.unwrap_or(0),
            output_tokens: output.unwrap_or(0),
            is_marker: row.get(6)?,
            cost_nanos,
            unpriced: cost_nanos.is_none() && (input.is_some() || output.is_some()),
        })
    }

    /// From a span about to be stored with cost `cost_nanos`.
    pub(super) fn of(span: &SpanRow, cost_nanos: Option<i64>) -> SpanFacts {
        SpanFacts {
            parent_span_id: span.parent_span_id.clone(),
            start_ns: span.start_ns,
            end_ns: span.end_ns,
            error: span.status == SpanStatus::Error,
            input_tokens: span.input_tokens.unwrap_or(0),
            output_tokens: span.output_tokens.unwrap_or(0),
            is_marker: span.is_marker,
            cost_nanos,
            unpriced: cost_nanos.is_none()
                && (span.input_tokens.is_some() || span.output_tokens.is_some()),
        }
    }
}

/// A trace's running totals over its stored spans (a `trace_totals` row).
///
/// Counts, range and errors are over the spans that are not the completion
/// marker; token sums are over every span. Sums are stored capped to the
/// range of an `i64`.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Totals {
    spans: i64,
    errors: i64,
    markers: i64,
    start_ns: Option<i64>,
    end_ns: Option<i64>,
    input_tokens: i128,
    output_tokens: i128,
    /// The sum of the known costs, and how many spans have one (the
    /// trace's cost is NULL when none has).
    cost_nanos: i128,
    priced: i64,
    /// Spans with tokens but no cost.
    unpriced: i64,
    /// A stored sum was at its cap: its exact value is unknown.
    capped: bool,
    /// A span was taken out that may have held the range's start or end,
    /// or part of a capped sum: recount before use.
    stale: bool,
}

impl Totals {
    /// The stored totals of `trace_id` (all zero for a trace not stored yet).
    pub(super) fn load(tx: &Transaction<'_>, trace_id: &str) -> Result<Totals, StoreError> {
        let totals = tx
            .prepare_cached(
                "SELECT spans, errors, markers, start_ns, end_ns, input_tokens, output_tokens,
                    cost_nanos, priced, unpriced
                 FROM trace_totals WHERE trace_id = ?1",
            )?
            .query_row([trace_id], |r| {
                let input_tokens: i64 = r.get(5)?;
                let output_tokens: i64 = r.get(6)?;
                let cost_nanos: i64 = r.get(7)?;
                let at_cap = |n: i64| n == i64::MAX || n == i64::MIN;
                Ok(Totals {
                    spans: r.get(0)?,
                    errors: r.get(1)?,
                    markers: r.get(2)?,
                    start_ns: r.get(3)?,
                    end_ns: r.get(4)?,
                    input_tokens: input_tokens.into(),
                    output_tokens: output_tokens.into(),
                    cost_nanos: cost_nanos.into(),
                    priced: r.get(8)?,
                    unpriced: r.get(9)?,
                    capped: at_cap(input_tokens) || at_cap(output_tokens) || at_cap(cost_nanos),
                    stale: false,
                })
            })
            .optional()?;
        Ok(totals.unwrap_or_default())
    }

    /// The totals of `trace_id` counted from all of its stored spans.
    pub(super) fn recount(tx: &rusqlite::Connection, trace_id: &str) -> Result<Totals, StoreError> {
        let mut totals = Totals::default();
        let mut select = tx.prepare_cached(&format!(
            "SELECT {FACT_COLUMNS} FROM spans WHERE trace_id = ?1"
        ))?;
        let mut rows = select.query([trace_id])?;
        while let Some(row) = rows.next()? {
            totals.add(&SpanFacts::from_row(row)?);
        }
        Ok(totals)
    }

    /// Counts a newly stored span.
    pub(super) fn add(&mut self, span: &SpanFacts) {
        if span.is_marker {
            self.markers += 1;
        } else {
            self.spans += 1;
            self.errors += i64::from(span.error);
            self.start_ns = Some(
                self.start_ns
                    .map_or(span.start_ns, |s| s.min(span.start_ns)),
            );
            self.end_ns = Some(self.end_ns.map_or(span.end_ns, |e| e.max(span.end_ns)));
        }
        self.input_tokens += i128::from(span.input_tokens);
        self.output_tokens += i128::from(span.output_tokens);
        if let Some(cost) = span.cost_nanos {
            self.cost_nanos += i128::from(cost);
            self.priced += 1;
        }
        self.unpriced += i64::from(span.unpriced);
    }

    /// Takes out a stored span that is being replaced.
    pub(super) fn remove(&mut self, span: &SpanFacts) {
        if span.is_marker {
            self.markers -= 1;
        } else {
            self.spans -= 1;
            self.errors -= i64::from(span.error);
            // The range cannot shrink by subtraction: if this span held
            // either end, only the remaining spans can tell the new one.
            if self.start_ns.is_none_or(|s| span.start_ns <= s)
                || self.end_ns.is_none_or(|e| span.end_ns >= e)
            {
                self.stale = true;
            }
        }
        self.input_tokens -= i128::from(span.input_tokens);
        self.output_tokens -= i128::from(span.output_tokens);
        if let Some(cost) = span.cost_nanos {
            self.cost_nanos -= i128::from(cost);
            self.priced -= 1;
        }
        self.unpriced -= i64::from(span.unpriced);
        if self.capped
            && (span.input_tokens != 0 || span.output_tokens != 0 || span.cost_nanos.is_some())
        {
            self.stale = true;
        }
    }

    fn save(&self, tx: &rusqlite::Connection, trace_id: &str) -> Result<(), StoreError> {
        tx.prepare_cached(
            "INSERT INTO trace_totals (trace_id, spans, errors, markers, start_ns, end_ns,
                input_tokens, output_tokens, cost_nanos, priced, unpriced)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
             ON CONFLICT (trace_id) DO UPDATE SET
                spans = excluded.spans, errors = excluded.errors, markers = excluded.markers,
                start_ns = excluded.start_ns, end_ns = excluded.end_ns,
                input_tokens = excluded.input_tokens, output_tokens = excluded.output_tokens,
                cost_nanos = excluded.cost_nanos, priced = excluded.priced,
                unpriced = excluded.unpriced",
        )?
        .execute(params![
            trace_id,
            self.spans,
            self.errors,
            self.markers,
            self.start_ns,
            self.end_ns,
            capped(self.input_tokens),
            capped(self.output_tokens),
            capped(self.cost_nanos),
            self.priced,
            self.unpriced,
        ])?;
        Ok(())
    }

    /// The trace's cost: NULL when no span has one.
    fn cost(&self) -> Option<i64> {
        (self.priced > 0).then(|| capped(self.cost_nanos))
    }
}

fn capped(sum: i128) -> i64 {
    i64::try_from(sum).unwrap_or(if sum < 0 { i64::MIN } else { i64::MAX })
}

/// Keeps `orphan_spans` current after `span` was stored (replacing
/// `replaced`, if it was already stored). `arriving` holds the
/// `(trace, span)` ids of the whole request: a parent among them is stored
/// by the end of the transaction.
pub(super) fn track_orphans(
    tx: &Transaction<'_>,
    span: &SpanRow,
    replaced: Option<&SpanFacts>,
    arriving: &HashSet<(&str, &str)>,
) -> Result<(), StoreError> {
    match replaced {
        Some(old) => {
            if let (false, Some(parent)) = (old.is_marker, &old.parent_span_id) {
                tx.prepare_cached(
                    "DELETE FROM orphan_spans
                     WHERE trace_id = ?1 AND parent_span_id = ?2 AND span_id = ?3",
                )?
                .execute(params![span.trace_id, parent, span.span_id])?;
            }
        }
        // A new span: the spans waiting for it as their parent have it now.
        None => {
            tx.prepare_cached(
                "DELETE FROM orphan_spans WHERE trace_id = ?1 AND parent_span_id = ?2",
            )?
            .execute(params![span.trace_id, span.span_id])?;
        }
    }
    let Some(parent) = span.parent_span_id.as_deref() else {
        return Ok(());
    };
    if span.is_marker || arriving.contains(&(span.trace_id.as_str(), parent)) {
        return Ok(());
    }
    let parent_stored = tx
        .prepare_cached("SELECT 1 FROM spans WHERE trace_id = ?1 AND span_id = ?2")?
        .exists(params![span.trace_id, parent])?;
    if !parent_stored {
        tx.prepare_cached(
            "INSERT OR REPLACE INTO orphan_spans (trace_id, parent_span_id, span_id, start_ns)
             VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![span.trace_id, parent, span.span_id, span.start_ns])?;
    }
    Ok(())
}

/// Fills `trace_totals` and `orphan_spans` from the stored spans, for a
/// store written before they existed.
pub(super) fn backfill(tx: &rusqlite::Connection) -> Result<(), StoreError> {
    tx.execute_batch(
        "DELETE FROM trace_totals;
         DELETE FROM orphan_spans;
         INSERT INTO orphan_spans (trace_id, parent_span_id, span_id, start_ns)
         SELECT s.trace_id, s.parent_span_id, s.span_id, s.start_ns FROM spans s
         WHERE NOT s.is_marker AND s.parent_span_id IS NOT NULL AND NOT EXISTS
             (SELECT 1 FROM spans p WHERE p.trace_id = s.trace_id AND p.span_id = s.parent_span_id);",
    )?;
    let trace_ids: Vec<String> = tx
        .prepare("SELECT DISTINCT trace_id FROM spans")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for trace_id in &trace_ids {
        Totals::recount(tx, trace_id)?.save(tx, trace_id)?;
    }
    Ok(())
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

/// Brings one trace's summary up to date with its `totals` (recounted
/// first if stale), after a write touched it.
///
/// The root is the span with no parent (the earliest, should there be
/// several). Only the root's claims (end-user, session, metadata) count: a
/// child that carries `enduser.id` is ignored, whatever order the spans
/// arrived in. Until the root arrives (or when the trace continues a remote
/// parent) the earliest span whose parent is not stored names the trace,
/// but gives it no end-user; its time range is then that of all its spans.
pub(super) fn update(
    tx: &Transaction<'_>,
    trace_id: &str,
    totals: &mut Totals,
) -> Result<(), StoreError> {
    if totals.stale {
        *totals = Totals::recount(tx, trace_id)?;
    }
    totals.save(tx, trace_id)?;
    let previous: Option<(i64, Option<String>)> = tx
        .prepare_cached("SELECT id, end_user_metadata FROM traces WHERE trace_id = ?1")?
        .query_row([trace_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let (true, Some(min_start), Some(max_end)) = (totals.spans > 0, totals.start_ns, totals.end_ns)
    else {
        // Only the completion marker so far: nothing to summarise yet.
        if let Some((rowid, _)) = previous {
            tx.prepare_cached("DELETE FROM trace_metadata WHERE trace_rowid = ?1")?
                .execute([rowid])?;
            tx.prepare_cached("DELETE FROM traces WHERE id = ?1")?
                .execute([rowid])?;
        }
        return Ok(());
    };

    // Both lookups are index searches (`spans_roots`, `orphan_spans_first`)
    // that stop at the first row.
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
                "SELECT {HEAD_COLUMNS} FROM orphan_spans o
                 JOIN spans s ON s.trace_id = o.trace_id AND s.span_id = o.span_id
                 JOIN resources r ON r.id = s.resource_id
                 WHERE o.trace_id = ?1
                 ORDER BY o.start_ns, o.span_id LIMIT 1"
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
        if totals.errors > 0 { "error" } else { "ok" },
        start_ns,
        end_ns,
        end_ns - start_ns,
        totals.spans,
        totals.errors,
        capped(totals.input_tokens),
        capped(totals.output_tokens),
        totals.markers > 0,
        totals.cost(),
        totals.unpriced,
    ], |r| r.get(0))?;

    // The metadata rows follow the root's metadata: rewritten only when it
    // changed (or the trace is new).
    if previous.map(|(_, m)| m) != Some(metadata.clone()) {
        tx.prepare_cached("DELETE FROM trace_metadata WHERE trace_rowid = ?1")?
            .execute([rowid])?;
        let parsed_metadata = metadata
            .as_deref()
            .and_then(|m| serde_json::from_str::<Value>(m).ok());
        if let Some(value) = &parsed_metadata {
            let mut rows = Vec::new();
            flatten(value, "", 0, &mut rows);
            let mut insert = tx.prepare_cached(
                "INSERT OR IGNORE INTO trace_metadata (path, value, trace_rowid)
                 VALUES (?1, ?2, ?3)",
            )?;
            for (path, value) in rows {
                insert.execute(params![path, value, rowid])?;
            }
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
        // An object's text is compared as JSON: its key order is
        // serde_json's (sorted, or as given with `preserve_order`).
        let org = rows.iter().position(|(k, _)| k == "org").expect("org");
        let text: String = rows.remove(org).1;
        assert_eq!(
            serde_json::from_str::<Value>(&text).unwrap(),
            serde_json::json!({"tags": ["a", "b"], "tier": "gold"})
        );
        assert_eq!(
            rows,
            vec![
                ("beta".into(), "true".into()),
                ("org.tags".into(), r#"["a","b"]"#.into()),
                ("org.tier".into(), "gold".into()),
                ("plan".into(), "pro".into()),
                ("seats".into(), "3".into()),
            ]
        );
    }
}
