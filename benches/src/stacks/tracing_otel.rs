//! `tracing` spans recorded by a `tracing-subscriber` `Registry` with the
//! `tracing-opentelemetry` layer, feeding the same batch processor and no-op
//! exporter as the OpenTelemetry SDK stack.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::layer::SubscriberExt as _;

use super::Pipeline;
use crate::driver::Stack;
use crate::scenario::{JsonDisplay, Request};

fn root(req: &Request) -> tracing::Span {
    let metadata = req.metadata();
    tracing::info_span!(
        "request",
        enduser.id = req.user_id.as_str(),
        neatlogs.end_user.metadata = %JsonDisplay(&metadata),
    )
}

fn request_trace(req: &Request) {
    let root = root(req);
    let _entered = root.enter();
    super::tracing_children();
}

/// `tracing` with the OpenTelemetry layer as the global subscriber.
#[derive(Debug)]
pub struct TracingOtel {
    provider: SdkTracerProvider,
}

impl Stack for TracingOtel {
    const NAME: &'static str = "tracing_otel";

    /// With no subscriber installed.
    fn disabled_trace(req: &Request) {
        request_trace(req);
    }

    fn disabled_root(req: &Request) {
        drop(root(req));
    }

    fn start(pipeline: &Pipeline) -> Self {
        let provider = super::otel_sdk::provider(pipeline);
        let layer = tracing_opentelemetry::layer().with_tracer(provider.tracer("bench"));
        let subscriber = tracing_subscriber::registry().with(layer);
        if let Err(e) = tracing::subscriber::set_global_default(subscriber) {
            panic!("could not install the subscriber: {e}");
        }
        TracingOtel { provider }
    }

    fn trace(&self, req: &Request) {
        request_trace(req);
    }

    fn root_only(&self, req: &Request) {
        drop(root(req));
    }

    fn flush(&self) {
        let _ = self.provider.force_flush();
    }
}
