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

/// The embedded default keeps usage exact too: with every trace dropped by
/// the sampler, the file holds no span but the usage reports, and `users
/// --file` shows each end-user's tokens and calls from them.
#[test]
fn the_sdk_file_carries_the_usage_of_dropped_traces() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("traces.jsonl");
    let sdk = neatlogs::Neatlogs::new(
        neatlogs::Config::new()
            .local_file(&file)
            .sampler(neatlogs::Sampler::AlwaysOff),
    )
    .expect("instance");
    sdk.in_scope(|| {
        for n in 0..20u64 {
            let user = if n % 4 == 0 { "u_1" } else { "u_2" };
            neatlogs::trace("chat").end_user_id(user).in_scope(|| {
                let mut llm = neatlogs::span(SpanKind::Llm, "reply").enter();
                llm.set_model("gpt-4o");
                llm.set_usage(neatlogs::llm::Usage::new(100 + n, 10));
            });
        }
    });
    assert!(sdk.shutdown());
    let path = file.to_str().unwrap();
    assert!(!file.exists(), "no span of a dropped trace: no traces file");
    let usage = std::fs::read_to_string(dir.path().join("traces.usage.jsonl")).unwrap();
    assert!(usage.lines().all(|l| l.starts_with("{\"resourceMetrics\"")));

    let report = neatlogs(&["users", "--file", path, "--sort", "end_user", "--json"]);
    let rows: Vec<(String, i64, i64, i64, i64, String)> = report["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["end_user"].as_str().unwrap().to_owned(),
                u["traces"].as_i64().unwrap(),
                u["input_tokens"].as_i64().unwrap(),
                u["output_tokens"].as_i64().unwrap(),
                u["llm_calls"].as_i64().unwrap(),
                u["usage_source"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let input = |pick: fn(u64) -> bool| {
        (0..20u64)
            .filter(|n| pick(*n))
            .map(|n| 100 + n as i64)
            .sum::<i64>()
    };
    assert_eq!(
        rows,
        [
            (
                "u_1".to_owned(),
                0,
                input(|n| n % 4 == 0),
                50,
                5,
                "usage".to_owned()
            ),
            (
                "u_2".to_owned(),
                0,
                input(|n| n % 4 != 0),
                150,
                15,
                "usage".to_owned()
            ),
        ]
    );
}
