//! The wire contract (DESIGN.md), checked on what a real OTLP/HTTP receiver
//! gets: resource keys, root-only identity, operator vs end-user, the
//! completion marker, parent links, status, the Neatlogs LLM vocabulary; protobuf and
//! JSON; the local-file default; endpoint and protocol errors at `init`; and
//! that the exporter's own traffic never becomes spans.
//!
//! Tests that need process-global state (`init`, the environment, the
//! current directory) run in a child process of their own; the others use a
//! `Neatlogs` instance.

#[path = "export_support/mod.rs"]
mod support;

use neatlogs::SpanHandle;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use neatlogs::{Config, SpanKind};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::trace::v1::Span;
use serde_json::json;
use support::*;

const ROOT_ONLY: [&str; 5] = [
    "neatlogs.end_user.id",
    "enduser.id",
    "neatlogs.end_user.metadata",
    "neatlogs.session.id",
    "tag.tags",
];

/// The scenario every wire test records: four traces covering explicit,
/// default, auto-created and invalid identity.
fn record_scenario() {
    {
        let mut root = neatlogs::trace("chat")
            .end_user_id("u_812")
            .end_user_metadata(json!({"plan": "pro", "region": "eu"}))
            .session_id("s_1")
            .tags(["vip", "beta"])
            .enter();
        root.set_attribute("app.request_id", "r-1");
        {
            // An end-user on a nested span has no effect.
            let _agent = neatlogs::span(SpanKind::Agent, "planner")
                .end_user_id("u_nested")
                .session_id("s_nested")
                .enter();
            let mut llm = neatlogs::span(SpanKind::Llm, "completion").enter();
            llm.set_model("gpt-4o");
            llm.set_input("What is the refund policy?");
            llm.set_output("30 days.");
            llm.set_usage(neatlogs::llm::Usage::new(120, 48));
        }
        let mut tool = neatlogs::span(SpanKind::Tool, "search").enter();
        tool.record_error(&"tool failed: index offline");
    }
    {
        // No explicit end-user: the init default, with its own metadata.
        let _root = neatlogs::trace("nightly").enter();
        let _r = neatlogs::span(SpanKind::Retriever, "docs").enter();
    }
    {
        // An LLM call outside any trace is a root of its own.
        let mut llm = neatlogs::span(SpanKind::Llm, "standalone").enter();
        llm.set_model("small");
        llm.set_usage(neatlogs::llm::Usage::new(1, 2));
    }
    {
        // An invalid id is dropped, and there is no fallback to the default.
        let _root = neatlogs::trace("bad").end_user_id("u\nbad").enter();
    }
}

/// The scenario's configuration, without a destination.
fn scenario_config() -> Config {
    Config::new()
        .workflow_name("support-chat")
        .operator_id("op_dev")
        .session_id("s_proc")
        .tags(["nightly", "eu"])
        .end_user_id("u_default")
        .end_user_metadata(json!({"plan": "free"}))
        .schedule_delay(Duration::from_millis(20))
}

/// Assert the whole wire table on the spans of one scenario run.
fn assert_wire_table(requests: &[ExportTraceServiceRequest]) {
    assert!(!requests.is_empty());
    for req in requests {
        assert_eq!(req.resource_spans.len(), 1);
        let res = &req.resource_spans[0]
            .resource
            .as_ref()
            .expect("resource")
            .attributes;
        assert_eq!(str_attr(res, "service.name"), Some("support-chat"));
        assert_eq!(
            str_attr(res, "neatlogs.workflow_name"),
            Some("support-chat")
        );
        assert_eq!(str_attr(res, "telemetry.sdk.name"), Some("neatlogs"));
        assert_eq!(str_attr(res, "telemetry.sdk.language"), Some("rust"));
        assert_eq!(
            str_attr(res, "telemetry.sdk.version"),
            Some(env!("CARGO_PKG_VERSION"))
        );
        // The operator is on the resource, as user.id; never an end-user key.
        assert_eq!(str_attr(res, "user.id"), Some("op_dev"));
        assert_eq!(str_attr(res, "session.id"), Some("s_proc"));
        assert_eq!(str_attr(res, "neatlogs.tags"), Some("nightly,eu"));
        for key in ROOT_ONLY {
            assert!(attr(res, key).is_none(), "resource carries `{key}`");
        }
    }
    let spans: Vec<Span> = requests.iter().flat_map(all_spans).collect();
    let by_name: HashMap<&str, &Span> = spans
        .iter()
        .filter(|s| !is_marker(s))
        .map(|s| (s.name.as_str(), s))
        .collect();
    assert_eq!(
        spans.len(),
        8 + 4,
        "8 spans + 4 markers: {:?}",
        spans.iter().map(|s| &s.name).collect::<Vec<_>>()
    );
    assert_eq!(id_counts(&spans).values().max(), Some(&1), "no duplicates");

    // Every span: kinds and the internal flag; never the operator.
    for s in spans.iter().filter(|s| !is_marker(s)) {
        let kind = str_attr(&s.attributes, "openinference.span.kind").expect("kind");
        assert_eq!(
            str_attr(&s.attributes, "neatlogs.span.kind"),
            Some(kind.to_lowercase().as_str())
        );
        assert_eq!(bool_attr(&s.attributes, "neatlogs.internal"), Some(true));
        assert!(
            attr(&s.attributes, "user.id").is_none(),
            "operator on a span"
        );
        assert_eq!(s.trace_id.len(), 16);
        assert_eq!(s.span_id.len(), 8);
        assert!(s.start_time_unix_nano > 0 && s.end_time_unix_nano >= s.start_time_unix_nano);
    }
    let kind = |name: &str| {
        str_attr(&by_name[name].attributes, "openinference.span.kind")
            .unwrap()
            .to_owned()
    };
    assert_eq!(kind("chat"), "WORKFLOW");
    assert_eq!(kind("planner"), "AGENT");
    assert_eq!(kind("completion"), "LLM");
    assert_eq!(kind("search"), "TOOL");
    assert_eq!(kind("docs"), "RETRIEVER");
    assert_eq!(kind("standalone"), "LLM");

    // Trace 1: explicit identity on the root only.
    let chat = by_name["chat"];
    let a = &chat.attributes;
    assert!(chat.parent_span_id.is_empty());
    assert_eq!(str_attr(a, "neatlogs.end_user.id"), Some("u_812"));
    assert_eq!(str_attr(a, "enduser.id"), Some("u_812"));
    let meta: serde_json::Value =
        serde_json::from_str(str_attr(a, "neatlogs.end_user.metadata").unwrap()).unwrap();
    assert_eq!(meta, json!({"plan": "pro", "region": "eu"}));
    assert_eq!(str_attr(a, "neatlogs.session.id"), Some("s_1"));
    assert_eq!(
        str_list_attr(a, "tag.tags"),
        Some(vec!["vip".into(), "beta".into()])
    );
    assert_eq!(str_attr(a, "app.request_id"), Some("r-1"));
    for name in ["planner", "completion", "search", "docs"] {
        for key in ROOT_ONLY {
            assert!(
                attr(&by_name[name].attributes, key).is_none(),
                "`{key}` on nested `{name}`"
            );
        }
    }
    // The nested end-user and session appear nowhere.
    let everything = format!("{spans:?}");
    assert!(!everything.contains("u_nested") && !everything.contains("s_nested"));

    // Parent links.
    assert_eq!(by_name["planner"].parent_span_id, chat.span_id);
    assert_eq!(
        by_name["completion"].parent_span_id,
        by_name["planner"].span_id
    );
    assert_eq!(by_name["search"].parent_span_id, chat.span_id);
    for name in ["planner", "completion", "search"] {
        assert_eq!(by_name[name].trace_id, chat.trace_id);
    }

    // Status on error, unset elsewhere.
    let status = by_name["search"]
        .status
        .as_ref()
        .expect("status on the failed tool");
    assert_eq!(status.code, 2, "STATUS_CODE_ERROR");
    assert_eq!(status.message, "tool failed: index offline");
    let unset = by_name["completion"].status.clone().unwrap_or_default();
    assert_eq!(unset.code, 0, "STATUS_CODE_UNSET");

    // The Neatlogs LLM vocabulary on the LLM span.
    let llm = &by_name["completion"].attributes;
    assert_eq!(str_attr(llm, "neatlogs.llm.model_name"), Some("gpt-4o"));
    assert_eq!(int_attr(llm, "neatlogs.llm.token_count.prompt"), Some(120));
    assert_eq!(
        int_attr(llm, "neatlogs.llm.token_count.completion"),
        Some(48)
    );
    assert_eq!(int_attr(llm, "neatlogs.llm.token_count.total"), Some(168));
    assert_eq!(
        str_attr(llm, "input.value"),
        Some("What is the refund policy?")
    );
    assert_eq!(str_attr(llm, "output.value"), Some("30 days."));

    // Trace 2: the init default end-user, with the default's metadata and
    // the process session.
    let nightly = &by_name["nightly"].attributes;
    assert_eq!(str_attr(nightly, "neatlogs.end_user.id"), Some("u_default"));
    assert_eq!(str_attr(nightly, "enduser.id"), Some("u_default"));
    let meta: serde_json::Value =
        serde_json::from_str(str_attr(nightly, "neatlogs.end_user.metadata").unwrap()).unwrap();
    assert_eq!(meta, json!({"plan": "free"}));
    assert_eq!(str_attr(nightly, "neatlogs.session.id"), Some("s_proc"));
    assert!(attr(nightly, "tag.tags").is_none());

    // Trace 3: the auto-created LLM root owns identity too.
    let standalone = by_name["standalone"];
    assert!(standalone.parent_span_id.is_empty());
    assert_eq!(
        str_attr(&standalone.attributes, "neatlogs.end_user.id"),
        Some("u_default")
    );
    assert_eq!(
        int_attr(
            &standalone.attributes,
            "neatlogs.llm.token_count.completion"
        ),
        Some(2)
    );

    // Trace 4: invalid id → no end-user at all (never the default).
    let bad = &by_name["bad"].attributes;
    assert!(attr(bad, "neatlogs.end_user.id").is_none());
    assert!(attr(bad, "enduser.id").is_none());
    assert!(attr(bad, "neatlogs.end_user.metadata").is_none());
    assert_eq!(str_attr(bad, "neatlogs.session.id"), Some("s_proc"));

    // One completion marker per root: same trace, parent = root.
    let markers: Vec<&Span> = spans.iter().filter(|s| is_marker(s)).collect();
    assert_eq!(markers.len(), 4);
    for root_name in ["chat", "nightly", "standalone", "bad"] {
        let root = by_name[root_name];
        let m: Vec<_> = markers
            .iter()
            .filter(|m| m.parent_span_id == root.span_id)
            .collect();
        assert_eq!(m.len(), 1, "one marker for `{root_name}`");
        let m = m[0];
        assert_eq!(m.trace_id, root.trace_id);
        assert_ne!(m.span_id, root.span_id);
        assert_eq!(
            bool_attr(&m.attributes, "neatlogs.trace.complete"),
            Some(true)
        );
        assert_eq!(
            str_attr(&m.attributes, "neatlogs.span.kind"),
            Some("Neatlogs.INTERNAL")
        );
        assert!(attr(&m.attributes, "neatlogs.end_user.id").is_none());
    }
}

fn samples_dir() -> Option<PathBuf> {
    std::env::var_os("OTLP_SAMPLES_DIR").map(PathBuf::from)
}

#[test]
fn wire_table_over_protobuf() {
    let receiver = Receiver::start();
    let mut config = scenario_config()
        .endpoint(receiver.url())
        .api_key("test-key");
    if let Some(dir) = samples_dir() {
        // The same spans, also as the local file's JSON lines.
        config = config.local_file(dir.join("traces.jsonl"));
    }
    let tracer = neatlogs::Neatlogs::new(config).unwrap();
    tracer.in_scope(record_scenario);
    assert!(tracer.shutdown(), "{:?}", tracer.stats());

    let requests = receiver.requests();
    for r in &requests {
        assert_eq!(r.path, "/v1/traces");
        assert_eq!(r.content_type, "application/x-protobuf");
        assert_eq!(r.content_encoding, "gzip");
        assert_eq!(r.api_key.as_deref(), Some("test-key"));
        assert_eq!(r.answered, 200);
    }
    let decoded: Vec<_> = requests
        .iter()
        .map(|r| r.request.clone().expect("decodes"))
        .collect();
    assert_wire_table(&decoded);
    let stats = tracer.stats();
    assert_eq!(
        (stats.queued, stats.exported, stats.failed, stats.dropped),
        (8, 8, 0, 0)
    );
    if let Some(dir) = samples_dir() {
        for (i, r) in requests.iter().enumerate() {
            std::fs::write(dir.join(format!("request-{i}.pb")), &r.raw).unwrap();
        }
    }
}

/// `Compression::Zstd` (feature `zstd`): every request, spans and usage
/// alike, is `Content-Encoding: zstd` and decodes to the same wire table.
#[cfg(feature = "zstd")]
#[test]
fn zstd_bodies_decode_to_the_same_wire_table() {
    let receiver = Receiver::start();
    let tracer = neatlogs::Neatlogs::new(
        scenario_config()
            .endpoint(receiver.url())
            .api_key("test-key")
            .compression(neatlogs::export::Compression::Zstd),
    )
    .unwrap();
    tracer.in_scope(record_scenario);
    assert!(tracer.shutdown(), "{:?}", tracer.stats());

    let requests = receiver.requests();
    assert!(!requests.is_empty());
    let decoded: Vec<_> = requests
        .iter()
        .map(|r| {
            assert_eq!(r.content_encoding, "zstd");
            assert_eq!(r.answered, 200);
            r.request.clone().expect("decodes")
        })
        .collect();
    assert_wire_table(&decoded);
    let usage = receiver.metrics_requests();
    assert!(!usage.is_empty(), "the LLM call's usage is reported");
    for r in &usage {
        assert_eq!(r.content_encoding, "zstd");
        assert!(!r.raw.is_empty());
    }
    assert_eq!(tracer.stats().failed, 0);
}

#[test]
fn wire_table_over_json_from_env() {
    // In a child process: it sets NEATLOGS_PROTOCOL/ENDPOINT/API_KEY, process environment read by `Config::from_env`.
    if !in_child(
        "wire_table_over_json_from_env",
        &[("NEATLOGS_PROTOCOL", "http/json")],
    ) {
        return;
    }
    let receiver = Receiver::start();
    std::env::set_var("NEATLOGS_ENDPOINT", format!("{}/v1/traces", receiver.url()));
    std::env::set_var("NEATLOGS_API_KEY", "env-key");
    let config = Config::from_env()
        .workflow_name("support-chat")
        .operator_id("op_dev")
        .session_id("s_proc")
        .tags(["nightly", "eu"])
        .end_user_id("u_default")
        .end_user_metadata(json!({"plan": "free"}))
        .schedule_delay(Duration::from_millis(20));
    neatlogs::init(config).unwrap();
    record_scenario();
    assert!(neatlogs::shutdown());

    let requests = receiver.requests();
    let mut decoded = Vec::new();
    for (i, r) in requests.iter().enumerate() {
        assert_eq!(r.path, "/v1/traces");
        assert_eq!(r.content_type, "application/json");
        assert_eq!(r.content_encoding, "gzip");
        assert_eq!(r.api_key.as_deref(), Some("env-key"));
        // The OTLP JSON mapping, checked on the raw text.
        let json: serde_json::Value = serde_json::from_slice(&r.raw).unwrap();
        let span = &json["resourceSpans"][0]["scopeSpans"][0]["spans"][0];
        let hex = |v: &serde_json::Value, len: usize| {
            let s = v.as_str().unwrap();
            s.len() == len
                && s.chars()
                    .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        };
        assert!(
            hex(&span["traceId"], 32) && hex(&span["spanId"], 16),
            "{span}"
        );
        assert!(span["startTimeUnixNano"].is_string() && span["endTimeUnixNano"].is_string());
        assert_eq!(span["kind"], 1, "enums as integers");
        decoded.push(r.request.clone().expect("decodes with the serde mapping"));
        if let Some(dir) = samples_dir() {
            std::fs::write(dir.join(format!("request-{i}.json")), &r.raw).unwrap();
        }
    }
    let all_raw: String = requests
        .iter()
        .map(|r| String::from_utf8_lossy(&r.raw).into_owned())
        .collect();
    assert!(
        all_raw.contains(r#""intValue":"120""#),
        "64-bit integers as strings"
    );
    assert_wire_table(&decoded);
}

fn read_jsonl(path: &Path) -> Vec<ExportTraceServiceRequest> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad line {l}: {e}")))
        .collect()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("neatlogs-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn no_key_no_endpoint_writes_local_jsonl() {
    // In a child process: the default file is under the process's current directory (`set_current_dir`).
    if !in_child("no_key_no_endpoint_writes_local_jsonl", &[]) {
        return;
    }
    let dir = temp_dir("local");
    std::env::set_current_dir(&dir).unwrap();
    neatlogs::init(scenario_config()).unwrap();
    record_scenario();
    assert!(neatlogs::shutdown());
    let file = dir.join(".neatlogs/traces.jsonl");
    let requests = read_jsonl(&file);
    assert_wire_table(&requests);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn neatlogs_file_env_sets_the_path_and_appends() {
    // In a child process: NEATLOGS_FILE is read from the process environment, and it changes the current directory.
    if !is_child("neatlogs_file_env_sets_the_path_and_appends") {
        let dir = temp_dir("file-env");
        let file = dir.join("nested/dir/out.jsonl");
        run_child(
            "neatlogs_file_env_sets_the_path_and_appends",
            &[("NEATLOGS_FILE", file.to_str().unwrap())],
            CHILD_LIMIT,
        );
        let _ = std::fs::remove_dir_all(&dir);
        return;
    }
    let file = PathBuf::from(std::env::var("NEATLOGS_FILE").unwrap());
    // The directory does not exist yet: the exporter creates it.
    assert!(!file.parent().unwrap().exists());
    std::env::set_current_dir(file.parent().unwrap().parent().unwrap().parent().unwrap()).unwrap();
    neatlogs::init(Config::from_env().schedule_delay(Duration::from_millis(10))).unwrap();
    {
        let _root = neatlogs::trace("first").end_user_id("u_1").enter();
    }
    assert!(neatlogs::flush());
    {
        let _root = neatlogs::trace("second").end_user_id("u_2").enter();
    }
    assert!(neatlogs::shutdown());
    let requests = read_jsonl(&file);
    assert_eq!(
        requests.len(),
        2,
        "one ExportTraceServiceRequest per line, appended"
    );
    let names: Vec<String> = requests
        .iter()
        .flat_map(all_spans)
        .map(|s| s.name)
        .collect();
    assert_eq!(names, ["first", MARKER, "second", MARKER]);
    assert!(
        !Path::new(".neatlogs").exists(),
        "only the configured file is written"
    );
}

#[test]
fn disable_export_env_writes_nothing() {
    let dir = temp_dir("disabled");
    let dir_str = dir.to_str().unwrap().to_owned();
    // In a child process: NEATLOGS_DISABLE_EXPORT is process environment, and it changes the current directory.
    if !in_child(
        "disable_export_env_writes_nothing",
        &[
            ("NEATLOGS_DISABLE_EXPORT", "1"),
            ("NEATLOGS_TEST_DIR", &dir_str),
        ],
    ) {
        assert!(!dir.join(".neatlogs").exists());
        let _ = std::fs::remove_dir_all(&dir);
        return;
    }
    std::env::set_current_dir(std::env::var("NEATLOGS_TEST_DIR").unwrap()).unwrap();
    neatlogs::init(Config::from_env()).unwrap();
    {
        let _root = neatlogs::trace("quiet").enter();
    }
    assert!(neatlogs::shutdown());
    assert!(!Path::new(".neatlogs").exists());
}

#[test]
fn endpoint_and_protocol_errors_at_init() {
    // In a child process: it tests `neatlogs::init` itself (errors, `is_initialized`) with NEATLOGS_PROTOCOL in the environment.
    if !in_child(
        "endpoint_and_protocol_errors_at_init",
        &[("NEATLOGS_PROTOCOL", "grpc")],
    ) {
        return;
    }
    let err = neatlogs::init(Config::from_env().endpoint("http://127.0.0.1:4318")).unwrap_err();
    assert!(
        matches!(err, neatlogs::InitError::InvalidProtocol(_)),
        "{err}"
    );
    assert!(err.to_string().contains("grpc"), "{err}");

    let err =
        neatlogs::init(Config::new().endpoint("https://collector.example/v1/logs")).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, neatlogs::InitError::InvalidEndpoint { .. }));
    assert!(text.contains("https://collector.example/v1/logs"), "{text}");
    let err = neatlogs::init(Config::new().endpoint("collector:4318")).unwrap_err();
    assert!(
        matches!(err, neatlogs::InitError::InvalidEndpoint { .. }),
        "{err}"
    );
    // The failed attempts left tracing off, and a good configuration works.
    assert!(!neatlogs::is_initialized());
    let receiver = Receiver::start();
    neatlogs::init(Config::new().endpoint(format!("{}/v1/traces/", receiver.url()))).unwrap();
    {
        let _root = neatlogs::trace("ok").enter();
    }
    assert!(neatlogs::shutdown());
    assert_eq!(receiver.requests()[0].path, "/v1/traces");
    assert_eq!(receiver.requests()[0].api_key, None, "no key, no header");
}

/// A custom exporter that opens spans while exporting: none of them may be
/// recorded (they would feed the next export, forever).
struct SpanOpeningExporter;

static EXPORTER_CALLS: AtomicUsize = AtomicUsize::new(0);
static EXPORTER_SPANS_RECORDED: AtomicUsize = AtomicUsize::new(0);

impl neatlogs::export::Exporter for SpanOpeningExporter {
    fn export(
        &mut self,
        _: &neatlogs::export::Resource,
        _: &[neatlogs::export::SpanRecord],
    ) -> Result<(), neatlogs::export::ExportError> {
        EXPORTER_CALLS.fetch_add(1, Ordering::SeqCst);
        let root = neatlogs::trace("inside-exporter")
            .end_user_id("u_exporter")
            .enter();
        if root.is_recording() || neatlogs::current_trace_id().is_some() {
            EXPORTER_SPANS_RECORDED.fetch_add(1, Ordering::SeqCst);
        }
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exporter_traffic_is_never_traced() {
    // In a child process: the export thread's suppression only shows when a process-global `init` would record spans opened there.
    if !in_child("exporter_traffic_is_never_traced", &[]) {
        return;
    }
    let receiver = Receiver::start();
    let url = receiver.url();
    neatlogs::init(
        Config::new()
            .endpoint(&url)
            .exporter(SpanOpeningExporter)
            .schedule_delay(Duration::from_millis(5)),
    )
    .unwrap();

    // The app's own HTTP call, with the same stack, inside its own span;
    // exports happen while that span is current on the app's thread.
    let client = reqwest::Client::new();
    let ping = format!("{url}/app/ping");
    let status = neatlogs::trace("app-call")
        .end_user_id("u_app")
        .instrument(async move {
            let r = client.post(&ping).body("hello").send().await.unwrap();
            let _http = neatlogs::span(SpanKind::Tool, "http.post").enter();
            r.status()
        })
        .await;
    assert!(status.is_success());
    {
        let _sync = neatlogs::trace("app-call-blocking").enter();
        // Exports run now, while this span is current here.
        assert!(tokio::task::block_in_place(neatlogs::flush));
        let blocking = std::thread::spawn({
            let ping = format!("{url}/app/ping");
            move || {
                reqwest::blocking::Client::new()
                    .post(ping)
                    .send()
                    .map(|r| r.status())
            }
        });
        assert!(blocking.join().unwrap().unwrap().is_success());
    }
    assert!(tokio::task::block_in_place(neatlogs::shutdown));

    let spans = receiver.accepted_spans();
    let names: Vec<&str> = spans.iter().map(|s| s.name.as_str()).collect();
    let mut app: Vec<&str> = names.iter().copied().filter(|n| *n != MARKER).collect();
    app.sort_unstable();
    assert_eq!(
        app,
        ["app-call", "app-call-blocking", "http.post"],
        "{names:?}"
    );
    let stats = neatlogs::stats();
    assert_eq!(
        stats.queued, 3,
        "only the app's spans were recorded: {stats:?}"
    );
    assert!(EXPORTER_CALLS.load(Ordering::SeqCst) >= 2);
    assert_eq!(EXPORTER_SPANS_RECORDED.load(Ordering::SeqCst), 0);
    let export_posts = receiver
        .requests()
        .iter()
        .filter(|r| r.path == "/v1/traces")
        .count();
    assert!(
        export_posts >= 2,
        "the exporter did send while app spans were open"
    );
    println!(
        "[report] exporter POSTs: {export_posts}; spans received: {}",
        spans.len()
    );
}
