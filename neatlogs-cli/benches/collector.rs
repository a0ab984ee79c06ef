//! Collector benchmarks.
//!
//! - `ingest/http_protobuf`: spans per second through `POST /v1/traces`
//!   (SDK-shaped OTLP protobuf, 100 traces x 10 spans per request, fresh
//!   ids every request), on a file store, in-process server, keep-alive
//!   client.
//! - `query/*`: latency of filtered trace lists (newest 50) and counts over
//!   a store seeded in bulk with 1,000,000 spans / 100,000 traces / 10,000
//!   end-users (a quarter of the traces on plan `pro`, one in a thousand on
//!   `enterprise`), analysed as after `neatlogs import`.
//!
//! Run with `cargo bench -p neatlogs-cli --bench collector`.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use neatlogs_cli::filter::parse;
use neatlogs_cli::ingest::Batch;
use neatlogs_cli::store::Store;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message;

const TRACES: u64 = 100_000;
const SPANS_PER_TRACE: u64 = 10;
const END_USERS: u64 = 10_000;
const T0: i64 = 1_777_636_800_000_000_000;

fn kv(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value.to_owned())),
        }),
        ..Default::default()
    }
}

fn kv_int(key: &str, value: i64) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue {
            value: Some(any_value::Value::IntValue(value)),
        }),
        ..Default::default()
    }
}

/// One request in the SDK's shape: `traces` traces of 10 spans each (a
/// workflow root with identity, an agent, LLM calls with tokens, tools) and
/// the completion marker for each root.
fn sdk_request(first_trace: u64, traces: u64) -> ExportTraceServiceRequest {
    let mut spans = Vec::with_capacity((traces * (SPANS_PER_TRACE + 1)) as usize);
    for t in first_trace..first_trace + traces {
        let mut trace_id = vec![0x42; 8];
        trace_id.extend_from_slice(&t.to_be_bytes());
        let span_id = |n: u64| ((t << 8) | n | 1 << 63).to_be_bytes().to_vec();
        let start = (T0 as u64) + t * 1_000_000;
        let user = format!("u_{}", t % END_USERS);
        for n in 0..SPANS_PER_TRACE {
            let (name, kind) = match n {
                0 => ("chat", "WORKFLOW"),
                1 => ("agent", "AGENT"),
                n if n % 2 == 0 => ("gpt-4o", "LLM"),
                _ => ("search", "TOOL"),
            };
            let mut attributes = vec![
                kv("openinference.span.kind", kind),
                kv("neatlogs.span.kind", &kind.to_lowercase()),
            ];
            if n == 0 {
                attributes.push(kv("neatlogs.end_user.id", &user));
                attributes.push(kv("enduser.id", &user));
                attributes.push(kv(
                    "neatlogs.end_user.metadata",
                    if t % 1000 == 1 {
                        r#"{"plan":"enterprise"}"#
                    } else if t % 4 == 0 {
                        r#"{"plan":"pro"}"#
                    } else {
                        r#"{"plan":"free"}"#
                    },
                ));
                attributes.push(kv("neatlogs.session.id", &format!("s_{}", t / 3)));
            }
            if kind == "LLM" {
                attributes.push(kv("gen_ai.request.model", "gpt-4o"));
                attributes.push(kv_int("gen_ai.usage.input_tokens", 120));
                attributes.push(kv_int("gen_ai.usage.output_tokens", 40));
            }
            spans.push(Span {
                trace_id: trace_id.clone(),
                span_id: span_id(n),
                parent_span_id: match n {
                    0 => Vec::new(),
                    1 => span_id(0),
                    _ => span_id(1),
                },
                name: name.to_owned(),
                kind: 1,
                start_time_unix_nano: start + n * 1_000,
                end_time_unix_nano: start + 900_000 - n * 1_000,
                attributes,
                ..Default::default()
            });
        }
        spans.push(Span {
            trace_id,
            span_id: span_id(0xff),
            parent_span_id: span_id(0),
            name: "neatlogs.trace.complete".to_owned(),
            start_time_unix_nano: start + 900_000,
            end_time_unix_nano: start + 900_000,
            attributes: vec![
                kv("neatlogs.span.kind", "Neatlogs.INTERNAL"),
                KeyValue {
                    key: "neatlogs.trace.complete".to_owned(),
                    value: Some(AnyValue {
                        value: Some(any_value::Value::BoolValue(true)),
                    }),
                    ..Default::default()
                },
            ],
            ..Default::default()
        });
    }
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![
                    kv("service.name", "support-chat"),
                    kv("neatlogs.workflow_name", "support-chat"),
                    kv("telemetry.sdk.name", "neatlogs"),
                    kv("user.id", "bench-operator"),
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

fn ingest(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let addr = start_server(&dir.path().join("bench.db"));
    let url = format!("http://{addr}/v1/traces");
    let agent = ureq::Agent::new_with_defaults();
    let next = AtomicU64::new(1);
    const PER_REQUEST: u64 = 100;

    let mut group = c.benchmark_group("ingest");
    group.throughput(Throughput::Elements(PER_REQUEST * SPANS_PER_TRACE));
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(10));
    group.bench_function("http_protobuf_spans", |b| {
        b.iter_batched(
            || {
                let first = next.fetch_add(PER_REQUEST, Ordering::Relaxed);
                sdk_request(first, PER_REQUEST).encode_to_vec()
            },
            |body| {
                let resp = agent
                    .post(&url)
                    .header("content-type", "application/x-protobuf")
                    .send(&body[..])
                    .expect("ingest");
                assert_eq!(resp.status().as_u16(), 200);
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

/// 1,000,000 spans in 100,000 traces for 10,000 end-users, written through
/// the store's bulk path (rows built directly, 10,000 traces per
/// transaction), not over HTTP.
fn seed(store: &mut Store) {
    let started = Instant::now();
    let chunk = 10_000;
    for first in (0..TRACES).step_by(chunk as usize) {
        let request = sdk_request(first, chunk);
        let batch: Batch = neatlogs_cli::ingest::batch_from_otlp(&request).expect("valid request");
        store.write(&batch).expect("write");
    }
    store.optimize().expect("analyze");
    let spans: i64 = store
        .connection()
        .query_row("SELECT COUNT(*) FROM spans WHERE NOT is_marker", [], |r| {
            r.get(0)
        })
        .expect("count");
    let users: i64 = store
        .connection()
        .query_row("SELECT COUNT(DISTINCT end_user) FROM traces", [], |r| {
            r.get(0)
        })
        .expect("count");
    eprintln!(
        "seeded {spans} spans, {TRACES} traces, {users} end-users in {:.1?}",
        started.elapsed()
    );
}

fn queries(c: &mut Criterion) {
    // NEATLOGS_BENCH_DB=path keeps the seeded store (and reuses it when it
    // already exists), for inspecting query plans.
    let dir = tempfile::tempdir().expect("temp dir");
    let path = std::env::var_os("NEATLOGS_BENCH_DB")
        .map_or_else(|| dir.path().join("seeded.db"), std::path::PathBuf::from);
    let reuse = path.exists();
    let mut store = Store::open(&path).expect("store");
    if !reuse {
        seed(&mut store);
    }

    let mut group = c.benchmark_group("query");
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(5));
    for expression in [
        "end_user starts with u_12",
        "end_user starts with u_",
        "metadata:plan is pro",
        "metadata:plan is enterprise",
        "end_user starts with u_12 and metadata:plan is pro",
    ] {
        let filter = parse(expression).expect("filter");
        let newest = store.list_traces(&filter, 50, 0).expect("list");
        let total = store.count_traces(&filter).expect("count");
        eprintln!(
            "{expression}: {total} matching traces, first page {}",
            newest.len()
        );
        group.bench_function(format!("list 50 / {expression}"), |b| {
            b.iter(|| store.list_traces(&filter, 50, 0).expect("list"))
        });
        group.bench_function(format!("count / {expression}"), |b| {
            b.iter(|| store.count_traces(&filter).expect("count"))
        });
    }
    let pro = parse("metadata:plan is pro").expect("filter");
    group.bench_function("users report / metadata:plan is pro", |b| {
        b.iter(|| {
            store
                .users(&pro, neatlogs_cli::store::UserSort::Tokens)
                .expect("users")
        })
    });
    group.finish();
}

criterion_group!(benches, ingest, queries);
criterion_main!(benches);
