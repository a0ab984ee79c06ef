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

/// Bumped when the schema changes incompatibly.
pub const SCHEMA_VERSION: i64 = 1;

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
    complete           INTEGER NOT NULL
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
