//! The store's tables and indexes.
//!
//! - `resources`: who sent spans (service, workflow, operator, process
//!   session), deduplicated.
//! - `spans`: every span as received, with what it *claims* about the
//!   end-user; only the root's claim counts.
//! - `traces`: one summary row per trace, updated whenever a request touches
//!   the trace (a root may arrive after its children), from:
//! - `trace_totals`: each trace's running counts, token sums and time range
//!   over its stored spans, so a write need not re-read the trace;
//! - `orphan_spans`: stored spans whose parent is not stored (yet), earliest
//!   first, to name a trace whose root has not arrived; and `spans_roots`, a
//!   partial index of root spans.
//! - `trace_metadata`: the root's end-user metadata flattened to
//!   `(path, value)` rows, indexed both ways: from a value to its traces
//!   (few matches) and from a trace to its values (many matches), so
//!   `metadata:plan is pro` is a lookup either way.
//! - `end_users`: the catalogue per (workflow, end-user): latest metadata
//!   (last write wins by the root's end time) and first/last seen.
//! - `span_links`: each span's OTLP links to spans of other traces, indexed
//!   by the linked trace too, so a trace shows both the trace it was started
//!   from and the traces started from it.
//!
//! Costs are integer nano-dollars (`cost_nanos`), so sums are exact: a
//! span's is the sender's figure or its tokens priced from the writer's
//! price table when it was stored, NULL when neither is known; a trace's
//! is the sum over its spans (NULL when no span has one), and
//! `unpriced_spans` counts the spans with tokens but no cost, so a partial
//! sum is never shown as the whole.

/// Bumped when the schema changes; older stores are migrated on open
/// (`MIGRATIONS`, then `DDL`, then what only code can fill).
///
/// - 1: the first schema.
/// - 2: cache and reasoning tokens, costs.
/// - 3: `trace_totals`, `orphan_spans` and `spans_roots` (incremental trace
///   summaries); an older store gets them filled from its spans.
/// - 4: `span_links`.
/// - 5: `usage_series` (usage per end-user from OTLP metrics).
pub const SCHEMA_VERSION: i64 = 5;

/// `MIGRATIONS[i]` takes a store from version `i + 1` to `i + 2` (in SQL;
/// tables new in a version come from `DDL`).
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
    // 2 → 3: the incremental summary's tables (DDL), filled by
    // `summary::backfill`.
    "",
    // 3 → 4: `span_links` (DDL).
    "",
    // 4 → 5: `usage_series` (DDL).
    "",
];

/// The first version with `trace_totals` and `orphan_spans`.
pub const INCREMENTAL_SUMMARIES: i64 = 3;

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

CREATE INDEX IF NOT EXISTS spans_roots ON spans (trace_id, start_ns, span_id)
    WHERE parent_span_id IS NULL AND NOT is_marker;

CREATE TABLE IF NOT EXISTS orphan_spans (
    trace_id        TEXT NOT NULL,
    parent_span_id  TEXT NOT NULL,
    span_id         TEXT NOT NULL,
    start_ns        INTEGER NOT NULL,
    PRIMARY KEY (trace_id, parent_span_id, span_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS orphan_spans_first ON orphan_spans (trace_id, start_ns, span_id);

CREATE TABLE IF NOT EXISTS trace_totals (
    trace_id       TEXT PRIMARY KEY,
    spans          INTEGER NOT NULL,
    errors         INTEGER NOT NULL,
    markers        INTEGER NOT NULL,
    start_ns       INTEGER,
    end_ns         INTEGER,
    input_tokens   INTEGER NOT NULL,
    output_tokens  INTEGER NOT NULL,
    cost_nanos     INTEGER NOT NULL DEFAULT 0,
    priced         INTEGER NOT NULL DEFAULT 0,
    unpriced       INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

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

CREATE TABLE IF NOT EXISTS span_links (
    trace_id TEXT NOT NULL,
    span_id TEXT NOT NULL,
    linked_trace_id TEXT NOT NULL,
    linked_span_id TEXT NOT NULL,
    PRIMARY KEY (trace_id, span_id, linked_trace_id, linked_span_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS span_links_linked ON span_links (linked_trace_id, trace_id);

CREATE TABLE IF NOT EXISTS trace_metadata (
    path         TEXT NOT NULL,
    value        TEXT NOT NULL,
    trace_rowid  INTEGER NOT NULL,
    PRIMARY KEY (path, value, trace_rowid)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS trace_metadata_trace ON trace_metadata (trace_rowid, path);

CREATE TABLE IF NOT EXISTS usage_series (
    series      TEXT PRIMARY KEY,
    end_user    TEXT,
    workflow    TEXT,
    model       TEXT,
    provider    TEXT,
    metric      TEXT NOT NULL,
    token_type  TEXT,
    failed      INTEGER NOT NULL,
    overflow    INTEGER NOT NULL,
    start_ns    INTEGER NOT NULL,
    time_ns     INTEGER NOT NULL,
    count       INTEGER NOT NULL,
    sum         REAL NOT NULL,
    cost_nanos  INTEGER
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS usage_series_end_user ON usage_series (end_user);

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
