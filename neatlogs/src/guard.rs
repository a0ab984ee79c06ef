//! Handles on an open span in sync code: the [`SpanGuard`] returned by
//! `enter()`, and [`ActiveSpan`], the innermost span reached from code that
//! did not open it.
//!
//! Both record through [`SpanHandle`](crate::SpanHandle).

use std::fmt;
use std::marker::PhantomData;

use crate::handle::{sealed::Holder, SpanHandle};
use crate::local;
use crate::open::OpenSpan;

/// An open span on this thread; the span ends when the guard drops (with
/// status ERROR if the thread is unwinding from a panic).
///
/// `!Send` by design: holding it across `.await` in a spawned future is a
/// compile error, which is what keeps spans from leaking onto whichever thread
/// happens to poll next.
///
/// ```compile_fail
/// fn spawn<F: std::future::Future + Send + 'static>(_: F) {}
/// async fn work() {}
/// spawn(async {
///     let _guard = neatlogs::trace("chat").enter();
///     work().await; // the guard lives across this await: not Send
/// });
/// ```
///
/// Use [`SpanBuilder::instrument`](crate::SpanBuilder::instrument) instead:
///
/// ```
/// fn spawn<F: std::future::Future + Send + 'static>(_: F) {}
/// async fn work() {}
/// spawn(neatlogs::trace("chat").instrument(async { work().await }));
/// ```
#[must_use = "the span ends as soon as the guard is dropped"]
pub struct SpanGuard {
    /// The frame's token on this thread's stack; 0 when nothing was pushed.
    token: u64,
    /// Whether the frame is a span being recorded (not the context of a
    /// trace the sampler dropped).
    recording: bool,
    _not_send: PhantomData<*const ()>,
}

impl fmt::Debug for SpanGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpanGuard")
            .field("recording", &self.is_recording())
            .finish()
    }
}

impl SpanGuard {
    #[inline(always)]
    pub(crate) fn new(token: u64) -> SpanGuard {
        SpanGuard {
            token,
            recording: token != 0,
            _not_send: PhantomData,
        }
    }

    /// The root of a trace that is not recorded: its frame keeps the
    /// trace's context current until the guard drops.
    #[inline(always)]
    pub(crate) fn unrecorded(token: u64) -> SpanGuard {
        SpanGuard {
            token,
            recording: false,
            _not_send: PhantomData,
        }
    }

    #[inline(always)]
    pub(crate) fn disabled() -> SpanGuard {
        SpanGuard::new(0)
    }
}

impl SpanGuard {
    /// [`Holder::with_open`] through a shared reference (the span lives on
    /// this thread's stack, not in the guard): for generated code that holds
    /// `&SpanGuard`.
    pub(crate) fn with_open_shared(&self, f: impl FnOnce(&mut OpenSpan)) {
        if self.recording {
            local::with(|l| l.open_mut(self.token).map(f));
        }
    }
}

impl Holder for SpanGuard {
    fn holds_span(&self) -> bool {
        // An LLM call of a trace that is not sampled is open (for its
        // usage) but not recorded.
        self.recording
            && local::with(|l| l.open_mut(self.token).map(|s| s.trace.sampled))
                .flatten()
                .unwrap_or(false)
    }

    fn with_open(&mut self, f: impl FnOnce(&mut OpenSpan)) {
        self.with_open_shared(f);
    }
}

impl SpanHandle for SpanGuard {}

impl Drop for SpanGuard {
    #[inline(always)]
    fn drop(&mut self) {
        if self.token != 0 {
            local::pop_and_end(self.token);
        }
    }
}

/// The innermost span being recorded on this thread, for code that did not
/// open it (a helper deep inside an instrumented future, a macro-generated
/// function body). Made by [`with_current_span`].
pub struct ActiveSpan<'a> {
    open: &'a mut OpenSpan,
}

impl fmt::Debug for ActiveSpan<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ActiveSpan")
            .field("name", &self.open.name)
            .finish_non_exhaustive()
    }
}

impl Holder for ActiveSpan<'_> {
    /// Whether its trace is recorded (an instrumented root the sampler
    /// dropped is current while it is polled, and records nothing).
    fn holds_span(&self) -> bool {
        self.open.trace.sampled
    }

    fn with_open(&mut self, f: impl FnOnce(&mut OpenSpan)) {
        f(self.open);
    }
}

impl SpanHandle for ActiveSpan<'_> {}

impl ActiveSpan<'_> {
    /// The span's name.
    pub fn name(&self) -> &str {
        self.open.name.as_str()
    }
}

/// Run `f` on the innermost span being recorded on this thread. Returns
/// `None` outside a span (or when tracing is off).
///
/// Do not open spans inside `f`: they would not be recorded.
///
/// ```
/// use neatlogs::SpanHandle;
/// # neatlogs::testing::with_capture(|| {
/// let _llm = neatlogs::span(neatlogs::SpanKind::Llm, "completion").enter();
/// neatlogs::with_current_span(|s| s.set_usage(neatlogs::llm::Usage::new(120, 48)));
/// # });
/// ```
pub fn with_current_span<R>(f: impl FnOnce(&mut ActiveSpan<'_>) -> R) -> Option<R> {
    local::with(|l| {
        let open = l.top_open_mut()?;
        Some(f(&mut ActiveSpan { open }))
    })
    .flatten()
}
