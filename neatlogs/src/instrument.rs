//! A span around a future: entered on every poll, on any executor.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use crate::local::{self, Frame};
use crate::open::OpenSpan;
use crate::record::Status;

pin_project_lite::pin_project! {
    /// A future running inside a span: entered on every poll, ended when the
    /// future completes or is dropped. Made by
    /// [`SpanBuilder::instrument`](crate::SpanBuilder::instrument).
    ///
    /// `Send` when the inner future is. Before the first poll, the span can
    /// be given attributes with the same methods as a
    /// [`SpanGuard`](crate::SpanGuard); inside the future, use
    /// [`with_current_span`](crate::with_current_span).
    ///
    /// ```
    /// # neatlogs::testing::with_capture(|| {
    /// let mut fut = neatlogs::span(neatlogs::SpanKind::Llm, "completion")
    ///     .instrument(async { 42 });
    /// fut.set_model("gpt-4o");
    /// # drop(fut);
    /// # });
    /// ```
    #[must_use = "futures do nothing unless polled"]
    pub struct Instrumented<F> {
        #[pin]
        inner: F,
        span: Option<OpenSpan>,
    }

    impl<F> PinnedDrop for Instrumented<F> {
        fn drop(this: Pin<&mut Self>) {
            // Dropped before completion: the span still ends, and is exported.
            if let Some(span) = this.project().span.take() {
                local::end_detached(span);
            }
        }
    }
}

impl<F> fmt::Debug for Instrumented<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Instrumented")
            .field("recording", &self.span.is_some())
            .finish_non_exhaustive()
    }
}

impl<F> Instrumented<F> {
    pub(crate) fn new(inner: F, span: Option<OpenSpan>) -> Self {
        Instrumented { inner, span }
    }

    /// Whether this span is being recorded.
    pub fn is_recording(&self) -> bool {
        self.span.is_some()
    }

    fn with_open(&mut self, f: impl FnOnce(&mut OpenSpan)) {
        if let Some(span) = &mut self.span {
            f(span);
        }
    }

    crate::open::recording_methods!(&mut);
}

/// Puts an instrumented future's span back into the future when a poll ends,
/// including when the poll unwinds.
struct PollScope<'a> {
    slot: &'a mut Option<OpenSpan>,
    token: u64,
}

impl Drop for PollScope<'_> {
    fn drop(&mut self) {
        if let Some(Frame::Open(mut span)) = local::pop(self.token) {
            if std::thread::panicking() {
                span.set_status(Status::Error(Cow::Borrowed("panicked")));
            }
            *self.slot = Some(span);
        }
    }
}

impl<F: Future> Future for Instrumented<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<F::Output> {
        let this = self.project();
        let Some(span) = this.span.take() else {
            return this.inner.poll(cx);
        };
        let token = match local::push(Frame::Open(span)) {
            Ok(token) => token,
            Err(frame) => {
                // The stack is unreachable: poll outside the span rather than fail.
                if let Frame::Open(span) = *frame {
                    *this.span = Some(span);
                }
                return this.inner.poll(cx);
            }
        };
        let out = {
            let _scope = PollScope {
                slot: &mut *this.span,
                token,
            };
            this.inner.poll(cx)
        };
        if out.is_ready() {
            if let Some(span) = this.span.take() {
                local::end_detached(span);
            }
        }
        out
    }
}
