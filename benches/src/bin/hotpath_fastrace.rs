//! fastrace's span hot path, for instruction counting (`callgrind.sh`), in
//! the shape of `hotpath`: opens and closes `TRACES` request traces of 11
//! spans with the fastrace stack's own request trace and reporter (the
//! no-op `NoopReporter` behind `fastrace::set_reporter` with
//! `Config::default()`), exactly as its criterion benchmark does.
//!
//! ```text
//! hotpath_fastrace TRACES [on|off]
//! ```
//!
//! `off` sets no reporter: fastrace still builds every span (it has no
//! switch but the `enable` feature) and then drops it, as in its
//! `disabled_trace` row. Running it for two values of `TRACES` and
//! subtracting cancels start-up and shutdown.
//!
//! The traces are opened on a thread of their own, spawned first
//! ([`neatlogs_bench::hotpath::Caller`]); fastrace's collector thread,
//! started by `set_reporter`, and the threads `fastrace::flush` spawns come
//! after it.
//!
//! With `on`, the caller stops after every
//! [`neatlogs_bench::driver::FLUSH_EVERY`] traces while the main
//! thread flushes, as the criterion benchmark flushes between its chunks:
//! a thread's channel to fastrace's collector holds 10,240 commands and
//! wakes the collector once it is half full, which a chunk (4 commands a
//! trace) never reaches; an unbroken run would. The hand-over costs the
//! caller one channel send and one receive per chunk.

use std::process::ExitCode;

use neatlogs_bench::driver::{Stack, FLUSH_EVERY};
use neatlogs_bench::hotpath::Caller;
use neatlogs_bench::scenario::SPANS_PER_TRACE;
use neatlogs_bench::stacks::fastrace::{request_trace, Fastrace};
use neatlogs_bench::stacks::Pipeline;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(traces) = args.next().and_then(|a| a.parse::<u64>().ok()) else {
        eprintln!("usage: hotpath_fastrace TRACES [on|off]");
        return ExitCode::FAILURE;
    };
    let on = args.next().as_deref() != Some("off");
    // With tracing off nothing reaches a collector: one chunk, no flush.
    let chunk = if on { FLUSH_EVERY } else { traces };
    let caller = match Caller::spawn(traces, chunk, request_trace) {
        Ok(caller) => caller,
        Err(e) => {
            eprintln!("could not spawn the caller thread: {e}");
            return ExitCode::FAILURE;
        }
    };
    let pipeline = Pipeline::discard();
    let stack = on.then(|| Fastrace::start(&pipeline));
    caller.run(|| {
        if let Some(stack) = &stack {
            stack.flush();
        }
    });
    let line = match &stack {
        Some(stack) => {
            stack.flush();
            let expected = traces * SPANS_PER_TRACE;
            let reported = pipeline.sink.spans();
            format!(
                "traces={traces} spans={expected} reported={reported} lost={}",
                expected.saturating_sub(reported)
            )
        }
        None => format!("traces={traces} (tracing off)"),
    };
    // The caller lives until after the final flush's thread has come and
    // gone, so that valgrind does not give that thread its number.
    if !caller.finish() {
        eprintln!("the caller thread panicked");
        return ExitCode::FAILURE;
    }
    println!("{line}");
    ExitCode::SUCCESS
}
