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
mod plan;
mod query;
mod schema;
mod write;

use std::path::{Path, PathBuf};

use rusqlite::Connection;

pub use analytics::{SessionStats, UserSort, UserStats, UsersReport};
pub use daily::{DailyReport, DailySeries, MAX_DAYS};
pub use keys::{MetadataKey, MetadataValue};
pub use query::{SpanView, TraceDetail, TraceSummary};
pub use schema::SCHEMA_VERSION;
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
    /// The database was written by an incompatible version of `neatlogs`.
    #[error(
        "{path} has schema version {found}, this neatlogs uses {SCHEMA_VERSION}: \
         move it aside or pass another --db"
    )]
    SchemaVersion {
        /// The database.
        path: String,
        /// Its version.
        found: i64,
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
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
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
        if version != 0 && version != schema::SCHEMA_VERSION {
            return Err(StoreError::SchemaVersion {
                path: path
                    .as_ref()
                    .map_or_else(|| ":memory:".to_owned(), |p| p.display().to_string()),
                found: version,
            });
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
        })
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
