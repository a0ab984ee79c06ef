//! The parity scenario (`scripts/parity/scenario.py`) with this SDK: one
//! support turn, exported over OTLP/HTTP to the comparison's receiver, so
//! `scripts/parity/compare.py` can set its keys beside the official Python
//! SDK's, span by span.
//!
//! ```text
//! support_turn            WORKFLOW root (end-user, metadata, session)
//!   answer_question       CHAIN
//!     LLM call 1          openai.chat.completions.create, not streamed; the
//!                         reply asks for the get_weather tool
//!     get_weather         TOOL
//!     LLM call 2          openai.chat.completions.create, streamed
//! neatlogs.trace.complete the completion marker
//! ```
//!
//! There is no OpenAI integration for Rust yet: the two LLM calls are
//! recorded by hand the way one would record them, with exactly what the
//! Python scenario's fake OpenAI server answers (models, messages, tool
//! call, finish reasons, usage with cache-read and reasoning tokens,
//! response ids).
//!
//! ```text
//! cargo run -q -p neatlogs --example parity_scenario -- --endpoint http://127.0.0.1:4318 --case explicit
//! ```
//!
//! Cases: `explicit` (the root declares the end-user, its metadata and the
//! session), `init-default` (they come from `Config`, the root declares
//! nothing), `no-content` (as `explicit`, with `capture_content(false)`).
//! The endpoint must be a loopback URL. `scripts/parity/run.sh` runs all
//! three.

use neatlogs::SpanHandle;
use std::process::ExitCode;
use std::sync::OnceLock;
use std::time::Duration;

use neatlogs::llm::{Message, ToolCall, ToolDefinition, Usage};
use neatlogs::SpanKind;
use serde::{Deserialize, Serialize};
use serde_json::json;

const API_KEY: &str = "nl_fake_parity_key";
const OPERATOR: &str = "op_dev";
const TAGS: [&str; 2] = ["nightly", "eu"];
const REQUEST_MODEL: &str = "gpt-4o-mini";
const RESPONSE_MODEL: &str = "gpt-4o-mini-2024-07-18";
const QUESTION: &str = "What is the weather in Paris?";
const SYSTEM_PROMPT: &str = "You are a weather assistant.";
const TOOL_CALL_ID: &str = "call_w1";
/// The tool call's arguments as the fake server writes them.
const TOOL_ARGUMENTS: &str = r#"{"city": "Paris", "units": "metric"}"#;
/// The streamed reply, chunk by chunk.
const STREAM_TEXT: [&str; 3] = ["It is ", "18 degrees ", "and sunny in Paris."];

/// A trace's identity, declared on the root or given to `Config`.
struct Identity {
    end_user_id: &'static str,
    end_user_metadata: serde_json::Value,
    session_id: &'static str,
}

fn explicit_identity() -> Identity {
    Identity {
        end_user_id: "eu_42",
        end_user_metadata: json!({"plan": "pro", "region": "eu"}),
        session_id: "sess_7",
    }
}

fn init_default_identity() -> Identity {
    Identity {
        end_user_id: "eu_default",
        end_user_metadata: json!({"plan": "free"}),
        session_id: "sess_8",
    }
}

/// The identity the root declares: set in the `explicit` and `no-content`
/// cases, unset in `init-default` (the root then declares nothing).
static ROOT_IDENTITY: OnceLock<Identity> = OnceLock::new();

/// The scenario's cases.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Case {
    Explicit,
    InitDefault,
    NoContent,
}

impl Case {
    fn parse(name: &str) -> Option<Case> {
        match name {
            "explicit" => Some(Case::Explicit),
            "init-default" => Some(Case::InitDefault),
            "no-content" => Some(Case::NoContent),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Case::Explicit => "explicit",
            Case::InitDefault => "init-default",
            Case::NoContent => "no-content",
        }
    }
}

/// What the TOOL returns.
#[derive(Debug, Serialize)]
struct Weather {
    city: String,
    temp_c: i64,
    sky: &'static str,
    units: String,
}

/// The tool call's arguments, as the model wrote them.
#[derive(Debug, Deserialize)]
struct WeatherArgs {
    city: String,
    #[serde(default = "metric")]
    units: String,
}

fn metric() -> String {
    "metric".to_owned()
}

/// What the root returns.
#[derive(Debug, Serialize)]
struct Turn {
    answer: String,
    locale: String,
}

#[neatlogs::span(
    kind = "WORKFLOW",
    name = "support_turn",
    end_user_id = ROOT_IDENTITY.get().map(|i| i.end_user_id),
    end_user_metadata = ROOT_IDENTITY.get().map_or(json!({}), |i| i.end_user_metadata.clone()),
    session_id = ROOT_IDENTITY.get().map_or("", |i| i.session_id),
)]
fn support_turn(question: &str, locale: &str) -> Turn {
    let answer = answer_question(question);
    Turn {
        answer,
        locale: locale.to_owned(),
    }
}

#[neatlogs::span(kind = "CHAIN", name = "answer_question")]
fn answer_question(question: &str) -> String {
    let mut messages = vec![
        Message::system(SYSTEM_PROMPT),
        Message::user(question.to_owned()),
    ];
    let first = chat_completions_create(&ChatRequest {
        messages: messages.clone(),
        tools: vec![weather_tool()],
        parameters: json!({"temperature": 0.2, "max_tokens": 64}),
        stream: false,
    });
    let call = &first.tool_calls[0];
    let args: WeatherArgs =
        serde_json::from_str(call.arguments()).expect("the fake server's arguments are JSON");
    let weather = get_weather(&args.city, &args.units);
    messages.push(Message::assistant(first.content.clone()));
    messages.push(
        Message::tool(
            serde_json::to_string(&weather).expect("Weather serialises"),
            call.id().to_owned(),
        )
        .with_name("get_weather"),
    );
    let second = chat_completions_create(&ChatRequest {
        messages,
        tools: Vec::new(),
        parameters: json!({"temperature": 0.2}),
        stream: true,
    });
    second.content
}

#[neatlogs::span(kind = "TOOL", name = "get_weather")]
fn get_weather(city: &str, units: &str) -> Weather {
    neatlogs::with_current_span(|s| s.set_description("Current weather for a city"));
    Weather {
        city: city.to_owned(),
        temp_c: 18,
        sky: "sunny",
        units: units.to_owned(),
    }
}

/// The one tool offered to the model.
fn weather_tool() -> ToolDefinition {
    ToolDefinition::new("get_weather")
        .description("Current weather for a city")
        .input_schema(json!({
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "units": {"type": "string", "enum": ["metric", "imperial"]},
            },
            "required": ["city"],
        }))
}

/// A chat completion request, as an application hands it to an OpenAI
/// client.
struct ChatRequest {
    messages: Vec<Message>,
    tools: Vec<ToolDefinition>,
    /// Temperature, max tokens, ...: a JSON object.
    parameters: serde_json::Value,
    stream: bool,
}

/// The reply, as the client gives it back.
struct ChatReply {
    content: String,
    tool_calls: Vec<ToolCall>,
}

/// A chat completion recorded the way an OpenAI client integration records
/// one: an LLM span named after the client method, opened with the request,
/// completed with what the server answered.
fn chat_completions_create(request: &ChatRequest) -> ChatReply {
    let mut span = neatlogs::span(SpanKind::Llm, "openai.chat.completions.create").enter();
    span.set_model(REQUEST_MODEL);
    span.set_provider("openai");
    for message in &request.messages {
        span.add_input_message(message.clone());
    }
    span.set_invocation_parameters(request.parameters.clone());
    span.set_streaming(request.stream);
    for tool in &request.tools {
        span.add_tool_definition(tool.clone());
    }
    let answer = if request.stream {
        fake_openai_stream(|| span.record_first_token())
    } else {
        fake_openai_completion()
    };
    span.set_response_id(answer.id);
    span.set_response_model(answer.model);
    span.add_output_message(Message::assistant(answer.content.clone()));
    for call in &answer.tool_calls {
        span.add_tool_call(call.clone());
    }
    span.set_finish_reason(answer.finish_reason);
    span.set_usage(answer.usage);
    span.set_ok();
    ChatReply {
        content: answer.content,
        tool_calls: answer.tool_calls,
    }
}

/// What the fake OpenAI server of `scenario.py` answers.
struct Answer {
    id: &'static str,
    model: &'static str,
    content: String,
    tool_calls: Vec<ToolCall>,
    finish_reason: &'static str,
    usage: Usage,
}

/// The first answer: text and one tool call.
fn fake_openai_completion() -> Answer {
    std::thread::sleep(Duration::from_millis(5));
    Answer {
        id: "chatcmpl-parity-1",
        model: RESPONSE_MODEL,
        content: "Let me check the weather.".to_owned(),
        tool_calls: vec![ToolCall::new(TOOL_CALL_ID, "get_weather", TOOL_ARGUMENTS)],
        finish_reason: "tool_calls",
        usage: Usage::new(42, 17).total(59).cache_read(8).reasoning(5),
    }
}

/// The second answer, streamed: `first_token` is called when the first
/// chunk with text arrives.
fn fake_openai_stream(mut first_token: impl FnMut()) -> Answer {
    let mut content = String::new();
    for (i, piece) in STREAM_TEXT.iter().enumerate() {
        std::thread::sleep(Duration::from_millis(10));
        if i == 0 {
            first_token();
        }
        content.push_str(piece);
    }
    Answer {
        id: "chatcmpl-parity-2",
        model: RESPONSE_MODEL,
        content,
        tool_calls: Vec::new(),
        finish_reason: "stop",
        usage: Usage::new(61, 23).total(84).cache_read(16).reasoning(3),
    }
}

/// `--endpoint URL --case CASE`.
fn parse_args() -> Result<(String, Case), String> {
    let mut endpoint = None;
    let mut case = Case::Explicit;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--endpoint" => endpoint = args.next(),
            "--case" => {
                let name = args.next().unwrap_or_default();
                case = Case::parse(&name).ok_or_else(|| {
                    format!("unknown case `{name}`; expected explicit, init-default or no-content")
                })?;
            }
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    let endpoint = endpoint.ok_or("--endpoint URL is required")?;
    if !(endpoint.starts_with("http://127.0.0.1") || endpoint.starts_with("http://localhost")) {
        return Err(format!(
            "--endpoint must be a loopback URL, not `{endpoint}`"
        ));
    }
    Ok((endpoint, case))
}

fn main() -> ExitCode {
    let (endpoint, case) = match parse_args() {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("parity_scenario: {message}");
            eprintln!(
                "usage: parity_scenario --endpoint http://127.0.0.1:PORT --case explicit|init-default|no-content"
            );
            return ExitCode::from(2);
        }
    };
    let mut config = neatlogs::Config::new()
        .endpoint(endpoint)
        .api_key(API_KEY)
        .workflow_name(format!("parity-{}", case.name()))
        .operator_id(OPERATOR)
        .tags(TAGS);
    match case {
        Case::InitDefault => {
            let identity = init_default_identity();
            config = config
                .end_user_id(identity.end_user_id)
                .end_user_metadata(identity.end_user_metadata)
                .session_id(identity.session_id);
        }
        Case::Explicit | Case::NoContent => {
            let _ = ROOT_IDENTITY.set(explicit_identity());
        }
    }
    if case == Case::NoContent {
        config = config.capture_content(false);
    }
    if let Err(err) = neatlogs::init(config) {
        eprintln!("parity_scenario: init: {err}");
        return ExitCode::FAILURE;
    }

    let turn = support_turn(QUESTION, "en");

    let flushed = neatlogs::flush();
    let shut_down = neatlogs::shutdown();
    let stats = neatlogs::stats();
    eprintln!(
        "{}",
        json!({
            "sdk": "rust",
            "case": case.name(),
            "answer": turn.answer,
            "exported": stats.exported,
            "dropped": stats.dropped,
            "failed": stats.failed,
            "flushed": flushed && shut_down,
        })
    );
    if flushed && shut_down && stats.failed == 0 && stats.dropped == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
