//! Other backends: the OpenTelemetry environment variables, the request a
//! Langfuse endpoint gets, and what each vocabulary puts on the wire, read
//! back from the protobuf a real receiver decoded. Each test runs in a
//! child process of its own (`init` is once per process), configured only
//! through the environment, as an operator would switch backends.
//!
//! The Langfuse expectations follow Langfuse's documented OTLP property
//! mapping: <https://langfuse.com/integrations/native/opentelemetry>
//! ("Property Mapping": `langfuse.user.id` / `user.id` → userId,
//! `langfuse.session.id` / `session.id` → sessionId, `langfuse.trace.tags`,
//! `langfuse.trace.metadata.*`, `gen_ai.request.model` /
//! `gen_ai.response.model` → model, `gen_ai.usage.*` → usage,
//! `gen_ai.request.*` → model parameters), and its endpoint
//! `/api/public/otel` with `Authorization: Basic base64(pk:sk)`.

mod export_support;

use neatlogs::SpanHandle;
use std::collections::HashSet;
use std::time::Duration;

use neatlogs::llm::{Message, ToolCall, Usage};
use neatlogs::SpanKind;
use opentelemetry_proto::tonic::common::v1::{any_value, KeyValue};
use opentelemetry_proto::tonic::trace::v1::span::SpanKind as OtlpKind;
use opentelemetry_proto::tonic::trace::v1::Span;
use serde_json::{json, Value};

use export_support::{all_spans, attr, in_child, int_attr, str_attr, str_list_attr, Receiver};

const OPERATOR: &str = "ops-operator-7";

/// Two end-users: `u_alice` (a session of two turns, metadata) and `u_bob`
/// (no session; a child that tries to claim another end-user).
fn scenario() {
    for turn in 0..2 {
        let _root = neatlogs::trace("chat")
            .end_user_id("u_alice")
            .end_user_metadata(json!({"plan": "pro", "seats": 3}))
            .session_id("s_alice")
            .tags(["beta"])
            .enter();
        let mut llm = neatlogs::span(SpanKind::Llm, "answer").enter();
        llm.set_model("gpt-4o-mini");
        llm.set_provider("openai");
        llm.set_invocation_parameters(json!({"temperature": 0.2, "max_tokens": 64}));
        llm.add_input_message(Message::system("Be brief."));
        llm.add_input_message(Message::user(format!("question {turn}")));
        llm.set_response_model("gpt-4o-mini-2024-07-18");
        llm.add_tool_call(ToolCall::new("call_1", "lookup", r#"{"q":"weather"}"#));
        llm.add_output_message(Message::assistant(format!("answer {turn}")));
        llm.set_finish_reason("stop");
        llm.set_usage(Usage::new(20 + turn, 7).total(27 + turn));
        drop(llm);
        neatlogs::span(SpanKind::Tool, "lookup")
            .start()
            .set_input("weather?");
    }
    let _root = neatlogs::trace("chat").end_user_id("u_bob").enter();
    let _child = neatlogs::span(SpanKind::Chain, "step")
        .attribute("user.id", "u_mallory")
        .attribute("langfuse.user.id", "u_mallory")
        .enter();
}

fn tempfile() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "neatlogs-backends-{}-{}",
        std::process::id(),
        neatlogs::generate_session_id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("traces.jsonl")
}

/// Start a receiver at `path`, point the OpenTelemetry variables at it,
/// run the scenario with `Config::from_env()`, and return what arrived.
fn run(base_path: &str) -> (Receiver, Vec<Span>, Vec<KeyValue>) {
    let receiver = Receiver::start();
    std::env::set_var(
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        format!("{}{base_path}", receiver.url()),
    );
    neatlogs::init(
        neatlogs::Config::from_env()
            .operator_id(OPERATOR)
            .schedule_delay(Duration::from_millis(20))
            .local_file(tempfile()),
    )
    .unwrap();
    scenario();
    assert!(neatlogs::shutdown());
    let requests = receiver.requests();
    assert!(!requests.is_empty(), "nothing arrived");
    let decoded: Vec<_> = requests.iter().filter_map(|r| r.request.clone()).collect();
    assert_eq!(decoded.len(), requests.len(), "every body decodes");
    let resource = decoded[0].resource_spans[0]
        .resource
        .clone()
        .unwrap()
        .attributes;
    let spans = decoded.iter().flat_map(all_spans).collect();
    (receiver, spans, resource)
}

fn named<'a>(spans: &'a [Span], name: &str) -> Vec<&'a Span> {
    spans.iter().filter(|s| s.name == name).collect()
}

fn roots(spans: &[Span]) -> Vec<&Span> {
    spans
        .iter()
        .filter(|s| s.parent_span_id.is_empty())
        .collect()
}

/// No key twice on any span, and the operator under no key that reads as
/// a user; no child carries any identity key.
fn common_checks(spans: &[Span], resource: &[KeyValue]) {
    const USER_KEYS: [&str; 5] = [
        "user.id",
        "enduser.id",
        "langfuse.user.id",
        "neatlogs.end_user.id",
        "session.id",
    ];
    for s in spans {
        let mut seen = HashSet::new();
        for kv in &s.attributes {
            assert!(seen.insert(&kv.key), "`{}` twice on `{}`", kv.key, s.name);
            if USER_KEYS.contains(&kv.key.as_str()) {
                assert!(
                    s.parent_span_id.is_empty(),
                    "child `{}` carries `{}`",
                    s.name,
                    kv.key
                );
            }
            if let Some(any_value::Value::StringValue(v)) =
                kv.value.as_ref().and_then(|v| v.value.as_ref())
            {
                assert_ne!(v, "u_mallory", "a child's claimed end-user went out");
                if v == OPERATOR {
                    assert!(
                        !USER_KEYS.contains(&kv.key.as_str()),
                        "the operator is under `{}`",
                        kv.key
                    );
                }
            }
        }
    }
    for kv in resource {
        if USER_KEYS.contains(&kv.key.as_str()) {
            assert_ne!(
                kv.value.as_ref().and_then(|v| v.value.clone()),
                Some(any_value::Value::StringValue(OPERATOR.into())),
                "the operator is under the resource's `{}`",
                kv.key
            );
        }
    }
}

#[test]
fn openinference_for_phoenix() {
    // In a child process: it configures through NEATLOGS_CONVENTIONS and OTEL_* variables, process environment read by `Config::from_env`.
    if !in_child(
        "openinference_for_phoenix",
        &[
            ("NEATLOGS_CONVENTIONS", "openinference"),
            ("OTEL_SERVICE_NAME", "backend-demo"),
            (
                "OTEL_EXPORTER_OTLP_HEADERS",
                "authorization=Bearer%20phx-system-key",
            ),
        ],
    ) {
        return;
    }
    let (receiver, spans, resource) = run("");
    let r = &receiver.requests()[0];
    assert_eq!(r.path, "/v1/traces");
    assert!(
        r.headers
            .iter()
            .any(|(k, v)| k == "authorization" && v == "Bearer phx-system-key"),
        "{:?}",
        r.headers
    );
    common_checks(&spans, &resource);
    assert_eq!(
        str_attr(&resource, "openinference.project.name"),
        Some("backend-demo")
    );
    assert_eq!(str_attr(&resource, "neatlogs.user.id"), Some(OPERATOR));
    assert!(named(&spans, "neatlogs.trace.complete").is_empty());

    let roots = roots(&spans);
    assert_eq!(roots.len(), 3);
    let users: Vec<_> = roots
        .iter()
        .map(|s| str_attr(&s.attributes, "user.id"))
        .collect();
    assert_eq!(users, [Some("u_alice"), Some("u_alice"), Some("u_bob")]);
    assert_eq!(
        str_attr(&roots[0].attributes, "session.id"),
        Some("s_alice")
    );
    assert_eq!(str_attr(&roots[2].attributes, "session.id"), None);
    let metadata: Value =
        serde_json::from_str(str_attr(&roots[0].attributes, "metadata").unwrap()).unwrap();
    assert_eq!(metadata, json!({"plan": "pro", "seats": 3}));
    assert_eq!(
        str_list_attr(&roots[0].attributes, "tag.tags"),
        Some(vec!["beta".to_owned()])
    );

    let llm = named(&spans, "answer");
    assert_eq!(llm.len(), 2);
    let a = &llm[1].attributes;
    assert_eq!(str_attr(a, "openinference.span.kind"), Some("LLM"));
    assert_eq!(
        str_attr(a, "llm.model_name"),
        Some("gpt-4o-mini-2024-07-18")
    );
    assert_eq!(str_attr(a, "llm.provider"), Some("openai"));
    assert_eq!(int_attr(a, "llm.token_count.prompt"), Some(21));
    assert_eq!(int_attr(a, "llm.token_count.completion"), Some(7));
    assert_eq!(int_attr(a, "llm.token_count.total"), Some(28));
    assert_eq!(
        str_attr(a, "llm.input_messages.1.message.content"),
        Some("question 1")
    );
    assert_eq!(
        str_attr(a, "llm.output_messages.0.message.role"),
        Some("assistant")
    );
    assert_eq!(
        str_attr(
            a,
            "llm.output_messages.0.message.tool_calls.0.tool_call.function.name"
        ),
        Some("lookup")
    );
    let params: Value =
        serde_json::from_str(str_attr(a, "llm.invocation_parameters").unwrap()).unwrap();
    assert_eq!(params["max_tokens"], 64);
    // Nothing of the other vocabularies.
    for s in &spans {
        for kv in &s.attributes {
            assert!(
                !kv.key.starts_with("neatlogs.") && !kv.key.starts_with("gen_ai."),
                "`{}` on `{}`",
                kv.key,
                s.name
            );
        }
        assert_eq!(s.kind, OtlpKind::Internal as i32);
    }
    let tool = named(&spans, "lookup");
    assert_eq!(str_attr(&tool[0].attributes, "tool.name"), Some("lookup"));
    assert_eq!(
        str_attr(&tool[0].attributes, "input.value"),
        Some("weather?")
    );
}

#[test]
fn genai_for_langfuse() {
    // In a child process: it configures through NEATLOGS_CONVENTIONS and OTEL_* variables, process environment read by `Config::from_env`.
    if !in_child(
        "genai_for_langfuse",
        &[
            ("NEATLOGS_CONVENTIONS", "genai"),
            // base64("pk-lf-123:sk-lf-456")
            (
                "OTEL_EXPORTER_OTLP_HEADERS",
                "Authorization=Basic%20cGstbGYtMTIzOnNrLWxmLTQ1Ng==",
            ),
            ("OTEL_EXPORTER_OTLP_COMPRESSION", "none"),
            ("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=staging"),
        ],
    ) {
        return;
    }
    let (receiver, spans, resource) = run("/api/public/otel");
    for r in receiver.requests() {
        assert_eq!(r.path, "/api/public/otel/v1/traces");
        assert!(
            r.headers
                .iter()
                .any(|(k, v)| k == "authorization" && v == "Basic cGstbGYtMTIzOnNrLWxmLTQ1Ng=="),
            "{:?}",
            r.headers
        );
        assert_eq!(r.content_encoding, "", "compression none");
        assert_eq!(r.content_type, "application/x-protobuf");
    }
    common_checks(&spans, &resource);
    assert_eq!(
        str_attr(&resource, "deployment.environment"),
        Some("staging")
    );
    let roots = roots(&spans);
    assert_eq!(roots.len(), 3);
    let a = &roots[0].attributes;
    assert_eq!(str_attr(a, "langfuse.user.id"), Some("u_alice"));
    assert_eq!(str_attr(a, "enduser.id"), Some("u_alice"));
    assert_eq!(str_attr(a, "langfuse.session.id"), Some("s_alice"));
    assert_eq!(str_attr(a, "gen_ai.conversation.id"), Some("s_alice"));
    assert_eq!(str_attr(a, "langfuse.trace.metadata.plan"), Some("pro"));
    assert_eq!(str_attr(a, "langfuse.trace.metadata.seats"), Some("3"));
    assert_eq!(
        str_list_attr(a, "langfuse.trace.tags"),
        Some(vec!["beta".to_owned()])
    );
    assert_eq!(
        str_attr(&roots[2].attributes, "langfuse.user.id"),
        Some("u_bob")
    );
    assert_eq!(str_attr(&roots[2].attributes, "langfuse.session.id"), None);

    // An LLM span: CLIENT, named `{operation} {model}`.
    let llm = named(&spans, "chat gpt-4o-mini");
    assert_eq!(
        llm.len(),
        2,
        "{:?}",
        spans.iter().map(|s| &s.name).collect::<Vec<_>>()
    );
    assert_eq!(llm[0].kind, OtlpKind::Client as i32);
    let a = &llm[0].attributes;
    assert_eq!(str_attr(a, "gen_ai.operation.name"), Some("chat"));
    assert_eq!(str_attr(a, "gen_ai.provider.name"), Some("openai"));
    assert_eq!(str_attr(a, "gen_ai.request.model"), Some("gpt-4o-mini"));
    assert_eq!(
        str_attr(a, "gen_ai.response.model"),
        Some("gpt-4o-mini-2024-07-18")
    );
    assert_eq!(int_attr(a, "gen_ai.usage.input_tokens"), Some(20));
    assert_eq!(int_attr(a, "gen_ai.usage.output_tokens"), Some(7));
    assert_eq!(int_attr(a, "gen_ai.request.max_tokens"), Some(64));
    assert_eq!(
        attr(a, "gen_ai.request.temperature"),
        Some(&any_value::Value::DoubleValue(0.2))
    );
    assert_eq!(
        str_list_attr(a, "gen_ai.response.finish_reasons"),
        Some(vec!["stop".to_owned()])
    );
    let input: Value = serde_json::from_str(str_attr(a, "gen_ai.input.messages").unwrap()).unwrap();
    assert_eq!(
        input,
        json!([
            {"role": "system", "parts": [{"type": "text", "content": "Be brief."}]},
            {"role": "user", "parts": [{"type": "text", "content": "question 0"}]},
        ])
    );
    let output: Value =
        serde_json::from_str(str_attr(a, "gen_ai.output.messages").unwrap()).unwrap();
    assert_eq!(
        output,
        json!([{
            "role": "assistant",
            "finish_reason": "stop",
            "parts": [
                {"type": "text", "content": "answer 0"},
                {"type": "tool_call", "id": "call_1", "name": "lookup", "arguments": {"q": "weather"}},
            ],
        }])
    );
    let tool = named(&spans, "lookup");
    assert_eq!(
        str_attr(&tool[0].attributes, "gen_ai.operation.name"),
        Some("execute_tool")
    );
    assert_eq!(
        str_attr(&tool[0].attributes, "gen_ai.tool.name"),
        Some("lookup")
    );
    // Langfuse reads a span's input and output from `input.value` and
    // `output.value`: written for GenAI too.
    assert_eq!(
        str_attr(&tool[0].attributes, "input.value"),
        Some("weather?")
    );
    for s in &spans {
        for kv in &s.attributes {
            assert!(
                !kv.key.starts_with("neatlogs.") && !kv.key.starts_with("llm."),
                "`{}` on `{}`",
                kv.key,
                s.name
            );
        }
    }
}

/// All three vocabularies at once: each key once, identity on the roots
/// only, the Neatlogs span names and completion markers kept.
#[test]
fn all_vocabularies_at_once() {
    // In a child process: NEATLOGS_CONVENTIONS and OTEL_EXPORTER_OTLP_ENDPOINT are process environment read by `Config::from_env`.
    if !in_child(
        "all_vocabularies_at_once",
        &[("NEATLOGS_CONVENTIONS", "genai,openinference,neatlogs")],
    ) {
        return;
    }
    let (_receiver, spans, resource) = run("");
    common_checks(&spans, &resource);
    assert_eq!(named(&spans, "neatlogs.trace.complete").len(), 3);
    let llm = named(&spans, "answer");
    assert_eq!(llm.len(), 2, "the Neatlogs backend shows the name given");
    let a = &llm[0].attributes;
    for key in [
        "neatlogs.llm.model_name",
        "llm.model_name",
        "gen_ai.request.model",
        "input.value",
    ] {
        let _ = attr(a, key);
    }
    assert_eq!(
        str_attr(a, "llm.model_name"),
        Some("gpt-4o-mini-2024-07-18")
    );
    assert_eq!(int_attr(a, "neatlogs.llm.token_count.prompt"), Some(20));
    assert_eq!(int_attr(a, "gen_ai.usage.input_tokens"), Some(20));
    let root = &roots(&spans)[0].attributes;
    assert_eq!(str_attr(root, "neatlogs.end_user.id"), Some("u_alice"));
    assert_eq!(str_attr(root, "user.id"), Some("u_alice"));
    assert_eq!(str_attr(root, "langfuse.user.id"), Some("u_alice"));
    assert_eq!(str_attr(root, "enduser.id"), Some("u_alice"));
    assert_eq!(str_attr(&resource, "neatlogs.user.id"), Some(OPERATOR));
    assert_eq!(str_attr(&resource, "user.id"), None);
}

/// A bad variable fails `init` with an error that names it; a good
/// configuration then still works (nothing was half set up).
#[test]
fn a_bad_variable_fails_init_with_its_name() {
    // In a child process: OTEL_* variables are process environment, and it tests `init` and `is_initialized`.
    if !in_child(
        "a_bad_variable_fails_init_with_its_name",
        &[
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
            ("OTEL_EXPORTER_OTLP_HEADERS", "authorization"),
        ],
    ) {
        return;
    }
    let e = neatlogs::init(neatlogs::Config::from_env()).unwrap_err();
    let text = e.to_string();
    assert!(
        matches!(e, neatlogs::InitError::InvalidEnvVar { .. }),
        "{e:?}"
    );
    assert!(text.contains("OTEL_EXPORTER_OTLP_"), "{text}");
    assert!(!neatlogs::is_initialized());
}

/// `OTEL_SDK_DISABLED=true`: `init` succeeds and tracing stays off.
#[test]
fn otel_sdk_disabled_keeps_tracing_off() {
    // In a child process: OTEL_SDK_DISABLED is process environment, and it tests `init` and `is_initialized`.
    if !in_child(
        "otel_sdk_disabled_keeps_tracing_off",
        &[("OTEL_SDK_DISABLED", "true")],
    ) {
        return;
    }
    let receiver = Receiver::start();
    std::env::set_var("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.url());
    neatlogs::init(neatlogs::Config::from_env()).unwrap();
    assert!(!neatlogs::is_initialized());
    scenario();
    assert!(!neatlogs::span(SpanKind::Tool, "t").is_enabled());
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(receiver.request_count(), 0);
}
