//! The `tracing` integration against a real GenAI client library: the
//! `genai` crate (feature `otel`, which emits `gen_ai.*` `tracing` spans)
//! calls a fake OpenAI-compatible server on 127.0.0.1, and its calls reach
//! a real OTLP receiver as LLM spans in the Neatlogs vocabulary, inside the
//! trace that made them (with that trace's end-user on the root), or as
//! roots with the default end-user outside any trace. Each test has a
//! `Neatlogs` instance of its own, the default on its thread, which drives
//! a current-thread runtime (so the fake server's tasks and genai's run
//! there too), with the layer as that thread's subscriber.

mod export_support;

use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use genai::adapter::AdapterKind;
use genai::chat::{ChatMessage, ChatOptions, ChatRequest, ChatStreamEvent};
use genai::resolver::{AuthData, Endpoint, ServiceTargetResolver};
use genai::{Client, ModelIden, ServiceTarget};
use neatlogs::Neatlogs;
use opentelemetry_proto::tonic::trace::v1::Span;
use tracing_subscriber::layer::SubscriberExt;

use export_support::{bool_attr, int_attr, str_attr, Receiver};

/// The model the client asks for.
const MODEL: &str = "gpt-4o-mini";
/// The model the fake server says answered (plain replies only).
const ANSWERED_BY: &str = "gpt-4o-mini-2024-07-18";
/// The usage of a plain (non-streaming) reply: prompt, completion.
const PLAIN_USAGE: (i64, i64) = (11, 4);
/// The usage in a streamed reply's final chunk: prompt, completion.
const STREAM_USAGE: (i64, i64) = (13, 7);

/// The fake OpenAI server's `POST /v1/chat/completions`: a canned chat
/// completion with `usage`, or, for `"stream": true`, SSE chunks, a
/// finish chunk, a final `choices: []` chunk with `usage`, and `[DONE]`.
async fn chat_completions(body: Bytes) -> Response {
    let Ok(request) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return (StatusCode::BAD_REQUEST, "not JSON").into_response();
    };
    let model = request["model"].as_str().unwrap_or_default().to_owned();
    if request["stream"].as_bool() == Some(true) {
        let chunk = |choices: serde_json::Value| {
            serde_json::json!({
                "id": "chatcmpl-stream-1",
                "object": "chat.completion.chunk",
                "created": 1_700_000_000,
                "model": model,
                "choices": choices,
            })
        };
        let mut usage_chunk = chunk(serde_json::json!([]));
        usage_chunk["usage"] = serde_json::json!({
            "prompt_tokens": STREAM_USAGE.0,
            "completion_tokens": STREAM_USAGE.1,
            "total_tokens": STREAM_USAGE.0 + STREAM_USAGE.1,
        });
        let events = [
            chunk(serde_json::json!([
                {"index": 0, "delta": {"role": "assistant", "content": "Hello"}, "finish_reason": null}
            ])),
            chunk(serde_json::json!([
                {"index": 0, "delta": {"content": " there"}, "finish_reason": null}
            ])),
            chunk(serde_json::json!([
                {"index": 0, "delta": {}, "finish_reason": "stop"}
            ])),
            usage_chunk,
        ];
        let mut sse: String = events.iter().map(|e| format!("data: {e}\n\n")).collect();
        sse.push_str("data: [DONE]\n\n");
        return ([(header::CONTENT_TYPE, "text/event-stream")], sse).into_response();
    }
    let reply = serde_json::json!({
        "id": "chatcmpl-plain-1",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": ANSWERED_BY,
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": "Hello there"},
            "finish_reason": "stop",
        }],
        "usage": {
            "prompt_tokens": PLAIN_USAGE.0,
            "completion_tokens": PLAIN_USAGE.1,
            "total_tokens": PLAIN_USAGE.0 + PLAIN_USAGE.1,
        },
    });
    (
        [(header::CONTENT_TYPE, "application/json")],
        reply.to_string(),
    )
        .into_response()
}

/// Starts the fake OpenAI server on the current runtime.
async fn fake_openai() -> SocketAddr {
    let app = axum::Router::new().route(
        "/v1/chat/completions",
        axum::routing::post(chat_completions),
    );
    export_support::serve(app).await
}

/// A genai client whose every model goes to the OpenAI adapter at `addr`.
fn client_for(addr: SocketAddr) -> Client {
    let base = format!("http://{addr}/v1/");
    let resolver = ServiceTargetResolver::from_resolver_fn(
        move |target: ServiceTarget| -> Result<ServiceTarget, genai::resolver::Error> {
            Ok(ServiceTarget {
                endpoint: Endpoint::from_owned(base.clone()),
                auth: AuthData::from_single("sk-test"),
                model: ModelIden::new(AdapterKind::OpenAI, target.model.model_name),
            })
        },
    );
    Client::builder()
        .with_service_target_resolver(resolver)
        .build()
        .expect("genai client")
}

fn request() -> ChatRequest {
    ChatRequest::new(vec![ChatMessage::user("Say hello")])
}

/// One plain chat call; returns the answer's text.
async fn plain_call(client: &Client) -> String {
    let res = client
        .exec_chat(MODEL, request(), None)
        .await
        .expect("plain chat call");
    res.first_text().expect("an answer").to_owned()
}

/// One streamed chat call (usage asked for), drained; returns the text.
async fn streamed_call(client: &Client) -> String {
    let options = ChatOptions::default().with_capture_usage(true);
    let mut stream = client
        .exec_chat_stream(MODEL, request(), Some(&options))
        .await
        .expect("streamed chat call")
        .stream;
    let mut text = String::new();
    while let Some(event) = stream.next().await {
        if let ChatStreamEvent::Chunk(chunk) = event.expect("stream event") {
            text.push_str(&chunk.content);
        }
    }
    // The span closes when the stream is dropped.
    drop(stream);
    text
}

/// An instance exporting to a fresh receiver.
fn instance(config: neatlogs::Config) -> (Receiver, Neatlogs) {
    let receiver = Receiver::start();
    let tracer = Neatlogs::new(
        config
            .api_key("k")
            .endpoint(receiver.url())
            .schedule_delay(Duration::from_millis(20)),
    )
    .unwrap();
    (receiver, tracer)
}

/// Run `f` to completion with `tracer` the default on this thread and the
/// layer its subscriber, on a current-thread runtime (every task it spawns
/// runs here too).
fn run_with<F: std::future::Future>(tracer: &Neatlogs, f: F) -> F::Output {
    let _default = tracer.set_default();
    let subscriber = tracing_subscriber::registry().with(neatlogs::tracing::layer());
    tracing::subscriber::with_default(subscriber, || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(f)
    })
}

/// The LLM spans genai made, plain first then streamed (by their
/// `neatlogs.llm.is_streaming`).
fn genai_calls(spans: &[Span]) -> (&Span, &Span) {
    let llm: Vec<&Span> = spans
        .iter()
        .filter(|s| str_attr(&s.attributes, "neatlogs.span.kind") == Some("llm"))
        .collect();
    assert_eq!(llm.len(), 2, "two LLM spans in {spans:#?}");
    let streaming = |s: &&Span| bool_attr(&s.attributes, "neatlogs.llm.is_streaming");
    let plain = llm
        .iter()
        .find(|s| streaming(s) == Some(false))
        .expect("the plain call's span");
    let streamed = llm
        .iter()
        .find(|s| streaming(s) == Some(true))
        .expect("the streamed call's span");
    (plain, streamed)
}

/// The model and token counts of a genai call's span.
fn assert_call(span: &Span, model: &str, usage: (i64, i64)) {
    let a = &span.attributes;
    assert_eq!(str_attr(a, "neatlogs.llm.model_name"), Some(model));
    assert_eq!(str_attr(a, "neatlogs.llm.provider"), Some("openai"));
    assert_eq!(
        int_attr(a, "neatlogs.llm.token_count.prompt"),
        Some(usage.0)
    );
    assert_eq!(
        int_attr(a, "neatlogs.llm.token_count.completion"),
        Some(usage.1)
    );
    assert_eq!(
        int_attr(a, "neatlogs.llm.token_count.total"),
        Some(usage.0 + usage.1)
    );
    assert_eq!(str_attr(a, "neatlogs.llm.finish_reason"), Some("stop"));
}

#[test]
fn genai_calls_in_a_trace_are_its_llm_spans_on_the_wire() {
    let (receiver, tracer) = instance(neatlogs::Config::new().end_user_id("u_default"));
    let (plain, streamed) = run_with(&tracer, async {
        let client = client_for(fake_openai().await);
        neatlogs::trace("chat")
            .end_user_id("u_1")
            .instrument(async { (plain_call(&client).await, streamed_call(&client).await) })
            .await
    });
    assert_eq!(plain, "Hello there");
    assert_eq!(streamed, "Hello there");
    assert!(tracer.shutdown());

    let spans = receiver.app_spans();
    let root = spans.iter().find(|s| s.name == "chat").expect("the root");
    assert!(root.parent_span_id.is_empty());
    assert_eq!(
        str_attr(&root.attributes, "neatlogs.end_user.id"),
        Some("u_1")
    );
    let (plain, streamed) = genai_calls(&spans);
    for call in [plain, streamed] {
        assert_eq!(call.trace_id, root.trace_id);
        assert_eq!(call.parent_span_id, root.span_id);
        assert_eq!(
            str_attr(&call.attributes, "neatlogs.end_user.id"),
            None,
            "identity on the root only"
        );
    }
    // A plain reply names the model that answered; a stream's chunks do
    // not reach genai's span, so it keeps the model asked for.
    assert_call(plain, ANSWERED_BY, PLAIN_USAGE);
    assert_call(streamed, MODEL, STREAM_USAGE);
}

#[test]
fn a_genai_call_outside_any_trace_is_a_root_with_the_default_end_user() {
    let (receiver, tracer) = instance(neatlogs::Config::new().end_user_id("u_default"));
    run_with(&tracer, async {
        let client = client_for(fake_openai().await);
        plain_call(&client).await;
        streamed_call(&client).await;
    });
    assert!(tracer.shutdown());

    let spans = receiver.app_spans();
    let (plain, streamed) = genai_calls(&spans);
    assert_ne!(plain.trace_id, streamed.trace_id, "one trace per call");
    for call in [plain, streamed] {
        assert!(call.parent_span_id.is_empty(), "a root: {call:#?}");
        assert_eq!(
            str_attr(&call.attributes, "neatlogs.end_user.id"),
            Some("u_default")
        );
    }
    assert_call(plain, ANSWERED_BY, PLAIN_USAGE);
    assert_call(streamed, MODEL, STREAM_USAGE);
}
