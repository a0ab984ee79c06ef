//! The neatlogs span hot path, for instruction counting (`callgrind.sh`):
//! opens and closes `TRACES` request traces of 11 spans (the benchmark's
//! scenario), with the benchmark's exporter (OTLP protobuf encoding, then
//! discard) on the export thread.
//!
//! ```text
//! hotpath TRACES [on|off]
//! ```
//!
//! `off` skips `init`: the cost of the spans when tracing is off. Running it
//! for two values of `TRACES` and subtracting cancels start-up and shutdown.
//!
//! The traces are opened on a thread of their own, spawned first (callgrind
//! names it thread 2; export threads come after it), because the main thread
//! also runs static constructors of linked crates whose instruction counts
//! vary from run to run (`fastant`, under fastrace, calibrates its clock).
//!
//! With `on`, the caller stops after every
//! [`neatlogs_bench::driver::FLUSH_EVERY`] traces while the main thread
//! flushes, as the criterion benchmark flushes between its chunks and as
//! `hotpath_fastrace` does: both stacks are counted in the same steady
//! state (an unbroken run would let the export thread fall behind by the
//! whole run under callgrind, which runs one thread at a time).

use std::hint::black_box;
use std::process::ExitCode;
use std::sync::mpsc::{Receiver, Sender};
use std::time::Duration;

use neatlogs_bench::driver::FLUSH_EVERY;
use neatlogs_bench::scenario::{Requests, SPANS_PER_TRACE};
use neatlogs_bench::stacks::{neatlogs::request_trace, Pipeline};

#[inline(never)]
fn run(reqs: &mut Requests, traces: u64) {
    for _ in 0..traces {
        request_trace(black_box(reqs.next()));
    }
}

/// The caller's side: a chunk of at most `chunk` traces each time the main
/// thread says go, then a hand-over (`done`, with the chunk's wall time),
/// until the main thread hangs up. Kept alive to the end, as in
/// `hotpath_fastrace`: valgrind gives the number of a thread that has
/// exited to the next one spawned.
fn caller(traces: u64, chunk: u64, go: &Receiver<()>, done: &Sender<Duration>) {
    let mut reqs = Requests::default();
    let mut left = traces;
    while go.recv().is_ok() {
        let n = left.min(chunk);
        let start = std::time::Instant::now();
        run(&mut reqs, n);
        left -= n;
        if done.send(start.elapsed()).is_err() {
            return;
        }
    }
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(traces) = args.next().and_then(|a| a.parse::<u64>().ok()) else {
        eprintln!("usage: hotpath TRACES [on|off]");
        return ExitCode::FAILURE;
    };
    let on = args.next().as_deref() != Some("off");
    // With tracing off nothing is exported: one chunk, no flush.
    let chunk = if on { FLUSH_EVERY } else { traces.max(1) };
    let (go_tx, go) = std::sync::mpsc::channel::<()>();
    let (done, done_rx) = std::sync::mpsc::channel::<Duration>();
    let spawned = std::thread::Builder::new()
        .name("hotpath-caller".into())
        .spawn(move || caller(traces, chunk, &go, &done));
    let handle = match spawned {
        Ok(handle) => handle,
        Err(e) => {
            eprintln!("could not spawn the caller thread: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut sink = None;
    if on {
        // Room for every span, so that none is dropped (a dropped span would
        // skip the export side).
        let pipeline = Pipeline {
            queue_size: (traces * SPANS_PER_TRACE) as usize + 1,
            ..Pipeline::discard()
        };
        if let Err(e) = neatlogs::init(neatlogs_bench::stacks::neatlogs::config(&pipeline)) {
            eprintln!("neatlogs::init failed: {e}");
            return ExitCode::FAILURE;
        }
        sink = Some(pipeline.sink);
    }
    let mut elapsed = Duration::ZERO;
    let mut left = traces;
    while left > 0 {
        if go_tx.send(()).is_err() {
            break;
        }
        match done_rx.recv() {
            Ok(took) => elapsed += took,
            Err(_) => break,
        }
        left -= left.min(chunk);
        if on {
            let _ = neatlogs::flush();
        }
    }
    drop(go_tx);
    if handle.join().is_err() {
        eprintln!("the caller thread panicked");
        return ExitCode::FAILURE;
    }
    // Wall time on the calling thread, flushes excluded (not what
    // callgrind.sh reads: a quick A/B of two builds on the same machine).
    let caller_ns = elapsed.as_nanos() as f64 / traces.max(1) as f64;
    if on {
        let _ = neatlogs::shutdown();
        let stats = neatlogs::stats();
        let bytes = sink.map_or(0, |s| s.bytes());
        println!(
            "traces={traces} queued={} exported={} dropped={} protobuf_bytes_per_span={:.1} caller_ns_per_trace={caller_ns:.0}",
            stats.queued,
            stats.exported,
            stats.dropped,
            bytes as f64 / stats.exported.max(1) as f64
        );
    } else {
        println!("traces={traces} (tracing off) caller_ns_per_trace={caller_ns:.1}");
    }
    ExitCode::SUCCESS
}
