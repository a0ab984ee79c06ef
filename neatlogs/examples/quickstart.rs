//! A single-user process (a CLI, a batch job for one customer): `init` sets
//! the default end-user, and every trace belongs to it.
//!
//! ```text
//! cargo run --example quickstart
//! ```
//!
//! Prints each finished trace as a tree. With no API key, traces also land
//! in the embedded local default that the `neatlogs` CLI reads.

use neatlogs::SpanHandle;
use neatlogs::SpanKind;
use serde_json::json;

fn main() -> Result<(), neatlogs::InitError> {
    neatlogs::init(
        neatlogs::Config::from_env()
            .workflow_name("quickstart")
            .operator_id("dev-laptop") // the operator running this job, not an end-user
            .end_user_id("u_812") // the default end-user of this process
            .end_user_metadata(json!({"plan": "pro", "region": "eu"}))
            .auto_session(true)
            .tags(["example"])
            .console(true),
    )?;

    // Root without an explicit end-user: the `init` default applies.
    let answer = neatlogs::trace("answer-question").in_scope(|| {
        let docs = retrieve("how do refunds work?");
        complete(&docs)
    });
    println!("answer: {answer}");

    // An LLM call outside any trace is a trace of its own, also for u_812.
    complete("standalone prompt");

    // An explicit end-user on a root wins over the default, with its own metadata.
    neatlogs::trace("support-escalation")
        .end_user_id("u_8041")
        .end_user_metadata(json!({"plan": "free"}))
        .in_scope(|| {
            // A nested span cannot change the trace's end-user.
            let _agent = neatlogs::span(SpanKind::Agent, "triage")
                .end_user_id("someone-else")
                .enter();
            let user = neatlogs::current_end_user().expect("inside a trace");
            println!("triage runs for {}", user.id());
        });

    let all_exported = neatlogs::shutdown();
    let stats = neatlogs::stats();
    println!(
        "exported {} spans, dropped {}, failed {} (all exported: {all_exported})",
        stats.exported, stats.dropped, stats.failed
    );
    Ok(())
}

fn retrieve(query: &str) -> String {
    let mut span = neatlogs::span(SpanKind::Retriever, "search-docs").enter();
    span.set_input(query.to_owned());
    let docs = "Refunds are issued within 14 days.".to_owned();
    span.set_output(docs.clone());
    docs
}

fn complete(prompt: &str) -> String {
    let mut llm = neatlogs::span(SpanKind::Llm, "chat-completion").enter();
    llm.set_model("gpt-4o-mini");
    llm.set_input(prompt.to_owned());
    let output = format!("Based on our docs: {prompt}");
    llm.set_output(output.clone());
    llm.set_usage(neatlogs::llm::Usage::new(42, 17));
    output
}
