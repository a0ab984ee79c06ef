//! Attacks on the documented recipes, over real HTTP on 127.0.0.1: a public
//! edge (bearer-token authentication, `TraceLayer` without `.trust`) that
//! calls an internal agent service (service-token authentication,
//! `TraceLayer::trust` believing only verified services). A client with a
//! valid token for one user forges `baggage` (with and without an invented
//! `traceparent`) to the edge and straight to the agent, with and without
//! the service token. Checked in-process (`current_end_user()` in each
//! handler) and on the wire (decoded OTLP roots): the authenticated
//! end-user (or none) wherever the application did not decide to believe
//! the caller, the caller's where it did.

mod export_support;

use std::net::SocketAddr;

use axum::extract::{Path, Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use neatlogs::propagation::{Propagator, RequestBuilderExt};
use neatlogs::tower::{RequestIdentity, TraceLayer, Trust};
use neatlogs::SpanKind;
use opentelemetry_proto::tonic::trace::v1::Span as WireSpan;

use export_support::{
    app_spans, capture_logs, hex, in_child, init_exporting_to, logs, root_at, serve, str_attr,
    user_now, Receiver,
};

const SERVICE_TOKEN: &str = "svc-secret";
/// An invented trace id, one per attack (so that continued traces stay
/// apart on the wire).
fn invented_trace(n: usize) -> String {
    format!("0af7651916cd43dd8448eb21{n:08x}")
}

fn invented_traceparent(n: usize) -> String {
    format!("00-{}-b7ad6b7169203331-01", invented_trace(n))
}
const FORGED_BAGGAGE: &str = "neatlogs.end_user.id=u_victim";

/// The end-user the edge's authentication finds: bearer tokens.
#[derive(Clone)]
struct CurrentUser(String);

/// A caller that proved it is one of our services.
#[derive(Clone)]
struct VerifiedService;

async fn user_auth(mut request: Request, next: Next) -> Response {
    let user = match request
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
    {
        Some("Bearer token-alice") => Some("u_alice"),
        Some("Bearer token-bob") => Some("u_bob"),
        _ => None,
    };
    if let Some(user) = user {
        request
            .extensions_mut()
            .insert(CurrentUser(user.to_owned()));
    }
    next.run(request).await
}

async fn service_auth(mut request: Request, next: Next) -> Response {
    if request
        .headers()
        .get("x-service-token")
        .is_some_and(|v| v == SERVICE_TOKEN)
    {
        request.extensions_mut().insert(VerifiedService);
    }
    next.run(request).await
}

fn identity(request: &axum::http::request::Parts) -> RequestIdentity {
    match request.extensions.get::<CurrentUser>() {
        Some(user) => RequestIdentity::new().end_user_id(&user.0),
        None => RequestIdentity::default(),
    }
}

fn trust_verified(request: &axum::http::request::Parts) -> Trust {
    if request.extensions.get::<VerifiedService>().is_some() {
        Trust::TraceContextAndEndUser
    } else {
        Trust::Nothing
    }
}

/// The agent: answers `{end-user} {trace id}` as it sees them.
async fn agent_answer(Path(_case): Path<String>) -> String {
    let _work = neatlogs::span(SpanKind::Tool, "agent work").enter();
    format!("{} {}", user_now(), neatlogs::current_trace_id().unwrap())
}

fn agent() -> Router {
    Router::new()
        .route("/answer/{case}", get(agent_answer))
        .layer(TraceLayer::new().trust(trust_verified))
        .layer(middleware::from_fn(service_auth))
}

#[derive(Clone)]
struct Edge {
    client: reqwest::Client,
    agent: SocketAddr,
}

/// The edge: calls the agent as the README does (service token, the
/// end-user sent along), answers `{its end-user} {its trace} {agent's
/// end-user} {agent's trace}`.
async fn edge_chat(State(edge): State<Edge>, Path(case): Path<String>) -> String {
    let seen = user_now();
    let trace = neatlogs::current_trace_id().unwrap();
    let agent_said = neatlogs::span(SpanKind::Tool, "call agent")
        .instrument(async {
            edge.client
                .get(format!("http://{}/answer/{case}", edge.agent))
                .header("x-service-token", SERVICE_TOKEN)
                .trace_context_with(&Propagator::new().send_end_user(true))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        })
        .await;
    format!("{seen} {trace} {agent_said}")
}

/// The public edge, as the README's recipe: no `.trust`.
fn edge(state: Edge) -> Router {
    Router::new()
        .route("/chat/{case}", get(edge_chat))
        .with_state(state)
        .layer(TraceLayer::new().identity(identity))
        .layer(middleware::from_fn(user_auth))
}

/// An edge that does decide to believe verified services (and
/// authenticates end-users too): the identity function still wins.
fn edge_trusting_services(state: Edge) -> Router {
    Router::new()
        .route("/chat/{case}", get(edge_chat))
        .with_state(state)
        .layer(TraceLayer::new().identity(identity).trust(trust_verified))
        .layer(middleware::from_fn(user_auth))
        .layer(middleware::from_fn(service_auth))
}

/// One attack: where it goes and what it sends.
struct Attack {
    case: &'static str,
    /// `edge`, `trusting-edge` or `agent`.
    target: &'static str,
    token: Option<&'static str>,
    service_token: bool,
    traceparent: bool,
    /// The end-user expected on the target's root (and in its handler);
    /// `-` for none.
    expected: &'static str,
}

const ATTACKS: &[Attack] = &[
    // A logged-in client of the public edge forging baggage.
    Attack {
        case: "edge-baggage",
        target: "edge",
        token: Some("token-alice"),
        service_token: false,
        traceparent: false,
        expected: "u_alice",
    },
    Attack {
        case: "edge-baggage-traceparent",
        target: "edge",
        token: Some("token-alice"),
        service_token: false,
        traceparent: true,
        expected: "u_alice",
    },
    Attack {
        case: "edge-other-user",
        target: "edge",
        token: Some("token-bob"),
        service_token: false,
        traceparent: true,
        expected: "u_bob",
    },
    // Presenting a service token the edge does not check changes nothing.
    Attack {
        case: "edge-fake-service",
        target: "edge",
        token: Some("token-alice"),
        service_token: true,
        traceparent: true,
        expected: "u_alice",
    },
    // Anonymous: none, never the forged one.
    Attack {
        case: "edge-anonymous",
        target: "edge",
        token: None,
        service_token: false,
        traceparent: true,
        expected: "-",
    },
    // Straight to the internal service, without the service token.
    Attack {
        case: "agent-baggage",
        target: "agent",
        token: None,
        service_token: false,
        traceparent: false,
        expected: "-",
    },
    Attack {
        case: "agent-baggage-traceparent",
        target: "agent",
        token: Some("token-alice"),
        service_token: false,
        traceparent: true,
        expected: "-",
    },
    // The application decided to believe this caller (a verified service):
    // the caller's end-user.
    Attack {
        case: "agent-verified",
        target: "agent",
        token: None,
        service_token: true,
        traceparent: true,
        expected: "u_victim",
    },
    // An edge that believes verified services: its own authentication
    // still wins over the asserted end-user...
    Attack {
        case: "trusting-edge-authenticated",
        target: "trusting-edge",
        token: Some("token-alice"),
        service_token: true,
        traceparent: true,
        expected: "u_alice",
    },
    // ...and without a service token, baggage is not read at all.
    Attack {
        case: "trusting-edge-unverified",
        target: "trusting-edge",
        token: None,
        service_token: false,
        traceparent: true,
        expected: "-",
    },
    // A verified service with no end-user of the edge's own: believed.
    Attack {
        case: "trusting-edge-verified",
        target: "trusting-edge",
        token: None,
        service_token: true,
        traceparent: true,
        expected: "u_victim",
    },
];

/// The root's end-user on the wire, both keys agreeing; `-` for none.
fn wire_end_user(span: &WireSpan) -> String {
    let neatlogs = str_attr(&span.attributes, "neatlogs.end_user.id");
    let otel = str_attr(&span.attributes, "enduser.id");
    assert_eq!(
        neatlogs, otel,
        "`{}`: the two end-user keys agree",
        span.name
    );
    neatlogs.unwrap_or("-").to_owned()
}

fn run_attacks(default_end_user: Option<&str>) {
    capture_logs();
    let receiver = Receiver::start();
    init_exporting_to(&receiver, default_end_user);
    let runtime = export_support::runtime();
    let answers = runtime.block_on(async {
        let client = reqwest::Client::new();
        let agent_addr = serve(agent()).await;
        let state = Edge {
            client: client.clone(),
            agent: agent_addr,
        };
        let edge_addr = serve(edge(state.clone())).await;
        let trusting_addr = serve(edge_trusting_services(state)).await;
        let mut answers = Vec::new();
        for (n, attack) in ATTACKS.iter().enumerate() {
            let url = match attack.target {
                "edge" => format!("http://{edge_addr}/chat/{}", attack.case),
                "trusting-edge" => format!("http://{trusting_addr}/chat/{}", attack.case),
                _ => format!("http://{agent_addr}/answer/{}", attack.case),
            };
            let mut request = client.get(url).header("baggage", FORGED_BAGGAGE);
            if let Some(token) = attack.token {
                request = request.bearer_auth(token);
            }
            if attack.service_token {
                request = request.header("x-service-token", SERVICE_TOKEN);
            }
            if attack.traceparent {
                request = request.header("traceparent", invented_traceparent(n));
            }
            let response = request.send().await.unwrap();
            assert!(response.status().is_success(), "{}", attack.case);
            answers.push(response.text().await.unwrap());
        }
        answers
    });
    drop(runtime);
    assert!(neatlogs::shutdown(), "everything exported");
    let spans = app_spans(&receiver.accepted_spans());
    let default = default_end_user.unwrap_or("-");

    for (n, (attack, answer)) in ATTACKS.iter().zip(&answers).enumerate() {
        let case = attack.case;
        let invented = invented_trace(n);
        // Without an end-user of its own, a root resolves to the service's
        // `init` default: the application's own choice, never the forged id.
        let expected = if attack.expected == "-" {
            default
        } else {
            attack.expected
        };
        let said: Vec<&str> = answer.split(' ').collect();
        assert_eq!(
            said[0], expected,
            "{case}: current_end_user() in the handler"
        );
        let (path, on_edge) = match attack.target {
            "agent" => (format!("/answer/{case}"), false),
            _ => (format!("/chat/{case}"), true),
        };
        let root = root_at(&spans, &path);
        assert_eq!(
            wire_end_user(root),
            expected,
            "{case}: the target's root on the wire"
        );
        assert_eq!(
            hex(&root.trace_id),
            said[1],
            "{case}: the handler ran in the root's trace"
        );
        let verified = attack.service_token && attack.target != "edge";
        if attack.traceparent && !verified {
            // A stranger's traceparent is linked, never continued.
            assert_ne!(
                hex(&root.trace_id),
                invented,
                "{case}: not placed in the invented trace"
            );
            assert!(root.parent_span_id.is_empty(), "{case}: a root");
            assert_eq!(root.links.len(), 1, "{case}: linked to the caller's span");
            assert_eq!(hex(&root.links[0].trace_id), invented);
        } else if attack.traceparent {
            assert_eq!(
                hex(&root.trace_id),
                invented,
                "{case}: a verified caller's trace continues"
            );
            assert!(root.links.is_empty());
        }
        // Every span of the target's trace: the root's end-user or none.
        for span in spans.iter().filter(|s| s.trace_id == root.trace_id) {
            let user = wire_end_user(span);
            assert!(
                user == "-" || user == expected,
                "{case}: `{}` carries {user}",
                span.name
            );
        }
        if on_edge {
            // The agent, called by the edge with the service token and the
            // edge's end-user in baggage, continues the edge's trace with
            // the edge's end-user.
            assert_eq!(said[2], expected, "{case}: the agent's current_end_user()");
            assert_eq!(
                said[3], said[1],
                "{case}: the agent continues the edge's trace"
            );
            let agent_root = root_at(&spans, &format!("/answer/{case}"));
            assert_eq!(
                wire_end_user(agent_root),
                expected,
                "{case}: the agent's root"
            );
        }
        assert!(
            !spans
                .iter()
                .any(|s| s.trace_id == root.trace_id && wire_end_user(s) == "u_victim")
                || expected == "u_victim",
            "{case}: the forged end-user reached the wire"
        );
    }
    // The one conflict (authenticated u_alice, asserted u_victim) is
    // logged, with both ids.
    let conflicts: Vec<_> = logs()
        .into_iter()
        .filter(|l| l.starts_with("WARN") && l.contains("u_victim") && l.contains("u_alice"))
        .collect();
    assert_eq!(conflicts.len(), 1, "{conflicts:?}");
    println!(
        "[report] {} attacks over HTTP, {} spans on the wire: the forged end-user only where the application believed a verified service",
        ATTACKS.len(),
        spans.len()
    );
}

#[test]
fn forged_identity_is_not_believed_unless_the_application_decides() {
    // In a child process: asserts the first (warn-once per process) conflict warning, and uses `init`.
    if !in_child(
        "forged_identity_is_not_believed_unless_the_application_decides",
        &[],
    ) {
        return;
    }
    run_attacks(None);
}

/// With an `init` default end-user, an unauthenticated request gets the
/// default (the service's own choice), still never the forged id.
#[test]
fn forged_identity_with_an_init_default() {
    // In a child process: asserts the first (warn-once per process) conflict warning, and `init`'s default.
    if !in_child("forged_identity_with_an_init_default", &[]) {
        return;
    }
    run_attacks(Some("u_default"));
}

/// A believed caller that sends an invalid end-user (a newline, a 300
/// character id, a bidi override, a padded or blank one) gets a trace with
/// no end-user: never the default.
#[test]
fn an_invalid_believed_end_user_is_none_not_the_default() {
    // The process's log capture: the other tests of this binary log in
    // children, and only this test's warnings name baggage here.
    capture_logs();
    let receiver = Receiver::start();
    let tracer = neatlogs::Neatlogs::new(
        neatlogs::Config::new()
            .api_key("k")
            .endpoint(receiver.url())
            .schedule_delay(std::time::Duration::from_millis(20))
            .end_user_id("u_default"),
    )
    .unwrap();
    let long = "x".repeat(300);
    let bad: Vec<(String, String)> = vec![
        ("newline".into(), "u%0Abad".into()),
        ("long".into(), long),
        ("bidi".into(), "u_%E2%80%AEevil".into()),
        ("padded".into(), "%20u_pad%20".into()),
        ("blank".into(), "%20%20%20".into()),
        ("not-utf8".into(), "u%FF".into()),
    ];
    // The instance is this thread's default, and the agent's tasks run on
    // this thread's runtime.
    let default = tracer.set_default();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let seen = runtime.block_on(async {
        let client = reqwest::Client::new();
        let agent_addr = serve(agent()).await;
        let mut seen = Vec::new();
        for (n, (case, value)) in bad.iter().enumerate() {
            let text = client
                .get(format!("http://{agent_addr}/answer/{case}"))
                .header("x-service-token", SERVICE_TOKEN)
                .header("traceparent", invented_traceparent(n))
                .header("baggage", format!("neatlogs.end_user.id={value}"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            seen.push(text.split(' ').next().unwrap().to_owned());
        }
        seen
    });
    drop(runtime);
    drop(default);
    assert!(tracer.shutdown());
    let spans = app_spans(&receiver.accepted_spans());
    for ((case, _), seen) in bad.iter().zip(&seen) {
        assert_eq!(seen, "-", "{case}: current_end_user()");
        let root = root_at(&spans, &format!("/answer/{case}"));
        assert_eq!(wire_end_user(root), "-", "{case}: on the wire");
    }
    let warnings = logs()
        .into_iter()
        .filter(|l| l.starts_with("WARN") && l.contains("sent by the caller in baggage"))
        .count();
    assert_eq!(
        warnings,
        bad.len(),
        "one warning per request, naming baggage"
    );
}
