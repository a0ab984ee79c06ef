//! What `#[neatlogs::span]` does at run time: roots and children, identity,
//! async, errors and panics, hygiene. Spans are captured with
//! `neatlogs::testing` (no `init` in this binary; see `macro_init_default.rs`
//! for precedence over the `init` default).

use std::cell::Cell;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::{Arc, Mutex, RwLock};
use std::task::{Context as TaskContext, Poll, Wake, Waker};

use neatlogs::export::{SpanRecord, Status};
use neatlogs::{FutureExt, SpanKind};
use serde::Serialize;

/// Tracing is on while any capture is alive, in any thread: the one test that
/// needs it off takes this lock for writing, the others for reading.
static TRACING_OFF: RwLock<()> = RwLock::new(());

fn capture<R>(f: impl FnOnce() -> R) -> (R, Vec<SpanRecord>) {
    let _shared = TRACING_OFF.read().unwrap_or_else(|p| p.into_inner());
    neatlogs::testing::with_capture(f)
}

fn user_of(span: &SpanRecord) -> Option<&str> {
    span.end_user().map(|u| u.id().as_str())
}

thread_local! {
    static EVALUATED: Cell<u32> = const { Cell::new(0) };
}

/// An end-user id expression that counts its evaluations (on this thread).
fn counted(id: &str) -> String {
    EVALUATED.with(|e| e.set(e.get() + 1));
    id.to_owned()
}

fn evaluations() -> u32 {
    EVALUATED.with(Cell::get)
}

#[derive(Serialize)]
struct Profile {
    plan: String,
    seats: u32,
}

#[neatlogs::span(
    kind = "WORKFLOW",
    end_user_id = user_id,
    end_user_metadata = profile,
    session_id = format!("chat-{chat}"),
    tags = ["support", profile.plan.as_str()],
)]
fn handle(user_id: &str, profile: Profile, chat: u32) -> String {
    // The metadata expression borrowed `profile`: it is still usable here.
    format!("{} seats", profile.seats)
}

#[neatlogs::span(kind = "TOOL", end_user_id = counted(user_id))]
fn tool(user_id: &str) -> Option<String> {
    neatlogs::current_end_user().map(|u| u.id().as_str().to_owned())
}

#[neatlogs::span(kind = "WORKFLOW", end_user_id = "u_outer")]
fn outer() -> Option<String> {
    tool("u_inner")
}

#[test]
fn decorated_root_sets_the_trace_identity() {
    let profile = Profile {
        plan: "pro".into(),
        seats: 3,
    };
    let (out, spans) = capture(|| handle("u_812", profile, 7));
    assert_eq!(out, "3 seats");
    assert_eq!(spans.len(), 1);
    let root = &spans[0];
    assert!(root.is_root());
    assert_eq!(root.name(), "handle");
    assert_eq!(root.kind(), SpanKind::Workflow);
    assert_eq!(user_of(root), Some("u_812"));
    let metadata = root
        .end_user()
        .unwrap()
        .metadata::<serde_json::Value>()
        .unwrap();
    assert_eq!(metadata["plan"], "pro");
    assert_eq!(metadata["seats"], 3);
    assert_eq!(root.session_id(), Some("chat-7"));
    assert_eq!(root.tags(), ["support", "pro"]);
    assert_eq!(root.status(), &Status::Unset);
}

#[test]
fn decorated_child_inside_a_trace_ignores_its_end_user_id_and_does_not_evaluate_it() {
    let before = evaluations();
    let ((inside_trace, inside_decorated), spans) = capture(|| {
        let from_trace = {
            let _root = neatlogs::trace("chat").end_user_id("u_root").enter();
            tool("u_child")
        };
        (from_trace, outer())
    });
    assert_eq!(inside_trace.as_deref(), Some("u_root"));
    assert_eq!(inside_decorated.as_deref(), Some("u_outer"));
    // Nested twice: the expression `counted(user_id)` never ran.
    assert_eq!(evaluations(), before);

    let names: Vec<&str> = spans.iter().map(|s| s.name()).collect();
    assert_eq!(names, ["tool", "chat", "tool", "outer"]);
    let (tool_a, chat, tool_b, outer_span) = (&spans[0], &spans[1], &spans[2], &spans[3]);
    assert!(!tool_a.is_root());
    assert_eq!(tool_a.parent_span_id(), Some(chat.span_id()));
    assert_eq!(user_of(tool_a), Some("u_root"));
    assert!(!tool_b.is_root());
    assert_eq!(tool_b.parent_span_id(), Some(outer_span.span_id()));
    assert_eq!(user_of(tool_b), Some("u_outer"));
    assert_eq!(tool_b.trace_id(), outer_span.trace_id());
}

#[test]
fn decorated_function_called_outside_a_trace_is_a_root_and_evaluates_its_identity_once() {
    let before = evaluations();
    let (seen, spans) = capture(|| tool("u_alone"));
    assert_eq!(seen.as_deref(), Some("u_alone"));
    assert_eq!(evaluations(), before + 1);
    assert!(spans[0].is_root());
    assert_eq!(spans[0].kind(), SpanKind::Tool);
    assert_eq!(user_of(&spans[0]), Some("u_alone"));
}

#[test]
fn identity_expressions_are_not_evaluated_when_tracing_is_off() {
    let _alone = TRACING_OFF.write().unwrap_or_else(|p| p.into_inner());
    let before = evaluations();
    assert_eq!(tool("u_1"), None);
    assert_eq!(evaluations(), before);
}

#[neatlogs::span(kind = "AGENT")]
fn step_c() -> u8 {
    3
}

#[neatlogs::span(kind = "CHAIN")]
fn step_b() -> u8 {
    step_c() + step_c()
}

#[neatlogs::span(kind = "WORKFLOW", end_user_id = "u_1")]
fn step_a() -> u8 {
    step_b()
}

#[test]
fn spans_end_innermost_first_and_nest_under_their_caller() {
    let (v, spans) = capture(step_a);
    assert_eq!(v, 6);
    let names: Vec<&str> = spans.iter().map(|s| s.name()).collect();
    assert_eq!(names, ["step_c", "step_c", "step_b", "step_a"]);
    let id = |i: usize| Some(spans[i].span_id());
    assert_eq!(spans[0].parent_span_id(), id(2));
    assert_eq!(spans[1].parent_span_id(), id(2));
    assert_eq!(spans[2].parent_span_id(), id(3));
    assert_eq!(spans[3].parent_span_id(), None);
    assert!(spans.iter().all(|s| user_of(s) == Some("u_1")));
    assert!(spans.iter().all(|s| s.trace_id() == spans[3].trace_id()));
}

// --- async ---------------------------------------------------------------

#[neatlogs::span(kind = "TOOL", end_user_id = counted("u_ignored"))]
async fn async_child(round: u32) -> (u32, Option<String>) {
    tokio::task::yield_now().await;
    (
        round,
        neatlogs::current_end_user().map(|u| u.id().to_string()),
    )
}

#[neatlogs::span(kind = "WORKFLOW", end_user_id = user_id, session_id = "s_async")]
async fn async_root(user_id: String) -> Vec<Option<String>> {
    let mut seen = Vec::new();
    for round in 0..20 {
        tokio::task::yield_now().await;
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        seen.push(neatlogs::current_end_user().map(|u| u.id().to_string()));
        let (r, user) = tokio::spawn(async_child(round).in_current_trace())
            .await
            .unwrap();
        assert_eq!(r, round);
        seen.push(user);
    }
    let cx = neatlogs::Context::current();
    let from_blocking = tokio::task::spawn_blocking(move || {
        let _g = cx.attach();
        neatlogs::current_end_user().map(|u| u.id().to_string())
    })
    .await
    .unwrap();
    seen.push(from_blocking);
    seen
}

#[test]
fn async_root_on_multi_thread_runtime_keeps_identity_across_await() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (seen, spans) = capture(|| {
        rt.block_on(async {
            // The root itself runs as a task, so its polls move between
            // workers; the captured context carries the test's capture there.
            let task = async_root("u_812".into()).with_context(neatlogs::Context::current());
            tokio::spawn(task).await.unwrap()
        })
    });
    assert_eq!(seen.len(), 41);
    assert!(
        seen.iter().all(|u| u.as_deref() == Some("u_812")),
        "{seen:?}"
    );

    assert_eq!(spans.len(), 21);
    let root = spans.last().unwrap();
    assert_eq!(root.name(), "async_root");
    assert!(root.is_root());
    assert_eq!(root.session_id(), Some("s_async"));
    for child in &spans[..20] {
        assert_eq!(child.name(), "async_child");
        assert_eq!(child.parent_span_id(), Some(root.span_id()));
        assert_eq!(user_of(child), Some("u_812"));
    }
}

/// A future that is pending once, then ready.
struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

struct NoopWaker;

impl Wake for NoopWaker {
    fn wake(self: Arc<Self>) {}
}

#[neatlogs::span(kind = "WORKFLOW", end_user_id = "u_poll")]
async fn two_polls(log: Arc<Mutex<Vec<Option<String>>>>) {
    let user = || neatlogs::current_end_user().map(|u| u.id().to_string());
    log.lock().unwrap().push(user());
    YieldOnce(false).await;
    log.lock().unwrap().push(user());
}

#[test]
fn async_span_is_entered_on_every_poll_and_only_during_polls() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let ((), spans) = capture(|| {
        let waker = Waker::from(Arc::new(NoopWaker));
        let mut cx = TaskContext::from_waker(&waker);
        let mut fut = Box::pin(two_polls(log.clone()));
        assert!(fut.as_mut().poll(&mut cx).is_pending());
        // Between polls, nothing is current on this thread.
        assert!(neatlogs::current_trace_id().is_none());
        assert!(neatlogs::current_end_user().is_none());
        assert!(fut.as_mut().poll(&mut cx).is_ready());
    });
    let log = log.lock().unwrap().clone();
    assert_eq!(log, [Some("u_poll".into()), Some("u_poll".into())]);
    assert_eq!(spans.len(), 1);
    assert_eq!(spans[0].name(), "two_polls");
}

// --- errors and panics ---------------------------------------------------

#[derive(Debug)]
struct ToolError {
    code: u16,
}

impl std::fmt::Display for ToolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "tool failed with {}", self.code)
    }
}

impl From<std::num::ParseIntError> for ToolError {
    fn from(_: std::num::ParseIntError) -> Self {
        ToolError { code: 400 }
    }
}

#[neatlogs::span(kind = "TOOL")]
fn fallible(input: &str) -> Result<u16, ToolError> {
    if input.is_empty() {
        return Err(ToolError { code: 404 });
    }
    let n: u16 = input.parse()?;
    if n > 500 {
        Err(ToolError { code: n })
    } else {
        Ok(n)
    }
}

#[derive(Debug)]
struct DebugOnly;

#[neatlogs::span(kind = "TOOL")]
fn debug_only() -> Result<(), DebugOnly> {
    Err(DebugOnly)
}

#[neatlogs::span(kind = "LLM")]
async fn fallible_async(fail: bool) -> Result<(), ToolError> {
    tokio::task::yield_now().await;
    if fail {
        Err(ToolError { code: 503 })?;
    }
    Ok(())
}

#[test]
fn err_returns_end_the_span_with_error() {
    let ((), spans) = capture(|| {
        assert_eq!(fallible("7").unwrap(), 7);
        assert!(fallible("").is_err()); // early return
        assert!(fallible("x").is_err()); // `?`
        assert!(fallible("501").is_err()); // tail expression
        assert!(debug_only().is_err());
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        assert!(rt.block_on(fallible_async(true)).is_err());
        assert!(rt.block_on(fallible_async(false)).is_ok());
    });
    let statuses: Vec<Status> = spans.iter().map(|s| s.status().clone()).collect();
    assert_eq!(
        statuses,
        [
            Status::Unset,
            Status::Error("tool failed with 404".into()),
            Status::Error("tool failed with 400".into()),
            Status::Error("tool failed with 501".into()),
            Status::Error("DebugOnly".into()),
            Status::Error("tool failed with 503".into()),
            Status::Unset,
        ]
    );
}

#[neatlogs::span(kind = "TOOL")]
fn panicking_tool() -> u8 {
    panic!("tool exploded")
}

#[neatlogs::span(kind = "WORKFLOW", end_user_id = "u_1")]
fn workflow_calling_a_panicking_tool() -> Result<u8, String> {
    Ok(panicking_tool())
}

#[neatlogs::span(kind = "AGENT")]
async fn panicking_async() -> u8 {
    tokio::task::yield_now().await;
    panic!("agent exploded")
}

#[test]
fn panics_end_the_span_with_error() {
    let ((), spans) = capture(|| {
        let r = catch_unwind(workflow_calling_a_panicking_tool);
        assert!(r.is_err());
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let r = catch_unwind(AssertUnwindSafe(|| rt.block_on(panicking_async())));
        assert!(r.is_err());
    });
    let names: Vec<&str> = spans.iter().map(|s| s.name()).collect();
    assert_eq!(
        names,
        [
            "panicking_tool",
            "workflow_calling_a_panicking_tool",
            "panicking_async"
        ]
    );
    for span in &spans {
        assert_eq!(
            span.status(),
            &Status::Error("panicked".into()),
            "{}",
            span.name()
        );
    }
    assert_eq!(spans[0].parent_span_id(), Some(spans[1].span_id()));
}

// --- hygiene ---------------------------------------------------------------

#[neatlogs::span(kind = "WORKFLOW", end_user_id = __neatlogs_builder, session_id = __neatlogs_result)]
fn named_like_the_locals(
    __neatlogs_builder: &str,
    __neatlogs_result: &str,
    __neatlogs_guard: u32,
) -> Result<u32, String> {
    let __neatlogs_error = __neatlogs_guard * 2;
    Ok(__neatlogs_error)
}

#[neatlogs::span(kind = "WORKFLOW", end_user_id = __neatlogs_future)]
async fn named_like_the_async_locals(__neatlogs_future: &str) -> Result<usize, String> {
    let __neatlogs_builder = __neatlogs_future.len();
    Ok(__neatlogs_builder)
}

#[test]
fn user_variables_named_like_the_macro_locals_do_not_clash() {
    let (v, spans) = capture(|| named_like_the_locals("u_812", "s_9", 21));
    assert_eq!(v, Ok(42));
    assert_eq!(user_of(&spans[0]), Some("u_812"));
    assert_eq!(spans[0].session_id(), Some("s_9"));

    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let (v, spans) = capture(|| rt.block_on(named_like_the_async_locals("u_7")));
    assert_eq!(v, Ok(3));
    assert_eq!(user_of(&spans[0]), Some("u_7"));
}

mod no_prelude {
    #![no_implicit_prelude]

    #[::neatlogs::span(kind = "TOOL", end_user_id = id, tags = ["t"])]
    pub fn sync(id: &str) -> ::core::result::Result<u8, &'static str> {
        ::core::result::Result::Err("failed without a prelude")
    }

    #[::neatlogs::span(kind = "TOOL", end_user_id = id)]
    pub async fn not_sync(id: u64) -> ::core::result::Result<u64, &'static str> {
        ::core::result::Result::Err("async without a prelude")
    }
}

mod shadowing {
    #![allow(dead_code, non_snake_case)]

    pub struct Option;
    pub struct String;
    pub fn Some() {}
    pub fn Err() {}
    pub type Result<T> = core::result::Result<T, &'static str>;

    #[neatlogs::span(kind = "TOOL", end_user_id = "u_1", tags = ["t"])]
    pub fn alias() -> Result<u8> {
        core::result::Result::Err("shadowed names")
    }
}

#[test]
fn shadowed_or_missing_prelude_names_do_not_break_the_expansion() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let ((), spans) = capture(|| {
        assert!(no_prelude::sync("u_1").is_err());
        assert!(rt.block_on(no_prelude::not_sync(5)).is_err());
        assert!(shadowing::alias().is_err());
    });
    let statuses: Vec<Status> = spans.iter().map(|s| s.status().clone()).collect();
    assert_eq!(
        statuses,
        [
            Status::Error("failed without a prelude".into()),
            Status::Error("async without a prelude".into()),
            Status::Error("shadowed names".into()),
        ]
    );
    assert_eq!(user_of(&spans[1]), Some("5"));
}
