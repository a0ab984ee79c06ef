//! What captured content leaves the process: with `NEATLOGS_TRACE_CONTENT=false`
//! and with a mask, every exported byte — the protobuf a real receiver got
//! and the local JSON-lines file — is searched for the raw secrets. The
//! masks run on a `Neatlogs` instance each; what `NEATLOGS_TRACE_CONTENT`
//! does runs in a child process (the environment, and `init`'s
//! process-wide capture switch).

mod export_support;

use neatlogs::llm::{Message, ToolCall, Usage};
use neatlogs::SpanHandle;
use neatlogs::SpanKind;
use serde_json::json;

use export_support::{all_spans, attr, in_child, Receiver};
use opentelemetry_proto::tonic::common::v1::any_value;

const EMAIL: &str = "ada@example.com";
const CARD: &str = "4111 1111 1111 1111";
const SECRET_ARG: &str = "s3cr3t-argument";

#[neatlogs::span(kind = "TOOL")]
fn lookup(query: &str) -> String {
    format!("found {query}")
}

/// One trace with the secrets everywhere content goes: messages, a tool
/// call's arguments, inputs and outputs (text and JSON), a masked
/// attribute (an application attribute, kept unless masked: `note`), and a
/// macro span's arguments and return value.
fn traffic(note: bool) {
    let mut _root = neatlogs::trace("chat").end_user_id("u_42").enter();
    _root.set_input(format!("mail me at {EMAIL}"));
    let mut llm = neatlogs::span(SpanKind::Llm, "chat gpt-4o").enter();
    llm.set_model("gpt-4o");
    llm.set_provider("openai");
    llm.add_input_message(Message::system("You are terse."));
    llm.add_input_message(Message::user(format!("my card is {CARD}, mail {EMAIL}")));
    if note {
        llm.set_attribute("app.note", format!("note for {EMAIL}"));
    }
    llm.add_tool_call(ToolCall::new(
        "call_1",
        "charge",
        json!({"card": CARD}).to_string(),
    ));
    llm.add_output_message(Message::assistant(format!("charged {CARD}")));
    llm.set_output(json!({"reply": format!("sent to {EMAIL}"), "n": 1}));
    llm.set_usage(Usage::new(21, 9).cache_read(3));
    drop(llm);
    lookup(SECRET_ARG);
}

fn mask(text: &str) -> String {
    text.replace(EMAIL, "[email]")
        .replace(CARD, "[card]")
        .replace(SECRET_ARG, "[arg]")
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// Everything exported: request bodies (after gunzip) and the local file.
fn everything(receiver: &Receiver, file: &std::path::Path) -> Vec<u8> {
    let mut all: Vec<u8> = receiver
        .requests()
        .into_iter()
        .flat_map(|r| r.raw)
        .collect();
    all.extend(std::fs::read(file).expect("the local file"));
    all
}

fn config(base: neatlogs::Config, receiver: &Receiver, file: &std::path::Path) -> neatlogs::Config {
    base.endpoint(receiver.url())
        .local_file(file)
        .schedule_delay(std::time::Duration::from_millis(20))
}

fn int_attr(spans: &[opentelemetry_proto::tonic::trace::v1::Span], key: &str) -> Vec<i64> {
    spans
        .iter()
        .filter_map(|s| match attr(&s.attributes, key) {
            Some(any_value::Value::IntValue(i)) => Some(*i),
            _ => None,
        })
        .collect()
}

#[test]
fn trace_content_false_drops_every_prompt_input_and_output() {
    // In a child process: NEATLOGS_TRACE_CONTENT is process environment, and only `init` sets the process-wide macro capture switch.
    if !in_child(
        "trace_content_false_drops_every_prompt_input_and_output",
        &[("NEATLOGS_TRACE_CONTENT", "false")],
    ) {
        return;
    }
    let dir = tempdir();
    let file = dir.join("traces.jsonl");
    let receiver = Receiver::start();
    neatlogs::init(config(neatlogs::Config::from_env(), &receiver, &file)).unwrap();
    traffic(false);
    assert!(neatlogs::shutdown());

    let bytes = everything(&receiver, &file);
    assert!(bytes.len() > 500, "something was exported");
    for secret in [EMAIL, CARD, SECRET_ARG, "You are terse.", "charged"] {
        assert!(!contains(&bytes, secret), "`{secret}` left the process");
    }
    // Model, tokens, timings and identity stay.
    let spans: Vec<_> = receiver
        .requests()
        .iter()
        .filter_map(|r| r.request.as_ref())
        .flat_map(all_spans)
        .collect();
    assert_eq!(int_attr(&spans, "neatlogs.llm.token_count.prompt"), [21]);
    assert_eq!(int_attr(&spans, "neatlogs.llm.token_count.cache_read"), [3]);
    assert!(contains(&bytes, "gpt-4o"));
    assert!(contains(&bytes, "u_42"));
    assert!(contains(&bytes, "neatlogs.llm.tool_calls.0.name"));
    assert!(!contains(&bytes, "input.value"));
    assert!(!contains(&bytes, "neatlogs.llm.input_messages"));
}

#[test]
fn a_mask_runs_on_every_captured_string_before_export() {
    let dir = tempdir();
    let file = dir.join("traces.jsonl");
    let receiver = Receiver::start();
    let tracer = neatlogs::Neatlogs::new(
        config(neatlogs::Config::new(), &receiver, &file)
            .mask(mask)
            .mask_attributes(["app.note"]),
    )
    .unwrap();
    tracer.in_scope(|| traffic(true));
    assert!(tracer.shutdown());

    let bytes = everything(&receiver, &file);
    for secret in [EMAIL, CARD, SECRET_ARG] {
        assert!(!contains(&bytes, secret), "`{secret}` left the process");
    }
    for masked in [
        "my card is [card], mail [email]",
        "charged [card]",
        "mail me at [email]",
        "note for [email]",
        "found [arg]",
    ] {
        assert!(contains(&bytes, masked), "`{masked}` is missing");
    }
    // Inside JSON: the tool call's arguments and a JSON output.
    assert!(
        contains(&bytes, r#"{\"card\":\"[card]\"}"#) || contains(&bytes, r#"{"card":"[card]"}"#)
    );
    assert!(contains(&bytes, "sent to [email]"));
    // Ids are never masked.
    assert!(contains(&bytes, "u_42") && contains(&bytes, "call_1"));
}

#[test]
fn a_mask_that_panics_or_fails_never_lets_the_raw_value_through() {
    let dir = tempdir();
    let file = dir.join("traces.jsonl");
    let receiver = Receiver::start();
    let tracer = neatlogs::Neatlogs::new(
        config(neatlogs::Config::new(), &receiver, &file).try_mask(|text: &str| {
            if text.contains(CARD) {
                panic!("mask bug");
            }
            if text.contains(EMAIL) {
                return Err("cannot mask this");
            }
            Ok(text.to_owned())
        }),
    )
    .unwrap();
    tracer.in_scope(|| traffic(false));
    assert!(tracer.shutdown());
    assert_eq!(tracer.stats().failed, 0, "the spans still went out");

    let bytes = everything(&receiver, &file);
    for secret in [EMAIL, CARD] {
        assert!(!contains(&bytes, secret), "`{secret}` left the process");
    }
    assert!(contains(&bytes, neatlogs::export::MASK_FAILED));
    assert!(contains(&bytes, "You are terse."), "untouched text stays");
}

#[test]
fn an_invalid_trace_content_value_fails_init_naming_it() {
    // In a child process: NEATLOGS_TRACE_CONTENT is process environment read by `Config::from_env`, and it tests `init`.
    if !in_child(
        "an_invalid_trace_content_value_fails_init_naming_it",
        &[("NEATLOGS_TRACE_CONTENT", "maybe")],
    ) {
        return;
    }
    let err = neatlogs::init(neatlogs::Config::from_env().default_destination(false)).unwrap_err();
    assert!(matches!(err, neatlogs::InitError::InvalidTraceContent(ref v) if v == "maybe"));
    assert!(err.to_string().contains("NEATLOGS_TRACE_CONTENT"));
}

fn tempdir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "neatlogs-content-{}-{}",
        std::process::id(),
        neatlogs::generate_session_id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
