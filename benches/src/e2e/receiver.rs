//! What the OTLP receiver (`otlp_receiver`) counts, how it decodes a request,
//! and how a sender asks it for its counts.
//!
//! The receiver answers `GET /stats` with [`ReceiverStats`] as JSON; the
//! counts are cumulative since it started, so a sender reads them before and
//! after its run and keeps the difference ([`ReceiverStats::since`]). Every
//! request is counted before it is answered, so once a stack's flush or
//! shutdown has returned, everything it delivered is in the counts.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;
use serde::{Deserialize, Serialize};

/// The name of the span neatlogs adds to every trace when its root ends (its
/// wire contract's completion marker, `neatlogs.trace.complete`). It is not
/// one of the spans the application opened, so the spans received are
/// compared with the spans produced without it.
pub const COMPLETION_MARKER: &str = "neatlogs.trace.complete";

/// The receiver's counts, as `GET /stats` returns them (JSON).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiverStats {
    /// `POST /v1/traces` requests accepted (answered 200).
    pub requests: u64,
    /// … of which had a gzip body.
    pub gzip_requests: u64,
    /// … of which had a zstd body.
    #[serde(default)]
    pub zstd_requests: u64,
    /// Requests answered with an error (unsupported encoding or content
    /// type, a body that is not gzip or zstd, or not an
    /// `ExportTraceServiceRequest`).
    pub rejected_requests: u64,
    /// Spans in the accepted requests, completion markers included.
    pub spans: u64,
    /// … of which were neatlogs completion markers ([`COMPLETION_MARKER`]).
    pub marker_spans: u64,
    /// Request bodies as they came over the connection (compressed when the
    /// request was), accepted requests only.
    pub wire_bytes: u64,
    /// The same bodies as protobuf, after decompression.
    pub decoded_bytes: u64,
    /// CPU time (user + system) of the receiver process, in nanoseconds.
    pub cpu_ns: u64,
}

impl ReceiverStats {
    /// The counts of what arrived between `earlier` and `self`.
    pub fn since(&self, earlier: &ReceiverStats) -> ReceiverStats {
        ReceiverStats {
            requests: self.requests.saturating_sub(earlier.requests),
            gzip_requests: self.gzip_requests.saturating_sub(earlier.gzip_requests),
            zstd_requests: self.zstd_requests.saturating_sub(earlier.zstd_requests),
            rejected_requests: self
                .rejected_requests
                .saturating_sub(earlier.rejected_requests),
            spans: self.spans.saturating_sub(earlier.spans),
            marker_spans: self.marker_spans.saturating_sub(earlier.marker_spans),
            wire_bytes: self.wire_bytes.saturating_sub(earlier.wire_bytes),
            decoded_bytes: self.decoded_bytes.saturating_sub(earlier.decoded_bytes),
            cpu_ns: self.cpu_ns.saturating_sub(earlier.cpu_ns),
        }
    }

    /// Spans received that the application opened (markers left out).
    pub fn application_spans(&self) -> u64 {
        self.spans.saturating_sub(self.marker_spans)
    }
}

/// Why a request was refused.
#[derive(Debug)]
pub enum Rejected {
    /// A `Content-Encoding` other than gzip or zstd (or none).
    Encoding(String),
    /// A content type other than protobuf.
    ContentType(String),
    /// The body is not valid gzip.
    Gzip(io::Error),
    /// The body is not valid zstd.
    Zstd(io::Error),
    /// The body is not an `ExportTraceServiceRequest`.
    Protobuf(prost::DecodeError),
}

impl Rejected {
    /// The HTTP status the receiver answers with.
    pub fn status(&self) -> u16 {
        match self {
            Rejected::Encoding(_) | Rejected::ContentType(_) => 415,
            Rejected::Gzip(_) | Rejected::Zstd(_) | Rejected::Protobuf(_) => 400,
        }
    }
}

impl std::fmt::Display for Rejected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Rejected::Encoding(e) => {
                write!(
                    f,
                    "unsupported Content-Encoding `{e}`: use gzip, zstd or none"
                )
            }
            Rejected::ContentType(t) => {
                write!(
                    f,
                    "unsupported Content-Type `{t}`: use application/x-protobuf"
                )
            }
            Rejected::Gzip(e) => write!(f, "the body is not valid gzip: {e}"),
            Rejected::Zstd(e) => write!(f, "the body is not valid zstd: {e}"),
            Rejected::Protobuf(e) => write!(f, "the body is not an ExportTraceServiceRequest: {e}"),
        }
    }
}

impl std::error::Error for Rejected {}

/// The receiver's running counts (the process CPU time is read when a
/// snapshot is taken).
#[derive(Debug, Default)]
pub struct Counters {
    requests: AtomicU64,
    gzip_requests: AtomicU64,
    zstd_requests: AtomicU64,
    rejected_requests: AtomicU64,
    spans: AtomicU64,
    marker_spans: AtomicU64,
    wire_bytes: AtomicU64,
    decoded_bytes: AtomicU64,
}

impl Counters {
    /// Decode one `POST /v1/traces` body and count it, or say why it is
    /// refused (and count the refusal). `content_type` and
    /// `content_encoding` are the request's headers, if present.
    pub fn ingest(
        &self,
        content_type: Option<&str>,
        content_encoding: Option<&str>,
        body: &[u8],
    ) -> Result<(), Rejected> {
        let result = decode(content_type, content_encoding, body);
        let (request, decoded_len, encoding) = match result {
            Ok(ok) => ok,
            Err(e) => {
                self.rejected_requests.fetch_add(1, Ordering::Relaxed);
                return Err(e);
            }
        };
        let (mut spans, mut markers) = (0u64, 0u64);
        for resource in &request.resource_spans {
            for scope in &resource.scope_spans {
                spans += scope.spans.len() as u64;
                markers += scope
                    .spans
                    .iter()
                    .filter(|s| s.name == COMPLETION_MARKER)
                    .count() as u64;
            }
        }
        self.requests.fetch_add(1, Ordering::Relaxed);
        self.gzip_requests
            .fetch_add(u64::from(encoding == BodyEncoding::Gzip), Ordering::Relaxed);
        self.zstd_requests
            .fetch_add(u64::from(encoding == BodyEncoding::Zstd), Ordering::Relaxed);
        self.spans.fetch_add(spans, Ordering::Relaxed);
        self.marker_spans.fetch_add(markers, Ordering::Relaxed);
        self.wire_bytes
            .fetch_add(body.len() as u64, Ordering::Relaxed);
        self.decoded_bytes
            .fetch_add(decoded_len as u64, Ordering::Relaxed);
        Ok(())
    }

    /// The counts so far, with the receiver's CPU time.
    pub fn snapshot(&self) -> ReceiverStats {
        ReceiverStats {
            requests: self.requests.load(Ordering::Relaxed),
            gzip_requests: self.gzip_requests.load(Ordering::Relaxed),
            zstd_requests: self.zstd_requests.load(Ordering::Relaxed),
            rejected_requests: self.rejected_requests.load(Ordering::Relaxed),
            spans: self.spans.load(Ordering::Relaxed),
            marker_spans: self.marker_spans.load(Ordering::Relaxed),
            wire_bytes: self.wire_bytes.load(Ordering::Relaxed),
            decoded_bytes: self.decoded_bytes.load(Ordering::Relaxed),
            cpu_ns: crate::measure::process_usage().cpu.as_nanos() as u64,
        }
    }
}

/// A request body's `Content-Encoding`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodyEncoding {
    Identity,
    Gzip,
    Zstd,
}

/// The request, its protobuf size, and how it came encoded.
fn decode(
    content_type: Option<&str>,
    content_encoding: Option<&str>,
    body: &[u8],
) -> Result<(ExportTraceServiceRequest, usize, BodyEncoding), Rejected> {
    if let Some(t) = content_type {
        let essence = t.split(';').next().unwrap_or_default().trim();
        if !essence.eq_ignore_ascii_case("application/x-protobuf") {
            return Err(Rejected::ContentType(t.to_owned()));
        }
    }
    let encoding = content_encoding.map(str::trim).unwrap_or("identity");
    let decoded;
    let (protobuf, encoding) = if encoding.eq_ignore_ascii_case("gzip") {
        let mut out = Vec::with_capacity(body.len() * 4);
        flate2::read::MultiGzDecoder::new(body)
            .read_to_end(&mut out)
            .map_err(Rejected::Gzip)?;
        decoded = out;
        (decoded.as_slice(), BodyEncoding::Gzip)
    } else if encoding.eq_ignore_ascii_case("zstd") {
        decoded = zstd::decode_all(body).map_err(Rejected::Zstd)?;
        (decoded.as_slice(), BodyEncoding::Zstd)
    } else if encoding.is_empty() || encoding.eq_ignore_ascii_case("identity") {
        (body, BodyEncoding::Identity)
    } else {
        return Err(Rejected::Encoding(encoding.to_owned()));
    };
    let request = ExportTraceServiceRequest::decode(protobuf).map_err(Rejected::Protobuf)?;
    Ok((request, protobuf.len(), encoding))
}

/// Ask the receiver at `addr` for its counts (`GET /stats`), over a plain
/// HTTP/1.1 connection opened for this one request: no HTTP client, no
/// thread, nothing left running in the sender afterwards.
pub fn fetch_stats(addr: SocketAddr) -> io::Result<ReceiverStats> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    write!(
        stream,
        "GET /stats HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    parse_stats_response(&response)
}

fn parse_stats_response(response: &[u8]) -> io::Result<ReceiverStats> {
    let bad = |why: String| io::Error::new(io::ErrorKind::InvalidData, why);
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| bad("no end of headers in the /stats response".into()))?;
    let head = String::from_utf8_lossy(&response[..split]);
    let status = head.lines().next().unwrap_or_default();
    if status.split_whitespace().nth(1) != Some("200") {
        return Err(bad(format!("GET /stats answered `{status}`")));
    }
    serde_json::from_slice(&response[split + 4..])
        .map_err(|e| bad(format!("GET /stats: not the receiver's JSON: {e}")))
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};

    use super::*;

    fn request(names: &[&str]) -> Vec<u8> {
        let spans = names
            .iter()
            .map(|n| Span {
                name: (*n).to_owned(),
                ..Span::default()
            })
            .collect();
        ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                scope_spans: vec![ScopeSpans {
                    spans,
                    ..ScopeSpans::default()
                }],
                ..ResourceSpans::default()
            }],
        }
        .encode_to_vec()
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(bytes).unwrap();
        gz.finish().unwrap()
    }

    #[test]
    fn counts_plain_gzip_and_zstd_bodies_and_markers() {
        let counters = Counters::default();
        let plain = request(&["request", "llm_call"]);
        counters
            .ingest(Some("application/x-protobuf"), None, &plain)
            .unwrap();
        let zipped = gzip(&request(&["request", COMPLETION_MARKER]));
        counters
            .ingest(Some("application/x-protobuf"), Some("gzip"), &zipped)
            .unwrap();
        let zstd = zstd::bulk::compress(&request(&["tool"]), 1).unwrap();
        counters
            .ingest(Some("application/x-protobuf"), Some("zstd"), &zstd)
            .unwrap();
        let s = counters.snapshot();
        assert_eq!(
            (
                s.requests,
                s.gzip_requests,
                s.zstd_requests,
                s.spans,
                s.marker_spans
            ),
            (3, 1, 1, 5, 1)
        );
        assert_eq!(s.application_spans(), 4);
        assert_eq!(
            s.wire_bytes,
            (plain.len() + zipped.len() + zstd.len()) as u64
        );
        assert_eq!(
            s.decoded_bytes,
            (plain.len()
                + request(&["request", COMPLETION_MARKER]).len()
                + request(&["tool"]).len()) as u64
        );
    }

    #[test]
    fn refuses_what_it_cannot_decode_and_counts_it() {
        let counters = Counters::default();
        let body = request(&["a"]);
        let status = |r: Result<(), Rejected>| r.unwrap_err().status();
        assert_eq!(status(counters.ingest(None, Some("br"), &body)), 415);
        assert_eq!(
            status(counters.ingest(Some("application/json"), None, &body)),
            415
        );
        assert_eq!(status(counters.ingest(None, Some("gzip"), &body)), 400);
        assert_eq!(status(counters.ingest(None, Some("zstd"), &body)), 400);
        assert_eq!(status(counters.ingest(None, None, b"\xff\xff\xff")), 400);
        let s = counters.snapshot();
        assert_eq!((s.requests, s.rejected_requests, s.spans), (0, 5, 0));
    }

    #[test]
    fn differences_and_the_stats_response() {
        let before = ReceiverStats {
            requests: 1,
            spans: 11,
            ..ReceiverStats::default()
        };
        let after = ReceiverStats {
            requests: 3,
            spans: 35,
            marker_spans: 2,
            ..ReceiverStats::default()
        };
        let d = after.since(&before);
        assert_eq!((d.requests, d.spans, d.application_spans()), (2, 24, 22));

        let json = serde_json::to_string(&after).unwrap();
        let ok = format!(
            "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{json}",
            json.len()
        );
        assert_eq!(parse_stats_response(ok.as_bytes()).unwrap(), after);
        assert!(parse_stats_response(b"HTTP/1.1 404 Not Found\r\n\r\n").is_err());
        assert!(parse_stats_response(b"HTTP/1.1 200 OK\r\n").is_err());
    }
}
