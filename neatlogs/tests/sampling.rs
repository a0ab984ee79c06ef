//! Head sampling: the decision from the trace id (services at one ratio
//! agree), a continued trace following its caller, and identity the same in
//! a trace that is dropped as in one that is kept. Two services over real
//! HTTP on 127.0.0.1, each with its own `Neatlogs` instance.

mod export_support;

use std::collections::BTreeSet;
use std::future::IntoFuture;
use std::net::SocketAddr;
use std::time::Duration;

use axum::routing::get;
use axum::Router;
use neatlogs::propagation::RequestBuilderExt;
use neatlogs::tower::{RequestIdentity, TraceLayer, Trust};
use neatlogs::{Config, Neatlogs, Sampler, SpanHandle, SpanKind};

use export_support::{hex, Receiver};

const TRACES: usize = 400;

fn instance(receiver: &Receiver, sampler: Sampler) -> Neatlogs {
    Neatlogs::new(
        Config::new()
            .api_key("k")
            .endpoint(receiver.url())
            .schedule_delay(Duration::from_millis(20))
            .sampler(sampler),
    )
    .unwrap()
}

/// The trace ids of the exported spans.
fn trace_ids(receiver: &Receiver) -> BTreeSet<String> {
    receiver
        .app_spans()
        .iter()
        .map(|s| hex(&s.trace_id))
        .collect()
}

/// The callee: continues its callers' traces, answers the trace id it sees
/// and the end-user, from a span of its own.
fn callee() -> Router {
    Router::new()
        .route(
            "/work",
            get(|| async {
                let _s = neatlogs::span(SpanKind::Tool, "callee work").enter();
                neatlogs::current_trace_id()
                    .map(|t| t.to_string())
                    .unwrap_or_default()
            }),
        )
        .layer(TraceLayer::new().trust(|_| Trust::TraceContext))
}

/// Run the callee on a thread of its own, with `tracer` its default there;
/// its address.
fn start_callee(
    tracer: Neatlogs,
    stop: tokio::sync::oneshot::Receiver<()>,
) -> (SocketAddr, std::thread::JoinHandle<Neatlogs>) {
    serve_on_own_thread(tracer, callee(), stop)
}

/// Serve `app` on a thread of its own, with `tracer` its default there,
/// until `stop`; its address.
fn serve_on_own_thread(
    tracer: Neatlogs,
    app: Router,
    stop: tokio::sync::oneshot::Receiver<()>,
) -> (SocketAddr, std::thread::JoinHandle<Neatlogs>) {
    let (tx, rx) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        tracer.in_scope(|| {
            runtime.block_on(async {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                tx.send(listener.local_addr().unwrap()).unwrap();
                let serve = axum::serve(listener, app).into_future();
                // Served until the caller is done.
                tokio::select! {
                    _ = serve => {}
                    _ = stop => {}
                }
            })
        });
        tracer
    });
    (rx.recv().unwrap(), thread)
}

/// `TRACES` requests from the caller, each in a trace of its own: the
/// trace ids the caller opened, and the ids the callee saw (equal).
fn call_many(caller: &Neatlogs, callee: SocketAddr) -> Vec<String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = reqwest::Client::new();
    caller.in_scope(|| {
        runtime.block_on(async {
            let mut ids = Vec::new();
            for _ in 0..TRACES {
                let url = format!("http://{callee}/work");
                let (mine, seen) = neatlogs::trace("request")
                    .end_user_id("u_1")
                    .instrument(async {
                        let mine = neatlogs::current_trace_id().unwrap().to_string();
                        assert_eq!(
                            neatlogs::current_end_user().map(|u| u.id().to_string()),
                            Some("u_1".to_owned()),
                            "identity does not depend on sampling"
                        );
                        let seen = client
                            .get(url)
                            .trace_context()
                            .send()
                            .await
                            .unwrap()
                            .text()
                            .await
                            .unwrap();
                        (mine, seen)
                    })
                    .await;
                assert_eq!(mine, seen, "the callee continues the caller's trace");
                ids.push(mine);
            }
            ids
        })
    })
}

/// Run `TRACES` requests with the two samplers; the kept trace ids of the
/// caller and of the callee, and every trace id.
fn run(caller: Sampler, callee: Sampler) -> (BTreeSet<String>, BTreeSet<String>, Vec<String>) {
    let (a, b) = (Receiver::start(), Receiver::start());
    let caller = instance(&a, caller);
    let (stop, stopped) = tokio::sync::oneshot::channel();
    let (addr, thread) = start_callee(instance(&b, callee), stopped);
    let all = call_many(&caller, addr);
    let _ = stop.send(());
    let callee = thread.join().unwrap();
    assert!(caller.shutdown() && callee.shutdown());
    (trace_ids(&a), trace_ids(&b), all)
}

#[test]
fn services_at_the_same_ratio_keep_the_same_traces() {
    let (kept_a, kept_b, all) = run(Sampler::TraceIdRatio(0.25), Sampler::TraceIdRatio(0.25));
    assert_eq!(
        kept_a, kept_b,
        "every trace is kept in both or dropped in both"
    );
    // 400 traces at 0.25: 100 ± 8.7 (one sigma); five sigmas here.
    assert!((56..=144).contains(&kept_a.len()), "{} kept", kept_a.len());
    assert!(kept_a.iter().all(|t| all.contains(t)));
    println!(
        "traceidratio 0.25 on both: {} of {TRACES} kept by each",
        kept_a.len()
    );
}

#[test]
fn a_parent_based_callee_follows_its_caller() {
    // The callee alone would keep nothing; it keeps what the caller kept.
    let (kept_a, kept_b, _) = run(
        Sampler::TraceIdRatio(0.25),
        Sampler::parent_based(Sampler::AlwaysOff),
    );
    assert!(!kept_a.is_empty());
    assert_eq!(kept_a, kept_b);
    // And a callee that is not parent-based decides for itself.
    let (kept_a, kept_b, _) = run(Sampler::AlwaysOff, Sampler::AlwaysOn);
    assert!(kept_a.is_empty());
    assert_eq!(kept_b.len(), TRACES);
}

#[test]
fn a_dropped_trace_keeps_its_identity_and_context_and_records_nothing() {
    let receiver = Receiver::start();
    let tracer = instance(&receiver, Sampler::AlwaysOff);
    tracer.in_scope(|| {
        let mut root = neatlogs::trace("chat")
            .end_user_id("u_812")
            .session_id("s_1")
            .enter();
        assert!(!root.is_recording());
        root.set_attribute("ignored", true);
        let child = neatlogs::span(SpanKind::Tool, "search");
        assert!(
            !child.is_enabled(),
            "a child of a dropped trace is not opened"
        );
        let _child = child.enter();
        assert_eq!(neatlogs::current_end_user().unwrap().id().as_str(), "u_812");
        assert_eq!(neatlogs::current_session_id().as_deref(), Some("s_1"));
        let mut headers = http::HeaderMap::new();
        assert!(neatlogs::propagation::inject(&mut headers));
        let traceparent = headers["traceparent"].to_str().unwrap();
        assert!(traceparent.ends_with("-00"), "{traceparent}: not sampled");
        // Across a thread, the same.
        let cx = neatlogs::Context::current();
        std::thread::spawn(move || {
            let _g = cx.attach();
            assert_eq!(neatlogs::current_end_user().unwrap().id().as_str(), "u_812");
        })
        .join()
        .unwrap();
    });
    assert!(tracer.shutdown());
    assert!(receiver.app_spans().is_empty());
    assert_eq!(tracer.stats().queued, 0);

    let receiver = Receiver::start();
    let tracer = instance(&receiver, Sampler::AlwaysOn);
    tracer.in_scope(|| {
        let _root = neatlogs::trace("chat").enter();
        let mut headers = http::HeaderMap::new();
        assert!(neatlogs::propagation::inject(&mut headers));
        assert!(headers["traceparent"].to_str().unwrap().ends_with("-01"));
    });
    assert!(tracer.shutdown());
    assert_eq!(receiver.app_spans().len(), 1);
}

#[test]
fn a_ratio_that_is_not_a_probability_fails_like_init() {
    let err = Neatlogs::new(Config::new().sampler(Sampler::TraceIdRatio(1.5))).unwrap_err();
    assert!(
        matches!(err, neatlogs::InitError::InvalidSampler(r) if r == 1.5),
        "{err}"
    );
}

/// A public edge (the layer trusts no caller) whose identity comes from the
/// request; answers the end-user its handler sees.
fn edge() -> Router {
    Router::new()
        .route(
            "/me",
            get(|| async {
                neatlogs::current_end_user()
                    .map(|u| u.id().to_string())
                    .unwrap_or_default()
            }),
        )
        .layer(TraceLayer::new().identity(|parts| {
            RequestIdentity::new().end_user_id(
                parts
                    .headers
                    .get("x-user")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned),
            )
        }))
}

/// GET `/me` on `addr` with `headers`; the answer.
fn get_me(addr: SocketAddr, headers: &[(&str, &str)]) -> String {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut request = reqwest::Client::new().get(format!("http://{addr}/me"));
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        request.send().await.unwrap().text().await.unwrap()
    })
}

/// The attack: a client of a public edge sends `traceparent` with the
/// sampled flag off, hoping its requests (and what they cost) go
/// unrecorded. The edge believes nothing of an untrusted caller: its own
/// sampler decides, and the request is recorded.
#[test]
fn an_untrusted_callers_unsampled_flag_does_not_drop_the_edges_trace() {
    let receiver = Receiver::start();
    let (stop, stopped) = tokio::sync::oneshot::channel();
    let (addr, thread) =
        serve_on_own_thread(instance(&receiver, Sampler::default()), edge(), stopped);
    let seen = get_me(
        addr,
        &[
            ("x-user", "u_attacker"),
            (
                "traceparent",
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00",
            ),
        ],
    );
    assert_eq!(seen, "u_attacker");
    let _ = stop.send(());
    let tracer = thread.join().unwrap();
    assert!(tracer.shutdown());
    let spans = receiver.app_spans();
    assert_eq!(spans.len(), 1, "the request is recorded");
    assert_ne!(
        hex(&spans[0].trace_id),
        "4bf92f3577b34da6a3ce929d0e0e4736",
        "a new trace, not the caller's"
    );
}

/// In a trace the sampler dropped, the layer's identity is still the
/// request's: the handler sees its end-user.
#[test]
fn a_dropped_request_trace_keeps_the_layers_identity() {
    let receiver = Receiver::start();
    let (stop, stopped) = tokio::sync::oneshot::channel();
    let (addr, thread) =
        serve_on_own_thread(instance(&receiver, Sampler::AlwaysOff), edge(), stopped);
    assert_eq!(get_me(addr, &[("x-user", "u_1")]), "u_1");
    assert_eq!(get_me(addr, &[("x-user", "u_2")]), "u_2");
    let _ = stop.send(());
    let tracer = thread.join().unwrap();
    assert!(tracer.shutdown());
    assert!(receiver.app_spans().is_empty());
}

/// The sampling rule sees the identity the `tower` layer resolved from the
/// request, before the request's trace starts: at a 0 % base rate, every
/// request of the user under investigation is recorded, and no other.
#[test]
fn the_rule_sees_the_layers_end_user() {
    let receiver = Receiver::start();
    let (stop, stopped) = tokio::sync::oneshot::channel();
    let tracer = Neatlogs::new(
        Config::new()
            .api_key("k")
            .endpoint(receiver.url())
            .sampler(Sampler::AlwaysOff)
            .sampling_rule(|root| (root.end_user_id() == Some("u_watched")).then_some(1.0)),
    )
    .unwrap();
    let (addr, thread) = serve_on_own_thread(tracer, edge(), stopped);
    for user in ["u_watched", "u_other", "u_watched", "u_other"] {
        assert_eq!(get_me(addr, &[("x-user", user)]), user);
    }
    let _ = stop.send(());
    let tracer = thread.join().unwrap();
    assert!(tracer.shutdown());
    let spans = receiver.app_spans();
    assert_eq!(spans.len(), 2, "the two requests of u_watched");
    for span in &spans {
        assert_eq!(
            export_support::str_attr(&span.attributes, "neatlogs.end_user.id"),
            Some("u_watched")
        );
    }
}
