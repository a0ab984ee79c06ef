//! Trace context across services (feature `http`): what `inject` writes,
//! what `extract` believes, and how a root that continues a caller's trace
//! resolves its end-user.

use http::{HeaderMap, HeaderValue};
use neatlogs::propagation::{self, Propagator};
use neatlogs::testing::with_capture;
use neatlogs::{FutureExt, SpanKind};

const CALLER_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN: &str = "00f067aa0ba902b7";

fn caller_headers(baggage: Option<&str>) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(
        "traceparent",
        HeaderValue::from_str(&format!("00-{CALLER_TRACE}-{CALLER_SPAN}-01")).unwrap(),
    );
    h.insert("tracestate", HeaderValue::from_static("vendor=a1"));
    if let Some(b) = baggage {
        h.insert("baggage", HeaderValue::from_str(b).unwrap());
    }
    h
}

const BAGGAGE: &str = "neatlogs.end_user.id=u_caller,other=1";
const SEND: Propagator = Propagator::new().send_end_user(true);

#[test]
fn an_extracted_context_makes_the_next_span_a_root_continuing_the_callers_trace() {
    let ((), spans) = with_capture(|| {
        let cx = propagation::extract(&caller_headers(None));
        assert!(cx.is_remote() && cx.is_in_trace());
        let _g = cx.attach();
        let root = neatlogs::trace("agent").end_user_id("u_callee");
        assert!(root.is_root(), "the callee's first span owns identity here");
        let _root = root.enter();
        let _tool = neatlogs::span(SpanKind::Tool, "search").enter();
        assert_eq!(
            neatlogs::current_trace_id().unwrap().to_string(),
            CALLER_TRACE
        );
        assert_eq!(
            neatlogs::current_end_user().unwrap().id().as_str(),
            "u_callee"
        );
    });
    let (tool, root) = (&spans[0], &spans[1]);
    assert!(root.is_root() && root.has_remote_parent());
    assert_eq!(root.parent_span_id().unwrap().to_string(), CALLER_SPAN);
    assert_eq!(root.trace_state(), Some("vendor=a1"));
    assert_eq!(tool.parent_span_id(), Some(root.span_id()));
    assert!(!tool.has_remote_parent());
    assert!(spans
        .iter()
        .all(|s| s.trace_id().to_string() == CALLER_TRACE));
}

#[test]
fn baggage_is_believed_only_when_the_callee_decides_to() {
    // Without the opt-in: the callee's own resolution stands.
    let ((), spans) = with_capture(|| {
        let _g = propagation::extract(&caller_headers(Some(BAGGAGE))).attach();
        let _root = neatlogs::trace("agent").enter();
        assert!(neatlogs::current_end_user().is_none());
    });
    assert!(spans[0].end_user().is_none());

    // Believed: the caller's end-user is the trace's when the root is
    // given none of its own...
    let ((), spans) = with_capture(|| {
        let _g = propagation::extract_trusting_end_user(&caller_headers(Some(BAGGAGE))).attach();
        let _root = neatlogs::trace("agent").enter();
        assert_eq!(
            neatlogs::current_end_user().unwrap().id().as_str(),
            "u_caller"
        );
    });
    assert_eq!(spans[0].end_user().unwrap().id().as_str(), "u_caller");

    // ...and what the application gives (what it authenticated) wins over
    // what the caller asserts.
    let ((), spans) = with_capture(|| {
        let _g = propagation::extract_trusting_end_user(&caller_headers(Some(BAGGAGE))).attach();
        let _root = neatlogs::trace("agent").end_user_id("u_other").enter();
        assert_eq!(
            neatlogs::current_end_user().unwrap().id().as_str(),
            "u_other"
        );
    });
    assert_eq!(spans[0].end_user().unwrap().id().as_str(), "u_other");
}

#[test]
fn inject_writes_the_current_span_and_passes_the_state_on() {
    let mut out = HeaderMap::new();
    assert!(!propagation::inject(&mut out), "outside a trace: nothing");
    assert!(out.is_empty());

    let (span_id, spans) = with_capture(|| {
        let _g = propagation::extract_trusting_end_user(&caller_headers(Some(BAGGAGE))).attach();
        let _root = neatlogs::trace("agent").enter();
        let _call = neatlogs::span(SpanKind::Tool, "call-next").enter();
        // Without the opt-in, no baggage goes out.
        assert!(propagation::inject(&mut out));
        assert!(out.get("baggage").is_none());
        let mut with = HeaderMap::new();
        with.insert("baggage", HeaderValue::from_static("k=v"));
        assert!(SEND.inject(&mut with));
        assert_eq!(with["baggage"], "k=v,neatlogs.end_user.id=u_caller");
        neatlogs::current_span_id().unwrap()
    });
    assert_eq!(
        out["traceparent"],
        format!("00-{CALLER_TRACE}-{span_id}-01").as_str()
    );
    assert_eq!(out["tracestate"], "vendor=a1");
    assert_eq!(spans.len(), 2);
}

#[test]
fn an_invalid_traceparent_starts_a_new_trace() {
    let mut h = HeaderMap::new();
    h.insert(
        "traceparent",
        HeaderValue::from_static("00-00000000000000000000000000000000-00f067aa0ba902b7-01"),
    );
    h.insert("baggage", HeaderValue::from_static(BAGGAGE));
    let cx = propagation::extract_trusting_end_user(&h);
    assert!(!cx.is_in_trace() && !cx.is_remote());
    let ((), spans) = with_capture(|| {
        let _g = cx.attach();
        let _root = neatlogs::trace("agent").enter();
    });
    assert!(spans[0].parent_span_id().is_none() && !spans[0].has_remote_parent());
    assert_ne!(spans[0].trace_id().to_string(), CALLER_TRACE);
    assert!(
        spans[0].end_user().is_none(),
        "baggage without a trace is ignored"
    );
}

#[test]
fn a_future_given_the_extracted_context_continues_the_trace_on_any_thread() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let ((), spans) = with_capture(|| {
        let cx = propagation::extract_trusting_end_user(&caller_headers(Some(BAGGAGE)));
        let handle = rt.spawn(
            async {
                neatlogs::trace("agent")
                    .instrument(async {
                        tokio::task::yield_now().await;
                        neatlogs::current_end_user().map(|u| u.id().as_str().to_owned())
                    })
                    .await
            }
            .with_context(cx),
        );
        let user = rt.block_on(handle).unwrap();
        assert_eq!(user.as_deref(), Some("u_caller"));
    });
    assert_eq!(spans.len(), 1);
    assert!(spans[0].has_remote_parent());
    assert_eq!(spans[0].trace_id().to_string(), CALLER_TRACE);
}
