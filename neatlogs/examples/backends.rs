//! A small, fixed scenario to send to a third-party backend (Arize
//! Phoenix, or any OpenTelemetry backend), so a check can read back what
//! the backend made of it.
//!
//! ```text
//! chat   u_alice, session s_alice_chat, metadata {"plan":"pro"}  (turn 1)
//!   chat-completion   LLM gpt-4o-mini / openai, system + user -> assistant
//! chat   u_alice, session s_alice_chat                            (turn 2)
//!   chat-completion   LLM
//! chat   u_alice, session s_alice_chat                            (turn 3)
//!   chat-completion   LLM
//! chat   u_bob, no session
//!   lookup-order      TOOL
//!   chat-completion   LLM
//! ```
//!
//! The operator (`ops-operator-7`, whoever runs the job) is not an
//! end-user: a backend must never show it as one. The destination and
//! vocabulary come from the environment ([`Config::from_env`]), e.g. for
//! Phoenix:
//!
//! ```text
//! NEATLOGS_CONVENTIONS=openinference OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:6006 \
//!   cargo run -p neatlogs --example backends
//! ```
//!
//! Prints on stdout one JSON object: what was recorded (per trace: the
//! end-user, session, metadata, and each span's kind, model, messages and
//! token counts), for a checker to compare with what the backend stores.
//! Export statistics go to stderr. Exits non-zero when a span failed to
//! export or was dropped. `scripts/phoenix/run.sh` runs it against Phoenix.
//!
//! [`Config::from_env`]: neatlogs::Config::from_env

use neatlogs::SpanHandle;
use std::process::ExitCode;

use neatlogs::llm::Message;
use neatlogs::SpanKind;
use serde_json::{json, Value};

const WORKFLOW: &str = "backends-demo";
const OPERATOR: &str = "ops-operator-7";
const MODEL: &str = "gpt-4o-mini";
const RESPONSE_MODEL: &str = "gpt-4o-mini-2024-07-18";
const PROVIDER: &str = "openai";
const SYSTEM_PROMPT: &str = "You are a concise support assistant.";
const ALICE: &str = "u_alice";
const ALICE_SESSION: &str = "s_alice_chat";
const BOB: &str = "u_bob";
const ALICE_QUESTIONS: [&str; 3] = [
    "How do I reset my password?",
    "The reset email never arrived.",
    "Found it in spam, thanks!",
];

/// One LLM call of the scenario: what goes in, what comes out.
struct Call {
    question: String,
    answer: String,
    prompt_tokens: u64,
    completion_tokens: u64,
}

/// Record one chat completion under the current trace, as an OpenAI client
/// integration would; returns what was recorded.
fn chat_completion(call: &Call) -> Value {
    let mut span = neatlogs::span(SpanKind::Llm, "chat-completion").enter();
    span.set_model(MODEL);
    span.set_provider(PROVIDER);
    span.add_input_message(Message::system(SYSTEM_PROMPT));
    span.add_input_message(Message::user(call.question.clone()));
    span.set_invocation_parameters(json!({"temperature": 0.0}));
    span.set_response_model(RESPONSE_MODEL);
    span.add_output_message(Message::assistant(call.answer.clone()));
    span.set_usage(neatlogs::llm::Usage::new(
        call.prompt_tokens,
        call.completion_tokens,
    ));
    span.set_finish_reason("stop");
    span.set_ok();
    json!({
        "kind": "LLM",
        "name": "chat-completion",
        // `llm.model_name` is the model that answered when it is known.
        "model": RESPONSE_MODEL,
        "request_model": MODEL,
        "provider": PROVIDER,
        "input_messages": [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": call.question},
        ],
        "output_messages": [{"role": "assistant", "content": call.answer}],
        "prompt_tokens": call.prompt_tokens,
        "completion_tokens": call.completion_tokens,
        "total_tokens": call.prompt_tokens + call.completion_tokens,
    })
}

/// Alice's turn `turn` (1-based) of her chat: a trace of its own in her
/// session.
fn alice_turn(turn: u64, question: &str) -> Value {
    let metadata = json!({"plan": "pro"});
    let call = Call {
        question: question.to_owned(),
        answer: format!("Answer {turn}: see the account settings page."),
        prompt_tokens: 20 + turn,
        completion_tokens: 7 + turn,
    };
    let llm = neatlogs::trace("chat")
        .end_user_id(ALICE)
        .end_user_metadata(&metadata)
        .session_id(ALICE_SESSION)
        .in_scope(|| chat_completion(&call));
    json!({
        "name": "chat",
        "end_user_id": ALICE,
        "session_id": ALICE_SESSION,
        "end_user_metadata": metadata,
        "spans": [llm],
    })
}

/// Bob's one trace: a tool call, then an LLM call; no session.
fn bob_trace() -> Value {
    let order = "A-1042";
    let status = "shipped";
    let call = Call {
        question: format!("Where is my order {order}?"),
        answer: format!("Order {order} is {status}."),
        prompt_tokens: 30,
        completion_tokens: 12,
    };
    let spans = neatlogs::trace("chat").end_user_id(BOB).in_scope(|| {
        let mut tool = neatlogs::span(SpanKind::Tool, "lookup-order").enter();
        tool.set_description("Look an order up by id");
        tool.set_input(json!({"order_id": order}));
        tool.set_output(json!({"order_id": order, "status": status}));
        tool.set_ok();
        drop(tool);
        let llm = chat_completion(&call);
        vec![json!({"kind": "TOOL", "name": "lookup-order"}), llm]
    });
    json!({
        "name": "chat",
        "end_user_id": BOB,
        "session_id": null,
        "end_user_metadata": null,
        "spans": spans,
    })
}

fn main() -> ExitCode {
    let config = neatlogs::Config::from_env()
        .workflow_name(WORKFLOW)
        .operator_id(OPERATOR);
    if let Err(err) = neatlogs::init(config) {
        eprintln!("backends: init: {err}");
        return ExitCode::FAILURE;
    }

    let mut traces: Vec<Value> = (1..)
        .zip(ALICE_QUESTIONS)
        .map(|(turn, question)| alice_turn(turn, question))
        .collect();
    traces.push(bob_trace());

    let shut_down = neatlogs::shutdown();
    let stats = neatlogs::stats();
    println!(
        "{}",
        json!({
            "workflow_name": WORKFLOW,
            "operator": OPERATOR,
            "traces": traces,
        })
    );
    eprintln!(
        "backends: exported {} spans, dropped {}, failed {} (all exported: {shut_down})",
        stats.exported, stats.dropped, stats.failed
    );
    if shut_down && stats.failed == 0 && stats.dropped == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
