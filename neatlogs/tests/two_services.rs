//! Two axum services in one trace, over real HTTP on 127.0.0.1: A (the
//! trace layer, its end-user from authentication) calls B with reqwest and
//! `.trace_context()`; B has the layer too. Checked on the wire (decoded
//! OTLP): one trace id, B's root under A's client-side span with the
//! remote-parent flag, A's root with the end-user, and the end-user in
//! baggage only when A sends it and B believes its caller.

mod export_support;

use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::get;
use axum::{Extension, Router};
use neatlogs::propagation::{Propagator, RequestBuilderExt};
use neatlogs::tower::{RequestIdentity, TraceLayer, Trust};
use neatlogs::SpanKind;
use opentelemetry_proto::tonic::trace::v1::Span as WireSpan;

use export_support::{
    app_spans, auth, hex, root_at, serve, str_attr, user_now, CurrentUser, Receiver,
};

/// B: answers the end-user it sees, whether a `baggage` header came, and
/// its trace id; opens a span of its own.
async fn answer(headers: HeaderMap) -> String {
    let _work = neatlogs::span(SpanKind::Tool, "B work").enter();
    format!(
        "{} {} {}",
        user_now(),
        headers.contains_key("baggage"),
        neatlogs::current_trace_id().unwrap()
    )
}

/// B, with the layer: an internal service whose callers' trace context is
/// continued, believing the caller's end-user in baggage or not.
fn service_b(trusting: bool) -> Router {
    let trust = if trusting {
        Trust::TraceContextAndEndUser
    } else {
        Trust::TraceContext
    };
    Router::new()
        .route("/answer/{case}/{k}", get(answer))
        .layer(TraceLayer::new().trust(move |_| trust))
}

#[derive(Clone)]
struct Peers {
    client: reqwest::Client,
    plain: SocketAddr,
    trusting: SocketAddr,
}

/// A: calls B inside a client-side span. Case `a`: A does not send the
/// end-user and B does not believe it; `b`: A sends, B does not believe;
/// `c`: B would believe, A does not send; `d`: A sends and B believes. Answers A's trace id,
/// the client span's id, and B's answer.
async fn call(
    State(peers): State<Peers>,
    Path((case, k)): Path<(String, u32)>,
    Extension(_user): Extension<CurrentUser>,
) -> String {
    let (b, sends) = match case.as_str() {
        "a" => (peers.plain, false),
        "b" => (peers.plain, true),
        "c" => (peers.trusting, false),
        _ => (peers.trusting, true),
    };
    let url = format!("http://{b}/answer/{case}/{k}");
    neatlogs::span(SpanKind::Tool, "call B")
        .instrument(async move {
            let request = peers.client.get(url);
            let request = if sends {
                request.trace_context_with(&Propagator::new().send_end_user(true))
            } else {
                request.trace_context()
            };
            let client_span = neatlogs::current_span_id().unwrap();
            let b_said = request.send().await.unwrap().text().await.unwrap();
            format!(
                "{} {client_span} {b_said}",
                neatlogs::current_trace_id().unwrap()
            )
        })
        .await
}

fn service_a(peers: Peers) -> Router {
    Router::new()
        .route("/call/{case}/{k}", get(call))
        .with_state(peers)
        .layer(TraceLayer::new().identity(
            |request| match request.extensions.get::<CurrentUser>() {
                Some(user) => RequestIdentity::new().end_user_id(&user.0),
                None => RequestIdentity::default(),
            },
        ))
        .layer(axum::middleware::from_fn(auth))
}

const CASES: [&str; 4] = ["a", "b", "c", "d"];
const PER_CASE: u32 = 5;

/// One request through A and B, as both reported it.
struct Answered {
    case: &'static str,
    k: u32,
    user: String,
    a_trace: String,
    client_span: String,
    b_user: String,
    b_got_baggage: bool,
    b_trace: String,
}

/// `PER_CASE` concurrent requests per case, each of its own end-user;
/// returns the answers and the spans on the wire.
fn run(default_end_user: Option<&str>) -> (Vec<Answered>, Vec<WireSpan>) {
    let receiver = Receiver::start();
    let mut config = neatlogs::Config::new()
        .api_key("k")
        .endpoint(receiver.url())
        .schedule_delay(Duration::from_millis(20));
    if let Some(user) = default_end_user {
        config = config.end_user_id(user);
    }
    let tracer = neatlogs::Neatlogs::new(config).unwrap();
    // The instance is this thread's default, and both services' tasks run
    // on this thread's runtime.
    let default = tracer.set_default();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let answers = runtime.block_on(async {
        let client = reqwest::Client::new();
        let peers = Peers {
            client: client.clone(),
            plain: serve(service_b(false)).await,
            trusting: serve(service_b(true)).await,
        };
        let a = serve(service_a(peers)).await;
        let mut tasks = Vec::new();
        for case in CASES {
            for k in 0..PER_CASE {
                let user = format!("u_{case}{k}");
                let request = client
                    .get(format!("http://{a}/call/{case}/{k}"))
                    .header("x-user", &user);
                tasks.push(tokio::spawn(async move {
                    let text = request.send().await.unwrap().text().await.unwrap();
                    let parts: Vec<_> = text.split(' ').map(str::to_owned).collect();
                    assert_eq!(parts.len(), 5, "{text}");
                    Answered {
                        case,
                        k,
                        user,
                        a_trace: parts[0].clone(),
                        client_span: parts[1].clone(),
                        b_user: parts[2].clone(),
                        b_got_baggage: parts[3] == "true",
                        b_trace: parts[4].clone(),
                    }
                }));
            }
        }
        let mut answers = Vec::new();
        for t in tasks {
            answers.push(t.await.unwrap());
        }
        answers
    });
    drop(runtime);
    drop(default);
    assert!(tracer.shutdown(), "everything exported");
    let stats = tracer.stats();
    assert_eq!((stats.dropped, stats.failed), (0, 0));
    (answers, app_spans(&receiver.accepted_spans()))
}

fn end_user(span: &WireSpan) -> Option<&str> {
    str_attr(&span.attributes, "neatlogs.end_user.id")
}

/// `IS_REMOTE` with its `HAS_IS_REMOTE` mask (`Span.flags`).
const REMOTE_PARENT: u32 = 0x300;

#[test]
fn two_services_share_one_trace() {
    let (answers, spans) = run(None);
    assert_eq!(answers.len(), CASES.len() * PER_CASE as usize);
    let mut with_baggage = 0;
    for a in &answers {
        let (case, k) = (a.case, a.k);
        // In-process answers: one trace; B saw the end-user only with
        // A sending and B believing, and a baggage header only when A sent one.
        assert_eq!(a.a_trace, a.b_trace, "case {case}: one trace id");
        let both = case == "d";
        let sent = case == "b" || case == "d";
        assert_eq!(a.b_got_baggage, sent, "case {case}: baggage sent");
        assert_eq!(
            a.b_user,
            if both { a.user.as_str() } else { "-" },
            "case {case}: B's end-user"
        );
        with_baggage += usize::from(a.b_got_baggage);

        // On the wire.
        let a_root = root_at(&spans, &format!("/call/{case}/{k}"));
        let b_root = root_at(&spans, &format!("/answer/{case}/{k}"));
        let trace = &a_root.trace_id;
        assert_eq!(hex(trace), a.a_trace);
        assert!(a_root.parent_span_id.is_empty(), "A's root is a root");
        assert_eq!(a_root.name, "GET /call/{case}/{k}");
        assert_eq!(end_user(a_root), Some(a.user.as_str()));
        let in_trace: Vec<_> = spans.iter().filter(|s| s.trace_id == *trace).collect();
        let names = |s: &&WireSpan| s.name.clone();
        assert_eq!(
            in_trace.len(),
            4,
            "A's root, `call B`, B's root, `B work`: {:?}",
            in_trace.iter().map(names).collect::<Vec<_>>()
        );
        let client = in_trace.iter().find(|s| s.name == "call B").unwrap();
        assert_eq!(hex(&client.span_id), a.client_span);
        assert_eq!(client.parent_span_id, a_root.span_id);
        assert_eq!(b_root.trace_id, *trace);
        assert_eq!(b_root.name, "GET /answer/{case}/{k}");
        assert_eq!(
            b_root.parent_span_id, client.span_id,
            "B's root under A's client-side span"
        );
        assert_eq!(
            b_root.flags & REMOTE_PARENT,
            REMOTE_PARENT,
            "B's root flagged remote"
        );
        assert_eq!(
            a_root.flags & REMOTE_PARENT,
            0x100,
            "A's parent is not remote"
        );
        let work = in_trace.iter().find(|s| s.name == "B work").unwrap();
        assert_eq!(work.parent_span_id, b_root.span_id);
        assert_eq!(
            end_user(b_root),
            if both { Some(a.user.as_str()) } else { None },
            "case {case}: B's root"
        );
        for s in &in_trace {
            if let Some(u) = end_user(s) {
                assert_eq!(u, a.user, "`{}` carries another end-user", s.name);
            }
        }
    }
    println!(
        "[report] {} requests through A and B: {} spans on the wire, {with_baggage} with baggage, every B root under A's client span with flags 0x300",
        answers.len(),
        spans.len()
    );
}

/// Unless A sends and B believes, B resolves its end-user as any root does: here the
/// default, never the caller's; with both, the caller's wins.
#[test]
fn unless_the_caller_sends_and_the_callee_believes_it_resolves_its_own_end_user() {
    let (answers, spans) = run(Some("u_default"));
    for a in &answers {
        let (case, k) = (a.case, a.k);
        let expected = if case == "d" {
            a.user.as_str()
        } else {
            "u_default"
        };
        assert_eq!(a.b_user, expected, "case {case}: B's end-user");
        let b_root = root_at(&spans, &format!("/answer/{case}/{k}"));
        assert_eq!(end_user(b_root), Some(expected));
        let a_root = root_at(&spans, &format!("/call/{case}/{k}"));
        assert_eq!(end_user(a_root), Some(a.user.as_str()));
    }
}
