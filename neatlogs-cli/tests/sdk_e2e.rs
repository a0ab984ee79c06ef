//! The real SDK exporting to the collector: the quickstart's flow, run
//! in-process with `neatlogs::init` pointed at a collector started by the
//! test (OTLP protobuf over HTTP, API key required), then queried with the
//! `neatlogs` commands.

mod common;

use neatlogs::SpanHandle;
use std::process::Command;

use common::TestServer;
use neatlogs::SpanKind;
use neatlogs_cli::filter::parse;
use neatlogs_cli::store::{Store, UserSort};
use serde_json::json;

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

#[test]
fn quickstart_exports_to_the_collector_and_filters_by_end_user() {
    let server = TestServer::start(Some("local-key"));
    neatlogs::init(
        neatlogs::Config::new()
            .endpoint(format!("http://{}", server.addr))
            .api_key("local-key")
            .workflow_name("quickstart")
            .operator_id("dev-laptop")
            .end_user_id("u_812")
            .end_user_metadata(json!({"plan": "pro", "region": "eu"}))
            .auto_session(true),
    )
    .expect("init");

    // The quickstart: a default-user trace, a standalone LLM call (its own
    // trace), and an explicit end-user whose nested span tries to change it.
    neatlogs::trace("answer-question").in_scope(|| complete(&retrieve("refunds?")));
    complete("standalone prompt");
    neatlogs::trace("support-escalation")
        .end_user_id("u_8041")
        .end_user_metadata(json!({"plan": "free"}))
        .in_scope(|| {
            let _agent = neatlogs::span(SpanKind::Agent, "triage")
                .end_user_id("someone-else")
                .enter();
        });
    let _ = neatlogs::shutdown();
    let stats = neatlogs::stats();
    assert_eq!(stats.failed, 0, "{stats:?}");
    assert_eq!(stats.dropped, 0, "{stats:?}");

    let store = Store::open(&server.db()).expect("store");
    let names = |expression: &str| -> Vec<String> {
        let mut names: Vec<String> = store
            .list_traces(&parse(expression).unwrap(), 50, 0)
            .unwrap()
            .into_iter()
            .map(|t| t.name.unwrap_or_default())
            .collect();
        names.sort();
        names
    };
    assert_eq!(
        names("end_user starts with u_"),
        ["answer-question", "chat-completion", "support-escalation"]
    );
    assert_eq!(
        names("metadata:plan is pro"),
        ["answer-question", "chat-completion"]
    );
    assert_eq!(names("end_user is u_8041"), ["support-escalation"]);
    assert!(names("end_user is someone-else").is_empty());
    assert!(
        names("end_user is dev-laptop").is_empty(),
        "the operator is not an end-user"
    );

    let all = store.list_traces(&Default::default(), 50, 0).unwrap();
    assert_eq!(all.len(), 3);
    for t in &all {
        assert_eq!(t.operator.as_deref(), Some("dev-laptop"));
        assert_eq!(t.workflow.as_deref(), Some("quickstart"));
        assert!(t.complete, "the completion marker arrived for {:?}", t.name);
        let session = t.session.as_deref().expect("auto session");
        assert!(session.starts_with("session_"), "{session}");
    }

    let report = store.users(&Default::default(), UserSort::EndUser).unwrap();
    let rows: Vec<(&str, i64, i64, i64, i64)> = report
        .users
        .iter()
        .map(|u| {
            (
                u.end_user.as_str(),
                u.traces,
                u.spans,
                u.input_tokens,
                u.output_tokens,
            )
        })
        .collect();
    assert_eq!(rows, [("u_8041", 1, 2, 0, 0), ("u_812", 2, 4, 84, 34)]);
    assert_eq!(
        report.users[1].metadata,
        Some(json!({"plan": "pro", "region": "eu"}))
    );
    assert_eq!(report.traces_without_end_user, 0);

    // The same numbers through the command line.
    let out = Command::new(env!("CARGO_BIN_EXE_neatlogs"))
        .args(["users", "--sort", "tokens", "--db"])
        .arg(server.db())
        .output()
        .expect("run neatlogs users");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let first: Vec<&str> = text.lines().nth(1).unwrap().split_whitespace().collect();
    assert_eq!(
        &first[..7],
        ["u_812", "2", "1", "4", "0", "84", "34"],
        "{text}"
    );
}
