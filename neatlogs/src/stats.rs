//! What happened to the spans handed to export: a leaf that the pipeline
//! fills and the runtime reports.

/// Export counters since `init`, from [`stats()`](crate::stats()).
///
/// Every span handed to the pipeline is counted once as `queued` or
/// `dropped`; every queued span ends as `exported` or `failed` (or is still
/// in flight). A thread hands its finished traces' spans over a few traces
/// at a time (at most 64 spans wait on a thread), and all of them at the
/// export thread's schedule delay, [`flush`](crate::flush) and
/// [`shutdown`](crate::shutdown): until then they are in neither count.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Spans accepted into the export queue.
    pub queued: u64,
    /// Spans dropped because the queue was full or export had shut down.
    pub dropped: u64,
    /// Spans every exporter accepted.
    pub exported: u64,
    /// Spans an exporter finally lost (rejected by the receiver, out of
    /// retries or time, or cut off by `shutdown`'s timeout).
    pub failed: u64,
    /// Export attempts retried (each retried HTTP request counts once; the
    /// spans it carried are counted once, as exported or failed).
    pub retried: u64,
    /// Usage reports (OTLP metrics, `/v1/metrics`) a receiver accepted.
    pub usage_reports: u64,
    /// Usage reports lost (the next one carries the same totals and more:
    /// they are cumulative).
    pub usage_reports_failed: u64,
    /// LLM calls counted in the usage overflow series, past the
    /// cardinality limit ([`DEFAULT_CARDINALITY_LIMIT`](crate::DEFAULT_CARDINALITY_LIMIT)).
    pub usage_overflowed: u64,
    /// Traces the head sampler dropped that tail keep kept (a span failed,
    /// or the root was slow).
    pub tail_kept: u64,
    /// Undecided traces dropped because holding another span would have
    /// passed a [`TailKeep`](crate::TailKeep) bound.
    pub tail_fell_back: u64,
}
