//! With a `batch_size` below 64, a thread's stash is handed off once it
//! holds `batch_size` spans: a full export batch is never held back until
//! the schedule delay.

mod common_collect;

use std::time::{Duration, Instant};

use common_collect::Collect;

/// A trace of `spans` spans (the root and its children) on this thread.
fn trace(spans: usize) {
    let _root = neatlogs::trace("request").end_user_id("u_1").enter();
    for _ in 1..spans {
        let _child = neatlogs::span(neatlogs::SpanKind::Tool, "step").enter();
    }
}

#[test]
fn a_stash_of_batch_size_spans_goes_out_without_waiting_for_the_timer() {
    let seen = Collect::default();
    neatlogs::init(
        neatlogs::Config::new()
            .default_destination(false)
            .batch_size(4)
            // Nothing but a full batch (or a flush) exports in this test.
            .schedule_delay(Duration::from_secs(3600))
            .exporter(seen.clone()),
    )
    .unwrap();

    // Two spans: fewer than a batch, they wait in the stash (not even the
    // queue: nothing is counted yet).
    trace(2);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(seen.spans.lock().unwrap().len(), 0);
    assert_eq!(neatlogs::stats().queued, 0);

    // Three more make the stash more than a batch: handed off, and the
    // export thread woken for it, which exports one full batch (the fifth
    // span waits for the next batch, the timer or a flush).
    trace(3);
    let deadline = Instant::now() + Duration::from_secs(10);
    while seen.spans.lock().unwrap().len() < 4 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(seen.spans.lock().unwrap().len(), 4);
    assert!(neatlogs::flush());
    let stats = neatlogs::stats();
    assert_eq!((stats.queued, stats.exported, stats.dropped), (5, 5, 0));
}
