//! The same `tracing` spans as [`tracing_otel`](super::tracing_otel),
//! recorded by a `tracing-subscriber` `Registry` with neatlogs' layer
//! (`neatlogs::tracing::layer()`), exported as neatlogs spans through the
//! same pipeline as the neatlogs stack (OTLP protobuf encoding, then
//! discard).

use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::Layer as _;

use super::Pipeline;
use crate::driver::Stack;
use crate::scenario::{JsonDisplay, Request};

fn root(req: &Request) -> tracing::Span {
    let metadata = req.metadata();
    tracing::info_span!(
        "request",
        neatlogs.end_user.id = req.user_id.as_str(),
        neatlogs.end_user.metadata = %JsonDisplay(&metadata),
    )
}

fn request_trace(req: &Request) {
    let root = root(req);
    let _entered = root.enter();
    super::tracing_children();
}

/// `tracing` with neatlogs' layer as the global subscriber.
#[derive(Debug)]
pub struct TracingNeatlogs(());

impl Stack for TracingNeatlogs {
    const NAME: &'static str = "tracing_neatlogs";

    /// With no subscriber installed.
    fn disabled_trace(req: &Request) {
        request_trace(req);
    }

    fn disabled_root(req: &Request) {
        drop(root(req));
    }

    fn start(pipeline: &Pipeline) -> Self {
        if let Err(e) = neatlogs::init(super::neatlogs::config(pipeline)) {
            panic!("neatlogs::init failed: {e}");
        }
        // `TRACING_NEATLOGS_FILTER=off`: the layer behind a filter that lets
        // nothing through, to measure what filtered-out spans cost.
        let filter = match std::env::var("TRACING_NEATLOGS_FILTER").as_deref() {
            Ok("off") => LevelFilter::OFF,
            _ => LevelFilter::TRACE,
        };
        let subscriber =
            tracing_subscriber::registry().with(neatlogs::tracing::layer().with_filter(filter));
        if let Err(e) = tracing::subscriber::set_global_default(subscriber) {
            panic!("could not install the subscriber: {e}");
        }
        TracingNeatlogs(())
    }

    fn trace(&self, req: &Request) {
        request_trace(req);
    }

    fn root_only(&self, req: &Request) {
        drop(root(req));
    }

    fn flush(&self) {
        let _ = neatlogs::flush();
    }

    fn dropped(&self) -> Option<u64> {
        Some(neatlogs::stats().dropped)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Requests;

    #[test]
    fn the_scenario_is_one_trace_of_eleven_spans_with_the_end_user_on_the_root() {
        let subscriber = tracing_subscriber::registry().with(neatlogs::tracing::layer());
        let mut reqs = Requests::new(2);
        let req = reqs.next();
        let ((), spans) = neatlogs::testing::with_capture(|| {
            tracing::subscriber::with_default(subscriber, || request_trace(req))
        });
        assert_eq!(spans.len(), 11);
        let root = spans.iter().find(|s| s.is_root()).expect("a root");
        assert_eq!(root.name(), "request");
        assert_eq!(
            root.end_user().map(|u| u.id().as_str().to_owned()),
            Some(req.user_id.clone())
        );
        assert!(spans.iter().all(|s| s.trace_id() == root.trace_id()));
        let children: Vec<_> = spans
            .iter()
            .filter(|s| !s.is_root())
            .map(|s| s.name())
            .collect();
        assert_eq!(children, crate::scenario::CHILD_NAMES);
    }
}
