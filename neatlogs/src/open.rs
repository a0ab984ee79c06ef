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

/// The recording methods every handle on an open span offers
/// ([`SpanGuard`](crate::SpanGuard), [`ActiveSpan`](crate::ActiveSpan),
/// [`Instrumented`](crate::Instrumented)), written once. The handle brings
/// `fn with_open(self, f: impl FnOnce(&mut OpenSpan))` with the receiver
/// given here (`&` or `&mut`).
macro_rules! recording_methods {
    ($($receiver:tt)+) => {
        /// Set an attribute.
        pub fn set_attribute(
            $($receiver)+ self,
            key: impl Into<std::borrow::Cow<'static, str>>,
            value: impl Into<$crate::Value>,
        ) {
            self.with_open(|s| s.set_attribute(key.into(), value.into()));
        }

        /// The model (`gen_ai.request.model`).
        pub fn set_model($($receiver)+ self, model: impl Into<std::borrow::Cow<'static, str>>) {
            self.set_attribute($crate::wire::llm::REQUEST_MODEL, $crate::Value::Str(model.into()));
        }

        /// The input (`input.value`).
        pub fn set_input($($receiver)+ self, input: impl Into<std::borrow::Cow<'static, str>>) {
            self.set_attribute($crate::wire::io::INPUT, $crate::Value::Str(input.into()));
        }

        /// The output (`output.value`).
        pub fn set_output($($receiver)+ self, output: impl Into<std::borrow::Cow<'static, str>>) {
            self.set_attribute($crate::wire::io::OUTPUT, $crate::Value::Str(output.into()));
        }

        /// Token usage (`gen_ai.usage.input_tokens` / `output_tokens`).
        pub fn set_usage($($receiver)+ self, input_tokens: u64, output_tokens: u64) {
            self.with_open(|s| s.set_usage(input_tokens, output_tokens));
        }

        /// Mark the span as successful.
        pub fn set_ok($($receiver)+ self) {
            self.with_open($crate::open::OpenSpan::set_ok);
        }

        /// Mark the span as failed, with `error`'s message.
        pub fn record_error($($receiver)+ self, error: &dyn std::fmt::Display) {
            self.with_open(|s| s.record_error(error));
        }
    };
}
pub(crate) use recording_methods;
