//! s11: without `init` (and without a test capture) every call is a no-op
//! that never fails.

use neatlogs::SpanHandle;
use neatlogs::{FutureExt, SpanKind};

#[test]
fn s11_without_init_calls_are_noops() {
    assert!(!neatlogs::is_initialized());
    let mut root = neatlogs::trace("chat")
        .end_user_id("u_1")
        .end_user_metadata(serde_json::json!({"plan": "pro"}))
        .session_id("s_1")
        .attribute("k", 1i64)
        .enter();
    assert!(!root.is_recording());
    root.set_attribute("x", "y");
    root.record_error(&"e");
    root.set_usage(neatlogs::llm::Usage::new(1, 2));
    let mut _c = neatlogs::span(SpanKind::Llm, "llm").enter();
    _c.set_model("m");
    assert!(neatlogs::current_end_user().is_none());
    assert!(neatlogs::current_trace_id().is_none());
    assert!(!neatlogs::Context::current().is_in_trace());
    assert_eq!(neatlogs::with_current_span(|s| s.set_ok()), None);
    assert_eq!(neatlogs::trace("x").in_scope(|| 5), 5);
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let v = rt.block_on(
        neatlogs::trace("x")
            .instrument(async { 6 })
            .in_current_trace(),
    );
    assert_eq!(v, 6);
    assert!(neatlogs::flush());
    assert_eq!(neatlogs::stats(), neatlogs::Stats::default());
    assert!(neatlogs::shutdown());
}
