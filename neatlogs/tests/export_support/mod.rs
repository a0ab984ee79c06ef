//! Shared by the `export_*` tests: a real OTLP/HTTP receiver on 127.0.0.1
//! (axum), wire-table helpers over the prost types, a log capture, and the
//! child-process runner that lets one test binary `init` many times (once
//! per child).
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::Read;
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;

/// A two-worker multi-thread runtime: tasks really move between threads.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Serve `app` on 127.0.0.1 (a free port) on the current tokio runtime.
pub async fn serve(app: axum::Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

/// `init` exporting to `receiver` quickly (a 20 ms schedule), with
/// `default_end_user` as the `init` default when given.
pub fn init_exporting_to(receiver: &Receiver, default_end_user: Option<&str>) {
    let mut config = neatlogs::Config::new()
        .api_key("k")
        .endpoint(receiver.url())
        .schedule_delay(Duration::from_millis(20));
    if let Some(user) = default_end_user {
        config = config.end_user_id(user);
    }
    neatlogs::init(config).unwrap();
}

/// Lower-case hex of an id's bytes, as the SDK prints ids.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The one span whose `url.path` is `path` (an HTTP request's root).
pub fn root_at<'a>(spans: &'a [Span], path: &str) -> &'a Span {
    let found: Vec<_> = spans
        .iter()
        .filter(|s| str_attr(&s.attributes, "url.path") == Some(path))
        .collect();
    assert_eq!(found.len(), 1, "one root for {path}");
    found[0]
}

/// The current end-user's id, `-` when there is none.
pub fn user_now() -> String {
    neatlogs::current_end_user().map_or_else(|| "-".to_owned(), |u| u.id().to_string())
}

// ------------------------------------------------- an application's auth

/// Who is calling, as the application's authentication decided.
#[derive(Clone, Debug)]
pub struct CurrentUser(pub String);

/// The application's authentication middleware: `x-user` names the caller;
/// without it, the request is anonymous.
pub async fn auth(mut request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let user = request
        .headers()
        .get("x-user")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if let Some(user) = user {
        request.extensions_mut().insert(CurrentUser(user));
    }
    next.run(request).await
}

// ---------------------------------------------------------------- receiver

/// What the receiver answers to one request.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
    pub content_type: Option<&'static str>,
    pub delay: Duration,
}

impl Reply {
    pub fn ok() -> Reply {
        Reply::status(200)
    }
    pub fn status(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            content_type: None,
            delay: Duration::ZERO,
        }
    }
    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Reply {
        self.headers.push((name, value.into()));
        self
    }
    pub fn json_body(mut self, body: serde_json::Value) -> Reply {
        self.body = body.to_string().into_bytes();
        self.content_type = Some("application/json");
        self
    }
    pub fn protobuf_body(mut self, body: Vec<u8>) -> Reply {
        self.body = body;
        self.content_type = Some("application/x-protobuf");
        self
    }
    pub fn delay(mut self, delay: Duration) -> Reply {
        self.delay = delay;
        self
    }
}

/// One request the receiver saw.
#[derive(Clone, Debug)]
pub struct Received {
    pub at: Instant,
    pub path: String,
    pub content_type: String,
    pub content_encoding: String,
    pub api_key: Option<String>,
    /// Every header, names in lower case.
    pub headers: Vec<(String, String)>,
    /// The body after gunzip (or zstd): protobuf or JSON bytes.
    pub raw: Vec<u8>,
    /// Decoded with the prost types (protobuf) or the serde mapping (JSON).
    pub request: Option<ExportTraceServiceRequest>,
    /// What the receiver answered.
    pub answered: u16,
}

impl Received {
    pub fn spans(&self) -> Vec<Span> {
        self.request.as_ref().map(all_spans).unwrap_or_default()
    }
}

type Policy = dyn Fn(usize, &Received) -> Reply + Send + Sync;

struct Shared {
    seen: Mutex<Vec<Received>>,
    /// Requests to `/v1/metrics` (the usage totals): answered 200, kept
    /// apart from the trace requests the tests count and answer.
    metrics: Mutex<Vec<Received>>,
    /// What `/v1/metrics` answers (200; 404 for a receiver of traces only).
    metrics_status: std::sync::atomic::AtomicU16,
    changed: Condvar,
    policy: Mutex<Arc<Policy>>,
}

/// An OTLP/HTTP receiver on 127.0.0.1, on its own thread and runtime (so it
/// works under any test, sync or async).
pub struct Receiver {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Receiver {
    /// A receiver that accepts everything.
    pub fn start() -> Receiver {
        Receiver::with_policy(|_, _| Reply::ok())
    }

    /// A receiver that answers request `n` (0-based, counting every request
    /// it saw) with `policy(n, &request)`.
    pub fn with_policy(
        policy: impl Fn(usize, &Received) -> Reply + Send + Sync + 'static,
    ) -> Receiver {
        let shared = Arc::new(Shared {
            seen: Mutex::new(Vec::new()),
            metrics: Mutex::new(Vec::new()),
            metrics_status: std::sync::atomic::AtomicU16::new(200),
            changed: Condvar::new(),
            policy: Mutex::new(Arc::new(policy)),
        });
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("local addr");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let app = axum::Router::new()
            .fallback(handle)
            .layer(DefaultBodyLimit::disable())
            .with_state(shared.clone());
        let thread = std::thread::Builder::new()
            .name("test-receiver".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .expect("receiver runtime");
                rt.block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                    let server = axum::serve(listener, app);
                    tokio::select! {
                        _ = server => {}
                        _ = stopped => {}
                    }
                });
                // Slow handlers still sleeping are abandoned, not awaited.
                rt.shutdown_background();
            })
            .expect("spawn receiver");
        Receiver {
            addr,
            shared,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT` (a base URL: the SDK appends `/v1/traces`).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn set_policy(&self, policy: impl Fn(usize, &Received) -> Reply + Send + Sync + 'static) {
        *self.shared.policy.lock().unwrap() = Arc::new(policy);
    }

    pub fn requests(&self) -> Vec<Received> {
        self.shared.seen.lock().unwrap().clone()
    }

    /// Answer `/v1/metrics` with `status` from now on (404: a receiver of
    /// traces only).
    pub fn set_metrics_status(&self, status: u16) {
        self.shared
            .metrics_status
            .store(status, std::sync::atomic::Ordering::Relaxed);
    }

    /// The `/v1/metrics` requests (usage totals), answered 200.
    pub fn metrics_requests(&self) -> Vec<Received> {
        self.shared.metrics.lock().unwrap().clone()
    }

    pub fn request_count(&self) -> usize {
        self.shared.seen.lock().unwrap().len()
    }

    /// Spans of every request answered 2xx, in arrival order.
    /// The application spans (no completion markers) of every request
    /// that decoded.
    pub fn app_spans(&self) -> Vec<Span> {
        let spans: Vec<_> = self
            .requests()
            .iter()
            .filter_map(|r| r.request.clone())
            .flat_map(|r| all_spans(&r))
            .collect();
        app_spans(&spans)
    }

    pub fn accepted_spans(&self) -> Vec<Span> {
        self.shared
            .seen
            .lock()
            .unwrap()
            .iter()
            .filter(|r| (200..300).contains(&r.answered))
            .flat_map(Received::spans)
            .collect()
    }

    /// Wait until at least `n` requests arrived; whether they did in time.
    pub fn wait_for_requests(&self, n: usize, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut seen = self.shared.seen.lock().unwrap();
        while seen.len() < n {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            seen = self
                .shared
                .changed
                .wait_timeout(seen, deadline - now)
                .unwrap()
                .0;
        }
        true
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let content_encoding = header(&headers, "content-encoding").unwrap_or_default();
    let raw = if content_encoding == "gzip" {
        let mut out = Vec::new();
        match flate2::read::GzDecoder::new(&body[..]).read_to_end(&mut out) {
            Ok(_) => out,
            Err(e) => return (StatusCode::BAD_REQUEST, format!("bad gzip: {e}")).into_response(),
        }
    } else if cfg!(feature = "zstd") && content_encoding == "zstd" {
        match unzstd(&body) {
            Ok(out) => out,
            Err(e) => return (StatusCode::BAD_REQUEST, format!("bad zstd: {e}")).into_response(),
        }
    } else {
        body.to_vec()
    };
    let content_type = header(&headers, "content-type").unwrap_or_default();
    let request = if content_type.starts_with("application/x-protobuf") {
        ExportTraceServiceRequest::decode(raw.as_slice()).ok()
    } else if content_type.starts_with("application/json") {
        serde_json::from_slice(&raw).ok()
    } else {
        None
    };
    let mut received = Received {
        at: Instant::now(),
        path: uri.path().to_owned(),
        content_type,
        content_encoding,
        api_key: header(&headers, "x-api-key"),
        headers: headers
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
            .collect(),
        raw,
        request,
        answered: 0,
    };
    if received.path.ends_with("/v1/metrics") {
        let status = shared
            .metrics_status
            .load(std::sync::atomic::Ordering::Relaxed);
        received.request = None;
        received.answered = status;
        shared.metrics.lock().unwrap().push(received);
        return StatusCode::from_u16(status)
            .unwrap_or(StatusCode::OK)
            .into_response();
    }
    let reply = {
        let policy = shared.policy.lock().unwrap().clone();
        let n = shared.seen.lock().unwrap().len();
        policy(n, &received)
    };
    received.answered = reply.status;
    {
        shared.seen.lock().unwrap().push(received);
        shared.changed.notify_all();
    }
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    let mut response = Response::builder().status(reply.status);
    for (name, value) in &reply.headers {
        response = response.header(*name, value.as_str());
    }
    if let Some(ct) = reply.content_type {
        response = response.header("content-type", ct);
    }
    response
        .body(axum::body::Body::from(reply.body))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

/// A zstd body decoded (feature `zstd`: the SDK's own libzstd).
#[cfg(feature = "zstd")]
fn unzstd(body: &[u8]) -> std::io::Result<Vec<u8>> {
    zstd::decode_all(body)
}

/// Without the `zstd` feature there is no decoder: nothing sends zstd.
#[cfg(not(feature = "zstd"))]
fn unzstd(_: &[u8]) -> std::io::Result<Vec<u8>> {
    Err(std::io::Error::other("built without the zstd feature"))
}

// ------------------------------------------------------------ wire helpers

pub fn all_spans(request: &ExportTraceServiceRequest) -> Vec<Span> {
    request
        .resource_spans
        .iter()
        .flat_map(|rs| rs.scope_spans.iter())
        .flat_map(|ss| ss.spans.iter().cloned())
        .collect()
}

pub fn attr<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a any_value::Value> {
    let mut found = attrs.iter().filter(|kv| kv.key == key);
    let first = found.next()?;
    assert!(found.next().is_none(), "attribute `{key}` appears twice");
    first
        .value
        .as_ref()
        .and_then(|v: &AnyValue| v.value.as_ref())
}

pub fn str_attr<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a str> {
    match attr(attrs, key)? {
        any_value::Value::StringValue(s) => Some(s),
        other => panic!("attribute `{key}` is not a string: {other:?}"),
    }
}

pub fn int_attr(attrs: &[KeyValue], key: &str) -> Option<i64> {
    match attr(attrs, key)? {
        any_value::Value::IntValue(i) => Some(*i),
        other => panic!("attribute `{key}` is not an int: {other:?}"),
    }
}

pub fn bool_attr(attrs: &[KeyValue], key: &str) -> Option<bool> {
    match attr(attrs, key)? {
        any_value::Value::BoolValue(b) => Some(*b),
        other => panic!("attribute `{key}` is not a bool: {other:?}"),
    }
}

pub fn str_list_attr(attrs: &[KeyValue], key: &str) -> Option<Vec<String>> {
    match attr(attrs, key)? {
        any_value::Value::ArrayValue(a) => Some(
            a.values
                .iter()
                .map(|v| match &v.value {
                    Some(any_value::Value::StringValue(s)) => s.clone(),
                    other => panic!("`{key}` holds a non-string: {other:?}"),
                })
                .collect(),
        ),
        other => panic!("attribute `{key}` is not an array: {other:?}"),
    }
}

pub const MARKER: &str = "neatlogs.trace.complete";

pub fn is_marker(span: &Span) -> bool {
    span.name == MARKER
}

/// Spans that are not completion markers.
pub fn app_spans(spans: &[Span]) -> Vec<Span> {
    spans.iter().filter(|s| !is_marker(s)).cloned().collect()
}

/// Span ids (hex) counted: an id seen twice means a duplicate.
pub fn id_counts(spans: &[Span]) -> HashMap<Vec<u8>, usize> {
    let mut counts = HashMap::new();
    for s in spans {
        *counts.entry(s.span_id.clone()).or_insert(0) += 1;
    }
    counts
}

// -------------------------------------------------------------- log capture

struct LogCapture {
    lines: Mutex<Vec<String>>,
}

impl log::Log for LogCapture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        if record.target().starts_with("neatlogs") {
            let line = format!("{} {}", record.level(), record.args());
            eprintln!("[log] {line}");
            self.lines.lock().unwrap().push(line);
        }
    }
    fn flush(&self) {}
}

static LOGS: std::sync::OnceLock<&'static LogCapture> = std::sync::OnceLock::new();

/// Capture `neatlogs` log lines of this process (install once, early).
pub fn capture_logs() {
    let capture: &'static LogCapture = LOGS.get_or_init(|| {
        Box::leak(Box::new(LogCapture {
            lines: Mutex::new(Vec::new()),
        }))
    });
    if log::set_logger(capture).is_ok() {
        log::set_max_level(log::LevelFilter::Debug);
    }
}

pub fn logs() -> Vec<String> {
    LOGS.get()
        .map(|c| c.lines.lock().unwrap().clone())
        .unwrap_or_default()
}

// ---------------------------------------------------------- child processes

const CHILD_VAR: &str = "NEATLOGS_TEST_CHILD";

/// Whether this process is the child running test `name`.
pub fn is_child(name: &str) -> bool {
    std::env::var(CHILD_VAR).is_ok_and(|v| v == name)
}

/// Run test `name` of this binary alone in a child process (so it can call
/// `neatlogs::init` with its own configuration), with `NEATLOGS_*` cleared
/// and `env` set. Panics with the child's output if it fails or runs longer
/// than `limit` (it is then killed: a hang is a failure, never a stuck CI).
pub fn run_child(name: &str, env: &[(&str, &str)], limit: Duration) {
    let exe = std::env::current_exe().expect("current exe");
    let mut cmd = Command::new(exe);
    cmd.args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_VAR, name)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, _) in std::env::vars() {
        if (k.starts_with("NEATLOGS_") || k.starts_with("OTEL_")) && k != CHILD_VAR {
            cmd.env_remove(k);
        }
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let started = Instant::now();
    let mut child = cmd.spawn().expect("spawn child test");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let out_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait child") {
            break Some(status);
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = out_reader.join().unwrap_or_default();
    let err = err_reader.join().unwrap_or_default();
    let ran = out.contains("1 passed");
    match status {
        Some(s) if s.success() && ran => {
            // Show the child's own report (figures printed by the test).
            for line in out.lines() {
                if let Some(i) = line.find("[report]") {
                    println!("{}", &line[i..]);
                }
            }
        }
        Some(s) => panic!("child `{name}` failed ({s}):\n--- stdout\n{out}\n--- stderr\n{err}"),
        None => panic!(
            "child `{name}` hung (killed after {limit:?}):\n--- stdout\n{out}\n--- stderr\n{err}"
        ),
    }
}

/// Resident memory of this process, in KiB (Linux).
pub fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The longest a child test may run before it counts as hung.
pub const CHILD_LIMIT: Duration = Duration::from_secs(90);

/// `true` in the child that runs test `name`; elsewhere, runs that child
/// (with `env`), asserts it passed, and returns `false`:
///
/// ```ignore
/// #[test]
/// fn my_test() {
///     if !support::in_child("my_test", &[]) { return; }
///     neatlogs::init(..);
/// }
/// ```
pub fn in_child(name: &str, env: &[(&str, &str)]) -> bool {
    if is_child(name) {
        return true;
    }
    run_child(name, env, CHILD_LIMIT);
    false
}

/// Whether a thread named `neatlogs-export` is still alive in this process.
pub fn export_thread_alive() -> bool {
    std::fs::read_dir("/proc/self/task")
        .map(|tasks| {
            tasks.flatten().any(|t| {
                std::fs::read_to_string(t.path().join("comm"))
                    .is_ok_and(|c| c.trim() == "neatlogs-export")
            })
        })
        .unwrap_or(false)
}

/// A local port with nothing listening (connections are refused).
pub fn dead_endpoint() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    format!("http://{addr}")
}
