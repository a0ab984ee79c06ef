//! Trace your Rust service's AI work — workflows, agents, tools, LLM calls —
//! and attach **the application's end-user** to every trace, so traces can be
//! filtered and analysed per user.
//!
//! # The identity model
//!
//! 1. A trace **root** is the span opened when no span is current, or one
//!    opened with [`new_trace`], which is always a root. It owns the trace's
//!    end-user: **explicit value on the root > `init` default > none**.
//! 2. Every span of the trace belongs to that end-user, across `.await`, tasks
//!    and threads; [`current_end_user`] returns it from any depth.
//! 3. An end-user given to a **nested** span has no effect (a warning says
//!    so, once per call site).
//! 4. The **end-user** ([`EndUserId`], wire key `neatlogs.end_user.id`) is the
//!    person using your product; the **operator** (`Config::operator_id`, wire key
//!    `user.id`) is whoever runs the SDK. They never mix.
//! 5. The source of the id is the source of its metadata; a bad id is dropped
//!    with a warning and the trace has no end-user (never someone else's).
//!
//! ```
//! use serde_json::json;
//!
//! // Once per process (here: a multi-tenant service with no default user).
//! neatlogs::init(neatlogs::Config::from_env().workflow_name("support-chat").default_destination(false))?;
//!
//! fn handle(user_id: &str, plan: &str, message: &str) -> String {
//!     // The root: this request's trace belongs to `user_id`.
//!     let _root = neatlogs::trace("chat")
//!         .end_user_id(user_id)
//!         .end_user_metadata(json!({ "plan": plan }))
//!         .session_id("s_1")
//!         .enter();
//!     retrieve(message)
//! }
//!
//! fn retrieve(query: &str) -> String {
//!     // A child: inherits the end-user; an end_user_id here would be ignored.
//!     let _tool = neatlogs::span(neatlogs::SpanKind::Retriever, "docs").enter();
//!     let user = neatlogs::current_end_user().expect("inside a trace");
//!     format!("{} asked {query}", user.id())
//! }
//!
//! assert_eq!(handle("u_812", "pro", "refunds?"), "u_812 asked refunds?");
//! assert!(neatlogs::shutdown(), "nothing to export, nothing lost");
//! # Ok::<(), neatlogs::InitError>(())
//! ```
//!
//! # Recording on an open span
//!
//! Whatever holds the open span — the [`SpanGuard`] of `enter()`, the
//! [`Span`] of `start()`, the [`Instrumented`] future before its first poll,
//! the current span in [`with_current_span`] — records through one trait,
//! [`SpanHandle`], every method `&mut self`:
//!
//! ```
//! use neatlogs::{llm::Usage, SpanHandle, SpanKind};
//! # neatlogs::testing::with_capture(|| {
//! let mut call = neatlogs::span(SpanKind::Llm, "chat gpt-4o").enter();
//! call.set_model("gpt-4o");
//! call.set_usage(Usage::new(120, 48));
//! neatlogs::with_current_span(|s| s.set_finish_reason("stop"));
//! # });
//! ```
//!
//! # A pipeline as a value
//!
//! [`init`] starts a pipeline and installs it for the process.
//! [`Neatlogs::new`] starts the same pipeline without installing it: roots
//! opened where it is the thread's default report to it. Tests build one
//! each, with their own configuration, in one binary.
//!
//! # Three ways to open a span
//!
//! ```
//! # neatlogs::testing::with_capture(|| {
//! # let uid = "u_1";
//! // 1. A guard (sync code): the span ends when the guard drops.
//! let root = neatlogs::trace("chat").end_user_id(uid).enter();
//! drop(root);
//!
//! // 2. A closure.
//! let answer = neatlogs::trace("chat").end_user_id(uid).in_scope(|| 42);
//!
//! // 3. A future: the span is entered on every poll, on any executor.
//! let fut = neatlogs::trace("chat").end_user_id(uid).instrument(async { 42 });
//! # drop(fut); let _ = answer;
//! # });
//! ```
//!
//! Across tasks and threads, carry the context explicitly. Root or child is
//! decided where a builder is made: a span made inside a task spawned without
//! the context starts a trace of its own, while `tokio::spawn(trace("job")
//! .instrument(..))` made inside a request is the request's child. A job that
//! is work of its own says so with [`new_trace`] (a new root, linked to the
//! request).
//!
//! ```
//! use neatlogs::FutureExt;
//! # neatlogs::testing::with_capture(|| {
//! let _root = neatlogs::trace("chat").end_user_id("u_812").enter();
//! // tokio::spawn(work().in_current_trace());
//! let task = async { neatlogs::current_end_user() }.in_current_trace();
//! // std::thread::spawn / spawn_blocking: capture, then attach on the other side.
//! let cx = neatlogs::Context::current();
//! std::thread::spawn(move || {
//!     let _g = cx.attach();
//!     assert_eq!(neatlogs::current_end_user().unwrap().id().as_str(), "u_812");
//! }).join().unwrap();
//! # drop(task);
//! # });
//! ```
//!
//! # The attribute macro
//!
//! `#[neatlogs::span]` makes a function a span: a trace root when called
//! outside any trace (then its `end_user_id`, `end_user_metadata` and
//! `session_id` set the identity), a child otherwise. `async fn`s are
//! instrumented on every poll; an `Err` return or a panic marks the span
//! ERROR. See [`macro@span`] for every argument.
//!
//! ```
//! #[neatlogs::span(kind = "WORKFLOW", end_user_id = user_id)]
//! fn handle(user_id: &str, question: &str) -> Result<usize, std::fmt::Error> {
//!     Ok(search(question).len())
//! }
//!
//! #[neatlogs::span(kind = "TOOL")]
//! fn search(query: &str) -> Vec<String> {
//!     vec![query.to_owned()]
//! }
//!
//! let (_, spans) = neatlogs::testing::with_capture(|| handle("u_812", "refunds?"));
//! assert_eq!(spans[1].name(), "handle");
//! assert_eq!(spans[0].end_user().unwrap().id().as_str(), "u_812");
//! ```
//!
//! # What it costs
//!
//! **Off** (no [`init`], no test capture): every call checks one relaxed
//! atomic and returns an inert value — no allocation, no clock read, no
//! thread-local access. **On**: opening a span reads the thread-local stack,
//! draws a random id and reads the TSC clock, with no allocation for a child
//! with a static name; a root also resolves identity once (one `Arc` shared
//! by all its spans, so children never copy the end-user). A finished span
//! goes into its thread's buffer; the buffer is handed to a bounded queue in
//! one non-blocking operation when the thread has no open span left (a root
//! ends, a poll returns) or holds 64 spans; the hand-off makes no system
//! call unless it completes a full export batch, which wakes the
//! `neatlogs-export` thread (otherwise a timer does). Batching and OTLP
//! encoding happen on that thread, written straight from the finished
//! records. What does not fit in the queue is dropped and counted in
//! [`stats`]; the caller never waits. Measured figures are in
//! `BENCHMARKS.md`.
//!
//! # How a span travels, and where each step lives
//!
//! The modules follow a span from `enter()` to bytes, top to bottom:
//!
//! 1. **Configured** — [`trace`] / [`span()`](fn@span) make a [`SpanBuilder`] (`builder.rs`).
//!    A root resolves its identity once (`identity.rs`: one function serves
//!    roots and [`init`]) into the trace's shared state (`record.rs`), which
//!    also fixes where its spans go: the process's pipeline, a test capture
//!    besides, or a [`Neatlogs`] instance instead (`capture.rs`,
//!    `instance.rs`).
//! 2. **Open** — an open span (`open.rs`) lives on its thread's stack
//!    (`local.rs`) behind a [`SpanGuard`] (`guard.rs`), or inside an
//!    [`Instrumented`] future between polls (`instrument.rs`); every holder
//!    records through [`SpanHandle`] (`handle.rs`). Children
//!    find their parent through the stack; other threads and tasks through a
//!    [`Context`] (`context.rs`).
//! 3. **Ended** — it becomes an immutable [`SpanRecord`](export::SpanRecord) (`record.rs`), goes
//!    into its thread's batch (`local.rs`), and the batch is handed to the
//!    bounded export queue when the thread's stack empties.
//! 4. **Exported** — the `neatlogs-export` thread packs batches and wakes
//!    per batch or per timer (`export/pipeline.rs`), writes OTLP protobuf
//!    or JSON straight from the records (`export/otlp/`), with the keys of
//!    the wire contract ([`wire`]), and sends them (`export/http.rs`,
//!    `export/file.rs`, or your own [`export::Exporter`]).
//!
//! The integrations (`tracing/`, `tower.rs`, `propagation.rs`, `openai/`)
//! sit on top: they use the public API and `seam.rs`, the one module that
//! names what else of the core they need; no core module names them.
#![warn(missing_docs)]
#![deny(unsafe_code)]

mod builder;
mod capture;
mod clock;
mod config;
mod content;
mod context;
mod error;
pub mod export;
mod global;
mod guard;
mod handle;
mod id;
mod identity;
mod instance;
mod instrument;
mod kind;
pub mod llm;
mod local;
mod open;
#[cfg(feature = "async-openai")]
pub mod openai;
#[cfg(feature = "http")]
pub mod propagation;
mod record;
mod runtime;
mod sampling;
mod seam;
mod session;
mod stats;
mod tail;
pub mod testing;
#[cfg(feature = "tower")]
pub mod tower;
#[cfg(feature = "tracing")]
pub mod tracing;
mod usage;
mod value;

pub use builder::{new_trace, span, trace, SpanBuilder};
pub use config::Config;
pub use context::{
    current_end_user, current_session_id, current_span_id, current_trace_id, Context, ContextGuard,
    FutureExt, WithContext,
};
pub use error::{InitError, ParseError};
pub use guard::{with_current_span, ActiveSpan, SpanGuard};
pub use handle::SpanHandle;
pub use id::{SpanId, TraceId};
pub use identity::{
    EndUser, EndUserId, IdentityError, IntoEndUserId, OperatorId, MAX_END_USER_ID_CHARS,
    MAX_END_USER_METADATA_BYTES, MAX_SESSION_ID_CHARS,
};
pub use instrument::{Instrumented, Span};
pub use kind::SpanKind;
pub use runtime::{
    flush, flush_with_timeout, init, is_initialized, shutdown, shutdown_with_timeout, stats,
    DefaultGuard, Neatlogs, DEFAULT_FLUSH_TIMEOUT,
};
pub use sampling::{Sampler, SamplingRoot};
pub use session::generate_session_id;
pub use stats::Stats;
pub use tail::TailKeep;
pub use usage::DEFAULT_CARDINALITY_LIMIT;

/// The wire contract: every attribute key and fixed value this SDK writes
/// (the `neatlogs-wire` crate).
#[doc(no_inline)]
pub use neatlogs_wire as wire;

// The attribute macro lives in the macro namespace, beside the function
// `span` in the value namespace: both are reached as `neatlogs::span`.
#[cfg(feature = "macros")]
pub use neatlogs_macros::span;

/// Not public API: what `#[neatlogs::span]` expands to. May change in any release.
#[doc(hidden)]
#[path = "macro_support.rs"]
pub mod __private;
