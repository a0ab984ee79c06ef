//! Carrying the current trace to other tasks and threads, and reading it
//! from any depth.
//!
//! Futures carry their span by entering it on every `poll` (see
//! [`Instrumented`](crate::Instrumented) and [`FutureExt`]), and threads carry
//! it by [`Context::current`] + [`Context::attach`].

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use crate::capture::{self, Ambient};
use crate::id::{SpanId, TraceId};
use crate::identity::EndUser;
use crate::local::{self, Frame, Parent};
use crate::record::{Remote, SpanContext};

/// The end-user of the current trace, from any depth.
///
/// Returns `None` outside a trace, or when the trace has no end-user.
///
/// ```
/// # neatlogs::testing::with_capture(|| {
/// let _root = neatlogs::trace("chat").end_user_id("u_812").enter();
/// let _tool = neatlogs::span(neatlogs::SpanKind::Tool, "search").enter();
/// assert_eq!(neatlogs::current_end_user().unwrap().id().as_str(), "u_812");
/// # });
/// ```
pub fn current_end_user() -> Option<EndUser> {
    local::with_current(|cx| cx.trace.end_user.clone()).flatten()
}

/// The session id of the current trace.
///
/// ```
/// # neatlogs::testing::with_capture(|| {
/// let _root = neatlogs::trace("chat").session_id("s_1").enter();
/// assert_eq!(neatlogs::current_session_id().as_deref(), Some("s_1"));
/// # });
/// ```
pub fn current_session_id() -> Option<String> {
    local::with_current(|cx| cx.trace.session.as_deref().map(str::to_owned)).flatten()
}

/// The id of the current trace.
///
/// ```
/// assert!(neatlogs::current_trace_id().is_none());
/// ```
pub fn current_trace_id() -> Option<TraceId> {
    local::with_current(|cx| cx.trace.trace_id)
}

/// The id of the current span (open here or attached).
///
/// ```
/// assert!(neatlogs::current_span_id().is_none());
/// ```
pub fn current_span_id() -> Option<SpanId> {
    local::with_current(|cx| cx.span_id)
}

/// A captured position in a trace: carry it to another thread or task and
/// [`attach`](Context::attach) it there, and spans opened there join the trace
/// (same end-user, same session) as children of the span that was current.
///
/// `Send + Sync + Clone` and cheap to clone (an `Arc` and an id).
///
/// ```
/// # neatlogs::testing::with_capture(|| {
/// let _root = neatlogs::trace("chat").end_user_id("u_812").enter();
/// let cx = neatlogs::Context::current();
/// std::thread::spawn(move || {
///     let _g = cx.attach();
///     assert_eq!(neatlogs::current_end_user().unwrap().id().as_str(), "u_812");
/// })
/// .join()
/// .unwrap();
/// # });
/// ```
#[derive(Clone, Default)]
pub struct Context {
    at: Option<Position>,
    /// The test capture or instance where this context was taken, so that
    /// a root opened under an attached context reports to the same one.
    capture: Option<Ambient>,
}

/// Where a [`Context`] is.
#[derive(Clone)]
pub(crate) enum Position {
    /// A span of this process.
    Local(SpanContext),
    /// A caller's span in another process (see [`propagation`](crate::propagation)).
    Remote(Arc<Remote>),
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("trace_id", &self.trace_id())
            .field("span_id", &self.span_id())
            .field("remote", &self.is_remote())
            .finish()
    }
}

impl Context {
    /// The current context (empty outside a trace).
    pub fn current() -> Context {
        let at = match local::parent() {
            Parent::Child(cx) => Some(Position::Local(cx)),
            Parent::Remote(remote) => Some(Position::Remote(remote)),
            Parent::Root | Parent::Unknown => None,
        };
        Context {
            at,
            capture: capture::ambient(),
        }
    }

    /// A context at a span of this process (none: an empty context).
    pub(crate) fn at(cx: Option<SpanContext>) -> Context {
        Context {
            at: cx.map(Position::Local),
            capture: None,
        }
    }

    /// A context at a caller's span in another process.
    pub(crate) fn remote(remote: Arc<Remote>) -> Context {
        Context {
            at: Some(Position::Remote(remote)),
            capture: capture::ambient(),
        }
    }

    /// Where this context is, if in a trace.
    pub(crate) fn position(&self) -> Option<&Position> {
        self.at.as_ref()
    }

    /// Whether this context is inside a trace (of this process, or a
    /// caller's read from a request).
    pub fn is_in_trace(&self) -> bool {
        self.at.is_some()
    }

    /// Whether this context is a caller's position in another process, read
    /// by `propagation::extract` (feature `http`): the next
    /// span opened inside it is a root that continues the caller's trace.
    pub fn is_remote(&self) -> bool {
        matches!(self.at, Some(Position::Remote(_)))
    }

    /// The end-user of the trace this context is in. For a caller's
    /// position, the valid end-user it asserted in baggage, when the
    /// application chose to believe it
    /// (`propagation::extract_trusting_end_user`, feature `http`).
    pub fn end_user(&self) -> Option<EndUser> {
        match self.at.as_ref()? {
            Position::Local(cx) => cx.trace.end_user.clone(),
            Position::Remote(remote) => match &remote.end_user {
                Some(crate::identity::IdInput::Valid(id)) => Some(EndUser::new(id.clone(), None)),
                _ => None,
            },
        }
    }

    /// The trace this context is in.
    pub fn trace_id(&self) -> Option<TraceId> {
        match self.at.as_ref()? {
            Position::Local(cx) => Some(cx.trace.trace_id),
            Position::Remote(remote) => Some(remote.trace_id),
        }
    }

    /// The span that was current when this context was taken (the caller's
    /// span, for a caller's position).
    pub fn span_id(&self) -> Option<SpanId> {
        match self.at.as_ref()? {
            Position::Local(cx) => Some(cx.span_id),
            Position::Remote(remote) => Some(remote.span_id),
        }
    }

    /// Make this context current on this thread until the guard drops.
    #[must_use = "the context is current only while the guard is alive"]
    pub fn attach(&self) -> ContextGuard {
        let prev_capture = self
            .capture
            .as_ref()
            .map(|c| capture::replace_ambient(Some(c.clone())));
        let token = self.at.as_ref().and_then(|at| {
            let frame = match at {
                Position::Local(cx) => Frame::Attached(cx.clone()),
                Position::Remote(remote) => Frame::Remote(remote.clone()),
            };
            local::push(frame).ok()
        });
        ContextGuard {
            token,
            prev_capture,
            _not_send: PhantomData,
        }
    }
}

/// Keeps a [`Context`] current; restores the previous one on drop. `!Send`.
#[must_use = "the context is current only while the guard is alive"]
pub struct ContextGuard {
    token: Option<u64>,
    prev_capture: Option<Option<Ambient>>,
    _not_send: PhantomData<*const ()>,
}

impl std::fmt::Debug for ContextGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContextGuard").finish_non_exhaustive()
    }
}

impl Drop for ContextGuard {
    fn drop(&mut self) {
        if let Some(token) = self.token {
            local::pop(token);
        }
        if let Some(prev) = self.prev_capture.take() {
            capture::replace_ambient(prev);
        }
    }
}

pin_project_lite::pin_project! {
    /// A future that runs inside a captured [`Context`] on every poll.
    ///
    /// Made by [`FutureExt::in_current_trace`] and [`FutureExt::with_context`].
    #[derive(Debug)]
    #[must_use = "futures do nothing unless polled"]
    pub struct WithContext<F> {
        #[pin]
        inner: F,
        cx: Context,
    }
}

impl<F: Future> Future for WithContext<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, task: &mut TaskContext<'_>) -> Poll<F::Output> {
        let this = self.project();
        let _g = this.cx.attach();
        this.inner.poll(task)
    }
}

/// Carry the current trace into futures that run elsewhere (`tokio::spawn`;
/// `spawn_blocking` closures use [`Context`] instead).
///
/// A task spawned **without** this wrapper does not inherit the trace: a span
/// it opens starts a new trace, with its own end-user resolution.
///
/// ```
/// use neatlogs::FutureExt;
/// # neatlogs::testing::with_capture(|| {
/// let _root = neatlogs::trace("chat").end_user_id("u_812").enter();
/// let task = async { neatlogs::current_end_user() }.in_current_trace();
/// # drop(task);
/// # });
/// ```
pub trait FutureExt: Future + Sized {
    /// Run this future inside the trace that is current now.
    fn in_current_trace(self) -> WithContext<Self> {
        self.with_context(Context::current())
    }

    /// Run this future inside `cx`.
    fn with_context(self, cx: Context) -> WithContext<Self> {
        WithContext { inner: self, cx }
    }
}

impl<F: Future> FutureExt for F {}
