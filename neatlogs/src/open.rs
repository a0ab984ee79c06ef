//! An open span: started, not yet ended. It lives on its thread's stack (a
//! guard) or inside an instrumented future between polls, and becomes an
//! immutable [`SpanRecord`] when it ends.

use std::borrow::Cow;
use std::fmt;

use crate::clock::{self, Instant};
use crate::id::SpanId;
use crate::kind::SpanKind;
use crate::record::{Attributes, SpanRecord, Status, Value};
use crate::trace::SpanContext;
use crate::wire;

pub(crate) struct OpenSpan {
    /// This span's trace and id.
    pub(crate) cx: SpanContext,
    pub(crate) parent: Option<SpanId>,
    pub(crate) name: Cow<'static, str>,
    pub(crate) kind: SpanKind,
    pub(crate) start: Instant,
    pub(crate) attributes: Attributes,
    /// Boxed, as in [`SpanRecord`]: unset for most spans.
    pub(crate) status: Option<Box<Status>>,
}

impl OpenSpan {
    #[inline(always)]
    pub(crate) fn start(
        cx: SpanContext,
        parent: Option<SpanId>,
        name: Cow<'static, str>,
        kind: SpanKind,
        attributes: Attributes,
    ) -> OpenSpan {
        OpenSpan {
            cx,
            parent,
            name,
            kind,
            start: clock::now(),
            attributes,
            status: None,
        }
    }

    /// End the span now: status ERROR if the thread is unwinding.
    #[inline(always)]
    pub(crate) fn end(self) -> SpanRecord {
        let end = clock::now();
        let OpenSpan {
            cx,
            parent,
            name,
            kind,
            start,
            attributes,
            mut status,
        } = self;
        if std::thread::panicking() {
            status = Some(Box::new(Status::Error(Cow::Borrowed("panicked"))));
        }
        SpanRecord {
            trace: cx.trace,
            span_id: cx.span_id,
            parent,
            name,
            kind,
            start,
            end,
            attributes,
            status,
        }
    }

    pub(crate) fn set_attribute(&mut self, key: Cow<'static, str>, value: Value) {
        self.attributes.push((key, value));
    }

    pub(crate) fn record_error(&mut self, error: &dyn fmt::Display) {
        self.set_status(Status::Error(Cow::Owned(error.to_string())));
    }

    pub(crate) fn set_ok(&mut self) {
        self.set_status(Status::Ok);
    }

    pub(crate) fn set_status(&mut self, status: Status) {
        self.status = Some(Box::new(status));
    }

    pub(crate) fn set_usage(&mut self, input_tokens: u64, output_tokens: u64) {
        self.set_attribute(wire::llm::INPUT_TOKENS.into(), input_tokens.into());
        self.set_attribute(wire::llm::OUTPUT_TOKENS.into(), output_tokens.into());
    }
}
