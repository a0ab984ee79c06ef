//! `#[neatlogs::span]` against an `init` default end-user: the explicit value
//! on a decorated root wins, as one unit with its metadata. Its own binary:
//! `init` runs once per process.

use std::sync::Once;

use neatlogs::export::SpanRecord;
use neatlogs::testing::with_capture;
use serde_json::json;

fn init_once() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        neatlogs::init(
            neatlogs::Config::new()
                .default_destination(false)
                .end_user_id("u_default")
                .end_user_metadata(json!({ "plan": "free" }))
                .session_id("s_default"),
        )
        .expect("init");
    });
}

fn user(span: &SpanRecord) -> Option<&str> {
    span.end_user().map(|u| u.id().as_str())
}

fn plan(span: &SpanRecord) -> Option<String> {
    span.end_user()
        .and_then(|u| u.metadata::<serde_json::Value>())
        .map(|m| m["plan"].to_string())
}

#[neatlogs::span(kind = "WORKFLOW", end_user_id = id, session_id = "s_explicit")]
fn explicit(id: &str) {}

#[neatlogs::span(kind = "WORKFLOW", end_user_id = id, end_user_metadata = json!({ "plan": "pro" }))]
fn explicit_with_metadata(id: &str) {}

#[neatlogs::span(kind = "WORKFLOW")]
fn defaulted() {}

#[neatlogs::span(kind = "WORKFLOW", end_user_id = id)]
fn optional(id: Option<&str>) {}

#[neatlogs::span(kind = "TOOL", end_user_id = "u_nested")]
fn nested() {}

#[neatlogs::span(kind = "WORKFLOW", end_user_id = id)]
async fn explicit_async(id: String) {
    tokio::task::yield_now().await;
    nested();
}

#[test]
fn explicit_end_user_on_a_decorated_root_beats_the_init_default() {
    init_once();
    let ((), spans) = with_capture(|| explicit("u_812"));
    assert_eq!(user(&spans[0]), Some("u_812"));
    // Identity is one unit: the default's metadata does not follow.
    assert_eq!(plan(&spans[0]), None);
    assert_eq!(spans[0].session_id(), Some("s_explicit"));

    let ((), spans) = with_capture(|| explicit_with_metadata("u_812"));
    assert_eq!(user(&spans[0]), Some("u_812"));
    assert_eq!(plan(&spans[0]).as_deref(), Some("\"pro\""));
    assert_eq!(spans[0].session_id(), Some("s_default"));
}

#[test]
fn without_an_explicit_end_user_the_init_default_applies() {
    init_once();
    let ((), spans) = with_capture(|| {
        defaulted();
        explicit(""); // empty counts as not given
        optional(None);
    });
    for span in &spans {
        assert_eq!(user(span), Some("u_default"), "{}", span.name());
        assert_eq!(plan(span).as_deref(), Some("\"free\""));
    }
    assert_eq!(spans[0].session_id(), Some("s_default"));
}

#[test]
fn an_invalid_explicit_end_user_never_falls_back_to_the_default() {
    init_once();
    let ((), spans) = with_capture(|| explicit("u\n812"));
    assert_eq!(user(&spans[0]), None);
}

#[test]
fn a_nested_decorated_span_belongs_to_its_root_not_to_its_own_argument() {
    init_once();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let ((), spans) = with_capture(|| rt.block_on(explicit_async("u_async".into())));
    let names: Vec<&str> = spans.iter().map(|s| s.name()).collect();
    assert_eq!(names, ["nested", "explicit_async"]);
    assert!(spans.iter().all(|s| user(s) == Some("u_async")));

    let ((), spans) = with_capture(nested);
    assert_eq!(user(&spans[0]), Some("u_nested"), "alone, it is a root");
}
