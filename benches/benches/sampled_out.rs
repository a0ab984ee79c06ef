//! What a trace the sampler drops costs the calling thread (issue 23): the
//! scenario's 11-span request trace with its end-user, on the disabled path
//! (nothing started), dropped by neatlogs' `TraceIdRatio(0.0)` (its context
//! and identity kept, its children not opened), and dropped by the
//! OpenTelemetry SDK's `TraceIdRatioBased(0.0)`; then what one LLM call
//! costs inside a dropped trace, where neatlogs still opens it to count its
//! usage per end-user (the usage aggregation), against the same call in a
//! recorded trace. One process, criterion, reported as ratios by
//! `benches/report.py`.

use std::hint::black_box;

use criterion::Criterion;
use opentelemetry::trace::TracerProvider as _;

use neatlogs_bench::scenario::{Chats, Requests};
use neatlogs_bench::stacks::{neatlogs as nl, otel_sdk, Pipeline};

fn main() {
    let mut c = Criterion::default().configure_from_args();
    let mut requests = Requests::new(1024);
    let mut chats = Chats::new(64);

    c.bench_function("sampled_out/neatlogs_disabled", |b| {
        b.iter(|| nl::request_trace(black_box(requests.next())))
    });

    let pipeline = Pipeline::discard();
    let dropped = neatlogs::Neatlogs::new(
        nl::config(&pipeline).sampler(neatlogs::Sampler::TraceIdRatio(0.0)),
    )
    .expect("instance");
    {
        let _default = dropped.set_default();
        c.bench_function("sampled_out/neatlogs", |b| {
            b.iter(|| nl::request_trace(black_box(requests.next())))
        });
        c.bench_function("sampled_out/neatlogs_llm_call_dropped", |b| {
            b.iter(|| nl::under_root(&mut || nl::llm_call(black_box(chats.next()))))
        });
    }
    let kept = neatlogs::Neatlogs::new(nl::config(&pipeline)).expect("instance");
    {
        let _default = kept.set_default();
        c.bench_function("sampled_out/neatlogs_llm_call_kept", |b| {
            let mut n = 0u64;
            b.iter(|| {
                nl::under_root(&mut || nl::llm_call(black_box(chats.next())));
                n += 1;
                // Keep the queue from filling: a flush every 1,000 calls
                // (timed with them; a small share).
                if n.is_multiple_of(1_000) {
                    let _ = kept.flush();
                }
            })
        });
    }
    let stats = dropped.stats();
    assert_eq!(
        stats.queued, 0,
        "nothing of a dropped trace is exported: {stats:?}"
    );

    let provider = otel_sdk::provider_with(
        &pipeline,
        opentelemetry_sdk::trace::Sampler::TraceIdRatioBased(0.0),
    );
    let tracer = provider.tracer("bench");
    c.bench_function("sampled_out/otel_sdk", |b| {
        b.iter(|| otel_sdk::request_trace(&tracer, black_box(requests.next())))
    });
    c.bench_function("sampled_out/otel_sdk_llm_call_dropped", |b| {
        b.iter(|| {
            otel_sdk::under_root(&tracer, &mut || {
                otel_sdk::llm_call(&tracer, black_box(chats.next()))
            })
        })
    });
    let _ = provider.shutdown();
    c.final_summary();
}
