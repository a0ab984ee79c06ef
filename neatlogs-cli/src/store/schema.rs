//! The store's tables and indexes.
//!
//! - `resources`: who sent spans (service, workflow, operator, process
//!   session), deduplicated.
//! - `spans`: every span as received, with what it *claims* about the
//!   end-user; only the root's claim counts.
//! - `traces`: one summary row per trace, recomputed from `spans` whenever a
//!   request touches the trace (a root may arrive after its children).
//! - `trace_metadata`: the root's end-user metadata flattened to
//!   `(path, value)` rows, indexed both ways: from a value to its traces
//!   (few matches) and from a trace to its values (many matches), so
//!   `metadata:plan is pro` is a lookup either way.
//! - `end_users`: the catalogue per (workflow, end-user): latest metadata
//!   (last write wins by the root's end time) and first/last seen.
//!
//! Costs are integer nano-dollars (`cost_nanos`), so sums are exact: a
//! span's is the sender's figure or its tokens priced from the writer's
//! price table when it was stored, NULL when neither is known; a trace's
//! is the sum over its spans (NULL when no span has one), and
//! `unpriced_spans` counts the spans with tokens but no cost, so a partial
//! sum is never shown as the whole.

/// Bumped when the schema changes; older stores are migrated on open
/// (`MIGRATIONS`).
pub const SCHEMA_VERSION: i64 = 2;

/// `MIGRATIONS[i]` takes a store from version `i + 1` to `i + 2`.
pub const MIGRATIONS: &[&str] = &[
    // 1 → 2: cache and reasoning tokens, costs.
    r#"
ALTER TABLE spans ADD COLUMN cache_read_tokens INTEGER;
ALTER TABLE spans ADD COLUMN cache_write_tokens INTEGER;
ALTER TABLE spans ADD COLUMN reasoning_tokens INTEGER;
ALTER TABLE spans ADD COLUMN cost_nanos INTEGER;
ALTER TABLE spans ADD COLUMN cost_source TEXT;
ALTER TABLE traces ADD COLUMN cost_nanos INTEGER;
ALTER TABLE traces ADD COLUMN unpriced_spans INTEGER NOT NULL DEFAULT 0;
"#,
];

/// Creates everything that does not exist yet.
pub const DDL: &str = r#"
CREATE TABLE IF NOT EXISTS resources (
    id          INTEGER PRIMARY KEY,
    attributes  TEXT NOT NULL UNIQUE,
    service     TEXT,
    workflow    TEXT,
    operator    TEXT,
    session     TEXT
);

CREATE TABLE IF NOT EXISTS spans (
    trace_id          TEXT NOT NULL,
    span_id           TEXT NOT NULL,
    parent_span_id    TEXT,
    name              TEXT NOT NULL,
    kind              TEXT,
    start_ns          INTEGER NOT NULL,
    end_ns            INTEGER NOT NULL,
    status            TEXT NOT NULL,
    status_message    TEXT,
    model             TEXT,
    input_tokens      INTEGER,
    output_tokens     INTEGER,
    is_marker         INTEGER NOT NULL,
    claimed_end_user  TEXT,
    claimed_session   TEXT,
    claimed_metadata  TEXT,
    resource_id       INTEGER NOT NULL REFERENCES resources(id),
    attributes        TEXT NOT NULL,
    cache_read_tokens   INTEGER,
    cache_write_tokens  INTEGER,
    reasoning_tokens    INTEGER,
    cost_nanos          INTEGER,
    cost_source         TEXT,
    PRIMARY KEY (trace_id, span_id)
);

CREATE TABLE IF NOT EXISTS traces (
    id                 INTEGER PRIMARY KEY,
    trace_id           TEXT NOT NULL UNIQUE,
    root_span_id       TEXT,
    name               TEXT,
    workflow           TEXT,
    service            TEXT,
    operator           TEXT,
    end_user           TEXT,
    session            TEXT,
    end_user_metadata  TEXT,
    status             TEXT NOT NULL,
    start_ns           INTEGER NOT NULL,
    end_ns             INTEGER NOT NULL,
    duration_ns        INTEGER NOT NULL,
    span_count         INTEGER NOT NULL,
    error_count        INTEGER NOT NULL,
    input_tokens       INTEGER NOT NULL,
    output_tokens      INTEGER NOT NULL,
    complete           INTEGER NOT NULL,
    cost_nanos         INTEGER,
    unpriced_spans     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS traces_start ON traces (start_ns);
CREATE INDEX IF NOT EXISTS traces_end_user ON traces (end_user, start_ns);
CREATE INDEX IF NOT EXISTS traces_session ON traces (session, start_ns);
CREATE INDEX IF NOT EXISTS traces_workflow ON traces (workflow, start_ns);
CREATE INDEX IF NOT EXISTS traces_name ON traces (name, start_ns);
CREATE INDEX IF NOT EXISTS traces_status ON traces (status, start_ns);

CREATE TABLE IF NOT EXISTS trace_metadata (
    path         TEXT NOT NULL,
    value        TEXT NOT NULL,
    trace_rowid  INTEGER NOT NULL,
    PRIMARY KEY (path, value, trace_rowid)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS trace_metadata_trace ON trace_metadata (trace_rowid, path);

CREATE TABLE IF NOT EXISTS end_users (
    end_user        TEXT NOT NULL,
    workflow        TEXT NOT NULL,
    first_seen_ns   INTEGER NOT NULL,
    last_seen_ns    INTEGER NOT NULL,
    metadata        TEXT,
    metadata_at_ns  INTEGER,
    PRIMARY KEY (end_user, workflow)
);
"#;
