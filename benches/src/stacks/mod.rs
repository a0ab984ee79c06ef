//! One file per stack: how it opens the scenario's spans, and how its export
//! pipeline is set up to end in a [`Sink`](crate::sink::Sink).

pub mod fastrace;
pub mod neatlogs;
pub mod otel_sdk;
pub mod tracing_neatlogs;
pub mod tracing_otel;

/// The scenario's ten children as `tracing` spans, each entered and closed in
/// turn: the body of a request trace for both `tracing` stacks. Span names in
/// `tracing` are literals fixed at each callsite; they are
/// [`CHILD_NAMES`](crate::scenario::CHILD_NAMES).
pub(crate) fn tracing_children() {
    macro_rules! children {
        ($($name:literal),*) => {$(
            {
                let child = tracing::info_span!($name);
                let _entered = child.enter();
            }
        )*};
    }
    children!(
        "authenticate",
        "load_session",
        "retrieve",
        "rerank",
        "build_prompt",
        "llm_call",
        "parse_answer",
        "tool_call",
        "store_turn",
        "respond"
    );
}

/// The export pipeline a stack is started with.
#[derive(Debug, Clone)]
pub struct Pipeline {
    /// The most finished spans that may wait for export (where the stack has
    /// such a bound: fastrace has none).
    pub queue_size: usize,
    /// Spans per export call.
    pub batch_size: usize,
    /// Where exported batches end.
    pub sink: crate::sink::Sink,
}

impl Pipeline {
    /// The pipeline of the timed benchmarks: room for every span produced
    /// between two flushes (2 threads × 1,000 traces × 11 spans), so that no
    /// stack gets cheaper by dropping spans, and a sink that accepts at once
    /// (behind an open gate, which the concurrent measurement closes to tell
    /// hot-path contention from competition with the export thread).
    pub fn discard() -> Pipeline {
        Pipeline {
            queue_size: 65_536,
            batch_size: 512,
            sink: crate::sink::Sink::gated(crate::sink::Gate::opened()),
        }
    }
}
