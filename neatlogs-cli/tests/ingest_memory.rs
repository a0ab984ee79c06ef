//! The ingest memory budget's cost model against the real peak: each body
//! is decoded, converted and stored as `POST /v1/traces` does it, under an
//! allocator that records the peak of live heap bytes, and the peak must
//! stay within what the budget reserves for that body
//! ([`neatlogs_cli::ingest::decode_cost`]).
//!
//! One test, so that no other test's allocations run alongside.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use common::*;
use neatlogs_cli::ingest::{self, decode_cost, Encoding};
use neatlogs_cli::store::Store;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::trace::v1::Span;

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to the system allocator unchanged; the
// counters are only bookkeeping.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = System.realloc(ptr, layout, new_size);
        if !p.is_null() {
            // The old and the new block may both be live during the copy.
            let live = LIVE.fetch_add(new_size, Ordering::Relaxed) + new_size;
            PEAK.fetch_max(live, Ordering::Relaxed);
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Heap bytes above the level at the start that `work` had live at its
/// peak.
fn peak_of(work: impl FnOnce()) -> usize {
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    work();
    PEAK.load(Ordering::Relaxed) - base
}

fn attributes(n: usize, value: impl Fn(usize) -> any_value::Value) -> Vec<KeyValue> {
    (0..n)
        .map(|i| KeyValue {
            key: format!("k{i:06}"),
            value: Some(AnyValue {
                value: Some(value(i)),
            }),
            ..Default::default()
        })
        .collect()
}

fn one_span_with(attributes: Vec<KeyValue>) -> Vec<Span> {
    let mut root = span(1, 1, None, "huge", "WORKFLOW", 0, 5, vec![]);
    root.attributes = attributes;
    vec![root]
}

fn sdk_like(traces: u64) -> Vec<Span> {
    let mut spans = Vec::new();
    for t in 0..traces {
        let attrs = identity(&format!("u_{t}"), Some(r#"{"plan":"pro"}"#), Some("s_1"));
        let root = span(t, t * 10, None, "chat-turn", "WORKFLOW", 0, 9, attrs);
        spans.push(marker(&root));
        spans.push(root);
        for c in 1..4 {
            let attrs = llm("gpt-4o-mini", 42, 17);
            spans.push(span(
                t,
                t * 10 + c,
                Some(t * 10),
                "chat",
                "LLM",
                1,
                5,
                attrs,
            ));
        }
    }
    spans
}

#[test]
fn the_budget_covers_what_decoding_and_storing_a_body_really_takes() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("neatlogs.db")).unwrap();
    let with = |spans| request(sdk_resource("support-chat", Some("svc")), spans);
    let cases: [(&str, ExportTraceServiceRequest); 3] = [
        (
            "one span, 100k integer attributes",
            with(one_span_with(attributes(100_000, |i| {
                any_value::Value::IntValue(i as i64)
            }))),
        ),
        (
            "one span, 100k empty string attributes",
            with(one_span_with(attributes(100_000, |_| {
                any_value::Value::StringValue(String::new())
            }))),
        ),
        ("SDK-shaped, 1,000 traces of 5 spans", with(sdk_like(1_000))),
    ];
    let mut report = Vec::new();
    let mut over = false;
    for (name, req) in &cases {
        for encoding in [Encoding::Protobuf, Encoding::Json] {
            let body = match encoding {
                Encoding::Protobuf => protobuf(req),
                Encoding::Json => serde_json::to_vec(req).unwrap(),
            };
            let peak = peak_of(|| {
                let decoded = ingest::decode_otlp(&body, encoding, None).unwrap();
                let batch = ingest::batch_from_otlp(&decoded).unwrap();
                store.write(&batch).unwrap();
            });
            let reserved = decode_cost(body.len(), encoding);
            over |= peak > reserved;
            report.push(format!(
                "{name}, {encoding:?}: {} bytes, peak {peak} bytes ({:.1}x), reserved {reserved}",
                body.len(),
                peak as f64 / body.len() as f64
            ));
        }
    }
    assert!(
        !over,
        "decoding took more than the budget reserved:\n{}",
        report.join("\n")
    );
    println!("{}", report.join("\n"));
}
