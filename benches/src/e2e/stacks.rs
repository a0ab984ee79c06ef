//! The two stacks of the end-to-end run, each exporting over OTLP/HTTP to the
//! receiver with its own real exporter: neatlogs' built-in one, and the
//! OpenTelemetry SDK's `BatchSpanProcessor` with `opentelemetry-otlp`'s HTTP
//! protobuf exporter (reqwest's blocking client).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{Protocol, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, SdkTracer, SdkTracerProvider, SpanData, SpanExporter,
};
use opentelemetry_sdk::Resource;
use serde::Serialize;

use super::{Compression, Options};
use crate::scenario::Request;

/// The service name both stacks report.
const SERVICE: &str = "neatlogs-bench";

/// How long the end of a run may take to deliver what is still queued (a
/// full-speed run ends with the whole run in the queue).
const DRAIN_TIMEOUT: Duration = Duration::from_secs(600);

/// What a stack itself counted, read after its shutdown.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct SdkCounts {
    /// Spans never handed to the exporter (a full queue, or left over at
    /// shutdown).
    pub dropped: u64,
    /// Spans in exports that succeeded.
    pub exported: u64,
    /// Spans in exports that failed.
    pub failed: u64,
    /// Where the counts come from.
    pub source: &'static str,
}

/// A stack started for one run.
pub enum Running {
    /// neatlogs after `init`.
    Neatlogs,
    /// The OpenTelemetry SDK, and the counts of its exporter.
    OtelSdk {
        /// The provider that owns the pipeline.
        provider: SdkTracerProvider,
        /// The tracer the spans are opened with.
        tracer: SdkTracer,
        /// What went through the exporter.
        counts: Arc<ExportCounts>,
    },
}

impl Running {
    /// Start the stack of `opts` against the receiver at `receiver`.
    pub fn start(opts: &Options, receiver: SocketAddr) -> Result<Running, String> {
        match opts.stack {
            super::Stack::Neatlogs => {
                let compression = match opts.compression {
                    Compression::Gzip => neatlogs::export::Compression::Gzip,
                    Compression::None => neatlogs::export::Compression::None,
                    Compression::Zstd => neatlogs::export::Compression::Zstd,
                };
                let mut config = neatlogs::Config::new()
                    .endpoint(format!("http://{receiver}"))
                    .api_key("bench")
                    .workflow_name(SERVICE)
                    .compression(compression);
                if let Some(spans) = opts.queue_size() {
                    config = config.queue_size(spans);
                }
                neatlogs::init(config).map_err(|e| format!("neatlogs::init failed: {e}"))?;
                Ok(Running::Neatlogs)
            }
            super::Stack::OtelSdk => {
                let mut builder = opentelemetry_otlp::SpanExporter::builder()
                    .with_http()
                    .with_protocol(Protocol::HttpBinary)
                    .with_endpoint(format!("http://{receiver}/v1/traces"));
                match opts.compression {
                    Compression::Gzip => {
                        builder = builder.with_compression(opentelemetry_otlp::Compression::Gzip);
                    }
                    Compression::None => {}
                    Compression::Zstd => {
                        return Err("the OpenTelemetry SDK is measured with gzip or none".into())
                    }
                }
                let exporter = builder
                    .build()
                    .map_err(|e| format!("the OTLP exporter could not be built: {e}"))?;
                let counts = Arc::new(ExportCounts::default());
                let mut batch = BatchConfigBuilder::default();
                if let Some(spans) = opts.queue_size() {
                    batch = batch.with_max_queue_size(spans);
                }
                let processor = BatchSpanProcessor::builder(Counted {
                    inner: exporter,
                    counts: counts.clone(),
                })
                .with_batch_config(batch.build())
                .build();
                let provider = SdkTracerProvider::builder()
                    .with_resource(Resource::builder().with_service_name(SERVICE).build())
                    .with_span_processor(processor)
                    .build();
                let tracer = provider.tracer("bench");
                Ok(Running::OtelSdk {
                    provider,
                    tracer,
                    counts,
                })
            }
        }
    }

    /// One request trace of the scenario, as the stack's benchmark opens it.
    #[inline]
    pub fn trace(&self, req: &Request) {
        match self {
            Running::Neatlogs => crate::stacks::neatlogs::request_trace(req),
            Running::OtelSdk { tracer, .. } => crate::stacks::otel_sdk::request_trace(tracer, req),
        }
    }

    /// Deliver everything, stop the pipeline, and read the stack's counts.
    /// `produced` is the number of spans the run opened.
    pub fn finish(self, produced: u64) -> SdkCounts {
        match self {
            Running::Neatlogs => {
                // `flush` waits up to 15 s at a time; a full-speed run may
                // need longer to drain, and a flush that times out loses
                // nothing, so it is asked again.
                let rounds = DRAIN_TIMEOUT.as_secs() / 15;
                for _ in 0..rounds {
                    if neatlogs::flush() {
                        break;
                    }
                }
                let _ = neatlogs::shutdown();
                let s = neatlogs::stats();
                SdkCounts {
                    dropped: s.dropped,
                    exported: s.exported,
                    failed: s.failed,
                    source: "neatlogs::stats()",
                }
            }
            Running::OtelSdk {
                provider,
                tracer,
                counts,
            } => {
                drop(tracer);
                if let Err(e) = provider.shutdown_with_timeout(DRAIN_TIMEOUT) {
                    eprintln!("e2e_sender: the OpenTelemetry SDK's shutdown failed: {e}");
                }
                let exported = counts.exported.load(Ordering::Relaxed);
                let failed = counts.failed.load(Ordering::Relaxed);
                SdkCounts {
                    dropped: produced.saturating_sub(exported + failed),
                    exported,
                    failed,
                    source: "spans handed to the exporter, counted by a pass-through wrapper \
                             (the SDK reports its own drop count only in an internal log)",
                }
            }
        }
    }
}

/// Spans that went through the OpenTelemetry exporter, by outcome.
#[derive(Debug, Default)]
pub struct ExportCounts {
    exported: AtomicU64,
    failed: AtomicU64,
}

/// The real exporter, wrapped to count the spans it is handed: the
/// `BatchSpanProcessor` keeps its drop count to itself (it is written to the
/// SDK's internal log at shutdown, with the `internal-logs` feature).
#[derive(Debug)]
struct Counted<E> {
    inner: E,
    counts: Arc<ExportCounts>,
}

impl<E: SpanExporter> SpanExporter for Counted<E> {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let spans = batch.len() as u64;
        let result = self.inner.export(batch).await;
        let counter = if result.is_ok() {
            &self.counts.exported
        } else {
            &self.counts.failed
        };
        counter.fetch_add(spans, Ordering::Relaxed);
        result
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}
