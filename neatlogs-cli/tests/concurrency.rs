//! Concurrent ingest and queries: several clients post while others read;
//! afterwards every acknowledged span is stored exactly once and the
//! summaries add up.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use common::*;
use neatlogs_cli::store::{Store, UserSort};

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
