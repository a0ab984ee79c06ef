//! What compressing the OTLP/HTTP request body costs the export thread, and
//! what it saves on the wire: the scenario's request traces recorded by
//! neatlogs and encoded with its own OTLP protobuf encoder
//! (`neatlogs::export::OtlpEncoder`, the bytes the HTTP exporter sends),
//! then compressed by each candidate:
//!
//! - none (the body copied, as the exporter does without compression);
//! - gzip through flate2 on zlib-rs (the runtime's backend) at levels 1
//!   (the runtime's default), 3 and 6, a new encoder per body as the
//!   runtime makes it, and at level 1 with its state reused across bodies;
//! - gzip through miniz_oxide (flate2's default backend, called directly:
//!   this workspace's flate2 runs on zlib-rs) at levels 1, 3 and 6;
//! - zstd (libzstd through the `zstd` crate) at levels -1, 1 and 3 with its
//!   context reused, as `Compression::Zstd` does, and at level 1 with a new
//!   context per body.
//!
//! Two bodies: a batch of 512 spans (the exporter's default batch: 46.5
//! request traces of 11 spans, each trace's completion marker added by the
//! encoder) and one request trace alone (11 spans and the marker). Time is
//! the compressing thread's CPU time (criterion, `iter_custom`); a batch's
//! figures are also given per trace (divided by 512 / 11).
//!
//! With `--bench`, the table is printed at the end and written to
//! `<target>/bench-results/compression.json` from criterion's medians.
//!
//! ```text
//! cargo bench -p neatlogs-bench --bench compression
//! ```

use std::hint::black_box;
use std::io::{Read as _, Write as _};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use criterion::Criterion;
use serde_json::{json, Value};

use neatlogs::export::{ExportError, Exporter, OtlpEncoder, Resource, SpanRecord};
use neatlogs_bench::driver::{criterion, results_dir};
use neatlogs_bench::measure::thread_cpu;
use neatlogs_bench::scenario::{Requests, SPANS_PER_TRACE};
use neatlogs_bench::stacks::neatlogs as nl;

/// Spans per request body in a batch (the exporter's default batch size).
const BATCH_SPANS: usize = 512;

/// Request traces recorded (more than a batch holds).
const TRACES: usize = 200;

/// The service name of the end-to-end run.
const SERVICE: &str = "neatlogs-bench";

/// The candidates, in the table's order: criterion id and codec.
const CODECS: [(&str, Codec); 13] = [
    ("none", Codec::None),
    ("gzip_zlibrs_1", Codec::GzipZlibRs(1)),
    ("gzip_zlibrs_3", Codec::GzipZlibRs(3)),
    ("gzip_zlibrs_6", Codec::GzipZlibRs(6)),
    ("gzip_zlibrs_1_reused", Codec::GzipZlibRsReused(1)),
    ("gzip_miniz_1", Codec::GzipMiniz(1)),
    ("gzip_miniz_3", Codec::GzipMiniz(3)),
    ("gzip_miniz_6", Codec::GzipMiniz(6)),
    ("zstd_fast1", Codec::Zstd(-1)),
    ("zstd_1", Codec::Zstd(1)),
    ("zstd_3", Codec::Zstd(3)),
    ("zstd_1_fresh", Codec::ZstdFresh(1)),
    ("zstd_fast5", Codec::Zstd(-5)),
];

/// A way of compressing a request body.
#[derive(Debug, Clone, Copy)]
enum Codec {
    /// The body copied, uncompressed.
    None,
    /// gzip by flate2 on zlib-rs, a new encoder per body (the runtime's way).
    GzipZlibRs(u32),
    /// gzip by flate2 on zlib-rs, one deflate state reset between bodies.
    GzipZlibRsReused(u32),
    /// gzip by miniz_oxide (flate2's default backend).
    GzipMiniz(u8),
    /// zstd, one context reused across bodies.
    Zstd(i32),
    /// zstd, a new context per body.
    ZstdFresh(i32),
}

impl Codec {
    /// What the table calls it.
    fn label(self) -> String {
        match self {
            Codec::None => "none".to_owned(),
            Codec::GzipZlibRs(l) => format!("gzip zlib-rs {l}"),
            Codec::GzipZlibRsReused(l) => format!("gzip zlib-rs {l}, state reused"),
            Codec::GzipMiniz(l) => format!("gzip miniz_oxide {l}"),
            Codec::Zstd(l) => format!("zstd {l}"),
            Codec::ZstdFresh(l) => format!("zstd {l}, new context per body"),
        }
    }

    /// The `Content-Encoding` of its bodies.
    fn encoding(self) -> &'static str {
        match self {
            Codec::None => "identity",
            Codec::GzipZlibRs(_) | Codec::GzipZlibRsReused(_) | Codec::GzipMiniz(_) => "gzip",
            Codec::Zstd(_) | Codec::ZstdFresh(_) => "zstd",
        }
    }
}

/// A codec with whatever state it keeps between bodies.
enum Compressor {
    Plain,
    GzipZlibRs(u32),
    GzipZlibRsReused(flate2::Compress),
    GzipMiniz(u8),
    Zstd(Box<zstd::bulk::Compressor<'static>>),
    ZstdFresh(i32),
}

/// The gzip member header flate2 writes (no name, no time, unknown OS).
const GZIP_HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];

impl Compressor {
    fn new(codec: Codec) -> Compressor {
        match codec {
            Codec::None => Compressor::Plain,
            Codec::GzipZlibRs(l) => Compressor::GzipZlibRs(l),
            Codec::GzipZlibRsReused(l) => Compressor::GzipZlibRsReused(flate2::Compress::new(
                flate2::Compression::new(l),
                false,
            )),
            Codec::GzipMiniz(l) => Compressor::GzipMiniz(l),
            Codec::Zstd(l) => Compressor::Zstd(Box::new(
                zstd::bulk::Compressor::new(l).expect("a zstd context"),
            )),
            Codec::ZstdFresh(l) => Compressor::ZstdFresh(l),
        }
    }

    /// `raw`, compressed. Never inlined, so that a profiler (callgrind)
    /// counts each call apart.
    #[inline(never)]
    fn compress(&mut self, raw: &[u8]) -> Vec<u8> {
        match self {
            Compressor::Plain => raw.to_vec(),
            Compressor::GzipZlibRs(level) => {
                // As neatlogs/src/export/http.rs does it.
                let mut gz = flate2::write::GzEncoder::new(
                    Vec::with_capacity(raw.len() / 4),
                    flate2::Compression::new(*level),
                );
                gz.write_all(raw).expect("gzip");
                gz.finish().expect("gzip")
            }
            Compressor::GzipZlibRsReused(state) => {
                state.reset();
                let mut out = Vec::with_capacity(raw.len() / 4 + 64);
                out.extend_from_slice(&GZIP_HEADER);
                loop {
                    let read = usize::try_from(state.total_in()).unwrap_or(usize::MAX);
                    let status = state
                        .compress_vec(&raw[read..], &mut out, flate2::FlushCompress::Finish)
                        .expect("deflate");
                    if status == flate2::Status::StreamEnd {
                        break;
                    }
                    out.reserve(out.capacity().max(4096));
                }
                gzip_trailer(&mut out, raw);
                out
            }
            Compressor::GzipMiniz(level) => {
                let deflated = miniz_oxide::deflate::compress_to_vec(raw, *level);
                let mut out = Vec::with_capacity(deflated.len() + 18);
                out.extend_from_slice(&GZIP_HEADER);
                out.extend_from_slice(&deflated);
                gzip_trailer(&mut out, raw);
                out
            }
            Compressor::Zstd(context) => context.compress(raw).expect("zstd"),
            Compressor::ZstdFresh(level) => zstd::bulk::compress(raw, *level).expect("zstd"),
        }
    }
}

/// The gzip trailer: CRC-32 and length of the uncompressed bytes.
fn gzip_trailer(out: &mut Vec<u8>, raw: &[u8]) {
    out.extend_from_slice(&crc32fast::hash(raw).to_le_bytes());
    out.extend_from_slice(&(raw.len() as u32).to_le_bytes());
}

/// `body` decoded as a receiver decodes its `Content-Encoding`.
fn decode(encoding: &str, body: &[u8]) -> Vec<u8> {
    match encoding {
        "gzip" => {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(body)
                .read_to_end(&mut out)
                .expect("valid gzip");
            out
        }
        "zstd" => zstd::decode_all(body).expect("valid zstd"),
        _ => body.to_vec(),
    }
}

/// Keeps every batch the pipeline exports, and its resource.
#[derive(Debug, Clone, Default)]
struct Capture(Arc<Mutex<(Option<Resource>, Vec<SpanRecord>)>>);

impl Exporter for Capture {
    fn export(&mut self, resource: &Resource, batch: &[SpanRecord]) -> Result<(), ExportError> {
        let mut kept = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        kept.0.get_or_insert_with(|| resource.clone());
        kept.1.extend_from_slice(batch);
        Ok(())
    }
}

/// The scenario's request traces as neatlogs records and exports them.
fn record() -> (Resource, Vec<SpanRecord>) {
    let capture = Capture::default();
    let tracer = neatlogs::Neatlogs::new(
        neatlogs::Config::new()
            .default_destination(false)
            .workflow_name(SERVICE)
            .exporter(capture.clone())
            .batch_size(BATCH_SPANS)
            .queue_size(65_536),
    )
    .expect("a neatlogs instance");
    {
        let _default = tracer.set_default();
        let mut requests = Requests::default();
        for _ in 0..TRACES {
            nl::request_trace(requests.next());
        }
    }
    assert!(tracer.shutdown(), "every span exported");
    let mut kept = capture.0.lock().unwrap_or_else(PoisonError::into_inner);
    let resource = kept.0.take().expect("a batch was exported");
    (resource, std::mem::take(&mut kept.1))
}

/// One request body to compress.
struct Body {
    /// Its criterion group and JSON key.
    name: &'static str,
    /// Request traces it stands for.
    traces: f64,
    /// Spans on the wire (completion markers included).
    wire_spans: usize,
    /// The OTLP protobuf bytes.
    raw: Vec<u8>,
}

fn bodies() -> Vec<Body> {
    let (resource, records) = record();
    assert!(records.len() >= BATCH_SPANS, "{} spans", records.len());
    let mut encoder = OtlpEncoder::new();
    let markers = |spans: &[SpanRecord]| spans.iter().filter(|s| s.is_root()).count();
    let batch = &records[..BATCH_SPANS];
    // One whole trace: the first root and the spans of its trace.
    let root = records.iter().find(|s| s.is_root()).expect("a root");
    let trace: Vec<SpanRecord> = records
        .iter()
        .filter(|s| s.trace_id() == root.trace_id())
        .cloned()
        .collect();
    assert_eq!(trace.len() as u64, SPANS_PER_TRACE);
    vec![
        Body {
            name: "batch",
            traces: BATCH_SPANS as f64 / SPANS_PER_TRACE as f64,
            wire_spans: BATCH_SPANS + markers(batch),
            raw: encoder.protobuf(&resource, batch).to_vec(),
        },
        Body {
            name: "trace",
            traces: 1.0,
            wire_spans: trace.len() + markers(&trace),
            raw: encoder.protobuf(&resource, &trace).to_vec(),
        },
    ]
}

/// Thread CPU time of `iters` compressions of `raw`.
fn timed(compressor: &mut Compressor, raw: &[u8], iters: u64) -> Duration {
    let start = thread_cpu();
    for _ in 0..iters {
        black_box(compressor.compress(black_box(raw)));
    }
    thread_cpu().saturating_sub(start)
}

/// Criterion's median for `group`/`id`, in nanoseconds.
fn criterion_median(group: &str, id: &str) -> Option<f64> {
    let path = results_dir()
        .parent()?
        .join("criterion")
        .join(group)
        .join(id)
        .join("new")
        .join("estimates.json");
    let estimates: Value = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
    estimates["median"]["point_estimate"].as_f64()
}

fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    let mut c: Criterion = criterion();
    let bodies = bodies();
    let mut rows = Vec::new();
    for body in &bodies {
        let group_name = format!("compression_{}", body.name);
        let mut group = c.benchmark_group(&group_name);
        for (id, codec) in CODECS {
            let mut compressor = Compressor::new(codec);
            let compressed = compressor.compress(&body.raw);
            assert_eq!(
                decode(codec.encoding(), &compressed),
                body.raw,
                "{id} round-trips"
            );
            group.bench_function(id, |b| {
                b.iter_custom(|iters| timed(&mut compressor, &body.raw, iters))
            });
            rows.push((body, id, codec, compressed.len()));
        }
        group.finish();
    }
    c.final_summary();
    if !bench {
        return;
    }

    let mut table = vec![
        "| body | codec | bytes | bytes per trace | ratio | CPU per body | CPU per trace | MB/s (raw) |"
            .to_owned(),
        "|---|---|---:|---:|---:|---:|---:|---:|".to_owned(),
    ];
    let mut results = Vec::new();
    for (body, id, codec, bytes) in rows {
        let ns = criterion_median(&format!("compression_{}", body.name), id);
        let ratio = bytes as f64 / body.raw.len() as f64;
        let per_trace_ns = ns.map(|ns| ns / body.traces);
        let mb_s = ns.map(|ns| body.raw.len() as f64 / ns * 1e3);
        let fmt = |v: Option<f64>, f: &dyn Fn(f64) -> String| v.map_or("?".to_owned(), f);
        table.push(format!(
            "| {} ({} spans, {} B) | {} | {} | {:.0} | {:.3} | {} | {} | {} |",
            body.name,
            body.wire_spans,
            body.raw.len(),
            codec.label(),
            bytes,
            bytes as f64 / body.traces,
            ratio,
            fmt(ns, &|v| format!("{:.1} µs", v / 1e3)),
            fmt(per_trace_ns, &|v| format!("{:.2} µs", v / 1e3)),
            fmt(mb_s, &|v| format!("{v:.0}")),
        ));
        results.push(json!({
            "body": body.name,
            "wire_spans": body.wire_spans,
            "traces": body.traces,
            "raw_bytes": body.raw.len(),
            "codec": id,
            "label": codec.label(),
            "content_encoding": codec.encoding(),
            "bytes": bytes,
            "bytes_per_trace": bytes as f64 / body.traces,
            "ratio": ratio,
            "cpu_ns_per_body": ns,
            "cpu_ns_per_trace": per_trace_ns,
            "mb_per_s": mb_s,
        }));
    }
    let table = table.join("\n");
    println!("\n{table}\n");
    let dir = results_dir();
    let path = dir.join("compression.json");
    let written = std::fs::create_dir_all(&dir).and_then(|()| {
        std::fs::write(
            &path,
            serde_json::to_string_pretty(&json!({
                "time": "thread CPU time, criterion median",
                "rows": results,
            }))
            .unwrap_or_default(),
        )
    });
    match written {
        Ok(()) => eprintln!("compression: results written to {}", path.display()),
        Err(e) => eprintln!("compression: could not write {}: {e}", path.display()),
    }
}
