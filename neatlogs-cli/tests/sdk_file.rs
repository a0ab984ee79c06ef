//! The SDK's embedded default (a JSON-lines file of OTLP requests) read
//! directly by `neatlogs traces --file` and `neatlogs users --file`, with no
//! server.

use neatlogs::SpanHandle;
use std::process::Command;

use neatlogs::SpanKind;
use serde_json::{json, Value};

fn neatlogs(args: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_neatlogs"))
        .args(args)
        .output()
        .expect("run neatlogs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON output")
}

#[test]
fn the_sdk_file_is_read_without_a_server() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("traces.jsonl");
    neatlogs::init(
        neatlogs::Config::new()
            .local_file(&file)
            .workflow_name("support-chat")
            .operator_id("svc-support"),
    )
    .expect("init");
    for (user, plan, turns) in [
        ("u_812", "pro", 3),
        ("u_17", "pro", 1),
        ("u_8041", "free", 1),
    ] {
        for turn in 0..turns {
            neatlogs::trace("chat-turn")
                .end_user_id(user)
                .end_user_metadata(json!({ "plan": plan }))
                .session_id(format!("chat-{user}"))
                .in_scope(|| {
                    let mut llm = neatlogs::span(SpanKind::Llm, "reply").enter();
                    llm.set_model("gpt-4o");
                    llm.set_usage(neatlogs::llm::Usage::new(10 + turn, 5));
                });
        }
    }
    let _ = neatlogs::shutdown();
    let path = file.to_str().unwrap();

    let traces = neatlogs(&[
        "traces",
        "--file",
        path,
        "--filter",
        "end_user starts with u_8",
        "--json",
    ]);
    let mut users: Vec<&str> = traces
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["end_user"].as_str().unwrap())
        .collect();
    users.sort();
    assert_eq!(users, ["u_8041", "u_812", "u_812", "u_812"]);

    let pro = neatlogs(&[
        "traces",
        "--file",
        path,
        "--filter",
        "metadata:plan is pro",
        "--json",
    ]);
    assert_eq!(pro.as_array().unwrap().len(), 4);

    let report = neatlogs(&["users", "--file", path, "--sort", "traces", "--json"]);
    let top = &report["users"][0];
    assert_eq!(top["end_user"], "u_812");
    assert_eq!(top["traces"], 3);
    assert_eq!(top["sessions"], 1);
    assert_eq!(top["spans"], 6);
    assert_eq!(top["input_tokens"], 33);
    assert_eq!(top["output_tokens"], 15);

    let sessions = neatlogs(&["sessions", "--file", path, "--json"]);
    let chat = sessions
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["session"] == "chat-u_812")
        .expect("session");
    assert_eq!(chat["turns"], 3);
    assert_eq!(chat["end_user"], "u_812");
    assert_eq!(chat["end_user_conflict"], false);
}
