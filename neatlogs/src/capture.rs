//! The test-capture sink: where the spans of a trace whose root opened
//! under a [`Capture`](crate::testing::Capture) go, in addition to export.
//!
//! A capture is chosen once, when a root opens (from this thread's ambient
//! capture), and travels with the trace; production traces carry
//! [`Sink::Export`](crate::record::Sink::Export) and never look here.

use std::cell::RefCell;
use std::sync::{Arc, Mutex};

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

thread_local! {
    /// The capture that roots opened on this thread report to.
    static AMBIENT: RefCell<Option<Arc<CaptureSink>>> = const { RefCell::new(None) };
}

/// The sink for a root opening on this thread now.
#[inline]
pub(crate) fn sink_for_new_root() -> Sink {
    match ambient() {
        Some(capture) => Sink::Capture(capture),
        None => Sink::Export,
    }
}

/// This thread's capture, if any.
pub(crate) fn ambient() -> Option<Arc<CaptureSink>> {
    AMBIENT.try_with(|c| c.borrow().clone()).ok().flatten()
}

/// Make `capture` this thread's capture; returns the previous one.
pub(crate) fn replace_ambient(capture: Option<Arc<CaptureSink>>) -> Option<Arc<CaptureSink>> {
    AMBIENT.try_with(|a| a.replace(capture)).ok().flatten()
}
