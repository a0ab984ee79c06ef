//! The `tracing` integration: `tracing` spans inside neatlogs traces and the
//! reverse, across `.await`, tasks and threads; fields, `record()`, events,
//! GenAI fields as LLM spans on the wire, roots with the default
//! end-user, and log lines that carry the trace id.

#[path = "common_collect.rs"]
mod common_collect;
mod export_support;

use neatlogs::SpanHandle;
use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use neatlogs::export::{SpanRecord, Status, Value};
use neatlogs::{FutureExt, SpanKind};
use tracing::Instrument;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::Layer;

use common_collect::Collect;
use export_support::{app_spans, in_child, int_attr, str_attr, Receiver};
use neatlogs::Neatlogs;

/// A subscriber with the neatlogs layer alone.
fn subscriber() -> impl tracing::Subscriber + Send + Sync {
    tracing_subscriber::registry().with(neatlogs::tracing::layer())
}

/// Run `f` with the layer as this thread's subscriber and a capture.
fn captured<R>(f: impl FnOnce() -> R) -> (R, Vec<SpanRecord>) {
    tracing::subscriber::with_default(subscriber(), || neatlogs::testing::with_capture(f))
}

fn by_name<'a>(spans: &'a [SpanRecord], name: &str) -> &'a SpanRecord {
    spans
        .iter()
        .find(|s| s.name() == name)
        .unwrap_or_else(|| panic!("no span `{name}` in {spans:?}"))
}

fn user_of(span: &SpanRecord) -> Option<&str> {
    span.end_user().map(|u| u.id().as_str())
}

#[test]
fn tracing_spans_nest_under_neatlogs_spans_and_the_reverse() {
    let ((), spans) = captured(|| {
        let _root = neatlogs::trace("chat").end_user_id("u_1").enter();
        let retrieve = tracing::info_span!("retrieve", top_k = 3_u64, score = 0.5, exact = true);
        let _in_retrieve = retrieve.enter();
        assert_eq!(neatlogs::current_end_user().unwrap().id().as_str(), "u_1");
        assert_eq!(
            neatlogs::current_span_id(),
            Some(neatlogs::current_span_id().unwrap()),
        );
        let _search = neatlogs::span(SpanKind::Tool, "search").enter();
        let inner = tracing::info_span!("parse", neatlogs.span.kind = "retriever", who = ?("a", 1));
        inner.in_scope(|| {
            assert_eq!(neatlogs::current_end_user().unwrap().id().as_str(), "u_1");
        });
    });
    assert_eq!(spans.len(), 4, "{spans:?}");
    let chat = by_name(&spans, "chat");
    let retrieve = by_name(&spans, "retrieve");
    let search = by_name(&spans, "search");
    let parse = by_name(&spans, "parse");
    assert_eq!(retrieve.parent_span_id(), Some(chat.span_id()));
    assert_eq!(search.parent_span_id(), Some(retrieve.span_id()));
    assert_eq!(parse.parent_span_id(), Some(search.span_id()));
    assert!(spans.iter().all(|s| s.trace_id() == chat.trace_id()));
    assert!(spans.iter().all(|s| user_of(s) == Some("u_1")));
    // Typed fields, the default kind of a child, the kind field.
    assert_eq!(retrieve.kind(), SpanKind::Chain);
    assert_eq!(retrieve.attribute("top_k"), Some(&Value::I64(3)));
    assert_eq!(retrieve.attribute("score"), Some(&Value::F64(0.5)));
    assert_eq!(retrieve.attribute("exact"), Some(&Value::Bool(true)));
    assert_eq!(parse.kind(), SpanKind::Retriever);
    assert_eq!(parse.attribute("neatlogs.span.kind"), None);
    assert_eq!(
        parse.attribute("who").and_then(Value::as_str),
        Some("(\"a\", 1)")
    );
}

#[test]
fn the_current_tracing_span_and_the_current_end_user_agree() {
    let ((), spans) = captured(|| {
        let root = tracing::info_span!("request", neatlogs.end_user.id = "u_7");
        assert!(neatlogs::current_end_user().is_none());
        root.in_scope(|| {
            assert_eq!(neatlogs::current_end_user().unwrap().id().as_str(), "u_7");
            let child = tracing::info_span!("step");
            child.in_scope(|| {
                assert_eq!(neatlogs::current_end_user().unwrap().id().as_str(), "u_7");
            });
            // An explicit parent that is not the current span: its parent is
            // the one named, not the one entered.
            let sibling = tracing::info_span!(parent: &root, "sibling");
            let _g = child.enter();
            drop(sibling);
        });
        assert!(neatlogs::current_end_user().is_none());
    });
    let request = by_name(&spans, "request");
    assert!(request.is_root());
    assert_eq!(request.kind(), SpanKind::Workflow);
    assert_eq!(user_of(request), Some("u_7"));
    assert_eq!(
        by_name(&spans, "sibling").parent_span_id(),
        Some(request.span_id())
    );
    assert_eq!(
        by_name(&spans, "step").parent_span_id(),
        Some(request.span_id())
    );
}

#[test]
fn record_after_creation_updates_the_span() {
    let ((), spans) = captured(|| {
        let _root = neatlogs::trace("chat").enter();
        let span = tracing::info_span!(
            "call",
            status = tracing::field::Empty,
            attempts = 1_i64,
            otel.name = tracing::field::Empty
        );
        span.record("status", "done");
        span.record("attempts", 2_i64);
        span.record("otel.name", "renamed call");
    });
    let call = by_name(&spans, "renamed call");
    assert_eq!(
        call.attribute("status").and_then(Value::as_str),
        Some("done")
    );
    assert_eq!(call.attribute("attempts"), Some(&Value::I64(2)));
    assert_eq!(call.attribute("otel.name"), None);
}

#[test]
fn events_become_span_events_and_errors_mark_the_span() {
    let ((), spans) = captured(|| {
        let _root = neatlogs::trace("chat").enter();
        let work = tracing::info_span!("work");
        work.in_scope(|| {
            tracing::info!(rows = 3_u64, "loaded");
            tracing::error!(code = "E42", "write failed");
        });
        // An event in a neatlogs span opened inside a tracing span goes to
        // the neatlogs span, the nearer one.
        work.in_scope(|| {
            let _tool = neatlogs::span(SpanKind::Tool, "tool").enter();
            tracing::warn!("slow");
        });
        tracing::info!("on the root");
    });
    let work = by_name(&spans, "work");
    let events = work.events();
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(events[0].name(), "loaded");
    assert_eq!(
        events[0].attribute("level").and_then(Value::as_str),
        Some("INFO")
    );
    assert_eq!(events[0].attribute("rows"), Some(&Value::I64(3)));
    assert!(events[0]
        .attribute("target")
        .and_then(Value::as_str)
        .is_some_and(|t| t.contains("tracing_layer")));
    assert_eq!(events[1].name(), "write failed");
    assert_eq!(
        events[1].attribute("code").and_then(Value::as_str),
        Some("E42")
    );
    assert!(events[1].unix_nanos() >= events[0].unix_nanos());
    assert_eq!(work.status(), &Status::Error("write failed".into()));
    let tool = by_name(&spans, "tool");
    assert_eq!(tool.events().len(), 1);
    assert_eq!(tool.events()[0].name(), "slow");
    assert_eq!(tool.status(), &Status::Unset, "a warning is not an error");
    assert_eq!(by_name(&spans, "chat").events()[0].name(), "on the root");
}

#[test]
fn error_events_can_leave_the_status_alone() {
    let layer = neatlogs::tracing::layer().error_events_set_status(false);
    let ((), spans) =
        tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
            neatlogs::testing::with_capture(|| {
                let _root = neatlogs::trace("chat").enter();
                tracing::error!("bad");
            })
        });
    assert_eq!(spans[0].events()[0].name(), "bad");
    assert_eq!(spans[0].status(), &Status::Unset);
}

#[test]
fn spans_the_filter_drops_are_not_recorded_and_are_skipped_as_parents() {
    let subscriber = tracing_subscriber::registry().with(
        neatlogs::tracing::layer().with_filter(tracing_subscriber::filter::LevelFilter::INFO),
    );
    let ((), spans) = tracing::subscriber::with_default(subscriber, || {
        neatlogs::testing::with_capture(|| {
            let _root = neatlogs::trace("chat").enter();
            let noisy = tracing::debug_span!("noisy");
            let _n = noisy.enter();
            tracing::debug!("dropped too");
            tracing::info_span!("kept").in_scope(|| {});
        })
    });
    let names: Vec<_> = spans.iter().map(SpanRecord::name).collect();
    assert_eq!(names, ["kept", "chat"]);
    assert_eq!(spans[0].parent_span_id(), Some(spans[1].span_id()));
    assert!(spans[1].events().is_empty());
}

#[test]
fn genai_fields_become_the_llm_call() {
    let ((), spans) = captured(|| {
        let _root = neatlogs::trace("chat").end_user_id("u_1").enter();
        let span = tracing::info_span!(
            "chat gpt-4o",
            gen_ai.operation.name = "chat",
            gen_ai.provider.name = "openai",
            gen_ai.request.model = "gpt-4o",
            gen_ai.request.temperature = 0.2,
            gen_ai.request.max_tokens = 64_i64,
            gen_ai.input.messages = r#"[{"role":"system","parts":[{"type":"text","content":"Be brief."}]},{"role":"user","parts":[{"type":"text","content":"Refund?"}]}]"#,
            gen_ai.response.model = tracing::field::Empty,
            gen_ai.response.id = tracing::field::Empty,
            gen_ai.usage.input_tokens = tracing::field::Empty,
            gen_ai.usage.output_tokens = tracing::field::Empty,
            gen_ai.response.finish_reasons = tracing::field::Empty,
            gen_ai.output.messages = tracing::field::Empty,
            gen_ai.agent.name = "helper",
        );
        span.record("gen_ai.response.model", "gpt-4o-2024-08-06");
        span.record("gen_ai.response.id", "resp_1");
        span.record("gen_ai.usage.input_tokens", 12_u64);
        span.record("gen_ai.usage.output_tokens", 7_u64);
        span.record("gen_ai.response.finish_reasons", r#"["stop"]"#);
        span.record(
            "gen_ai.output.messages",
            r#"[{"role":"assistant","parts":[{"type":"text","content":"Sent Monday."}],"finish_reason":"stop"}]"#,
        );
        // A library that declares only `gen_ai.*` fields it records later
        // still makes an LLM span.
        let late = tracing::info_span!("late", gen_ai.request.model = tracing::field::Empty);
        late.record("gen_ai.request.model", "m");
    });
    let call = by_name(&spans, "chat gpt-4o");
    assert_eq!(call.kind(), SpanKind::Llm);
    let llm = call.llm().expect("an LLM call");
    assert_eq!(llm.provider(), Some("openai"));
    assert_eq!(llm.request_model(), Some("gpt-4o"));
    assert_eq!(llm.model(), Some("gpt-4o-2024-08-06"));
    assert_eq!(llm.response_id(), Some("resp_1"));
    assert_eq!(llm.usage().prompt_tokens(), Some(12));
    assert_eq!(llm.usage().completion_tokens(), Some(7));
    assert_eq!(llm.usage().total_tokens(), Some(19));
    assert_eq!(llm.finish_reason(), Some("stop"));
    let input: Vec<_> = llm
        .input_messages()
        .iter()
        .map(|m| (m.role(), m.content()))
        .collect();
    assert_eq!(input, [("system", "Be brief."), ("user", "Refund?")]);
    assert_eq!(llm.output_messages()[0].content(), "Sent Monday.");
    let params = llm.invocation_parameters().unwrap();
    assert_eq!(params["temperature"], 0.2);
    assert_eq!(params["max_tokens"], 64);
    // Mapped fields are not repeated as attributes; others stay.
    assert_eq!(call.attribute("gen_ai.request.model"), None);
    assert_eq!(
        call.attribute("gen_ai.agent.name").and_then(Value::as_str),
        Some("helper")
    );
    assert_eq!(by_name(&spans, "late").kind(), SpanKind::Llm);
}

#[test]
fn a_bad_kind_or_bad_messages_are_kept_as_data_not_a_panic() {
    let ((), spans) = captured(|| {
        let _root = neatlogs::trace("chat").enter();
        tracing::info_span!(
            "odd",
            neatlogs.span.kind = "SPACESHIP",
            gen_ai.input.messages = "not json",
            gen_ai.usage.input_tokens = "twelve"
        )
        .in_scope(|| {});
    });
    let odd = by_name(&spans, "odd");
    assert_eq!(odd.kind(), SpanKind::Llm, "the gen_ai fields decide");
    assert_eq!(
        odd.attribute("gen_ai.input.messages")
            .and_then(Value::as_str),
        Some("not json")
    );
    assert_eq!(
        odd.attribute("gen_ai.usage.input_tokens")
            .and_then(Value::as_str),
        Some("twelve")
    );
}

#[test]
fn tracing_instrument_and_in_current_trace_carry_the_trace_into_tasks() {
    // The runtime's workers need the subscriber too: the same one as this
    // thread's, their default from their start to their end.
    thread_local! {
        static WORKER_DEFAULT: std::cell::RefCell<Option<tracing::dispatcher::DefaultGuard>> =
            const { std::cell::RefCell::new(None) };
    }
    let dispatch = tracing::Dispatch::new(subscriber());
    let _this_thread = tracing::dispatcher::set_default(&dispatch);
    let for_workers = dispatch.clone();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .on_thread_start(move || {
            let guard = tracing::dispatcher::set_default(&for_workers);
            WORKER_DEFAULT.with(|d| *d.borrow_mut() = Some(guard));
        })
        .on_thread_stop(|| drop(WORKER_DEFAULT.with(|d| d.borrow_mut().take())))
        .build()
        .unwrap();
    let ((), spans) = neatlogs::testing::with_capture(|| {
        let root = neatlogs::trace("chat").end_user_id("u_1").enter();
        let parent = tracing::info_span!("handler");
        let entered = parent.enter();
        let a = runtime.spawn(
            async {
                tokio::task::yield_now().await;
                assert_eq!(neatlogs::current_end_user().unwrap().id().as_str(), "u_1");
                neatlogs::span(SpanKind::Tool, "in instrumented task").in_scope(|| {});
            }
            .instrument(tracing::info_span!("instrumented")),
        );
        let b = runtime.spawn(
            async {
                tokio::task::yield_now().await;
                tracing::info_span!("in carried task").in_scope(|| {
                    assert_eq!(neatlogs::current_end_user().unwrap().id().as_str(), "u_1");
                });
            }
            .in_current_trace(),
        );
        runtime.block_on(async {
            a.await.unwrap();
            b.await.unwrap();
        });
        drop(entered);
        drop(parent);
        drop(root);
    });
    let handler = by_name(&spans, "handler");
    let instrumented = by_name(&spans, "instrumented");
    assert_eq!(instrumented.parent_span_id(), Some(handler.span_id()));
    assert_eq!(
        by_name(&spans, "in instrumented task").parent_span_id(),
        Some(instrumented.span_id())
    );
    assert_eq!(
        by_name(&spans, "in carried task").parent_span_id(),
        Some(handler.span_id())
    );
    assert_eq!(spans.len(), 5);
    assert!(spans.iter().all(|s| user_of(s) == Some("u_1")));
}

#[test]
fn log_lines_carry_the_trace_id_and_end_user() {
    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);
    impl Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::registry()
        .with(neatlogs::tracing::layer())
        .with(
            tracing_subscriber::fmt::layer()
                .event_format(neatlogs::tracing::TraceContextFormat::default())
                .with_writer(move || writer.clone()),
        );
    let (trace_id, _) = tracing::subscriber::with_default(subscriber, || {
        tracing::info!("before");
        neatlogs::testing::with_capture(|| {
            let _root = neatlogs::trace("chat").end_user_id("u_9").enter();
            tracing::info_span!("step").in_scope(|| tracing::info!("inside"));
            neatlogs::current_trace_id().unwrap()
        })
    });
    let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<_> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(!lines[0].contains("trace_id="), "{}", lines[0]);
    assert!(lines[0].ends_with("before"), "{}", lines[0]);
    assert!(
        lines[1].starts_with(&format!("trace_id={trace_id} end_user=u_9 ")),
        "{}",
        lines[1]
    );
    assert!(lines[1].contains("inside"), "{}", lines[1]);
}

// ------------------------------------------- across tasks and threads

#[tracing::instrument(skip_all, fields(request = i))]
async fn tracing_step(i: usize, user: String) {
    tokio::task::yield_now().await;
    check_user(&user);
    neatlogs_step(user.clone()).await;
    // Carried by `in_current_trace`, and by `tracing::Instrument`.
    let u = user.clone();
    tokio::spawn(
        async move {
            tokio::task::yield_now().await;
            check_user(&u);
            tracing::info_span!("spawned carried", user = %u).in_scope(|| check_user(&u));
        }
        .in_current_trace(),
    )
    .await
    .unwrap();
    let u = user.clone();
    tokio::spawn(
        async move {
            tokio::task::yield_now().await;
            check_user(&u);
        }
        .instrument(tracing::info_span!("spawned instrumented", user = %user)),
    )
    .await
    .unwrap();
    // A thread, given the context.
    let cx = neatlogs::Context::current();
    let u = user.clone();
    std::thread::spawn(move || {
        let _g = cx.attach();
        tracing::info_span!("on a thread", user = %u).in_scope(|| check_user(&u));
    })
    .join()
    .unwrap();
}

#[neatlogs::span(kind = "TOOL")]
async fn neatlogs_step(user: String) {
    tokio::task::yield_now().await;
    check_user(&user);
    neatlogs::with_current_span(|s| s.set_attribute("user", user.clone()));
    tracing_leaf(&user).await;
}

#[tracing::instrument(skip_all, fields(user = %user))]
async fn tracing_leaf(user: &str) {
    tokio::task::yield_now().await;
    check_user(user);
}

fn check_user(user: &str) {
    let current = neatlogs::current_end_user();
    assert_eq!(current.as_ref().map(|u| u.id().as_str()), Some(user));
}

/// A `#[neatlogs::span]` root over `#[tracing::instrument]` functions.
#[neatlogs::span(kind = "WORKFLOW", end_user_id = user.as_str())]
async fn neatlogs_request(i: usize, user: String) {
    neatlogs::with_current_span(|s| s.set_attribute("user", user.clone()));
    tracing_step(i, user).await;
}

/// A `#[tracing::instrument]` root (its end-user from its field) over
/// `#[neatlogs::span]` functions.
#[tracing::instrument(skip_all, fields(neatlogs.end_user.id = %user, user = %user))]
async fn tracing_request(user: String) {
    tokio::task::yield_now().await;
    check_user(&user);
    neatlogs_step(user).await;
}

/// Spans in a request, per kind of request (a neatlogs root over tracing
/// functions, a tracing root over neatlogs functions).
const NEATLOGS_ROOTED: usize = 7;
const TRACING_ROOTED: usize = 3;

#[test]
fn a_thousand_concurrent_requests_keep_their_end_users() {
    // In a child process: roots open in tasks moving between 4 worker threads (what is checked), so `init` and a global subscriber.
    if !in_child("a_thousand_concurrent_requests_keep_their_end_users", &[]) {
        return;
    }
    let collect = Collect::default();
    neatlogs::init(
        neatlogs::Config::new()
            .default_destination(false)
            .queue_size(1 << 17)
            .schedule_delay(Duration::from_millis(20))
            .exporter(collect.clone()),
    )
    .unwrap();
    tracing::subscriber::set_global_default(subscriber()).unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap();
    const N: usize = 1_000;
    runtime.block_on(async {
        let tasks: Vec<_> = (0..N)
            .map(|i| {
                let user = format!("u_{i}");
                if i % 2 == 0 {
                    tokio::spawn(neatlogs_request(i, user))
                } else {
                    tokio::spawn(tracing_request(user))
                }
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    });
    drop(runtime);
    assert!(neatlogs::shutdown(), "everything exported");
    let stats = neatlogs::stats();
    assert_eq!(stats.dropped, 0);
    let spans = collect.take();
    assert_eq!(
        spans.len(),
        N / 2 * NEATLOGS_ROOTED + N / 2 * TRACING_ROOTED,
        "no span lost or duplicated"
    );

    let mut traces: HashMap<_, Vec<&SpanRecord>> = HashMap::new();
    for s in &spans {
        traces.entry(s.trace_id()).or_default().push(s);
    }
    assert_eq!(traces.len(), N, "one trace per request");
    let mut wrong = 0;
    for trace in traces.values() {
        let roots: Vec<_> = trace.iter().filter(|s| s.is_root()).collect();
        assert_eq!(roots.len(), 1);
        let root = roots[0];
        let user = user_of(root).expect("the root has its end-user");
        let ids: HashMap<_, _> = trace.iter().map(|s| (s.span_id(), *s)).collect();
        for s in trace {
            if user_of(s) != Some(user) {
                wrong += 1;
            }
            // Every span that says whose it is says the root's user.
            if let Some(said) = s.attribute("user").and_then(Value::as_str) {
                assert_eq!(said, user, "span `{}`", s.name());
            }
            if let Some(parent) = s.parent_span_id() {
                assert!(
                    ids.contains_key(&parent),
                    "parent of `{}` in the trace",
                    s.name()
                );
            }
        }
        let expected = if root.name() == "neatlogs_request" {
            NEATLOGS_ROOTED
        } else {
            assert_eq!(root.name(), "tracing_request");
            TRACING_ROOTED
        };
        assert_eq!(
            trace.len(),
            expected,
            "{:?}",
            trace.iter().map(|s| s.name()).collect::<Vec<_>>()
        );
    }
    assert_eq!(wrong, 0, "spans attributed to the wrong end-user");
}

#[test]
fn a_tracing_span_outside_any_trace_is_a_root_with_the_default_end_user() {
    let collect = Collect::default();
    let tracer = Neatlogs::new(
        neatlogs::Config::new()
            .default_destination(false)
            .end_user_id("u_default")
            .exporter(collect.clone()),
    )
    .unwrap();
    tracer.in_scope(|| {
        tracing::subscriber::with_default(subscriber(), || {
            tracing::info_span!("background job").in_scope(|| {
                tracing::info_span!("step").in_scope(|| {
                    assert_eq!(
                        neatlogs::current_end_user().unwrap().id().as_str(),
                        "u_default"
                    );
                });
            });
            neatlogs::trace("chat")
                .end_user_id("u_1")
                .in_scope(|| tracing::info_span!("inside").in_scope(|| {}));
        })
    });
    assert!(tracer.shutdown());
    let spans = collect.take();
    let job = by_name(&spans, "background job");
    assert!(job.is_root());
    assert_eq!(job.kind(), SpanKind::Workflow);
    assert_eq!(user_of(job), Some("u_default"));
    assert_eq!(user_of(by_name(&spans, "step")), Some("u_default"));
    assert_eq!(user_of(by_name(&spans, "inside")), Some("u_1"));
}

#[test]
fn a_genai_span_is_an_llm_span_on_the_wire() {
    let receiver = Receiver::start();
    let tracer = Neatlogs::new(
        neatlogs::Config::new()
            .api_key("k")
            .endpoint(receiver.url())
            .schedule_delay(Duration::from_millis(20)),
    )
    .unwrap();
    let _default = tracer.set_default();
    let _subscriber = tracing::subscriber::set_default(subscriber());
    neatlogs::trace("chat").end_user_id("u_1").in_scope(|| {
        let call = tracing::info_span!(
            "chat gpt-4o-mini",
            gen_ai.operation.name = "chat",
            gen_ai.system = "openai",
            gen_ai.request.model = "gpt-4o-mini",
            gen_ai.usage.prompt_tokens = tracing::field::Empty,
            gen_ai.usage.completion_tokens = tracing::field::Empty,
        );
        call.in_scope(|| tracing::info!(chunk = 1_u64, "first chunk"));
        call.record("gen_ai.usage.prompt_tokens", 20_u64);
        call.record("gen_ai.usage.completion_tokens", 5_u64);
    });
    assert!(tracer.shutdown());
    let spans: Vec<_> = receiver
        .requests()
        .iter()
        .filter_map(|r| r.request.clone())
        .flat_map(|r| export_support::all_spans(&r))
        .collect();
    let spans = app_spans(&spans);
    let llm = spans.iter().find(|s| s.name == "chat gpt-4o-mini").unwrap();
    let root = spans.iter().find(|s| s.name == "chat").unwrap();
    assert_eq!(llm.parent_span_id, root.span_id);
    assert_eq!(llm.trace_id, root.trace_id);
    let a = &llm.attributes;
    assert_eq!(str_attr(a, "neatlogs.span.kind"), Some("llm"));
    assert_eq!(str_attr(a, "neatlogs.llm.model_name"), Some("gpt-4o-mini"));
    assert_eq!(str_attr(a, "neatlogs.llm.system"), Some("openai"));
    assert_eq!(int_attr(a, "neatlogs.llm.token_count.prompt"), Some(20));
    assert_eq!(int_attr(a, "neatlogs.llm.token_count.completion"), Some(5));
    assert_eq!(int_attr(a, "neatlogs.llm.token_count.total"), Some(25));
    assert_eq!(
        str_attr(&root.attributes, "neatlogs.end_user.id"),
        Some("u_1")
    );
    assert_eq!(
        str_attr(a, "neatlogs.end_user.id"),
        None,
        "identity on the root only"
    );
    assert_eq!(llm.events.len(), 1);
    assert_eq!(llm.events[0].name, "first chunk");
    assert_eq!(int_attr(&llm.events[0].attributes, "chunk"), Some(1));
    assert_eq!(str_attr(&llm.events[0].attributes, "level"), Some("INFO"));
}
