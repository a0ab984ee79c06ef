//! Issue 7's benchmark for neatlogs (OTLP protobuf encoding, then discard),
//! in a process of its own. See `neatlogs_bench::driver` for what is
//! measured and in which order.

fn main() {
    neatlogs_bench::driver::run::<neatlogs_bench::stacks::neatlogs::Neatlogs>();
}
