//! This thread's tracing state: the stack of open spans and attached
//! contexts, and the batch of spans that ended here and wait to be handed
//! to the export queue.
//!
//! Both live in one thread-local so that each span operation costs one TLS
//! access and one `RefCell` flag. A span opened while the stack is empty is
//! a trace root; otherwise it is a child of the top frame.
//!
//! When the stack empties (a trace ends here), the batch goes to this
//! thread's stash, and the stash is handed to the export queue once it
//! holds a hand-off's worth of spans ([`LOCAL_BATCH`], or the export batch
//! size if smaller): one queue operation per few traces, not per trace,
//! keeps threads from contending on the queue. The export thread takes
//! what waits in every thread's stash at its timer, a flush and shutdown,
//! so the spans of a thread that has gone quiet are not held.
//!
//! A guard's child span of a trace whose spans all go to the batch is
//! written once: it opens in the batch itself, its frame on the stack
//! pointing there, and ending it writes its end time where it is. The batch
//! then holds spans still open, and only the ended ones are handed off: all
//! of them once the stack is empty, or those that ended, when the batch is
//! full under a long-lived root (the open ones move to its front, and their
//! frames are told).

use std::cell::RefCell;
use std::sync::{Arc, Mutex, PoisonError, Weak};

use crate::global;
use crate::id::SpanId;
use crate::open::OpenSpan;
use crate::record::SpanRecord;
use crate::record::{Remote, Sink, SpanContext, Trace};

/// What the stack holds.
pub(crate) enum Frame {
    /// A span opened on this thread by a guard, or an instrumented future's
    /// span while it is being polled.
    Open(OpenSpan),
    /// A guard's child span, open where it will stay once ended: in this
    /// thread's batch (`Local::ended`), at this index. Only for a trace
    /// whose spans all go to that batch (recorded, no tail keep, reporting
    /// to the process's pipeline or a test capture).
    Buffered(usize),
    /// A [`Context`](crate::Context) attached here: its span lives on
    /// another thread or task.
    Attached(SpanContext),
    /// A caller's position in another process, attached here: the next
    /// span opened is a root that continues the caller's trace.
    Remote(Arc<Remote>),
}

/// A position in a trace, borrowed from this thread's state: what
/// [`with_current`] shows.
pub(crate) struct Current<'a> {
    pub(crate) trace: &'a Arc<Trace>,
    pub(crate) span_id: SpanId,
}

impl Current<'_> {
    /// The position, owned (one more reference to the trace).
    #[inline]
    fn context(&self) -> SpanContext {
        SpanContext {
            trace: self.trace.clone(),
            span_id: self.span_id,
        }
    }
}

/// The span `frame` stands for when it is open on this thread: on the stack,
/// or in the batch (`ended`).
#[inline]
fn open_span<'a>(ended: &'a [SpanRecord], frame: &'a Frame) -> Option<&'a OpenSpan> {
    match frame {
        Frame::Open(span) => Some(span),
        Frame::Buffered(at) => ended.get(*at),
        Frame::Attached(_) | Frame::Remote(_) => None,
    }
}

/// [`open_span`], to record on.
#[inline]
fn open_span_mut<'a>(
    ended: &'a mut [SpanRecord],
    frame: &'a mut Frame,
) -> Option<&'a mut OpenSpan> {
    match frame {
        Frame::Open(span) => Some(span),
        Frame::Buffered(at) => ended.get_mut(*at),
        Frame::Attached(_) | Frame::Remote(_) => None,
    }
}

/// The innermost frame, as [`with_top`] shows it (to the `tracing` layer).
#[cfg_attr(not(feature = "tracing"), allow(dead_code))]
pub(crate) enum Top<'a> {
    /// A span open on this thread (on the stack or in the batch).
    Open(&'a mut OpenSpan),
    /// A context attached here: its span is elsewhere.
    Attached(SpanId),
    /// A remote caller's position, or nothing.
    None,
}

pub(crate) struct Slot {
    /// Identifies the frame for its owner (a guard may be dropped out of order).
    token: u64,
    pub(crate) frame: Frame,
}

/// How many ended spans a thread keeps before handing them to the export
/// queue even though its stack is not empty (a long-lived root).
pub(crate) const LOCAL_BATCH: usize = 64;

/// A thread's finished traces' spans, waiting for a hand-off's worth: see
/// the module's documentation.
#[derive(Default)]
struct Stash(Mutex<Vec<SpanRecord>>);

impl Stash {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<SpanRecord>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Every thread's stash, for the export thread to take from (a thread's
/// stash is handed off when it exits, and its entry goes at the next take).
static STASHES: Mutex<Vec<Weak<Stash>>> = Mutex::new(Vec::new());

/// A new stash for this thread, known to the export thread.
#[cold]
fn new_stash() -> Arc<Stash> {
    let stash = Arc::new(Stash::default());
    STASHES
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(Arc::downgrade(&stash));
    stash
}

/// Take what waits in every thread's stash, giving each non-empty one to
/// `each` (the export thread, at its timer, a flush and shutdown).
pub(crate) fn take_stashed(mut each: impl FnMut(Vec<SpanRecord>)) {
    let mut stashes = STASHES.lock().unwrap_or_else(PoisonError::into_inner);
    stashes.retain(|stash| {
        let Some(stash) = stash.upgrade() else {
            return false;
        };
        let spans = std::mem::take(&mut *stash.lock());
        if !spans.is_empty() {
            each(spans);
        }
        true
    });
}

pub(crate) struct Local {
    stack: Vec<Slot>,
    /// Ended spans (and the guards' child spans still open, see the
    /// module's documentation), moved to the stash when the stack empties
    /// (a root ends, or a poll of an instrumented future returns), or
    /// those that ended handed to the export queue after [`LOCAL_BATCH`]
    /// spans under a long-lived root.
    ended: Vec<SpanRecord>,
    next_token: u64,
    /// Set on the export thread: spans opened there are never recorded.
    suppressed: bool,
    /// Where finished traces' spans wait for a hand-off's worth (made at
    /// the first).
    stash: Option<Arc<Stash>>,
}

impl Local {
    const fn new() -> Self {
        Local {
            stack: Vec::new(),
            ended: Vec::new(),
            next_token: 1,
            suppressed: false,
            stash: None,
        }
    }

    /// Remove the frame with `token`, wherever it is on the stack.
    #[inline]
    fn remove(&mut self, token: u64) -> Option<Frame> {
        if self.stack.last().is_some_and(|s| s.token == token) {
            return self.stack.pop().map(|s| s.frame);
        }
        let idx = self.stack.iter().rposition(|s| s.token == token)?;
        Some(self.stack.remove(idx).frame)
    }

    /// The open span with `token`.
    pub(crate) fn open_mut(&mut self, token: u64) -> Option<&mut OpenSpan> {
        let slot = self.stack.iter_mut().rev().find(|s| s.token == token)?;
        open_span_mut(&mut self.ended, &mut slot.frame)
    }

    /// The innermost frame, if it is a span open on this thread.
    pub(crate) fn top_open_mut(&mut self) -> Option<&mut OpenSpan> {
        open_span_mut(&mut self.ended, &mut self.stack.last_mut()?.frame)
    }

    /// The local span `frame` stands for; `None` for a remote caller.
    #[inline]
    fn current<'a>(&'a self, frame: &'a Frame) -> Option<Current<'a>> {
        let (trace, span_id) = match frame {
            Frame::Attached(cx) => (&cx.trace, cx.span_id),
            _ => {
                let span = open_span(&self.ended, frame)?;
                (&span.trace, span.span_id)
            }
        };
        Some(Current { trace, span_id })
    }

    /// Push a guard's child span: into the batch, where it stays once
    /// ended, when its trace's spans all go there; else onto the stack.
    #[inline(always)]
    fn push_child(&mut self, token: u64, span: OpenSpan) {
        let frame = if goes_to_batch(&span.trace) {
            let at = self.ended.len();
            self.ended.push(span);
            Frame::Buffered(at)
        } else {
            Frame::Open(span)
        };
        self.stack.push(Slot { token, frame });
    }

    /// End a frame taken off the stack: a span is ended into the batch (or
    /// wherever its trace sends it); any other frame simply goes.
    #[inline(always)]
    fn end_frame(&mut self, frame: Frame) {
        match frame {
            Frame::Open(span) => self.take_ended(span.end()),
            Frame::Buffered(at) => self.end_buffered(at),
            Frame::Attached(_) | Frame::Remote(_) => {}
        }
    }

    /// End the span open in the batch at `at`, where it is: its end time,
    /// then its route (usage counted, a test capture's copy), which for a
    /// trace whose spans all go to the batch leaves it there.
    #[inline(always)]
    fn end_buffered(&mut self, at: usize) {
        if let Some(record) = self.ended.get_mut(at) {
            record.end_here();
            route(record);
        }
    }

    /// Take an ended span: to its trace's sink now, and into this thread's
    /// batch if it is exported.
    #[inline(always)]
    pub(crate) fn take_ended(&mut self, record: SpanRecord) {
        match route(&record) {
            Next::Pipeline if global::exporting() => self.ended.push(record),
            Next::Instance => to_instance(record),
            Next::Tail => self.take_held(record),
            Next::Pipeline | Next::Nowhere => {}
        }
    }

    /// A span of a trace held for tail keep: held, or released with the
    /// rest of its trace when the trace is kept.
    #[cold]
    #[inline(never)]
    fn take_held(&mut self, record: SpanRecord) {
        for record in crate::tail::take(record) {
            match &record.trace.sink {
                Sink::Instance(_) => to_instance(record),
                _ if global::exporting() => self.ended.push(record),
                _ => {}
            }
        }
    }

    /// Stash the ended spans if the stack is empty (then every span in the
    /// batch has ended), or hand off those that ended if the batch is full.
    #[inline]
    fn maybe_hand_off(&mut self) {
        if self.ended.is_empty() {
            return;
        }
        if self.stack.is_empty() {
            self.stash_ended();
        } else if self.ended.len() >= LOCAL_BATCH {
            self.hand_off_ended();
        }
    }

    /// Move the batch, every span of it ended, to this thread's stash, and
    /// hand the stash off once it holds a hand-off's worth.
    #[inline(never)]
    fn stash_ended(&mut self) {
        self.stash_and_hand_off_at(global::hand_off_at());
    }

    /// Hand off the batch (every span of it ended) and the stash now.
    fn hand_off(&mut self) {
        let stashed = self.stash.as_ref().is_some_and(|s| !s.lock().is_empty());
        if stashed || !self.ended.is_empty() {
            self.stash_and_hand_off_at(1);
        }
    }

    /// Append the batch to the stash, and hand the stash off once it holds
    /// `at` spans.
    ///
    /// The stash's buffer is a hand-off buffer (a spare when there is one):
    /// it is handed off before it would have to grow, so that buffers keep
    /// one size and go round.
    fn stash_and_hand_off_at(&mut self, at: usize) {
        let stash = self.stash.get_or_insert_with(new_stash);
        let mut stashed = stash.lock();
        if !stashed.is_empty() && stashed.len() + self.ended.len() > at.max(stashed.capacity()) {
            global::hand_off(&mut stashed);
        }
        if stashed.capacity() == 0 {
            *stashed = global::spare_buffer();
        }
        stashed.append(&mut self.ended);
        if stashed.len() >= at {
            global::hand_off(&mut stashed);
        }
    }

    /// Hand off the spans of the batch that have ended, keeping those still
    /// open there (their frames are told where they moved).
    #[cold]
    #[inline(never)]
    fn hand_off_ended(&mut self) {
        if self.stack.is_empty() {
            // Every span of the batch has ended: handed off with the stash,
            // in exchange for a spare buffer, as a full stash is.
            self.hand_off();
        } else if let Some(ended) = self.take_ended_only() {
            global::enqueue(ended);
        }
    }

    /// Take the spans of the batch that have ended, leaving those still open
    /// (the frames of the stack that point into the batch) at the front, in
    /// order; `None` when none has ended.
    fn take_ended_only(&mut self) -> Option<Vec<SpanRecord>> {
        let mut open: Vec<usize> = self
            .stack
            .iter()
            .filter_map(|s| match s.frame {
                Frame::Buffered(at) => Some(at),
                _ => None,
            })
            .collect();
        if open.is_empty() {
            // (An empty batch keeps its buffer.)
            return (!self.ended.is_empty()).then(|| std::mem::take(&mut self.ended));
        }
        open.sort_unstable();
        open.dedup();
        if self.ended.len() <= open.len() {
            return None;
        }
        let mut kept = Vec::with_capacity(open.len().max(LOCAL_BATCH));
        let mut ended = Vec::with_capacity(self.ended.len() - open.len());
        for (at, record) in std::mem::take(&mut self.ended).into_iter().enumerate() {
            if open.binary_search(&at).is_ok() {
                kept.push(record);
            } else {
                ended.push(record);
            }
        }
        for slot in &mut self.stack {
            if let Frame::Buffered(at) = &mut slot.frame {
                // Its new place: how many open spans were before it.
                *at = open.partition_point(|&o| o < *at);
            }
        }
        self.ended = kept;
        Some(ended)
    }
}

impl Drop for Local {
    fn drop(&mut self) {
        // A thread that exits with spans still buffered hands off those that
        // ended (a span still open here was never ended: it is not sent).
        if let Some(ended) = self.take_ended_only() {
            global::enqueue(ended);
        }
        if let Some(stash) = self.stash.take() {
            global::enqueue(std::mem::take(&mut *stash.lock()));
        }
    }
}

thread_local! {
    static LOCAL: RefCell<Local> = const { RefCell::new(Local::new()) };
}

/// Run `f` on this thread's state; `None` during thread teardown or
/// re-entry (a span opened from inside `with_current_span`).
#[inline]
pub(crate) fn with<R>(f: impl FnOnce(&mut Local) -> R) -> Option<R> {
    LOCAL
        .try_with(|l| l.try_borrow_mut().ok().map(|mut l| f(&mut l)))
        .ok()
        .flatten()
}

/// The current position: the top frame's trace and span.
#[inline]
pub(crate) fn with_current<R>(f: impl FnOnce(Current<'_>) -> R) -> Option<R> {
    LOCAL
        .try_with(|l| {
            l.try_borrow().ok().and_then(|l| {
                let top = l.stack.last()?;
                l.current(&top.frame).map(f)
            })
        })
        .ok()
        .flatten()
}

/// Run `f` on this thread's innermost frame; `None` when the stack is out
/// of reach.
pub(crate) fn with_top<R>(f: impl FnOnce(Top<'_>) -> R) -> Option<R> {
    with(|l| {
        let top = match l.stack.last_mut().map(|s| &mut s.frame) {
            Some(Frame::Attached(cx)) => Top::Attached(cx.span_id),
            Some(frame) => open_span_mut(&mut l.ended, frame).map_or(Top::None, Top::Open),
            None => Top::None,
        };
        f(top)
    })
}

/// Where a new span goes.
pub(crate) enum Parent {
    /// No span is current: a new trace root.
    Root,
    /// Under the current frame.
    Child(SpanContext),
    /// A new trace root that continues a caller's trace from another
    /// process.
    Remote(Arc<Remote>),
    /// The stack could not be read (thread teardown, or a span opened from
    /// inside [`with_current_span`](crate::with_current_span)), or this is
    /// the export thread. Such a span is not recorded rather than risk
    /// recording it under the wrong trace.
    Unknown,
}

#[inline]
pub(crate) fn parent() -> Parent {
    LOCAL
        .try_with(|l| match l.try_borrow() {
            Ok(l) if l.suppressed => Parent::Unknown,
            Ok(l) => match l.stack.last().map(|s| &s.frame) {
                Some(Frame::Remote(remote)) => Parent::Remote(remote.clone()),
                Some(frame) => l
                    .current(frame)
                    .map_or(Parent::Unknown, |c| Parent::Child(c.context())),
                None => Parent::Root,
            },
            Err(_) => Parent::Unknown,
        })
        .unwrap_or(Parent::Unknown)
}

/// [`parent`], for a span of a kind that `counts_usage` or not: `None` when
/// the current frame is in a trace that is not recorded and the span would
/// not be opened there (its trace's `Arc` is not even cloned).
#[inline]
pub(crate) fn parent_unless_dropped(counts_usage: bool) -> Option<Parent> {
    LOCAL
        .try_with(|l| match l.try_borrow() {
            Ok(l) if l.suppressed => Some(Parent::Unknown),
            Ok(l) => match l.stack.last().map(|s| &s.frame) {
                Some(Frame::Remote(remote)) => Some(Parent::Remote(remote.clone())),
                Some(frame) => match l.current(frame) {
                    Some(c) if c.trace.sampled || counts_usage => Some(Parent::Child(c.context())),
                    Some(_) => None,
                    None => Some(Parent::Unknown),
                },
                None => Some(Parent::Root),
            },
            Err(_) => Some(Parent::Unknown),
        })
        .unwrap_or(Some(Parent::Unknown))
}

/// Push a frame made by `make` on this thread's stack, building it in
/// place (a frame is about a hundred bytes; copying it between closures was
/// a fifth of a span's cost). `Err(make)` when the stack is out of reach
/// (re-entry from `with_current_span`, thread teardown).
#[inline(always)]
pub(crate) fn push_with<M: FnOnce() -> Frame>(make: M) -> Result<u64, M> {
    push_by(make, |l, token, frame| l.stack.push(Slot { token, frame }))
}

/// Open a guard's child span made by `make`: in this thread's batch, where
/// it stays once ended, when its trace's spans all go there, else on the
/// stack. Its token; `Err(make)` as [`push_with`].
#[inline(always)]
pub(crate) fn push_child<M: FnOnce() -> OpenSpan>(make: M) -> Result<u64, M> {
    push_by(make, Local::push_child)
}

/// A new token, and what `make` makes given to `place` with it, on this
/// thread's state; `Err(make)` when the state is out of reach.
#[inline(always)]
fn push_by<T, M: FnOnce() -> T>(make: M, place: impl FnOnce(&mut Local, u64, T)) -> Result<u64, M> {
    let mut make = Some(make);
    let token = LOCAL
        .try_with(|cell| {
            let mut l = cell.try_borrow_mut().ok()?;
            let make = make.take()?;
            let token = l.next_token;
            l.next_token = token.wrapping_add(1).max(1);
            place(&mut l, token, make());
            Some(token)
        })
        .ok()
        .flatten();
    match (token, make) {
        (Some(token), _) => Ok(token),
        (None, Some(make)) => Err(make),
        // The closure was taken but the push did not happen: unreachable,
        // and harmless (the span is simply not recorded).
        (None, None) => Ok(0),
    }
}

/// Push a frame; its token, or the frame back when the stack is out of
/// reach (re-entry, thread teardown).
#[inline]
pub(crate) fn push(frame: Frame) -> Result<u64, Box<Frame>> {
    push_with(move || frame).map_err(|make| Box::new(make()))
}

/// Remove the frame with `token` and give it back (an instrumented future
/// keeps its span between polls; an attached context ends). Ended spans are
/// handed off if the stack is now empty.
#[inline]
pub(crate) fn pop(token: u64) -> Option<Frame> {
    with(|l| {
        let frame = l.remove(token);
        l.maybe_hand_off();
        frame
    })
    .flatten()
}

/// Remove the frame with `token` and end its span (if it is one).
#[inline(never)]
pub(crate) fn pop_and_end(token: u64) {
    with(|l| {
        // The common case, a guard dropped in order, ends the span straight
        // from the top of the stack (or where it is in the batch).
        if l.stack.last().is_some_and(|s| s.token == token) {
            if let Some(slot) = l.stack.pop() {
                l.end_frame(slot.frame);
            }
        } else if let Some(frame) = l.remove(token) {
            l.end_frame(frame);
        }
        l.maybe_hand_off();
    });
}

/// End a span that is not on the stack (an instrumented future completing
/// or dropped). If this thread's state is out of reach (thread teardown),
/// the span goes to the queue alone.
pub(crate) fn end_detached(span: OpenSpan) {
    let mut slot = Some(span);
    with(|l| {
        if let Some(span) = slot.take() {
            l.take_ended(span.end());
            l.maybe_hand_off();
        }
    });
    if let Some(span) = slot {
        let record = span.end();
        match route(&record) {
            Next::Pipeline => global::enqueue(vec![record]),
            Next::Instance => to_instance(record),
            Next::Tail => {
                for record in crate::tail::take(record) {
                    match &record.trace.sink {
                        Sink::Instance(_) => to_instance(record),
                        _ => global::enqueue(vec![record]),
                    }
                }
            }
            Next::Nowhere => {}
        }
    }
}

/// Where an ended span goes next.
enum Next {
    /// The process's pipeline (if `init` ran).
    Pipeline,
    /// Its trace's [`Neatlogs`](crate::Neatlogs) instance, alone.
    Instance,
    /// Nowhere: its trace is not sampled.
    Nowhere,
    /// Its trace's tail keep, which holds it until the trace is decided.
    Tail,
}

/// Where an ended span goes, decided by its trace; a test capture takes its
/// copy here, and the span goes on. An LLM call adds to its destination's
/// usage here, whether its trace is sampled or not.
#[inline(always)]
fn route(record: &SpanRecord) -> Next {
    if record.kind.counts_usage() || record.details.as_ref().is_some_and(|d| d.llm.is_some()) {
        count_usage(record);
    }
    if !record.trace.sampled {
        return Next::Nowhere;
    }
    if record.trace.tail.is_some() {
        return Next::Tail;
    }
    match &record.trace.sink {
        Sink::Export => Next::Pipeline,
        Sink::Capture(capture) => {
            capture.push(record);
            Next::Pipeline
        }
        Sink::Instance(_) => Next::Instance,
    }
}

/// Add an LLM call to the usage of the instance its trace reports to.
#[cold]
#[inline(never)]
fn count_usage(record: &SpanRecord) {
    match &record.trace.sink {
        Sink::Instance(instance) => instance.usage().add(record),
        Sink::Export | Sink::Capture(_) => {
            if let Some(usage) = global::usage() {
                usage.add(record);
            }
        }
    }
}

/// A span of a trace rooted under a [`Neatlogs`](crate::Neatlogs) instance:
/// to that instance's queue now (not the thread's batch, which goes to the
/// process's pipeline).
#[cold]
fn to_instance(record: SpanRecord) {
    if let Sink::Instance(instance) = &record.trace.sink {
        let instance = instance.clone();
        instance.send(record);
    }
}

/// Never record spans opened on this thread (the export thread).
pub(crate) fn suppress_tracing_on_this_thread() {
    with(|l| l.suppressed = true);
}

/// Hand this thread's ended spans to the export queue now (`flush` does
/// this for the calling thread); spans still open in the batch stay.
pub(crate) fn hand_off_this_thread() {
    with(Local::hand_off_ended);
}

/// Whether every span of `trace` goes to this thread's batch once ended (and
/// may therefore be opened there): the trace is recorded, has no tail keep,
/// and reports to the process's pipeline or to a test capture (which takes
/// its copy as each span ends).
#[inline(always)]
fn goes_to_batch(trace: &Trace) -> bool {
    trace.sampled && trace.tail.is_none() && matches!(trace.sink, Sink::Export | Sink::Capture(_))
}
