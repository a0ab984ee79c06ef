//! W3C trace context on an `http::HeaderMap`: neatlogs against the
//! OpenTelemetry SDK's `TraceContextPropagator` (see
//! `neatlogs_bench::propagation`). Groups, each with `neatlogs` and
//! `opentelemetry`: `extract` (the caller's `traceparent` and `tracestate`
//! into a context), `inject` (that context into an empty header map), and
//! `extract_inject` (both, as a service calling another does).

use std::hint::black_box;

use http::HeaderMap;
use opentelemetry::propagation::TextMapPropagator as _;
use opentelemetry_sdk::propagation::TraceContextPropagator;

use neatlogs::propagation::Propagator;
use neatlogs_bench::propagation::{
    incoming, neatlogs_round_trip, otel_round_trip, HeaderExtractor, HeaderInjector,
};

fn main() {
    let mut criterion = neatlogs_bench::driver::criterion();
    let headers = incoming();
    let otel = TraceContextPropagator::new();
    let neatlogs = Propagator::new();

    let mut g = criterion.benchmark_group("extract");
    g.bench_function("neatlogs", |b| {
        b.iter(|| neatlogs::propagation::extract(black_box(&headers)))
    });
    g.bench_function("opentelemetry", |b| {
        b.iter(|| otel.extract(&HeaderExtractor(black_box(&headers))))
    });
    g.finish();

    let neatlogs_cx = neatlogs::propagation::extract(&headers);
    let otel_cx = otel.extract(&HeaderExtractor(&headers));
    let mut g = criterion.benchmark_group("inject");
    g.bench_function("neatlogs", |b| {
        b.iter(|| {
            let mut outgoing = HeaderMap::new();
            neatlogs.inject_context(black_box(&neatlogs_cx), &mut outgoing);
            outgoing
        })
    });
    g.bench_function("opentelemetry", |b| {
        b.iter(|| {
            let mut outgoing = HeaderMap::new();
            otel.inject_context(black_box(&otel_cx), &mut HeaderInjector(&mut outgoing));
            outgoing
        })
    });
    g.finish();

    let mut g = criterion.benchmark_group("extract_inject");
    g.bench_function("neatlogs", |b| {
        b.iter(|| neatlogs_round_trip(black_box(&headers)))
    });
    g.bench_function("opentelemetry", |b| {
        b.iter(|| otel_round_trip(&otel, black_box(&headers)))
    });
    g.finish();

    criterion.final_summary();
}
