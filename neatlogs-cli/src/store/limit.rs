//! A time limit on reads, enforced by SQLite itself: a progress handler,
//! called every [`PROGRESS_STEPS`] virtual-machine instructions, interrupts
//! the running statement once the deadline has passed. The statement fails
//! with `SQLITE_INTERRUPT`, which becomes [`StoreError::TimeLimit`]; the
//! connection stays usable for the next read.
//!
//! The check costs one clock read per [`PROGRESS_STEPS`] instructions (well
//! under 1% of a query), and it only runs inside SQLite: work done in Rust
//! between two rows is not interrupted, but the next row is.

use std::os::raw::c_int;
use std::time::{Duration, Instant};

use rusqlite::ErrorCode;

use super::{Store, StoreError};

/// Virtual-machine instructions between two looks at the clock: a few
/// microseconds of work, so a query stops within a few microseconds of its
/// deadline, and a statement that needs fewer steps is never stopped.
const PROGRESS_STEPS: c_int = 1_000;

impl Store {
    /// Runs `read` with every statement it starts stopped once `limit` has
    /// passed; a stopped read is [`StoreError::TimeLimit`].
    ///
    /// ```
    /// use std::time::Duration;
    /// use neatlogs_cli::store::{Store, StoreError};
    ///
    /// let mut store = Store::in_memory().unwrap();
    /// // Plenty of time: the read completes.
    /// let n = store
    ///     .with_time_limit(Duration::from_secs(5), |s| s.count_traces(&Default::default()))
    ///     .unwrap();
    /// assert_eq!(n, 0);
    /// // No time at all: a statement of more than a few steps is stopped.
    /// let slow = store.with_time_limit(Duration::ZERO, |s| {
    ///     Ok(s.connection().query_row(
    ///         "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000)
    ///          SELECT COUNT(*) FROM n",
    ///         [],
    ///         |r| r.get::<_, i64>(0),
    ///     )?)
    /// });
    /// assert!(matches!(slow, Err(StoreError::TimeLimit { .. })));
    /// ```
    pub fn with_time_limit<T>(
        &mut self,
        limit: Duration,
        read: impl FnOnce(&Store) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        // A limit too far away to represent is no limit.
        if let Some(deadline) = Instant::now().checked_add(limit) {
            self.conn
                .progress_handler(PROGRESS_STEPS, Some(move || Instant::now() >= deadline))?;
        }
        let result = read(self);
        self.conn.progress_handler(0, None::<fn() -> bool>)?;
        match result {
            Err(StoreError::Sqlite(e))
                if e.sqlite_error_code() == Some(ErrorCode::OperationInterrupted) =>
            {
                Err(StoreError::TimeLimit { limit })
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::parse;
    use crate::ingest::batch_from_simple_trace;

    fn seeded(traces: usize) -> Store {
        let mut store = Store::in_memory().unwrap();
        for i in 0..traces {
            let body = serde_json::json!({
                "name": "chat",
                "attributes": {
                    "neatlogs.end_user.id": format!("u_{i}"),
                    "neatlogs.end_user.metadata": format!(r#"{{"plan":"p{}"}}"#, i % 3),
                }
            });
            let (batch, _) = batch_from_simple_trace(body.to_string().as_bytes()).unwrap();
            store.write(&batch).unwrap();
        }
        store
    }

    #[test]
    fn a_read_past_its_limit_is_stopped_and_the_connection_still_reads() {
        let mut store = seeded(200);
        let filter = parse("metadata:plan is not p1 and end_user contains 9").unwrap();
        let expected = store.count_traces(&filter).unwrap();
        assert!(expected > 0);

        let stopped = store.with_time_limit(Duration::ZERO, |s| s.count_traces(&filter));
        match stopped {
            Err(e @ StoreError::TimeLimit { .. }) => {
                assert!(e.to_string().contains("was stopped"), "{e}");
            }
            other => panic!("expected the time limit, got {other:?}"),
        }
        // The handler is gone and the connection is sound.
        assert_eq!(store.count_traces(&filter).unwrap(), expected);
        let within = store
            .with_time_limit(Duration::from_secs(60), |s| s.count_traces(&filter))
            .unwrap();
        assert_eq!(within, expected);
    }

    #[test]
    fn other_errors_pass_through() {
        let mut store = seeded(1);
        let e = store
            .with_time_limit(Duration::ZERO, |s| {
                Ok(s.connection()
                    .execute_batch("SELECT * FROM no_such_table")?)
            })
            .unwrap_err();
        assert!(matches!(e, StoreError::Sqlite(_)), "{e:?}");
    }
}
