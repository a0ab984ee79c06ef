//! The measurements of issue 7, in the order one bench process runs them.
//!
//! 1. `disabled_trace` / `disabled_root` (criterion): the scenario before the
//!    stack is started (no `init`, no subscriber, no reporter).
//! 2. The stack is started with [`Pipeline::discard`].
//! 3. `caller_cost` / `root_only` (criterion, `iter_custom`): time on the
//!    calling thread per trace; the pipeline is flushed every
//!    [`FLUSH_EVERY`] traces, outside the timed part.
//! 4. `caller_cost_held` (criterion, `iter_custom`): the traces of
//!    `caller_cost` with the export held: the sink's gate is closed before
//!    each chunk of at most [`FLUSH_EVERY`] traces and opened after its
//!    clock stops, before the flush. The calling thread then no longer
//!    competes with the export thread (for the cores, the caches, the
//!    allocator); beside `caller_cost`, it tells the hot path's own cost from
//!    that competition. A held export thread stops at its first export of
//!    the chunk, after taking at most what is queued by then (neatlogs' and
//!    the OpenTelemetry SDK's batch processors: the rest waits in the queue,
//!    whose [`Pipeline::discard`] bound holds a whole chunk; fastrace: its
//!    collector drains and assembles what has arrived, at most once a chunk
//!    as it wakes once a second, then waits in the reporter). Every stack
//!    has the row; it runs after `root_only`, so that the two rows before it
//!    are measured back to back as before it existed.
//! 5. Total CPU: `CLOCK_PROCESS_CPUTIME_ID` (every thread, export threads
//!    included) around a loop of a few seconds, flushes included.
//! 6. Concurrent: the same work on 1 thread and on 2 threads at once; then
//!    again with the export held while the threads produce (the callers
//!    then compete only with each other, not with the export thread).
//! 7. Memory, each in a fresh child process of this same binary: peak RSS
//!    while 100,000 finished spans wait behind a closed gate, and peak RSS
//!    with a dead receiver after pushing the queue's capacity, then ten times
//!    that.
//! 8. For a stack with [`Stack::LLM`]: `llm_span` (criterion, `iter_custom`),
//!    the time on the calling thread per LLM call recorded as a span (see
//!    [`LlmSpans`]), then its total CPU per span as in 5. Last, so that the
//!    rows above are measured exactly as before the LLM row existed.
//!
//! Criterion writes its estimates under `<target>/criterion/`; everything else
//! goes to `<target>/bench-results/<stack>.json`, which `report.py` reads.
//!
//! Run without `--bench` (`cargo test --benches`), everything runs once,
//! briefly, as a smoke test, and no result file is written.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Barrier;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use criterion::Criterion;
use serde_json::{json, Value};

use crate::measure::{peak_rss_kib, process_cpu, rss_kib, thread_cpu};
use crate::scenario::{Chat, Chats, Request, Requests, SPANS_PER_TRACE};
use crate::sink::{Gate, Sink};
use crate::stacks::Pipeline;

/// Traces between two flushes of the pipeline.
pub const FLUSH_EVERY: u64 = 1_000;

/// Finished spans held in the queue for the memory figure.
pub const BUFFERED_SPANS: usize = 100_000;

/// Queue capacity of the dead-receiver check; ten times as many spans are
/// pushed.
pub const DEAD_RECEIVER_CAP: usize = 20_000;

const CHILD_ENV: &str = "NEATLOGS_BENCH_CHILD";
const QUICK_ENV: &str = "NEATLOGS_BENCH_QUICK";

/// A tracing stack, as the driver drives it.
pub trait Stack: Sync + Sized {
    /// The name of the bench target, the criterion id and the result file.
    const NAME: &'static str;

    /// One request trace before the stack is started.
    fn disabled_trace(req: &Request);

    /// The root span alone before the stack is started.
    fn disabled_root(req: &Request);

    /// Start the stack for this process, exporting through `pipeline`.
    fn start(pipeline: &Pipeline) -> Self;

    /// One request trace: the root with the end-user and its metadata, and
    /// ten sequential children.
    fn trace(&self, req: &Request);

    /// The root span alone.
    fn root_only(&self, req: &Request);

    /// Hand everything finished so far to the exporter, and wait for it.
    fn flush(&self);

    /// Spans the stack itself counted as dropped, where it tells.
    fn dropped(&self) -> Option<u64> {
        None
    }

    /// How the stack records an LLM call, for the LLM row; `None` (the
    /// default) leaves the stack out of it.
    const LLM: Option<LlmSpans<Self>> = None;
}

/// The LLM row of a stack: one LLM call ([`Chat`]) recorded as a span that
/// is a child of a root. The root is opened before and ended after each
/// chunk of [`FLUSH_EVERY`] calls, outside the timed part, so that what is
/// timed is the LLM spans alone.
pub struct LlmSpans<S> {
    /// Open a root span named `request` with no attributes, make it the
    /// current span, run `body`, and end the root.
    pub under_root: fn(&S, &mut dyn FnMut()),
    /// Record `chat` as one span under the current span: request model,
    /// provider, the system and user messages, then the response model, the
    /// reply, the token usage and the finish reason.
    pub call: fn(&S, &Chat),
}

impl<S> std::fmt::Debug for LlmSpans<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmSpans").finish_non_exhaustive()
    }
}

/// Settings that shrink to a smoke test when not run by `cargo bench`.
#[derive(Debug, Clone, Copy)]
struct Plan {
    quick: bool,
    cpu_round: Duration,
    cpu_rounds: usize,
    concurrent_target: Duration,
    concurrent_repeats: usize,
    buffered_spans: usize,
    dead_receiver_cap: usize,
}

impl Plan {
    fn new(quick: bool) -> Plan {
        if quick {
            Plan {
                quick,
                cpu_round: Duration::from_millis(20),
                cpu_rounds: 1,
                concurrent_target: Duration::from_millis(20),
                concurrent_repeats: 1,
                buffered_spans: 5_000,
                dead_receiver_cap: 1_000,
            }
        } else {
            Plan {
                quick,
                cpu_round: Duration::from_secs(2),
                cpu_rounds: 3,
                concurrent_target: Duration::from_millis(1_500),
                concurrent_repeats: 3,
                buffered_spans: BUFFERED_SPANS,
                dead_receiver_cap: DEAD_RECEIVER_CAP,
            }
        }
    }
}

/// The whole benchmark of one stack: the `main` of each bench target.
pub fn run<S: Stack>() {
    let quick = match std::env::var(QUICK_ENV) {
        Ok(v) => v == "1",
        Err(_) => !std::env::args().any(|a| a == "--bench"),
    };
    let plan = Plan::new(quick);
    match std::env::var(CHILD_ENV).as_deref() {
        Ok("memory") => child_exit(buffered_memory::<S>(plan)),
        Ok("bounded") => child_exit(dead_receiver::<S>(plan)),
        _ => {}
    }

    let mut criterion = criterion();
    let mut reqs = Requests::default();

    // Before the stack starts: what an application pays with tracing off.
    criterion
        .benchmark_group("disabled_trace")
        .bench_function(S::NAME, |b| b.iter(|| S::disabled_trace(reqs.next())));
    criterion
        .benchmark_group("disabled_root")
        .bench_function(S::NAME, |b| b.iter(|| S::disabled_root(reqs.next())));

    let pipeline = Pipeline::discard();
    let stack = S::start(&pipeline);
    timed(&stack, &mut reqs, FLUSH_EVERY, S::trace, None);

    criterion
        .benchmark_group("caller_cost")
        .bench_function(S::NAME, |b| {
            b.iter_custom(|iters| timed(&stack, &mut reqs, iters, S::trace, None))
        });
    criterion
        .benchmark_group("root_only")
        .bench_function(S::NAME, |b| {
            b.iter_custom(|iters| timed(&stack, &mut reqs, iters, S::root_only, None))
        });
    caller_cost_held(&mut criterion, &stack, &pipeline, &mut reqs);

    let total_cpu = total_cpu(&stack, &pipeline.sink, plan);
    let concurrent = concurrent(&stack, pipeline.sink.gate().map(|g| &**g), plan);
    let memory = child::<S>("memory", quick);
    let dead_receiver = child::<S>("bounded", quick);

    let llm_span = S::LLM.map(|llm| {
        let mut chats = Chats::default();
        timed_llm(&stack, &llm, &mut chats, FLUSH_EVERY);
        criterion
            .benchmark_group("llm_span")
            .bench_function(S::NAME, |b| {
                b.iter_custom(|iters| timed_llm(&stack, &llm, &mut chats, iters))
            });
        llm_total_cpu(&stack, &llm, &pipeline.sink, plan)
    });

    let results = json!({
        "stack": S::NAME,
        "unix_time": SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0),
        "quick": quick,
        "total_cpu": total_cpu,
        "concurrent": concurrent,
        "memory": memory,
        "dead_receiver": dead_receiver,
        "llm_span": llm_span,
    });
    println!(
        "{}: {}",
        S::NAME,
        serde_json::to_string_pretty(&results).unwrap_or_default()
    );
    if !quick {
        write_results(S::NAME, &results);
    }
    criterion.final_summary();
}

/// The `caller_cost_held` group: `caller_cost` with the export held while
/// each chunk is timed. Left out (with a note) where the pipeline has no
/// gate, or where its queue cannot hold a whole chunk: spans dropped while
/// held would make the row cheaper than the work it stands for.
fn caller_cost_held<S: Stack>(
    criterion: &mut Criterion,
    stack: &S,
    pipeline: &Pipeline,
    reqs: &mut Requests,
) {
    let Some(gate) = pipeline.sink.gate() else {
        eprintln!(
            "{}: no gate in front of the sink; caller_cost_held left out",
            S::NAME
        );
        return;
    };
    let chunk_spans = FLUSH_EVERY * SPANS_PER_TRACE;
    if (pipeline.queue_size as u64) < chunk_spans {
        eprintln!(
            "{}: a queue of {} spans cannot hold a chunk of {chunk_spans}; caller_cost_held left out",
            S::NAME,
            pipeline.queue_size
        );
        return;
    }
    let dropped_before = stack.dropped();
    criterion
        .benchmark_group("caller_cost_held")
        .bench_function(S::NAME, |b| {
            b.iter_custom(|iters| timed(stack, reqs, iters, S::trace, Some(gate)))
        });
    let dropped = stack.dropped().zip(dropped_before).map(|(a, b)| a - b);
    if let Some(dropped) = dropped.filter(|&d| d > 0) {
        eprintln!(
            "{}: {dropped} spans dropped while the export was held: caller_cost_held is too low",
            S::NAME
        );
    }
}

/// Run `iters` traces, flushing every [`FLUSH_EVERY`]; the time spent opening
/// and closing spans on this thread, flushes excluded.
///
/// With `hold`, the gate is closed before each chunk and opened once its
/// clock has stopped, before the flush: the export waits while the chunk is
/// timed.
fn timed<S: Stack>(
    stack: &S,
    reqs: &mut Requests,
    iters: u64,
    each: fn(&S, &Request),
    hold: Option<&Gate>,
) -> Duration {
    let mut total = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let n = left.min(FLUSH_EVERY);
        if let Some(gate) = hold {
            gate.close();
        }
        let start = Instant::now();
        for _ in 0..n {
            each(stack, reqs.next());
        }
        total += start.elapsed();
        if let Some(gate) = hold {
            gate.open();
        }
        stack.flush();
        left -= n;
    }
    total
}

/// Run `iters` LLM calls in chunks of at most [`FLUSH_EVERY`], each chunk
/// under a root of its own and followed by a flush; the time spent on this
/// thread recording the LLM spans, roots and flushes excluded.
fn timed_llm<S: Stack>(stack: &S, llm: &LlmSpans<S>, chats: &mut Chats, iters: u64) -> Duration {
    let mut total = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let n = left.min(FLUSH_EVERY);
        (llm.under_root)(stack, &mut || {
            let start = Instant::now();
            for _ in 0..n {
                (llm.call)(stack, chats.next());
            }
            total += start.elapsed();
        });
        stack.flush();
        left -= n;
    }
    total
}

fn median(values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

/// What [`cpu_loop`] measured.
struct CpuLoop {
    /// Process CPU per unit (median of the rounds), in ns.
    per_unit: f64,
    /// Process CPU per unit of each round, in ns.
    rounds: Vec<f64>,
    /// The calling thread's CPU per unit (median of the rounds), in ns.
    caller_per_unit: f64,
    /// Units produced.
    units: u64,
    /// Spans the sink received.
    spans_exported: u64,
    /// Encoded bytes per span received.
    bytes_per_span: f64,
}

/// Process CPU (every thread, export threads included) around `plan`'s
/// rounds of `chunk`s, each producing [`FLUSH_EVERY`] units and followed by
/// a flush.
fn cpu_loop<S: Stack>(stack: &S, sink: &Sink, plan: Plan, mut chunk: impl FnMut()) -> CpuLoop {
    stack.flush();
    let spans_before = sink.spans();
    let bytes_before = sink.bytes();
    let mut per_unit = Vec::new();
    let mut caller_per_unit = Vec::new();
    let mut units_total = 0u64;
    for _ in 0..plan.cpu_rounds {
        let wall = Instant::now();
        let cpu = process_cpu();
        let caller = thread_cpu();
        let mut units = 0u64;
        while units == 0 || wall.elapsed() < plan.cpu_round {
            chunk();
            stack.flush();
            units += FLUSH_EVERY;
        }
        let cpu = process_cpu() - cpu;
        let caller = thread_cpu() - caller;
        per_unit.push(cpu.as_nanos() as f64 / units as f64);
        caller_per_unit.push(caller.as_nanos() as f64 / units as f64);
        units_total += units;
    }
    let spans_exported = sink.spans() - spans_before;
    let bytes = sink.bytes() - bytes_before;
    let rounds = per_unit.clone();
    CpuLoop {
        per_unit: median(&mut per_unit),
        rounds,
        caller_per_unit: median(&mut caller_per_unit),
        units: units_total,
        spans_exported,
        bytes_per_span: if spans_exported > 0 {
            bytes as f64 / spans_exported as f64
        } else {
            0.0
        },
    }
}

/// Process CPU per trace, export threads and flushes included.
fn total_cpu<S: Stack>(stack: &S, sink: &Sink, plan: Plan) -> Value {
    let mut reqs = Requests::default();
    let dropped_before = stack.dropped();
    let m = cpu_loop(stack, sink, plan, || {
        for _ in 0..FLUSH_EVERY {
            stack.trace(reqs.next());
        }
    });
    json!({
        "ns_per_trace": m.per_unit,
        "rounds_ns_per_trace": m.rounds,
        "caller_thread_cpu_ns_per_trace": m.caller_per_unit,
        "traces": m.units,
        "spans_produced": m.units * SPANS_PER_TRACE,
        "spans_exported": m.spans_exported,
        "spans_dropped": stack.dropped().zip(dropped_before).map(|(a, b)| a - b),
        "encoded_bytes_per_span": m.bytes_per_span,
    })
}

/// Process CPU per LLM span, export threads, flushes and the roots (one per
/// [`FLUSH_EVERY`] LLM spans) included.
fn llm_total_cpu<S: Stack>(stack: &S, llm: &LlmSpans<S>, sink: &Sink, plan: Plan) -> Value {
    let mut chats = Chats::default();
    let dropped_before = stack.dropped();
    let m = cpu_loop(stack, sink, plan, || {
        (llm.under_root)(stack, &mut || {
            for _ in 0..FLUSH_EVERY {
                (llm.call)(stack, chats.next());
            }
        })
    });
    let roots = m.units / FLUSH_EVERY;
    json!({
        "ns_per_span": m.per_unit,
        "rounds_ns_per_span": m.rounds,
        "caller_thread_cpu_ns_per_span": m.caller_per_unit,
        "llm_spans": m.units,
        "spans_produced": m.units + roots,
        "spans_exported": m.spans_exported,
        "spans_dropped": stack.dropped().zip(dropped_before).map(|(a, b)| a - b),
        "encoded_bytes_per_span": m.bytes_per_span,
    })
}

/// One run of `threads` threads producing [`FLUSH_EVERY`] traces each per
/// round, the pipeline flushed between rounds. Returns traces per second on
/// the callers' side (per round, the slowest thread's time; flushes
/// excluded) and end to end (wall time, flushes included).
///
/// With `hold`, the export is held while the threads produce and let go
/// before the flush, so that the callers compete only with each other.
fn concurrent_run<S: Stack>(
    stack: &S,
    threads: usize,
    rounds: usize,
    hold: Option<&Gate>,
) -> (f64, f64) {
    let start = Barrier::new(threads + 1);
    let end = Barrier::new(threads + 1);
    // Round 0 warms each new thread's thread-locals and is not counted.
    let total_rounds = rounds + 1;
    let (per_thread, wall) = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut reqs = Requests::default();
                    let mut times = Vec::with_capacity(total_rounds);
                    for _ in 0..total_rounds {
                        start.wait();
                        let t = Instant::now();
                        for _ in 0..FLUSH_EVERY {
                            stack.trace(reqs.next());
                        }
                        times.push(t.elapsed());
                        end.wait();
                    }
                    times
                })
            })
            .collect();
        let mut wall = Duration::ZERO;
        for round in 0..total_rounds {
            let t = Instant::now();
            if let Some(gate) = hold {
                gate.close();
            }
            start.wait();
            end.wait();
            if let Some(gate) = hold {
                gate.open();
            }
            stack.flush();
            if round > 0 {
                wall += t.elapsed();
            }
        }
        let per_thread: Vec<Vec<Duration>> = handles
            .into_iter()
            .map(|h| h.join().unwrap_or_default())
            .collect();
        (per_thread, wall)
    });
    let callers: Duration = (1..total_rounds)
        .map(|r| {
            per_thread
                .iter()
                .filter_map(|t| t.get(r))
                .max()
                .copied()
                .unwrap_or_default()
        })
        .sum();
    let traces = (threads * rounds) as f64 * FLUSH_EVERY as f64;
    (
        traces / callers.as_secs_f64().max(1e-9),
        traces / wall.as_secs_f64().max(1e-9),
    )
}

/// 1 thread against 2 threads producing at once, alternated and repeated;
/// then the same with the export held while they produce.
fn concurrent<S: Stack>(stack: &S, gate: Option<&Gate>, plan: Plan) -> Value {
    // Size the runs so that a 1-thread run lasts about `concurrent_target`,
    // flushes included.
    let mut reqs = Requests::default();
    let t = Instant::now();
    for _ in 0..FLUSH_EVERY {
        stack.trace(reqs.next());
    }
    stack.flush();
    let chunk = t.elapsed();
    let rounds = ((plan.concurrent_target.as_secs_f64() / chunk.as_secs_f64().max(1e-9)).ceil()
        as usize)
        .clamp(if plan.quick { 1 } else { 5 }, 400);

    let (mut one, mut two, mut one_e2e, mut two_e2e) = (vec![], vec![], vec![], vec![]);
    let (mut one_held, mut two_held) = (vec![], vec![]);
    for _ in 0..plan.concurrent_repeats {
        let (c, e) = concurrent_run(stack, 1, rounds, None);
        one.push(c);
        one_e2e.push(e);
        let (c, e) = concurrent_run(stack, 2, rounds, None);
        two.push(c);
        two_e2e.push(e);
        if gate.is_some() {
            one_held.push(concurrent_run(stack, 1, rounds, gate).0);
            two_held.push(concurrent_run(stack, 2, rounds, gate).0);
        }
    }
    let (one, two) = (median(&mut one), median(&mut two));
    let (one_e2e, two_e2e) = (median(&mut one_e2e), median(&mut two_e2e));
    let (one_held, two_held) = (median(&mut one_held), median(&mut two_held));
    json!({
        "traces_per_thread_per_round": FLUSH_EVERY,
        "rounds": rounds,
        "repeats": plan.concurrent_repeats,
        "one_thread_traces_per_sec": one,
        "two_threads_traces_per_sec": two,
        "scaling": two / one.max(1e-9),
        "one_thread_end_to_end_traces_per_sec": one_e2e,
        "two_threads_end_to_end_traces_per_sec": two_e2e,
        "end_to_end_scaling": two_e2e / one_e2e.max(1e-9),
        "export_held": gate.map(|_| json!({
            "one_thread_traces_per_sec": one_held,
            "two_threads_traces_per_sec": two_held,
            "scaling": two_held / one_held.max(1e-9),
        })),
    })
}

/// Run this binary again as a child measuring `mode`; its last stdout line
/// is the JSON result.
fn child<S: Stack>(mode: &str, quick: bool) -> Value {
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => return json!({ "error": format!("current_exe: {e}") }),
    };
    let output = Command::new(exe)
        .env(CHILD_ENV, mode)
        .env(QUICK_ENV, if quick { "1" } else { "0" })
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output();
    match output {
        Ok(out) => String::from_utf8_lossy(&out.stdout)
            .lines()
            .last()
            .and_then(|line| serde_json::from_str(line).ok())
            .unwrap_or_else(|| json!({ "error": format!("{} child: {}", S::NAME, out.status) })),
        Err(e) => json!({ "error": format!("could not run the {mode} child: {e}") }),
    }
}

/// Print the child's result and leave at once: a pipeline stuck behind a
/// dead receiver must not be shut down (that would wait for its timeout).
fn child_exit(result: Value) -> ! {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{result}");
    let _ = out.flush();
    std::process::exit(0)
}

/// Let export threads take what they will take before RSS is read.
fn settle() {
    std::thread::sleep(Duration::from_millis(300));
}

fn produce<S: Stack>(stack: &S, reqs: &mut Requests, traces: usize) {
    for _ in 0..traces {
        stack.trace(reqs.next());
    }
}

/// Peak RSS while `plan.buffered_spans` finished spans wait for an exporter
/// that is held until released.
fn buffered_memory<S: Stack>(plan: Plan) -> Value {
    let mut reqs = Requests::default();
    let spans_wanted = plan.buffered_spans;
    let traces = spans_wanted.div_ceil(SPANS_PER_TRACE as usize);
    let spans = traces as u64 * SPANS_PER_TRACE;
    let gate = Gate::closed();
    let pipeline = Pipeline {
        // Room for every span: the export thread holds at most one batch.
        queue_size: spans as usize,
        batch_size: 512,
        sink: Sink::gated(gate.clone()),
    };
    let before_start = peak_rss_kib();
    let stack = S::start(&pipeline);
    settle();
    let after_start = peak_rss_kib();
    produce(&stack, &mut reqs, traces);
    settle();
    let full = peak_rss_kib();
    let rss_full = rss_kib();
    let exported_while_held = pipeline.sink.spans();
    gate.open();
    stack.flush();
    stack.flush();
    json!({
        "spans": spans,
        "queue_size": pipeline.queue_size,
        "peak_rss_before_start_kib": before_start,
        "peak_rss_after_start_kib": after_start,
        "peak_rss_full_kib": full,
        "rss_full_kib": rss_full,
        "bytes_per_span": (full.saturating_sub(before_start) * 1024) as f64 / spans as f64,
        "bytes_per_span_after_start": (full.saturating_sub(after_start) * 1024) as f64 / spans as f64,
        "exported_while_held": exported_while_held,
        "exported_after_release": pipeline.sink.spans(),
        "dropped": stack.dropped(),
    })
}

/// Peak RSS with a receiver that never answers: after pushing the queue's
/// capacity, and after pushing ten times that.
fn dead_receiver<S: Stack>(plan: Plan) -> Value {
    let mut reqs = Requests::default();
    let cap = plan.dead_receiver_cap;
    let per_trace = SPANS_PER_TRACE as usize;
    let pipeline = Pipeline {
        queue_size: cap,
        batch_size: 512,
        sink: Sink::gated(Gate::closed()),
    };
    let before_start = peak_rss_kib();
    let stack = S::start(&pipeline);
    let at_cap_traces = cap.div_ceil(per_trace);
    produce(&stack, &mut reqs, at_cap_traces);
    settle();
    let at_cap = peak_rss_kib();
    let all_traces = (10 * cap).div_ceil(per_trace);
    produce(&stack, &mut reqs, all_traces - at_cap_traces);
    settle();
    let at_10x = peak_rss_kib();
    let grown_cap = at_cap.saturating_sub(before_start);
    let grown_10x = at_10x.saturating_sub(before_start);
    json!({
        "queue_size": cap,
        "spans_pushed_at_cap": at_cap_traces * per_trace,
        "spans_pushed": all_traces * per_trace,
        "peak_rss_before_start_kib": before_start,
        "peak_rss_at_cap_kib": at_cap,
        "peak_rss_at_10x_kib": at_10x,
        "growth_10x_over_cap": grown_10x as f64 / (grown_cap.max(1)) as f64,
        // Bounded: ten times the spans cost at most a quarter more than the
        // capacity's worth, plus 1 MiB of allocator slack.
        "bounded": grown_10x as f64 <= 1.25 * grown_cap as f64 + 1024.0,
        "dropped": stack.dropped(),
    })
}

/// `<target>/bench-results`, next to criterion's `<target>/criterion`.
pub fn results_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"))
        .join("bench-results")
}

fn write_results(name: &str, results: &Value) {
    let dir = results_dir();
    let path = dir.join(format!("{name}.json"));
    let written = std::fs::create_dir_all(&dir).and_then(|()| {
        std::fs::write(
            &path,
            serde_json::to_string_pretty(results).unwrap_or_default(),
        )
    });
    match written {
        Ok(()) => eprintln!("{name}: results written to {}", path.display()),
        Err(e) => eprintln!("{name}: could not write {}: {e}", path.display()),
    }
}

/// The criterion settings every bench of this crate runs with (1 s warm-up,
/// 3 s of measurement, 30 samples, no plots), then the command line's.
pub fn criterion() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30)
        .without_plots()
        .configure_from_args()
}

#[cfg(test)]
mod tests {
    use super::median;

    #[test]
    fn median_of_odd_even_and_empty() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(median(&mut []), 0.0);
    }
}
