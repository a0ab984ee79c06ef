//! s10: 2,000 concurrent requests from 100 end-users on a multi-thread
//! runtime, each with nested async spans, spawned sub-tasks and a thread hop.
//! Every exported span must carry exactly its request's end-user.

mod common_collect;

use std::collections::HashMap;

use common_collect::Collect;
use neatlogs::{FutureExt, SpanKind};

const REQUESTS: usize = 2_000;
const USERS: usize = 100;

async fn handle(request: usize) -> usize {
    let user = format!("u_{}", request % USERS);
    neatlogs::trace("request")
        .end_user_id(&user)
        .attribute("request", request as i64)
        .instrument(async move {
            let mut spans = 1;
            neatlogs::span(SpanKind::Agent, "agent")
                .instrument(async {
                    tokio::task::yield_now().await;
                    assert_eq!(neatlogs::current_end_user().unwrap().id().as_str(), user);
                })
                .await;
            spans += 1;
            let sub = tokio::spawn(
                neatlogs::span(SpanKind::Tool, "subtask")
                    .instrument(async {
                        tokio::time::sleep(std::time::Duration::from_micros(50)).await;
                        neatlogs::current_end_user().map(|u| u.id().to_string())
                    })
                    .in_current_trace(),
            );
            spans += 1;
            let cx = neatlogs::Context::current();
            let hop = tokio::task::spawn_blocking(move || {
                let _g = cx.attach();
                let _s = neatlogs::span(SpanKind::Retriever, "thread-hop").enter();
                neatlogs::current_end_user().map(|u| u.id().to_string())
            });
            spans += 1;
            assert_eq!(sub.await.unwrap().as_deref(), Some(user.as_str()));
            assert_eq!(hop.await.unwrap().as_deref(), Some(user.as_str()));
            spans
        })
        .await
}

#[test]
fn s10_two_thousand_concurrent_requests_zero_mismatches() {
    let collect = Collect::default();
    neatlogs::init(
        neatlogs::Config::new()
            .end_user_id("u_default_must_not_appear")
            .default_destination(false)
            .exporter(collect.clone()),
    )
    .unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap();
    let expected_spans: usize = rt.block_on(async {
        let tasks: Vec<_> = (0..REQUESTS).map(|i| tokio::spawn(handle(i))).collect();
        let mut total = 0;
        for t in tasks {
            total += t.await.unwrap();
        }
        total
    });
    assert!(neatlogs::flush());
    let spans = collect.take();
    assert_eq!(spans.len(), expected_spans);
    assert_eq!(neatlogs::stats().dropped, 0);

    // Each trace's root names the request; every span of the trace must carry
    // that request's user.
    let mut root_request: HashMap<neatlogs::TraceId, i64> = HashMap::new();
    for s in spans.iter().filter(|s| s.is_root()) {
        root_request.insert(
            s.trace_id(),
            s.attribute("request").unwrap().as_i64().unwrap(),
        );
    }
    assert_eq!(root_request.len(), REQUESTS);
    let mut mismatched = 0;
    let mut missing = 0;
    let mut users = std::collections::HashSet::new();
    for s in &spans {
        let request = root_request[&s.trace_id()] as usize;
        match s.end_user() {
            None => missing += 1,
            Some(u) => {
                users.insert(u.id().to_string());
                if u.id().as_str() != format!("u_{}", request % USERS) {
                    mismatched += 1;
                }
            }
        }
    }
    assert_eq!((mismatched, missing), (0, 0));
    assert_eq!(users.len(), USERS);
    assert!(neatlogs::shutdown());
}
