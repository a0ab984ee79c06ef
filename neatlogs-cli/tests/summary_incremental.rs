//! A trace's summary is kept up to date request by request; it must always
//! equal the summary recomputed from all of the trace's stored spans,
//! whatever the order the spans arrive in, however they are split across
//! requests, and whatever is re-sent.
//!
//! The reference here is the definition, written as the full recomputation
//! the store used to run on every write: aggregates over every stored span,
//! the root (earliest span without a parent), else the earliest span whose
//! parent is not stored. A second reference is a fresh store given the final
//! spans in one request.

use std::collections::BTreeMap;

use neatlogs_cli::ingest::{Batch, ResourceRow, SpanRow, SpanStatus};
use neatlogs_cli::store::Store;
use proptest::prelude::*;
use rusqlite::{Connection, OptionalExtension};

const T0: i64 = 1_777_636_800_000_000_000;

/// A trace's summary as stored: its `traces` row (but the row id) and its
/// metadata rows.
#[derive(Debug, Clone, PartialEq)]
struct Summary {
    row: Vec<rusqlite::types::Value>,
    metadata: Vec<(String, String)>,
}

const SUMMARY_COLUMNS: &str = "root_span_id, name, workflow, service, operator, end_user, \
    session, end_user_metadata, status, start_ns, end_ns, duration_ns, span_count, error_count, \
    input_tokens, output_tokens, complete, cost_nanos, unpriced_spans";

fn stored(conn: &Connection, trace_id: &str) -> Option<Summary> {
    let (id, row) = conn
        .query_row(
            &format!("SELECT id, {SUMMARY_COLUMNS} FROM traces WHERE trace_id = ?1"),
            [trace_id],
            |r| {
                let id: i64 = r.get(0)?;
                let row = (1..=19)
                    .map(|i| r.get::<_, rusqlite::types::Value>(i))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok((id, row))
            },
        )
        .optional()
        .expect("traces row")?;
    let metadata = conn
        .prepare("SELECT path, value FROM trace_metadata WHERE trace_rowid = ?1 ORDER BY 1, 2")
        .expect("prepare")
        .query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("query")
        .collect::<Result<Vec<_>, _>>()
        .expect("metadata rows");
    Some(Summary { row, metadata })
}

/// The `traces` row recomputed from every stored span of the trace, by the
/// rules in the store's documentation (`None` while it has no span but the
/// completion marker).
fn recomputed_row(conn: &Connection, trace_id: &str) -> Option<Vec<rusqlite::types::Value>> {
    use rusqlite::types::Value as V;
    #[allow(clippy::type_complexity)]
    let (span_count, error_count, min_start, max_end, input, output, complete, cost, unpriced): (
        i64,
        i64,
        Option<i64>,
        Option<i64>,
        i64,
        i64,
        bool,
        Option<i64>,
        i64,
    ) = conn
        .query_row(
            "SELECT COUNT(*) FILTER (WHERE NOT is_marker),
                    COUNT(*) FILTER (WHERE NOT is_marker AND status = 'error'),
                    MIN(start_ns) FILTER (WHERE NOT is_marker),
                    MAX(end_ns) FILTER (WHERE NOT is_marker),
                    COALESCE(SUM(input_tokens), 0), COALESCE(SUM(output_tokens), 0),
                    COALESCE(MAX(is_marker), 0), SUM(cost_nanos),
                    COUNT(*) FILTER (WHERE cost_nanos IS NULL
                        AND (input_tokens IS NOT NULL OR output_tokens IS NOT NULL))
             FROM spans WHERE trace_id = ?1",
            [trace_id],
            |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                    r.get(8)?,
                ))
            },
        )
        .expect("aggregates");
    let (min_start, max_end) = (min_start?, max_end?);
    type Head = (
        String,
        String,
        i64,
        i64,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
    );
    let head = |sql: &str| -> Option<Head> {
        conn.query_row(
            &format!(
                "SELECT s.span_id, s.name, s.start_ns, s.end_ns, s.claimed_end_user,
                    s.claimed_session, s.claimed_metadata, r.service, r.workflow, r.operator,
                    r.session
                 FROM spans s JOIN resources r ON r.id = s.resource_id
                 WHERE s.trace_id = ?1 AND NOT s.is_marker AND {sql}
                 ORDER BY s.start_ns, s.span_id LIMIT 1"
            ),
            [trace_id],
            |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                    r.get(8)?,
                    r.get(9)?,
                    r.get(10)?,
                ))
            },
        )
        .optional()
        .expect("head")
    };
    let root = head("s.parent_span_id IS NULL");
    let shown = root.clone().or_else(|| {
        head("s.parent_span_id NOT IN (SELECT span_id FROM spans WHERE trace_id = ?1)")
    });
    let (start, end) = match &root {
        Some(r) => (r.2, r.3.max(r.2)),
        None => (min_start, max_end.max(min_start)),
    };
    let text = |v: Option<String>| v.map_or(V::Null, V::Text);
    let session = root
        .as_ref()
        .and_then(|r| r.5.clone())
        .or_else(|| shown.as_ref().and_then(|h| h.10.clone()));
    Some(vec![
        text(root.as_ref().map(|r| r.0.clone())),
        text(shown.as_ref().map(|h| h.1.clone())),
        text(shown.as_ref().and_then(|h| h.8.clone())),
        text(shown.as_ref().and_then(|h| h.7.clone())),
        text(shown.as_ref().and_then(|h| h.9.clone())),
        text(root.as_ref().and_then(|r| r.4.clone())),
        text(session),
        text(root.as_ref().and_then(|r| r.6.clone())),
        V::Text(if error_count > 0 { "error" } else { "ok" }.to_owned()),
        V::Integer(start),
        V::Integer(end),
        V::Integer(end - start),
        V::Integer(span_count),
        V::Integer(error_count),
        V::Integer(input),
        V::Integer(output),
        V::Integer(complete.into()),
        cost.map_or(V::Null, V::Integer),
        V::Integer(unpriced),
    ])
}

fn trace_ids(conn: &Connection) -> Vec<String> {
    conn.prepare("SELECT DISTINCT trace_id FROM spans ORDER BY 1")
        .expect("prepare")
        .query_map([], |r| r.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("trace ids")
}

/// Every trace's stored summary row equals its recomputation.
fn assert_matches_recomputation(store: &Store) {
    let conn = store.connection();
    for trace_id in trace_ids(conn) {
        assert_eq!(
            stored(conn, &trace_id).map(|s| s.row),
            recomputed_row(conn, &trace_id),
            "trace {trace_id}"
        );
    }
}

fn resources() -> Vec<ResourceRow> {
    vec![
        ResourceRow {
            service: Some("api".into()),
            workflow: Some("support".into()),
            operator: Some("ci-bot".into()),
            session: Some("process-1".into()),
            attributes: r#"{"service.name":"api"}"#.into(),
        },
        ResourceRow {
            service: Some("worker".into()),
            workflow: Some("worker".into()),
            operator: None,
            session: None,
            attributes: r#"{"service.name":"worker"}"#.into(),
        },
    ]
}

fn trace_hex(n: u8) -> String {
    format!("{:032x}", 0xabc0 + u128::from(n))
}

fn span_hex(n: u8) -> String {
    format!("{:016x}", 0x5000 + u64::from(n))
}

/// A span as the property test draws it.
#[derive(Debug, Clone)]
struct Drawn {
    trace: u8,
    span: u8,
    /// `None`: a root; ids above the drawn range are never stored (a
    /// remote parent).
    parent: Option<u8>,
    name: u8,
    start: i64,
    length: i64,
    status: SpanStatus,
    input_tokens: Option<i64>,
    output_tokens: Option<i64>,
    is_marker: bool,
    end_user: Option<u8>,
    session: Option<u8>,
    metadata: Option<u8>,
    resource: usize,
}

const METADATA: [&str; 3] = [
    r#"{"plan":"pro"}"#,
    r#"{"plan":"free","org":{"tier":"gold","seats":3}}"#,
    r#"{"beta":true,"tags":["a","b"]}"#,
];

fn row(d: &Drawn) -> SpanRow {
    let start = T0 + d.start;
    SpanRow {
        trace_id: trace_hex(d.trace),
        span_id: span_hex(d.span),
        parent_span_id: d.parent.map(span_hex),
        name: format!("span-{}", d.name),
        kind: None,
        start_ns: start,
        end_ns: start + d.length,
        status: d.status,
        status_message: None,
        model: None,
        input_tokens: d.input_tokens,
        output_tokens: d.output_tokens,
        is_marker: d.is_marker,
        claimed_end_user: d.end_user.map(|u| format!("u_{u}")),
        claimed_session: d.session.map(|s| format!("s_{s}")),
        claimed_metadata: d.metadata.map(|m| METADATA[usize::from(m)].to_owned()),
        resource: d.resource,
        attributes: "{}".into(),
        cache_read_tokens: None,
        cache_write_tokens: None,
        reasoning_tokens: None,
        // Some spans with a cost, some with tokens and none (unpriced).
        sender_cost: d.input_tokens.filter(|n| n % 3 == 0).map(|n| n * 7 + 1),
        links: Vec::new(),
    }
}

fn drawn() -> impl Strategy<Value = Drawn> {
    (
        (0u8..2, 1u8..10),
        prop_oneof![1 => Just(None), 6 => (1u8..12).prop_map(Some)],
        0u8..4,
        (0i64..1_000, 0i64..500),
        prop_oneof![
            Just(SpanStatus::Unset),
            Just(SpanStatus::Ok),
            Just(SpanStatus::Error)
        ],
        (
            proptest::option::of(0i64..1_000),
            proptest::option::of(0i64..1_000),
        ),
        prop::bool::weighted(0.1),
        (
            proptest::option::of(0u8..3),
            proptest::option::of(0u8..3),
            proptest::option::of(0u8..3),
        ),
        0usize..2,
    )
        .prop_map(
            |(
                (trace, span),
                parent,
                name,
                (start, length),
                status,
                (input_tokens, output_tokens),
                is_marker,
                (end_user, session, metadata),
                resource,
            )| Drawn {
                trace,
                span,
                parent,
                name,
                start,
                length,
                status,
                input_tokens,
                output_tokens,
                is_marker,
                end_user,
                session,
                metadata,
                resource,
            },
        )
}

/// Spans in arrival order (some re-sent exactly, some re-sent changed: the
/// same id drawn twice) and the sizes of the requests that carry them.
fn arrivals() -> impl Strategy<Value = (Vec<Drawn>, Vec<usize>)> {
    (
        prop::collection::vec(drawn(), 1..40),
        prop::collection::vec(any::<prop::sample::Index>(), 0..8),
    )
        .prop_flat_map(|(mut spans, resends)| {
            for index in resends {
                let again = index.get(&spans).clone();
                spans.push(again);
            }
            let n = spans.len();
            (
                Just(spans).prop_shuffle(),
                prop::collection::vec(1usize..8, n),
            )
        })
}

/// Writes `spans` in requests of the given sizes.
fn write_in_requests(store: &mut Store, spans: &[Drawn], sizes: &[usize]) {
    let mut rest = spans;
    for &size in sizes {
        if rest.is_empty() {
            break;
        }
        let (now, later) = rest.split_at(size.min(rest.len()));
        let batch = Batch {
            resources: resources(),
            spans: now.iter().map(row).collect(),
            usage: Vec::new(),
        };
        store.write(&batch).expect("write");
        assert_matches_recomputation(store);
        rest = later;
    }
}

/// The last version of every span, in one request to a fresh store.
fn written_at_once(spans: &[Drawn]) -> Store {
    let mut last: BTreeMap<(u8, u8), &Drawn> = BTreeMap::new();
    for d in spans {
        last.insert((d.trace, d.span), d);
    }
    let mut store = Store::in_memory().expect("store");
    store
        .write(&Batch {
            resources: resources(),
            spans: last.values().map(|d| row(d)).collect(),
            usage: Vec::new(),
        })
        .expect("write");
    store
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn incremental_summary_equals_recomputation((spans, sizes) in arrivals()) {
        let mut store = Store::in_memory().expect("store");
        write_in_requests(&mut store, &spans, &sizes);
        let at_once = written_at_once(&spans);
        for trace_id in trace_ids(store.connection()) {
            prop_assert_eq!(
                stored(store.connection(), &trace_id),
                stored(at_once.connection(), &trace_id),
                "trace {}", trace_id
            );
        }
    }
}

fn span(trace: u8, span: u8, parent: Option<u8>, start: i64, length: i64) -> Drawn {
    Drawn {
        trace,
        span,
        parent,
        name: span,
        start,
        length,
        status: SpanStatus::Ok,
        input_tokens: None,
        output_tokens: None,
        is_marker: false,
        end_user: None,
        session: None,
        metadata: None,
        resource: 0,
    }
}

fn write(store: &mut Store, spans: &[Drawn]) {
    store
        .write(&Batch {
            resources: resources(),
            spans: spans.iter().map(row).collect(),
            usage: Vec::new(),
        })
        .expect("write");
}

fn summary(store: &Store, trace: u8) -> neatlogs_cli::store::TraceSummary {
    store
        .trace(&trace_hex(trace))
        .expect("read")
        .expect("trace")
        .trace
}

#[test]
fn a_resent_span_that_held_the_start_or_end_no_longer_counts() {
    let mut store = Store::in_memory().unwrap();
    write(
        &mut store,
        &[span(0, 2, Some(1), 0, 900), span(0, 3, Some(1), 100, 100)],
    );
    assert_eq!(summary(&store, 0).duration_ms, 900e-6);
    // Span 2 re-sent shorter and later: the range is now span 3's and 2's.
    write(&mut store, &[span(0, 2, Some(1), 150, 100)]);
    let trace = summary(&store, 0);
    assert_eq!(trace.start_unix_nano, T0 + 100);
    assert_eq!(trace.duration_ms, 150e-6);
    assert_eq!(trace.span_count, 2);
    assert_matches_recomputation(&store);
}

#[test]
fn a_root_that_arrives_last_takes_over_name_range_and_end_user() {
    let mut store = Store::in_memory().unwrap();
    write(&mut store, &[span(0, 3, Some(2), 20, 10)]);
    write(&mut store, &[span(0, 2, Some(1), 10, 30)]);
    let trace = summary(&store, 0);
    assert_eq!(trace.name.as_deref(), Some("span-2"));
    assert!(!trace.has_root);
    let mut root = span(0, 1, None, 0, 100);
    root.end_user = Some(7);
    write(&mut store, &[root]);
    let trace = summary(&store, 0);
    assert_eq!(trace.name.as_deref(), Some("span-1"));
    assert_eq!(trace.end_user.as_deref(), Some("u_7"));
    assert_eq!(trace.duration_ms, 100e-6);
    assert_eq!(trace.span_count, 3);
    assert_matches_recomputation(&store);
}

#[test]
fn a_root_resent_with_a_parent_gives_the_trace_back_to_its_earliest_orphan() {
    let mut store = Store::in_memory().unwrap();
    let mut root = span(0, 1, None, 0, 100);
    root.end_user = Some(1);
    root.metadata = Some(0);
    write(&mut store, &[root, span(0, 2, Some(1), 10, 10)]);
    assert_eq!(summary(&store, 0).end_user.as_deref(), Some("u_1"));
    // Re-sent as the child of a remote parent: no root, no end-user, and
    // no metadata rows left for `metadata:` filters.
    write(&mut store, &[span(0, 1, Some(9), 5, 100)]);
    let trace = summary(&store, 0);
    assert_eq!(trace.end_user, None);
    assert_eq!(trace.end_user_metadata, None);
    assert_eq!(trace.name.as_deref(), Some("span-1"));
    let filter = neatlogs_cli::filter::parse("metadata:plan is pro").unwrap();
    assert!(store.list_traces(&filter, 10, 0).unwrap().is_empty());
    assert_matches_recomputation(&store);
}

#[test]
fn token_sums_past_the_integer_range_are_capped_not_refused() {
    let mut store = Store::in_memory().unwrap();
    let mut a = span(0, 1, None, 0, 10);
    a.input_tokens = Some(i64::MAX);
    let mut b = span(0, 2, Some(1), 0, 10);
    b.input_tokens = Some(i64::MAX);
    write(&mut store, &[a.clone()]);
    write(&mut store, &[b.clone()]);
    assert_eq!(summary(&store, 0).input_tokens, i64::MAX);
    // Re-sent smaller: the sums are recounted, not subtracted from the cap.
    a.input_tokens = Some(2);
    b.input_tokens = Some(3);
    write(&mut store, &[a]);
    assert_eq!(summary(&store, 0).input_tokens, i64::MAX);
    write(&mut store, &[b]);
    assert_eq!(summary(&store, 0).input_tokens, 5);
}

#[test]
fn a_store_from_before_the_running_totals_is_upgraded_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v1.db");
    let mut first = span(0, 3, Some(2), 20, 10);
    first.input_tokens = Some(5);
    {
        let mut store = Store::open(&path).unwrap();
        write(&mut store, &[first, span(0, 4, Some(2), 30, 10)]);
        write(&mut store, &[span(1, 1, None, 0, 10)]);
        // What a version-2 store lacks.
        store
            .connection()
            .execute_batch(
                "DROP TABLE trace_totals; DROP TABLE orphan_spans; DROP INDEX spans_roots;
                 PRAGMA user_version = 2;",
            )
            .unwrap();
    }
    let mut store = Store::open(&path).unwrap();
    let version: i64 = store
        .connection()
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, neatlogs_cli::store::SCHEMA_VERSION);
    // Writes after the upgrade build on the backfilled totals and orphans.
    let mut late = span(0, 5, Some(4), 40, 10);
    late.input_tokens = Some(7);
    write(&mut store, &[late]);
    let trace = summary(&store, 0);
    assert_eq!(trace.span_count, 3);
    assert_eq!(trace.input_tokens, 12);
    assert_eq!(trace.name.as_deref(), Some("span-3"));
    write(&mut store, &[span(0, 2, None, 0, 100)]);
    assert_eq!(summary(&store, 0).name.as_deref(), Some("span-2"));
    assert_matches_recomputation(&store);
}
