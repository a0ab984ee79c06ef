//! Personal data never leaves the process: a mask rewrites every captured
//! string — prompts, replies, tool call arguments, inputs and outputs — on
//! the export thread, before any exporter sees it.
//!
//! ```text
//! cargo run --example mask
//! ```
//!
//! Prints the captured text of each exported span: the e-mail address and
//! the card number appear only as `[email]` and `[card]`.

use neatlogs::llm::{Message, ToolCall};
use neatlogs::SpanHandle;
use neatlogs::SpanKind;
use serde_json::json;

/// `[email]` for anything shaped like an e-mail address, `[card]` for runs of
/// 13 to 19 digits (spaces and dashes between them allowed).
fn mask(text: &str) -> String {
    let emails = regex::Regex::new(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}").unwrap();
    let cards = regex::Regex::new(r"\b(?:\d[ -]?){12,18}\d\b").unwrap();
    let text = emails.replace_all(text, "[email]");
    cards.replace_all(&text, "[card]").into_owned()
}

#[neatlogs::span(kind = "TOOL")]
fn charge(card: &str, amount_cents: u32) -> String {
    format!("charged {amount_cents} to {card}")
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!("neatlogs-mask-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let file = dir.join("traces.jsonl");
    neatlogs::init(
        neatlogs::Config::from_env()
            .default_destination(true)
            .local_file(&file)
            .mask(mask),
    )?;

    neatlogs::trace("support-chat")
        .end_user_id("u_812")
        .in_scope(|| {
            let prompt = "Refund 4111 1111 1111 1111 and mail ada@example.com";
            let mut llm = neatlogs::span(SpanKind::Llm, "chat gpt-4o-mini").enter();
            llm.set_model("gpt-4o-mini");
            llm.set_provider("openai");
            llm.add_input_message(Message::user(prompt));
            llm.add_tool_call(ToolCall::new(
                "call_1",
                "charge",
                json!({"card": "4111-1111-1111-1111"}).to_string(),
            ));
            llm.add_output_message(Message::assistant(
                "Done; a receipt goes to ada@example.com.",
            ));
            llm.set_usage(neatlogs::llm::Usage::new(31, 12));
            drop(llm);
            charge("4111 1111 1111 1111", 1200);
        });

    assert!(neatlogs::shutdown(), "{:?}", neatlogs::stats());
    let exported = std::fs::read_to_string(&file)?;
    assert!(!exported.contains("ada@example.com") && !exported.contains("4111"));
    for line in exported.lines() {
        let request: serde_json::Value = serde_json::from_str(line)?;
        let spans = request["resourceSpans"][0]["scopeSpans"][0]["spans"].as_array();
        for span in spans.into_iter().flatten() {
            println!("{}", span["name"].as_str().unwrap_or_default());
            for kv in span["attributes"].as_array().into_iter().flatten() {
                let key = kv["key"].as_str().unwrap_or_default();
                let captured = ["input.value", "output.value", ".content", ".arguments"];
                if captured.iter().any(|c| key.ends_with(c)) {
                    println!("  {key} = {}", kv["value"]["stringValue"]);
                }
            }
        }
    }
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
