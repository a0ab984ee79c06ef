//! A thread's finished traces wait in its stash for a hand-off's worth of
//! spans; the export thread takes them from there when the thread goes
//! quiet: at its schedule delay, and at a flush made on another thread.

mod common_collect;

use std::sync::mpsc;
use std::time::{Duration, Instant};

use common_collect::Collect;

/// The end-user of every span named `name` exported so far.
fn traces_of(seen: &Collect, name: &str) -> Vec<Option<String>> {
    seen.spans
        .lock()
        .unwrap()
        .iter()
        .filter(|span| span.name() == name)
        .map(|span| span.end_user().map(|u| u.id().as_str().to_owned()))
        .collect()
}

/// A thread that records one trace named `name` for `user`, then waits,
/// alive and quiet, until told to end.
fn quiet_thread(
    name: &'static str,
    user: &'static str,
) -> (mpsc::Sender<()>, std::thread::JoinHandle<()>) {
    let (done, wait) = mpsc::channel::<()>();
    let (recorded, is_recorded) = mpsc::channel::<()>();
    let thread = std::thread::spawn(move || {
        {
            let _root = neatlogs::trace(name).end_user_id(user).enter();
            let _child = neatlogs::span(neatlogs::SpanKind::Tool, name).enter();
        }
        recorded.send(()).unwrap();
        let _ = wait.recv();
    });
    is_recorded.recv().unwrap();
    (done, thread)
}

#[test]
fn a_quiet_threads_traces_go_out_at_a_flush_elsewhere_and_at_the_schedule_delay() {
    let seen = Collect::default();
    neatlogs::init(
        neatlogs::Config::new()
            .default_destination(false)
            .schedule_delay(Duration::from_millis(50))
            .exporter(seen.clone()),
    )
    .unwrap();

    // A flush on this thread reaches the other thread's finished trace.
    let (done, thread) = quiet_thread("flushed", "u_1");
    assert!(neatlogs::flush());
    assert_eq!(traces_of(&seen, "flushed"), vec![Some("u_1".to_owned()); 2]);
    done.send(()).unwrap();
    thread.join().unwrap();

    // Without a flush, the export thread's timer takes it.
    let (done, thread) = quiet_thread("timed", "u_2");
    let deadline = Instant::now() + Duration::from_secs(10);
    while traces_of(&seen, "timed").len() < 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(traces_of(&seen, "timed"), vec![Some("u_2".to_owned()); 2]);
    done.send(()).unwrap();
    thread.join().unwrap();

    let stats = neatlogs::stats();
    assert_eq!((stats.queued, stats.exported, stats.dropped), (4, 4, 0));
}
