//! End to end: one stack in a process of its own (`e2e_sender`) sends request
//! traces over OTLP/HTTP with its real exporter to a receiver in another
//! process (`otlp_receiver`), which decodes and counts every request.
//!
//! The sender measures the whole of its process — the calling thread, the
//! export threads and the HTTP client's threads — from before the stack
//! starts until its shutdown has delivered everything:
//!
//! - CPU time (`getrusage(RUSAGE_SELF)`, user + system; the calling thread's
//!   own share from `RUSAGE_THREAD`),
//! - voluntary and involuntary context switches, the same way,
//! - wall time, and the time spent producing the traces,
//! - the spans produced, and what the stack itself counted as dropped,
//!   exported and failed,
//!
//! and the receiver's counts before and after the run give what arrived
//! (requests, spans, bytes on the wire and decoded). `e2e.sh` runs every
//! combination; `report.py` prints the table.
//!
//! Two modes: **paced** sends at a fixed rate (10,000 traces per second by
//! default) with the stack's default settings; **full** sends as fast as the
//! calling thread can, with a queue that holds the whole run, so that what is
//! measured is the work, not what a full queue spared.

mod pace;
mod receiver;
mod stacks;

use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::Serialize;

pub use pace::Pacer;
pub use receiver::{fetch_stats, Counters, ReceiverStats, Rejected, COMPLETION_MARKER};
pub use stacks::SdkCounts;

use crate::measure::{peak_rss_kib, process_usage, thread_usage};
use crate::scenario::{Requests, SPANS_PER_TRACE};

/// The default rate of the paced mode, in traces per second.
pub const DEFAULT_RATE: u64 = 10_000;

/// The default number of traces per run.
pub const DEFAULT_TRACES: u64 = 200_000;

/// The stack a sender runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stack {
    /// neatlogs, with its built-in OTLP/HTTP exporter.
    Neatlogs,
    /// The OpenTelemetry SDK with `opentelemetry-otlp`'s HTTP exporter.
    OtelSdk,
}

/// How the traces are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// At a fixed rate, default settings.
    Paced,
    /// As fast as possible, with a queue that holds the whole run.
    Full,
}

/// The request bodies' encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// `Content-Encoding: gzip`.
    Gzip,
    /// Plain protobuf.
    None,
    /// `Content-Encoding: zstd` (neatlogs only: its `zstd` feature).
    Zstd,
}

impl Stack {
    /// The name used on the command line and in the results.
    pub fn name(self) -> &'static str {
        match self {
            Stack::Neatlogs => "neatlogs",
            Stack::OtelSdk => "otel_sdk",
        }
    }
}

impl Mode {
    /// The name used on the command line and in the results.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Paced => "paced",
            Mode::Full => "full",
        }
    }
}

impl Compression {
    /// The name used on the command line and in the results.
    pub fn name(self) -> &'static str {
        match self {
            Compression::Gzip => "gzip",
            Compression::None => "none",
            Compression::Zstd => "zstd",
        }
    }
}

/// One sender run.
#[derive(Debug, Clone)]
pub struct Options {
    /// The stack.
    pub stack: Stack,
    /// Paced or full speed.
    pub mode: Mode,
    /// Request body encoding.
    pub compression: Compression,
    /// Request traces to send.
    pub traces: u64,
    /// Traces per second in the paced mode.
    pub rate: u64,
    /// The receiver (a loopback address).
    pub receiver: SocketAddr,
}

/// The command line of `e2e_sender`.
pub const USAGE: &str = "usage: e2e_sender --stack neatlogs|otel_sdk --mode paced|full \
--compression gzip|none|zstd --receiver 127.0.0.1:PORT [--traces N (200000)] [--rate PER_SEC (10000)]";

impl Options {
    /// Parse `e2e_sender`'s arguments (without the program name).
    pub fn parse<I: IntoIterator<Item = String>>(args: I) -> Result<Options, String> {
        let (mut stack, mut mode, mut compression, mut receiver) = (None, None, None, None);
        let (mut traces, mut rate) = (DEFAULT_TRACES, DEFAULT_RATE);
        let mut args = args.into_iter();
        while let Some(flag) = args.next() {
            let value = args
                .next()
                .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
            let bad = || format!("{flag}: unexpected value `{value}`\n{USAGE}");
            match flag.as_str() {
                "--stack" => {
                    stack = Some(match value.as_str() {
                        "neatlogs" => Stack::Neatlogs,
                        "otel_sdk" => Stack::OtelSdk,
                        _ => return Err(bad()),
                    })
                }
                "--mode" => {
                    mode = Some(match value.as_str() {
                        "paced" => Mode::Paced,
                        "full" => Mode::Full,
                        _ => return Err(bad()),
                    })
                }
                "--compression" => {
                    compression = Some(match value.as_str() {
                        "gzip" => Compression::Gzip,
                        "none" => Compression::None,
                        "zstd" => Compression::Zstd,
                        _ => return Err(bad()),
                    })
                }
                "--receiver" => {
                    let addr: SocketAddr = value.parse().map_err(|_| bad())?;
                    if !addr.ip().is_loopback() {
                        return Err(format!(
                            "--receiver {addr}: only a loopback receiver is allowed"
                        ));
                    }
                    receiver = Some(addr);
                }
                "--traces" => traces = value.parse().map_err(|_| bad())?,
                "--rate" => rate = value.parse().map_err(|_| bad())?,
                _ => return Err(format!("unknown argument `{flag}`\n{USAGE}")),
            }
        }
        let missing = |what: &str| format!("{what} is required\n{USAGE}");
        Ok(Options {
            stack: stack.ok_or_else(|| missing("--stack"))?,
            mode: mode.ok_or_else(|| missing("--mode"))?,
            compression: compression.ok_or_else(|| missing("--compression"))?,
            receiver: receiver.ok_or_else(|| missing("--receiver"))?,
            traces: traces.max(1),
            rate: rate.max(1),
        })
    }

    /// Spans the run opens.
    pub fn spans(&self) -> u64 {
        self.traces * SPANS_PER_TRACE
    }

    /// The queue size the stack is started with: the stack's default when
    /// paced, room for the whole run at full speed.
    pub fn queue_size(&self) -> Option<usize> {
        match self.mode {
            Mode::Paced => None,
            Mode::Full => Some(self.spans() as usize + 1),
        }
    }
}

/// The result of one sender run, as `e2e_sender` prints it (JSON).
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    /// `neatlogs` or `otel_sdk`.
    pub stack: &'static str,
    /// `paced` or `full`.
    pub mode: &'static str,
    /// `gzip`, `none` or `zstd`.
    pub compression: &'static str,
    /// Request traces sent.
    pub traces: u64,
    /// Traces per second asked for (paced mode only).
    pub rate_per_sec: Option<u64>,
    /// The queue size given to the stack (`None`: its default).
    pub queue_size: Option<usize>,
    /// Spans the run opened (11 per trace).
    pub spans_produced: u64,
    /// CPU time of the whole sending process, start-up to shutdown.
    pub cpu_ns: u64,
    /// … of which on the calling thread.
    pub caller_cpu_ns: u64,
    /// Voluntary context switches, whole process.
    pub voluntary_switches: u64,
    /// Involuntary context switches, whole process.
    pub involuntary_switches: u64,
    /// Voluntary context switches of the calling thread (in the paced mode,
    /// mostly the pacing's own sleeps).
    pub caller_voluntary_switches: u64,
    /// Involuntary context switches of the calling thread.
    pub caller_involuntary_switches: u64,
    /// Wall time, start-up to shutdown.
    pub wall_ns: u64,
    /// Wall time of the loop that opens the spans.
    pub produce_wall_ns: u64,
    /// Peak resident set size of the sending process.
    pub peak_rss_kib: u64,
    /// What the stack itself counted.
    pub sdk: SdkCounts,
    /// What the receiver got from this run.
    pub received: ReceiverStats,
    /// When the run ended (seconds since the Unix epoch).
    pub unix_time: u64,
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// Run one sender: start the stack, send the traces, shut it down, and
/// measure. The request data is built before anything is measured.
pub fn run(opts: &Options) -> Result<Outcome, String> {
    let mut reqs = Requests::default();
    let unreachable = |e: std::io::Error| {
        format!(
            "the receiver at {} did not answer GET /stats: {e}",
            opts.receiver
        )
    };
    let before_received = fetch_stats(opts.receiver).map_err(unreachable)?;

    let usage_before = process_usage();
    let caller_before = thread_usage();
    let wall = Instant::now();

    let stack = stacks::Running::start(opts, opts.receiver)?;
    let produce = Instant::now();
    match opts.mode {
        Mode::Paced => {
            let pacer = Pacer::new(opts.rate);
            for i in 0..opts.traces {
                pacer.wait(i);
                stack.trace(reqs.next());
            }
        }
        Mode::Full => {
            for _ in 0..opts.traces {
                stack.trace(reqs.next());
            }
        }
    }
    let produce_wall = produce.elapsed();
    let sdk = stack.finish(opts.spans());

    let wall = wall.elapsed();
    let caller = thread_usage().since(caller_before);
    let usage = process_usage().since(usage_before);
    let received = fetch_stats(opts.receiver)
        .map_err(unreachable)?
        .since(&before_received);

    Ok(Outcome {
        stack: opts.stack.name(),
        mode: opts.mode.name(),
        compression: opts.compression.name(),
        traces: opts.traces,
        rate_per_sec: (opts.mode == Mode::Paced).then_some(opts.rate),
        queue_size: opts.queue_size(),
        spans_produced: opts.spans(),
        cpu_ns: nanos(usage.cpu),
        caller_cpu_ns: nanos(caller.cpu),
        voluntary_switches: usage.voluntary_switches,
        involuntary_switches: usage.involuntary_switches,
        caller_voluntary_switches: caller.voluntary_switches,
        caller_involuntary_switches: caller.involuntary_switches,
        wall_ns: nanos(wall),
        produce_wall_ns: nanos(produce_wall),
        peak_rss_kib: peak_rss_kib(),
        sdk,
        received,
        unix_time: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Result<Options, String> {
        Options::parse(line.split_whitespace().map(str::to_owned))
    }

    #[test]
    fn parses_a_command_line() {
        let o = parse(
            "--stack otel_sdk --mode full --compression none --receiver 127.0.0.1:4318 --traces 50",
        )
        .unwrap();
        assert_eq!(
            (o.stack, o.mode, o.compression, o.traces, o.rate),
            (
                Stack::OtelSdk,
                Mode::Full,
                Compression::None,
                50,
                DEFAULT_RATE
            )
        );
        assert_eq!(o.spans(), 550);
        assert_eq!(o.queue_size(), Some(551));
        let paced =
            parse("--stack neatlogs --mode paced --compression gzip --receiver [::1]:9").unwrap();
        assert_eq!((paced.traces, paced.queue_size()), (DEFAULT_TRACES, None));
        let zstd =
            parse("--stack neatlogs --mode full --compression zstd --receiver [::1]:9").unwrap();
        assert_eq!(zstd.compression.name(), "zstd");
    }

    #[test]
    fn refuses_bad_command_lines() {
        let base = "--mode full --compression gzip --receiver 127.0.0.1:1";
        assert!(parse(base).unwrap_err().contains("--stack is required"));
        assert!(parse(&format!("{base} --stack jaeger")).is_err());
        assert!(parse(&format!("{base} --stack neatlogs --traces")).is_err());
        assert!(parse(&format!("{base} --stack neatlogs --traces x")).is_err());
        assert!(parse(&format!("{base} --stack neatlogs --bogus 1")).is_err());
        let brotli = "--stack neatlogs --mode full --compression br --receiver 127.0.0.1:1";
        assert!(parse(brotli).is_err());
        let remote = "--stack neatlogs --mode full --compression gzip --receiver 10.0.0.1:4318";
        assert!(parse(remote).unwrap_err().contains("loopback"));
    }
}
