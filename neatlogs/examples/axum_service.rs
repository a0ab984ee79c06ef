//! A multi-tenant AI service on axum, traced per end-user across two
//! services, offline: no account, no network.
//!
//! ```text
//! cargo run -p neatlogs --example axum_service --features "tower axum reqwest async-openai"
//! ```
//!
//! It starts three servers on 127.0.0.1 (ports chosen by the system):
//!
//! - **a fake OpenAI-compatible model server**, standing for any base URL
//!   (OpenAI, vLLM, Ollama, a gateway): it answers chat completions with a
//!   canned reply and its token usage;
//! - **`gateway`**, the public edge: authenticates each request (a bearer
//!   token names the end-user), is traced by [`TraceLayer`] trusting its
//!   callers with nothing (the default: a client's own `traceparent` and
//!   `baggage` are not believed), and calls `agent` with the trace context
//!   and the end-user, plus a service token;
//! - **`agent`**, an internal service: checks the service token, and only
//!   for a verified caller continues its trace and believes the end-user
//!   it sends; it asks the model through an instrumented async-openai
//!   client.
//!
//! Then it sends a few questions as three users and prints each trace as a
//! tree (the console exporter): one trace per request, both services' spans
//! in it, the LLM call with its model and tokens, the end-user on the root.
//! With no API key the spans also land in the embedded local default file,
//! which `neatlogs traces` reads. The end-user travels from gateway to
//! agent in W3C `baggage`, believed because the service token proved who
//! sent it.

use std::net::SocketAddr;

use async_openai::config::OpenAIConfig;
use async_openai::types::chat::{
    ChatCompletionRequestSystemMessage, ChatCompletionRequestUserMessage,
    CreateChatCompletionRequestArgs,
};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Extension, Json, Router};
use neatlogs::openai::TracedClient;
use neatlogs::propagation::{Propagator, RequestBuilderExt};
use neatlogs::tower::{RequestIdentity, TraceLayer, Trust};
use neatlogs::SpanKind;
use serde_json::{json, Value};

/// Calls to our own services send the end-user along (in `baggage`);
/// whether the called service believes it is its own decision.
const TO_OUR_SERVICES: Propagator = Propagator::new().send_end_user(true);

/// The header and secret our services prove themselves with to each other
/// (a real deployment uses mTLS or signed service tokens from its secret
/// store).
const SERVICE_TOKEN_HEADER: &str = "x-service-token";
const SERVICE_TOKEN: &str = "gateway-secret-demo";

/// Put in a request's extensions by `service_auth` once the caller proved
/// it is one of our services.
#[derive(Clone)]
struct VerifiedService;

/// The agent's service-to-service authentication: a request that carries
/// the service token is marked as coming from one of our services. (It
/// compares in constant time, as a real check of a secret would.)
async fn service_auth(mut request: Request, next: Next) -> Response {
    let presented = request
        .headers()
        .get(SERVICE_TOKEN_HEADER)
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    let expected = SERVICE_TOKEN.as_bytes();
    let same = presented.len() == expected.len()
        && presented
            .iter()
            .zip(expected)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    if same {
        request.extensions_mut().insert(VerifiedService);
    }
    next.run(request).await
}

/// The end-user, as the gateway's authentication decided.
#[derive(Clone)]
struct CurrentUser {
    id: String,
    plan: &'static str,
}

/// Bearer tokens and whom they belong to (a real service asks its identity
/// provider).
fn user_for_token(token: &str) -> Option<CurrentUser> {
    let (id, plan) = match token {
        "token-alice" => ("u_alice", "pro"),
        "token-bob" => ("u_bob", "free"),
        "token-carol" => ("u_carol", "team"),
        _ => return None,
    };
    Some(CurrentUser {
        id: id.to_owned(),
        plan,
    })
}

/// The gateway's authentication middleware: a valid bearer token puts the
/// user in the request's extensions; anything else is a 401.
async fn auth(mut request: Request, next: Next) -> Response {
    let token = request
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match token.and_then(user_for_token) {
        Some(user) => {
            request.extensions_mut().insert(user);
            next.run(request).await
        }
        None => StatusCode::UNAUTHORIZED.into_response(),
    }
}

#[derive(Clone)]
struct Gateway {
    http: reqwest::Client,
    agent: String,
}

/// `POST /chat`: forward the question to the agent service, inside this
/// request's trace.
async fn chat(
    State(gateway): State<Gateway>,
    Extension(user): Extension<CurrentUser>,
    Json(body): Json<Value>,
) -> Result<Json<Value>, StatusCode> {
    // README reqwest: begin
    let answer = neatlogs::span(SpanKind::Tool, "call agent")
        .instrument(async {
            gateway
                .http
                .post(format!("{}/answer", gateway.agent))
                .json(&body)
                .header(SERVICE_TOKEN_HEADER, SERVICE_TOKEN)
                .trace_context_with(&TO_OUR_SERVICES)
                .send()
                .await?
                .error_for_status()?
                .json::<Value>()
                .await
        })
        .await
        .map_err(|_| StatusCode::BAD_GATEWAY)?;
    // README reqwest: end
    Ok(Json(json!({ "user": user.id, "answer": answer["answer"] })))
}

/// `POST /answer` on the agent: one LLM call through the instrumented
/// client. The agent never saw the bearer token; its end-user came with
/// the trace.
async fn answer(
    State(llm): State<TracedClient<OpenAIConfig>>,
    Json(body): Json<Value>,
) -> Result<Json<Value>, StatusCode> {
    let question = body["question"].as_str().unwrap_or_default().to_owned();
    // README openai-call: begin
    let request = CreateChatCompletionRequestArgs::default()
        .model("gpt-4o-mini")
        .messages([
            ChatCompletionRequestSystemMessage::from("Answer in one sentence.").into(),
            ChatCompletionRequestUserMessage::from(question).into(),
        ])
        .build()
        .map_err(|_| StatusCode::BAD_REQUEST)?;
    let reply = llm
        .chat()
        .create(request) // an LLM span: a child of this request's root
        .await
        .map_err(|_| StatusCode::BAD_GATEWAY)?;
    // README openai-call: end
    let text = reply.choices[0].message.content.clone().unwrap_or_default();
    let user = neatlogs::current_end_user().map(|u| u.id().to_string());
    Ok(Json(
        json!({ "answer": text, "end_user_seen_by_agent": user }),
    ))
}

/// The fake model server's `POST /v1/chat/completions`.
async fn completions(Json(request): Json<Value>) -> Json<Value> {
    let question = request["messages"][1]["content"]
        .as_str()
        .unwrap_or_default();
    Json(json!({
        "id": "chatcmpl-local-1",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [{
            "index": 0,
            "message": { "role": "assistant", "content": format!("You asked: {question}") },
            "finish_reason": "stop"
        }],
        "usage": { "prompt_tokens": 21, "completion_tokens": 9, "total_tokens": 30 }
    }))
}

async fn serve(app: Router) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(addr)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    neatlogs::init(
        neatlogs::Config::from_env()
            .workflow_name("axum-service-demo")
            .console(true),
    )?;

    let model = serve(Router::new().route("/v1/chat/completions", post(completions))).await?;

    // README openai: begin
    let config = OpenAIConfig::new().with_api_base(format!("http://{model}/v1"));
    let llm = neatlogs::openai::instrument(async_openai::Client::with_config(config));
    // README openai: end

    // README trust: begin
    let agent = Router::new()
        .route("/answer", post(answer))
        .with_state(llm)
        // Believe a caller's trace context and end-user only when
        // `service_auth` verified that it is one of our services.
        .layer(TraceLayer::new().trust(|request| {
            if request.extensions.get::<VerifiedService>().is_some() {
                Trust::TraceContextAndEndUser
            } else {
                Trust::Nothing
            }
        }))
        .layer(middleware::from_fn(service_auth));
    // README trust: end
    let agent = serve(agent).await?;

    // README tower: begin
    let app = Router::new()
        .route("/chat", post(chat))
        .with_state(Gateway {
            http: reqwest::Client::new(),
            agent: format!("http://{agent}"),
        })
        // Layers added later run first: `auth` puts the user in the
        // request's extensions, then the trace layer reads it. The public
        // edge trusts its callers with nothing (no `.trust(..)`): a
        // client's `traceparent` is linked, not continued, and its
        // `baggage` is never read.
        .layer(TraceLayer::new().identity(|request| {
            match request.extensions.get::<CurrentUser>() {
                Some(user) => RequestIdentity::new()
                    .end_user_id(&user.id)
                    .end_user_metadata(json!({ "plan": user.plan })),
                None => RequestIdentity::default(),
            }
        }))
        .layer(middleware::from_fn(auth));
    // README tower: end
    let gateway = serve(app).await?;

    let client = reqwest::Client::new();
    for (token, question) in [
        ("token-alice", "What is my refund status?"),
        ("token-bob", "How do I reset my password?"),
        ("token-alice", "And the shipping date?"),
        ("token-carol", "Summarise my last invoice."),
        ("bad-token", "Who am I?"),
    ] {
        let response = client
            .post(format!("http://{gateway}/chat"))
            .bearer_auth(token)
            .json(&json!({ "question": question }))
            .send()
            .await?;
        let status = response.status();
        let body = response.text().await?;
        println!("{token:>12} -> {status} {body}");
    }

    let lost = !neatlogs::shutdown();
    let stats = neatlogs::stats();
    eprintln!(
        "axum_service: exported {} spans, dropped {}, failed {}",
        stats.exported, stats.dropped, stats.failed
    );
    if lost {
        return Err("some spans were not delivered".into());
    }
    Ok(())
}
