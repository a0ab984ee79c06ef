//! `flush` and `shutdown` from sync code, from inside multi-thread and
//! current-thread tokio runtimes, and twice in a row: they never hang, never
//! panic ("no reactor"), and report the truth.
//!
//! Each test runs in a child process of its own (one `init` per process); a
//! child that hangs is killed and the test fails. No test asserts how long a
//! call took: a call that must not wait for something is set up so that
//! waiting would outlast that limit (an export timeout of an hour), which
//! turns "returns quickly" into "returns at all".

#[path = "export_support/mod.rs"]
mod support;

use neatlogs::SpanHandle;
use std::time::Duration;

use neatlogs::{Config, FutureExt, SpanKind};
use support::*;

fn config(endpoint: &str) -> Config {
    Config::new()
        .endpoint(endpoint)
        .schedule_delay(Duration::from_millis(10))
}

#[test]
fn shutdown_from_sync_main() {
    // In a child process: it tests the global `flush`/`shutdown`, and `export_thread_alive` checks every thread of the process.
    if !in_child("shutdown_from_sync_main", &[]) {
        return;
    }
    let receiver = Receiver::start();
    neatlogs::init(config(&receiver.url())).unwrap();
    {
        let _root = neatlogs::trace("sync").end_user_id("u_1").enter();
        let cx = neatlogs::Context::current();
        std::thread::spawn(move || {
            let _g = cx.attach();
            let _t = neatlogs::span(SpanKind::Tool, "on-thread").enter();
        })
        .join()
        .unwrap();
    }
    assert!(neatlogs::flush());
    assert!(neatlogs::shutdown());
    assert!(!export_thread_alive());
    assert_eq!(app_spans(&receiver.accepted_spans()).len(), 2);
}

#[test]
fn shutdown_twice_in_a_row() {
    // In a child process: it tests the global `shutdown`/`shutdown_with_timeout`/`flush` and that tracing is off for the process after.
    if !in_child("shutdown_twice_in_a_row", &[]) {
        return;
    }
    let receiver = Receiver::start();
    neatlogs::init(config(&receiver.url())).unwrap();
    {
        let _root = neatlogs::trace("once").enter();
    }
    assert!(neatlogs::shutdown());
    let after_first = (neatlogs::stats(), receiver.request_count());
    assert!(
        neatlogs::shutdown(),
        "the second call reports the same truth"
    );
    assert!(neatlogs::shutdown_with_timeout(Duration::ZERO));
    assert!(neatlogs::flush(), "flush after shutdown has nothing to do");
    assert_eq!(
        (neatlogs::stats(), receiver.request_count()),
        after_first,
        "the repeated calls send nothing and count nothing"
    );
    // Spans after shutdown are not recorded, and nothing breaks.
    {
        let root = neatlogs::trace("after").enter();
        assert!(!root.is_recording());
    }
    assert_eq!(neatlogs::stats().queued, 1);
    assert_eq!(app_spans(&receiver.accepted_spans()).len(), 1);
}

async fn traced_work(i: usize) -> usize {
    tokio::time::sleep(Duration::from_millis(1)).await;
    let _t = neatlogs::span(SpanKind::Tool, "tool").enter();
    i
}

/// Async roots with children on spawned tasks.
async fn async_traces(n: usize) {
    let mut handles = Vec::new();
    for i in 0..n {
        handles.push(tokio::spawn(
            neatlogs::trace("async")
                .end_user_id(format!("u_{i}"))
                .instrument(async move {
                    tokio::spawn(traced_work(i).in_current_trace())
                        .await
                        .unwrap()
                }),
        ));
    }
    for h in handles {
        h.await.unwrap();
    }
}

/// Flush and shut down twice, called straight from async code (as at the end
/// of `#[tokio::main]`). On a current-thread runtime the only runtime thread
/// blocks in these calls, so export must not need it.
async fn flush_and_shutdown_from_async_code() {
    let receiver = Receiver::start();
    neatlogs::init(config(&receiver.url())).unwrap();
    async_traces(20).await;
    assert!(neatlogs::flush());
    async_traces(20).await;
    assert!(neatlogs::shutdown());
    assert!(!export_thread_alive(), "the export thread was joined");
    assert!(neatlogs::shutdown());
    assert_eq!(app_spans(&receiver.accepted_spans()).len(), 80);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_inside_a_multi_thread_runtime() {
    // In a child process: it tests the global `flush`/`shutdown` from async code, and `export_thread_alive` checks every thread of the process.
    if !in_child("shutdown_inside_a_multi_thread_runtime", &[]) {
        return;
    }
    flush_and_shutdown_from_async_code().await;
}

#[tokio::test(flavor = "current_thread")]
async fn shutdown_inside_a_current_thread_runtime() {
    // In a child process: it tests the global `flush`/`shutdown` from async code, and `export_thread_alive` checks every thread of the process.
    if !in_child("shutdown_inside_a_current_thread_runtime", &[]) {
        return;
    }
    flush_and_shutdown_from_async_code().await;
}

#[tokio::test(flavor = "current_thread")]
async fn shutdown_inside_a_current_thread_runtime_with_the_receiver_down() {
    // In a child process: `shutdown_with_timeout` is the global pipeline's, and `export_thread_alive` checks every thread of the process.
    if !in_child(
        "shutdown_inside_a_current_thread_runtime_with_the_receiver_down",
        &[],
    ) {
        return;
    }
    // An hour of export timeout against a receiver that is down: only
    // shutdown's own timeout can end the retries, else the child hangs.
    neatlogs::init(config(&dead_endpoint()).export_timeout(Duration::from_secs(3600))).unwrap();
    async_traces(5).await;
    let t = std::time::Instant::now();
    assert!(!neatlogs::shutdown_with_timeout(Duration::from_secs(1)));
    let took = t.elapsed();
    assert!(!export_thread_alive(), "the export thread was joined");
    let stats = neatlogs::stats();
    assert_eq!(stats.queued, 10, "{stats:?}");
    assert_eq!(stats.failed, stats.queued, "{stats:?}");
    assert!(neatlogs::shutdown_with_timeout(Duration::from_secs(1)) == neatlogs::shutdown());
    println!("[report] receiver down, current-thread runtime: shutdown(1s) returned in {took:?}");
}
