//! The `#[neatlogs::span]` attribute macro.
//!
//! Use it through the `neatlogs` crate (`neatlogs::span`), which re-exports
//! it: the code it generates calls `neatlogs`, and depending on `neatlogs`
//! alone is enough. The documentation is on [`span`].
//!
//! The crate is split the way `tracing-attributes` is: `attr.rs` parses the
//! arguments, `expand.rs` generates the code, and this file holds the entry
//! point and the user documentation.
#![warn(missing_docs)]
#![deny(unsafe_code)]

use proc_macro::TokenStream;

mod attr;
mod expand;
mod kinds;

/// Turn a function into a span: the function's calls are traced.
///
/// ```
/// # #[derive(Debug)] struct AppError;
/// # impl std::fmt::Display for AppError {
/// #     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str("no answer") }
/// # }
/// struct Request { user_id: String, session: String, question: String }
///
/// #[neatlogs::span(kind = "WORKFLOW", end_user_id = &request.user_id, session_id = &request.session)]
/// fn handle_request(request: Request) -> Result<String, AppError> {
///     let docs = search(&request.question);
///     Ok(format!("{} documents", docs.len()))
/// }
///
/// #[neatlogs::span(kind = "TOOL")]
/// fn search(query: &str) -> Vec<String> {
///     // A child of `handle_request`'s span: same trace, same end-user.
///     let user = neatlogs::current_end_user().expect("inside a trace");
///     assert_eq!(user.id().as_str(), "u_812");
///     vec![query.to_owned()]
/// }
///
/// let (reply, spans) = neatlogs::testing::with_capture(|| {
///     handle_request(Request {
///         user_id: "u_812".into(),
///         session: "s_1".into(),
///         question: "refunds?".into(),
///     })
/// });
/// assert_eq!(reply.unwrap(), "1 documents");
/// // Spans finish innermost first.
/// assert_eq!(spans[0].name(), "search");
/// assert_eq!(spans[1].name(), "handle_request");
/// assert!(spans[1].is_root());
/// assert_eq!(spans[0].parent_span_id(), Some(spans[1].span_id()));
/// ```
///
/// # Arguments
///
/// | argument | value | default |
/// |---|---|---|
/// | `kind` | a string literal: `"WORKFLOW"`, `"AGENT"`, `"CHAIN"`, `"TOOL"`, `"RETRIEVER"`, `"EMBEDDING"`, `"GUARDRAIL"`, `"MCP_TOOL"`, `"LLM"` | `"CHAIN"` |
/// | `name` | a string literal | the function's name |
/// | `end_user_id` | an expression: `&str`, `String`, an integer, `uuid::Uuid`, `EndUserId`, or an `Option` of one | the `init` default |
/// | `end_user_metadata` | an expression of any `serde::Serialize` type that serializes to a JSON object (taken by reference) | none |
/// | `session_id` | an expression: anything `AsRef<str>` | the `init` session |
/// | `tags` | a list, `["beta", plan]`, of anything `Into<String>` | none |
/// | `skip(a, b)` | arguments left out of the captured input | every named argument is captured |
/// | `skip_all` | (a flag) capture no input | |
/// | `input` | an expression recorded as the input instead of the arguments (taken by reference) | the arguments |
/// | `skip_output` | (a flag) do not record the return value | the return value is recorded |
/// | `crate` | the path `neatlogs` is reachable under, for crates that re-export it: `crate = my_sdk::neatlogs` | `::neatlogs` |
///
/// Each argument may be given once. A request handler or job is usually a
/// `"WORKFLOW"`; give every function that can start a trace a `kind`.
///
/// # Roots, children, and when the identity expressions run
///
/// Called when no span is current, the function is a **trace root**: then
/// `end_user_id`, `end_user_metadata` and `session_id` set the trace's
/// identity, and beat the `init` defaults (an empty id counts as not given).
/// Called inside a trace, it is a **child**: it belongs to the root's
/// end-user, and those three (and `tags`) have no effect; the first such
/// call of each function logs a warning naming the trace it joined (later
/// ones log at `debug`). A function that must start a trace of its own
/// wherever it is called opens one with `neatlogs::new_trace(..)` instead.
///
/// The expressions are evaluated inside the function, with the arguments in
/// scope, before the body runs — **and only when the span is a root**. On a
/// nested span, and when tracing is off (no `init`, no test capture), they
/// are not evaluated at all: an expensive lookup there costs nothing, and has
/// no side effects. They are still type-checked everywhere. Arguments are
/// borrowed, not moved, by `end_user_metadata` (it serializes a reference);
/// write `&request.user_id` rather than `request.user_id` to keep a `String`
/// argument usable in the body.
///
/// ```
/// use serde_json::json;
///
/// #[neatlogs::span(
///     kind = "AGENT",
///     name = "support-agent",
///     end_user_id = user_id,
///     end_user_metadata = json!({ "plan": plan }),
///     session_id = format!("chat-{chat}"),
///     tags = ["beta", plan],
/// )]
/// fn answer(user_id: u64, plan: &str, chat: u32) -> String {
///     lookup(user_id)
/// }
///
/// // Nested: the `end_user_id` expression never runs here.
/// #[neatlogs::span(kind = "RETRIEVER", end_user_id = expensive_lookup(user_id))]
/// fn lookup(user_id: u64) -> String {
///     format!("profile of {user_id}")
/// }
///
/// fn expensive_lookup(_: u64) -> String {
///     unreachable!("not evaluated on a nested span")
/// }
///
/// let (_, spans) = neatlogs::testing::with_capture(|| answer(812, "pro", 7));
/// let root = &spans[1];
/// assert_eq!(root.name(), "support-agent");
/// assert_eq!(root.kind(), neatlogs::SpanKind::Agent);
/// let user = root.end_user().unwrap();
/// assert_eq!(user.id().as_str(), "812");
/// assert_eq!(user.metadata::<serde_json::Value>().unwrap()["plan"], "pro");
/// assert_eq!(root.session_id(), Some("chat-7"));
/// assert_eq!(root.tags(), ["beta", "pro"]);
/// ```
///
/// # Inputs and outputs
///
/// Like the Python SDK's decorator, the span records what the function was
/// given and what it returned (`input.value` / `output.value`, written as
/// JSON with `application/json` as the MIME type):
///
/// - the **input** is one JSON object, argument name → value, of every
///   argument bound to a plain name (`x: T`, `mut x: T`); `self` and
///   destructuring patterns (`(a, b): (u8, u8)`) are not captured;
/// - the **output** is the return value; for a `Result`, its `Ok` value (an
///   `Err` records no output and marks the span ERROR); `()` records nothing;
/// - each value is its `serde::Serialize` JSON when its type is `Serialize`,
///   else its `Debug` text as a JSON string, else `"<type name>"`: an
///   ordinary function always compiles. The choice is made where the macro
///   expands, from what the type is known to implement there: a generic
///   `T: Debug` is captured with `Debug` even if the concrete type is
///   `Serialize`.
///
/// Nothing is serialised when the span is not recorded (tracing off, or
/// `Config::capture_content(false)` / `NEATLOGS_TRACE_CONTENT=false`). The
/// input is captured by reference before the body runs; the output after it,
/// on the span's own thread. Captured strings go through
/// `Config::mask` on the export thread before they leave the process.
///
/// ```
/// #[derive(serde::Serialize)]
/// struct Query { text: String, limit: u32 }
///
/// #[neatlogs::span(kind = "TOOL", skip(api_key))]
/// fn search(query: &Query, api_key: &str) -> Result<Vec<String>, std::fmt::Error> {
///     Ok(vec![format!("{} ({})", query.text, api_key.len())])
/// }
///
/// #[neatlogs::span(kind = "RETRIEVER", input = query, skip_output)]
/// fn embed(query: &str, model: &Model) -> Vec<f32> {
///     vec![0.0; 3]
/// }
/// # struct Model;
///
/// let (_, spans) = neatlogs::testing::with_capture(|| {
///     search(&Query { text: "refunds".into(), limit: 5 }, "sk-secret").unwrap();
///     embed("refunds", &Model);
/// });
/// let input = spans[0].input().unwrap().as_json().unwrap();
/// assert_eq!(input, &serde_json::json!({ "query": { "text": "refunds", "limit": 5 } }));
/// let output = spans[0].output().unwrap().as_json().unwrap();
/// assert_eq!(output, &serde_json::json!(["refunds (9)"]));
/// assert_eq!(spans[1].input().unwrap().as_json().unwrap(), &serde_json::json!("refunds"));
/// assert!(spans[1].output().is_none());
/// ```
///
/// The span also carries where the function is: `code.function.name`,
/// `code.namespace` (the module path), `code.file.path` and
/// `code.line.number`, static strings written by the macro.
///
/// # Errors and panics
///
/// When the return type is a path whose last segment is `Result`
/// (`Result<T, E>`, `io::Result<T>`, `anyhow::Result<T>`), an `Err` — from a
/// tail expression, an early `return` or `?` — ends the span with status
/// ERROR and a message: the error's `Display` text, else its `Debug` text,
/// else its type name (an error type with neither still compiles). A type
/// that is only *named* `Result` (your own enum) is left alone. A panic ends
/// the span with ERROR (`"panicked"`) as it unwinds.
///
/// ```
/// #[derive(Debug)]
/// struct QuotaExceeded { limit: u32 } // no Display: the Debug text is used
///
/// #[neatlogs::span(kind = "LLM")]
/// fn complete(prompt: &str) -> Result<String, QuotaExceeded> {
///     if prompt.is_empty() {
///         return Ok(String::new());
///     }
///     Err(QuotaExceeded { limit: 3 })
/// }
///
/// let (_, spans) = neatlogs::testing::with_capture(|| complete("hi"));
/// assert_eq!(
///     spans[0].status(),
///     &neatlogs::export::Status::Error("QuotaExceeded { limit: 3 }".into())
/// );
/// ```
///
/// # Async functions
///
/// An `async fn`'s body becomes a future of its own, wrapped so that the span
/// is entered on **every poll** and ends when the future completes (or is
/// dropped); no guard is held across `.await`. The span opens when the
/// function's future is first polled, in the context that polls it. The
/// returned future is `Send` whenever the body's is, so it can be given to
/// `tokio::spawn`.
///
/// ```
/// #[neatlogs::span(kind = "WORKFLOW", end_user_id = user_id)]
/// async fn chat(user_id: &str) -> usize {
///     tokio::task::yield_now().await;
///     // Still the root's end-user after the await, on whichever thread.
///     neatlogs::current_end_user().map_or(0, |u| u.id().as_str().len())
/// }
///
/// fn assert_send<T: Send>(t: T) -> T { t }
///
/// let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// let (n, spans) = neatlogs::testing::with_capture(|| rt.block_on(assert_send(chat("u_812"))));
/// assert_eq!(n, 5);
/// assert_eq!(spans[0].end_user().unwrap().id().as_str(), "u_812");
/// ```
///
/// It works the same on `async fn` in traits, and on methods of an
/// `#[async_trait]` impl: there the function returns
/// `Box::pin(async move { .. })`, and the macro instruments that inner
/// future (as `tracing-attributes` does), not the call that creates it.
///
/// ## What it expands to
///
/// This function:
///
/// ```ignore
/// #[neatlogs::span(kind = "WORKFLOW", end_user_id = request.user_id.as_str(), session_id = &request.session)]
/// async fn handle_request(request: Request) -> Result<Response, AppError> {
///     let answer = agent(&request).await?;
///     Ok(Response { answer })
/// }
/// ```
///
/// becomes (a snapshot, checked by this crate's tests):
///
/// ```ignore
#[doc = include_str!("../tests/snapshots/async_fn.expanded.rs")]
/// ```
///
/// - `__neatlogs_builder` decides root or child from the span current at the
///   first poll; the identity expressions run only for a root.
/// - The `if false { return .. }` never runs: it fixes the inner block's type
///   to the declared return type before the body is checked, so `?` converts
///   errors exactly as in the original function.
/// - The body runs in its own `async move` block so that `return` and `?`
///   come back to the check for `Err`, which runs while the span is current.
/// - `SpanBuilder::instrument` enters the span on every poll. Nothing
///   `!Send` lives across an `.await`.
///
/// A sync function gets a guard (`SpanBuilder::enter`) as a local of its body
/// instead; when it returns a value, the body runs in a `move` closure so
/// that `return` and `?` come back to the `Err` check and the output capture.
///
/// # Hygiene
///
/// Generated locals are prefixed `__neatlogs_` and are hygienic
/// (`Span::mixed_site`): an argument or variable of yours with the same name
/// neither clashes with them nor is captured by them. Every path is absolute
/// (`::neatlogs::__private::..`, a hidden module that is not public API), so
/// the macro works in modules that define their own `Result`, `Option` or
/// `String`, and under `#![no_implicit_prelude]`. With `crate = path`, every
/// path goes through `path` instead.
///
/// # Compile errors
///
/// Mistakes are reported at your own tokens, with what to write instead: an
/// unknown kind (`"WORKFLOWW"`: did you mean `"WORKFLOW"`?), a kind that is
/// not a string literal, a missing value (`kind =`), an unknown argument
/// (`end_user`: did you mean `end_user_id`?), an argument given twice, the
/// attribute on something that is not a function or on a `const fn`, an
/// `end_user_id` of a type that cannot be an end-user id,
/// `end_user_metadata` that is not `Serialize`, `skip(x)` naming no argument
/// of the function, and `input`, `skip_all` and `skip(..)` given together. A function body with a syntax
/// error still expands, so rustc reports that error where it is.
///
/// ```compile_fail
/// #[neatlogs::span(kind = "WORKFLOWW")] // error: did you mean "WORKFLOW"?
/// fn handle() {}
/// ```
#[proc_macro_attribute]
pub fn span(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::span(args.into(), item.into()).into()
}

#[cfg(test)]
mod tests {
    /// The expansion shown in the docs. `NEATLOGS_BLESS=1` rewrites it.
    #[test]
    fn async_fn_expansion_matches_the_documented_snapshot() {
        let args = quote::quote!(
            kind = "WORKFLOW",
            end_user_id = request.user_id.as_str(),
            session_id = &request.session
        );
        let item = quote::quote! {
            async fn handle_request(request: Request) -> Result<Response, AppError> {
                let answer = agent(&request).await?;
                Ok(Response { answer })
            }
        };
        let expanded = crate::expand::span(args, item);
        let file: syn::File = syn::parse2(expanded).expect("the expansion parses");
        let pretty = prettyplease::unparse(&file);
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/snapshots/async_fn.expanded.rs"
        );
        if std::env::var_os("NEATLOGS_BLESS").is_some() {
            std::fs::write(path, &pretty).expect("write the snapshot");
        }
        let snapshot = std::fs::read_to_string(path).unwrap_or_default();
        assert_eq!(
            snapshot, pretty,
            "the expansion changed; run with NEATLOGS_BLESS=1 and review the diff"
        );
    }
}
