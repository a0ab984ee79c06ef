//! neatlogs: `init` with export to the Neatlogs backend disabled, and one
//! custom exporter that encodes every batch as an OTLP protobuf request and
//! then discards it.

use std::hint::black_box;

use neatlogs::export::{ExportError, Exporter, OtlpEncoder, Resource};
use neatlogs::{Config, SpanKind, SpanRecord};

use super::Pipeline;
use crate::driver::Stack;
use crate::scenario::{Request, CHILD_NAMES};
use crate::sink::Sink;

/// Full OTLP protobuf encoding with the runtime's own encoder
/// (`neatlogs::export::OtlpEncoder`: the bytes the HTTP exporter sends), then discard.
#[derive(Debug)]
pub struct OtlpDiscard {
    sink: Sink,
    encoder: OtlpEncoder,
}

impl OtlpDiscard {
    /// An exporter ending in `sink`.
    pub fn new(sink: Sink) -> OtlpDiscard {
        OtlpDiscard {
            sink,
            encoder: OtlpEncoder::new(),
        }
    }
}

impl Exporter for OtlpDiscard {
    fn export(&mut self, resource: &Resource, batch: &[SpanRecord]) -> Result<(), ExportError> {
        self.sink.wait_until_open();
        let bytes = self.encoder.protobuf(resource, batch);
        self.sink.delivered(batch.len(), black_box(bytes).len());
        Ok(())
    }
}

/// The configuration the benchmarks start neatlogs with.
pub fn config(pipeline: &Pipeline) -> Config {
    Config::new()
        .disable_export(true)
        .exporter(OtlpDiscard::new(pipeline.sink.clone()))
        .queue_size(pipeline.queue_size)
        .batch_size(pipeline.batch_size)
}

/// One request trace: a root owning the end-user, ten children.
#[inline]
pub fn request_trace(req: &Request) {
    let _root = neatlogs::trace("request")
        .end_user_id(&req.user_id)
        .end_user_metadata(req.metadata())
        .enter();
    for name in CHILD_NAMES {
        let _child = neatlogs::span(SpanKind::Tool, name).enter();
    }
}

/// The root alone.
#[inline]
pub fn request_root(req: &Request) {
    let _root = neatlogs::trace("request")
        .end_user_id(&req.user_id)
        .end_user_metadata(req.metadata())
        .enter();
}

/// neatlogs after `init`.
#[derive(Debug)]
pub struct Neatlogs(());

impl Stack for Neatlogs {
    const NAME: &'static str = "neatlogs";

    fn disabled_trace(req: &Request) {
        request_trace(req);
    }

    fn disabled_root(req: &Request) {
        request_root(req);
    }

    fn start(pipeline: &Pipeline) -> Self {
        if let Err(e) = neatlogs::init(config(pipeline)) {
            panic!("neatlogs::init failed: {e}");
        }
        Neatlogs(())
    }

    fn trace(&self, req: &Request) {
        request_trace(req);
    }

    fn root_only(&self, req: &Request) {
        request_root(req);
    }

    fn flush(&self) {
        let _ = neatlogs::flush();
    }

    fn dropped(&self) -> Option<u64> {
        Some(neatlogs::stats().dropped)
    }
}
