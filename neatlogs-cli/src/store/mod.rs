//! The embedded SQLite store: schema, writes (one transaction per request),
//! and the queries behind the CLI and the API.
//!
//! Durability: WAL journal with `synchronous = NORMAL`. A transaction is
//! committed before the server acknowledges the request, so a killed server
//! loses at most what it had not acknowledged (only a power cut can lose
//! the last commits).

mod analytics;
mod daily;
mod keys;
mod limit;
mod plan;
mod query;
mod schema;
mod summary;
mod usage;
mod write;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rusqlite::Connection;

use crate::pricing::PriceTable;

pub use analytics::{SessionStats, UserSort, UserStats, UsersReport};
pub use daily::{DailyReport, DailySeries, MAX_DAYS};
pub use keys::{MetadataKey, MetadataValue};
pub use query::{SpanView, TraceCount, TraceDetail, TraceLink, TraceSummary};
pub use schema::SCHEMA_VERSION;
pub use usage::UsageTotals;
pub use write::WriteSummary;

/// What can go wrong with the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite said no.
    #[error("store: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The store's folder could not be created.
    #[error("cannot create {path}: {source}")]
    Io {
        /// The folder.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The database was written by a newer version of `neatlogs`.
    #[error(
        "{path} has schema version {found}, this neatlogs uses {SCHEMA_VERSION}: \
         upgrade neatlogs, or move the store aside or pass another --db"
    )]
    SchemaVersion {
        /// The database.
        path: String,
        /// Its version.
        found: i64,
    },
    /// A read ran past its time limit ([`Store::with_time_limit`]) and
    /// SQLite stopped it.
    #[error("the query ran longer than {limit:?} and was stopped")]
    TimeLimit {
        /// The limit it ran into.
        limit: Duration,
    },
    /// A trace id prefix that matches several traces.
    #[error("trace id prefix `{prefix}` matches several traces; give more digits")]
    AmbiguousTrace {
        /// The prefix given.
        prefix: String,
    },
}

/// A connection to the store.
///
/// ```
/// let store = neatlogs_cli::store::Store::in_memory().unwrap();
/// let traces = store.list_traces(&Default::default(), 10, 0).unwrap();
/// assert!(traces.is_empty());
/// ```
pub struct Store {
    conn: Connection,
    path: Option<PathBuf>,
    /// Writes since the planner statistics were last refreshed.
    writes_since_optimize: u32,
    /// Prices the LLM spans this connection writes.
    prices: Arc<PriceTable>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

/// Brings a store of an older schema version up to date, in one
/// transaction (another process that got there first is noticed).
fn migrate(conn: &Connection) -> Result<(), StoreError> {
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let result = (|| -> Result<(), StoreError> {
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if version >= schema::SCHEMA_VERSION {
            return Ok(());
        }
        let first = usize::try_from(version - 1).unwrap_or(0);
        for step in schema::MIGRATIONS.iter().skip(first) {
            conn.execute_batch(step)?;
        }
        conn.execute_batch(schema::DDL)?;
        if version < schema::INCREMENTAL_SUMMARIES {
            summary::backfill(conn)?;
        }
        conn.pragma_update(None, "user_version", schema::SCHEMA_VERSION)?;
        Ok(())
    })();
    match result {
        Ok(()) => conn.execute_batch("COMMIT")?,
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            return Err(e);
        }
    }
    Ok(())
}

impl Store {
    /// Opens (creating if needed) the store at `path`, and its folder.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::Io {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        Store::init(conn, Some(path.to_path_buf()))
    }

    /// A private store in memory (used to read a JSON-lines file directly).
    pub fn in_memory() -> Result<Store, StoreError> {
        Store::init(Connection::open_in_memory()?, None)
    }

    fn init(conn: Connection, path: Option<PathBuf>) -> Result<Store, StoreError> {
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if !(0..=schema::SCHEMA_VERSION).contains(&version) {
            return Err(StoreError::SchemaVersion {
                path: path
                    .as_ref()
                    .map_or_else(|| ":memory:".to_owned(), |p| p.display().to_string()),
                found: version,
            });
        }
        if version != 0 && version < schema::SCHEMA_VERSION {
            migrate(&conn)?;
        }
        conn.execute_batch(schema::DDL)?;
        if version == 0 {
            conn.pragma_update(None, "user_version", schema::SCHEMA_VERSION)?;
        }
        // Bounded statistics refresh, as SQLite recommends for long-lived
        // connections: the planner needs them to pick indexes for filters.
        conn.execute_batch("PRAGMA analysis_limit = 1000; PRAGMA optimize = 0x10002;")?;
        Ok(Store {
            conn,
            path,
            writes_since_optimize: 0,
            prices: Arc::new(PriceTable::builtin()),
        })
    }

    /// Prices the LLM spans written from now on with `prices` (the
    /// built-in table until then). A span's cost is fixed when it is
    /// stored: what it cost at the prices of the day, as an invoice is.
    ///
    /// ```
    /// use neatlogs_cli::{ingest, pricing::PriceTable, store::Store};
    /// let mut store = Store::in_memory().unwrap();
    /// let prices = PriceTable::parse(
    ///     r#"{"models":{"house-model":{"input":1,"output":2}}}"#, false, "prices.json").unwrap();
    /// store.set_prices(PriceTable::builtin().overridden_by(prices));
    /// let body = br#"{"name":"chat","attributes":{"neatlogs.end_user.id":"u_1"},
    ///   "children":[{"name":"llm","kind":"llm","model":"house-model",
    ///     "tokens":{"prompt":1000000,"completion":0}}]}"#;
    /// let (batch, id) = ingest::batch_from_simple_trace(body).unwrap();
    /// store.write(&batch).unwrap();
    /// assert_eq!(store.trace(&id).unwrap().unwrap().trace.cost_usd, Some(1.0));
    /// ```
    pub fn set_prices(&mut self, prices: PriceTable) {
        self.prices = Arc::new(prices);
    }

    /// The table that prices what this connection writes.
    pub fn prices(&self) -> &PriceTable {
        &self.prices
    }

    /// Where the store lives (`None` in memory).
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The raw connection, for tools and benchmarks that seed or inspect
    /// the tables directly.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// Updates the query planner's statistics (after a large import).
    pub fn optimize(&self) -> Result<(), StoreError> {
        // A full analysis, not the bounded one used for routine refreshes.
        self.conn
            .execute_batch("PRAGMA analysis_limit = 0; ANALYZE; PRAGMA analysis_limit = 1000;")?;
        Ok(())
    }

    /// Every 1,000 writes, re-analyses the two tables that filters read.
    /// The planner needs current statistics (SQLite's STAT4 samples) to
    /// choose between the time index and a filter's own index: a stale
    /// analysis taken when the store was small picks badly once it is big.
    /// At 100,000 traces this costs about 0.15 s per 1,000 writes.
    fn maybe_optimize(&mut self) -> Result<(), StoreError> {
        self.writes_since_optimize += 1;
        if self.writes_since_optimize >= 1000 {
            self.writes_since_optimize = 0;
            self.conn.execute_batch(
                "PRAGMA analysis_limit = 0; ANALYZE traces; ANALYZE trace_metadata; \
                 PRAGMA analysis_limit = 1000;",
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::batch_from_simple_trace;

    /// A store written before costs existed (schema 1) opens, gains the
    /// new columns, and prices what is written from then on.
    #[test]
    fn a_schema_1_store_is_migrated_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        let body = br#"{"name":"chat","attributes":{"neatlogs.end_user.id":"u_1"},
            "children":[{"name":"llm","kind":"llm","model":"gpt-4o","tokens":{"prompt":10,"completion":5}}]}"#;
        {
            let mut store = Store::open(&path).unwrap();
            store
                .write(&batch_from_simple_trace(body).unwrap().0)
                .unwrap();
            // Back to schema 1: the columns it did not have removed.
            store
                .conn
                .execute_batch(
                    "ALTER TABLE spans DROP COLUMN cache_read_tokens;
                     ALTER TABLE spans DROP COLUMN cache_write_tokens;
                     ALTER TABLE spans DROP COLUMN reasoning_tokens;
                     ALTER TABLE spans DROP COLUMN cost_nanos;
                     ALTER TABLE spans DROP COLUMN cost_source;
                     ALTER TABLE traces DROP COLUMN cost_nanos;
                     ALTER TABLE traces DROP COLUMN unpriced_spans;
                     PRAGMA user_version = 1;",
                )
                .unwrap();
        }
        let mut store = Store::open(&path).unwrap();
        let version: i64 = store
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        let old = store.list_traces(&Default::default(), 10, 0).unwrap();
        assert_eq!(old.len(), 1);
        assert_eq!(old[0].cost_usd, None, "old traces have no cost, not 0");
        let (batch, id) = batch_from_simple_trace(body).unwrap();
        store.write(&batch).unwrap();
        let new = store.trace(&id).unwrap().unwrap();
        assert!(new.trace.cost_usd.is_some_and(|c| c > 0.0), "{new:?}");
        // A second open does not migrate again.
        drop(store);
        Store::open(&path).unwrap();
    }

    #[test]
    fn a_store_from_a_newer_neatlogs_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new.db");
        Store::open(&path)
            .unwrap()
            .conn
            .pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
        let err = Store::open(&path).unwrap_err();
        assert!(matches!(err, StoreError::SchemaVersion { .. }), "{err}");
    }
}
