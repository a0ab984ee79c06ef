//! Load: many threads, a live receiver, exact accounting.
//!
//! Each test runs on a `Neatlogs` instance of its own, the default on every
//! recording thread.

#[path = "export_support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use neatlogs::{Config, Neatlogs, SpanKind};
use support::*;

const THREADS: usize = 8;

/// `traces` traces of `per_trace` spans on each of `THREADS` threads, each
/// with `tracer` as its default.
fn record_from_threads(tracer: &Neatlogs, traces: usize, per_trace: usize) {
    std::thread::scope(|s| {
        for t in 0..THREADS {
            s.spawn(move || {
                let _default = tracer.set_default();
                let user = format!("u_{t}");
                for _ in 0..traces {
                    let _root = neatlogs::trace("load").end_user_id(&user).enter();
                    for _ in 1..per_trace {
                        let _s = neatlogs::span(SpanKind::Tool, "step").enter();
                    }
                }
            });
        }
    });
}

#[test]
fn two_hundred_thousand_spans_from_eight_threads_all_arrive_once() {
    const TRACES: usize = 5_000;
    const PER_TRACE: usize = 5;
    const TOTAL: usize = THREADS * TRACES * PER_TRACE;
    let receiver = Receiver::start();
    let tracer = Neatlogs::new(
        Config::new()
            .endpoint(receiver.url())
            .queue_size(TOTAL + 1)
            .batch_size(2048)
            .schedule_delay(Duration::from_millis(50)),
    )
    .unwrap();
    let started = Instant::now();
    record_from_threads(&tracer, TRACES, PER_TRACE);
    let recorded_in = started.elapsed();
    let t = Instant::now();
    // Room for a debug build on a busy 2-core machine (an instance's
    // `shutdown` waits at most 15 s, ample in release builds): let the
    // export catch up for up to 45 s first.
    let deadline = Instant::now() + Duration::from_secs(45);
    while tracer.stats().exported < TOTAL as u64 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(tracer.shutdown(), "{:?}", tracer.stats());
    let shutdown_in = t.elapsed();

    let stats = tracer.stats();
    assert_eq!(stats.queued, TOTAL as u64);
    assert_eq!(
        (stats.exported, stats.dropped, stats.failed),
        (TOTAL as u64, 0, 0)
    );
    let spans = receiver.accepted_spans();
    let counts = id_counts(&spans);
    assert_eq!(counts.values().max(), Some(&1), "a span arrived twice");
    let app = app_spans(&spans);
    assert_eq!(app.len(), TOTAL, "every span arrived");
    assert_eq!(
        spans.len() - app.len(),
        THREADS * TRACES,
        "one marker per root"
    );
    println!(
        "[report] load: {TOTAL} spans from {THREADS} threads recorded in {recorded_in:?}; \
         shutdown drained in {shutdown_in:?}; {} requests; {} spans + {} markers received, no duplicates",
        receiver.request_count(),
        app.len(),
        spans.len() - app.len()
    );
}

#[test]
fn small_queue_counts_every_drop_exactly() {
    const TRACES: usize = 5_000;
    const PER_TRACE: usize = 2;
    const TOTAL: u64 = (THREADS * TRACES * PER_TRACE) as u64;
    let receiver = Receiver::with_policy(|_, _| Reply::ok().delay(Duration::from_millis(2)));
    let tracer = Neatlogs::new(
        Config::new()
            .endpoint(receiver.url())
            .queue_size(64)
            .batch_size(32)
            .schedule_delay(Duration::from_millis(5)),
    )
    .unwrap();
    record_from_threads(&tracer, TRACES, PER_TRACE);
    let all_out = tracer.shutdown();
    let stats = tracer.stats();
    assert!(!all_out, "spans were dropped, so not everything went out");
    assert!(stats.dropped > 0, "the queue was forced small: {stats:?}");
    assert_eq!(stats.queued + stats.dropped, TOTAL, "{stats:?}");
    assert_eq!(stats.failed, 0);
    assert_eq!(stats.exported, stats.queued);
    let sent = app_spans(&receiver.accepted_spans());
    assert_eq!(id_counts(&sent).len(), sent.len(), "no duplicates");
    assert_eq!(
        sent.len() as u64 + stats.dropped,
        TOTAL,
        "sent + dropped = recorded"
    );
    println!(
        "[report] small queue (64): recorded {TOTAL}, sent {}, dropped {} (sum exact)",
        sent.len(),
        stats.dropped
    );
}
