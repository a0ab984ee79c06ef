//! Roots are explicit: a job spawned from inside a request with
//! `neatlogs::new_trace` is a trace of its own, with its own end-user and a
//! span link to the request's span (which names the job's trace in an
//! event), checked on the wire; the same job opened with `trace(..)` is a
//! child whose end-user is ignored, said at `warn` once per call site.

mod export_support;

use opentelemetry_proto::tonic::trace::v1::Span as WireSpan;

use export_support::{
    app_spans, capture_logs, hex, in_child, init_exporting_to, logs, str_attr, user_now, Receiver,
};

const JOBS: usize = 20;

fn end_user(span: &WireSpan) -> Option<&str> {
    str_attr(&span.attributes, "neatlogs.end_user.id")
}

#[test]
fn a_spawned_job_is_its_own_trace_linked_to_the_request() {
    // In a child process: asserts the first warning of a warn-once (per call site, per process) latch.
    if !in_child("a_spawned_job_is_its_own_trace_linked_to_the_request", &[]) {
        return;
    }
    capture_logs();
    let receiver = Receiver::start();
    init_exporting_to(&receiver, Some("u_default"));
    let runtime = export_support::runtime();
    let seen = runtime.block_on(async {
        let mut seen = Vec::new();
        for k in 0..JOBS {
            let request = neatlogs::trace(format!("request-{k}"))
                .end_user_id(format!("u_request{k}"))
                .instrument(async move {
                    // The new-root API: a trace of its own.
                    let job = tokio::spawn(
                        neatlogs::new_trace(format!("job-{k}"))
                            .end_user_id(format!("u_job{k}"))
                            .instrument(async {
                                tokio::task::yield_now().await;
                                user_now()
                            }),
                    );
                    // The same with `trace(..)`: a child, its end-user
                    // ignored (with a warning, once for this call site).
                    let child = tokio::spawn(
                        neatlogs::trace(format!("child-job-{k}"))
                            .end_user_id(format!("u_ignored{k}"))
                            .instrument(async { user_now() }),
                    );
                    (job.await.unwrap(), child.await.unwrap())
                });
            seen.push(request.await);
        }
        seen
    });
    drop(runtime);
    assert!(neatlogs::shutdown(), "everything exported");
    let spans = app_spans(&receiver.accepted_spans());
    let named = |name: &str| -> &WireSpan {
        let found: Vec<_> = spans.iter().filter(|s| s.name == name).collect();
        assert_eq!(found.len(), 1, "{name}");
        found[0]
    };
    let mut roots = 0;
    for (k, (job_user, child_user)) in seen.iter().enumerate() {
        assert_eq!(
            job_user,
            &format!("u_job{k}"),
            "current_end_user() in the job"
        );
        assert_eq!(
            child_user,
            &format!("u_request{k}"),
            "a child sees the request's"
        );
        let request = named(&format!("request-{k}"));
        let job = named(&format!("job-{k}"));
        let child = named(&format!("child-job-{k}"));
        // On the wire: the job is a root of another trace, with its own
        // end-user and one link to the request's span.
        assert_ne!(job.trace_id, request.trace_id);
        assert!(job.parent_span_id.is_empty());
        assert_eq!(end_user(job), Some(format!("u_job{k}").as_str()));
        assert_eq!(job.links.len(), 1);
        assert_eq!(job.links[0].trace_id, request.trace_id);
        assert_eq!(job.links[0].span_id, request.span_id);
        roots += 1;
        // ...and the request's span names the job's trace.
        let spawned: Vec<_> = request
            .events
            .iter()
            .filter(|e| e.name == "neatlogs.trace.spawned")
            .collect();
        assert_eq!(spawned.len(), 1);
        assert_eq!(
            str_attr(&spawned[0].attributes, "neatlogs.trace.spawned.trace_id"),
            Some(hex(&job.trace_id).as_str())
        );
        // `trace(..)` there made a child, without an end-user of its own.
        assert_eq!(child.trace_id, request.trace_id);
        assert_eq!(child.parent_span_id, request.span_id);
        assert_eq!(end_user(child), None);
        assert_eq!(end_user(request), Some(format!("u_request{k}").as_str()));
    }
    assert_eq!(roots, JOBS);
    let nested: Vec<_> = logs()
        .into_iter()
        .filter(|l| l.contains("on nested span") && l.contains("end_user_id"))
        .collect();
    let warned = nested.iter().filter(|l| l.starts_with("WARN")).count();
    assert_eq!(warned, 1, "one warning for the call site: {nested:?}");
    assert_eq!(nested.len(), JOBS, "the other occurrences at debug");
    assert!(nested[0].contains("neatlogs::new_trace"), "{}", nested[0]);
    println!("[report] {JOBS} jobs spawned from requests: {roots} roots of their own with a link on the wire; the nested end-user warned once");
}
