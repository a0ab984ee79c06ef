//! fastrace (feature `enable`): `Span::root` with the identity as properties,
//! `LocalSpan` children, and a reporter that discards.

use std::borrow::Cow;

use fastrace::collector::{Config, Reporter, SpanContext};
use fastrace::local::LocalSpan;
use fastrace::Span;

use super::Pipeline;
use crate::driver::Stack;
use crate::scenario::{metadata_json, Request, CHILD_NAMES};
use crate::sink::Sink;

/// Discards every batch (no encoding).
#[derive(Debug)]
pub struct NoopReporter {
    sink: Sink,
}

impl Reporter for NoopReporter {
    fn report(&mut self, spans: Vec<fastrace::collector::SpanRecord>) {
        self.sink.wait_until_open();
        self.sink.delivered(spans.len(), 0);
    }
}

fn root(req: &Request) -> Span {
    // Properties are built only when the span is recorded.
    Span::root("request", SpanContext::random()).with_properties(|| {
        [
            ("enduser.id", Cow::Owned(req.user_id.clone())),
            ("neatlogs.end_user.metadata", Cow::Owned(metadata_json(req))),
        ]
    })
}

/// One request trace: the root with the end-user as owned properties, made
/// the local parent, and ten `LocalSpan` children under it.
pub fn request_trace(req: &Request) {
    let root = root(req);
    let _parent = root.set_local_parent();
    for name in CHILD_NAMES {
        let _child = LocalSpan::enter_with_local_parent(name);
    }
}

/// fastrace after `set_reporter`.
#[derive(Debug)]
pub struct Fastrace(());

impl Stack for Fastrace {
    const NAME: &'static str = "fastrace";

    fn disabled_trace(req: &Request) {
        request_trace(req);
    }

    fn disabled_root(req: &Request) {
        drop(root(req));
    }

    fn start(pipeline: &Pipeline) -> Self {
        fastrace::set_reporter(
            NoopReporter {
                sink: pipeline.sink.clone(),
            },
            Config::default(),
        );
        Fastrace(())
    }

    fn trace(&self, req: &Request) {
        request_trace(req);
    }

    fn root_only(&self, req: &Request) {
        drop(root(req));
    }

    fn flush(&self) {
        fastrace::flush();
    }
}
