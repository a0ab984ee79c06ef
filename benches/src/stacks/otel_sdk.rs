//! The OpenTelemetry SDK used directly: an `SdkTracerProvider` with a
//! `BatchSpanProcessor` feeding a `SpanExporter` that discards.

use opentelemetry::trace::{Span as _, TraceContextExt, Tracer, TracerProvider as _};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, SdkTracer, SdkTracerProvider, SpanData, SpanExporter,
};

use super::Pipeline;
use crate::driver::Stack;
use crate::scenario::{metadata_json, Request, CHILD_NAMES};
use crate::sink::Sink;

/// Discards every batch (no encoding).
#[derive(Debug)]
pub struct NoopExporter {
    sink: Sink,
}

impl SpanExporter for NoopExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        self.sink.wait_until_open();
        self.sink.delivered(batch.len(), 0);
        Ok(())
    }
}

/// A provider whose batch processor ends in `pipeline.sink`; shared with the
/// `tracing` + `tracing-opentelemetry` stack.
pub fn provider(pipeline: &Pipeline) -> SdkTracerProvider {
    let config = BatchConfigBuilder::default()
        .with_max_queue_size(pipeline.queue_size)
        .with_max_export_batch_size(pipeline.batch_size)
        .build();
    let processor = BatchSpanProcessor::builder(NoopExporter {
        sink: pipeline.sink.clone(),
    })
    .with_batch_config(config)
    .build();
    SdkTracerProvider::builder()
        .with_span_processor(processor)
        .build()
}

fn root<T: Tracer>(tracer: &T, req: &Request) -> T::Span {
    tracer
        .span_builder("request")
        .with_attributes([
            KeyValue::new("enduser.id", req.user_id.clone()),
            KeyValue::new("neatlogs.end_user.metadata", metadata_json(req)),
        ])
        .start(tracer)
}

/// One request trace: the root with the end-user id and metadata as
/// attributes, made the current context, and ten children under it.
pub fn request_trace<T>(tracer: &T, req: &Request)
where
    T: Tracer,
    T::Span: Send + Sync + 'static,
{
    // The root becomes the current context, as in a service where the
    // children are opened deeper in the call stack.
    let _current = Context::current_with_span(root(tracer, req)).attach();
    for name in CHILD_NAMES {
        tracer.start(name).end();
    }
    Context::current().span().end();
}

/// The SDK's tracer, and the provider that owns its pipeline.
#[derive(Debug)]
pub struct OtelSdk {
    provider: SdkTracerProvider,
    tracer: SdkTracer,
}

impl Stack for OtelSdk {
    const NAME: &'static str = "otel_sdk";

    /// With no provider installed, the global tracer is the no-op one.
    fn disabled_trace(req: &Request) {
        request_trace(&opentelemetry::global::tracer("bench"), req);
    }

    fn disabled_root(req: &Request) {
        root(&opentelemetry::global::tracer("bench"), req).end();
    }

    fn start(pipeline: &Pipeline) -> Self {
        let provider = provider(pipeline);
        let tracer = provider.tracer("bench");
        OtelSdk { provider, tracer }
    }

    fn trace(&self, req: &Request) {
        request_trace(&self.tracer, req);
    }

    fn root_only(&self, req: &Request) {
        root(&self.tracer, req).end();
    }

    fn flush(&self) {
        let _ = self.provider.force_flush();
    }
}
