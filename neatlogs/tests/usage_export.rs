//! The usage report beside the traces: sent to the endpoint's `/v1/metrics`
//! at `flush` with the traces' headers, repeated (cumulative) on the
//! interval; a receiver of traces only (404 on `/v1/metrics`) is asked once,
//! then left alone, and `flush` and `shutdown` still answer for the spans.

mod export_support;

use std::time::Duration;

use neatlogs::{Config, Neatlogs, SpanHandle, SpanKind};

use export_support::Receiver;

fn llm_call(user: &str) {
    neatlogs::trace("chat").end_user_id(user).in_scope(|| {
        let mut llm = neatlogs::span(SpanKind::Llm, "completion").enter();
        llm.set_model("gpt-4o-mini");
        llm.set_usage(neatlogs::llm::Usage::new(10, 2));
    });
}

#[test]
fn the_usage_goes_to_v1_metrics_on_flush_and_on_the_interval() {
    let receiver = Receiver::start();
    let sdk = Neatlogs::new(
        Config::new()
            .api_key("k")
            .header("x-tenant", "t1")
            .endpoint(receiver.url())
            .usage_interval(Duration::from_millis(100)),
    )
    .unwrap();
    // No LLM call yet: no report.
    assert!(sdk.flush());
    assert!(receiver.metrics_requests().is_empty());
    sdk.in_scope(|| llm_call("u_1"));
    assert!(sdk.flush());
    let first = receiver.metrics_requests();
    assert_eq!(first.len(), 1, "flush sends the usage");
    let report = &first[0];
    assert_eq!(report.content_type, "application/x-protobuf");
    assert_eq!(report.content_encoding, "gzip");
    assert_eq!(report.api_key.as_deref(), Some("k"));
    assert!(report
        .headers
        .iter()
        .any(|(k, v)| k == "x-tenant" && v == "t1"));
    // The interval sends it again (cumulative: the same totals and more).
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while receiver.metrics_requests().len() < 3 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(receiver.metrics_requests().len() >= 3);
    assert!(sdk.shutdown());
    let stats = sdk.stats();
    assert!(stats.usage_reports >= 3, "{stats:?}");
    assert_eq!(stats.usage_reports_failed, 0, "{stats:?}");
}

#[test]
fn a_receiver_of_traces_only_is_asked_once() {
    let receiver = Receiver::start();
    receiver.set_metrics_status(404);
    let sdk = Neatlogs::new(Config::new().api_key("k").endpoint(receiver.url())).unwrap();
    sdk.in_scope(|| llm_call("u_1"));
    assert!(sdk.flush(), "flush answers for the spans");
    sdk.in_scope(|| llm_call("u_2"));
    assert!(sdk.flush());
    assert!(sdk.shutdown(), "shutdown answers for the spans");
    assert_eq!(
        receiver.metrics_requests().len(),
        1,
        "asked once, then left alone"
    );
    let stats = sdk.stats();
    assert_eq!(
        (stats.usage_reports, stats.usage_reports_failed),
        (0, 1),
        "{stats:?}"
    );
    assert_eq!((stats.exported, stats.failed), (4, 0), "{stats:?}");
}
