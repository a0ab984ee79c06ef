//! Where a root opened on this thread reports, besides the process's
//! pipeline: a test [`Capture`](crate::testing::Capture) (in addition to
//! export), or a [`Neatlogs`](crate::Neatlogs) instance made the thread's
//! default (instead of it).
//!
//! The choice is made once, when a root opens (from this thread's ambient),
//! and travels with the trace; production traces carry
//! [`Sink::Export`](crate::record::Sink::Export) and never look here.

use std::cell::RefCell;
use std::sync::{Arc, Mutex};

use crate::instance::Instance;
use crate::record::{Sink, SpanRecord, SpanSink};

/// Spans collected by one capture.
#[derive(Debug, Default)]
pub(crate) struct CaptureSink {
    spans: Mutex<Vec<SpanRecord>>,
}

impl SpanSink for CaptureSink {
    fn push(&self, record: &SpanRecord) {
        if let Ok(mut spans) = self.spans.lock() {
            spans.push(record.clone());
        }
    }
}

impl CaptureSink {
    pub(crate) fn len(&self) -> usize {
        self.spans.lock().map(|s| s.len()).unwrap_or(0)
    }

    pub(crate) fn snapshot(&self) -> Vec<SpanRecord> {
        self.spans.lock().map(|s| s.clone()).unwrap_or_default()
    }

    pub(crate) fn take(&self) -> Vec<SpanRecord> {
        self.spans
            .lock()
            .map(|mut s| std::mem::take(&mut *s))
            .unwrap_or_default()
    }
}

/// What roots opened on a thread report to, beside the process's pipeline.
#[derive(Clone)]
pub(crate) enum Ambient {
    /// A test capture (the spans are exported too, if `init` ran).
    Capture(Arc<CaptureSink>),
    /// An instance made the default: its pipeline instead of the process's.
    Instance(Arc<Instance>),
}

thread_local! {
    /// What roots opened on this thread report to.
    static AMBIENT: RefCell<Option<Ambient>> = const { RefCell::new(None) };
}

/// The sink for a root opening on this thread now.
#[inline]
pub(crate) fn sink_for_new_root() -> Sink {
    match ambient() {
        Some(Ambient::Capture(capture)) => Sink::Capture(capture),
        Some(Ambient::Instance(instance)) => Sink::Instance(instance),
        None => Sink::Export,
    }
}

/// This thread's ambient, if any.
pub(crate) fn ambient() -> Option<Ambient> {
    AMBIENT.try_with(|c| c.borrow().clone()).ok().flatten()
}

/// Make `ambient` this thread's; returns the previous one.
pub(crate) fn replace_ambient(ambient: Option<Ambient>) -> Option<Ambient> {
    AMBIENT.try_with(|a| a.replace(ambient)).ok().flatten()
}
