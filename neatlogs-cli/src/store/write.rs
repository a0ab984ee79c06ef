//! Writing a batch: spans in, then every touched trace's summary, metadata
//! rows and catalogue entry brought up to date, all in one transaction.
//!
//! A write costs what it carries: each span is an upsert and a few index
//! lookups, and each touched trace's summary is updated from running totals
//! (see [`super::summary`]), never re-read from all of the trace's spans.

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, HashSet};

use rusqlite::{params, OptionalExtension, Transaction};

use super::summary::{self, SpanFacts, Totals, FACT_COLUMNS};
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
    /// Traces whose summary was updated.
    pub traces: usize,
}

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
        super::usage::upsert(&tx, &self.prices, &batch.usage)?;
        // Every (trace, span) id of the request: a parent among them is
        // stored by the end of the transaction, whatever the order.
        let arriving: HashSet<(&str, &str)> = batch
            .spans
            .iter()
            .map(|s| (s.trace_id.as_str(), s.span_id.as_str()))
            .collect();
        let mut touched: BTreeMap<&str, Totals> = BTreeMap::new();
        {
            let mut stored = tx.prepare_cached(&format!(
                "SELECT {FACT_COLUMNS} FROM spans WHERE trace_id = ?1 AND span_id = ?2"
            ))?;
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
            let mut link = tx.prepare_cached(
                "INSERT OR IGNORE INTO span_links (trace_id, span_id, linked_trace_id, linked_span_id)
                 VALUES (?1, ?2, ?3, ?4)",
            )?;
            for span in &batch.spans {
                for linked in &span.links {
                    link.execute(params![
                        span.trace_id,
                        span.span_id,
                        linked.trace_id,
                        linked.span_id
                    ])?;
                }
                let resource_id = resource_ids.get(span.resource).copied().unwrap_or(0);
                let (cost, cost_source) = span_cost(&self.prices, span);
                let replaced = stored
                    .query_row(params![span.trace_id, span.span_id], SpanFacts::from_row)
                    .optional()?;
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
                let totals = match touched.entry(span.trace_id.as_str()) {
                    Entry::Occupied(entry) => entry.into_mut(),
                    Entry::Vacant(entry) => entry.insert(Totals::load(&tx, &span.trace_id)?),
                };
                if let Some(old) = &replaced {
                    totals.remove(old);
                }
                totals.add(&SpanFacts::of(span, cost));
                summary::track_orphans(&tx, span, replaced.as_ref(), &arriving)?;
            }
        }
        for (trace_id, totals) in &mut touched {
            summary::update(&tx, trace_id, totals)?;
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

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;

    use super::*;
    use crate::ingest::{ResourceRow, SpanRow, SpanStatus};

    /// SQLite virtual-machine instructions run by one write: a measure of
    /// its work that, unlike its time, is the same on every run.
    fn instructions(store: &mut Store, batch: &Batch) -> u64 {
        let count = Arc::new(AtomicU64::new(0));
        let counter = count.clone();
        store
            .conn
            .progress_handler(
                1,
                Some(move || {
                    counter.fetch_add(1, Ordering::Relaxed);
                    false
                }),
            )
            .unwrap();
        store.write(batch).unwrap();
        store
            .conn
            .progress_handler(0, None::<fn() -> bool>)
            .unwrap();
        count.load(Ordering::Relaxed)
    }

    /// Spans `first..first + 50` of one long trace: steps of nine calls,
    /// each call before its step, as spans arrive when they end. Span 0 is
    /// the root.
    fn fifty(first: u64) -> Batch {
        let spans = (first..first + 50)
            .map(|n| {
                let parent = if n == 0 {
                    None
                } else if n.is_multiple_of(10) {
                    Some(0)
                } else {
                    Some((n / 10 + 1) * 10)
                };
                SpanRow {
                    trace_id: "7".repeat(32),
                    span_id: format!("{n:016x}"),
                    parent_span_id: parent.map(|p| format!("{p:016x}")),
                    name: "call".into(),
                    kind: None,
                    start_ns: 1_000 + n as i64,
                    end_ns: 2_000 + n as i64,
                    status: SpanStatus::Ok,
                    status_message: None,
                    model: None,
                    input_tokens: Some(3),
                    output_tokens: None,
                    is_marker: false,
                    claimed_end_user: (n == 0).then(|| "u_1".into()),
                    claimed_session: None,
                    claimed_metadata: (n == 0).then(|| r#"{"plan":"pro"}"#.into()),
                    resource: 0,
                    attributes: "{}".into(),
                    cache_read_tokens: None,
                    cache_write_tokens: None,
                    reasoning_tokens: None,
                    sender_cost: None,
                    links: Vec::new(),
                }
            })
            .collect();
        Batch {
            resources: vec![ResourceRow {
                attributes: "{}".into(),
                ..Default::default()
            }],
            spans,
            usage: Vec::new(),
        }
    }

    /// The work of a 50-span write into a trace of 150 spans, and into the
    /// same trace at 5,000 spans, with the root first or still to come.
    fn early_and_late(root_first: bool) -> (u64, u64) {
        let mut store = Store::in_memory().unwrap();
        let first = if root_first { 0 } else { 1 };
        let mut next = first;
        let mut at = |store: &mut Store, spans: u64| {
            while next < first + spans {
                store.write(&fifty(next)).unwrap();
                next += 50;
            }
            let work = instructions(store, &fifty(next));
            next += 50;
            work
        };
        let early = at(&mut store, 150);
        let late = at(&mut store, 5_000);
        (early, late)
    }

    #[test]
    fn a_write_into_a_long_trace_costs_what_it_carries() {
        for root_first in [true, false] {
            let (early, late) = early_and_late(root_first);
            // Re-reading the trace's spans on every write made the late
            // write do about 18 times the work of the early one (9,292 and
            // 164,492 instructions with the root first); now both are equal.
            assert!(
                late < early * 3 / 2,
                "root first: {root_first}: {early} instructions at 150 spans, {late} at 5,000"
            );
        }
    }
}
