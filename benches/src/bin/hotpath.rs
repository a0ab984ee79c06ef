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
//! The traces are opened on a thread of their own, spawned first
//! ([`neatlogs_bench::hotpath::Caller`]). With `on`, it stops after every
//! [`neatlogs_bench::driver::FLUSH_EVERY`] traces while the main thread
//! flushes, as the criterion benchmark flushes between its chunks and as
//! `hotpath_fastrace` does: both stacks are counted in the same steady
//! state (an unbroken run would let the export thread fall behind by the
//! whole run under callgrind, which runs one thread at a time).

use std::process::ExitCode;

use neatlogs_bench::driver::FLUSH_EVERY;
use neatlogs_bench::hotpath::Caller;
use neatlogs_bench::scenario::SPANS_PER_TRACE;
use neatlogs_bench::stacks::{neatlogs::request_trace, Pipeline};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(traces) = args.next().and_then(|a| a.parse::<u64>().ok()) else {
        eprintln!("usage: hotpath TRACES [on|off]");
        return ExitCode::FAILURE;
    };
    let on = args.next().as_deref() != Some("off");
    // With tracing off nothing is exported: one chunk, no flush.
    let chunk = if on { FLUSH_EVERY } else { traces };
    let caller = match Caller::spawn(traces, chunk, request_trace) {
        Ok(caller) => caller,
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
    let elapsed = caller.run(|| {
        if on {
            let _ = neatlogs::flush();
        }
    });
    if !caller.finish() {
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
