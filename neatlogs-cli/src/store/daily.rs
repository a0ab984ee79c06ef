//! Traces per day (UTC) for the busiest end-users: the chart on the traces
//! page's Users view, where a picture reads better than numbers.

use std::collections::HashMap;

use rusqlite::params_from_iter;
use rusqlite::types::Value as SqlValue;
use serde::Serialize;

use super::{Store, StoreError};
use crate::filter::Filter;
use crate::time;

const DAY_NS: i64 = 86_400 * 1_000_000_000;

/// Longest window accepted, in days.
pub const MAX_DAYS: u32 = 366;

/// Traces per day for the top end-users over a window of days that ends on
/// the day of the latest matching trace.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DailyReport {
    /// The days of the window, oldest first, as `YYYY-MM-DD` (UTC).
    pub days: Vec<String>,
    /// One series per end-user, most traces in the window first.
    pub series: Vec<DailySeries>,
}

/// One end-user's traces per day.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DailySeries {
    /// The end-user id.
    pub end_user: String,
    /// Traces on each day of [`DailyReport::days`].
    pub counts: Vec<i64>,
    /// Traces over the whole window.
    pub total: i64,
}

impl Store {
    /// Traces per day of the `top` end-users with the most traces matching
    /// `filter` in the `days` days up to the latest matching trace.
    ///
    /// ```
    /// use neatlogs_cli::{ingest, store::Store};
    /// let mut store = Store::in_memory().unwrap();
    /// for user in ["u_1", "u_1", "u_2"] {
    ///     let body = format!(r#"{{"name":"chat","start":"2026-05-01T10:00:00Z",
    ///         "attributes":{{"neatlogs.end_user.id":"{user}"}}}}"#);
    ///     store.write(&ingest::batch_from_simple_trace(body.as_bytes()).unwrap().0).unwrap();
    /// }
    /// let report = store.traces_per_day(&Default::default(), 5, 3).unwrap();
    /// assert_eq!(report.days, ["2026-04-29", "2026-04-30", "2026-05-01"]);
    /// assert_eq!(report.series[0].end_user, "u_1");
    /// assert_eq!(report.series[0].counts, [0, 0, 2]);
    /// ```
    pub fn traces_per_day(
        &self,
        filter: &Filter,
        top: u32,
        days: u32,
    ) -> Result<DailyReport, StoreError> {
        let days = days.clamp(1, MAX_DAYS);
        let condition = self.compile(filter)?;
        let params = || condition.params.iter().cloned().map(SqlValue::Text);
        let latest: Option<i64> = self
            .conn
            .prepare(&format!(
                "SELECT MAX(t.start_ns) FROM traces t WHERE t.end_user IS NOT NULL AND {}",
                condition.sql
            ))?
            .query_row(params_from_iter(params()), |r| r.get(0))?;
        let Some(latest) = latest else {
            return Ok(DailyReport {
                days: Vec::new(),
                series: Vec::new(),
            });
        };
        let last_day = latest.div_euclid(DAY_NS);
        let first_day = last_day - i64::from(days) + 1;

        let mut stmt = self.conn.prepare(&format!(
            "SELECT t.end_user, t.start_ns / {DAY_NS} AS day, COUNT(*) FROM traces t
             WHERE t.end_user IS NOT NULL AND t.start_ns >= ? AND {}
             GROUP BY t.end_user, day",
            condition.sql
        ))?;
        let mut all: Vec<SqlValue> = vec![SqlValue::Integer(first_day * DAY_NS)];
        all.extend(params());
        let mut per_user: HashMap<String, Vec<i64>> = HashMap::new();
        let mut rows = stmt.query(params_from_iter(all))?;
        while let Some(row) = rows.next()? {
            let user: String = row.get(0)?;
            let day: i64 = row.get(1)?;
            let count: i64 = row.get(2)?;
            let Ok(index) = usize::try_from(day - first_day) else {
                continue;
            };
            let counts = per_user
                .entry(user)
                .or_insert_with(|| vec![0; days as usize]);
            if let Some(slot) = counts.get_mut(index) {
                *slot += count;
            }
        }

        let mut series: Vec<DailySeries> = per_user
            .into_iter()
            .map(|(end_user, counts)| DailySeries {
                total: counts.iter().sum(),
                end_user,
                counts,
            })
            .collect();
        series.sort_by(|a, b| {
            b.total
                .cmp(&a.total)
                .then_with(|| a.end_user.cmp(&b.end_user))
        });
        series.truncate(top as usize);
        Ok(DailyReport {
            days: (first_day..=last_day)
                .map(|day| time::rfc3339(day * DAY_NS)[..10].to_owned())
                .collect(),
            series,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::parse;
    use crate::ingest::batch_from_simple_trace;

    fn add(store: &mut Store, user: &str, start: &str, plan: &str) {
        let body = serde_json::json!({
            "name": "chat",
            "start": start,
            "attributes": {
                "neatlogs.end_user.id": user,
                "neatlogs.end_user.metadata": { "plan": plan },
            }
        });
        let (batch, _) = batch_from_simple_trace(body.to_string().as_bytes()).unwrap();
        store.write(&batch).unwrap();
    }

    fn seeded() -> Store {
        let mut store = Store::in_memory().unwrap();
        add(&mut store, "u_1", "2026-04-28T23:59:59Z", "pro");
        add(&mut store, "u_1", "2026-04-30T00:00:00Z", "pro");
        add(&mut store, "u_1", "2026-04-30T12:00:00Z", "pro");
        add(&mut store, "u_2", "2026-05-01T08:00:00Z", "free");
        add(&mut store, "u_3", "2026-05-01T09:00:00Z", "free");
        add(&mut store, "u_3", "2026-04-01T09:00:00Z", "free");
        let (anonymous, _) =
            batch_from_simple_trace(br#"{"name":"x","start":"2026-05-09T00:00:00Z"}"#).unwrap();
        store.write(&anonymous).unwrap();
        store
    }

    #[test]
    fn window_ends_on_the_latest_day_with_an_end_user() {
        let report = seeded().traces_per_day(&Filter::default(), 10, 4).unwrap();
        assert_eq!(
            report.days,
            ["2026-04-28", "2026-04-29", "2026-04-30", "2026-05-01"]
        );
        let by_user: Vec<(&str, &[i64], i64)> = report
            .series
            .iter()
            .map(|s| (s.end_user.as_str(), s.counts.as_slice(), s.total))
            .collect();
        assert_eq!(
            by_user,
            vec![
                ("u_1", &[1, 0, 2, 0][..], 3),
                ("u_2", &[0, 0, 0, 1][..], 1),
                ("u_3", &[0, 0, 0, 1][..], 1),
            ],
            "u_3's trace a month earlier is outside the window"
        );
    }

    #[test]
    fn top_and_filter_apply() {
        let store = seeded();
        let report = store.traces_per_day(&Filter::default(), 1, 4).unwrap();
        assert_eq!(report.series.len(), 1);
        assert_eq!(report.series[0].end_user, "u_1");

        let free = parse("metadata:plan is free").unwrap();
        let report = store.traces_per_day(&free, 10, 2).unwrap();
        assert_eq!(report.days, ["2026-04-30", "2026-05-01"]);
        let users: Vec<&str> = report.series.iter().map(|s| s.end_user.as_str()).collect();
        assert_eq!(users, ["u_2", "u_3"]);
    }

    #[test]
    fn empty_store_has_no_days() {
        let store = Store::in_memory().unwrap();
        let report = store.traces_per_day(&Filter::default(), 5, 14).unwrap();
        assert!(report.days.is_empty() && report.series.is_empty());
    }
}
