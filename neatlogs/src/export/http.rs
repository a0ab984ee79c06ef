//! OTLP over HTTP: `POST {endpoint}/v1/traces`, gzip (or zstd, or plain)
//! bodies, `x-api-key`, retries with backoff, and batch splitting on `413`.
//!
//! It runs on the `neatlogs-export` thread with reqwest's blocking client,
//! which drives its own runtime on its own thread: the application's runtime
//! (multi-thread, current-thread, or none) is never entered, so there is no
//! "no reactor" panic and no way for export to wait on the application's
//! executor. The client is built on first use, on the export thread, for the
//! same reason.

use std::io::Read;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use reqwest::blocking::{Client, Response};
use reqwest::header::{HeaderName, HeaderValue, CONTENT_ENCODING, CONTENT_TYPE, RETRY_AFTER};
use reqwest::{StatusCode, Url};

use super::otlp::{OtlpEncoder, Protocol};
use super::pipeline::Counters;
use super::{Compression, ExportError, Exporter, Resource, Transport};
use crate::error::InitError;
use crate::record::SpanRecord;

/// The first retry waits about this long; each next one twice as long.
const BACKOFF_BASE: Duration = Duration::from_millis(100);
/// The longest wait between two attempts (without `Retry-After`).
const BACKOFF_MAX: Duration = Duration::from_secs(5);
/// How often a retry wait checks whether `shutdown` wants it to stop.
const SLEEP_SLICE: Duration = Duration::from_millis(25);
/// The most response body read for an error message or a partial success.
const MAX_RESPONSE_BYTES: u64 = 64 * 1024;
/// The most characters of a receiver's error message put in the log.
const MAX_MESSAGE_CHARS: usize = 512;

/// Turn a configured endpoint into the traces URL. `exact`: used as is
/// (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`). Otherwise a base URL, which gets
/// `/v1/traces` appended to its path (`https://host/api/public/otel` →
/// `https://host/api/public/otel/v1/traces`); a path that already ends in
/// `/v1/traces` is kept, and one that ends in another signal's path
/// (`/v1/logs`, `/v1/metrics`) is an error. `Err` says what is wrong.
pub(crate) fn traces_url(endpoint: &str, exact: bool) -> Result<Url, String> {
    let mut url = Url::parse(endpoint.trim())
        .map_err(|e| format!("not a URL ({e}); expected e.g. `https://host:4318`"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "the scheme must be http or https, not `{}`",
            url.scheme()
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("the URL has no host".to_owned());
    }
    url.set_fragment(None);
    if exact {
        return Ok(url);
    }
    let path = url.path().trim_end_matches('/').to_owned();
    if path.ends_with("/v1/traces") {
        url.set_path(&path);
    } else if path.ends_with("/v1/logs") || path.ends_with("/v1/metrics") {
        return Err(format!(
            "the path `{path}` is another signal's; give the base URL (`{}://{}`) or the traces URL ending in `/v1/traces`",
            url.scheme(),
            url.host_str().unwrap_or_default(),
        ));
    } else {
        url.set_path(&format!("{path}/v1/traces"));
    }
    Ok(url)
}

/// The metrics URL beside a traces URL: its `/v1/traces` made
/// `/v1/metrics`; `None` for a URL that does not end in `/v1/traces`.
pub(crate) fn metrics_url(traces: &str) -> Option<String> {
    let mut url = Url::parse(traces).ok()?;
    let path = url.path().strip_suffix("/v1/traces")?.to_owned();
    url.set_path(&format!("{path}/v1/metrics"));
    Some(url.to_string())
}

/// Sends batches to an OTLP/HTTP receiver. Made by `init`; see
/// [`Config::endpoint`](crate::Config::endpoint).
pub(crate) struct HttpExporter {
    url: Url,
    /// Every header sent (the API key, `Config::header`), values sensitive.
    headers: Vec<(HeaderName, HeaderValue)>,
    protocol: Protocol,
    compressor: Compressor,
    export_timeout: Duration,
    client: Option<Client>,
    shared: Arc<Counters>,
    encoder: OtlpEncoder,
}

/// How one request ended.
enum Sent {
    /// Accepted; the receiver may have rejected some spans (partial success).
    Accepted { rejected: u64, message: String },
    /// `413 Payload Too Large`.
    TooLarge,
    /// Not accepted, and trying again will not help (or there is no time
    /// left to).
    Failed(String),
    /// The receiver does not take this kind of request at this URL (404,
    /// 405, 415, 501): a receiver of traces only, asked for metrics.
    Unsupported(String),
}

/// What was lost from one (possibly split) batch.
struct Lost {
    spans: usize,
    message: String,
}

impl HttpExporter {
    pub(crate) fn new(
        url: &str,
        transport: &Transport,
        shared: Arc<Counters>,
    ) -> Result<Self, InitError> {
        let url = Url::parse(url).map_err(|e| InitError::InvalidEndpoint {
            url: url.to_owned(),
            reason: e.to_string(),
        })?;
        let headers = transport
            .headers
            .iter()
            .map(|(name, value)| {
                let invalid = |reason: &str| InitError::InvalidHeader {
                    name: name.clone(),
                    reason: reason.to_owned(),
                };
                let name = HeaderName::from_bytes(name.as_bytes())
                    .map_err(|_| invalid("not a valid HTTP header name"))?;
                let mut value = HeaderValue::from_str(value).map_err(|_| {
                    invalid("the value has characters not allowed in an HTTP header")
                })?;
                value.set_sensitive(true);
                Ok((name, value))
            })
            .collect::<Result<_, InitError>>()?;
        Ok(HttpExporter {
            url,
            headers,
            protocol: transport.protocol,
            compressor: Compressor::new(transport.compression),
            export_timeout: transport.export_timeout,
            client: None,
            shared,
            encoder: OtlpEncoder::new(),
        })
    }

    fn client(&mut self) -> Result<Client, String> {
        if let Some(c) = &self.client {
            return Ok(c.clone());
        }
        let client = Client::builder()
            .user_agent(concat!("neatlogs-rust/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(self.export_timeout.min(Duration::from_secs(10)))
            .timeout(None)
            .tls_backend_preconfigured(tls_config()?)
            .build()
            .map_err(|e| format!("could not build the HTTP client: {e}"))?;
        self.client = Some(client.clone());
        Ok(client)
    }

    /// The moment this export must be over: its own timeout, or earlier if
    /// `shutdown` is waiting.
    fn deadline(&self, own: Instant) -> Instant {
        self.shared.stop_at().map_or(own, |s| s.min(own))
    }

    fn body(&mut self, resource: &Resource, batch: &[SpanRecord]) -> Result<Vec<u8>, String> {
        let raw: &[u8] = match self.protocol {
            Protocol::HttpProtobuf => self.encoder.protobuf(resource, batch),
            Protocol::HttpJson => self.encoder.json(resource, batch).as_bytes(),
        };
        self.compressor.compress(raw)
    }
}

/// The zstd level of [`Compression::Zstd`]: the fast level -1 compresses
/// a batch of spans as well as levels 1 and 3 do (7.4 % of the protobuf,
/// where gzip's level 1 leaves 11.5 %), in ~12 % fewer instructions than
/// level 1 (~40 % fewer on a request of one trace) and about half of gzip's
/// (`benches/benches/compression.rs`).
#[cfg(feature = "zstd")]
const ZSTD_LEVEL: i32 = -1;

/// The gzip member header (no name, no time, unknown OS), as flate2 writes
/// it.
const GZIP_HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];

/// Compresses request bodies as configured. The compressor's state is made
/// on first use and kept, reset between bodies: making it again for each
/// request costs as much as compressing a request of one trace (a 4.5 KB
/// body takes half the instructions with gzip's state kept, 40 % fewer
/// with zstd's; a batch of 512 spans, 12 % fewer with gzip's).
struct Compressor {
    compression: Compression,
    deflate: Option<flate2::Compress>,
    #[cfg(feature = "zstd")]
    zstd: Option<zstd::bulk::Compressor<'static>>,
}

impl Compressor {
    fn new(compression: Compression) -> Compressor {
        Compressor {
            compression,
            deflate: None,
            #[cfg(feature = "zstd")]
            zstd: None,
        }
    }

    /// `raw`, compressed.
    fn compress(&mut self, raw: &[u8]) -> Result<Vec<u8>, String> {
        match self.compression {
            Compression::Gzip => {
                let deflate = self.deflate.get_or_insert_with(|| {
                    flate2::Compress::new(flate2::Compression::fast(), false)
                });
                gzip(deflate, raw).map_err(|e| format!("gzip: {e}"))
            }
            Compression::None => Ok(raw.to_vec()),
            #[cfg(feature = "zstd")]
            Compression::Zstd => {
                let context = match &mut self.zstd {
                    Some(context) => context,
                    None => self.zstd.insert(
                        zstd::bulk::Compressor::new(ZSTD_LEVEL)
                            .map_err(|e| format!("zstd: {e}"))?,
                    ),
                };
                context.compress(raw).map_err(|e| format!("zstd: {e}"))
            }
        }
    }

    /// [`compress`](Compressor::compress), without a copy when nothing is
    /// compressed.
    fn compress_owned(&mut self, raw: Vec<u8>) -> Result<Vec<u8>, String> {
        if self.compression == Compression::None {
            return Ok(raw);
        }
        self.compress(&raw)
    }

    /// The `Content-Encoding` of the bodies, if they are compressed.
    fn content_encoding(&self) -> Option<&'static str> {
        match self.compression {
            Compression::Gzip => Some("gzip"),
            Compression::None => None,
            #[cfg(feature = "zstd")]
            Compression::Zstd => Some("zstd"),
        }
    }
}

/// `raw` as one gzip member (RFC 1952), deflated by `deflate` (raw
/// deflate, reset first).
fn gzip(deflate: &mut flate2::Compress, raw: &[u8]) -> Result<Vec<u8>, flate2::CompressError> {
    deflate.reset();
    let mut out = Vec::with_capacity(raw.len() / 4 + 64);
    out.extend_from_slice(&GZIP_HEADER);
    loop {
        let read = usize::try_from(deflate.total_in()).map_or(raw.len(), |n| n.min(raw.len()));
        let status = deflate.compress_vec(&raw[read..], &mut out, flate2::FlushCompress::Finish)?;
        if status == flate2::Status::StreamEnd {
            break;
        }
        // Out of room: the body compressed worse than a quarter.
        out.reserve(out.capacity());
    }
    let mut crc = flate2::Crc::new();
    crc.update(raw);
    out.extend_from_slice(&crc.sum().to_le_bytes());
    // ISIZE: the length modulo 2^32.
    out.extend_from_slice(&(raw.len() as u32).to_le_bytes());
    Ok(out)
}

impl HttpExporter {
    /// Send `batch`, splitting it in halves for as long as the receiver
    /// answers `413`.
    fn send_records(
        &mut self,
        resource: &Resource,
        batch: &[SpanRecord],
        own_deadline: Instant,
    ) -> Result<(), Lost> {
        let lost_all = |message: String| Lost {
            spans: batch.len(),
            message,
        };
        let body = self.body(resource, batch).map_err(lost_all)?;
        match self.send_with_retries(&body, own_deadline) {
            Sent::Accepted { rejected: 0, .. } => Ok(()),
            Sent::Accepted { rejected, message } => {
                // Rejections count the completion markers too; never report
                // more lost than were sent.
                let spans = usize::try_from(rejected).unwrap_or(usize::MAX);
                Err(Lost {
                    spans: spans.min(batch.len()),
                    message: format!("the receiver rejected {rejected} spans: {message}"),
                })
            }
            Sent::TooLarge if batch.len() > 1 => {
                let (left, right) = batch.split_at(batch.len() / 2);
                log::debug!(
                    "neatlogs: 413 for {} spans; sending {} and {}",
                    batch.len(),
                    left.len(),
                    right.len()
                );
                let a = self.send_records(resource, left, own_deadline);
                let b = self.send_records(resource, right, own_deadline);
                match (a, b) {
                    (Ok(()), Ok(())) => Ok(()),
                    (Err(e), Ok(())) | (Ok(()), Err(e)) => Err(e),
                    (Err(a), Err(b)) => Err(Lost {
                        spans: a.spans + b.spans,
                        message: a.message,
                    }),
                }
            }
            Sent::TooLarge => Err(lost_all(format!(
                "the receiver answered 413 Payload Too Large for a single span ({} bytes compressed)",
                body.len()
            ))),
            Sent::Failed(message) | Sent::Unsupported(message) => Err(lost_all(message)),
        }
    }

    fn send_with_retries(&mut self, body: &[u8], own_deadline: Instant) -> Sent {
        let client = match self.client() {
            Ok(c) => c,
            Err(e) => return Sent::Failed(e),
        };
        let mut attempt: u32 = 0;
        loop {
            let deadline = self.deadline(own_deadline);
            let now = Instant::now();
            if now >= deadline {
                return Sent::Failed(self.out_of_time(attempt, "before it could be sent"));
            }
            let result = self.post(&client, body, deadline - now);
            let (why, retry_after) = match result {
                Ok(resp) => match classify(resp) {
                    Answer::Done(sent) => return sent,
                    Answer::Retry { why, after } => (why, after),
                },
                Err(e) if e.is_builder() => return Sent::Failed(format!("bad request: {e}")),
                // A connect timeout is a connection error (retried while
                // time is left); any other timeout is the deadline itself.
                Err(e) if e.is_timeout() && !e.is_connect() => {
                    return Sent::Failed(self.out_of_time(attempt, "waiting for the receiver"))
                }
                Err(e) => (
                    format!("could not reach {}: {}", self.url, error_chain(&e)),
                    None,
                ),
            };
            let deadline = self.deadline(own_deadline);
            let wait = retry_after.unwrap_or_else(|| backoff(attempt));
            if Instant::now() + wait >= deadline {
                let left = deadline.saturating_duration_since(Instant::now());
                return Sent::Failed(format!(
                    "{why}; giving up after {} attempt(s): the next retry (in {wait:?}) would end past the export deadline ({left:?} left)",
                    attempt + 1
                ));
            }
            log::debug!("neatlogs: {why}; retrying in {wait:?}");
            if !sleep_until(Instant::now() + wait, || self.deadline(own_deadline)) {
                return Sent::Failed(format!(
                    "{why}; shutdown stopped the retry after {} attempt(s)",
                    attempt + 1
                ));
            }
            self.shared.add_retry();
            attempt += 1;
        }
    }

    fn out_of_time(&self, attempts: u32, when: &str) -> String {
        let by_shutdown = self
            .shared
            .stop_at()
            .is_some_and(|s| s <= Instant::now() + Duration::from_millis(1));
        if by_shutdown {
            format!("shutdown's timeout ran out {when} (after {attempts} retries)")
        } else {
            format!(
                "the export timeout ({:?}) ran out {when} (after {attempts} retries)",
                self.export_timeout
            )
        }
    }

    fn post(&self, client: &Client, body: &[u8], timeout: Duration) -> reqwest::Result<Response> {
        let mut request = client
            .post(self.url.clone())
            .timeout(timeout)
            .header(CONTENT_TYPE, self.protocol.content_type())
            .body(body.to_vec());
        if let Some(encoding) = self.compressor.content_encoding() {
            request = request.header(CONTENT_ENCODING, encoding);
        }
        for (name, value) in &self.headers {
            request = request.header(name.clone(), value.clone());
        }
        request.send()
    }
}

use crate::export::pipeline::UsageError;

impl crate::export::pipeline::UsageExporter for HttpExporter {
    fn export_usage(
        &mut self,
        resource: &Resource,
        usage: &crate::usage::UsageTable,
    ) -> Result<(), UsageError> {
        let series = usage.snapshot();
        let raw = super::otlp::metrics::encode(
            resource,
            &series,
            usage.start_unix_nanos,
            crate::usage::unix_nanos(),
        );
        let body = self
            .compressor
            .compress_owned(raw)
            .map_err(|e| UsageError::Failed(ExportError::new(e)))?;
        let deadline = Instant::now() + self.export_timeout;
        match self.send_with_retries(&body, deadline) {
            Sent::Accepted { .. } => Ok(()),
            Sent::TooLarge => Err(UsageError::Failed(ExportError::new(format!(
                "the receiver answered 413 Payload Too Large for the usage report ({} series)",
                series.len()
            )))),
            Sent::Failed(message) => Err(UsageError::Failed(ExportError::new(message))),
            Sent::Unsupported(message) => {
                Err(UsageError::Unsupported(format!("{}: {message}", self.url)))
            }
        }
    }
}

impl Exporter for HttpExporter {
    fn export(&mut self, resource: &Resource, batch: &[SpanRecord]) -> Result<(), ExportError> {
        if batch.is_empty() {
            return Ok(());
        }
        let deadline = Instant::now() + self.export_timeout;
        self.send_records(resource, batch, deadline)
            .map_err(|lost| ExportError::partial(lost.message, lost.spans))
    }
}

enum Answer {
    Done(Sent),
    Retry {
        why: String,
        after: Option<Duration>,
    },
}

fn classify(resp: Response) -> Answer {
    let status = resp.status();
    if status.is_success() {
        let (rejected, message) = partial_success(resp);
        return Answer::Done(Sent::Accepted { rejected, message });
    }
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        return Answer::Done(Sent::TooLarge);
    }
    let retryable = matches!(
        status,
        StatusCode::TOO_MANY_REQUESTS
            | StatusCode::INTERNAL_SERVER_ERROR
            | StatusCode::BAD_GATEWAY
            | StatusCode::SERVICE_UNAVAILABLE
            | StatusCode::GATEWAY_TIMEOUT
    );
    if retryable {
        let after = resp
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, SystemTime::now()));
        return Answer::Retry {
            why: format!("the receiver answered {status}"),
            after,
        };
    }
    let unsupported = matches!(
        status,
        StatusCode::NOT_FOUND
            | StatusCode::METHOD_NOT_ALLOWED
            | StatusCode::UNSUPPORTED_MEDIA_TYPE
            | StatusCode::NOT_IMPLEMENTED
    );
    let message = error_message(resp);
    if unsupported {
        return Answer::Done(Sent::Unsupported(format!(
            "the receiver answered {status}: {message}"
        )));
    }
    Answer::Done(Sent::Failed(format!(
        "the receiver answered {status} (not retried): {message}"
    )))
}

/// `Retry-After` as delay-seconds or an HTTP date (then the wait from `now`).
fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Exponential backoff with jitter: attempt `n` waits between half and all of
/// `BACKOFF_BASE * 2^n`, capped at `BACKOFF_MAX`, so that many processes
/// hitting one receiver after an outage do not retry in lockstep.
fn backoff(attempt: u32) -> Duration {
    let full = BACKOFF_BASE
        .saturating_mul(1u32 << attempt.min(16))
        .min(BACKOFF_MAX);
    let half = full / 2;
    let nanos = u64::try_from(half.as_nanos()).unwrap_or(u64::MAX).max(1);
    half + Duration::from_nanos(crate::id::next_u64() % nanos)
}

/// Sleep until `until`, waking regularly to check the deadline (which
/// `shutdown` can bring forward). Whether the whole wait happened: a wait
/// that can no longer end before the deadline stops at once.
fn sleep_until(until: Instant, deadline: impl Fn() -> Instant) -> bool {
    loop {
        let now = Instant::now();
        if now >= until {
            return true;
        }
        if until > deadline() {
            return false;
        }
        std::thread::sleep((until - now).min(SLEEP_SLICE));
    }
}

fn read_body(resp: Response) -> (Option<String>, Vec<u8>) {
    let content_type = resp
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_ascii_lowercase);
    let mut body = Vec::new();
    let _ = resp.take(MAX_RESPONSE_BYTES).read_to_end(&mut body);
    (content_type, body)
}

/// Just enough protobuf reading for the two messages a receiver answers
/// with: `google.rpc.Status` and `ExportTraceServiceResponse`.
mod pb {
    /// A field's value, as far as these messages need it.
    pub(super) enum Field<'a> {
        Varint(u64),
        Bytes(&'a [u8]),
        Fixed,
    }

    /// Calls `f` with every field of the message in `buf`, in order; `None`
    /// if the message is malformed.
    pub(super) fn for_each_field<'a>(
        mut buf: &'a [u8],
        mut f: impl FnMut(u64, Field<'a>),
    ) -> Option<()> {
        while !buf.is_empty() {
            let key = varint(&mut buf)?;
            let field = key >> 3;
            if field == 0 {
                return None;
            }
            let value = match key & 7 {
                0 => Field::Varint(varint(&mut buf)?),
                1 => {
                    buf = buf.get(8..)?;
                    Field::Fixed
                }
                2 => {
                    let len = usize::try_from(varint(&mut buf)?).ok()?;
                    let bytes = buf.get(..len)?;
                    buf = &buf[len..];
                    Field::Bytes(bytes)
                }
                5 => {
                    buf = buf.get(4..)?;
                    Field::Fixed
                }
                // Groups: not in these messages.
                _ => return None,
            };
            f(field, value);
        }
        Some(())
    }

    fn varint(buf: &mut &[u8]) -> Option<u64> {
        let mut v = 0u64;
        for i in 0..10 {
            let (&b, rest) = buf.split_first()?;
            *buf = rest;
            v |= u64::from(b & 0x7f) << (7 * i);
            if b < 0x80 {
                return Some(v);
            }
        }
        None
    }

    /// `google.rpc.Status.message` (field 2).
    pub(super) fn rpc_status_message(body: &[u8]) -> Option<String> {
        let mut message = None;
        for_each_field(body, |field, value| {
            if let (2, Field::Bytes(b)) = (field, value) {
                message = Some(b);
            }
        })?;
        String::from_utf8(message?.to_vec()).ok()
    }

    /// `ExportTraceServiceResponse.partial_success` (field 1):
    /// `rejected_spans` (field 1) and `error_message` (field 2).
    pub(super) fn partial_success(body: &[u8]) -> Option<(i64, String)> {
        let (mut rejected, mut message) = (0i64, &[][..]);
        let mut inner_ok = Some(());
        for_each_field(body, |field, value| {
            if let (1, Field::Bytes(partial)) = (field, value) {
                inner_ok = inner_ok.and(for_each_field(partial, |field, value| {
                    match (field, value) {
                        (1, Field::Varint(v)) => rejected = v as i64,
                        (2, Field::Bytes(b)) => message = b,
                        _ => {}
                    }
                }));
            }
        })?;
        inner_ok?;
        Some((rejected, String::from_utf8(message.to_vec()).ok()?))
    }
}

fn truncate(mut s: String) -> String {
    if let Some((i, _)) = s.char_indices().nth(MAX_MESSAGE_CHARS) {
        s.truncate(i);
        s.push('…');
    }
    s
}

/// The message a receiver put in its error response: `google.rpc.Status`
/// (protobuf or JSON), a JSON object with `message` or `error`, or text.
fn error_message(resp: Response) -> String {
    let (content_type, body) = read_body(resp);
    let ct = content_type.unwrap_or_default();
    if body.is_empty() {
        return "(empty response body)".to_owned();
    }
    if ct.contains("protobuf") {
        if let Some(message) = pb::rpc_status_message(&body) {
            if !message.is_empty() {
                return truncate(message);
            }
        }
    }
    if let Ok(serde_json::Value::Object(map)) = serde_json::from_slice(&body) {
        for key in ["message", "error", "detail"] {
            match map.get(key) {
                Some(serde_json::Value::String(s)) => return truncate(s.clone()),
                Some(serde_json::Value::Object(inner)) => {
                    if let Some(serde_json::Value::String(s)) = inner.get("message") {
                        return truncate(s.clone());
                    }
                }
                _ => {}
            }
        }
    }
    truncate(String::from_utf8_lossy(&body).trim().to_owned())
}

/// The `partial_success` of an `ExportTraceServiceResponse`, if any.
fn partial_success(resp: Response) -> (u64, String) {
    let (content_type, body) = read_body(resp);
    if body.is_empty() {
        return (0, String::new());
    }
    let ct = content_type.unwrap_or_default();
    let (rejected, message) = if ct.contains("json") {
        // int64 is a string in OTLP JSON; accept a number too.
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        let partial = &json["partialSuccess"];
        let rejected = match &partial["rejectedSpans"] {
            serde_json::Value::String(s) => s.parse().unwrap_or(0),
            v => v.as_i64().unwrap_or(0),
        };
        let message = partial["errorMessage"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        (rejected, message)
    } else if ct.contains("protobuf") {
        pb::partial_success(&body).unwrap_or_default()
    } else {
        (0, String::new())
    };
    if rejected > 0 {
        return (u64::try_from(rejected).unwrap_or(0), truncate(message));
    }
    if !message.is_empty() {
        log::warn!(
            "neatlogs: the receiver accepted the spans with a warning: {}",
            truncate(message)
        );
    }
    (0, String::new())
}

/// The exporter's TLS, as reqwest 0.12's `rustls-tls` built it (reqwest
/// 0.13's own would trust the system's roots instead): Mozilla's roots from
/// webpki-roots, TLS 1.2 and 1.3, HTTP/1.1 by ALPN, and the process's
/// installed rustls provider, else aws-lc-rs (reqwest 0.13's fallback too).
fn tls_config() -> Result<rustls::ClientConfig, String> {
    let provider = rustls::crypto::CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider()));
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("could not build the HTTP client: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tls)
}

fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bodies of every size through one kept compressor: each decodes to
    /// itself (the state is reset between bodies), including one that does
    /// not compress and outgrows the first guess of the output's size.
    #[test]
    fn a_kept_compressor_round_trips_every_body() {
        let mut noise = Vec::with_capacity(300_000);
        let mut x = 0x2545_f491_4f6c_dd1d_u64;
        while noise.len() < 300_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            noise.extend_from_slice(&x.to_le_bytes());
        }
        let spans = b"{\"name\":\"retrieve\",\"kind\":\"TOOL\"}".repeat(5_000);
        let bodies: [&[u8]; 4] = [b"", b"a", &noise, &spans];
        let mut compressors = vec![
            (Compressor::new(Compression::Gzip), Some("gzip")),
            (Compressor::new(Compression::None), None),
        ];
        #[cfg(feature = "zstd")]
        compressors.push((Compressor::new(Compression::Zstd), Some("zstd")));
        for (compressor, encoding) in &mut compressors {
            assert_eq!(compressor.content_encoding(), *encoding);
            for _round in 0..2 {
                for body in bodies {
                    let sent = compressor.compress(body).unwrap();
                    let decoded = match *encoding {
                        Some("gzip") => {
                            let mut out = Vec::new();
                            flate2::read::MultiGzDecoder::new(&sent[..])
                                .read_to_end(&mut out)
                                .unwrap();
                            out
                        }
                        #[cfg(feature = "zstd")]
                        Some("zstd") => zstd::decode_all(&sent[..]).unwrap(),
                        _ => sent.clone(),
                    };
                    assert_eq!(decoded, body, "{encoding:?}, {} bytes", body.len());
                    if body.len() == spans.len() && encoding.is_some() {
                        assert!(sent.len() < body.len() / 20, "{encoding:?} compresses");
                    }
                }
            }
        }
    }

    #[test]
    fn responses_read_as_prost_writes_them() {
        use opentelemetry_proto::tonic::collector::trace::v1::{
            ExportTracePartialSuccess, ExportTraceServiceResponse,
        };
        use prost::Message as _;

        #[derive(Clone, PartialEq, prost::Message)]
        struct RpcStatus {
            #[prost(int32, tag = "1")]
            code: i32,
            #[prost(string, tag = "2")]
            message: String,
            #[prost(bytes = "vec", repeated, tag = "3")]
            details: Vec<Vec<u8>>,
        }
        let status = RpcStatus {
            code: -3,
            message: "bad span é".into(),
            details: vec![vec![1, 2, 3]],
        };
        assert_eq!(
            pb::rpc_status_message(&status.encode_to_vec()).as_deref(),
            Some("bad span é")
        );
        assert_eq!(pb::rpc_status_message(&[]).as_deref(), None);
        assert_eq!(
            pb::rpc_status_message(&[0x12, 0x05, b'a']),
            None,
            "truncated"
        );

        for (rejected, message) in [(0, ""), (7, "quota"), (i64::MAX, "x"), (-1, "neg")] {
            let response = ExportTraceServiceResponse {
                partial_success: Some(ExportTracePartialSuccess {
                    rejected_spans: rejected,
                    error_message: message.into(),
                }),
            };
            assert_eq!(
                pb::partial_success(&response.encode_to_vec()),
                Some((rejected, message.to_owned()))
            );
        }
        assert_eq!(pb::partial_success(&[]), Some((0, String::new())));
        assert_eq!(pb::partial_success(&[0x0a, 0x02, 0x08]), None, "truncated");
        // unknown fields of every wire type are skipped
        let mut body = vec![
            0x19, 1, 2, 3, 4, 5, 6, 7, 8, 0x25, 1, 2, 3, 4, 0x20, 0x96, 0x01,
        ];
        body.extend(
            ExportTraceServiceResponse {
                partial_success: Some(ExportTracePartialSuccess {
                    rejected_spans: 2,
                    error_message: "m".into(),
                }),
            }
            .encode_to_vec(),
        );
        assert_eq!(pb::partial_success(&body), Some((2, "m".to_owned())));
    }

    fn url(s: &str) -> Result<String, String> {
        traces_url(s, false).map(|u| u.to_string())
    }

    #[test]
    fn endpoint_normalisation() {
        assert_eq!(
            url("http://127.0.0.1:4318").unwrap(),
            "http://127.0.0.1:4318/v1/traces"
        );
        assert_eq!(
            url("https://ingest.example.com/").unwrap(),
            "https://ingest.example.com/v1/traces"
        );
        assert_eq!(url("https://h/v1/traces").unwrap(), "https://h/v1/traces");
        assert_eq!(
            url("https://h/otlp/v1/traces/").unwrap(),
            "https://h/otlp/v1/traces"
        );
        // A base path is kept (Langfuse's OTLP endpoint).
        assert_eq!(
            url("https://cloud.langfuse.com/api/public/otel").unwrap(),
            "https://cloud.langfuse.com/api/public/otel/v1/traces"
        );
        let e = url("https://h/v1/logs").unwrap_err();
        assert!(e.contains("/v1/logs") && e.contains("/v1/traces"), "{e}");
        assert!(url("ftp://h").unwrap_err().contains("scheme"));
        assert!(url("not a url").unwrap_err().contains("not a URL"));
        // Exact: as given.
        assert_eq!(
            traces_url("http://h:4318/custom", true).unwrap().as_str(),
            "http://h:4318/custom"
        );
    }

    #[test]
    fn retry_after_forms() {
        // A fixed "now", on a whole second (HTTP dates have no fractions).
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_780_000_000);
        assert_eq!(parse_retry_after(" 3 ", now), Some(Duration::from_secs(3)));
        let past = httpdate::fmt_http_date(now - Duration::from_secs(60));
        assert_eq!(parse_retry_after(&past, now), Some(Duration::ZERO));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(120));
        assert_eq!(
            parse_retry_after(&later, now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn backoff_grows_with_jitter_and_is_capped() {
        for attempt in 0..40 {
            let full = BACKOFF_BASE
                .saturating_mul(1 << attempt.min(16))
                .min(BACKOFF_MAX);
            let d = backoff(attempt);
            assert!(d >= full / 2 && d <= full, "{attempt}: {d:?}");
        }
    }
}
