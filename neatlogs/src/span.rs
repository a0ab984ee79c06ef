//! Opening spans: the builder, the sync guard, the async wrapper.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use crate::context::{self, Local, Parent, TraceShared};
use crate::id::{self, SpanId};
use crate::identity::{self, EndUser, EndUserId, IdInput, IdentityError, IntoEndUserId, Metadata};
use crate::kind::SpanKind;
use crate::record::{now, Instant, SpanRecord, Status, Value};
use crate::runtime;

/// Attribute keys for LLM spans (OpenTelemetry GenAI and OpenInference).
pub mod keys {
    /// The model asked for.
    pub const MODEL: &str = "gen_ai.request.model";
    /// Prompt tokens.
    pub const INPUT_TOKENS: &str = "gen_ai.usage.input_tokens";
    /// Completion tokens.
    pub const OUTPUT_TOKENS: &str = "gen_ai.usage.output_tokens";
    /// The span's input (prompt, tool arguments).
    pub const INPUT: &str = "input.value";
    /// The span's output (completion, tool result).
    pub const OUTPUT: &str = "output.value";
}

/// Stamp the end time, and status ERROR if the thread is unwinding.
#[inline]
fn close(record: &mut SpanRecord) {
    record.end = now();
    if std::thread::panicking() {
        record.status = Status::Error("panicked".into());
    }
}

/// End `record` now, into this thread's batch (and its test capture, at once).
#[inline]
pub(crate) fn finish_into(mut record: SpanRecord, local: &mut Local) {
    close(&mut record);
    if runtime::capture(&record) {
        local.finished.push(record);
    }
}

/// End `record` from outside a frame (an instrumented future completing or
/// dropped); if this thread's state is out of reach (thread teardown),
/// export it alone.
fn finish_detached(record: SpanRecord) {
    let mut slot = Some(record);
    context::with_local(|l| {
        if let Some(record) = slot.take() {
            finish_into(record, l);
            l.maybe_hand_off();
        }
    });
    if let Some(mut record) = slot {
        close(&mut record);
        if runtime::capture(&record) {
            runtime::enqueue(vec![record]);
        }
    }
}

/// Open a trace root named `name` (a [`SpanKind::Workflow`] span), or a child
/// if a span is already current.
///
/// ```
/// # neatlogs::testing::with_capture(|| {
/// let user_id = String::from("u_812");
/// let _root = neatlogs::trace("chat")
///     .end_user_id(&user_id)
///     .end_user_metadata(serde_json::json!({"plan": "pro"}))
///     .session_id("s_1")
///     .enter();
/// # });
/// ```
#[inline(always)]
pub fn trace(name: impl Into<Cow<'static, str>>) -> SpanBuilder {
    SpanBuilder::new(SpanKind::Workflow, name.into())
}

/// Open a span of any kind: a child of the current span, or a trace root if
/// none is current (an LLM call outside any trace becomes its own trace).
///
/// ```
/// # neatlogs::testing::with_capture(|| {
/// let _tool = neatlogs::span(neatlogs::SpanKind::Tool, "search").enter();
/// # });
/// ```
#[inline(always)]
pub fn span(kind: SpanKind, name: impl Into<Cow<'static, str>>) -> SpanBuilder {
    SpanBuilder::new(kind, name.into())
}

/// Configures a span before it opens. Made by [`trace`] and [`span`]; opened
/// by [`enter`](SpanBuilder::enter), [`in_scope`](SpanBuilder::in_scope) or
/// [`instrument`](SpanBuilder::instrument).
///
/// Whether the span is a root or a child is decided when the builder is made,
/// from the span current at that moment. On a child, the identity methods
/// (`end_user_id`, `end_user_metadata`, `session_id`) have no effect: the
/// trace root owns the identity.
#[must_use = "a span opens only when entered, run in scope, or used to instrument a future"]
pub struct SpanBuilder {
    state: BuilderState,
}

enum BuilderState {
    Disabled,
    Enabled(Pending),
}

/// Kept small (a few words): builders are moved through every chained call,
/// and most spans need nothing beyond a name and a parent.
struct Pending {
    name: Cow<'static, str>,
    kind: SpanKind,
    parent: Option<(Arc<TraceShared>, SpanId)>,
    /// Identity and builder attributes, allocated only when given.
    extras: Option<Box<Extras>>,
}

#[derive(Default)]
struct Extras {
    identity: RootIdentity,
    attributes: Vec<(Cow<'static, str>, Value)>,
}

#[derive(Default)]
struct RootIdentity {
    end_user: Option<IdInput<EndUserId>>,
    metadata: Option<Result<Arc<Metadata>, IdentityError>>,
    session: Option<IdInput<Arc<str>>>,
    tags: Vec<String>,
}

impl fmt::Debug for SpanBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.state {
            BuilderState::Disabled => f.write_str("SpanBuilder(disabled)"),
            BuilderState::Enabled(p) => f
                .debug_struct("SpanBuilder")
                .field("name", &p.name)
                .field("kind", &p.kind)
                .field("root", &p.parent.is_none())
                .finish_non_exhaustive(),
        }
    }
}

impl SpanBuilder {
    #[inline(always)]
    fn new(kind: SpanKind, name: Cow<'static, str>) -> SpanBuilder {
        if !runtime::enabled() {
            return SpanBuilder {
                state: BuilderState::Disabled,
            };
        }
        Self::new_enabled(kind, name)
    }

    #[inline(never)]
    fn new_enabled(kind: SpanKind, name: Cow<'static, str>) -> SpanBuilder {
        let parent = match context::current_parent() {
            Parent::Root => None,
            Parent::Child(t, s) => Some((t, s)),
            Parent::Unknown => {
                return SpanBuilder {
                    state: BuilderState::Disabled,
                }
            }
        };
        SpanBuilder {
            state: BuilderState::Enabled(Pending {
                name,
                kind,
                parent,
                extras: None,
            }),
        }
    }

    /// Whether this span will be a trace root (and so own the identity).
    /// `false` when tracing is off.
    pub fn is_root(&self) -> bool {
        matches!(&self.state, BuilderState::Enabled(p) if p.parent.is_none())
    }

    /// Whether this span will be recorded at all.
    pub fn is_enabled(&self) -> bool {
        matches!(self.state, BuilderState::Enabled(_))
    }

    fn root_identity(&mut self, what: &str) -> Option<&mut RootIdentity> {
        match &mut self.state {
            BuilderState::Disabled => None,
            BuilderState::Enabled(p) => {
                if p.parent.is_some() {
                    log::debug!(
                        "neatlogs: {what} on nested span `{}` has no effect; the trace root owns the identity",
                        p.name
                    );
                    return None;
                }
                Some(&mut p.extras.get_or_insert_with(Box::default).identity)
            }
        }
    }

    /// Set the trace's end-user (root only; beats the `init` default).
    ///
    /// Accepts `&str`, `String`, integers, `uuid::Uuid`, [`EndUserId`], or an
    /// `Option` of those; `None` and `""` mean "not given". An invalid id
    /// (longer than [`MAX_END_USER_ID_CHARS`](crate::MAX_END_USER_ID_CHARS),
    /// or with control characters) is dropped with a warning, and the trace
    /// then has **no** end-user: it never falls back to the default.
    pub fn end_user_id(mut self, id: impl IntoEndUserId) -> Self {
        if let Some(identity) = self.root_identity("end_user_id") {
            identity.end_user = Some(id.into_end_user_id());
        }
        self
    }

    /// Set the end-user's metadata (root only): anything `Serialize` that is a
    /// JSON object, at most
    /// [`MAX_END_USER_METADATA_BYTES`](crate::MAX_END_USER_METADATA_BYTES).
    /// Anything else is dropped with a warning. Metadata travels with the id
    /// it was given with: without an explicit id, it is ignored.
    pub fn end_user_metadata<T: serde::Serialize>(mut self, metadata: T) -> Self {
        if let Some(identity) = self.root_identity("end_user_metadata") {
            identity.metadata = Some(identity::metadata_from(&metadata));
        }
        self
    }

    /// Set the trace's session (root only; beats the `init` session). Empty
    /// means "not given".
    pub fn session_id(mut self, session: impl AsRef<str>) -> Self {
        if let Some(identity) = self.root_identity("session_id") {
            identity.session = Some(identity::parse_session(session.as_ref()));
        }
        self
    }

    /// Tags for this trace (root only), exported as `tag.tags`.
    pub fn tags<I, S>(mut self, tags: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        if let Some(identity) = self.root_identity("tags") {
            identity.tags.extend(tags.into_iter().map(Into::into));
        }
        self
    }

    /// Set an attribute.
    pub fn attribute(mut self, key: impl Into<Cow<'static, str>>, value: impl Into<Value>) -> Self {
        if let BuilderState::Enabled(p) = &mut self.state {
            p.extras
                .get_or_insert_with(Box::default)
                .attributes
                .push((key.into(), value.into()));
        }
        self
    }

    /// The model (`gen_ai.request.model`), for LLM spans.
    pub fn model(self, model: impl Into<Cow<'static, str>>) -> Self {
        self.attribute(keys::MODEL, Value::Str(model.into()))
    }

    /// The input (`input.value`): a prompt, tool arguments.
    pub fn input(self, input: impl Into<Cow<'static, str>>) -> Self {
        self.attribute(keys::INPUT, Value::Str(input.into()))
    }

    /// Open the span on this thread; it ends when the guard drops.
    ///
    /// The guard is `!Send`: it cannot be held across an `.await` in a future
    /// that must be `Send`. Use [`instrument`](SpanBuilder::instrument) for
    /// async code.
    #[inline(always)]
    pub fn enter(self) -> SpanGuard {
        let token = match self.state {
            BuilderState::Disabled => 0,
            BuilderState::Enabled(p) => p.enter(),
        };
        SpanGuard {
            token,
            _not_send: PhantomData,
        }
    }

    /// Run `f` inside the span.
    pub fn in_scope<R>(self, f: impl FnOnce() -> R) -> R {
        let _guard = self.enter();
        f()
    }

    /// Run `fut` inside the span: the span is entered on every poll and ends
    /// when the future completes (or is dropped). Works on any executor.
    pub fn instrument<F: Future>(self, fut: F) -> Instrumented<F> {
        let span = match self.state {
            BuilderState::Disabled => None,
            BuilderState::Enabled(p) => Some(p.start()),
        };
        Instrumented { inner: fut, span }
    }
}

impl Pending {
    /// Open the span on this thread's stack; its token (0: not recorded).
    #[inline(never)]
    fn enter(self) -> u64 {
        match context::push(self.start(), true) {
            Ok(token) => token,
            Err(record) => {
                finish_detached(*record);
                0
            }
        }
    }

    /// The span, open: a record whose `end` is set when it finishes.
    fn start(self) -> SpanRecord {
        let span_id = id::new_span_id();
        let Pending {
            name,
            kind,
            parent,
            extras,
        } = self;
        let (trace, parent_id, attributes) = match (parent, extras) {
            (Some((trace, parent_id)), None) => (trace, Some(parent_id), Vec::new()),
            (Some((trace, parent_id)), Some(e)) => (trace, Some(parent_id), e.attributes),
            (None, extras) => {
                let Extras {
                    identity,
                    attributes,
                } = extras.map(|e| *e).unwrap_or_default();
                let trace = Arc::new(resolve_root(span_id, &name, identity));
                (trace, None, attributes)
            }
        };
        SpanRecord {
            trace,
            span_id,
            parent: parent_id,
            name,
            kind,
            start: now(),
            end: Instant::ZERO,
            attributes,
            status: Status::Unset,
        }
    }
}

/// Resolve a root's identity as one unit: explicit value > `init` default >
/// none, and the source of the id is the source of the metadata.
fn resolve_root(root_span_id: SpanId, name: &str, given: RootIdentity) -> TraceShared {
    let defaults = runtime::defaults();
    let end_user = match given.end_user {
        Some(IdInput::Valid(id)) => {
            let metadata = match given.metadata {
                Some(Ok(m)) => Some(m),
                Some(Err(e)) => {
                    log::warn!("neatlogs: trace `{name}`: {e}; metadata dropped, end-user kept");
                    None
                }
                None => None,
            };
            Some(EndUser::new(id, metadata))
        }
        Some(IdInput::Invalid(e)) => {
            log::warn!(
                "neatlogs: trace `{name}`: {e}; the id is dropped and the trace is kept without an end-user (no fallback to the default)"
            );
            None
        }
        Some(IdInput::NotGiven) | None => {
            if given.metadata.is_some() {
                log::debug!(
                    "neatlogs: trace `{name}`: end_user_metadata without end_user_id is ignored; metadata travels with its id"
                );
            }
            defaults.and_then(|d| d.end_user.clone())
        }
    };
    let session = match given.session {
        Some(IdInput::Valid(s)) => Some(s),
        Some(IdInput::Invalid(e)) => {
            log::warn!("neatlogs: trace `{name}`: {e}; the trace is kept without a session");
            None
        }
        Some(IdInput::NotGiven) | None => defaults.and_then(|d| d.session.clone()),
    };
    TraceShared {
        trace_id: id::new_trace_id(),
        root_span_id,
        end_user,
        session,
        tags: given.tags,
        capture: context::ambient_capture(),
    }
}

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
/// Use [`SpanBuilder::instrument`] instead:
///
/// ```
/// fn spawn<F: std::future::Future + Send + 'static>(_: F) {}
/// async fn work() {}
/// spawn(neatlogs::trace("chat").instrument(async { work().await }));
/// ```
#[must_use = "the span ends as soon as the guard is dropped"]
pub struct SpanGuard {
    token: u64,
    _not_send: PhantomData<*const ()>,
}

impl fmt::Debug for SpanGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpanGuard")
            .field("recording", &(self.token != 0))
            .finish()
    }
}

impl SpanGuard {
    fn with_live(&self, f: impl FnOnce(&mut SpanRecord)) {
        if self.token == 0 {
            return;
        }
        context::with_local(|l| {
            if let Some(live) = l
                .stack
                .iter_mut()
                .rev()
                .find(|fr| fr.token == self.token && fr.recording)
                .map(|fr| &mut fr.record)
            {
                f(live);
            }
        });
    }

    /// Whether this span is being recorded.
    pub fn is_recording(&self) -> bool {
        self.token != 0
    }

    /// Set an attribute on the open span.
    pub fn set_attribute(&self, key: impl Into<Cow<'static, str>>, value: impl Into<Value>) {
        self.with_live(|l| ActiveSpan { live: l }.set_attribute(key, value));
    }

    /// Mark the span as failed, with `error`'s message.
    pub fn record_error(&self, error: &dyn fmt::Display) {
        self.with_live(|l| ActiveSpan { live: l }.record_error(error));
    }

    /// Record the output (`output.value`).
    pub fn set_output(&self, output: impl Into<Cow<'static, str>>) {
        self.with_live(|l| ActiveSpan { live: l }.set_output(output));
    }

    /// Record token usage (`gen_ai.usage.input_tokens` / `output_tokens`).
    pub fn set_usage(&self, input_tokens: u64, output_tokens: u64) {
        self.with_live(|l| ActiveSpan { live: l }.set_usage(input_tokens, output_tokens));
    }
}

impl Drop for SpanGuard {
    #[inline(always)]
    fn drop(&mut self) {
        if self.token != 0 {
            context::pop_and_finish(self.token);
        }
    }
}

/// The innermost span being recorded on this thread, for code that did not
/// open it (a helper deep inside an instrumented future, a macro-generated
/// function body).
pub struct ActiveSpan<'a> {
    live: &'a mut SpanRecord,
}

impl fmt::Debug for ActiveSpan<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ActiveSpan")
            .field("name", &self.live.name)
            .finish_non_exhaustive()
    }
}

impl ActiveSpan<'_> {
    /// Set an attribute.
    pub fn set_attribute(&mut self, key: impl Into<Cow<'static, str>>, value: impl Into<Value>) {
        self.live.attributes.push((key.into(), value.into()));
    }

    /// Mark the span as failed, with `error`'s message.
    pub fn record_error(&mut self, error: &dyn fmt::Display) {
        self.live.status = Status::Error(error.to_string());
    }

    /// Mark the span as successful.
    pub fn set_ok(&mut self) {
        self.live.status = Status::Ok;
    }

    /// The model (`gen_ai.request.model`).
    pub fn set_model(&mut self, model: impl Into<Cow<'static, str>>) {
        self.set_attribute(keys::MODEL, Value::Str(model.into()));
    }

    /// The input (`input.value`).
    pub fn set_input(&mut self, input: impl Into<Cow<'static, str>>) {
        self.set_attribute(keys::INPUT, Value::Str(input.into()));
    }

    /// The output (`output.value`).
    pub fn set_output(&mut self, output: impl Into<Cow<'static, str>>) {
        self.set_attribute(keys::OUTPUT, Value::Str(output.into()));
    }

    /// Token usage (`gen_ai.usage.input_tokens` / `output_tokens`).
    pub fn set_usage(&mut self, input_tokens: u64, output_tokens: u64) {
        self.set_attribute(keys::INPUT_TOKENS, input_tokens);
        self.set_attribute(keys::OUTPUT_TOKENS, output_tokens);
    }

    /// The span's name.
    pub fn name(&self) -> &str {
        &self.live.name
    }
}

/// Run `f` on the innermost span being recorded on this thread. Returns
/// `None` outside a span (or when tracing is off).
///
/// Do not open spans inside `f`: they would not be recorded.
///
/// ```
/// # neatlogs::testing::with_capture(|| {
/// let _llm = neatlogs::span(neatlogs::SpanKind::Llm, "completion").enter();
/// neatlogs::with_current_span(|s| s.set_usage(120, 48));
/// # });
/// ```
pub fn with_current_span<R>(f: impl FnOnce(&mut ActiveSpan<'_>) -> R) -> Option<R> {
    context::with_local(|l| {
        let frame = l.stack.last_mut().filter(|f| f.recording)?;
        Some(f(&mut ActiveSpan {
            live: &mut frame.record,
        }))
    })
    .flatten()
}

pin_project_lite::pin_project! {
    /// A future running inside a span: entered on every poll, ended when the
    /// future completes or is dropped. Made by [`SpanBuilder::instrument`].
    ///
    /// `Send` when the inner future is.
    #[must_use = "futures do nothing unless polled"]
    pub struct Instrumented<F> {
        #[pin]
        inner: F,
        span: Option<SpanRecord>,
    }

    impl<F> PinnedDrop for Instrumented<F> {
        fn drop(this: Pin<&mut Self>) {
            // Dropped before completion: the span still ends, and is exported.
            if let Some(record) = this.project().span.take() {
                finish_detached(record);
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

/// Puts an instrumented future's span back into the future when a poll ends,
/// including when the poll unwinds.
struct PollScope<'a> {
    slot: &'a mut Option<SpanRecord>,
    token: u64,
}

impl Drop for PollScope<'_> {
    fn drop(&mut self) {
        if let Some(mut frame) = context::pop(self.token) {
            if frame.recording {
                if std::thread::panicking() {
                    frame.record.status = Status::Error("panicked".into());
                }
                *self.slot = Some(frame.record);
            }
        }
    }
}

impl<F: Future> Future for Instrumented<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<F::Output> {
        let this = self.project();
        let Some(record) = this.span.take() else {
            return this.inner.poll(cx);
        };
        let token = match context::push(record, true) {
            Ok(token) => token,
            Err(record) => {
                // The stack is unreachable: poll outside the span rather than fail.
                *this.span = Some(*record);
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
            if let Some(record) = this.span.take() {
                finish_detached(record);
            }
        }
        out
    }
}
