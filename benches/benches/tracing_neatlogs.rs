//! `tracing` spans through neatlogs' `tracing_subscriber` layer, in a
//! process of its own: the counterpart of `tracing_otel`. See
//! `neatlogs_bench::driver` for what is measured and in which order.

fn main() {
    neatlogs_bench::driver::run::<neatlogs_bench::stacks::tracing_neatlogs::TracingNeatlogs>();
}
