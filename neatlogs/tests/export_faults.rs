//! Export against a misbehaving receiver: retries, Retry-After, rejection,
//! batch splitting, a receiver that is down or slow, and shutdown in the
//! middle of a retry. The application must never notice more than a
//! counter.
//!
//! Most tests run on a `Neatlogs` instance of their own; those that need
//! the process-global pipeline (`flush_with_timeout`/`shutdown_with_timeout`,
//! the process's memory, or its threads) run in a child process, killed as a
//! failure if it outlives `CHILD_LIMIT`. No test asserts how long
//! a call took (figures are printed as `[report]` lines only): what must not
//! wait is set up so that waiting would outlast that limit, or would change
//! a count the test checks.

use neatlogs::SpanHandle;
#[path = "export_support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use neatlogs::{Config, Neatlogs, SpanKind};
use support::*;

fn config(endpoint: &str) -> Config {
    Config::new()
        .endpoint(endpoint)
        .api_key("k")
        .schedule_delay(Duration::from_millis(10))
}

/// An instance with `config`, whose timer is an hour away: spans reach an
/// instance one by one as they end (no per-thread batch per trace), so a
/// timer export could split a trace over two requests; here only `flush`
/// and `shutdown` export, and the request counts stay exact.
fn instance(config: Config) -> Neatlogs {
    Neatlogs::new(config.schedule_delay(Duration::from_secs(3600))).unwrap()
}

/// One trace of `n` spans (a root and `n - 1` tools).
fn one_trace(name: &'static str, n: usize) {
    let _root = neatlogs::trace(name).end_user_id("u_1").enter();
    for _ in 1..n {
        let _tool = neatlogs::span(SpanKind::Tool, "step").enter();
    }
}

#[test]
fn server_error_then_ok_is_retried_and_nothing_is_lost() {
    let receiver = Receiver::with_policy(|n, _| Reply::status(if n == 0 { 500 } else { 200 }));
    let tracer = instance(config(&receiver.url()));
    tracer.in_scope(|| one_trace("retried", 10));
    assert!(tracer.shutdown(), "{:?}", tracer.stats());

    let requests = receiver.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].answered, 500);
    assert_eq!(
        requests[0].raw, requests[1].raw,
        "the retry resends the same payload"
    );
    let spans = app_spans(&receiver.accepted_spans());
    assert_eq!(spans.len(), 10);
    assert_eq!(id_counts(&spans).len(), 10, "no duplicates");
    let stats = tracer.stats();
    assert_eq!(
        (stats.queued, stats.exported, stats.failed, stats.retried),
        (10, 10, 0, 1)
    );
}

#[test]
fn too_many_requests_honours_retry_after() {
    // 1. `Retry-After: 1`, well inside the export timeout: retried once,
    //    with the same payload, and delivered.
    let receiver = Receiver::with_policy(|n, _| {
        if n == 0 {
            Reply::status(429).header("retry-after", "1")
        } else {
            Reply::ok()
        }
    });
    let tracer = instance(config(&receiver.url()));
    tracer.in_scope(|| one_trace("throttled", 3));
    assert!(tracer.flush(), "{:?}", tracer.stats());

    let requests = receiver.requests();
    let answers: Vec<u16> = requests.iter().map(|r| r.answered).collect();
    assert_eq!(answers, [429, 200]);
    assert_eq!(requests[0].raw, requests[1].raw, "the same payload again");
    assert_eq!(app_spans(&receiver.accepted_spans()).len(), 3);
    assert_eq!(tracer.stats().retried, 1);
    let waited = requests[1].at - requests[0].at;

    // 2. A `Retry-After` past the export timeout (10 s): the batch is given
    //    up at once, not retried on the exporter's own backoff (which would
    //    have been accepted: the receiver answers 200 after the first 429).
    receiver.set_policy(|n, _| {
        if n == 2 {
            Reply::status(429).header("retry-after", "3600")
        } else {
            Reply::ok()
        }
    });
    tracer.in_scope(|| one_trace("throttled-for-an-hour", 3));
    assert!(!tracer.flush(), "{:?}", tracer.stats());
    assert_eq!(receiver.request_count(), 3, "no retry");
    let stats = tracer.stats();
    assert_eq!(
        (stats.queued, stats.exported, stats.failed, stats.retried),
        (6, 3, 3, 1)
    );
    let _ = tracer.shutdown();
    println!(
        "[report] 429 Retry-After: 1 -> retried after {waited:?}; Retry-After: 3600 -> given up"
    );
}

#[test]
fn bad_request_is_not_retried_and_is_counted_failed() {
    // The capture is process-wide: the message looked for is this
    // receiver's own.
    capture_logs();
    let receiver = Receiver::with_policy(|_, _| {
        Reply::status(400).json_body(serde_json::json!({
            "code": 3,
            "message": "span name must not be empty"
        }))
    });
    let tracer = instance(config(&receiver.url()));
    tracer.in_scope(|| one_trace("rejected", 3));
    assert!(!tracer.shutdown(), "a rejected batch is not `all exported`");

    assert_eq!(receiver.request_count(), 1, "400 is not retried");
    let stats = tracer.stats();
    assert_eq!(
        (stats.queued, stats.exported, stats.failed, stats.retried),
        (3, 0, 3, 0)
    );
    let logs = logs();
    assert!(
        logs.iter()
            .any(|l| l.contains("400") && l.contains("span name must not be empty")),
        "the receiver's message is logged: {logs:?}"
    );
}

#[test]
fn payload_too_large_splits_the_batch_in_halves() {
    // At most 4 OTLP spans (2 roots and their markers) per request.
    let receiver =
        Receiver::with_policy(|_, r| Reply::status(if r.spans().len() > 4 { 413 } else { 200 }));
    let tracer = Neatlogs::new(
        config(&receiver.url())
            .batch_size(64)
            .schedule_delay(Duration::from_secs(30)),
    )
    .unwrap();
    tracer.in_scope(|| {
        for _ in 0..16 {
            one_trace("small", 1);
        }
    });
    assert!(tracer.flush(), "{:?}", tracer.stats());

    let requests = receiver.requests();
    let sizes: Vec<(usize, u16)> = requests
        .iter()
        .map(|r| (r.spans().len(), r.answered))
        .collect();
    // 32 → 16+16 → 8+8 → 4+4: the first request, 2 + 4 halves are refused.
    assert_eq!(sizes[0], (32, 413), "{sizes:?}");
    assert_eq!(
        sizes.iter().filter(|(_, s)| *s == 413).count(),
        7,
        "{sizes:?}"
    );
    assert_eq!(
        sizes.iter().filter(|(_, s)| *s == 200).count(),
        8,
        "{sizes:?}"
    );
    let accepted = receiver.accepted_spans();
    assert_eq!(app_spans(&accepted).len(), 16);
    assert_eq!(
        id_counts(&accepted).len(),
        32,
        "roots and markers, once each"
    );
    // Each marker travels with its root.
    for r in requests.iter().filter(|r| r.answered == 200) {
        let spans = r.spans();
        for m in spans.iter().filter(|s| is_marker(s)) {
            assert!(spans.iter().any(|s| s.span_id == m.parent_span_id));
        }
    }
    let stats = tracer.stats();
    assert_eq!((stats.exported, stats.failed, stats.retried), (16, 0, 0));

    // A single span the receiver still refuses is lost, and counted.
    receiver.set_policy(|_, _| Reply::status(413));
    tracer.in_scope(|| one_trace("huge", 1));
    assert!(!tracer.flush());
    assert_eq!(tracer.stats().failed, 1);
    println!("[report] 413 split: requests (spans, status) = {sizes:?}");
}

#[test]
fn receiver_down_costs_bounded_memory_and_no_latency() {
    // In a child process: it measures the whole process's RSS, uses `shutdown_with_timeout`, and checks every thread of the process.
    if !in_child("receiver_down_costs_bounded_memory_and_no_latency", &[]) {
        return;
    }
    const SPANS: usize = 200_000;
    neatlogs::init(
        config(&dead_endpoint())
            .queue_size(1024)
            .batch_size(256)
            .schedule_delay(Duration::from_millis(5))
            // An hour: a caller that waited for export would hang (and the
            // child be killed), and only shutdown's timeout ends the retries.
            .export_timeout(Duration::from_secs(3600)),
    )
    .unwrap();
    let payload: String = "x".repeat(1024);
    // Warm up allocator and thread-locals before measuring.
    for _ in 0..1000 {
        let mut _s = neatlogs::trace("warm").enter();
        _s.set_input(payload.clone());
    }
    let rss_before = rss_kib().unwrap();
    let started = Instant::now();
    let mut slowest = Duration::ZERO;
    for _ in 0..SPANS {
        let t = Instant::now();
        let mut _s = neatlogs::trace("work").enter();
        _s.set_input(payload.clone());
        drop(_s);
        slowest = slowest.max(t.elapsed());
    }
    let elapsed = started.elapsed();
    let rss_after = rss_kib().unwrap();
    let stats = neatlogs::stats();
    let recorded = (SPANS + 1000) as u64;
    // The last few traces' spans may still wait in this thread's stash
    // (handed off with the next ones, or at shutdown).
    let waiting = recorded - (stats.queued + stats.dropped);
    assert!(waiting < 64, "{waiting} spans not handed off: {stats:?}");
    // The caller never waits for the stuck export: with the queue full, new
    // spans are dropped (and counted) instead.
    assert!(stats.dropped > 0, "a full queue drops: {stats:?}");
    let growth_mib = rss_after.saturating_sub(rss_before) as f64 / 1024.0;
    // Unbounded, 200,000 spans of 1 KiB would hold over 200 MiB.
    assert!(growth_mib < 32.0, "memory grew by {growth_mib:.1} MiB");
    let mean = elapsed / SPANS as u32;

    let t = Instant::now();
    let all_out = neatlogs::shutdown_with_timeout(Duration::from_secs(3));
    let shutdown_took = t.elapsed();
    assert!(!all_out);
    let stats = neatlogs::stats();
    assert_eq!(stats.queued + stats.dropped, recorded, "{stats:?}");
    assert_eq!(stats.exported, 0);
    assert_eq!(
        stats.failed, stats.queued,
        "every queued span is accounted for: {stats:?}"
    );
    // The worker has been told to stop at the deadline; on a loaded
    // machine it may take a moment past it to be scheduled and return.
    let gone = Instant::now() + Duration::from_secs(5);
    while export_thread_alive() && Instant::now() < gone {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!export_thread_alive());
    println!(
        "[report] receiver down: {SPANS} spans of 1 KiB in {elapsed:?} (mean {mean:?}, slowest {slowest:?}); \
         RSS +{growth_mib:.1} MiB; queued {} dropped {} failed {} retried {}; shutdown {shutdown_took:?}",
        stats.queued, stats.dropped, stats.failed, stats.retried
    );
}

#[test]
fn slow_receiver_beyond_the_export_timeout() {
    // In a child process: `flush_with_timeout` is the global pipeline's, and `export_thread_alive` checks every thread of the process.
    if !in_child("slow_receiver_beyond_the_export_timeout", &[]) {
        return;
    }
    // The receiver accepts everything, after 10 s; the export timeout is 1 s
    // and the flush waits up to 20 s. An exporter that waited for the answer
    // would count the spans exported; one that gives up counts them failed.
    let receiver = Receiver::with_policy(|_, _| Reply::ok().delay(Duration::from_secs(10)));
    neatlogs::init(config(&receiver.url()).export_timeout(Duration::from_secs(1))).unwrap();
    for _ in 0..5 {
        one_trace("slow", 2);
    }
    let t = Instant::now();
    assert!(!neatlogs::flush_with_timeout(Duration::from_secs(20)));
    let flush_took = t.elapsed();
    let stats = neatlogs::stats();
    assert_eq!((stats.queued, stats.exported, stats.failed), (10, 0, 10));
    assert_eq!(receiver.request_count(), 1, "no time left to retry");
    let _ = neatlogs::shutdown();
    assert!(!export_thread_alive(), "the export thread was joined");
    println!("[report] slow receiver: export gave up after {flush_took:?} (timeout 1 s, receiver answers after 10 s)");
}

#[test]
fn shutdown_while_a_retry_is_pending() {
    // In a child process: `shutdown_with_timeout` is the global pipeline's, and `export_thread_alive` checks every thread of the process.
    if !in_child("shutdown_while_a_retry_is_pending", &[]) {
        return;
    }
    // A retry 10 minutes away, inside an hour of export timeout: a shutdown
    // that waited for it would outlive the child's time limit.
    let receiver = Receiver::with_policy(|_, _| Reply::status(503).header("retry-after", "600"));
    neatlogs::init(config(&receiver.url()).export_timeout(Duration::from_secs(3600))).unwrap();
    one_trace("pending", 4);
    assert!(receiver.wait_for_requests(1, Duration::from_secs(5)));
    // Let the 503 reach the exporter: it now sleeps before its retry.
    std::thread::sleep(Duration::from_millis(200));
    let t = Instant::now();
    let all_out = neatlogs::shutdown_with_timeout(Duration::from_secs(1));
    let took = t.elapsed();
    assert!(!all_out);
    assert!(
        !export_thread_alive(),
        "the export thread answered and was joined"
    );
    let stats = neatlogs::stats();
    assert_eq!(
        (stats.queued, stats.exported, stats.failed),
        (4, 0, 4),
        "{stats:?}"
    );
    assert_eq!(stats.retried, 0, "the pending retry never happened");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        receiver.request_count(),
        1,
        "nothing is sent after shutdown"
    );
    println!("[report] shutdown during a 600 s Retry-After returned in {took:?}");
}

#[test]
fn partial_success_counts_the_rejected_spans() {
    use opentelemetry_proto::tonic::collector::trace::v1::{
        ExportTracePartialSuccess, ExportTraceServiceResponse,
    };
    use prost::Message;
    // The capture is process-wide: the message looked for is this
    // receiver's own.
    capture_logs();
    let response = ExportTraceServiceResponse {
        partial_success: Some(ExportTracePartialSuccess {
            rejected_spans: 2,
            error_message: "2 spans had no name".into(),
        }),
    };
    let receiver =
        Receiver::with_policy(move |_, _| Reply::ok().protobuf_body(response.encode_to_vec()));
    let tracer = instance(config(&receiver.url()));
    tracer.in_scope(|| one_trace("partly", 5));
    assert!(!tracer.shutdown());
    let stats = tracer.stats();
    assert_eq!(
        (stats.queued, stats.exported, stats.failed),
        (5, 3, 2),
        "{stats:?}"
    );
    assert!(logs().iter().any(|l| l.contains("2 spans had no name")));
}

/// An exporter that accepts every batch, but whose `flush` panics the first
/// time and whose `shutdown` always panics.
struct PanicsOnFlush {
    flushed: bool,
}

impl neatlogs::export::Exporter for PanicsOnFlush {
    fn export(
        &mut self,
        _resource: &neatlogs::export::Resource,
        _batch: &[neatlogs::export::SpanRecord],
    ) -> Result<(), neatlogs::export::ExportError> {
        Ok(())
    }

    fn flush(&mut self) -> Result<(), neatlogs::export::ExportError> {
        if !self.flushed {
            self.flushed = true;
            panic!("flush exploded");
        }
        Ok(())
    }

    fn shutdown(&mut self) -> Result<(), neatlogs::export::ExportError> {
        panic!("shutdown exploded");
    }
}

/// A panic in a custom exporter's `flush` or `shutdown` fails that call,
/// and nothing else: the export thread lives on and later spans are exported.
#[test]
fn a_panicking_flush_or_shutdown_does_not_end_the_export_thread() {
    // In a child process: `export_thread_alive` checks every thread of the process (other tests' export threads would make it pass).
    if !in_child(
        "a_panicking_flush_or_shutdown_does_not_end_the_export_thread",
        &[],
    ) {
        return;
    }
    neatlogs::init(
        Config::new()
            .default_destination(false)
            .exporter(PanicsOnFlush { flushed: false }),
    )
    .unwrap();
    one_trace("before", 3);
    assert!(!neatlogs::flush(), "the panicking flush reports a failure");
    assert!(
        export_thread_alive(),
        "the export thread survived the panic"
    );
    one_trace("after", 4);
    assert!(neatlogs::flush(), "a later flush works");
    let s = neatlogs::stats();
    assert_eq!((s.queued, s.exported, s.dropped, s.failed), (7, 7, 0, 0));
    assert!(
        !neatlogs::shutdown(),
        "the panicking shutdown reports a failure"
    );
    assert_eq!(neatlogs::stats().exported, 7);
}
