//! End to end: `neatlogs serve` as a subprocess on a free loopback port,
//! SDK-shaped OTLP protobuf (and gzip JSON) posted to it, then the
//! `traces`, `users`, `sessions` and `trace` commands run as subprocesses
//! against the same store, with exact expectations.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use common::*;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_neatlogs");
const WORKFLOW: &str = "support-chat";
const OPERATOR: &str = "dev@acme.test";

/// The `neatlogs serve` child, killed when dropped.
struct Serve {
    child: Child,
    base: String,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(db: &Path) -> Serve {
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--db"])
        .arg(db)
        .env_remove("NEATLOGS_API_KEY")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start neatlogs serve");
    let stdout = child.stdout.take().expect("stdout");
    let mut reader = BufReader::new(stdout);
    let mut first = String::new();
    reader
        .read_line(&mut first)
        .expect("read the listening line");
    // Keep draining stdout so the server never blocks on a full pipe.
    std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
    // "neatlogs collector listening on http://127.0.0.1:PORT (...)"
    let base = first
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in {first:?}"))
        .to_owned();
    Serve { child, base }
}

/// Runs `neatlogs ARGS` and returns stdout, asserting success.
fn neatlogs(dir: &Path, args: &[&str]) -> String {
    let out = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run neatlogs");
    assert!(
        out.status.success(),
        "neatlogs {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

fn json(dir: &Path, args: &[&str]) -> Value {
    let text = neatlogs(dir, args);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn ids(traces: &Value) -> Vec<String> {
    traces
        .as_array()
        .expect("a JSON array")
        .iter()
        .map(|t| t["trace_id"].as_str().expect("trace_id").to_owned())
        .collect()
}

/// The traffic: five traces, sent the way the SDK batches them (children
/// first, roots later, in separate requests), one request as gzip JSON.
fn requests() -> Vec<(Vec<u8>, &'static str, Option<&'static str>)> {
    let res = || sdk_resource(WORKFLOW, Some(OPERATOR));
    // T1: u_812 (pro, gold), session s_1: chat > agent > llm.
    let t1_root = span(
        1,
        10,
        None,
        "chat",
        "WORKFLOW",
        0,
        1000,
        identity(
            "u_812",
            Some(r#"{"plan":"pro","org":{"tier":"gold"}}"#),
            Some("s_1"),
        ),
    );
    let t1 = vec![
        span(
            1,
            12,
            Some(11),
            "gpt-4o",
            "LLM",
            20,
            780,
            llm("gpt-4o", 100, 40),
        ),
        span(1, 11, Some(10), "planner", "AGENT", 10, 890, vec![]),
        t1_root.clone(),
        marker(&t1_root),
    ];
    // T2: u_812 again (second turn of s_1), newer metadata; its LLM child
    // arrives in the first request, the root in the second.
    let t2_root = span(
        2,
        20,
        None,
        "chat",
        "WORKFLOW",
        2000,
        500,
        identity("u_812", Some(r#"{"plan":"pro","seats":5}"#), Some("s_1")),
    );
    let t2_child = span(
        2,
        21,
        Some(20),
        "gpt-4o",
        "LLM",
        2010,
        400,
        llm("gpt-4o", 50, 10),
    );
    // T3: u_19 (free), session s_2, a failed tool.
    let t3_root = span(
        3,
        30,
        None,
        "chat",
        "WORKFLOW",
        3000,
        300,
        identity("u_19", Some(r#"{"plan":"free"}"#), Some("s_2")),
    );
    let t3 = vec![
        failed(
            span(3, 31, Some(30), "lookup_order", "TOOL", 3010, 50, vec![]),
            "order service timed out",
        ),
        span(
            3,
            32,
            Some(30),
            "gpt-4o-mini",
            "LLM",
            3100,
            150,
            llm("gpt-4o-mini", 30, 5),
        ),
        t3_root.clone(),
        marker(&t3_root),
    ];
    // T4: no end-user, session s_3.
    let t4_root = span(
        4,
        40,
        None,
        "health-check",
        "CHAIN",
        4000,
        100,
        vec![s("neatlogs.session.id", "s_3")],
    );
    // T5: x_7 (pro) in session s_2: the session's turns disagree.
    let t5_root = span(
        5,
        50,
        None,
        "chat",
        "WORKFLOW",
        5000,
        200,
        identity("x_7", Some(r#"{"plan":"pro"}"#), Some("s_2")),
    );
    let t5_child = span(
        5,
        51,
        Some(50),
        "gpt-4o",
        "LLM",
        5010,
        100,
        llm("gpt-4o", 7, 3),
    );

    let mut first = t1;
    first.push(t2_child);
    let mut second = vec![t2_root.clone(), marker(&t2_root)];
    second.extend(t3);
    let third = request(
        res(),
        vec![
            t4_root.clone(),
            marker(&t4_root),
            t5_child,
            t5_root.clone(),
            marker(&t5_root),
        ],
    );
    let third_json = serde_json::to_vec(&third).expect("OTLP JSON");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&third_json).expect("gzip");
    vec![
        (
            protobuf(&request(res(), first)),
            "application/x-protobuf",
            None,
        ),
        (
            protobuf(&request(res(), second)),
            "application/x-protobuf",
            None,
        ),
        (gz.finish().expect("gzip"), "application/json", Some("gzip")),
    ]
}

/// The same traffic as the SDK's default file: OTLP JSON, one request per
/// line.
fn jsonl() -> String {
    let mut out = String::new();
    for (body, content_type, encoding) in requests() {
        let request: opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest =
            match (content_type, encoding) {
                ("application/x-protobuf", _) => {
                    prost::Message::decode(body.as_slice()).expect("protobuf")
                }
                _ => {
                    let mut raw = Vec::new();
                    std::io::Read::read_to_end(
                        &mut flate2::read::GzDecoder::new(body.as_slice()),
                        &mut raw,
                    )
                    .expect("gunzip");
                    serde_json::from_slice(&raw).expect("json")
                }
            };
        out.push_str(&serde_json::to_string(&request).expect("json"));
        out.push('\n');
    }
    out
}

/// end_user, traces, sessions, spans, errors, input tokens, output tokens,
/// p50 ms, p95 ms.
type UserRow = (String, i64, i64, i64, i64, i64, i64, f64, f64);

fn check_queries(dir: &Path, source: &[&str]) {
    let with = |args: &[&str]| -> Vec<String> {
        let mut all: Vec<&str> = args.to_vec();
        all.extend_from_slice(source);
        all.iter().map(|s| (*s).to_owned()).collect()
    };
    let run = |args: &[&str]| {
        let args = with(args);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        json(dir, &refs)
    };

    // Newest first; u_ matches u_812 and u_19, not x_7 or the anonymous one.
    let u = run(&["traces", "--filter", "end_user starts with u_", "--json"]);
    assert_eq!(ids(&u), vec![trace_hex(3), trace_hex(2), trace_hex(1)]);
    assert_eq!(u[0]["end_user"], "u_19");
    assert_eq!(u[0]["status"], "error");
    assert_eq!(u[1]["span_count"], 2);
    assert_eq!(
        u[1]["operator"], OPERATOR,
        "operator kept apart from the end-user"
    );
    assert_eq!(u[2]["span_count"], 3, "the completion marker is not a span");
    assert_eq!(u[2]["complete"], true);
    assert_eq!(u[2]["duration_ms"], 1000.0);

    let pro = run(&["traces", "--filter", "metadata:plan is pro", "--json"]);
    assert_eq!(ids(&pro), vec![trace_hex(5), trace_hex(2), trace_hex(1)]);

    let both = run(&[
        "traces",
        "--filter",
        "end_user starts with u_",
        "--filter",
        "metadata:plan is pro",
        "--json",
    ]);
    assert_eq!(ids(&both), vec![trace_hex(2), trace_hex(1)]);

    let gold = run(&["traces", "--filter", "metadata:org.tier is gold", "--json"]);
    assert_eq!(ids(&gold), vec![trace_hex(1)]);

    let anonymous = run(&["traces", "--filter", "end_user is not set", "--json"]);
    assert_eq!(ids(&anonymous), vec![trace_hex(4)]);

    let users = run(&["users", "--sort", "end_user", "--json"]);
    assert_eq!(users["traces_without_end_user"], 1);
    let rows = users["users"].as_array().expect("users");
    let table: Vec<UserRow> = rows
        .iter()
        .map(|u| {
            (
                u["end_user"].as_str().unwrap().to_owned(),
                u["traces"].as_i64().unwrap(),
                u["sessions"].as_i64().unwrap(),
                u["spans"].as_i64().unwrap(),
                u["errors"].as_i64().unwrap(),
                u["input_tokens"].as_i64().unwrap(),
                u["output_tokens"].as_i64().unwrap(),
                u["p50_ms"].as_f64().unwrap(),
                u["p95_ms"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        table,
        vec![
            ("u_19".into(), 1, 1, 3, 1, 30, 5, 300.0, 300.0),
            ("u_812".into(), 2, 1, 5, 0, 150, 50, 500.0, 1000.0),
            ("x_7".into(), 1, 1, 2, 0, 7, 3, 200.0, 200.0),
        ]
    );
    let u812 = &rows[1];
    assert_eq!(u812["first_seen"], "2026-05-01T12:00:00.000Z");
    assert_eq!(u812["last_seen"], "2026-05-01T12:00:02.500Z");
    assert_eq!(
        u812["metadata"],
        serde_json::json!({"plan": "pro", "seats": 5}),
        "latest metadata by span end time"
    );
    assert_eq!(u812["workflows"], serde_json::json!([WORKFLOW]));

    let by_tokens = run(&["users", "--sort", "tokens", "--json"]);
    let order: Vec<&str> = by_tokens["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["end_user"].as_str().unwrap())
        .collect();
    assert_eq!(order, ["u_812", "u_19", "x_7"]);

    let sessions = run(&["sessions", "--json"]);
    let sessions: Vec<(String, Option<String>, bool, i64)> = sessions
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["session"].as_str().unwrap().to_owned(),
                s["end_user"].as_str().map(str::to_owned),
                s["end_user_conflict"].as_bool().unwrap(),
                s["turns"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        sessions,
        vec![
            ("s_2".into(), Some("u_19".into()), true, 2),
            ("s_3".into(), None, false, 1),
            ("s_1".into(), Some("u_812".into()), false, 2),
        ]
    );
}

#[test]
fn serve_then_query_by_end_user() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("store").join("neatlogs.db");
    let server = serve(&db);
    for (body, content_type, encoding) in requests() {
        let mut headers = vec![("content-type", content_type)];
        if let Some(e) = encoding {
            headers.push(("content-encoding", e));
        }
        let (status, text) = post(&format!("{}/v1/traces", server.base), &headers, &body);
        assert_eq!(status, 200, "{text}");
    }
    let db_arg = db.to_str().expect("utf-8 path");

    // Queried while the server still runs (a second connection, WAL).
    check_queries(dir.path(), &["--db", db_arg]);

    // The API answers with the same traces.
    let (status, body) = get(
        &format!(
            "{}/api/traces?filter=end_user%20starts%20with%20u_",
            server.base
        ),
        &[],
    );
    assert_eq!(status, 200, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        ids(&body["traces"]),
        vec![trace_hex(3), trace_hex(2), trace_hex(1)]
    );

    // Human output.
    let text = neatlogs(
        dir.path(),
        &[
            "traces",
            "--filter",
            "end_user starts with u_",
            "--db",
            db_arg,
        ],
    );
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert!(lines[0].starts_with("TIME (UTC)"), "{text}");
    assert!(
        lines[1].contains("u_19") && lines[1].contains("error"),
        "{text}"
    );
    assert!(lines[3].starts_with("2026-05-01 12:00:00"), "{text}");
    assert!(
        lines[3].contains("u_812") && lines[3].contains("1.00s"),
        "{text}"
    );

    let users = neatlogs(dir.path(), &["users", "--db", db_arg, "--sort", "tokens"]);
    let first_row: Vec<&str> = users.lines().nth(1).unwrap().split_whitespace().collect();
    // Both of u_812's LLM calls are gpt-4o: 150 prompt and 50 completion
    // tokens at the built-in table's list price.
    let gpt_4o = neatlogs_cli::pricing::PriceTable::builtin()
        .lookup("gpt-4o")
        .cloned()
        .expect("gpt-4o is priced");
    let cost = neatlogs_cli::render::usd(Some((150.0 * gpt_4o.input + 50.0 * gpt_4o.output) / 1e6));
    assert_eq!(
        &first_row[..10],
        [
            "u_812",
            "2",
            "1",
            "5",
            "0",
            "150",
            "50",
            cost.as_str(),
            "500ms",
            "1.00s"
        ]
    );
    assert!(
        users.contains("1 matching trace has no end-user"),
        "{users}"
    );

    let sessions = neatlogs(dir.path(), &["sessions", "--db", db_arg]);
    assert!(sessions.contains("u_19 / x_7 (!)"), "{sessions}");

    let tree = neatlogs(dir.path(), &["trace", &trace_hex(1), "--db", db_arg]);
    let tree_lines: Vec<&str> = tree.lines().collect();
    assert!(
        tree_lines[1].starts_with("chat [WORKFLOW] 1.00s  end_user=u_812"),
        "{tree}"
    );
    assert!(tree_lines[1].contains("operator=dev@acme.test"), "{tree}");
    assert!(tree_lines[2].starts_with("└─ planner [AGENT]"), "{tree}");
    assert!(
        tree_lines[3].starts_with("   └─ gpt-4o [LLM] 780ms  gpt-4o  tokens 100→40"),
        "{tree}"
    );
    assert_eq!(tree_lines.len(), 4, "{tree}");
}

#[test]
fn reads_the_sdk_file_directly_and_imports_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("traces.jsonl");
    // A half-written last line (an SDK still writing) is skipped.
    std::fs::write(&file, jsonl() + "{\"resourceSpans\":[{").expect("write file");
    let file_arg = file.to_str().unwrap();
    check_queries(dir.path(), &["--file", file_arg]);

    // The default: .neatlogs/traces.jsonl with no store and no flags.
    std::fs::create_dir(dir.path().join(".neatlogs")).unwrap();
    std::fs::copy(&file, dir.path().join(".neatlogs/traces.jsonl")).unwrap();
    check_queries(dir.path(), &[]);

    let db = dir.path().join("imported.db");
    let db_arg = db.to_str().unwrap();
    let out = neatlogs(dir.path(), &["import", file_arg, "--db", db_arg]);
    assert!(out.contains("imported 16 spans in 5 traces"), "{out}");
    // Importing twice replaces, never duplicates.
    neatlogs(dir.path(), &["import", file_arg, "--db", db_arg]);
    check_queries(dir.path(), &["--db", db_arg]);
}

#[test]
fn a_killed_server_keeps_what_it_acknowledged() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("neatlogs.db");
    let mut server = serve(&db);
    let (body, content_type, _) = requests().remove(0);
    let (status, text) = post(
        &format!("{}/v1/traces", server.base),
        &[("content-type", content_type)],
        &body,
    );
    assert_eq!(status, 200, "{text}");
    // SIGKILL: no graceful shutdown, no chance to flush anything.
    server.child.kill().expect("kill");
    server.child.wait().expect("wait");
    let traces = json(
        dir.path(),
        &["traces", "--db", db.to_str().unwrap(), "--json"],
    );
    assert_eq!(ids(&traces), vec![trace_hex(2), trace_hex(1)]);
}
