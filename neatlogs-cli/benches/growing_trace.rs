//! One trace that keeps growing: does a write cost what it carries, or what
//! the trace already holds?
//!
//! 1. **Feed** (printed, not a criterion row): `NEATLOGS_BENCH_SPANS`
//!    spans (default 100,000) into one trace through `POST /v1/traces`, 50
//!    per request, the way a long agent run arrives: steps of 9 tool/LLM
//!    calls, each call before its step (spans are exported when they end),
//!    the root and its completion marker last. Meanwhile a second sender
//!    posts one-span traces every 10 ms. Printed: the median cost of the
//!    first and last 100 feed requests and their ratio, and the second
//!    sender's p50/p99 while the trace holds its first and its last 10 % of
//!    spans.
//! 2. **Criterion rows** `growing_trace/append 50 spans/...`: one more
//!    request of 50 spans into a fresh trace (`new trace`), and into the fed
//!    trace (`after the feed`, which keeps growing while measured).
//!
//! Run with `cargo bench -p neatlogs-cli --bench growing_trace`
//! (`NEATLOGS_BENCH_SPANS=20000` for a quick run).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message;

const PER_REQUEST: u64 = 50;
/// Calls per step: a step span is the parent of this many spans.
const CALLS_PER_STEP: u64 = 9;
const T0: u64 = 1_777_636_800_000_000_000;
const ROOT: u64 = 1;

fn kv(key: &str, value: any_value::Value) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue { value: Some(value) }),
        ..Default::default()
    }
}

fn text(key: &str, value: &str) -> KeyValue {
    kv(key, any_value::Value::StringValue(value.to_owned()))
}

fn trace_id(n: u64) -> Vec<u8> {
    let mut id = vec![0x5a; 8];
    id.extend_from_slice(&n.to_be_bytes());
    id
}

fn span_id(n: u64) -> Vec<u8> {
    (n | 1 << 62).to_be_bytes().to_vec()
}

fn request(spans: Vec<Span>) -> Vec<u8> {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![
                    text("service.name", "long-agent"),
                    text("neatlogs.workflow_name", "long-agent"),
                    text("telemetry.sdk.name", "neatlogs"),
                ],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
    .encode_to_vec()
}

/// Span number `n` (from 1) of the long trace `trace`, in arrival order:
/// every tenth span is a step (a child of the root), the nine before it its
/// calls. Span 1 is the root and is never produced here.
fn long_span(trace: u64, n: u64) -> Span {
    let step = n / (CALLS_PER_STEP + 1);
    let is_step = n.is_multiple_of(CALLS_PER_STEP + 1);
    let id = n + 1;
    let parent = if is_step {
        ROOT
    } else {
        (step + 1) * (CALLS_PER_STEP + 1) + 1
    };
    let start = T0 + n * 1_000_000;
    let mut attributes = vec![text(
        "openinference.span.kind",
        if is_step { "CHAIN" } else { "LLM" },
    )];
    if !is_step {
        attributes.push(text("gen_ai.request.model", "gpt-4o"));
        attributes.push(kv(
            "gen_ai.usage.input_tokens",
            any_value::Value::IntValue(120),
        ));
        attributes.push(kv(
            "gen_ai.usage.output_tokens",
            any_value::Value::IntValue(40),
        ));
    }
    Span {
        trace_id: trace_id(trace),
        span_id: span_id(id),
        parent_span_id: span_id(parent),
        name: if is_step { "step" } else { "call" }.to_owned(),
        start_time_unix_nano: start,
        end_time_unix_nano: start + 900_000,
        attributes,
        ..Default::default()
    }
}

/// The root of the long trace and its completion marker.
fn root_and_marker(trace: u64, spans: u64) -> Vec<Span> {
    let end = T0 + (spans + 1) * 1_000_000;
    let root = Span {
        trace_id: trace_id(trace),
        span_id: span_id(ROOT),
        name: "agent run".to_owned(),
        start_time_unix_nano: T0,
        end_time_unix_nano: end,
        attributes: vec![
            text("openinference.span.kind", "AGENT"),
            text("neatlogs.end_user.id", "u_long"),
            text("neatlogs.end_user.metadata", r#"{"plan":"pro"}"#),
            text("neatlogs.session.id", "s_long"),
        ],
        ..Default::default()
    };
    let marker = Span {
        trace_id: trace_id(trace),
        span_id: span_id(0xffff_ffff),
        parent_span_id: span_id(ROOT),
        name: "neatlogs.trace.complete".to_owned(),
        start_time_unix_nano: end,
        end_time_unix_nano: end,
        attributes: vec![kv(
            "neatlogs.trace.complete",
            any_value::Value::BoolValue(true),
        )],
        ..Default::default()
    };
    vec![root, marker]
}

/// A one-span trace with an end-user: what the second sender posts.
fn single(trace: u64) -> Vec<u8> {
    let start = T0 + trace * 1_000;
    request(vec![Span {
        trace_id: trace_id(trace),
        span_id: span_id(ROOT),
        name: "chat".to_owned(),
        start_time_unix_nano: start,
        end_time_unix_nano: start + 500_000,
        attributes: vec![text("neatlogs.end_user.id", "u_other")],
        ..Default::default()
    }])
}

/// A server on a free loopback port, on its own runtime thread.
fn start_server(db: &std::path::Path) -> SocketAddr {
    let app = neatlogs_cli::server::router(db, None).expect("router");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            tx.send(listener.local_addr().expect("addr")).expect("send");
            axum::serve(listener, app).await.expect("serve");
        });
    });
    rx.recv().expect("address")
}

fn post(agent: &ureq::Agent, url: &str, body: &[u8]) -> Duration {
    let started = Instant::now();
    let resp = agent
        .post(url)
        .header("content-type", "application/x-protobuf")
        .send(body)
        .expect("ingest");
    assert_eq!(resp.status().as_u16(), 200);
    started.elapsed()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Feeds the long trace `trace` with `spans` spans (then its root and
/// marker) while a second sender posts one-span traces; prints the figures.
fn feed(url: &str, trace: u64, spans: u64, other_traces: &AtomicU64) {
    let fed = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    // (spans in the long trace when sent, latency)
    let other: Arc<Mutex<Vec<(u64, Duration)>>> = Arc::default();
    let second = {
        let (url, fed, done, other) = (url.to_owned(), fed.clone(), done.clone(), other.clone());
        let first = other_traces.fetch_add(1_000_000, Ordering::Relaxed);
        std::thread::spawn(move || {
            let agent = ureq::Agent::new_with_defaults();
            let mut n = first;
            while !done.load(Ordering::Relaxed) && n < first + 1_000_000 {
                let at = fed.load(Ordering::Relaxed);
                let took = post(&agent, &url, &single(n));
                other.lock().expect("samples").push((at, took));
                n += 1;
                std::thread::sleep(Duration::from_millis(10));
            }
        })
    };

    let agent = ureq::Agent::new_with_defaults();
    let started = Instant::now();
    let mut costs = Vec::new();
    let mut n = 1;
    while n <= spans {
        let last = (n + PER_REQUEST - 1).min(spans);
        let body = request((n..=last).map(|i| long_span(trace, i)).collect());
        costs.push(post(&agent, url, &body));
        fed.store(last, Ordering::Relaxed);
        n = last + 1;
    }
    post(&agent, url, &request(root_and_marker(trace, spans)));
    let total = started.elapsed();
    done.store(true, Ordering::Relaxed);
    second.join().expect("second sender");

    let median = |slice: &[Duration]| {
        let mut v = slice.to_vec();
        v.sort();
        percentile(&v, 0.5)
    };
    let window = costs.len().min(100);
    let first = median(&costs[..window]);
    let last = median(&costs[costs.len() - window..]);
    eprintln!(
        "growing trace: {spans} spans, {} requests of {PER_REQUEST} in {total:.1?} ({:.0} spans/s)",
        costs.len(),
        spans as f64 / total.as_secs_f64()
    );
    eprintln!(
        "  feed request, median of first {window}: {:.2} ms; of last {window}: {:.2} ms; \
         last/first = {:.2}",
        ms(first),
        ms(last),
        last.as_secs_f64() / first.as_secs_f64()
    );
    let other = other.lock().expect("samples");
    for (label, range) in [
        ("first 10 %", 0..=spans / 10),
        ("last 10 %", spans - spans / 10..=spans),
    ] {
        let mut v: Vec<Duration> = other
            .iter()
            .filter(|(at, _)| range.contains(at))
            .map(|(_, d)| *d)
            .collect();
        v.sort();
        eprintln!(
            "  second sender, one-span requests while the trace holds its {label} \
             ({} requests): p50 {:.2} ms, p99 {:.2} ms",
            v.len(),
            ms(percentile(&v, 0.5)),
            ms(percentile(&v, 0.99))
        );
    }
}

fn growing_trace(c: &mut Criterion) {
    let spans: u64 = std::env::var("NEATLOGS_BENCH_SPANS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let addr = start_server(&dir.path().join("growing.db"));
    let url = format!("http://{addr}/v1/traces");
    let other_traces = AtomicU64::new(1_000_000);
    let long = 1;
    feed(&url, long, spans, &other_traces);

    let agent = ureq::Agent::new_with_defaults();
    let mut group = c.benchmark_group("growing_trace");
    group.throughput(Throughput::Elements(PER_REQUEST));
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(10));
    let fresh = AtomicU64::new(2);
    group.bench_function("append 50 spans/new trace", |b| {
        b.iter_batched(
            || {
                let trace = fresh.fetch_add(1, Ordering::Relaxed);
                request((1..=PER_REQUEST).map(|i| long_span(trace, i)).collect())
            },
            |body| post(&agent, &url, &body),
            BatchSize::SmallInput,
        )
    });
    let next = AtomicU64::new(spans + 1);
    group.bench_function(format!("append 50 spans/after the feed ({spans})"), |b| {
        b.iter_batched(
            || {
                let first = next.fetch_add(PER_REQUEST, Ordering::Relaxed);
                request(
                    (first..first + PER_REQUEST)
                        .map(|i| long_span(long, i))
                        .collect(),
                )
            },
            |body| post(&agent, &url, &body),
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(benches, growing_trace);
criterion_main!(benches);
