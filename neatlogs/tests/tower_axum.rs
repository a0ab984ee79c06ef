//! `neatlogs::tower::TraceLayer` on axum services over real HTTP on
//! 127.0.0.1: a thousand concurrent requests of fifty end-users keep their
//! end-users; roots named by route; 5xx is ERROR and 4xx is not; a streamed
//! body keeps the root open until its last chunk; a request without an
//! end-user gets the default; a service's or a body's error marks
//! the root; the caller's trace is continued; a request is always a root.

#[path = "common_collect.rs"]
mod common_collect;
mod export_support;

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use bytes::Bytes;
use http_body_util::BodyExt;
use neatlogs::export::{SpanRecord, Status, Value};
use neatlogs::tower::{RequestIdentity, TraceLayer, Trust};
use neatlogs::{FutureExt, SpanKind};
use opentelemetry_proto::tonic::trace::v1::Span as WireSpan;
use tower_layer::Layer;
use tower_service::Service;

use common_collect::Collect;
use export_support::{
    app_spans, auth, in_child, int_attr, str_attr, user_now, CurrentUser, Receiver,
};

/// The layer as an application configures it: the end-user from what
/// `auth` decided.
fn trace_layer() -> TraceLayer {
    TraceLayer::new().identity(|request| match request.extensions.get::<CurrentUser>() {
        Some(user) => RequestIdentity::new().end_user_id(&user.0),
        None => RequestIdentity::default(),
    })
}

/// `app` with the trace layer inside `auth`, served on 127.0.0.1.
async fn serve_traced(app: Router) -> SocketAddr {
    let app = app
        .layer(trace_layer())
        .layer(axum::middleware::from_fn(auth));
    export_support::serve(app).await
}

fn user_of(span: &SpanRecord) -> Option<&str> {
    span.end_user().map(|u| u.id().as_str())
}

// ------------------------------------------------- a thousand requests

/// Awaits, opens a child span, spawns a task carrying the trace, and
/// answers the end-user seen at each step, after the request's number.
async fn work(Path(n): Path<usize>, Extension(user): Extension<CurrentUser>) -> String {
    tokio::time::sleep(Duration::from_millis((n % 3) as u64)).await;
    let top = user_now();
    let child = neatlogs::span(SpanKind::Tool, "lookup")
        .attribute("request", n as u64)
        .instrument(async {
            tokio::task::yield_now().await;
            user_now()
        })
        .await;
    let spawned = tokio::spawn(
        neatlogs::span(SpanKind::Chain, "background")
            .instrument(async {
                tokio::time::sleep(Duration::from_millis(1)).await;
                user_now()
            })
            .in_current_trace(),
    )
    .await
    .unwrap();
    format!("{n} {} {top} {child} {spawned}", user.0)
}

/// Spans per request: the root, `lookup`, `background`.
const SPANS_PER_REQUEST: usize = 3;

#[test]
fn a_thousand_concurrent_requests_keep_their_end_users() {
    // In a child process: roots open in axum's tasks moving between 4 worker threads (what is checked), so `init`.
    if !in_child("a_thousand_concurrent_requests_keep_their_end_users", &[]) {
        return;
    }
    let collect = Collect::default();
    neatlogs::init(
        neatlogs::Config::new()
            .default_destination(false)
            .queue_size(1 << 16)
            .schedule_delay(Duration::from_millis(20))
            .exporter(collect.clone()),
    )
    .unwrap();
    const N: usize = 1_000;
    const USERS: usize = 50;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap();
    let answers = runtime.block_on(async {
        let addr = serve_traced(Router::new().route("/work/{n}", get(work))).await;
        let client = reqwest::Client::new();
        let tasks: Vec<_> = (0..N)
            .map(|i| {
                let request = client
                    .get(format!("http://{addr}/work/{i}"))
                    .header("x-user", format!("u_{}", i % USERS));
                tokio::spawn(async move {
                    let response = request.send().await.unwrap();
                    assert_eq!(response.status(), 200);
                    response.text().await.unwrap()
                })
            })
            .collect();
        let mut answers = Vec::with_capacity(N);
        for t in tasks {
            answers.push(t.await.unwrap());
        }
        answers
    });
    drop(runtime);
    assert!(neatlogs::shutdown(), "everything exported");

    // In the handlers: the request's end-user at every step.
    for (i, answer) in answers.iter().enumerate() {
        let u = format!("u_{}", i % USERS);
        assert_eq!(*answer, format!("{i} {u} {u} {u} {u}"));
    }

    let stats = neatlogs::stats();
    let spans = collect.take();
    println!(
        "[report] {N} requests, {USERS} end-users: {} spans exported, {} dropped, {} failed",
        spans.len(),
        stats.dropped,
        stats.failed
    );
    assert_eq!(stats.dropped, 0);
    assert_eq!(stats.failed, 0);
    assert_eq!(
        spans.len(),
        N * SPANS_PER_REQUEST,
        "no span lost or doubled"
    );

    let mut traces: HashMap<_, Vec<&SpanRecord>> = HashMap::new();
    for s in &spans {
        traces.entry(s.trace_id()).or_default().push(s);
    }
    assert_eq!(traces.len(), N, "one trace per request");
    let mut roots = 0;
    let mut wrong = 0;
    let mut seen = vec![false; N];
    for trace in traces.values() {
        let root: Vec<_> = trace.iter().filter(|s| s.is_root()).collect();
        assert_eq!(root.len(), 1, "one root per trace");
        let root = root[0];
        roots += 1;
        let path = root.attribute("url.path").and_then(Value::as_str).unwrap();
        let n: usize = path.strip_prefix("/work/").unwrap().parse().unwrap();
        assert!(!std::mem::replace(&mut seen[n], true), "request {n} twice");
        let expected = format!("u_{}", n % USERS);
        assert_eq!(root.name(), "GET /work/{n}");
        assert_eq!(
            root.attribute("http.route").and_then(Value::as_str),
            Some("/work/{n}")
        );
        assert_eq!(
            root.attribute("http.response.status_code")
                .and_then(Value::as_i64),
            Some(200)
        );
        assert_eq!(trace.len(), SPANS_PER_REQUEST);
        for s in trace {
            if user_of(s) != Some(expected.as_str()) {
                wrong += 1;
            }
            if let Some(parent) = s.parent_span_id() {
                assert_eq!(parent, root.span_id(), "`{}` under the root", s.name());
            }
            if let Some(said) = s.attribute("request").and_then(Value::as_i64) {
                assert_eq!(said, n as i64, "the child of request {n}");
            }
        }
    }
    println!("[report] {roots} roots, {wrong} spans with another request's end-user");
    assert_eq!(roots, N);
    assert_eq!(wrong, 0, "spans attributed to another request's end-user");
}

// ------------------------------------------------------ on the wire

async fn show_user(Path(id): Path<u64>) -> String {
    format!("user {id}: seen by {}", user_now())
}

async fn unavailable() -> StatusCode {
    StatusCode::SERVICE_UNAVAILABLE
}

/// Three chunks, a pause before each; a span named after each chunk marks
/// when it was handed to the server (the same clock as the root's).
async fn stream() -> Response {
    neatlogs::span(SpanKind::Chain, "handler").in_scope(|| {});
    let chunks = futures_util::stream::unfold(0_u32, |k| async move {
        if k == 3 {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(30)).await;
        let chunk = neatlogs::span(SpanKind::Chain, format!("chunk {k}"))
            .in_scope(|| Bytes::from(format!("chunk {k} for {}\n", user_now())));
        Some((Ok::<_, Infallible>(chunk), k + 1))
    });
    Body::from_stream(chunks).into_response()
}

fn wire_root<'a>(spans: &'a [WireSpan], path: &str) -> &'a WireSpan {
    let found: Vec<_> = spans
        .iter()
        .filter(|s| s.parent_span_id.is_empty())
        .filter(|s| str_attr(&s.attributes, "url.path") == Some(path))
        .collect();
    assert_eq!(found.len(), 1, "one root for {path}");
    found[0]
}

fn by_name<'a>(spans: &'a [WireSpan], name: &str) -> &'a WireSpan {
    spans
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no span `{name}`"))
}

const STATUS_ERROR: i32 = 2;

#[test]
fn routes_statuses_streams_and_the_default_end_user_on_the_wire() {
    let receiver = Receiver::start();
    let tracer = neatlogs::Neatlogs::new(
        neatlogs::Config::new()
            .api_key("k")
            .endpoint(receiver.url())
            .schedule_delay(Duration::from_millis(20))
            .end_user_id("u_default"),
    )
    .unwrap();
    // The instance is this thread's default, and the server's tasks run on
    // this thread's runtime.
    let default = tracer.set_default();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let body = runtime.block_on(async {
        let app = Router::new()
            .route("/users/{id}", get(show_user))
            .route("/unavailable", get(unavailable))
            .route("/stream", get(stream));
        let addr = serve_traced(app).await;
        let client = reqwest::Client::new();
        let get = |path: &str, user: Option<&str>| {
            let mut request = client.get(format!("http://{addr}{path}"));
            if let Some(user) = user {
                request = request.header("x-user", user);
            }
            async move {
                let response = request.send().await.unwrap();
                (response.status().as_u16(), response.text().await.unwrap())
            }
        };
        assert_eq!(
            get("/users/42", Some("u_1")).await,
            (200, "user 42: seen by u_1".to_owned())
        );
        assert_eq!(
            get("/users/7", None).await,
            (200, "user 7: seen by u_default".to_owned())
        );
        assert_eq!(get("/unavailable", Some("u_1")).await.0, 503);
        assert_eq!(get("/nowhere", Some("u_1")).await.0, 404);
        assert_eq!(get("/users/not-a-number", Some("u_1")).await.0, 400);
        get("/stream", Some("u_2")).await
    });
    assert_eq!(
        body,
        (
            200,
            "chunk 0 for u_2\nchunk 1 for u_2\nchunk 2 for u_2\n".to_owned()
        )
    );
    drop(runtime);
    drop(default);
    assert!(tracer.shutdown(), "everything exported");
    let spans = app_spans(&receiver.accepted_spans());

    // Named by the route, never the raw path; the attributes of the
    // OpenTelemetry HTTP conventions.
    let user = wire_root(&spans, "/users/42");
    assert_eq!(user.name, "GET /users/{id}");
    assert_eq!(
        str_attr(&user.attributes, "http.route"),
        Some("/users/{id}")
    );
    assert_eq!(
        str_attr(&user.attributes, "http.request.method"),
        Some("GET")
    );
    assert_eq!(
        int_attr(&user.attributes, "http.response.status_code"),
        Some(200)
    );
    assert_eq!(
        str_attr(&user.attributes, "neatlogs.end_user.id"),
        Some("u_1")
    );
    assert_ne!(user.status.as_ref().map_or(0, |s| s.code), STATUS_ERROR);

    // No end-user from the application: the default (the instance's).
    let anonymous = wire_root(&spans, "/users/7");
    assert_eq!(
        str_attr(&anonymous.attributes, "neatlogs.end_user.id"),
        Some("u_default")
    );

    // 5xx: the server failed.
    let failed = wire_root(&spans, "/unavailable");
    let status = failed.status.as_ref().expect("a status");
    assert_eq!(status.code, STATUS_ERROR);
    assert_eq!(status.message, "HTTP 503 Service Unavailable");
    assert_eq!(
        int_attr(&failed.attributes, "http.response.status_code"),
        Some(503)
    );

    // 4xx: the client's error, not the server's. No route matched: the
    // method alone names the root.
    let missing = wire_root(&spans, "/nowhere");
    assert_eq!(missing.name, "GET");
    assert_eq!(str_attr(&missing.attributes, "http.route"), None);
    assert_eq!(
        int_attr(&missing.attributes, "http.response.status_code"),
        Some(404)
    );
    assert_ne!(missing.status.as_ref().map_or(0, |s| s.code), STATUS_ERROR);
    let rejected = wire_root(&spans, "/users/not-a-number");
    assert_eq!(rejected.name, "GET /users/{id}");
    assert_eq!(
        int_attr(&rejected.attributes, "http.response.status_code"),
        Some(400)
    );
    assert_ne!(rejected.status.as_ref().map_or(0, |s| s.code), STATUS_ERROR);

    // A streamed body: the chunks are produced inside the root, which
    // ends only after the last one was handed over, long after the
    // handler returned.
    let streamed = wire_root(&spans, "/stream");
    let handler = by_name(&spans, "handler");
    let last = by_name(&spans, "chunk 2");
    for s in [handler, by_name(&spans, "chunk 0"), last] {
        assert_eq!(s.trace_id, streamed.trace_id);
        assert_eq!(
            s.parent_span_id, streamed.span_id,
            "`{}` under the root",
            s.name
        );
    }
    println!(
        "[report] stream: handler ended {} µs after the root's start, last chunk {} µs, root {} µs",
        (handler.end_time_unix_nano - streamed.start_time_unix_nano) / 1_000,
        (last.end_time_unix_nano - streamed.start_time_unix_nano) / 1_000,
        (streamed.end_time_unix_nano - streamed.start_time_unix_nano) / 1_000,
    );
    assert!(last.start_time_unix_nano > handler.end_time_unix_nano);
    assert!(
        streamed.end_time_unix_nano >= last.end_time_unix_nano,
        "the root ended before its last chunk was sent"
    );
}

// ------------------------------------- in-process, with a test capture

/// A service that fails, or answers `body`.
#[derive(Clone)]
struct Backend<B> {
    body: Option<B>,
}

impl<B: Clone> Service<http::Request<String>> for Backend<B> {
    type Response = http::Response<B>;
    type Error = String;
    type Future = std::future::Ready<Result<http::Response<B>, String>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), String>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: http::Request<String>) -> Self::Future {
        std::future::ready(match &self.body {
            Some(body) => Ok(http::Response::new(body.clone())),
            None => Err("backend unreachable".to_owned()),
        })
    }
}

/// A body that sends one chunk, then fails.
#[derive(Clone, Default)]
struct Broken {
    sent: bool,
}

impl http_body::Body for Broken {
    type Data = Bytes;
    type Error = &'static str;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, &'static str>>> {
        if std::mem::replace(&mut self.sent, true) {
            Poll::Ready(Some(Err("connection reset")))
        } else {
            Poll::Ready(Some(Ok(http_body::Frame::data(Bytes::from_static(b"a")))))
        }
    }
}

fn block_on<F: Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(f)
}

fn request(path: &str) -> http::Request<String> {
    http::Request::get(path).body(String::new()).unwrap()
}

#[test]
fn an_error_of_the_service_marks_the_root() {
    let (result, spans) = neatlogs::testing::with_capture(|| {
        let mut service = trace_layer().layer(Backend::<String> { body: None });
        block_on(service.call(request("/ask"))).map(|_| ())
    });
    assert_eq!(result, Err("backend unreachable".to_owned()));
    assert_eq!(spans.len(), 1);
    assert_eq!(spans[0].name(), "GET", "no route without a router");
    assert_eq!(
        spans[0].status(),
        &Status::Error("backend unreachable".into())
    );
}

#[test]
fn an_error_of_the_body_marks_the_root_and_ends_it() {
    let (collected, spans) = neatlogs::testing::with_capture(|| {
        let mut service = trace_layer().layer(Backend {
            body: Some(Broken::default()),
        });
        block_on(async {
            let response = service.call(request("/ask")).await.unwrap();
            response.into_body().collect().await.map(|_| ())
        })
    });
    assert_eq!(collected, Err("connection reset"));
    assert_eq!(spans.len(), 1);
    assert_eq!(spans[0].status(), &Status::Error("connection reset".into()));
}

#[test]
fn a_body_dropped_before_its_end_ends_the_root() {
    let (_, spans) = neatlogs::testing::with_capture(|| {
        let mut service = trace_layer().layer(Backend {
            body: Some(Broken::default()),
        });
        let response = block_on(service.call(request("/ask"))).unwrap();
        // The client went away: the server drops the body unsent.
        drop(response);
    });
    assert_eq!(spans.len(), 1);
    assert_eq!(spans[0].status(), &Status::Unset);
    assert_eq!(
        spans[0]
            .attribute("http.response.status_code")
            .and_then(Value::as_i64),
        Some(200)
    );
}

/// A request with a `traceparent`, through `layer`; its root.
fn root_of_request_with_traceparent(layer: TraceLayer) -> SpanRecord {
    let (_, mut spans) = neatlogs::testing::with_capture(|| {
        let mut service = layer.layer(Backend {
            body: Some(String::from("ok")),
        });
        let mut request = request("/ask");
        request.headers_mut().insert(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
                .parse()
                .unwrap(),
        );
        request
            .extensions_mut()
            .insert(CurrentUser("u_3".to_owned()));
        block_on(async {
            let response = service.call(request).await.unwrap();
            response.into_body().collect().await.unwrap()
        })
    });
    assert_eq!(spans.len(), 1);
    spans.remove(0)
}

/// By default a caller is a stranger: its `traceparent` is not continued
/// but linked, so it cannot place this service's root in a trace of its
/// choosing.
#[test]
fn a_strangers_trace_is_linked_not_continued() {
    let root = root_of_request_with_traceparent(trace_layer());
    assert_ne!(
        root.trace_id().to_string(),
        "4bf92f3577b34da6a3ce929d0e0e4736"
    );
    assert!(root.parent_span_id().is_none() && !root.has_remote_parent());
    let (trace, span) = root.link().expect("a link to the caller's span");
    assert_eq!(trace.to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(span.to_string(), "00f067aa0ba902b7");
    assert_eq!(user_of(&root), Some("u_3"));
}

#[test]
fn the_callers_trace_is_continued_when_trusted() {
    let root = root_of_request_with_traceparent(trace_layer().trust(|_| Trust::TraceContext));
    assert_eq!(
        root.trace_id().to_string(),
        "4bf92f3577b34da6a3ce929d0e0e4736"
    );
    assert_eq!(
        root.parent_span_id().map(|s| s.to_string()).as_deref(),
        Some("00f067aa0ba902b7")
    );
    assert!(root.has_remote_parent() && root.link().is_none());
    assert_eq!(user_of(&root), Some("u_3"));
}

/// A request answered in-process while a span is current (a test calling
/// a router inside its own trace) is still a root: it owns its end-user,
/// which would otherwise be ignored on a child.
#[test]
fn a_request_is_a_root_even_inside_another_trace() {
    let (outer, spans) = neatlogs::testing::with_capture(|| {
        neatlogs::trace("test").end_user_id("u_outer").in_scope(|| {
            let mut service = trace_layer().layer(Backend {
                body: Some(String::from("ok")),
            });
            let mut request = request("/ask");
            request
                .extensions_mut()
                .insert(CurrentUser("u_request".to_owned()));
            block_on(async {
                let response = service.call(request).await.unwrap();
                response.into_body().collect().await.unwrap()
            });
            neatlogs::current_trace_id().unwrap()
        })
    });
    let root = spans.iter().find(|s| s.name() == "GET").unwrap();
    assert!(root.is_root());
    assert_ne!(root.trace_id(), outer);
    assert_eq!(user_of(root), Some("u_request"));
}

/// The layer's identity function runs once per request, after `auth`.
#[test]
fn the_identity_function_sees_what_auth_put_in_the_extensions() {
    let calls = Arc::new(Mutex::new(Vec::new()));
    let seen = calls.clone();
    let layer = TraceLayer::new().identity(move |request| {
        let user = request.extensions.get::<CurrentUser>().cloned();
        seen.lock()
            .unwrap()
            .push(user.as_ref().map(|u| u.0.clone()));
        RequestIdentity::new().end_user_id(user.map(|u| u.0))
    });
    let (_, spans) = neatlogs::testing::with_capture(|| {
        let mut service = layer.layer(Backend {
            body: Some(String::new()),
        });
        let mut with_user = request("/a");
        with_user
            .extensions_mut()
            .insert(CurrentUser("u_9".to_owned()));
        block_on(async {
            drop(service.call(with_user).await.unwrap());
            drop(service.call(request("/b")).await.unwrap());
        });
    });
    assert_eq!(*calls.lock().unwrap(), [Some("u_9".to_owned()), None]);
    assert_eq!(spans.len(), 2);
    let user = |path: &str| {
        let root = spans
            .iter()
            .find(|s| s.attribute("url.path").and_then(Value::as_str) == Some(path))
            .unwrap();
        user_of(root).map(str::to_owned)
    };
    assert_eq!(user("/a").as_deref(), Some("u_9"));
    assert_eq!(user("/b"), None, "no init default in this process");
}
