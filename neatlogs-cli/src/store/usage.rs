//! Usage per end-user from OTLP metrics: exact token and call totals that
//! do not depend on which traces were sampled.
//!
//! Each series keeps its latest cumulative point; an end-user's totals are
//! sums over their series. Costs are priced when a point is written, from
//! the writer's price table, per token type (the cache-read and cache-write
//! rows carry what those tokens saved or added against the input price),
//! so that summing rows sums costs. A long-context price tier, which
//! depends on each call's prompt size, cannot be applied to totals: those
//! series are priced at the base tier.

use std::collections::HashMap;

use rusqlite::{params, OptionalExtension};

use super::{Store, StoreError};
use crate::ingest::metrics::{UsageRow, OPERATION_DURATION, TOKEN_USAGE, TOKEN_USAGE_DETAILS};
use crate::pricing::{Nanos, PriceTable, Usage};

/// One end-user's usage from the metrics.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UsageTotals {
    /// LLM calls.
    pub calls: i64,
    /// LLM calls that failed.
    pub failed_calls: i64,
    /// Input tokens.
    pub input_tokens: i64,
    /// Output tokens.
    pub output_tokens: i64,
    /// The cost of those tokens, when every series with tokens is priced.
    pub cost_nanos: Option<Nanos>,
    /// Series with tokens but no price (a model not in the table).
    pub unpriced_series: i64,
    /// The earliest series start, Unix ns.
    pub first_ns: i64,
    /// The latest point, Unix ns.
    pub last_ns: i64,
}

/// The cost of one row's tokens.
fn row_cost(prices: &PriceTable, row: &UsageRow) -> Option<Nanos> {
    let model = row.model.as_deref()?;
    let n = row.sum.round() as i64;
    let cost = |u: Usage| prices.cost(model, &u);
    match (row.metric.as_str(), row.token_type.as_deref()) {
        (TOKEN_USAGE, Some("input")) => cost(Usage {
            input: Some(n),
            ..Usage::default()
        }),
        (TOKEN_USAGE, Some("output")) => cost(Usage {
            output: Some(n),
            ..Usage::default()
        }),
        // What `n` cached prompt tokens cost beyond (or below) the same
        // tokens at the input price.
        (TOKEN_USAGE_DETAILS, Some(kind @ ("cache_read" | "cache_write"))) => {
            let plain = Usage {
                input: Some(n),
                ..Usage::default()
            };
            let cached = if kind == "cache_read" {
                Usage {
                    cache_read: Some(n),
                    ..plain
                }
            } else {
                Usage {
                    cache_write: Some(n),
                    ..plain
                }
            };
            Some(cost(cached)? - cost(plain)?)
        }
        _ => None,
    }
}

/// Upsert `rows` in `tx`: each replaces its series' stored point unless
/// that one is later. How many were written.
pub(super) fn upsert(
    tx: &rusqlite::Transaction<'_>,
    prices: &PriceTable,
    rows: &[UsageRow],
) -> Result<usize, StoreError> {
    let mut upsert = tx.prepare_cached(
        "INSERT INTO usage_series (series, end_user, workflow, model, provider, metric,
            token_type, failed, overflow, start_ns, time_ns, count, sum, cost_nanos)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
         ON CONFLICT (series) DO UPDATE SET
            time_ns = excluded.time_ns, count = excluded.count, sum = excluded.sum,
            cost_nanos = excluded.cost_nanos
         WHERE excluded.time_ns >= usage_series.time_ns",
    )?;
    let mut written = 0;
    for row in rows {
        let cost = if priced_kind(row) {
            row_cost(prices, row)
        } else {
            None
        };
        written += upsert.execute(params![
            row.series,
            row.end_user,
            row.workflow,
            row.model,
            row.provider,
            row.metric,
            row.token_type,
            row.failed,
            row.overflow,
            row.start_ns,
            row.time_ns,
            row.count,
            row.sum,
            cost,
        ])?;
    }
    Ok(written)
}

/// Whether a row carries tokens that have a price.
fn priced_kind(row: &UsageRow) -> bool {
    matches!(
        (row.metric.as_str(), row.token_type.as_deref()),
        (TOKEN_USAGE, Some("input" | "output"))
            | (TOKEN_USAGE_DETAILS, Some("cache_read" | "cache_write"))
    )
}

impl Store {
    /// Stores usage points in one transaction: each replaces its series'
    /// stored point unless that one is later.
    pub fn write_usage(&mut self, rows: &[UsageRow]) -> Result<usize, StoreError> {
        let prices = self.prices.clone();
        let tx = self.conn.transaction()?;
        let written = upsert(&tx, &prices, rows)?;
        tx.commit()?;
        Ok(written)
    }

    /// Usage per end-user from the metrics (empty when none arrived).
    pub fn usage_by_end_user(&self) -> Result<HashMap<String, UsageTotals>, StoreError> {
        let mut out: HashMap<String, UsageTotals> = HashMap::new();
        let mut stmt = self.conn.prepare(
            "SELECT end_user, metric, token_type, failed, count, sum, cost_nanos, start_ns, time_ns
             FROM usage_series WHERE end_user IS NOT NULL AND overflow = 0",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let user: String = row.get(0)?;
            let metric: String = row.get(1)?;
            let token_type: Option<String> = row.get(2)?;
            let failed: bool = row.get(3)?;
            let count: i64 = row.get(4)?;
            let sum: f64 = row.get(5)?;
            let cost: Option<Nanos> = row.get(6)?;
            let (start_ns, time_ns): (i64, i64) = (row.get(7)?, row.get(8)?);
            let t = out.entry(user).or_insert_with(|| UsageTotals {
                cost_nanos: Some(0),
                first_ns: start_ns,
                last_ns: time_ns,
                ..UsageTotals::default()
            });
            t.first_ns = t.first_ns.min(start_ns);
            t.last_ns = t.last_ns.max(time_ns);
            let tokens = sum.round() as i64;
            match (metric.as_str(), token_type.as_deref()) {
                (OPERATION_DURATION, _) => {
                    t.calls += count;
                    if failed {
                        t.failed_calls += count;
                    }
                }
                (TOKEN_USAGE, Some("input")) => t.input_tokens += tokens,
                (TOKEN_USAGE, Some("output")) => t.output_tokens += tokens,
                _ => {}
            }
            let priced = matches!(
                (metric.as_str(), token_type.as_deref()),
                (TOKEN_USAGE, Some("input" | "output"))
                    | (TOKEN_USAGE_DETAILS, Some("cache_read" | "cache_write"))
            );
            if priced && tokens > 0 {
                match (cost, t.cost_nanos) {
                    (Some(c), Some(total)) => t.cost_nanos = Some(total + c),
                    _ => {
                        t.unpriced_series += 1;
                    }
                }
            }
        }
        for t in out.values_mut() {
            if t.unpriced_series > 0 && t.cost_nanos == Some(0) {
                t.cost_nanos = None;
            }
        }
        Ok(out)
    }

    /// Whether any usage metrics were stored.
    pub fn has_usage(&self) -> Result<bool, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT 1 FROM usage_series LIMIT 1", [], |_| Ok(()))
            .optional()?
            .is_some())
    }
}
