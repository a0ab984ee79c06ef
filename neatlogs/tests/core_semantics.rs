//! The identity model without `init`: test captures record, nothing else does.
//! Each test is named after the semantic it pins (issue: SDK core, items 1-9).

use neatlogs::export::Status;
use neatlogs::testing::{with_capture, Capture};
use neatlogs::SpanHandle;
use neatlogs::{FutureExt, SpanKind};
use serde_json::json;

fn ids(spans: &[neatlogs::export::SpanRecord]) -> Vec<Option<String>> {
    spans
        .iter()
        .map(|s| s.end_user().map(|u| u.id().to_string()))
        .collect()
}

/// A two-worker multi-thread runtime: tasks really move between threads.
fn multi_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn s1_span_with_no_current_span_is_root_else_child() {
    let ((), spans) = with_capture(|| {
        let _root = neatlogs::trace("chat").enter();
        let _agent = neatlogs::span(SpanKind::Agent, "planner").enter();
        let _tool = neatlogs::span(SpanKind::Tool, "search").enter();
    });
    assert_eq!(spans.len(), 3);
    let root = spans.iter().find(|s| s.name() == "chat").unwrap();
    let agent = spans.iter().find(|s| s.name() == "planner").unwrap();
    let tool = spans.iter().find(|s| s.name() == "search").unwrap();
    assert!(root.is_root());
    assert_eq!(root.parent_span_id(), None);
    assert!(!agent.is_root() && !tool.is_root());
    assert_eq!(agent.parent_span_id(), Some(root.span_id()));
    assert_eq!(tool.parent_span_id(), Some(agent.span_id()));
    assert!(spans.iter().all(|s| s.trace_id() == root.trace_id()));
    assert_eq!(tool.kind(), SpanKind::Tool);
    assert_eq!(root.kind(), SpanKind::Workflow);
    // Children finish first.
    assert_eq!(spans.last().unwrap().name(), "chat");
}

#[test]
fn s1_sequential_roots_are_separate_traces() {
    let ((), spans) = with_capture(|| {
        neatlogs::trace("a").in_scope(|| {});
        neatlogs::trace("b").in_scope(|| {});
    });
    assert_eq!(spans.len(), 2);
    assert!(spans.iter().all(|s| s.is_root()));
    assert_ne!(spans[0].trace_id(), spans[1].trace_id());
}

#[test]
fn s2_root_explicit_end_user_with_its_metadata() {
    let ((), spans) = with_capture(|| {
        let _root = neatlogs::trace("chat")
            .end_user_id("u_812")
            .end_user_metadata(json!({"plan": "pro"}))
            .enter();
        let user = neatlogs::current_end_user().unwrap();
        assert_eq!(user.id().as_str(), "u_812");
        assert_eq!(user.metadata::<serde_json::Value>().unwrap()["plan"], "pro");
    });
    assert_eq!(
        spans[0]
            .end_user()
            .unwrap()
            .metadata::<serde_json::Value>()
            .unwrap()["plan"],
        "pro"
    );
}

#[test]
fn s3_nested_end_user_has_no_effect() {
    let ((), spans) = with_capture(|| {
        let _root = neatlogs::trace("chat")
            .end_user_id("u_root")
            .end_user_metadata(json!({"plan": "pro"}))
            .session_id("s_root")
            .enter();
        let _nested = neatlogs::trace("inner")
            .end_user_id("u_nested")
            .end_user_metadata(json!({"plan": "free"}))
            .session_id("s_nested")
            .enter();
        let user = neatlogs::current_end_user().unwrap();
        assert_eq!(user.id().as_str(), "u_root");
        assert_eq!(neatlogs::current_session_id().as_deref(), Some("s_root"));
    });
    assert_eq!(spans.len(), 2);
    for s in &spans {
        let user = s.end_user().unwrap();
        assert_eq!(user.id().as_str(), "u_root");
        assert_eq!(user.metadata::<serde_json::Value>().unwrap()["plan"], "pro");
        assert_eq!(s.session_id(), Some("s_root"));
        // No trace of the nested value anywhere on the record.
        let dump = format!("{s:?}");
        assert!(!dump.contains("u_nested") && !dump.contains("s_nested") && !dump.contains("free"));
    }
}

#[test]
fn s3_nested_builder_reports_not_root() {
    with_capture(|| {
        assert!(neatlogs::trace("root").is_root());
        let _root = neatlogs::trace("root").enter();
        assert!(!neatlogs::trace("child").is_root());
    });
}

#[test]
fn s4_current_end_user_from_any_depth_sync() {
    with_capture(|| {
        assert!(neatlogs::current_end_user().is_none());
        let _root = neatlogs::trace("chat").end_user_id("u_1").enter();
        fn deep(n: u32) -> String {
            let _s = neatlogs::span(SpanKind::Chain, "step").enter();
            if n == 0 {
                neatlogs::current_end_user().unwrap().id().to_string()
            } else {
                deep(n - 1)
            }
        }
        assert_eq!(deep(20), "u_1");
    });
}

#[test]
fn s4_current_end_user_across_await_on_multi_thread_runtime() {
    let capture = Capture::start();
    let rt = multi_thread();
    let seen = rt.block_on(async {
        neatlogs::trace("chat")
            .end_user_id("u_await")
            .instrument(async {
                let mut seen = Vec::new();
                for _ in 0..5 {
                    tokio::task::yield_now().await;
                    tokio::time::sleep(std::time::Duration::from_millis(1)).await;
                    seen.push(neatlogs::current_end_user().map(|u| u.id().to_string()));
                    let inner = neatlogs::span(SpanKind::Tool, "t")
                        .instrument(async {
                            tokio::task::yield_now().await;
                            neatlogs::current_end_user().map(|u| u.id().to_string())
                        })
                        .await;
                    seen.push(inner);
                }
                seen
            })
            .await
    });
    assert_eq!(seen.len(), 10);
    assert!(seen.iter().all(|s| s.as_deref() == Some("u_await")));
    let spans = capture.take();
    assert_eq!(spans.len(), 6);
    assert!(ids(&spans).iter().all(|s| s.as_deref() == Some("u_await")));
    // Outside the instrumented future, nothing is current.
    assert!(neatlogs::current_end_user().is_none());
}

#[test]
fn s4_tokio_spawn_with_in_current_trace_inherits() {
    let capture = Capture::start();
    let rt = multi_thread();
    let (wrapped, bare) = rt.block_on(async {
        neatlogs::trace("chat")
            .end_user_id("u_spawn")
            .instrument(async {
                let wrapped = tokio::spawn(
                    async {
                        let _t = neatlogs::span(SpanKind::Tool, "child").enter();
                        neatlogs::current_end_user().map(|u| u.id().to_string())
                    }
                    .in_current_trace(),
                )
                .await
                .unwrap();
                // Documented: without the wrapper a spawned task is outside the trace.
                let bare = tokio::spawn(async { neatlogs::current_end_user() })
                    .await
                    .unwrap();
                (wrapped, bare)
            })
            .await
    });
    assert_eq!(wrapped.as_deref(), Some("u_spawn"));
    assert!(bare.is_none());
    let spans = capture.take();
    let root = spans.iter().find(|s| s.is_root()).unwrap();
    let child = spans.iter().find(|s| s.name() == "child").unwrap();
    assert_eq!(child.trace_id(), root.trace_id());
    assert_eq!(child.parent_span_id(), Some(root.span_id()));
}

#[test]
fn s4_spawn_blocking_and_thread_with_captured_context() {
    let capture = Capture::start();
    let rt = multi_thread();
    let (blocking, thread) = rt.block_on(async {
        neatlogs::trace("chat")
            .end_user_id("u_thread")
            .instrument(async {
                let cx = neatlogs::Context::current();
                let blocking = tokio::task::spawn_blocking(move || {
                    let _g = cx.attach();
                    let _s = neatlogs::span(SpanKind::Retriever, "blocking").enter();
                    neatlogs::current_end_user().map(|u| u.id().to_string())
                })
                .await
                .unwrap();
                let cx = neatlogs::Context::current();
                let thread = std::thread::spawn(move || {
                    let _g = cx.attach();
                    let _s = neatlogs::span(SpanKind::Tool, "thread").enter();
                    neatlogs::current_end_user().map(|u| u.id().to_string())
                })
                .join()
                .unwrap();
                (blocking, thread)
            })
            .await
    });
    assert_eq!(blocking.as_deref(), Some("u_thread"));
    assert_eq!(thread.as_deref(), Some("u_thread"));
    let spans = capture.take();
    assert_eq!(spans.len(), 3);
    let root = spans.iter().find(|s| s.is_root()).unwrap();
    for name in ["blocking", "thread"] {
        let s = spans.iter().find(|s| s.name() == name).unwrap();
        assert_eq!(s.trace_id(), root.trace_id());
        assert_eq!(s.parent_span_id(), Some(root.span_id()));
        assert_eq!(s.end_user().unwrap().id().as_str(), "u_thread");
    }
}

#[test]
fn s4_thread_without_context_starts_own_trace() {
    let capture = Capture::start();
    let _root = neatlogs::trace("chat").end_user_id("u_a").enter();
    let seen = std::thread::spawn(neatlogs::current_end_user)
        .join()
        .unwrap();
    assert!(seen.is_none());
    drop(_root);
    assert_eq!(capture.take().len(), 1);
}

#[test]
fn s5_llm_span_outside_trace_is_a_root() {
    let ((), spans) = with_capture(|| {
        let mut llm = neatlogs::span(SpanKind::Llm, "completion").enter();
        llm.set_model("gpt-4o");
        llm.set_input("hi");
        llm.set_output("hello");
        llm.set_usage(neatlogs::llm::Usage::new(12, 3));
    });
    assert_eq!(spans.len(), 1);
    let s = &spans[0];
    assert!(s.is_root());
    assert_eq!(s.kind(), SpanKind::Llm);
    let call = s.llm().expect("an LLM call");
    assert_eq!(call.model(), Some("gpt-4o"));
    assert_eq!(s.input().unwrap().as_str(), Some("hi"));
    assert_eq!(s.output().unwrap().as_str(), Some("hello"));
    assert_eq!(call.usage().prompt_tokens(), Some(12));
    assert_eq!(call.usage().completion_tokens(), Some(3));
    assert_eq!(call.usage().total_tokens(), Some(15));
}

#[test]
fn s7_root_session_without_init() {
    let ((), spans) = with_capture(|| {
        let _root = neatlogs::trace("turn").session_id("s_9").enter();
        let _c = neatlogs::span(SpanKind::Tool, "x").enter();
    });
    assert!(spans.iter().all(|s| s.session_id() == Some("s_9")));
}

#[test]
fn s8_empty_id_is_not_given() {
    let ((), spans) = with_capture(|| {
        neatlogs::trace("a").end_user_id("").in_scope(|| {});
        neatlogs::trace("b")
            .end_user_id(None::<String>)
            .in_scope(|| {});
        neatlogs::trace("c").session_id("").in_scope(|| {});
    });
    assert_eq!(spans.len(), 3);
    assert!(spans
        .iter()
        .all(|s| s.end_user().is_none() && s.session_id().is_none()));
}

#[test]
fn s8_invalid_id_and_metadata_are_dropped_without_panic() {
    let long = "x".repeat(257);
    let ((), spans) = with_capture(|| {
        neatlogs::trace("long")
            .end_user_id(long.as_str())
            .in_scope(|| {});
        neatlogs::trace("ctrl")
            .end_user_id("u_1\u{7}")
            .in_scope(|| {});
        neatlogs::trace("meta-array")
            .end_user_id("u_ok")
            .end_user_metadata(json!(["not", "an", "object"]))
            .in_scope(|| {});
        neatlogs::trace("meta-big")
            .end_user_id("u_big")
            .end_user_metadata(json!({"blob": "y".repeat(20_000)}))
            .in_scope(|| {});
        neatlogs::trace("bad-session")
            .session_id("s\n1")
            .in_scope(|| {});
    });
    let by = |n: &str| spans.iter().find(|s| s.name() == n).unwrap();
    assert!(by("long").end_user().is_none());
    assert!(by("ctrl").end_user().is_none());
    let ok = by("meta-array").end_user().unwrap();
    assert_eq!(ok.id().as_str(), "u_ok");
    assert!(ok.metadata::<serde_json::Value>().is_none());
    assert!(by("meta-big")
        .end_user()
        .unwrap()
        .metadata::<serde_json::Value>()
        .is_none());
    assert!(by("bad-session").session_id().is_none());
}

#[test]
fn s8_accepts_integers_uuid_and_options() {
    let u = uuid::Uuid::new_v4();
    let ((), spans) = with_capture(|| {
        neatlogs::trace("int").end_user_id(812u64).in_scope(|| {});
        neatlogs::trace("uuid").end_user_id(u).in_scope(|| {});
        neatlogs::trace("opt")
            .end_user_id(Some(String::from("u_opt")))
            .in_scope(|| {});
    });
    let id = |n: &str| {
        spans
            .iter()
            .find(|s| s.name() == n)
            .unwrap()
            .end_user()
            .unwrap()
            .id()
            .to_string()
    };
    assert_eq!(id("int"), "812");
    assert_eq!(id("uuid"), u.to_string());
    assert_eq!(id("opt"), "u_opt");
}

#[test]
fn panic_ends_span_with_error() {
    let capture = Capture::start();
    let r = std::panic::catch_unwind(|| {
        let _root = neatlogs::trace("boom").enter();
        let _c = neatlogs::span(SpanKind::Tool, "inner").enter();
        panic!("tool exploded");
    });
    assert!(r.is_err());
    let spans = capture.take();
    assert_eq!(spans.len(), 2);
    assert!(spans.iter().all(|s| matches!(s.status(), Status::Error(_))));
    // The stack is clean after the unwind.
    assert!(neatlogs::current_trace_id().is_none());
}

#[test]
fn panic_inside_instrumented_future_ends_span_with_error() {
    let capture = Capture::start();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        rt.block_on(neatlogs::trace("boom").instrument(async {
            tokio::task::yield_now().await;
            panic!("agent exploded");
        }))
    }));
    assert!(r.is_err());
    let spans = capture.take();
    assert_eq!(spans.len(), 1);
    assert!(matches!(spans[0].status(), Status::Error(_)));
    assert!(neatlogs::current_trace_id().is_none());
}

#[test]
fn errors_attributes_and_out_of_order_drops() {
    let ((), spans) = with_capture(|| {
        let mut root = neatlogs::trace("chat")
            .attribute("request.id", 7i64)
            .enter();
        root.set_attribute("answer", "yes");
        let mut child = neatlogs::span(SpanKind::Tool, "t").enter();
        child.record_error(&"not found");
        // Dropping the outer guard first must not corrupt the stack.
        drop(root);
        drop(child);
        assert!(neatlogs::current_trace_id().is_none());
    });
    let root = spans.iter().find(|s| s.name() == "chat").unwrap();
    assert_eq!(root.attribute("request.id").unwrap().as_i64(), Some(7));
    assert_eq!(root.attribute("answer").unwrap().as_str(), Some("yes"));
    let t = spans.iter().find(|s| s.name() == "t").unwrap();
    assert_eq!(t.status(), &Status::Error("not found".into()));
}

/// Ended spans are handed off in batches of 64 while their trace goes on;
/// spans still open then stay open where they are, keep what they are told
/// after, and stay the parents of what opens under them.
#[test]
fn open_spans_survive_a_hand_off_of_their_threads_ended_spans() {
    let ((), spans) = with_capture(|| {
        let _root = neatlogs::trace("long").end_user_id("u_1").enter();
        for _ in 0..10 {
            drop(neatlogs::span(SpanKind::Tool, "before").enter());
        }
        let mut outer = neatlogs::span(SpanKind::Agent, "outer").enter();
        let mut inner = neatlogs::span(SpanKind::Chain, "inner").enter();
        for _ in 0..150 {
            drop(neatlogs::span(SpanKind::Tool, "step").enter());
        }
        inner.set_attribute("after", 1i64);
        outer.set_attribute("after", 2i64);
        let inner_id = neatlogs::current_span_id().unwrap();
        let last = neatlogs::span(SpanKind::Tool, "last").enter();
        assert_ne!(neatlogs::current_span_id(), Some(inner_id));
        drop(last);
        assert_eq!(neatlogs::current_span_id(), Some(inner_id));
        // Out of order: the outer span ends first.
        drop(outer);
        drop(inner);
    });
    assert_eq!(spans.len(), 1 + 10 + 2 + 150 + 1);
    let find = |name: &str| spans.iter().find(|s| s.name() == name).unwrap();
    let (root, outer, inner, last) = (find("long"), find("outer"), find("inner"), find("last"));
    assert_eq!(outer.parent_span_id(), Some(root.span_id()));
    assert_eq!(inner.parent_span_id(), Some(outer.span_id()));
    assert_eq!(last.parent_span_id(), Some(inner.span_id()));
    assert_eq!(inner.attribute("after").unwrap().as_i64(), Some(1));
    assert_eq!(outer.attribute("after").unwrap().as_i64(), Some(2));
    for step in spans.iter().filter(|s| s.name() == "step") {
        assert_eq!(step.parent_span_id(), Some(inner.span_id()));
    }
    // Each ended once, when its guard was dropped: the inner span lasted
    // through every step and the last span.
    assert!(inner.end_unix_nanos() >= last.end_unix_nanos());
    assert!(outer.end_unix_nanos() >= last.end_unix_nanos());
    assert!(spans
        .iter()
        .all(|s| s.end_unix_nanos() >= s.start_unix_nanos()));
    assert_eq!(
        ids(&spans),
        vec![Some("u_1".to_owned()); spans.len()],
        "every span of the trace carries its end-user"
    );
}

#[test]
fn dropped_future_still_ends_its_span() {
    let capture = Capture::start();
    let fut = neatlogs::trace("cancelled").instrument(async { 1 });
    drop(fut);
    assert_eq!(capture.take().len(), 1);
}

#[test]
fn span_names_accept_static_and_owned() {
    let ((), spans) = with_capture(|| {
        neatlogs::trace("static").in_scope(|| {});
        neatlogs::trace(format!("owned-{}", 1)).in_scope(|| {});
    });
    assert_eq!(spans[0].name(), "static");
    assert_eq!(spans[1].name(), "owned-1");
}

#[test]
fn context_is_send_sync_clone_and_guards_are_not_send() {
    fn assert_send_sync_clone<T: Send + Sync + Clone>() {}
    assert_send_sync_clone::<neatlogs::Context>();
    fn assert_send<T: Send>(_: &T) {}
    // Instrumented futures stay Send when the body is.
    let fut = neatlogs::trace("x").instrument(async { 1 });
    assert_send(&fut);
    // s9: the guard being !Send is pinned by compile-fail doc tests on
    // `SpanGuard` and by the trybuild suite.
}

#[test]
fn parallel_captures_do_not_see_each_other() {
    let handles: Vec<_> = (0..8)
        .map(|i| {
            std::thread::spawn(move || {
                let ((), spans) = with_capture(|| {
                    for _ in 0..50 {
                        let _r = neatlogs::trace("t").end_user_id(i as u64).enter();
                        let _c = neatlogs::span(SpanKind::Tool, "c").enter();
                    }
                });
                (i, spans)
            })
        })
        .collect();
    for h in handles {
        let (i, spans) = h.join().unwrap();
        assert_eq!(spans.len(), 100);
        assert!(spans
            .iter()
            .all(|s| s.end_user().unwrap().id().to_string() == i.to_string()));
    }
}
