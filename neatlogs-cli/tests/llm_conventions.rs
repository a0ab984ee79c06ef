//! LLM spans in each of the three vocabularies — the Neatlogs SDKs'
//! `neatlogs.llm.*` (what the official Python SDK sends), OpenInference
//! `llm.*` and OpenTelemetry GenAI `gen_ai.*` — posted as OTLP, then read
//! back per end-user from `/api/end-users` and `neatlogs users`: the right
//! tokens, the price table's cost for a known model, the sender's cost when
//! it gives one, no cost (and the tokens) for an unknown model, and a
//! `--prices` file over the built-in table.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use common::*;
use neatlogs_cli::pricing::PriceTable;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_neatlogs");

/// An attribute with a floating-point value.
fn f(key: &str, value: f64) -> KeyValue {
    use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue};
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue {
            value: Some(any_value::Value::DoubleValue(value)),
        }),
        ..Default::default()
    }
}

/// An LLM span as the official Python SDK writes it (`neatlogs.llm.*`).
fn neatlogs_llm(model: &str, prompt: i64, completion: i64) -> Vec<KeyValue> {
    vec![
        s("neatlogs.llm.model_name", model),
        s("neatlogs.llm.provider", "openai"),
        s("neatlogs.llm.system", "openai"),
        i("neatlogs.llm.token_count.prompt", prompt),
        i("neatlogs.llm.token_count.completion", completion),
        i("neatlogs.llm.token_count.total", prompt + completion),
        s("neatlogs.llm.input_messages.0.role", "system"),
        s("neatlogs.llm.input_messages.0.content", "You are terse."),
        s("neatlogs.llm.input_messages.1.role", "user"),
        s(
            "neatlogs.llm.input_messages.1.content",
            "Where is my order?",
        ),
        s("neatlogs.llm.output_messages.0.role", "assistant"),
        s("neatlogs.llm.output_messages.0.content", "On its way."),
        s("neatlogs.llm.finish_reason", "stop"),
        f("neatlogs.llm.metrics.ttft_ms", 210.0),
    ]
}

/// An OpenInference LLM span (`llm.*`).
fn openinference_llm(model: &str, prompt: i64, completion: i64) -> Vec<KeyValue> {
    vec![
        s("llm.model_name", model),
        s("llm.provider", "anthropic"),
        i("llm.token_count.prompt", prompt),
        i("llm.token_count.completion", completion),
        i("llm.token_count.total", prompt + completion),
        s("llm.input_messages.0.message.role", "user"),
        s("llm.input_messages.0.message.content", "Weather in Paris?"),
        s("llm.output_messages.0.message.role", "assistant"),
        s(
            "llm.output_messages.0.message.tool_calls.0.tool_call.function.name",
            "get_weather",
        ),
        s(
            "llm.output_messages.0.message.tool_calls.0.tool_call.function.arguments",
            r#"{"city":"Paris"}"#,
        ),
    ]
}

/// An OpenTelemetry GenAI LLM span (`gen_ai.*`, semantic conventions 1.37).
fn genai_llm(request_model: &str, response_model: &str, input: i64, output: i64) -> Vec<KeyValue> {
    vec![
        s("gen_ai.operation.name", "chat"),
        s("gen_ai.provider.name", "openai"),
        s("gen_ai.request.model", request_model),
        s("gen_ai.response.model", response_model),
        i("gen_ai.usage.input_tokens", input),
        i("gen_ai.usage.output_tokens", output),
        s(
            "gen_ai.input.messages",
            r#"[{"role":"user","parts":[{"type":"text","content":"Hi"}]}]"#,
        ),
    ]
}

/// One trace: a root for `user` and one LLM child with `llm` attributes.
fn trace(n: u64, user: &str, llm: Vec<KeyValue>) -> ExportTraceServiceRequest {
    let mut root_attrs = identity(user, None, None);
    root_attrs.push(s("input.value", r#"{"question":"hi"}"#));
    root_attrs.push(s("input.mime_type", "application/json"));
    let root = span(n, 1, None, "turn", "WORKFLOW", 0, 900, root_attrs);
    let child = span(n, 2, Some(1), "chat", "LLM", 100, 700, llm);
    request(sdk_resource("llm-conventions", None), vec![child, root])
}

struct Expect {
    user: &'static str,
    input: i64,
    output: i64,
}

/// The traffic and what each user should show (cost checked apart).
fn traffic() -> (Vec<ExportTraceServiceRequest>, Vec<Expect>) {
    let requests = vec![
        trace(1, "u_python", neatlogs_llm("gpt-4o-mini", 1200, 300)),
        trace(
            2,
            "u_openinference",
            openinference_llm("claude-sonnet-4-5-20250929", 2000, 150),
        ),
        trace(
            3,
            "u_genai",
            genai_llm("gpt-4o", "gpt-4o-2024-08-06", 5000, 800),
        ),
        trace(4, "u_sender", {
            let mut attrs = openinference_llm("gpt-4o", 100, 100);
            attrs.push(f("llm.cost.total", 0.42));
            attrs
        }),
        trace(
            5,
            "u_unknown",
            genai_llm("house-llama", "house-llama", 700, 70),
        ),
    ];
    let expect = vec![
        Expect {
            user: "u_python",
            input: 1200,
            output: 300,
        },
        Expect {
            user: "u_openinference",
            input: 2000,
            output: 150,
        },
        Expect {
            user: "u_genai",
            input: 5000,
            output: 800,
        },
        Expect {
            user: "u_sender",
            input: 100,
            output: 100,
        },
        Expect {
            user: "u_unknown",
            input: 700,
            output: 70,
        },
    ];
    (requests, expect)
}

/// List price (USD per million tokens) of `model` in `table`, worked out
/// here from the table's figures rather than by the code under test.
fn list_cost(table: &PriceTable, model: &str, input: i64, output: i64) -> f64 {
    let price = table
        .lookup(model)
        .unwrap_or_else(|| panic!("{model} is priced"));
    (input as f64 * price.input + output as f64 * price.output) / 1e6
}

fn user<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["users"]
        .as_array()
        .expect("users")
        .iter()
        .find(|u| u["end_user"] == id)
        .unwrap_or_else(|| panic!("{id} in {report}"))
}

fn assert_close(actual: &Value, expected: f64, what: &str) {
    let actual = actual
        .as_f64()
        .unwrap_or_else(|| panic!("{what}: cost is {actual}, expected {expected}"));
    assert!(
        (actual - expected).abs() < 1e-9,
        "{what}: cost {actual}, expected {expected}"
    );
}

/// The per-user numbers the built-in table gives.
fn check_builtin(report: &Value) {
    let table = PriceTable::builtin();
    let (_, expect) = traffic();
    for e in &expect {
        let u = user(report, e.user);
        assert_eq!(u["input_tokens"], e.input, "{}: {u}", e.user);
        assert_eq!(u["output_tokens"], e.output, "{}: {u}", e.user);
    }
    // Known models: the table's list price (dated snapshots match their
    // base model; GenAI's response model wins over the request model).
    assert_close(
        &user(report, "u_python")["cost_usd"],
        list_cost(&table, "gpt-4o-mini", 1200, 300),
        "python",
    );
    assert_close(
        &user(report, "u_openinference")["cost_usd"],
        list_cost(&table, "claude-sonnet-4-5", 2000, 150),
        "openinference",
    );
    assert_close(
        &user(report, "u_genai")["cost_usd"],
        list_cost(&table, "gpt-4o-2024-08-06", 5000, 800),
        "genai",
    );
    // The sender's figure wins over the table.
    assert_close(&user(report, "u_sender")["cost_usd"], 0.42, "sender");
    assert_ne!(list_cost(&table, "gpt-4o", 100, 100), 0.42);
    // An unknown model: tokens, and no cost at all (not 0).
    let unknown = user(report, "u_unknown");
    assert!(unknown["cost_usd"].is_null(), "{unknown}");
    assert_eq!(unknown["unpriced_spans"], 1, "{unknown}");
    assert_eq!(user(report, "u_python")["unpriced_spans"], 0);
}

#[test]
fn api_end_users_shows_tokens_and_cost_from_every_convention() {
    let server = TestServer::start(None);
    let (requests, _) = traffic();
    for req in &requests {
        let (status, body) = post(
            &server.url("/v1/traces"),
            &[("content-type", "application/x-protobuf")],
            &protobuf(req),
        );
        assert_eq!(status, 200, "{body}");
    }
    let (status, body) = get(&server.url("/api/end-users"), &[]);
    assert_eq!(status, 200, "{body}");
    let report: Value = serde_json::from_str(&body).expect("json");
    check_builtin(&report);

    // The trace and its spans carry the cost too, with where it came from.
    let (_, body) = get(&server.url(&format!("/api/traces/{}", trace_hex(4))), &[]);
    let detail: Value = serde_json::from_str(&body).expect("json");
    assert_close(&detail["trace"]["cost_usd"], 0.42, "trace");
    let llm = detail["spans"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "chat")
        .unwrap();
    assert_eq!(llm["cost_source"], "sender");
    let (_, body) = get(&server.url(&format!("/api/traces/{}", trace_hex(1))), &[]);
    let detail: Value = serde_json::from_str(&body).expect("json");
    let llm = detail["spans"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "chat")
        .unwrap();
    assert_eq!(llm["cost_source"], "table");
    assert_eq!(llm["model"], "gpt-4o-mini");
    let (_, body) = get(&server.url(&format!("/api/traces/{}", trace_hex(5))), &[]);
    let detail: Value = serde_json::from_str(&body).expect("json");
    assert!(detail["trace"]["cost_usd"].is_null(), "{detail}");
    assert_eq!(detail["trace"]["unpriced_spans"], 1);
}

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

fn serve(db: &Path, extra: &[&str]) -> Serve {
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--db"])
        .arg(db)
        .args(extra)
        .env_remove("NEATLOGS_API_KEY")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start neatlogs serve");
    let mut reader = BufReader::new(child.stdout.take().expect("stdout"));
    let mut first = String::new();
    reader.read_line(&mut first).expect("the listening line");
    std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
    let base = first
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in {first:?}"))
        .to_owned();
    Serve { child, base }
}

fn run(args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .env_remove("NEATLOGS_API_KEY")
        .output()
        .expect("run neatlogs")
}

fn run_ok(args: &[&str]) -> String {
    let out = run(args);
    assert!(
        out.status.success(),
        "neatlogs {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

fn send_all(base: &str) {
    let (requests, _) = traffic();
    for req in &requests {
        let (status, body) = post(
            &format!("{base}/v1/traces"),
            &[("content-type", "application/x-protobuf")],
            &protobuf(req),
        );
        assert_eq!(status, 200, "{body}");
    }
}

#[test]
fn neatlogs_users_shows_cost_per_end_user_and_blank_for_unknown_models() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("neatlogs.db");
    {
        let server = serve(&db, &[]);
        send_all(&server.base);
    }
    let db_arg = db.to_str().unwrap();
    let report: Value =
        serde_json::from_str(&run_ok(&["users", "--db", db_arg, "--json"])).expect("json");
    check_builtin(&report);

    // The table: a COST column, the sender's $0.42, blank for the unknown
    // model, and a note about the call without a price.
    let text = run_ok(&["users", "--db", db_arg, "--sort", "cost"]);
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    assert!(header.contains("COST (USD)"), "{text}");
    let rows: Vec<&str> = lines.clone().take(5).collect();
    assert!(
        rows[0].starts_with("u_sender "),
        "most expensive first: {text}"
    );
    assert!(rows[0].contains("$0.42"), "{text}");
    assert!(
        rows[4].starts_with("u_unknown "),
        "unknown cost last: {text}"
    );
    assert!(
        !rows[4].contains('$'),
        "no cost shown for an unknown model: {text}"
    );
    assert!(rows[4].contains("700"), "its tokens are shown: {text}");
    assert!(text.contains("1 LLM call has tokens but no cost"), "{text}");

    // --prices with a store is refused with a reason, not silently ignored.
    let prices = dir.path().join("prices.json");
    std::fs::write(
        &prices,
        r#"{"models":{"house-llama":{"input":1,"output":2}}}"#,
    )
    .unwrap();
    let out = run(&[
        "users",
        "--db",
        db_arg,
        "--prices",
        prices.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("serve --prices"), "{err}");
}

#[test]
fn a_prices_file_overrides_and_extends_the_builtin_table() {
    let dir = tempfile::tempdir().unwrap();
    let prices = dir.path().join("prices.toml");
    // gpt-4o-mini at a price of our own; house-llama added.
    std::fs::write(
        &prices,
        "[models.gpt-4o-mini]\ninput = 100\noutput = 1000\n\n\
         [models.house-llama]\ninput = 10\noutput = 20\n",
    )
    .unwrap();
    let table = PriceTable::builtin_with_file(&prices).unwrap();
    let check = |report: &Value| {
        assert_close(
            &user(report, "u_python")["cost_usd"],
            (1200.0 * 100.0 + 300.0 * 1000.0) / 1e6,
            "python, overridden",
        );
        assert_close(
            &user(report, "u_unknown")["cost_usd"],
            (700.0 * 10.0 + 70.0 * 20.0) / 1e6,
            "house-llama, added",
        );
        assert_eq!(user(report, "u_unknown")["unpriced_spans"], 0);
        // Models the file does not name keep the built-in price.
        assert_close(
            &user(report, "u_genai")["cost_usd"],
            list_cost(&table, "gpt-4o", 5000, 800),
            "genai, built-in",
        );
        assert_close(&user(report, "u_sender")["cost_usd"], 0.42, "sender");
    };

    // `neatlogs serve --prices`.
    let db = dir.path().join("neatlogs.db");
    {
        let server = serve(&db, &["--prices", prices.to_str().unwrap()]);
        send_all(&server.base);
    }
    let report: Value =
        serde_json::from_str(&run_ok(&["users", "--db", db.to_str().unwrap(), "--json"])).unwrap();
    check(&report);

    // `neatlogs users --file F --prices P` reads the SDK's file directly.
    let file = dir.path().join("traces.jsonl");
    let (requests, _) = traffic();
    let lines: Vec<String> = requests
        .iter()
        .map(|r| serde_json::to_string(r).unwrap())
        .collect();
    std::fs::write(&file, lines.join("\n")).unwrap();
    let report: Value = serde_json::from_str(&run_ok(&[
        "users",
        "--file",
        file.to_str().unwrap(),
        "--prices",
        prices.to_str().unwrap(),
        "--json",
    ]))
    .unwrap();
    check(&report);
    // Without --prices, the same file gets the built-in prices.
    let report: Value = serde_json::from_str(&run_ok(&[
        "users",
        "--file",
        file.to_str().unwrap(),
        "--json",
    ]))
    .unwrap();
    check_builtin(&report);

    // A bad price file stops serve with a message naming the file.
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r#"{"models":{"m":{"input":-1,"output":1}}}"#).unwrap();
    let out = run(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--db",
        dir.path().join("other.db").to_str().unwrap(),
        "--prices",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.json") && err.contains("model `m`"),
        "{err}"
    );
}

/// The Python SDK 1.3.7 with opentelemetry-sdk 1.43 or newer: the `init()`
/// default end-user is only on the resource, the root carries none; its LLM
/// span names the dated model. The trace still belongs to that end-user,
/// with its tokens and cost, and a root in the same process that names its
/// own end-user keeps it.
#[test]
fn python_1_3_7_default_end_user_on_the_resource_counts_for_roots_without_one() {
    let server = TestServer::start(None);
    let mut resource = sdk_resource("parity", Some("op_dev"));
    resource
        .attributes
        .push(s("neatlogs.end_user.id", "eu_default"));
    resource
        .attributes
        .push(s("neatlogs.end_user.metadata", r#"{"plan":"free"}"#));
    let default_root = span(10, 1, None, "support_turn", "WORKFLOW", 0, 500, vec![]);
    let llm = span(
        10,
        2,
        Some(1),
        "openai.chat.completions.create",
        "LLM",
        10,
        300,
        neatlogs_llm("gpt-4o-mini-2024-07-18", 42, 17),
    );
    let explicit_root = span(
        11,
        1,
        None,
        "support_turn",
        "WORKFLOW",
        600,
        100,
        identity("u_own", None, None),
    );
    let explicit_llm = span(
        11,
        2,
        Some(1),
        "chat",
        "LLM",
        610,
        50,
        neatlogs_llm("gpt-4o-mini", 5, 5),
    );
    let req = request(
        resource,
        vec![llm, default_root, explicit_llm, explicit_root],
    );
    let (status, body) = post(
        &server.url("/v1/traces"),
        &[("content-type", "application/x-protobuf")],
        &protobuf(&req),
    );
    assert_eq!(status, 200, "{body}");
    let (_, body) = get(&server.url("/api/end-users"), &[]);
    let report: Value = serde_json::from_str(&body).unwrap();
    let default = user(&report, "eu_default");
    assert_eq!(default["input_tokens"], 42);
    assert_eq!(default["output_tokens"], 17);
    assert_eq!(default["metadata"]["plan"], "free");
    assert_close(
        &default["cost_usd"],
        list_cost(&PriceTable::builtin(), "gpt-4o-mini", 42, 17),
        "dated Python model name",
    );
    let own = user(&report, "u_own");
    assert_eq!(own["input_tokens"], 5);
    assert!(
        own["metadata"].is_null(),
        "the default's metadata stays with the default: {own}"
    );
    assert_eq!(report["users"].as_array().unwrap().len(), 2, "{report}");
}
