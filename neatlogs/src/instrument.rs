//! A span owned by a value: around a future ([`Instrumented`], entered on
//! every poll, on any executor), or held by a stream or a response body
//! ([`Span`], entered for each step with [`Span::in_scope`]).

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use crate::handle::{sealed::Holder, SpanHandle};
use crate::local::{self, Frame};
use crate::open::OpenSpan;
use crate::value::Status;

pin_project_lite::pin_project! {
    /// A future running inside a span: entered on every poll, ended when the
    /// future completes or is dropped. Made by
    /// [`SpanBuilder::instrument`](crate::SpanBuilder::instrument).
    ///
    /// `Send` when the inner future is. Before the first poll, the span can
    /// be given attributes through [`SpanHandle`](crate::SpanHandle); inside
    /// the future, use
    /// [`with_current_span`](crate::with_current_span).
    ///
    /// ```
    /// use neatlogs::SpanHandle;
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
}

impl<F> Holder for Instrumented<F> {
    fn holds_span(&self) -> bool {
        self.span.as_ref().is_some_and(|s| s.trace.sampled)
    }

    fn with_open(&mut self, f: impl FnOnce(&mut OpenSpan)) {
        if let Some(span) = &mut self.span {
            f(span);
        }
    }
}

impl<F> SpanHandle for Instrumented<F> {}

/// Puts a span taken out of its owner back when a scope ends, including
/// when the scope unwinds.
struct Scope<'a> {
    slot: &'a mut Option<OpenSpan>,
    token: u64,
}

impl Drop for Scope<'_> {
    fn drop(&mut self) {
        if let Some(Frame::Open(mut span)) = local::pop(self.token) {
            if std::thread::panicking() {
                span.set_status(Status::Error(Cow::Borrowed("panicked")));
            }
            *self.slot = Some(span);
        }
    }
}

/// Run `f` with the span in `slot` current on this thread, then put it back
/// (even if `f` unwinds). With no span, or with the stack out of reach, `f`
/// runs outside any span rather than fail.
fn scoped<R>(slot: &mut Option<OpenSpan>, f: impl FnOnce() -> R) -> R {
    let Some(span) = slot.take() else {
        return f();
    };
    let token = match local::push(Frame::Open(span)) {
        Ok(token) => token,
        Err(frame) => {
            if let Frame::Open(span) = *frame {
                *slot = Some(span);
            }
            return f();
        }
    };
    let _scope = Scope { slot, token };
    f()
}

impl<F: Future> Future for Instrumented<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<F::Output> {
        let this = self.project();
        let inner = this.inner;
        let out = scoped(this.span, || inner.poll(cx));
        if out.is_ready() {
            if let Some(span) = this.span.take() {
                local::end_detached(span);
            }
        }
        out
    }
}

/// An open span owned by a value rather than a scope: what keeps a span
/// open across the steps of a stream, or until a response body has been
/// sent. Made by [`SpanBuilder::start`](crate::SpanBuilder::start).
///
/// `Send`. Each step runs inside the span with [`in_scope`](Span::in_scope)
/// (spans opened there are its children, and
/// [`current_end_user`](crate::current_end_user) answers its trace's
/// end-user); the span ends when the value is dropped or
/// [`end`](Span::end)ed. It records through [`SpanHandle`](crate::SpanHandle).
///
/// ```
/// use neatlogs::SpanHandle;
/// # neatlogs::testing::with_capture(|| {
/// let mut span = neatlogs::span(neatlogs::SpanKind::Llm, "chat").start();
/// span.set_model("gpt-4o-mini");
/// // For each chunk of a streamed reply:
/// span.in_scope(|| neatlogs::with_current_span(|s| s.record_first_token()));
/// span.end();
/// # });
/// ```
#[must_use = "the span ends as soon as it is dropped"]
pub struct Span {
    open: Option<OpenSpan>,
}

impl fmt::Debug for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Span")
            .field("recording", &self.open.is_some())
            .finish_non_exhaustive()
    }
}

impl Default for Span {
    /// A span that records nothing.
    fn default() -> Self {
        Span::none()
    }
}

impl Span {
    pub(crate) fn new(open: Option<OpenSpan>) -> Span {
        Span { open }
    }

    /// Whether it holds an open span, recorded or not: an LLM call in a
    /// trace the sampler dropped is open so that its usage counts (the
    /// integrations record their facts on it).
    #[cfg_attr(not(feature = "async-openai"), allow(dead_code))]
    pub(crate) fn is_open(&self) -> bool {
        self.open.is_some()
    }

    /// A span that records nothing (what tracing off gives); also
    /// `Span::default()`.
    pub(crate) fn none() -> Span {
        Span { open: None }
    }

    /// Run `f` inside this span, on this thread.
    pub fn in_scope<R>(&mut self, f: impl FnOnce() -> R) -> R {
        scoped(&mut self.open, f)
    }

    /// A [`Context`](crate::Context) at this span, to carry to another task
    /// or thread.
    pub fn context(&self) -> crate::Context {
        crate::Context::at(self.open.as_ref().map(|s| s.context()))
    }

    /// End the span now (dropping it does the same).
    pub fn end(mut self) {
        if let Some(span) = self.open.take() {
            local::end_detached(span);
        }
    }
}

impl Holder for Span {
    fn holds_span(&self) -> bool {
        self.open.as_ref().is_some_and(|s| s.trace.sampled)
    }

    fn with_open(&mut self, f: impl FnOnce(&mut OpenSpan)) {
        if let Some(span) = &mut self.open {
            f(span);
        }
    }
}

impl SpanHandle for Span {}

impl Drop for Span {
    fn drop(&mut self) {
        if let Some(span) = self.open.take() {
            local::end_detached(span);
        }
    }
}
