//! `Neatlogs` instances: pipelines as values, each with its own
//! configuration, side by side in one process without `init`.

#[path = "export_support/mod.rs"]
mod support;

use std::time::Duration;

use neatlogs::{Config, Neatlogs, SpanHandle, SpanKind};
use support::{str_attr, Receiver};

fn instance_to(receiver: &Receiver, default_end_user: &str) -> Neatlogs {
    Neatlogs::new(
        Config::new()
            .api_key("k")
            .endpoint(receiver.url())
            .end_user_id(default_end_user)
            .schedule_delay(Duration::from_millis(20)),
    )
    .unwrap()
}

fn end_user(span: &opentelemetry_proto::tonic::trace::v1::Span) -> Option<&str> {
    str_attr(&span.attributes, "neatlogs.end_user.id")
}

#[test]
fn two_instances_on_two_threads_each_get_their_own_traces_and_defaults() {
    let (a, b) = (Receiver::start(), Receiver::start());
    let work = |receiver: &Receiver, default: &'static str, explicit: &'static str| {
        let tracer = instance_to(receiver, default);
        tracer.in_scope(|| {
            for _ in 0..20 {
                let _root = neatlogs::trace("default-user").enter();
                let _child = neatlogs::span(SpanKind::Tool, "t").enter();
            }
            let mut root = neatlogs::trace("explicit").end_user_id(explicit).enter();
            root.set_attribute("instance", default);
        });
        assert!(tracer.shutdown(), "{:?}", tracer.stats());
        tracer.stats()
    };
    let (sa, sb) = std::thread::scope(|s| {
        let ta = s.spawn(|| work(&a, "u_a_default", "u_a_explicit"));
        let tb = s.spawn(|| work(&b, "u_b_default", "u_b_explicit"));
        (ta.join().unwrap(), tb.join().unwrap())
    });
    assert_eq!((sa.exported, sa.dropped, sa.failed), (41, 0, 0));
    assert_eq!((sb.exported, sb.dropped, sb.failed), (41, 0, 0));
    for (receiver, default, explicit) in [
        (&a, "u_a_default", "u_a_explicit"),
        (&b, "u_b_default", "u_b_explicit"),
    ] {
        let spans = receiver.app_spans();
        assert_eq!(spans.len(), 41);
        let explicit_spans: Vec<_> = spans.iter().filter(|s| s.name == "explicit").collect();
        assert_eq!(explicit_spans.len(), 1);
        assert_eq!(end_user(explicit_spans[0]), Some(explicit));
        let roots: Vec<_> = spans.iter().filter(|s| s.name == "default-user").collect();
        assert_eq!(roots.len(), 20);
        assert!(
            roots.iter().all(|s| end_user(s) == Some(default)),
            "every other root belongs to {default}"
        );
    }
    // Nothing was installed for the process.
    assert!(!neatlogs::is_initialized());
}

#[test]
fn children_on_other_threads_and_tasks_reach_the_roots_instance() {
    let receiver = Receiver::start();
    let tracer = instance_to(&receiver, "u_default");
    let runtime = support::runtime();
    tracer.in_scope(|| {
        let _root = neatlogs::trace("request").end_user_id("u_1").enter();
        let cx = neatlogs::Context::current();
        std::thread::spawn(move || {
            let _g = cx.attach();
            let _s = neatlogs::span(SpanKind::Tool, "on-a-thread").enter();
        })
        .join()
        .unwrap();
        use neatlogs::FutureExt;
        runtime.block_on(async {
            tokio::spawn(
                async {
                    neatlogs::span(SpanKind::Tool, "in-a-task")
                        .instrument(tokio::task::yield_now())
                        .await;
                }
                .in_current_trace(),
            )
            .await
            .unwrap();
        });
    });
    assert!(tracer.shutdown());
    let spans = receiver.app_spans();
    let names: Vec<&str> = spans.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(spans.len(), 3, "{names:?}");
    assert!(names.contains(&"on-a-thread") && names.contains(&"in-a-task"));
    let root = spans.iter().find(|s| s.name == "request").unwrap();
    assert_eq!(end_user(root), Some("u_1"));
    let trace_ids: std::collections::HashSet<_> = spans.iter().map(|s| &s.trace_id).collect();
    assert_eq!(trace_ids.len(), 1);
}

#[test]
fn outside_its_scope_nothing_reaches_it() {
    let receiver = Receiver::start();
    let tracer = instance_to(&receiver, "u_default");
    {
        let _root = neatlogs::trace("before").enter();
    }
    let guard = tracer.set_default();
    {
        let _root = neatlogs::trace("inside").enter();
    }
    drop(guard);
    {
        let _root = neatlogs::trace("after").enter();
    }
    {
        let _g = tracer.set_default();
        // Another thread has its own default (none): its root is not the
        // instance's.
        std::thread::spawn(|| drop(neatlogs::trace("other-thread").enter()))
            .join()
            .unwrap();
    }
    assert!(tracer.shutdown());
    let names: Vec<String> = receiver.app_spans().into_iter().map(|s| s.name).collect();
    assert_eq!(names, ["inside"]);
    assert_eq!(tracer.stats().exported, 1);
    // After shutdown, spans are not taken, and shutting down again is harmless.
    tracer.in_scope(|| drop(neatlogs::trace("late").enter()));
    assert!(tracer.shutdown());
    assert_eq!(tracer.stats().exported, 1);
}

#[test]
fn a_capture_inside_an_instance_scope_sees_the_spans_and_the_instances_defaults() {
    let receiver = Receiver::start();
    let tracer = instance_to(&receiver, "u_default");
    let spans = tracer.in_scope(|| {
        let ((), spans) = neatlogs::testing::with_capture(|| {
            let _root = neatlogs::trace("captured").enter();
        });
        spans
    });
    assert_eq!(spans.len(), 1);
    // The capture is innermost: its root reports to the capture, with the
    // process's defaults (none), not the instance's.
    assert_eq!(spans[0].end_user(), None);
    assert!(tracer.shutdown());
    assert!(receiver.app_spans().is_empty());
}

#[test]
fn an_invalid_configuration_is_the_same_error_as_init() {
    let err = Neatlogs::new(Config::new().end_user_id("u\nbad")).unwrap_err();
    assert!(
        matches!(err, neatlogs::InitError::InvalidEndUserId(_)),
        "{err}"
    );
    let err = Neatlogs::new(Config::new().endpoint("not a url").api_key("k")).unwrap_err();
    assert!(
        matches!(err, neatlogs::InitError::InvalidEndpoint { .. }),
        "{err}"
    );
}

#[test]
fn dropping_an_instance_exports_what_it_was_sent() {
    let receiver = Receiver::start();
    let tracer = Neatlogs::new(
        Config::new()
            .api_key("k")
            .endpoint(receiver.url())
            // Only a flush or a shutdown exports within the test.
            .schedule_delay(Duration::from_secs(3600)),
    )
    .unwrap();
    tracer.in_scope(|| drop(neatlogs::trace("before-drop").enter()));
    drop(tracer);
    let names: Vec<String> = receiver.app_spans().into_iter().map(|s| s.name).collect();
    assert_eq!(names, ["before-drop"]);
}
