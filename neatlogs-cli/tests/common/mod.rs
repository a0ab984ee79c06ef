//! Helpers shared by the integration tests: OTLP requests in the shape the
//! neatlogs SDK sends (built with the `opentelemetry-proto` types), and a
//! collector started in-process on a free loopback port.
#![allow(dead_code)]

pub mod filters;

use std::net::SocketAddr;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{
    any_value, AnyValue, ArrayValue, InstrumentationScope, KeyValue,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{
    status::StatusCode, ResourceSpans, ScopeSpans, Span, Status,
};

/// A string attribute.
pub fn s(key: &str, value: &str) -> KeyValue {
    kv(key, any_value::Value::StringValue(value.to_owned()))
}

/// An integer attribute.
pub fn i(key: &str, value: i64) -> KeyValue {
    kv(key, any_value::Value::IntValue(value))
}

/// A boolean attribute.
pub fn b(key: &str, value: bool) -> KeyValue {
    kv(key, any_value::Value::BoolValue(value))
}

/// A list-of-strings attribute.
pub fn list(key: &str, values: &[&str]) -> KeyValue {
    kv(
        key,
        any_value::Value::ArrayValue(ArrayValue {
            values: values
                .iter()
                .map(|v| AnyValue {
                    value: Some(any_value::Value::StringValue((*v).to_owned())),
                })
                .collect(),
        }),
    )
}

fn kv(key: &str, value: any_value::Value) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue { value: Some(value) }),
        ..Default::default()
    }
}

/// A 16-byte trace id from a number.
pub fn trace_id(n: u64) -> Vec<u8> {
    let mut id = vec![0xab; 8];
    id.extend_from_slice(&n.to_be_bytes());
    id
}

/// The hex form of [`trace_id`].
pub fn trace_hex(n: u64) -> String {
    trace_id(n).iter().map(|b| format!("{b:02x}")).collect()
}

/// An 8-byte span id from a number.
pub fn span_id(n: u64) -> Vec<u8> {
    (n | 1 << 63).to_be_bytes().to_vec()
}

/// Base time of the test data: 2026-05-01T12:00:00Z.
pub const T0: u64 = 1_777_636_800_000_000_000;
/// One millisecond in ns.
pub const MS: u64 = 1_000_000;

/// The resource the SDK writes (operator in `user.id`).
pub fn sdk_resource(workflow: &str, operator: Option<&str>) -> Resource {
    let mut attributes = vec![
        s("service.name", workflow),
        s("neatlogs.workflow_name", workflow),
        s("telemetry.sdk.name", "neatlogs"),
        s("telemetry.sdk.language", "rust"),
        s("telemetry.sdk.version", "0.1.0"),
    ];
    if let Some(op) = operator {
        attributes.push(s("user.id", op));
    }
    Resource {
        attributes,
        ..Default::default()
    }
}

/// One SDK-shaped span.
// One argument per span field keeps the test data readable as a table.
#[allow(clippy::too_many_arguments)]
pub fn span(
    trace: u64,
    id: u64,
    parent: Option<u64>,
    name: &str,
    kind: &str,
    start_ms: u64,
    duration_ms: u64,
    mut attributes: Vec<KeyValue>,
) -> Span {
    let mut all = vec![
        s("openinference.span.kind", kind),
        s("neatlogs.span.kind", &kind.to_lowercase()),
        b("neatlogs.internal", true),
    ];
    all.append(&mut attributes);
    Span {
        trace_id: trace_id(trace),
        span_id: span_id(id),
        parent_span_id: parent.map(span_id).unwrap_or_default(),
        flags: 0x101,
        name: name.to_owned(),
        kind: 1,
        start_time_unix_nano: T0 + start_ms * MS,
        end_time_unix_nano: T0 + (start_ms + duration_ms) * MS,
        attributes: all,
        ..Default::default()
    }
}

/// Marks a span failed.
pub fn failed(mut span: Span, message: &str) -> Span {
    span.status = Some(Status {
        code: StatusCode::Error as i32,
        message: message.to_owned(),
    });
    span
}

/// The `neatlogs.trace.complete` marker the SDK sends after a root.
pub fn marker(root: &Span) -> Span {
    let mut id = root.span_id.clone();
    id[7] ^= 0x5a;
    Span {
        trace_id: root.trace_id.clone(),
        span_id: id,
        parent_span_id: root.span_id.clone(),
        flags: 0x101,
        name: "neatlogs.trace.complete".to_owned(),
        kind: 1,
        start_time_unix_nano: root.end_time_unix_nano,
        end_time_unix_nano: root.end_time_unix_nano,
        attributes: vec![
            b("neatlogs.trace.complete", true),
            s("neatlogs.span.kind", "Neatlogs.INTERNAL"),
            b("neatlogs.internal", true),
        ],
        ..Default::default()
    }
}

/// Root attributes for an end-user, as the SDK writes them.
pub fn identity(end_user: &str, metadata: Option<&str>, session: Option<&str>) -> Vec<KeyValue> {
    let mut out = vec![
        s("neatlogs.end_user.id", end_user),
        s("enduser.id", end_user),
    ];
    if let Some(m) = metadata {
        out.push(s("neatlogs.end_user.metadata", m));
    }
    if let Some(session) = session {
        out.push(s("neatlogs.session.id", session));
    }
    out
}

/// An LLM span's attributes.
pub fn llm(model: &str, input: i64, output: i64) -> Vec<KeyValue> {
    vec![
        s("gen_ai.request.model", model),
        i("gen_ai.usage.input_tokens", input),
        i("gen_ai.usage.output_tokens", output),
        s("input.value", "hello"),
        s("output.value", "hi there"),
    ]
}

/// One request: one resource, one scope, these spans.
pub fn request(resource: Resource, spans: Vec<Span>) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(resource),
            scope_spans: vec![ScopeSpans {
                scope: Some(InstrumentationScope {
                    name: "neatlogs".to_owned(),
                    version: "0.1.0".to_owned(),
                    ..Default::default()
                }),
                spans,
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    }
}

/// A collector running in-process on a free loopback port, on its own
/// runtime thread. Dropping it stops the server.
pub struct TestServer {
    pub addr: SocketAddr,
    pub dir: tempfile::TempDir,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TestServer {
    pub fn start(api_key: Option<&str>) -> TestServer {
        TestServer::start_with(api_key, neatlogs_cli::server::Limits::default())
    }

    /// A server with these limits, on the collector's own connection loop.
    pub fn start_with(api_key: Option<&str>, limits: neatlogs_cli::server::Limits) -> TestServer {
        let key = api_key.map(str::to_owned);
        let ingest = limits.ingest.clone();
        TestServer::start_app(limits.connections, move |db| {
            neatlogs_cli::server::router_with_limits(db, key, &ingest).expect("router")
        })
    }

    /// A collector serving the routes `app` builds over the store at the
    /// path it is given, within these connection limits.
    pub fn start_app(
        connections: neatlogs_cli::server::ConnectionLimits,
        app: impl FnOnce(&std::path::Path) -> axum::Router,
    ) -> TestServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("neatlogs.db");
        let app = app(&db);
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (shutdown_tx, shutdown_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind");
                addr_tx
                    .send(listener.local_addr().expect("addr"))
                    .expect("send addr");
                let shutdown = async {
                    let _ = shutdown_rx.await;
                };
                neatlogs_cli::server::serve_on(listener, app, &connections, shutdown).await;
            });
        });
        let addr = addr_rx.recv().expect("server address");
        TestServer {
            addr,
            dir,
            shutdown: Some(shutdown_tx),
            thread: Some(thread),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn db(&self) -> std::path::PathBuf {
        self.dir.path().join("neatlogs.db")
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// An HTTP agent that returns 4xx/5xx responses instead of errors.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

/// POSTs a body; returns the status and the body as text (lossy).
pub fn post(url: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, String) {
    let mut req = agent().post(url);
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let mut resp = req.send(body).expect("request sent");
    let status = resp.status().as_u16();
    let bytes = resp
        .body_mut()
        .with_config()
        .limit(64 * 1024 * 1024)
        .read_to_vec()
        .unwrap_or_default();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

/// GETs a URL; returns the status and the body.
pub fn get(url: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let mut req = agent().get(url);
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let mut resp = req.call().expect("request sent");
    let status = resp.status().as_u16();
    let text = resp.body_mut().read_to_string().unwrap_or_default();
    (status, text)
}

/// The protobuf encoding of a request.
pub fn protobuf(request: &ExportTraceServiceRequest) -> Vec<u8> {
    use prost::Message;
    request.encode_to_vec()
}
