//! Foreign OTLP (another SDK's spans) follows the root rule: a trace's
//! end-user comes only from its root span, whatever the children carry and
//! in whatever order the spans arrive.

mod common;

use common::*;
use neatlogs_cli::filter::parse;
use neatlogs_cli::ingest::batch_from_otlp;
use neatlogs_cli::store::{Store, UserSort};
use opentelemetry_proto::tonic::resource::v1::Resource;

/// A resource from some other OpenTelemetry SDK: no neatlogs keys, but an
/// operator-ish `user.id` that must not become the end-user.
fn foreign_resource() -> Resource {
    Resource {
        attributes: vec![
            s("service.name", "checkout-api"),
            s("telemetry.sdk.language", "python"),
            s("user.id", "ci-bot"),
        ],
        ..Default::default()
    }
}

/// A plain span with only the given attributes (no neatlogs kinds).
fn plain(
    trace: u64,
    id: u64,
    parent: Option<u64>,
    name: &str,
    start_ms: u64,
    attrs: Vec<opentelemetry_proto::tonic::common::v1::KeyValue>,
) -> opentelemetry_proto::tonic::trace::v1::Span {
    let mut sp = span(trace, id, parent, name, "CHAIN", start_ms, 10, vec![]);
    sp.attributes = attrs;
    sp
}

fn write(store: &mut Store, spans: Vec<opentelemetry_proto::tonic::trace::v1::Span>) {
    let batch = batch_from_otlp(&request(foreign_resource(), spans)).expect("valid OTLP");
    store.write(&batch).expect("stored");
}

#[test]
fn enduser_id_on_a_child_only_is_ignored() {
    let mut store = Store::in_memory().unwrap();
    write(
        &mut store,
        vec![
            plain(1, 1, None, "POST /checkout", 0, vec![]),
            plain(1, 2, Some(1), "charge", 1, vec![s("enduser.id", "u_child")]),
            plain(
                1,
                3,
                Some(2),
                "fraud-check",
                2,
                vec![
                    s("neatlogs.end_user.id", "u_grandchild"),
                    s("neatlogs.end_user.metadata", r#"{"plan":"pro"}"#),
                    s("neatlogs.session.id", "s_child"),
                ],
            ),
        ],
    );
    let trace = store.trace(&trace_hex(1)).unwrap().expect("trace");
    assert_eq!(trace.trace.end_user, None);
    assert_eq!(trace.trace.end_user_metadata, None);
    assert_eq!(trace.trace.session, None);
    assert_eq!(trace.trace.operator.as_deref(), Some("ci-bot"));
    assert_eq!(trace.trace.workflow.as_deref(), Some("checkout-api"));
    assert_eq!(trace.trace.span_count, 3);

    for expression in [
        "end_user is u_child",
        "end_user is u_grandchild",
        "end_user is ci-bot",
        "end_user is set",
        "metadata:plan is pro",
        "session is s_child",
    ] {
        let hits = store
            .list_traces(&parse(expression).unwrap(), 10, 0)
            .unwrap();
        assert!(hits.is_empty(), "{expression} matched {hits:?}");
    }
    let report = store
        .users(&Default::default(), UserSort::default())
        .unwrap();
    assert!(report.users.is_empty(), "{:?}", report.users);
    assert_eq!(report.traces_without_end_user, 1);
}

#[test]
fn enduser_id_on_the_root_counts_even_when_children_disagree() {
    let mut store = Store::in_memory().unwrap();
    write(
        &mut store,
        vec![
            plain(
                2,
                1,
                None,
                "POST /checkout",
                0,
                vec![s("enduser.id", "u_root")],
            ),
            plain(2, 2, Some(1), "charge", 1, vec![s("enduser.id", "u_child")]),
        ],
    );
    let hits = store
        .list_traces(&parse("end_user is u_root").unwrap(), 10, 0)
        .unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(
        store
            .list_traces(&parse("end_user is u_child").unwrap(), 10, 0)
            .unwrap(),
        vec![]
    );
}

#[test]
fn a_root_arriving_after_its_children_decides_the_end_user() {
    let mut store = Store::in_memory().unwrap();
    // First request: only the children, one claiming an end-user.
    write(
        &mut store,
        vec![
            plain(3, 2, Some(1), "charge", 1, vec![s("enduser.id", "u_child")]),
            plain(3, 3, Some(2), "db", 2, vec![]),
        ],
    );
    let pending = store.trace(&trace_hex(3)).unwrap().expect("trace");
    assert!(!pending.trace.has_root);
    assert_eq!(
        pending.trace.end_user, None,
        "a child never names the end-user"
    );
    assert_eq!(pending.trace.name.as_deref(), Some("charge"));

    // Second request: the root, with its own end-user.
    write(
        &mut store,
        vec![plain(
            3,
            1,
            None,
            "POST /checkout",
            0,
            vec![
                s("neatlogs.end_user.id", "u_root"),
                s("neatlogs.end_user.metadata", r#"{"plan":"team"}"#),
            ],
        )],
    );
    let done = store.trace(&trace_hex(3)).unwrap().expect("trace");
    assert!(done.trace.has_root);
    assert_eq!(done.trace.end_user.as_deref(), Some("u_root"));
    assert_eq!(done.trace.name.as_deref(), Some("POST /checkout"));
    assert_eq!(done.trace.span_count, 3);
    let team = store
        .list_traces(&parse("metadata:plan is team").unwrap(), 10, 0)
        .unwrap();
    assert_eq!(team.len(), 1);
}

#[test]
fn catalogue_keeps_the_latest_metadata_by_end_time_not_arrival() {
    let mut store = Store::in_memory().unwrap();
    let root = |trace: u64, start_ms: u64, plan: &str| {
        plain(
            trace,
            1,
            None,
            "chat",
            start_ms,
            vec![
                s("neatlogs.end_user.id", "u_1"),
                s(
                    "neatlogs.end_user.metadata",
                    &format!(r#"{{"plan":"{plan}"}}"#),
                ),
            ],
        )
    };
    // The newer trace arrives first, the older one later.
    write(&mut store, vec![root(11, 5_000, "pro")]);
    write(&mut store, vec![root(10, 1_000, "free")]);
    let report = store
        .users(&Default::default(), UserSort::default())
        .unwrap();
    assert_eq!(report.users.len(), 1);
    assert_eq!(
        report.users[0].metadata,
        Some(serde_json::json!({"plan": "pro"}))
    );
    assert_eq!(report.users[0].first_seen, "2026-05-01T12:00:01.000Z");
    assert_eq!(report.users[0].last_seen, "2026-05-01T12:00:05.010Z");
    // Each trace still filters by the metadata it was sent with.
    let free = store
        .list_traces(&parse("metadata:plan is free").unwrap(), 10, 0)
        .unwrap();
    assert_eq!(free.len(), 1);
    assert_eq!(free[0].trace_id, trace_hex(10));
}

#[test]
fn resent_spans_replace_rather_than_duplicate() {
    let mut store = Store::in_memory().unwrap();
    let spans = || {
        vec![
            plain(4, 1, None, "root", 0, vec![s("enduser.id", "u_4")]),
            plain(4, 2, Some(1), "child", 1, vec![]),
        ]
    };
    write(&mut store, spans());
    write(&mut store, spans());
    let t = store.trace(&trace_hex(4)).unwrap().unwrap();
    assert_eq!(t.trace.span_count, 2);
    assert_eq!(t.spans.len(), 2);
}

/// The Python SDK 1.3.x with opentelemetry-sdk 1.43+ sends its `init()`
/// default end-user only as a resource attribute: it is the end-user of that
/// process's roots that name none, and never overrides a root's own.
#[test]
fn a_resource_default_end_user_belongs_to_roots_without_one() {
    let resource = Resource {
        attributes: vec![
            s("service.name", "py-app"),
            s("neatlogs.end_user.id", "u_default"),
            s("neatlogs.end_user.metadata", r#"{"plan":"free"}"#),
            s("user.id", "op_dev"),
        ],
        ..Default::default()
    };
    let spans = vec![
        plain(1, 1, None, "turn", 0, vec![]),
        plain(1, 2, Some(1), "llm", 1, vec![]),
        plain(
            2,
            3,
            None,
            "explicit",
            0,
            vec![s("neatlogs.end_user.id", "u_42")],
        ),
    ];
    let mut store = Store::in_memory().unwrap();
    store
        .write(&batch_from_otlp(&request(resource, spans)).unwrap())
        .unwrap();
    let first = store.trace(&trace_hex(1)).unwrap().unwrap().trace;
    assert_eq!(first.end_user.as_deref(), Some("u_default"));
    assert_eq!(
        first.end_user_metadata,
        Some(serde_json::json!({"plan": "free"}))
    );
    assert_eq!(first.operator.as_deref(), Some("op_dev"));
    let second = store.trace(&trace_hex(2)).unwrap().unwrap().trace;
    assert_eq!(
        second.end_user.as_deref(),
        Some("u_42"),
        "the root's own wins"
    );
    assert_eq!(second.end_user_metadata, None);
}

/// A sender's invalid end-user id (blank, padded, a bidi override, a
/// control character, over 256 characters) is no end-user: the trace is
/// stored without one, and the resource's default never stands in for it.
/// A valid id and an invalid resource default behave the same way.
#[test]
fn an_invalid_end_user_from_a_sender_is_none_never_the_resource_default() {
    let resource = |default: &str| Resource {
        attributes: vec![
            s("service.name", "py-app"),
            s("neatlogs.end_user.id", default),
        ],
        ..Default::default()
    };
    let long = "x".repeat(300);
    let bad = ["   ", " u_pad ", "u_\u{202E}evil", "u\n1", long.as_str()];
    let mut store = Store::in_memory().unwrap();
    for (i, id) in bad.iter().enumerate() {
        let trace = i as u64 + 1;
        for key in ["neatlogs.end_user.id", "enduser.id"] {
            let trace = if key == "enduser.id" {
                trace + 100
            } else {
                trace
            };
            let spans = vec![plain(trace, trace * 10, None, "root", 0, vec![s(key, id)])];
            store
                .write(&batch_from_otlp(&request(resource("u_default"), spans)).unwrap())
                .unwrap();
            let t = store.trace(&trace_hex(trace)).unwrap().unwrap().trace;
            assert_eq!(t.end_user, None, "{key} = {id:?}");
        }
    }
    // An invalid resource default is no default.
    let spans = vec![plain(50, 500, None, "root", 0, vec![])];
    store
        .write(&batch_from_otlp(&request(resource(" u_pad"), spans)).unwrap())
        .unwrap();
    let t = store.trace(&trace_hex(50)).unwrap().unwrap().trace;
    assert_eq!(t.end_user, None);
    let users = store
        .users(&Default::default(), UserSort::default())
        .unwrap();
    assert!(
        users.users.is_empty(),
        "no end-user at all: {:?}",
        users.users
    );
    assert_eq!(users.traces_without_end_user, 2 * bad.len() as i64 + 1);
}
