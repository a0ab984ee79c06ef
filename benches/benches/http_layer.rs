//! The HTTP server layer per request, in one process: no layer, neatlogs'
//! `TraceLayer`, and tower-http's `TraceLayer` recorded by
//! `tracing-opentelemetry` (see `neatlogs_bench::http_layer`), each called
//! with and without a caller's `traceparent`.
//!
//! 1. Caller cost (criterion `iter_custom`, groups `http_request` and
//!    `http_request_continued`): time on the calling thread per request,
//!    routing, handler and body included; the pipelines are flushed every
//!    [`FLUSH_EVERY`] requests, outside the timed part.
//! 2. CPU per request: `CLOCK_PROCESS_CPUTIME_ID` (export threads and
//!    flushes included) and the calling thread's `CLOCK_THREAD_CPUTIME_ID`
//!    around loops of [`FLUSH_EVERY`]-request chunks, the stacks taking
//!    turns round after round (medians).
//!
//! Both pipelines run in this process the whole time (neatlogs' `init`,
//! the OpenTelemetry provider behind the global `tracing` subscriber); a
//! stack's pipeline is idle while another stack is measured. Run without
//! `--bench` (`cargo test --benches`), everything runs once, briefly.

use std::time::{Duration, Instant};

use axum::Router;
use opentelemetry::trace::TracerProvider as _;
use serde_json::{json, Value};
use tracing_subscriber::layer::SubscriberExt as _;

use neatlogs_bench::driver::{results_dir, FLUSH_EVERY};
use neatlogs_bench::http_layer::{self, Calls};
use neatlogs_bench::measure::{process_cpu, thread_cpu};
use neatlogs_bench::sink::Sink;
use neatlogs_bench::stacks::{self, Pipeline};

/// One way of serving the route, and how to empty its pipeline.
struct Served {
    name: &'static str,
    app: Router,
    flush: Box<dyn Fn()>,
    sink: Option<Sink>,
}

impl Served {
    /// `n` requests in chunks of at most [`FLUSH_EVERY`], each chunk
    /// followed by a flush; the time spent serving, flushes excluded.
    fn timed(
        &self,
        rt: &tokio::runtime::Runtime,
        calls: &mut Calls,
        n: u64,
        continued: bool,
    ) -> Duration {
        let mut total = Duration::ZERO;
        let mut left = n;
        while left > 0 {
            let chunk = left.min(FLUSH_EVERY);
            let start = Instant::now();
            let failed = http_layer::serve(rt, &self.app, calls, chunk, continued);
            total += start.elapsed();
            (self.flush)();
            assert_eq!(failed, 0, "{}: {failed} requests failed", self.name);
            left -= chunk;
        }
        total
    }
}

/// CPU figures of one stack in one variant, over every round.
#[derive(Default)]
struct Cpu {
    process_ns: Vec<f64>,
    thread_ns: Vec<f64>,
    requests: u64,
    spans: u64,
    bytes: u64,
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let smoke = match std::env::var("NEATLOGS_BENCH_QUICK") {
        Ok(v) => v == "1",
        Err(_) => !args.iter().any(|a| a == "--bench"),
    };
    let quick = args.iter().any(|a| a == "--quick");
    let (round, rounds) = if smoke {
        (Duration::from_millis(20), 1)
    } else if quick {
        (Duration::from_millis(500), 2)
    } else {
        (Duration::from_secs(2), 3)
    };

    let neatlogs_pipeline = Pipeline::discard();
    if let Err(e) = neatlogs::init(stacks::neatlogs::config(&neatlogs_pipeline)) {
        panic!("neatlogs::init failed: {e}");
    }
    let otel_pipeline = Pipeline::discard();
    let provider = stacks::otel_sdk::provider(&otel_pipeline);
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("bench")));
    if let Err(e) = tracing::subscriber::set_global_default(subscriber) {
        panic!("could not install the subscriber: {e}");
    }

    let served = [
        Served {
            name: "no_layer",
            app: http_layer::bare_app(),
            flush: Box::new(|| {}),
            sink: None,
        },
        Served {
            name: "neatlogs",
            app: http_layer::neatlogs_app(),
            flush: Box::new(|| {
                let _ = neatlogs::flush();
            }),
            sink: Some(neatlogs_pipeline.sink.clone()),
        },
        Served {
            name: "tower_http_otel",
            app: http_layer::tower_http_app(),
            flush: {
                let provider = provider.clone();
                Box::new(move || {
                    let _ = provider.force_flush();
                })
            },
            sink: Some(otel_pipeline.sink.clone()),
        },
    ];
    let rt = http_layer::runtime();
    let mut calls = Calls::default();
    for s in &served {
        s.timed(&rt, &mut calls, FLUSH_EVERY, true);
    }

    let mut criterion = neatlogs_bench::driver::criterion();
    for (group, continued) in [("http_request", false), ("http_request_continued", true)] {
        let mut g = criterion.benchmark_group(group);
        for s in &served {
            g.bench_function(s.name, |b| {
                b.iter_custom(|iters| s.timed(&rt, &mut calls, iters, continued))
            });
        }
        g.finish();
    }

    let mut results = serde_json::Map::new();
    let dropped_before = neatlogs::stats().dropped;
    for (variant, continued) in [("new_trace", false), ("continued", true)] {
        let mut cpu: Vec<Cpu> = served.iter().map(|_| Cpu::default()).collect();
        // The stacks take turns, so that a change of load on the shared
        // cores falls on all of them alike.
        for _ in 0..rounds {
            for (s, c) in served.iter().zip(&mut cpu) {
                (s.flush)();
                let spans = s.sink.as_ref().map_or(0, Sink::spans);
                let bytes = s.sink.as_ref().map_or(0, Sink::bytes);
                let wall = Instant::now();
                let (process, thread) = (process_cpu(), thread_cpu());
                let mut requests = 0;
                while requests == 0 || wall.elapsed() < round {
                    let failed = http_layer::serve(&rt, &s.app, &mut calls, FLUSH_EVERY, continued);
                    (s.flush)();
                    assert_eq!(failed, 0, "{}: {failed} requests failed", s.name);
                    requests += FLUSH_EVERY;
                }
                let (process, thread) = (process_cpu() - process, thread_cpu() - thread);
                c.process_ns
                    .push(process.as_nanos() as f64 / requests as f64);
                c.thread_ns.push(thread.as_nanos() as f64 / requests as f64);
                c.requests += requests;
                c.spans += s.sink.as_ref().map_or(0, Sink::spans) - spans;
                c.bytes += s.sink.as_ref().map_or(0, Sink::bytes) - bytes;
            }
        }
        let mut stacks = serde_json::Map::new();
        for (s, c) in served.iter().zip(&cpu) {
            println!(
                "{variant:>10} {:>16}: total CPU {:>8.0} ns/request (rounds {:?}), calling thread {:>8.0} ns/request; {} requests, {} spans exported, {} bytes encoded",
                s.name,
                median(&c.process_ns),
                c.process_ns.iter().map(|n| n.round()).collect::<Vec<_>>(),
                median(&c.thread_ns),
                c.requests,
                c.spans,
                c.bytes,
            );
            stacks.insert(
                s.name.to_owned(),
                json!({
                    "ns_per_request": median(&c.process_ns),
                    "rounds_ns_per_request": c.process_ns,
                    "caller_thread_cpu_ns_per_request": median(&c.thread_ns),
                    "rounds_caller_thread_cpu_ns_per_request": c.thread_ns,
                    "requests": c.requests,
                    "spans_exported": c.spans,
                    "encoded_bytes": c.bytes,
                }),
            );
        }
        results.insert(variant.to_owned(), Value::Object(stacks));
    }
    let dropped = neatlogs::stats().dropped - dropped_before;
    println!("neatlogs dropped {dropped} spans in the CPU loops");
    results.insert("neatlogs_spans_dropped".to_owned(), json!(dropped));

    if !smoke && !quick {
        let dir = results_dir();
        let path = dir.join("http_layer.json");
        let written = std::fs::create_dir_all(&dir).and_then(|()| {
            std::fs::write(
                &path,
                serde_json::to_string_pretty(&Value::Object(results)).unwrap_or_default(),
            )
        });
        match written {
            Ok(()) => println!("results: {}", path.display()),
            Err(e) => eprintln!("could not write {}: {e}", path.display()),
        }
    }
    criterion.final_summary();
    let _ = provider.shutdown();
}
