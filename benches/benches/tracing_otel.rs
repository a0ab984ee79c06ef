//! Issue 7's benchmark for tracing + tracing-opentelemetry (same processor and exporter),
//! in a process of its own. See `neatlogs_bench::driver` for what is
//! measured and in which order.

fn main() {
    neatlogs_bench::driver::run::<neatlogs_bench::stacks::tracing_otel::TracingOtel>();
}
