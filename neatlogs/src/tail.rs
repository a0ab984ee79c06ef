//! Tail keep: a trace the head sampler dropped is recorded anyway, its
//! ended spans held in memory, and decided when its local root ends: kept
//! (every held span exported) if a span failed or the root ran longer than
//! the threshold, dropped otherwise.
//!
//! Held spans are bounded per trace and in total; a trace that would pass
//! either bound falls back to the head decision (dropped, its held spans
//! freed) and [`Stats::tail_fell_back`](crate::Stats::tail_fell_back)
//! counts it. Spans that end after their root are decided with the trace.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::record::SpanRecord;
use crate::value::Status;

/// What to keep of the traces the head sampler dropped, decided when each
/// trace's root in this process ends ([`Config::tail_keep`](crate::Config::tail_keep)).
///
/// ```
/// use std::time::Duration;
/// use neatlogs::TailKeep;
/// // Every trace with a failed span or a root slower than 5 s.
/// let keep = TailKeep::errors().slower_than(Duration::from_secs(5));
/// # drop(keep);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TailKeep {
    pub(crate) errors: bool,
    pub(crate) slower_than: Option<Duration>,
    pub(crate) max_spans_per_trace: usize,
    pub(crate) max_spans_total: usize,
}

impl TailKeep {
    /// Keep the traces in which a span failed (its status is an error).
    pub fn errors() -> TailKeep {
        TailKeep {
            errors: true,
            ..TailKeep::none()
        }
    }

    /// Keep nothing yet (add [`slower_than`](TailKeep::slower_than)).
    pub fn none() -> TailKeep {
        TailKeep {
            errors: false,
            slower_than: None,
            max_spans_per_trace: DEFAULT_MAX_SPANS_PER_TRACE,
            max_spans_total: DEFAULT_MAX_SPANS_TOTAL,
        }
    }

    /// Also keep the traces whose root ran longer than `threshold`.
    pub fn slower_than(mut self, threshold: Duration) -> TailKeep {
        self.slower_than = Some(threshold);
        self
    }

    /// The most spans held for one undecided trace (default 1,000).
    pub fn max_spans_per_trace(mut self, spans: usize) -> TailKeep {
        self.max_spans_per_trace = spans.max(1);
        self
    }

    /// The most spans held for all undecided traces together (default
    /// 65,536, the export queue's size). A held span without content costs
    /// under half a KiB (content adds its own size), as does each undecided
    /// trace's open root: 100,000 undecided traces with 65,536 spans held
    /// measured +45 MiB of resident memory (`tests/tail_keep.rs`).
    pub fn max_spans_total(mut self, spans: usize) -> TailKeep {
        self.max_spans_total = spans.max(1);
        self
    }
}

/// Spans held for one trace, by default.
pub const DEFAULT_MAX_SPANS_PER_TRACE: usize = 1_000;
/// Spans held for all undecided traces, by default.
pub const DEFAULT_MAX_SPANS_TOTAL: usize = 65_536;

/// An instance's tail keep: the rule, and what all its undecided traces
/// hold and did.
#[derive(Debug)]
pub(crate) struct Tails {
    keep: TailKeep,
    held: AtomicUsize,
    pub(crate) kept: AtomicU64,
    pub(crate) fell_back: AtomicU64,
}

impl Tails {
    pub(crate) fn new(keep: TailKeep) -> Tails {
        Tails {
            keep,
            held: AtomicUsize::new(0),
            kept: AtomicU64::new(0),
            fell_back: AtomicU64::new(0),
        }
    }
}

const UNDECIDED: u8 = 0;
const KEPT: u8 = 1;
const DROPPED: u8 = 2;

/// One undecided trace's held spans and decision.
#[derive(Debug)]
pub(crate) struct TraceTail {
    tails: Arc<Tails>,
    held: Mutex<Vec<SpanRecord>>,
    state: AtomicU8,
    errored: AtomicBool,
}

impl TraceTail {
    pub(crate) fn new(tails: Arc<Tails>) -> TraceTail {
        TraceTail {
            tails,
            held: Mutex::new(Vec::new()),
            state: AtomicU8::new(UNDECIDED),
            errored: AtomicBool::new(false),
        }
    }
}

/// Take an ended span of an undecided trace: what is to be sent on now
/// (nothing while the trace is undecided or once it is dropped; every held
/// span and this one when its root ends and the trace is kept).
#[cold]
#[inline(never)]
pub(crate) fn take(record: SpanRecord) -> Vec<SpanRecord> {
    // Its own handle on the trace, so that the record can move while the
    // trace's lock is held.
    let trace = record.trace.clone();
    let Some(tail) = trace.tail.as_deref() else {
        return vec![record];
    };
    let mut held = match tail.held.lock() {
        Ok(h) => h,
        Err(poisoned) => poisoned.into_inner(),
    };
    match tail.state.load(Ordering::Acquire) {
        KEPT => return vec![record],
        DROPPED => return Vec::new(),
        _ => {}
    }
    let keep = &tail.tails.keep;
    if matches!(record.status(), Status::Error(_)) {
        tail.errored.store(true, Ordering::Relaxed);
    }
    if record.is_root() {
        let slow = keep.slower_than.is_some_and(|t| record.duration() > t);
        let errored = keep.errors && tail.errored.load(Ordering::Relaxed);
        let mut out = std::mem::take(&mut *held);
        drop(held);
        tail.tails.held.fetch_sub(out.len(), Ordering::Relaxed);
        if slow || errored {
            tail.state.store(KEPT, Ordering::Release);
            tail.tails.kept.fetch_add(1, Ordering::Relaxed);
            out.push(record);
            return out;
        }
        tail.state.store(DROPPED, Ordering::Release);
        return Vec::new();
    }
    let total = tail.tails.held.fetch_add(1, Ordering::Relaxed);
    if held.len() >= keep.max_spans_per_trace || total >= keep.max_spans_total {
        // Past a bound: the head decision (dropped) stands.
        let dropped = std::mem::take(&mut *held);
        tail.state.store(DROPPED, Ordering::Release);
        drop(held);
        tail.tails
            .held
            .fetch_sub(dropped.len() + 1, Ordering::Relaxed);
        tail.tails.fell_back.fetch_add(1, Ordering::Relaxed);
        return Vec::new();
    }
    held.push(record);
    Vec::new()
}
