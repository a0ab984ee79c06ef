//! Concurrent ingest and queries: several clients post while others read;
//! afterwards every acknowledged span is stored exactly once and the
//! summaries add up. And the read path under pressure: a query that runs
//! past the time limit is stopped with a 503, and a query that holds a
//! reader connection does not hold the others.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use neatlogs_cli::server::{router_with, router_with_options, Options, Readers};
use neatlogs_cli::store::{Store, StoreError, UserSort};
use serde_json::Value;

const WRITERS: u64 = 4;
const REQUESTS: u64 = 25;
const TRACES_PER_REQUEST: u64 = 4;

#[test]
fn concurrent_ingest_and_queries_keep_the_store_consistent() {
    let server = Arc::new(TestServer::start(None));
    let stop = Arc::new(AtomicBool::new(false));

    let readers: Vec<_> = (0..2)
        .map(|r| {
            let server = Arc::clone(&server);
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                let path = if r == 0 {
                    "/api/traces?filter=end_user%20starts%20with%20u_&limit=20"
                } else {
                    "/api/end-users?sort=tokens"
                };
                let mut reads = 0;
                // Bounded: stops when the writers finish, or after 2,000 reads.
                while !stop.load(Ordering::Relaxed) && reads < 2_000 {
                    let (status, body) = get(&server.url(path), &[]);
                    assert_eq!(status, 200, "{body}");
                    serde_json::from_str::<serde_json::Value>(&body).expect("valid JSON");
                    reads += 1;
                }
                reads
            })
        })
        .collect();

    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let server = Arc::clone(&server);
            std::thread::spawn(move || {
                for r in 0..REQUESTS {
                    let mut spans = Vec::new();
                    for k in 0..TRACES_PER_REQUEST {
                        let trace = (w * REQUESTS + r) * TRACES_PER_REQUEST + k + 1;
                        let user = format!("u_{}", trace % 10);
                        let root = span(
                            trace,
                            1,
                            None,
                            "chat",
                            "WORKFLOW",
                            trace,
                            5,
                            identity(&user, Some(r#"{"plan":"pro"}"#), None),
                        );
                        spans.push(span(
                            trace,
                            2,
                            Some(1),
                            "llm",
                            "LLM",
                            trace,
                            3,
                            llm("m", 2, 1),
                        ));
                        spans.push(marker(&root));
                        spans.push(root);
                    }
                    let body = protobuf(&request(sdk_resource("wf", None), spans));
                    let (status, text) = post(
                        &server.url("/v1/traces"),
                        &[("content-type", "application/x-protobuf")],
                        &body,
                    );
                    assert_eq!(status, 200, "{text}");
                }
            })
        })
        .collect();
    for w in writers {
        w.join().expect("writer");
    }
    stop.store(true, Ordering::Relaxed);
    for r in readers {
        assert!(r.join().expect("reader") > 0);
    }

    let traces = WRITERS * REQUESTS * TRACES_PER_REQUEST;
    let store = Store::open(&server.db()).expect("store");
    let count = |sql: &str| -> i64 {
        store
            .connection()
            .query_row(sql, [], |r| r.get(0))
            .expect("count")
    };
    assert_eq!(count("SELECT COUNT(*) FROM traces") as u64, traces);
    assert_eq!(count("SELECT COUNT(*) FROM spans") as u64, traces * 3);
    assert_eq!(
        count("SELECT SUM(span_count) FROM traces") as u64,
        traces * 2
    );
    let integrity: String = store
        .connection()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity check");
    assert_eq!(integrity, "ok");
    let report = store.users(&Default::default(), UserSort::EndUser).unwrap();
    assert_eq!(report.users.len(), 10);
    assert_eq!(
        report.users.iter().map(|u| u.traces).sum::<i64>() as u64,
        traces
    );
    assert_eq!(
        report.users.iter().map(|u| u.input_tokens).sum::<i64>() as u64,
        traces * 2
    );
}

/// Posts `traces` one-span traces, spread over ten end-users with metadata.
fn seed(server: &TestServer, traces: u64) {
    let spans = (1..=traces)
        .map(|t| {
            let user = format!("u_{}", t % 10);
            let metadata = format!(r#"{{"plan":"pro","n":{t}}}"#);
            span(
                t,
                1,
                None,
                "chat",
                "WORKFLOW",
                t,
                5,
                identity(&user, Some(&metadata), None),
            )
        })
        .collect();
    let body = protobuf(&request(sdk_resource("wf", None), spans));
    let (status, text) = post(
        &server.url("/v1/traces"),
        &[("content-type", "application/x-protobuf")],
        &body,
    );
    assert_eq!(status, 200, "{text}");
}

/// A long metadata filter with a count, as the traces page asks for it.
const HEAVY: &str = "/api/traces?count=true&filter=metadata%3Aplan%20is%20pro%20and%20end_user%20contains%209%20and%20name%20contains%20a";

#[test]
fn a_query_past_the_time_limit_is_stopped_with_a_503_asking_for_a_narrower_filter() {
    // No time at all: any query of more than a few thousand SQLite steps
    // runs past it, which this one over 500 traces does.
    let limited = TestServer::start_app(Default::default(), |db| {
        router_with_options(
            db,
            Options {
                query_time_limit: Duration::ZERO,
                ..Options::default()
            },
        )
        .expect("router")
    });
    seed(&limited, 500);
    let (status, body) = get(&limited.url(HEAVY), &[]);
    assert_eq!(status, 503, "{body}");
    let body: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(body["error_type"], "timeout");
    let message = body["error"].as_str().unwrap();
    assert!(
        message.contains("was stopped") && message.contains("narrow the filter"),
        "{message}"
    );

    // One trace is read whole whatever the limit: no filter narrows it.
    let spans = (2..=600)
        .map(|id| span(9_999, id, Some(1), "step", "TOOL", id, 1, vec![]))
        .chain([span(9_999, 1, None, "long", "WORKFLOW", 0, 700, vec![])])
        .collect();
    let body = protobuf(&request(sdk_resource("wf", None), spans));
    let (status, text) = post(
        &limited.url("/v1/traces"),
        &[("content-type", "application/x-protobuf")],
        &body,
    );
    assert_eq!(status, 200, "{text}");
    let (status, body) = get(
        &limited.url(&format!("/api/traces/{}", trace_hex(9_999))),
        &[],
    );
    assert_eq!(status, 200, "{body}");
    let body: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(body["spans"].as_array().map(Vec::len), Some(600));

    // The same query with the default limit answers.
    let server = TestServer::start(None);
    seed(&server, 500);
    let (status, body) = get(&server.url(HEAVY), &[]);
    assert_eq!(status, 200, "{body}");
    let body: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(body["total"], 50);
}

#[test]
fn a_cheap_read_answers_while_a_slow_one_holds_a_reader() {
    let mut pool = None;
    let server = TestServer::start_app(Default::default(), |db| {
        let readers = Readers::open(db, 2).expect("readers");
        pool = Some(readers.clone());
        router_with(
            Store::open(db).expect("writer"),
            readers,
            Options {
                // Long enough for a cheap query on a loaded machine; also
                // how long a query waits for a free reader.
                query_time_limit: Duration::from_secs(2),
                ..Options::default()
            },
        )
    });
    let readers = pool.expect("the readers");
    seed(&server, 20);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let take = || rt.block_on(readers.get(Duration::from_secs(5)));

    // A query that never ends by itself holds one reader.
    let slow_reader = take().expect("a free reader");
    let interrupt = slow_reader.connection().get_interrupt_handle();
    let (started_tx, started_rx) = std::sync::mpsc::channel();
    let slow = std::thread::spawn(move || {
        started_tx.send(()).unwrap();
        slow_reader
            .connection()
            .query_row(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n)
                 SELECT COUNT(*) FROM n",
                [],
                |r| r.get::<_, i64>(0),
            )
            .map_err(StoreError::from)
    });
    started_rx.recv().unwrap();

    let (status, body) = get(
        &server.url("/api/traces?filter=end_user%20is%20u_1&count=true"),
        &[],
    );
    assert_eq!(status, 200, "{body}");
    let body: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(body["total"], 2);
    assert!(!slow.is_finished(), "the slow query was still running");

    // With the other reader held too, a query waits for one, then says busy.
    let other = take().expect("the second reader");
    let resp = agent()
        .get(&server.url("/api/traces"))
        .call()
        .expect("request sent");
    assert_eq!(resp.status().as_u16(), 503);
    assert_eq!(
        resp.headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("1")
    );
    assert!(!slow.is_finished(), "the slow query was still running");
    drop(other);
    assert_eq!(get(&server.url("/api/traces"), &[]).0, 200);

    interrupt.interrupt();
    let stopped = slow.join().expect("the slow query's thread");
    assert!(
        stopped.is_err(),
        "the endless query ends only when interrupted"
    );
}
