//! The `init` default end-user and its precedence (one `init` per process,
//! so these share one configuration).

use neatlogs::SpanHandle;
mod common_collect;

use std::sync::OnceLock;

use common_collect::Collect;
use neatlogs::testing::with_capture;
use neatlogs::SpanKind;
use serde_json::json;

fn setup() -> &'static Collect {
    static C: OnceLock<Collect> = OnceLock::new();
    C.get_or_init(|| {
        let collect = Collect::default();
        neatlogs::init(
            neatlogs::Config::new()
                .workflow_name("batch-job")
                .operator_id("svc-batch")
                .end_user_id("u_default")
                .end_user_metadata(json!({"plan": "enterprise"}))
                .session_id("s_init")
                .tags(["nightly"])
                .default_destination(false)
                .exporter(collect.clone()),
        )
        .unwrap();
        collect
    })
}

fn user(s: &neatlogs::export::SpanRecord) -> Option<(String, Option<String>)> {
    s.end_user().map(|u| {
        (
            u.id().to_string(),
            u.metadata::<serde_json::Value>().map(|m| m.to_string()),
        )
    })
}

#[test]
fn s2_init_default_applies_to_roots_without_explicit_user() {
    setup();
    let ((), spans) = with_capture(|| {
        let _r = neatlogs::trace("job").enter();
        let _c = neatlogs::span(SpanKind::Tool, "t").enter();
    });
    for s in &spans {
        assert_eq!(
            user(s),
            Some(("u_default".into(), Some(r#"{"plan":"enterprise"}"#.into())))
        );
    }
}

#[test]
fn s2_explicit_root_beats_default_as_one_unit() {
    setup();
    let ((), spans) = with_capture(|| {
        // Explicit id without metadata: the default's metadata must not leak in.
        neatlogs::trace("a").end_user_id("u_a").in_scope(|| {});
        // Explicit id with metadata.
        neatlogs::trace("b")
            .end_user_id("u_b")
            .end_user_metadata(json!({"plan": "pro"}))
            .in_scope(|| {});
        // Metadata alone is not an identity: the default stands, with its own metadata.
        neatlogs::trace("c")
            .end_user_metadata(json!({"plan": "free"}))
            .in_scope(|| {});
    });
    let by = |n: &str| user(spans.iter().find(|s| s.name() == n).unwrap());
    assert_eq!(by("a"), Some(("u_a".into(), None)));
    assert_eq!(
        by("b"),
        Some(("u_b".into(), Some(r#"{"plan":"pro"}"#.into())))
    );
    assert_eq!(
        by("c"),
        Some(("u_default".into(), Some(r#"{"plan":"enterprise"}"#.into())))
    );
}

#[test]
fn s3_nested_value_does_not_override_default() {
    setup();
    let ((), spans) = with_capture(|| {
        let _r = neatlogs::trace("job").enter();
        let _n = neatlogs::span(SpanKind::Agent, "agent")
            .end_user_id("u_nested")
            .enter();
        assert_eq!(
            neatlogs::current_end_user().unwrap().id().as_str(),
            "u_default"
        );
    });
    assert!(spans.iter().all(|s| user(s).unwrap().0 == "u_default"));
}

#[test]
fn s5_llm_call_outside_trace_gets_default() {
    setup();
    let ((), spans) = with_capture(|| {
        let mut _llm = neatlogs::span(SpanKind::Llm, "completion").enter();
        _llm.set_model("gpt-4o");
    });
    assert!(spans[0].is_root());
    assert_eq!(user(&spans[0]).unwrap().0, "u_default");
    assert_eq!(spans[0].session_id(), Some("s_init"));
}

#[test]
fn s7_root_session_beats_init_session() {
    setup();
    let ((), spans) = with_capture(|| {
        neatlogs::trace("a").in_scope(|| {});
        neatlogs::trace("b").session_id("s_turn").in_scope(|| {});
    });
    assert_eq!(spans[0].session_id(), Some("s_init"));
    assert_eq!(spans[1].session_id(), Some("s_turn"));
}

#[test]
fn s8_invalid_explicit_id_does_not_fall_back_to_default() {
    setup();
    let ((), spans) = with_capture(|| {
        neatlogs::trace("bad")
            .end_user_id("x".repeat(300))
            .end_user_metadata(json!({"plan": "pro"}))
            .in_scope(|| {
                assert!(neatlogs::current_end_user().is_none());
            });
        neatlogs::trace("ctrl")
            .end_user_id("u\u{0}")
            .in_scope(|| {});
        // Empty means "not given": the default applies.
        neatlogs::trace("empty").end_user_id("").in_scope(|| {});
    });
    let by = |n: &str| spans.iter().find(|s| s.name() == n).unwrap();
    assert!(by("bad").end_user().is_none());
    assert!(by("ctrl").end_user().is_none());
    assert_eq!(user(by("empty")).unwrap().0, "u_default");
}

#[test]
fn s6_operator_is_never_the_end_user() {
    let collect = setup();
    neatlogs::trace("op-check").in_scope(|| {});
    assert!(neatlogs::flush());
    let resources = collect.resources.lock().unwrap().clone();
    let resource = &resources[0];
    assert_eq!(resource.operator.as_ref().unwrap().as_str(), "svc-batch");
    assert_eq!(resource.service_name, "batch-job");
    assert_eq!(resource.session_id.as_deref(), Some("s_init"));
    assert_eq!(resource.tags, vec!["nightly".to_string()]);
    let spans = collect.spans.lock().unwrap().clone();
    let root = spans.iter().find(|s| s.name() == "op-check").unwrap();
    assert_eq!(root.end_user().unwrap().id().as_str(), "u_default");
    for s in spans.iter() {
        assert_ne!(
            s.end_user().map(|u| u.id().as_str().to_owned()).as_deref(),
            Some("svc-batch")
        );
    }
}

#[test]
fn init_twice_is_an_error_and_first_config_stays() {
    setup();
    let err = neatlogs::init(neatlogs::Config::new().end_user_id("u_other")).unwrap_err();
    assert!(matches!(err, neatlogs::InitError::AlreadyInitialized));
    let ((), spans) = with_capture(|| neatlogs::trace("x").in_scope(|| {}));
    assert_eq!(user(&spans[0]).unwrap().0, "u_default");
}

#[test]
fn exported_spans_reach_exporter_after_flush() {
    let collect = setup();
    neatlogs::trace("exported")
        .end_user_id("u_exp")
        .in_scope(|| neatlogs::span(SpanKind::Tool, "t").in_scope(|| {}));
    assert!(neatlogs::flush());
    let spans = collect.spans.lock().unwrap().clone();
    let root = spans.iter().find(|s| s.name() == "exported").unwrap();
    assert_eq!(root.end_user().unwrap().id().as_str(), "u_exp");
    assert!(spans
        .iter()
        .any(|s| s.name() == "t" && s.trace_id() == root.trace_id()));
    let stats = neatlogs::stats();
    assert_eq!(stats.dropped, 0);
    assert!(stats.exported >= 2);
}
