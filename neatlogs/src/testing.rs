//! Capture finished spans in your own tests.
//!
//! A [`Capture`] collects every span of the traces whose root opens on this
//! thread while it is alive — including their children on other tasks and
//! threads that carry the trace's context. Captures in parallel tests do not
//! see each other's spans. Captures work with or without [`init`](crate::init)
//! (without it, no default end-user applies and nothing is exported).
//!
//! ```
//! use neatlogs::testing::Capture;
//!
//! let capture = Capture::start();
//! {
//!     let _root = neatlogs::trace("chat").end_user_id("u_812").enter();
//!     let _tool = neatlogs::span(neatlogs::SpanKind::Tool, "search").enter();
//! }
//! let spans = capture.spans();
//! assert_eq!(spans.len(), 2);
//! assert!(spans.iter().all(|s| s.end_user().unwrap().id().as_str() == "u_812"));
//! ```

use std::marker::PhantomData;
use std::sync::Arc;

use crate::capture::{self, Ambient, CaptureSink};
use crate::global;
use crate::record::SpanRecord;

/// Collects finished spans of traces rooted on this thread while alive. `!Send`.
#[must_use = "spans are captured only while the capture is alive"]
pub struct Capture {
    sink: Arc<CaptureSink>,
    prev: Option<Ambient>,
    _not_send: PhantomData<*const ()>,
}

impl std::fmt::Debug for Capture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Capture")
            .field("spans", &self.sink.len())
            .finish()
    }
}

impl Capture {
    /// Start capturing on this thread.
    pub fn start() -> Capture {
        let sink = Arc::new(CaptureSink::default());
        let prev = capture::replace_ambient(Some(Ambient::Capture(sink.clone())));
        global::scope_started();
        Capture {
            sink,
            prev,
            _not_send: PhantomData,
        }
    }

    /// The spans finished so far, in the order they finished.
    pub fn spans(&self) -> Vec<SpanRecord> {
        self.sink.snapshot()
    }

    /// Remove and return the spans finished so far.
    pub fn take(&self) -> Vec<SpanRecord> {
        self.sink.take()
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        capture::replace_ambient(self.prev.take());
        global::scope_ended();
    }
}

/// Run `f` with a [`Capture`] and return its result and the captured spans.
///
/// ```
/// let ((), spans) = neatlogs::testing::with_capture(|| {
///     let _root = neatlogs::trace("chat").enter();
/// });
/// assert_eq!(spans[0].name(), "chat");
/// ```
pub fn with_capture<R>(f: impl FnOnce() -> R) -> (R, Vec<SpanRecord>) {
    let capture = Capture::start();
    let out = f();
    let spans = capture.take();
    (out, spans)
}
