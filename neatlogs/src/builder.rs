//! Configuring a span before it opens: [`trace`], [`span`] and the
//! [`SpanBuilder`]. A root resolves the trace's identity here, once.

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;
use std::future::Future;
use std::sync::Arc;

use crate::capture;
use crate::content::{Captured, Details, Site};
use crate::global;
use crate::guard::SpanGuard;
use crate::id;
use crate::identity::{self, EndUserId, Given, IdInput, IntoEndUserId, Problem};
use crate::instrument::{Instrumented, Span};
use crate::kind::SpanKind;
use crate::local::{self, Frame, Parent};
use crate::open::{Fact, OpenSpan};
use crate::record::SpanName;
use crate::record::{Link, Remote, Sink, SpanContext, Trace};
use crate::sampling::SamplingRoot;
use crate::tail::TraceTail;
use crate::value::{Attributes, SpanEvent, Value};

/// Open a trace root named `name` (a [`SpanKind::Workflow`] span), or a child
/// if a span is already current: root or child is decided here, where the
/// builder is made. For work that must be a trace of its own even inside
/// another trace (a background job spawned from a request), use
/// [`new_trace`].
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
    SpanBuilder::new(SpanKind::Workflow, SpanName::from(name.into()))
}

/// Open a new trace named `name` (a [`SpanKind::Workflow`] root), always:
/// whatever span is current here, this is a trace of its own, with its own
/// end-user (the one given, else the `init` default, else none; never the
/// current trace's).
///
/// When a span is current where the builder is made, the two traces are
/// tied both ways: the new root carries an OTLP span link to that span, and
/// that span (when it is open on this thread) gets the event
/// `neatlogs.trace.spawned` naming the new trace's id. Use it for a job
/// spawned from inside a request:
///
/// ```
/// # neatlogs::testing::with_capture(|| {
/// let _request = neatlogs::trace("request").end_user_id("u_1").enter();
/// let job = neatlogs::new_trace("nightly-export")
///     .end_user_id("u_2")
///     .instrument(async { neatlogs::current_end_user() });
/// // `tokio::spawn(job)`: a trace of its own, for u_2, linked to the request.
/// # let user = block_on(job);
/// # assert_eq!(user.unwrap().id().as_str(), "u_2");
/// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     let waker = std::task::Waker::noop();
/// #     let mut cx = std::task::Context::from_waker(&waker);
/// #     let mut f = std::pin::pin!(f);
/// #     loop { if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } }
/// # }
/// # });
/// ```
pub fn new_trace(name: impl Into<Cow<'static, str>>) -> SpanBuilder {
    if !global::enabled() {
        return SpanBuilder {
            state: State::Disabled,
        };
    }
    let (link, spawned_from_open) = match local::parent() {
        Parent::Unknown => {
            return SpanBuilder {
                state: State::Disabled,
            }
        }
        Parent::Root => (None, false),
        Parent::Child(cx) => (
            Some(Link {
                trace_id: cx.trace.trace_id,
                span_id: cx.span_id,
            }),
            true,
        ),
        Parent::Remote(remote) => (
            Some(Link {
                trace_id: remote.trace_id,
                span_id: remote.span_id,
            }),
            false,
        ),
    };
    let trace_id = id::new_trace_id();
    if spawned_from_open {
        // The spawning side names the new trace, so each trace can be found
        // from the other (the link goes the other way).
        local::with(|l| {
            if let Some(span) = l.top_open_mut() {
                span.details().events.push(SpanEvent::now(
                    Cow::Borrowed(crate::wire::span::TRACE_SPAWNED),
                    vec![(
                        Cow::Borrowed(crate::wire::span::TRACE_SPAWNED_TRACE_ID),
                        Value::from(trace_id.to_string()),
                    )],
                ));
            }
        });
    }
    SpanBuilder {
        state: State::Enabled(Pending {
            name: SpanName::from(name.into()),
            kind: SpanKind::Workflow,
            parent: None,
            extras: Some(Box::new(Extras {
                link,
                trace_id: Some(trace_id),
                ..Extras::default()
            })),
        }),
    }
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
    SpanBuilder::new(kind, SpanName::from(name.into()))
}

/// A `#[neatlogs::span]` function's span: named by its static [`Site`],
/// which also says where the function is. Not public API.
#[doc(hidden)]
#[inline(always)]
pub fn span_at(kind: SpanKind, site: &'static Site) -> SpanBuilder {
    SpanBuilder::new(kind, SpanName::Site(site))
}

/// Configures a span before it opens. Made by [`trace`] and [`span`]; opened
/// by [`enter`](SpanBuilder::enter), [`in_scope`](SpanBuilder::in_scope) or
/// [`instrument`](SpanBuilder::instrument).
///
/// Whether the span is a root or a child is decided when the builder is made,
/// from the span current at that moment. On a child, the identity methods
/// (`end_user_id`, `end_user_metadata`, `session_id`, `tags`) have no effect:
/// the trace root owns the identity.
///
/// ```
/// # neatlogs::testing::with_capture(|| {
/// let root = neatlogs::trace("chat");
/// assert!(root.is_root());
/// let _g = root.enter();
/// assert!(!neatlogs::span(neatlogs::SpanKind::Tool, "t").is_root());
/// # });
/// ```
#[must_use = "a span opens only when entered, run in scope, or used to instrument a future"]
pub struct SpanBuilder {
    state: State,
}

enum State {
    Disabled,
    Enabled(Pending),
}

/// Kept small (a few words): builders are moved through every chained call,
/// and most spans need nothing beyond a name and a parent.
struct Pending {
    name: SpanName,
    kind: SpanKind,
    parent: Option<SpanContext>,
    /// Identity and builder attributes, allocated only when given.
    extras: Option<Box<Extras>>,
}

#[derive(Default)]
struct Extras {
    identity: Given,
    tags: Vec<String>,
    attributes: Attributes,
    details: Option<Box<Details>>,
    /// The caller's position, for a root that continues a trace from
    /// another process.
    remote: Option<Arc<Remote>>,
    /// A span of another trace this root was started from (a span link).
    link: Option<Link>,
    /// The new trace's id, when chosen before the root opens.
    trace_id: Option<id::TraceId>,
}

impl fmt::Debug for SpanBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.state {
            State::Disabled => f.write_str("SpanBuilder(disabled)"),
            State::Enabled(p) => f
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
    fn new(kind: SpanKind, name: SpanName) -> SpanBuilder {
        if !global::enabled() {
            return SpanBuilder {
                state: State::Disabled,
            };
        }
        Self::new_enabled(kind, name)
    }

    #[inline(never)]
    fn new_enabled(kind: SpanKind, name: SpanName) -> SpanBuilder {
        // A child of a trace that is not recorded is not opened (the
        // trace's frame stays current, with its identity), except an LLM or
        // embedding call: its usage is counted, then it is dropped.
        let Some(parent) = local::parent_unless_dropped(kind.counts_usage()) else {
            return SpanBuilder {
                state: State::Disabled,
            };
        };
        let (parent, extras) = match parent {
            Parent::Root => (None, None),
            Parent::Child(cx) => (Some(cx), None),
            Parent::Remote(remote) => (
                None,
                Some(Box::new(Extras {
                    remote: Some(remote),
                    ..Extras::default()
                })),
            ),
            Parent::Unknown => {
                return SpanBuilder {
                    state: State::Disabled,
                }
            }
        };
        SpanBuilder {
            state: State::Enabled(Pending {
                name,
                kind,
                parent,
                extras,
            }),
        }
    }

    /// Whether this span will be a trace root (and so own the identity).
    /// `false` when tracing is off.
    pub fn is_root(&self) -> bool {
        matches!(&self.state, State::Enabled(p) if p.parent.is_none())
    }

    /// Whether this span will be recorded at all.
    pub fn is_enabled(&self) -> bool {
        matches!(self.state, State::Enabled(_))
    }

    fn extras(&mut self) -> Option<&mut Extras> {
        match &mut self.state {
            State::Disabled => None,
            State::Enabled(p) => Some(p.extras.get_or_insert_with(Box::default)),
        }
    }

    /// The root's extras; `None` when tracing is off, and on a child, with a
    /// warning the first time per call site.
    #[track_caller]
    #[inline]
    fn root_extras(&mut self, what: &str) -> Option<&mut Extras> {
        let State::Enabled(p) = &mut self.state else {
            return None;
        };
        if p.parent.is_some() {
            nested_identity(p, what);
            return None;
        }
        Some(p.extras.get_or_insert_with(Box::default))
    }

    /// Say that identity given to this span has no effect, when it is a
    /// nested span: at `warn` the first time per call site, at `debug`
    /// after. The `#[neatlogs::span]` macro calls it on a nested span
    /// instead of evaluating the identity expressions. Not public API.
    #[doc(hidden)]
    #[track_caller]
    pub fn identity_ignored(&self, what: &str) {
        if let State::Enabled(p) = &self.state {
            if p.parent.is_some() {
                nested_identity(p, what);
            }
        }
    }

    /// Set the trace's end-user (root only; beats the `init` default).
    ///
    /// Accepts `&str`, `String`, integers, `uuid::Uuid`, [`EndUserId`](crate::EndUserId),
    /// or an `Option` of those; `None` and `""` mean "not given". An invalid id
    /// (longer than [`MAX_END_USER_ID_CHARS`](crate::MAX_END_USER_ID_CHARS),
    /// or with control characters) is dropped with a warning, and the trace
    /// then has **no** end-user: it never falls back to the default.
    #[track_caller]
    pub fn end_user_id(mut self, id: impl IntoEndUserId) -> Self {
        if let Some(extras) = self.root_extras("end_user_id") {
            extras.identity.end_user = Some(id.into_end_user_id());
        }
        self
    }

    /// Set the end-user's metadata (root only): anything `Serialize` that is a
    /// JSON object, at most
    /// [`MAX_END_USER_METADATA_BYTES`](crate::MAX_END_USER_METADATA_BYTES).
    /// Anything else is dropped with a warning. Metadata travels with the id
    /// it was given with: without an explicit id, it is ignored.
    #[track_caller]
    pub fn end_user_metadata<T: serde::Serialize>(mut self, metadata: T) -> Self {
        if let Some(extras) = self.root_extras("end_user_metadata") {
            extras.identity.metadata = Some(identity::metadata_from(&metadata));
        }
        self
    }

    /// Set the trace's session (root only; beats the `init` session). Empty
    /// means "not given".
    #[track_caller]
    pub fn session_id(mut self, session: impl AsRef<str>) -> Self {
        if let Some(extras) = self.root_extras("session_id") {
            extras.identity.session = Some(identity::parse_session(session.as_ref()));
        }
        self
    }

    /// Tags for this trace (root only), exported as `tag.tags`.
    #[track_caller]
    pub fn tags<I, S>(mut self, tags: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        if let Some(extras) = self.root_extras("tags") {
            extras.tags.extend(tags.into_iter().map(Into::into));
        }
        self
    }

    /// Set an attribute.
    pub fn attribute(mut self, key: impl Into<Cow<'static, str>>, value: impl Into<Value>) -> Self {
        if let Some(extras) = self.extras() {
            extras.attributes.push((key.into(), value.into()));
        }
        self
    }

    fn fact(mut self, fact: Fact) -> Self {
        if let Some(extras) = self.extras() {
            fact.apply(extras.details.get_or_insert_with(Box::default));
        }
        self
    }

    /// The input: text, or a `serde_json::Value` (written as JSON on the
    /// export thread).
    pub(crate) fn input(self, input: impl Into<Captured>) -> Self {
        self.fact(Fact::Input(input.into()))
    }

    /// Open the span on this thread; it ends when the guard drops.
    ///
    /// The guard is `!Send`: it cannot be held across an `.await` in a future
    /// that must be `Send`. Use [`instrument`](SpanBuilder::instrument) for
    /// async code.
    #[inline(always)]
    pub fn enter(self) -> SpanGuard {
        match self.state {
            State::Disabled => SpanGuard::disabled(),
            State::Enabled(p) => p.enter(),
        }
    }

    /// Open the span and hand it over: it stays open until the returned
    /// [`Span`] is dropped or ended, whichever task or thread holds it (a
    /// streamed reply, a response body).
    pub fn start(self) -> Span {
        match self.state {
            State::Disabled => Span::none(),
            State::Enabled(p) => Span::new(Some(p.open())),
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
            State::Disabled => None,
            State::Enabled(p) => Some(p.open()),
        };
        Instrumented::new(fut, span)
    }
}

/// Identity given to a nested span: at `warn` the first time per call
/// site, at `debug` after (off the hot path: a root never comes here).
#[cold]
#[inline(never)]
#[track_caller]
fn nested_identity(p: &Pending, what: &str) {
    let at = std::panic::Location::caller();
    let site = {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (at.file(), at.line(), at.column()).hash(&mut h);
        h.finish()
    };
    if identity::first_time_at(site) {
        log::warn!(
            "neatlogs: {what} on nested span `{}` ({at}) has no effect: the span opens inside trace {} and its root owns the identity; to start a trace of its own, use neatlogs::new_trace (further occurrences here are logged at debug)",
            p.name,
            p.parent.as_ref().map(|c| c.trace.trace_id.to_string()).unwrap_or_default(),
        );
    } else {
        log::debug!(
            "neatlogs: {what} on nested span `{}` ({at}) has no effect; the trace root owns the identity",
            p.name
        );
    }
}

impl Pending {
    /// Open the span on this thread's stack.
    #[inline(never)]
    fn enter(self) -> SpanGuard {
        if self.parent.is_none() {
            return self.enter_root();
        }
        // A child (of a recorded trace: children of one that is not are
        // never made), opened where it will stay once ended.
        match local::push_child(move || self.open()) {
            Ok(token) => SpanGuard::new(token),
            Err(make) => {
                local::end_detached(make());
                SpanGuard::disabled()
            }
        }
    }

    /// A root: of a trace the sampler kept (an open span), or of one it
    /// dropped (its frame holds the trace's context, not a span).
    fn enter_root(self) -> SpanGuard {
        let recorded = Cell::new(true);
        let make = || {
            let span = self.open();
            // An LLM call stays open (its usage is counted when it ends).
            if span.trace.sampled || span.kind.counts_usage() {
                Frame::Open(span)
            } else {
                recorded.set(false);
                Frame::Attached(SpanContext {
                    trace: span.trace,
                    span_id: span.span_id,
                })
            }
        };
        match local::push_with(make) {
            Ok(token) if recorded.get() => SpanGuard::new(token),
            Ok(token) => SpanGuard::unrecorded(token),
            Err(make) => {
                if let Frame::Open(span) = make() {
                    local::end_detached(span);
                }
                SpanGuard::disabled()
            }
        }
    }

    /// The span, open.
    #[inline(always)]
    fn open(self) -> OpenSpan {
        let span_id = id::new_span_id();
        let Pending {
            name,
            kind,
            parent,
            extras,
        } = self;
        match (parent, extras) {
            (Some(parent), None) => {
                let parent_id = parent.span_id;
                let cx = SpanContext {
                    trace: parent.trace,
                    span_id,
                };
                OpenSpan::start(cx, Some(parent_id), name, kind, Vec::new())
            }
            (Some(parent), Some(extras)) => {
                let parent_id = parent.span_id;
                let cx = SpanContext {
                    trace: parent.trace,
                    span_id,
                };
                let Extras {
                    attributes,
                    details,
                    ..
                } = *extras;
                let mut span = OpenSpan::start(cx, Some(parent_id), name, kind, attributes);
                span.details = details;
                span
            }
            (None, extras) => {
                let Extras {
                    identity,
                    tags,
                    attributes,
                    details,
                    remote,
                    link,
                    trace_id,
                } = extras.map(|e| *e).unwrap_or_default();
                let trace = root_trace(RootTrace {
                    root_span_id: span_id,
                    name: &name,
                    kind,
                    given: identity,
                    tags,
                    remote,
                    link,
                    trace_id,
                });
                let mut span =
                    OpenSpan::start(SpanContext { trace, span_id }, None, name, kind, attributes);
                span.details = details;
                span
            }
        }
    }
}

/// A root's builder with everything decided by the caller: `parent` for a
/// continued trace, `link` for a linked one, and the identity. Disabled
/// when tracing is off, or on a thread that must not be traced (the
/// exporter's).
pub(crate) fn root_builder(
    name: SpanName,
    kind: SpanKind,
    remote: Option<Arc<Remote>>,
    link: Option<Link>,
    identity: Given,
) -> SpanBuilder {
    if !global::enabled() || matches!(local::parent(), Parent::Unknown) {
        return SpanBuilder {
            state: State::Disabled,
        };
    }
    SpanBuilder {
        state: State::Enabled(Pending {
            name,
            kind,
            parent: None,
            extras: Some(Box::new(Extras {
                identity,
                remote,
                link,
                ..Extras::default()
            })),
        }),
    }
}

/// Open a span under `parent` (a root for `Root`, `Unknown` and `Remote`),
/// with `identity` (a root's only), attributes and details given up front.
pub(crate) fn open_under(
    parent: Parent,
    name: SpanName,
    kind: SpanKind,
    identity: Given,
    attributes: Attributes,
    details: Option<Box<Details>>,
) -> OpenSpan {
    let (parent, remote) = match parent {
        Parent::Child(cx) => (Some(cx), None),
        Parent::Remote(remote) => (None, Some(remote)),
        Parent::Root | Parent::Unknown => (None, None),
    };
    Pending {
        name,
        kind,
        parent,
        extras: Some(Box::new(Extras {
            identity,
            attributes,
            details,
            remote,
            ..Extras::default()
        })),
    }
    .open()
}

/// What a root's trace is made from.
struct RootTrace<'a> {
    root_span_id: id::SpanId,
    name: &'a SpanName,
    kind: SpanKind,
    given: Given,
    tags: Vec<String>,
    remote: Option<Arc<Remote>>,
    link: Option<Link>,
    trace_id: Option<id::TraceId>,
}

/// A new trace for a root: its identity resolved, its sink chosen. A root
/// that continues a caller's trace keeps the caller's trace id.
///
/// The end-user, in order: an id given here (what the application
/// authenticated; an invalid one means none), else the one a believed
/// caller asserted in baggage (an invalid one means none), else the `init`
/// default, else none. A value set aside is never replaced by a fallback.
fn root_trace(root: RootTrace<'_>) -> Arc<Trace> {
    let RootTrace {
        root_span_id,
        name,
        kind,
        mut given,
        tags,
        remote,
        link,
        trace_id,
    } = root;
    let caller = remote.as_ref().and_then(|r| r.end_user.as_ref());
    let explicit = matches!(
        &given.end_user,
        Some(IdInput::Valid(_) | IdInput::Invalid(_))
    );
    let mut id_from_baggage = false;
    match (caller, explicit) {
        (Some(IdInput::Valid(asserted)), true) => {
            if let Some(IdInput::Valid(own)) = &given.end_user {
                if own != asserted {
                    warn_conflict(name.as_str(), own, asserted);
                }
            }
        }
        (Some(asserted @ (IdInput::Valid(_) | IdInput::Invalid(_))), false) => {
            given.end_user = Some(asserted.clone());
            given.metadata = None;
            id_from_baggage = true;
        }
        _ => {}
    }
    // Where a value set aside came from, named in its warning (made only
    // when there is one: most roots have nothing to report).
    let given_at = given.origin;
    let origin = |of_id: bool| -> String {
        if of_id && id_from_baggage {
            return "sent by the caller in baggage".to_owned();
        }
        match name.code() {
            Some(code) => format!(
                "given to #[neatlogs::span] `{}` ({}:{})",
                code.function, code.file, code.line
            ),
            None => given_at.unwrap_or("given to the trace builder").to_owned(),
        }
    };
    let sink = capture::sink_for_new_root();
    let defaults = match &sink {
        Sink::Instance(instance) => Some(instance.defaults()),
        Sink::Export | Sink::Capture(_) => global::defaults(),
    };
    let resolved = identity::resolve(given, defaults, |problem| {
        match problem {
        Problem::EndUserId(e) => log::warn!(
            "neatlogs: trace `{name}`: the end_user_id {} is invalid ({e}); the id is dropped and the trace is kept without an end-user (no fallback to the default)",
            origin(true)
        ),
        Problem::Metadata(e) => log::warn!(
            "neatlogs: trace `{name}`: the end_user_metadata {} is invalid ({e}); metadata dropped, end-user kept",
            origin(false)
        ),
        Problem::MetadataWithoutId => log::debug!(
            "neatlogs: trace `{name}`: end_user_metadata without end_user_id is ignored; metadata travels with its id"
        ),
        Problem::Session(e) => log::warn!(
            "neatlogs: trace `{name}`: the session_id {} is invalid ({e}); the trace is kept without a session",
            origin(false)
        ),
    }
    });
    let trace_id = remote
        .as_ref()
        .map(|r| r.trace_id)
        .or(trace_id)
        .unwrap_or_else(id::new_trace_id);
    // A test capture records every trace; the process's pipeline and an
    // instance ask their sampling rule and sampler (none installed:
    // everything).
    let sampling = match &sink {
        Sink::Instance(instance) => Some(instance.sampling()),
        Sink::Export => global::sampling(),
        Sink::Capture(_) => None,
    };
    let (sampled, probability) = sampling.map_or((true, None), |s| {
        s.decide(
            trace_id,
            &SamplingRoot {
                name: name.as_str(),
                kind,
                end_user: resolved.end_user.as_ref(),
                session: resolved.session.as_deref(),
                caller_sampled: remote.as_ref().map(|r| r.sampled),
            },
        )
    });
    // Dropped by the head decision, recorded anyway for tail keep.
    let tail = match sampling.and_then(|s| s.tail.as_ref()) {
        Some(tails) if !sampled => Some(Box::new(TraceTail::new(tails.clone()))),
        _ => None,
    };
    Arc::new(Trace {
        trace_id,
        root_span_id,
        end_user: resolved.end_user,
        session: resolved.session,
        tags,
        sink,
        sampled: sampled || tail.is_some(),
        probability: probability.filter(|_| sampled),
        tail,
        remote,
        link,
    })
}

/// The application's own end-user beat the one a believed caller asserted:
/// one warning with both ids the first time, `debug` after.
fn warn_conflict(name: &str, own: &EndUserId, asserted: &EndUserId) {
    use std::sync::atomic::{AtomicBool, Ordering};
    static WARNED: AtomicBool = AtomicBool::new(false);
    if !WARNED.swap(true, Ordering::Relaxed) {
        log::warn!(
            "neatlogs: trace `{name}`: the caller asserted end-user {asserted:?} in baggage but the application gave {own:?}; the application's is kept (later conflicts are logged at debug)"
        );
    } else {
        log::debug!(
            "neatlogs: trace `{name}`: baggage end-user {asserted:?} set aside for the application's {own:?}"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::SpanRecord;

    /// A span is built and buffered by value on the caller's thread: what
    /// is rare (content, an LLM call, a status, identity) lives behind one
    /// pointer, and the code location rides in the name. An open span is
    /// the record it becomes.
    #[test]
    fn spans_stay_small() {
        use std::mem::size_of;
        assert_eq!(size_of::<SpanName>(), 24, "a name is a Cow<str>'s size");
        assert!(size_of::<Pending>() <= 56, "{}", size_of::<Pending>());
        assert_eq!(size_of::<OpenSpan>(), size_of::<SpanRecord>());
        assert!(
            size_of::<SpanRecord>() <= 104,
            "{}",
            size_of::<SpanRecord>()
        );
    }
}
