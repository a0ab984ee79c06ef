//! The current trace, per thread, and how it travels to other tasks and threads.
//!
//! Each thread keeps a stack of frames. A frame is a cheap handle (an `Arc`
//! to the trace's shared state plus a span id) and, for a span that is being
//! recorded, the span's in-flight data. A span opened while the stack is
//! empty is a trace root; otherwise it is a child of the top frame.
//!
//! Futures carry their span by entering it on every `poll` (see
//! [`Instrumented`](crate::Instrumented) and [`FutureExt`]), and threads carry it
//! by [`Context::current`] + [`Context::attach`].

use std::cell::RefCell;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context as TaskContext, Poll};

use crate::id::{SpanId, TraceId};
use crate::identity::EndUser;
use crate::record::SpanRecord;
use crate::runtime;
use crate::session::SessionId;
use crate::span;

/// State shared by every span of one trace, resolved once when the root opens.
#[derive(Debug)]
pub(crate) struct TraceShared {
    pub(crate) trace_id: TraceId,
    pub(crate) root_span_id: SpanId,
    pub(crate) end_user: Option<EndUser>,
    pub(crate) session: Option<SessionId>,
    pub(crate) tags: Vec<String>,
    pub(crate) capture: Option<Arc<CaptureSink>>,
}

/// Where a test capture collects finished spans.
#[derive(Debug, Default)]
pub(crate) struct CaptureSink {
    pub(crate) spans: Mutex<Vec<SpanRecord>>,
}

pub(crate) struct Frame {
    pub(crate) token: u64,
    /// The span: being recorded on this stack (`recording`), or a
    /// placeholder for a context attached from elsewhere (its span lives on
    /// another thread or task; only its trace and id are used). Open spans
    /// are kept as the record they become, so ending one is setting `end`.
    pub(crate) record: SpanRecord,
    pub(crate) recording: bool,
}

/// How many finished spans a thread keeps before handing them to the export
/// queue even though its stack is not empty (a long-lived root).
const LOCAL_BATCH: usize = 64;

/// Everything a thread keeps: one thread-local, so each span operation costs
/// one TLS access and one `RefCell` flag.
pub(crate) struct Local {
    pub(crate) stack: Vec<Frame>,
    /// Finished spans waiting to be handed to the export queue as one batch:
    /// when the stack empties (a root ends, or a poll of an instrumented
    /// future returns), or after [`LOCAL_BATCH`] spans. One queue operation
    /// per trace instead of one per span is what keeps producers on
    /// different threads from contending.
    pub(crate) finished: Vec<SpanRecord>,
    next_token: u64,
    /// Set on the export thread: spans opened there are never recorded.
    suppressed: bool,
}

impl Local {
    const fn new() -> Self {
        Local {
            stack: Vec::new(),
            finished: Vec::new(),
            next_token: 1,
            suppressed: false,
        }
    }

    fn next_token(&mut self) -> u64 {
        let v = self.next_token;
        self.next_token = v.wrapping_add(1).max(1);
        v
    }

    /// Hand the finished spans to the export queue if the stack is empty or
    /// the local batch is full.
    #[inline]
    pub(crate) fn maybe_hand_off(&mut self) {
        if !self.finished.is_empty()
            && (self.stack.is_empty() || self.finished.len() >= LOCAL_BATCH)
        {
            self.hand_off();
        }
    }

    pub(crate) fn hand_off(&mut self) {
        let batch = std::mem::replace(&mut self.finished, Vec::with_capacity(16));
        runtime::enqueue(batch);
    }
}

impl Drop for Local {
    fn drop(&mut self) {
        // A thread that exits with spans still buffered hands them off.
        if !self.finished.is_empty() {
            let batch = std::mem::take(&mut self.finished);
            runtime::enqueue(batch);
        }
    }
}

thread_local! {
    pub(crate) static LOCAL: RefCell<Local> = const { RefCell::new(Local::new()) };
    /// A test capture that new roots opened on this thread report to.
    pub(crate) static AMBIENT_CAPTURE: RefCell<Option<Arc<CaptureSink>>> = const { RefCell::new(None) };
}

/// Run `f` on this thread's state; `None` during thread teardown or
/// re-entry (a span opened from inside `with_current_span`).
#[inline]
pub(crate) fn with_local<R>(f: impl FnOnce(&mut Local) -> R) -> Option<R> {
    LOCAL
        .try_with(|l| l.try_borrow_mut().ok().map(|mut l| f(&mut l)))
        .ok()
        .flatten()
}

/// Read-only access to the current frame.
#[inline]
fn with_top<R>(f: impl FnOnce(&Frame) -> Option<R>) -> Option<R> {
    LOCAL
        .try_with(|l| l.try_borrow().ok().and_then(|l| l.stack.last().and_then(f)))
        .ok()
        .flatten()
}

/// Never record spans opened on this thread (the export thread).
pub(crate) fn suppress_tracing_on_this_thread() {
    with_local(|l| l.suppressed = true);
}

/// Hand this thread's buffered spans to the export queue now (`flush` does
/// this for the calling thread).
pub(crate) fn hand_off_this_thread() {
    with_local(|l| {
        if !l.finished.is_empty() {
            l.hand_off();
        }
    });
}

/// Push a frame; returns its token, or the record back when the stack is
/// borrowed (re-entry from `with_current_span`). During thread teardown the
/// record is dropped: the thread's spans are being handed off already.
#[inline]
pub(crate) fn push(record: SpanRecord, recording: bool) -> Result<u64, Box<SpanRecord>> {
    LOCAL
        .try_with(move |cell| match cell.try_borrow_mut() {
            Ok(mut l) => {
                let token = l.next_token();
                l.stack.push(Frame {
                    token,
                    record,
                    recording,
                });
                Ok(token)
            }
            // Boxed: this path is rare, and a large `Err` would make every
            // `Ok` return as large.
            Err(_) => Err(Box::new(record)),
        })
        .unwrap_or(Ok(0))
}

/// Remove the frame with `token`, wherever it is on the stack: guards may be
/// dropped out of order, and a frame must never outlive its owner.
pub(crate) fn remove(l: &mut Local, token: u64) -> Option<Frame> {
    if l.stack.last().is_some_and(|f| f.token == token) {
        return l.stack.pop();
    }
    let idx = l.stack.iter().rposition(|f| f.token == token)?;
    Some(l.stack.remove(idx))
}

/// Remove the frame with `token` and end its span (if it records one).
#[inline(never)]
pub(crate) fn pop_and_finish(token: u64) {
    with_local(|l| {
        if let Some(frame) = remove(l, token) {
            if frame.recording {
                span::finish_into(frame.record, l);
            }
            l.maybe_hand_off();
        }
    });
}

/// Remove the frame with `token` and give it back (an instrumented future
/// keeps its span between polls). Buffered spans are handed off if the
/// stack is now empty.
pub(crate) fn pop(token: u64) -> Option<Frame> {
    with_local(|l| {
        let frame = remove(l, token);
        l.maybe_hand_off();
        frame
    })
    .flatten()
}

/// Where a new span goes: under the current frame, or a new root.
pub(crate) enum Parent {
    Root,
    Child(Arc<TraceShared>, SpanId),
    /// The stack could not be read (thread teardown, or a span opened from
    /// inside [`with_current_span`](crate::with_current_span)). Such a span is
    /// not recorded rather than risk recording it under the wrong trace.
    /// Also every span opened on the export thread.
    Unknown,
}

#[inline]
pub(crate) fn current_parent() -> Parent {
    LOCAL
        .try_with(|l| match l.try_borrow() {
            Ok(l) if l.suppressed => Parent::Unknown,
            Ok(l) => match l.stack.last() {
                Some(f) => Parent::Child(f.record.trace.clone(), f.record.span_id),
                None => Parent::Root,
            },
            Err(_) => Parent::Unknown,
        })
        .unwrap_or(Parent::Unknown)
}

pub(crate) fn ambient_capture() -> Option<Arc<CaptureSink>> {
    AMBIENT_CAPTURE
        .try_with(|c| c.borrow().clone())
        .ok()
        .flatten()
}

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
    with_top(|f| f.record.trace.end_user.clone())
}

/// The session id of the current trace.
pub fn current_session_id() -> Option<String> {
    with_top(|f| f.record.trace.session.as_deref().map(str::to_owned))
}

/// The id of the current trace.
pub fn current_trace_id() -> Option<TraceId> {
    with_top(|f| Some(f.record.trace.trace_id))
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
    at: Option<(Arc<TraceShared>, SpanId)>,
    capture: Option<Arc<CaptureSink>>,
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("trace_id", &self.at.as_ref().map(|(t, _)| t.trace_id))
            .field("span_id", &self.at.as_ref().map(|(_, s)| *s))
            .finish()
    }
}

impl Context {
    /// The current context (empty outside a trace).
    pub fn current() -> Context {
        let at = match current_parent() {
            Parent::Child(t, s) => Some((t, s)),
            _ => None,
        };
        Context {
            at,
            capture: ambient_capture(),
        }
    }

    /// Whether this context is inside a trace.
    pub fn is_in_trace(&self) -> bool {
        self.at.is_some()
    }

    /// The end-user of the trace this context is in.
    pub fn end_user(&self) -> Option<EndUser> {
        self.at.as_ref().and_then(|(t, _)| t.end_user.clone())
    }

    /// Make this context current on this thread until the guard drops.
    #[must_use = "the context is current only while the guard is alive"]
    pub fn attach(&self) -> ContextGuard {
        let prev_capture = match &self.capture {
            Some(c) => AMBIENT_CAPTURE
                .try_with(|a| a.replace(Some(c.clone())))
                .ok(),
            None => None,
        };
        let token = self
            .at
            .as_ref()
            .and_then(|(t, s)| push(SpanRecord::placeholder(t.clone(), *s), false).ok());
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
    prev_capture: Option<Option<Arc<CaptureSink>>>,
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
            pop(token);
        }
        if let Some(prev) = self.prev_capture.take() {
            let _ = AMBIENT_CAPTURE.try_with(|a| *a.borrow_mut() = prev);
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

/// Carry the current trace into futures that run elsewhere (`tokio::spawn`,
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
