//! `neatlogs::openai` against async-openai's real client: a fake
//! OpenAI-compatible server on 127.0.0.1 answers chat completions (plain,
//! streamed with real pauses between chunks, failing) and embeddings, and
//! the spans are checked as a real OTLP receiver decodes them.

mod export_support;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard};
use std::time::Duration;

use async_openai::config::OpenAIConfig;
use async_openai::error::OpenAIError;
use async_openai::types::chat::{
    ChatCompletionMessageToolCall, ChatCompletionMessageToolCalls,
    ChatCompletionRequestAssistantMessageArgs, ChatCompletionRequestMessage,
    ChatCompletionRequestSystemMessage, ChatCompletionRequestToolMessageArgs,
    ChatCompletionRequestUserMessage, ChatCompletionStreamOptions, ChatCompletionTool,
    ChatCompletionTools, CreateChatCompletionRequest, CreateChatCompletionRequestArgs,
    CreateChatCompletionStreamResponse, FunctionCall, FunctionObjectArgs,
};
use async_openai::types::embeddings::CreateEmbeddingRequestArgs;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use neatlogs::openai::TracedClient;
use neatlogs::Neatlogs;
use opentelemetry_proto::tonic::common::v1::any_value;
use opentelemetry_proto::tonic::trace::v1::{status::StatusCode as Code, Span};
use serde_json::{json, Value};

use export_support::{attr, bool_attr, int_attr, runtime, str_attr, Receiver};

/// The model the client asks for.
const MODEL: &str = "gpt-4o-mini";
/// The model the fake server says answered.
const ANSWERED_BY: &str = "gpt-4o-mini-2024-07-18";
/// Asking for this model makes the server answer 500 (an OpenAI error body).
const MODEL_500: &str = "fail-500";
/// Asking for this model makes the server answer 400.
const MODEL_400: &str = "fail-400";
/// The 400's message.
const BAD_REQUEST: &str = "messages must not be empty";
/// The embedding model.
const EMBEDDING_MODEL: &str = "text-embedding-3-small";
/// The fake server's embedding vectors' length.
const DIMENSIONS: usize = 4;
/// A plain reply's usage: prompt, completion, cached prompt, reasoning.
const PLAIN_USAGE: (i64, i64, i64, i64) = (31, 9, 16, 4);
/// A streamed reply's usage: prompt, completion.
const STREAM_USAGE: (i64, i64) = (13, 7);
/// The text pieces of a streamed reply.
const PIECES: [&str; 3] = ["Hel", "lo th", "ere"];
/// Before the first chunk, and between chunks.
const FIRST_CHUNK_AFTER: Duration = Duration::from_millis(60);
const BETWEEN_CHUNKS: Duration = Duration::from_millis(40);

// ------------------------------------------------------------ fake server

/// Every JSON body the fake server received.
#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<Value>>>);

impl Seen {
    fn bodies(&self) -> Vec<Value> {
        self.0.lock().unwrap().clone()
    }
}

fn json_reply(status: StatusCode, body: Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn openai_error(message: &str, kind: &str) -> Value {
    json!({"error": {"message": message, "type": kind, "param": null, "code": null}})
}

/// `POST /v1/chat/completions`.
async fn chat_completions(State(seen): State<Seen>, body: Bytes) -> Response {
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return (StatusCode::BAD_REQUEST, "not JSON").into_response();
    };
    seen.0.lock().unwrap().push(request.clone());
    match request["model"].as_str() {
        // `retry-after: 0`: async-openai retries a 5xx, here at once.
        Some(MODEL_500) => {
            let mut r = json_reply(
                StatusCode::INTERNAL_SERVER_ERROR,
                openai_error("the server had an error", "server_error"),
            );
            r.headers_mut()
                .insert(header::RETRY_AFTER, "0".parse().unwrap());
            return r;
        }
        Some(MODEL_400) => {
            return json_reply(
                StatusCode::BAD_REQUEST,
                openai_error(BAD_REQUEST, "invalid_request_error"),
            )
        }
        _ => {}
    }
    if request["stream"].as_bool() == Some(true) {
        let with_usage = request["stream_options"]["include_usage"].as_bool() == Some(true);
        return streamed_reply(with_usage);
    }
    json_reply(
        StatusCode::OK,
        json!({
            "id": "chatcmpl-plain-1",
            "object": "chat.completion",
            "created": 1_700_000_000,
            "model": ANSWERED_BY,
            "choices": [{
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": "Checking the weather.",
                    "tool_calls": [{
                        "id": "call_w1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": "{\"city\":\"Oslo\"}"},
                    }],
                },
                "finish_reason": "tool_calls",
            }],
            "usage": {
                "prompt_tokens": PLAIN_USAGE.0,
                "completion_tokens": PLAIN_USAGE.1,
                "total_tokens": PLAIN_USAGE.0 + PLAIN_USAGE.1,
                "prompt_tokens_details": {"cached_tokens": PLAIN_USAGE.2},
                "completion_tokens_details": {"reasoning_tokens": PLAIN_USAGE.3},
            },
        }),
    )
}

/// SSE: the pieces with real pauses, a finish chunk, the usage chunk when
/// asked for, `[DONE]`.
fn streamed_reply(with_usage: bool) -> Response {
    let chunk = |choices: Value| {
        json!({
            "id": "chatcmpl-stream-1",
            "object": "chat.completion.chunk",
            "created": 1_700_000_000,
            "model": ANSWERED_BY,
            "choices": choices,
        })
    };
    let mut events: Vec<Value> = PIECES
        .iter()
        .enumerate()
        .map(|(i, piece)| {
            let delta = if i == 0 {
                json!({"role": "assistant", "content": piece})
            } else {
                json!({"content": piece})
            };
            chunk(json!([{"index": 0, "delta": delta, "finish_reason": null}]))
        })
        .collect();
    events.push(chunk(
        json!([{"index": 0, "delta": {}, "finish_reason": "stop"}]),
    ));
    if with_usage {
        let mut usage = chunk(json!([]));
        usage["usage"] = json!({
            "prompt_tokens": STREAM_USAGE.0,
            "completion_tokens": STREAM_USAGE.1,
            "total_tokens": STREAM_USAGE.0 + STREAM_USAGE.1,
        });
        events.push(usage);
    }
    let mut frames: Vec<String> = events.iter().map(|e| format!("data: {e}\n\n")).collect();
    frames.push("data: [DONE]\n\n".to_owned());
    let body = futures_util::stream::unfold((0, frames), |(i, frames)| async move {
        let frame = frames.get(i)?.clone();
        let pause = if i == 0 {
            FIRST_CHUNK_AFTER
        } else {
            BETWEEN_CHUNKS
        };
        tokio::time::sleep(pause).await;
        Some((Ok::<_, std::io::Error>(Bytes::from(frame)), (i + 1, frames)))
    });
    (
        [(header::CONTENT_TYPE, "text/event-stream")],
        Body::from_stream(body),
    )
        .into_response()
}

/// `POST /v1/embeddings`: one vector per input.
async fn embeddings(State(seen): State<Seen>, body: Bytes) -> Response {
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return (StatusCode::BAD_REQUEST, "not JSON").into_response();
    };
    seen.0.lock().unwrap().push(request.clone());
    let inputs = request["input"].as_array().map_or(1, Vec::len);
    let data: Vec<Value> = (0..inputs)
        .map(|i| json!({"object": "embedding", "index": i, "embedding": vec![0.5; DIMENSIONS]}))
        .collect();
    json_reply(
        StatusCode::OK,
        json!({
            "object": "list",
            "model": "text-embedding-3-small-v2",
            "data": data,
            "usage": {"prompt_tokens": 8, "total_tokens": 8},
        }),
    )
}

/// Starts the fake OpenAI server on the current runtime.
async fn fake_openai() -> (SocketAddr, Seen) {
    let seen = Seen::default();
    let app = axum::Router::new()
        .route(
            "/v1/chat/completions",
            axum::routing::post(chat_completions),
        )
        .route("/v1/embeddings", axum::routing::post(embeddings))
        .with_state(seen.clone());
    (export_support::serve(app).await, seen)
}

fn client_for(addr: SocketAddr) -> TracedClient<OpenAIConfig> {
    let config = OpenAIConfig::new()
        .with_api_base(format!("http://{addr}/v1"))
        .with_api_key("test");
    neatlogs::openai::instrument(async_openai::Client::with_config(config))
}

// --------------------------------------------------------------- requests

fn weather_tool() -> ChatCompletionTools {
    ChatCompletionTools::Function(ChatCompletionTool {
        function: FunctionObjectArgs::default()
            .name("get_weather")
            .description("Current weather for a city")
            .parameters(json!({"type": "object", "properties": {"city": {"type": "string"}}}))
            .build()
            .unwrap(),
    })
}

/// A conversation with a tool round trip, a tool offered, two parameters.
fn plain_request() -> CreateChatCompletionRequest {
    let call = ChatCompletionMessageToolCalls::Function(ChatCompletionMessageToolCall {
        id: "call_0".into(),
        function: FunctionCall {
            name: "get_weather".into(),
            arguments: "{\"city\":\"Bergen\"}".into(),
        },
    });
    let messages: Vec<ChatCompletionRequestMessage> = vec![
        ChatCompletionRequestSystemMessage::from("Be brief.").into(),
        ChatCompletionRequestUserMessage::from("Weather in Bergen, then Oslo?").into(),
        ChatCompletionRequestAssistantMessageArgs::default()
            .tool_calls(vec![call])
            .build()
            .unwrap()
            .into(),
        ChatCompletionRequestToolMessageArgs::default()
            .content("rain, 9 °C")
            .tool_call_id("call_0")
            .build()
            .unwrap()
            .into(),
    ];
    CreateChatCompletionRequestArgs::default()
        .model(MODEL)
        .messages(messages)
        .tools(vec![weather_tool()])
        .temperature(0.2)
        .max_completion_tokens(50u32)
        .build()
        .unwrap()
}

fn stream_request(include_usage: Option<bool>) -> CreateChatCompletionRequest {
    let mut request = CreateChatCompletionRequestArgs::default()
        .model(MODEL)
        .messages([ChatCompletionRequestUserMessage::from("Say hello").into()])
        .build()
        .unwrap();
    if let Some(include) = include_usage {
        request.stream_options = Some(ChatCompletionStreamOptions {
            include_usage: Some(include),
            include_obfuscation: None,
        });
    }
    request
}

/// Drain a stream: every chunk the caller sees.
async fn drain(
    client: &TracedClient<OpenAIConfig>,
    request: CreateChatCompletionRequest,
) -> Vec<CreateChatCompletionStreamResponse> {
    let mut stream = client
        .chat()
        .create_stream(request)
        .await
        .expect("stream opened");
    let mut chunks = Vec::new();
    while let Some(chunk) = stream.next().await {
        chunks.push(chunk.expect("a chunk"));
    }
    chunks
}

fn text_of(chunks: &[CreateChatCompletionStreamResponse]) -> String {
    chunks
        .iter()
        .flat_map(|c| c.choices.iter())
        .filter_map(|c| c.delta.content.as_deref())
        .collect()
}

// ------------------------------------------------------------------ setup

/// A thread with an instance as its default turns recording on for the
/// whole process (the switch every call checks first): the tests with an
/// instance hold this shared, the test of tracing off holds it alone.
static RECORDING: RwLock<()> = RwLock::new(());

/// An instance exporting to a fresh receiver, and a share of [`RECORDING`].
fn instance(config: neatlogs::Config) -> (Receiver, Neatlogs, RwLockReadGuard<'static, ()>) {
    let recording = RECORDING.read().unwrap_or_else(|e| e.into_inner());
    let receiver = Receiver::start();
    let tracer = Neatlogs::new(
        config
            .api_key("k")
            .endpoint(receiver.url())
            .schedule_delay(Duration::from_millis(20)),
    )
    .unwrap();
    (receiver, tracer, recording)
}

/// The spans named `name`.
fn named<'a>(spans: &'a [Span], name: &str) -> Vec<&'a Span> {
    spans.iter().filter(|s| s.name == name).collect()
}

fn the_one<'a>(spans: &'a [Span], name: &str) -> &'a Span {
    let found = named(spans, name);
    assert_eq!(found.len(), 1, "one `{name}` span in {spans:#?}");
    found[0]
}

fn double_attr(span: &Span, key: &str) -> Option<f64> {
    match attr(&span.attributes, key)? {
        any_value::Value::DoubleValue(x) => Some(*x),
        other => panic!("attribute `{key}` is not a double: {other:?}"),
    }
}

fn s<'a>(span: &'a Span, key: &str) -> Option<&'a str> {
    str_attr(&span.attributes, key)
}

fn i(span: &Span, key: &str) -> Option<i64> {
    int_attr(&span.attributes, key)
}

fn code(span: &Span) -> Code {
    let code = span.status.as_ref().map_or(0, |s| s.code);
    Code::try_from(code).expect("a status code")
}

fn status_message(span: &Span) -> &str {
    span.status.as_ref().map_or("", |s| s.message.as_str())
}

/// The span's duration in milliseconds, from its own timestamps.
fn duration_ms(span: &Span) -> f64 {
    (span.end_time_unix_nano - span.start_time_unix_nano) as f64 / 1e6
}

const CHAT: &str = "openai.chat.completions.create";
const EMBEDDINGS: &str = "openai.embeddings.create";

// ------------------------------------------------------------------ tests

#[test]
fn a_plain_chat_completion_is_an_llm_span_with_the_request_and_the_reply() {
    let (receiver, tracer, _recording) = instance(neatlogs::Config::new());
    let reply = tracer.in_scope(|| {
        runtime().block_on(async {
            let (addr, _) = fake_openai().await;
            client_for(addr).chat().create(plain_request()).await
        })
    });
    let reply = reply.expect("the reply comes back");
    assert_eq!(reply.id, "chatcmpl-plain-1");
    assert!(tracer.shutdown());

    let spans = receiver.app_spans();
    let call = the_one(&spans, CHAT);
    assert_eq!(s(call, "neatlogs.span.kind"), Some("llm"));
    assert_eq!(s(call, "neatlogs.llm.model_name"), Some(ANSWERED_BY));
    assert_eq!(s(call, "neatlogs.llm.provider"), Some("openai"));
    assert_eq!(s(call, "neatlogs.llm.system"), Some("openai"));
    assert_eq!(
        bool_attr(&call.attributes, "neatlogs.llm.is_streaming"),
        Some(false)
    );
    // The prompt, message by message.
    let roles: Vec<_> = (0..4)
        .map(|n| s(call, &format!("neatlogs.llm.input_messages.{n}.role")))
        .collect();
    assert_eq!(
        roles,
        [
            Some("system"),
            Some("user"),
            Some("assistant"),
            Some("tool")
        ]
    );
    assert_eq!(
        s(call, "neatlogs.llm.input_messages.1.content"),
        Some("Weather in Bergen, then Oslo?")
    );
    // An assistant message that only calls tools: its calls, as JSON.
    let calls: Value =
        serde_json::from_str(s(call, "neatlogs.llm.input_messages.2.content").unwrap()).unwrap();
    assert_eq!(calls[0]["id"], "call_0");
    assert_eq!(calls[0]["function"]["name"], "get_weather");
    assert_eq!(
        s(call, "neatlogs.llm.input_messages.3.content"),
        Some("rain, 9 °C")
    );
    assert_eq!(
        s(call, "neatlogs.llm.input_messages.3.tool_call_id"),
        Some("call_0")
    );
    // The tool offered and the parameters.
    assert_eq!(s(call, "neatlogs.llm.tools.0.name"), Some("get_weather"));
    assert_eq!(
        s(call, "neatlogs.llm.tools.0.description"),
        Some("Current weather for a city")
    );
    let params: Value =
        serde_json::from_str(s(call, "neatlogs.llm.invocation_parameters").unwrap()).unwrap();
    assert_eq!(
        params,
        json!({"temperature": 0.2, "max_completion_tokens": 50})
    );
    assert_eq!(double_attr(call, "neatlogs.llm.temperature"), Some(0.2));
    // The reply.
    assert_eq!(
        s(call, "neatlogs.llm.response_id"),
        Some("chatcmpl-plain-1")
    );
    assert_eq!(
        s(call, "neatlogs.llm.output_messages.0.role"),
        Some("assistant")
    );
    assert_eq!(
        s(call, "neatlogs.llm.output_messages.0.content"),
        Some("Checking the weather.")
    );
    assert_eq!(s(call, "neatlogs.llm.tool_calls.0.id"), Some("call_w1"));
    assert_eq!(
        s(call, "neatlogs.llm.tool_calls.0.name"),
        Some("get_weather")
    );
    assert_eq!(
        s(call, "neatlogs.llm.tool_calls.0.arguments"),
        Some("{\"city\":\"Oslo\"}")
    );
    assert_eq!(s(call, "neatlogs.llm.finish_reason"), Some("tool_calls"));
    let (prompt, completion, cached, reasoning) = PLAIN_USAGE;
    assert_eq!(i(call, "neatlogs.llm.token_count.prompt"), Some(prompt));
    assert_eq!(
        i(call, "neatlogs.llm.token_count.completion"),
        Some(completion)
    );
    assert_eq!(
        i(call, "neatlogs.llm.token_count.total"),
        Some(prompt + completion)
    );
    assert_eq!(i(call, "neatlogs.llm.token_count.cache_read"), Some(cached));
    assert_eq!(
        i(call, "neatlogs.llm.token_count.reasoning"),
        Some(reasoning)
    );
    assert_eq!(double_attr(call, "neatlogs.llm.metrics.ttft_ms"), None);
    assert_eq!(code(call), Code::Ok);
}

#[test]
fn a_stream_records_ttft_and_usage_and_keeps_the_usage_chunk_it_asked_for() {
    let (receiver, tracer, _recording) = instance(neatlogs::Config::new());
    let (chunks, bodies) = tracer.in_scope(|| {
        runtime().block_on(async {
            let (addr, seen) = fake_openai().await;
            let chunks = drain(&client_for(addr), stream_request(None)).await;
            (chunks, seen.bodies())
        })
    });
    assert!(tracer.shutdown());

    // The server was asked for the usage...
    assert_eq!(bodies.len(), 1);
    assert_eq!(bodies[0]["stream"], true);
    assert_eq!(bodies[0]["stream_options"]["include_usage"], true);
    // ...and the caller, who did not ask, saw the stream without it.
    assert_eq!(text_of(&chunks), PIECES.concat());
    assert_eq!(chunks.len(), PIECES.len() + 1, "the pieces and the finish");
    assert!(chunks.iter().all(|c| c.usage.is_none()));

    let spans = receiver.app_spans();
    let call = the_one(&spans, CHAT);
    assert_eq!(
        bool_attr(&call.attributes, "neatlogs.llm.is_streaming"),
        Some(true)
    );
    assert_eq!(s(call, "neatlogs.llm.model_name"), Some(ANSWERED_BY));
    assert_eq!(
        s(call, "neatlogs.llm.response_id"),
        Some("chatcmpl-stream-1")
    );
    assert_eq!(
        s(call, "neatlogs.llm.output_messages.0.content"),
        Some(PIECES.concat().as_str())
    );
    assert_eq!(
        s(call, "neatlogs.llm.output_messages.0.role"),
        Some("assistant")
    );
    assert_eq!(s(call, "neatlogs.llm.finish_reason"), Some("stop"));
    assert_eq!(
        i(call, "neatlogs.llm.token_count.prompt"),
        Some(STREAM_USAGE.0)
    );
    assert_eq!(
        i(call, "neatlogs.llm.token_count.completion"),
        Some(STREAM_USAGE.1)
    );
    // The first token came after the server's first pause, well before the
    // end (three more pauses followed).
    let ttft = double_attr(call, "neatlogs.llm.metrics.ttft_ms").expect("ttft_ms");
    let duration = duration_ms(call);
    println!("[report] stream: ttft_ms={ttft:.3} duration_ms={duration:.3}");
    assert!(ttft > 0.0, "ttft {ttft}");
    assert!(ttft < duration, "ttft {ttft} < duration {duration}");
    assert_eq!(code(call), Code::Ok);
    assert_eq!(
        bool_attr(&call.attributes, "neatlogs.stream.cancelled"),
        None
    );
}

#[test]
fn a_caller_who_asked_for_the_usage_gets_the_usage_chunk() {
    let (receiver, tracer, _recording) = instance(neatlogs::Config::new());
    let (chunks, bodies) = tracer.in_scope(|| {
        runtime().block_on(async {
            let (addr, seen) = fake_openai().await;
            let chunks = drain(&client_for(addr), stream_request(Some(true))).await;
            (chunks, seen.bodies())
        })
    });
    assert!(tracer.shutdown());

    assert_eq!(bodies[0]["stream_options"]["include_usage"], true);
    assert_eq!(chunks.len(), PIECES.len() + 2, "the pieces, finish, usage");
    let last = chunks.last().unwrap();
    assert!(last.choices.is_empty());
    let usage = last.usage.as_ref().expect("the usage chunk");
    assert_eq!(i64::from(usage.prompt_tokens), STREAM_USAGE.0);

    let spans = receiver.app_spans();
    let call = the_one(&spans, CHAT);
    assert_eq!(
        i(call, "neatlogs.llm.token_count.prompt"),
        Some(STREAM_USAGE.0)
    );
    assert_eq!(code(call), Code::Ok);
}

#[test]
fn errors_mark_the_span_and_come_back_unchanged() {
    let (receiver, tracer, _recording) = instance(neatlogs::Config::new());
    let request = |model: &str| {
        let mut r = stream_request(None);
        r.model = model.to_owned();
        r
    };
    let (server_error, bad_request, bad_stream, attempts) = tracer.in_scope(|| {
        runtime().block_on(async {
            let (addr, seen) = fake_openai().await;
            let client = client_for(addr);
            let server_error = client.chat().create(request(MODEL_500)).await;
            let bad_request = client.chat().create(request(MODEL_400)).await;
            let bad_stream = client.chat().create_stream(request(MODEL_400)).await;
            (
                server_error,
                bad_request,
                bad_stream.err(),
                seen.bodies().len(),
            )
        })
    });
    assert!(tracer.shutdown());

    // async-openai's own behaviour, unchanged: a 500 is retried (3 times),
    // then returned; a 400 is not retried.
    assert_eq!(attempts, 4 + 1 + 1);
    let messages: Vec<String> = [
        server_error.expect_err("500"),
        bad_request.expect_err("400"),
        bad_stream.expect("400 on a stream"),
    ]
    .iter()
    .map(|e| {
        assert!(matches!(e, OpenAIError::ApiError(_)), "{e:?}");
        e.to_string()
    })
    .collect();
    assert!(messages[0].starts_with("500"), "{}", messages[0]);
    assert!(messages[1].contains(BAD_REQUEST), "{}", messages[1]);

    let spans = receiver.app_spans();
    let calls = named(&spans, CHAT);
    assert_eq!(calls.len(), 3, "one span per call, retries included");
    let by_model = |model: &str| -> Vec<&Span> {
        calls
            .iter()
            .copied()
            .filter(|c| s(c, "neatlogs.llm.model_name") == Some(model))
            .collect()
    };
    let failed_500 = by_model(MODEL_500);
    assert_eq!(failed_500.len(), 1);
    assert_eq!(code(failed_500[0]), Code::Error);
    assert_eq!(status_message(failed_500[0]), messages[0]);
    assert!(status_message(failed_500[0]).contains("the server had an error"));
    let failed_400 = by_model(MODEL_400);
    assert_eq!(failed_400.len(), 2);
    for (span, message) in failed_400.iter().zip(&messages[1..]) {
        assert_eq!(code(span), Code::Error);
        assert_eq!(status_message(span), message);
        assert_eq!(i(span, "neatlogs.llm.token_count.prompt"), None);
    }
}

#[test]
fn a_stream_dropped_early_ends_its_span_with_what_arrived() {
    let (receiver, tracer, _recording) = instance(neatlogs::Config::new());
    let first = tracer.in_scope(|| {
        runtime().block_on(async {
            let (addr, _) = fake_openai().await;
            let client = client_for(addr);
            let mut stream = client
                .chat()
                .create_stream(stream_request(None))
                .await
                .expect("stream opened");
            let first = stream.next().await.expect("one chunk").expect("a chunk");
            drop(stream);
            first
        })
    });
    assert!(tracer.shutdown());
    assert_eq!(first.choices[0].delta.content.as_deref(), Some(PIECES[0]));

    let spans = receiver.app_spans();
    let call = the_one(&spans, CHAT);
    assert_eq!(
        s(call, "neatlogs.llm.output_messages.0.content"),
        Some(PIECES[0]),
        "what had arrived"
    );
    assert!(double_attr(call, "neatlogs.llm.metrics.ttft_ms").is_some());
    assert_eq!(s(call, "neatlogs.llm.finish_reason"), None);
    assert_eq!(i(call, "neatlogs.llm.token_count.prompt"), None);
    assert_eq!(i(call, "neatlogs.llm.token_count.total"), None);
    assert_eq!(code(call), Code::Unset);
    assert_eq!(
        bool_attr(&call.attributes, "neatlogs.stream.cancelled"),
        Some(true)
    );
    // It ended at the drop: well before the rest of the stream would have
    // arrived (three more pauses).
    println!(
        "[report] dropped stream: duration_ms={:.3}",
        duration_ms(call)
    );
}

#[test]
fn calls_inside_a_trace_are_its_children() {
    let (receiver, tracer, _recording) = instance(neatlogs::Config::new().end_user_id("u_default"));
    let text = tracer.in_scope(|| {
        runtime().block_on(async {
            let (addr, _) = fake_openai().await;
            let client = client_for(addr);
            neatlogs::trace("chat")
                .end_user_id("u_1")
                .instrument(async {
                    client.chat().create(plain_request()).await.expect("plain");
                    let embedding = CreateEmbeddingRequestArgs::default()
                        .model(EMBEDDING_MODEL)
                        .input("refunds")
                        .build()
                        .unwrap();
                    client
                        .embeddings()
                        .create(embedding)
                        .await
                        .expect("embedding");
                    text_of(&drain(&client, stream_request(None)).await)
                })
                .await
        })
    });
    assert_eq!(text, PIECES.concat());
    assert!(tracer.shutdown());

    let spans = receiver.app_spans();
    let root = the_one(&spans, "chat");
    assert!(root.parent_span_id.is_empty());
    assert_eq!(s(root, "neatlogs.end_user.id"), Some("u_1"));
    let mut calls = named(&spans, CHAT);
    calls.push(the_one(&spans, EMBEDDINGS));
    assert_eq!(calls.len(), 3);
    for call in calls {
        assert_eq!(call.trace_id, root.trace_id);
        assert_eq!(call.parent_span_id, root.span_id, "{}", call.name);
        assert_eq!(s(call, "neatlogs.end_user.id"), None, "root only");
    }
}

#[test]
fn a_call_outside_any_trace_is_a_root_with_the_default_end_user() {
    let (receiver, tracer, _recording) = instance(neatlogs::Config::new().end_user_id("u_default"));
    tracer.in_scope(|| {
        runtime().block_on(async {
            let (addr, _) = fake_openai().await;
            let client = client_for(addr).provider("vllm");
            client.chat().create(plain_request()).await.expect("plain");
            drain(&client, stream_request(None)).await;
        })
    });
    assert!(tracer.shutdown());

    let spans = receiver.app_spans();
    let calls = named(&spans, CHAT);
    assert_eq!(calls.len(), 2);
    assert_ne!(calls[0].trace_id, calls[1].trace_id, "a trace per call");
    for call in calls {
        assert!(call.parent_span_id.is_empty(), "a root: {call:#?}");
        assert_eq!(s(call, "neatlogs.end_user.id"), Some("u_default"));
        assert_eq!(s(call, "neatlogs.llm.provider"), Some("vllm"));
        assert_eq!(s(call, "neatlogs.llm.system"), Some("vllm"));
    }
}

#[test]
fn an_embedding_call_is_an_embedding_span() {
    let (receiver, tracer, _recording) = instance(neatlogs::Config::new());
    let (ok, failed) = tracer.in_scope(|| {
        runtime().block_on(async {
            let (addr, _) = fake_openai().await;
            let client = client_for(addr);
            let request = CreateEmbeddingRequestArgs::default()
                .model(EMBEDDING_MODEL)
                .input(["refunds", "returns"])
                .build()
                .unwrap();
            let ok = client.embeddings().create(request).await;
            // The wrong method for base64: async-openai refuses it before
            // sending, and the span says so.
            let base64 = CreateEmbeddingRequestArgs::default()
                .model(EMBEDDING_MODEL)
                .input("refunds")
                .encoding_format(async_openai::types::embeddings::EncodingFormat::Base64)
                .build()
                .unwrap();
            let failed = client.embeddings().create(base64).await;
            (ok, failed)
        })
    });
    assert_eq!(ok.expect("embeddings").data.len(), 2);
    let failed = failed.expect_err("base64 through create");
    assert!(tracer.shutdown());

    let spans = receiver.app_spans();
    let calls = named(&spans, EMBEDDINGS);
    assert_eq!(calls.len(), 2);
    let (ok, err) = if code(calls[0]) == Code::Ok {
        (calls[0], calls[1])
    } else {
        (calls[1], calls[0])
    };
    assert_eq!(s(ok, "neatlogs.span.kind"), Some("embedding"));
    assert_eq!(s(ok, "openinference.span.kind"), Some("EMBEDDING"));
    assert_eq!(
        s(ok, "neatlogs.embedding.model_name"),
        Some("text-embedding-3-small-v2")
    );
    assert_eq!(
        s(ok, "neatlogs.llm.model_name"),
        Some("text-embedding-3-small-v2")
    );
    assert_eq!(i(ok, "neatlogs.llm.token_count.prompt"), Some(8));
    assert_eq!(i(ok, "neatlogs.llm.token_count.completion"), None);
    assert_eq!(i(ok, "neatlogs.embedding.token_count"), Some(8));
    assert_eq!(i(ok, "neatlogs.embedding.count"), Some(2));
    assert_eq!(
        i(ok, "neatlogs.embedding.dimensions"),
        Some(DIMENSIONS as i64)
    );
    assert_eq!(code(err), Code::Error);
    assert_eq!(status_message(err), failed.to_string());
    assert_eq!(
        s(err, "neatlogs.embedding.model_name"),
        Some(EMBEDDING_MODEL)
    );
}

/// With tracing off (this process never calls `init`, and no instance is
/// any thread's default meanwhile), the request goes out as the caller
/// built it and the stream is async-openai's own.
#[test]
fn with_tracing_off_the_request_and_the_stream_are_untouched() {
    let _alone = RECORDING.write().unwrap_or_else(|e| e.into_inner());
    let (chunks, bodies) = runtime().block_on(async {
        let (addr, seen) = fake_openai().await;
        let chunks = drain(&client_for(addr), stream_request(None)).await;
        (chunks, seen.bodies())
    });
    assert!(!neatlogs::is_initialized());
    assert_eq!(bodies[0].get("stream_options"), None);
    assert_eq!(text_of(&chunks), PIECES.concat());
}

/// The traced calls can be spawned on a multi-threaded runtime, like
/// async-openai's own.
#[test]
fn the_traced_futures_are_send() {
    fn send<T: Send>(_: &T) {}
    let client = client_for("127.0.0.1:9".parse().unwrap());
    let chat = client.chat();
    send(&chat.create(plain_request()));
    send(&chat.create_stream(stream_request(None)));
    let embeddings = client.embeddings();
    let request = CreateEmbeddingRequestArgs::default()
        .model(EMBEDDING_MODEL)
        .input("refunds")
        .build()
        .unwrap();
    send(&embeddings.create(request.clone()));
    send(&embeddings.create_base64(request));
}

/// Calls in traces the sampler drops are not exported, and their usage
/// counts all the same: the usage report (`/v1/metrics`, decoded with the
/// OpenTelemetry protobuf types) holds every token of a plain call, a
/// stream and an embedding call, for the trace's end-user.
#[test]
fn the_usage_of_calls_in_dropped_traces_still_counts() {
    use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
    use opentelemetry_proto::tonic::metrics::v1::metric::Data;
    use prost::Message;

    let (receiver, tracer, _recording) =
        instance(neatlogs::Config::new().sampler(neatlogs::Sampler::AlwaysOff));
    tracer.in_scope(|| {
        runtime().block_on(
            neatlogs::trace("answer")
                .end_user_id("u_dropped")
                .instrument(async {
                    let (addr, _) = fake_openai().await;
                    let client = client_for(addr);
                    client.chat().create(plain_request()).await.expect("chat");
                    drain(&client, stream_request(None)).await;
                    let embedding = CreateEmbeddingRequestArgs::default()
                        .model(EMBEDDING_MODEL)
                        .input("refunds")
                        .build()
                        .unwrap();
                    client
                        .embeddings()
                        .create(embedding)
                        .await
                        .expect("embedding");
                }),
        )
    });
    assert!(tracer.shutdown());
    assert!(
        receiver.app_spans().is_empty(),
        "nothing of a dropped trace is exported"
    );

    let reports = receiver.metrics_requests();
    let last = reports.last().expect("a usage report");
    assert_eq!(last.path, "/v1/metrics");
    assert_eq!(last.api_key.as_deref(), Some("k"), "the traces' headers");
    let request = ExportMetricsServiceRequest::decode(last.raw.as_slice()).expect("OTLP metrics");
    let (mut tokens, mut calls) = (std::collections::BTreeMap::new(), 0);
    for metric in request
        .resource_metrics
        .iter()
        .flat_map(|r| &r.scope_metrics)
        .flat_map(|s| &s.metrics)
    {
        let Some(Data::Histogram(h)) = &metric.data else {
            panic!("{} is not a histogram", metric.name)
        };
        assert_eq!(h.aggregation_temporality, 2, "cumulative");
        for p in &h.data_points {
            assert_eq!(str_attr(&p.attributes, "enduser.id"), Some("u_dropped"));
            match metric.name.as_str() {
                "gen_ai.client.operation.duration" => calls += p.count,
                "gen_ai.client.token.usage" | "neatlogs.client.token.usage.details" => {
                    let kind = str_attr(&p.attributes, "gen_ai.token.type")
                        .unwrap()
                        .to_owned();
                    *tokens.entry(kind).or_insert(0.0) += p.sum.unwrap();
                }
                other => panic!("unexpected metric {other}"),
            }
        }
    }
    assert_eq!(calls, 3, "the chat, the stream, the embedding");
    let expected = [
        ("cache_read", PLAIN_USAGE.2 as f64),
        ("input", (PLAIN_USAGE.0 + STREAM_USAGE.0 + 8) as f64),
        ("output", (PLAIN_USAGE.1 + STREAM_USAGE.1) as f64),
        ("reasoning", PLAIN_USAGE.3 as f64),
    ];
    assert_eq!(
        tokens.into_iter().collect::<Vec<_>>(),
        expected.map(|(k, v)| (k.to_owned(), v)).to_vec()
    );
}
