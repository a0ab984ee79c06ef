//! Not public API: what `#[neatlogs::span]` expands to. May change in any
//! release.
//!
//! Generated code names everything through `::neatlogs::__private` (or the
//! `crate = path` given to the macro), so it works in modules that shadow
//! `Result`, `Option` or `String`, or that use `#![no_implicit_prelude]`.

pub use crate::builder::{span, span_at, trace, SpanBuilder};
pub use crate::content::Site;
pub use crate::guard::SpanGuard;
use crate::handle::SpanHandle as _;
pub use crate::SpanKind;
pub use core::fmt;
pub use core::option::Option::{self, None, Some};
pub use core::result::Result;
pub use serde_json::{Map, Value as Json};
pub use std::string::String;

/// Mark the innermost span as failed with `message`.
pub fn record_error_message(message: &dyn fmt::Display) {
    crate::with_current_span(|s| s.record_error(message));
}

/// Mark `guard`'s span as failed with `message`.
pub fn guard_error(guard: &SpanGuard, message: &dyn fmt::Display) {
    guard.with_open_shared(|s| s.record_error(message));
}

/// Whether the macro should capture inputs and outputs for a span opened
/// from `builder`: it is recorded, and content capture is on.
#[inline]
pub fn capturing(builder: &SpanBuilder) -> bool {
    builder.is_enabled() && crate::content::capture_enabled()
}

/// Add one captured argument.
#[inline]
pub fn insert(args: &mut Map<String, Json>, name: &'static str, value: Json) {
    args.insert(String::from(name), value);
}

/// Set a captured value (`input = expr`) as the builder's input.
pub fn input(builder: SpanBuilder, value: Json) -> SpanBuilder {
    builder.input(value)
}

/// Set the captured arguments, a JSON object, as the builder's input.
pub fn with_input(builder: SpanBuilder, args: Map<String, Json>) -> SpanBuilder {
    builder.input(Json::Object(args))
}

/// Record the output on `guard`'s span, computed only when it is captured.
#[inline]
pub fn guard_output(guard: &SpanGuard, output: impl FnOnce() -> Option<Json>) {
    if guard.is_recording() && crate::content::capture_enabled() {
        if let Some(value) = output() {
            guard.with_open_shared(|s| crate::open::Fact::Output(value.into()).apply(s.details()));
        }
    }
}

/// Record the output on the current span (inside an instrumented future),
/// computed only when it is captured.
#[inline]
pub fn current_output(output: impl FnOnce() -> Option<Json>) {
    if crate::content::capture_enabled() {
        crate::with_current_span(|s| {
            if let Some(value) = output() {
                s.set_output(value);
            }
        });
    }
}

// Capturing a value: `serde::Serialize` as JSON, else its `Debug` text,
// else its type name (autoref specialization, as for errors below).

/// A value to capture.
pub struct Capture<'a, T: ?Sized>(pub &'a T);

/// Chosen first: the value is `Serialize`.
pub trait SerializeCapture {
    /// The value as JSON.
    fn __neatlogs_capture(&self) -> Json;
}

impl<T: ?Sized + serde::Serialize> SerializeCapture for &&Capture<'_, T> {
    fn __neatlogs_capture(&self) -> Json {
        serde_json::to_value(self.0)
            .unwrap_or_else(|e| Json::String(format!("<not serializable: {e}>")))
    }
}

/// Chosen second: the value has `Debug`.
pub trait DebugCapture {
    /// The value's `Debug` text.
    fn __neatlogs_capture(&self) -> Json;
}

impl<T: ?Sized + fmt::Debug> DebugCapture for &Capture<'_, T> {
    fn __neatlogs_capture(&self) -> Json {
        Json::String(format!("{:?}", self.0))
    }
}

/// Chosen last: only the type's name.
pub trait NamedCapture {
    /// `<TypeName>`.
    fn __neatlogs_capture(&self) -> Json;
}

impl<T: ?Sized> NamedCapture for Capture<'_, T> {
    fn __neatlogs_capture(&self) -> Json {
        Json::String(format!("<{}>", core::any::type_name::<T>()))
    }
}

/// Convert one `tags = [..]` element; a function so that a wrong type is
/// reported at the user's expression.
pub fn tag(tag: impl Into<String>) -> String {
    tag.into()
}

/// The value of a never-taken `return` that pins the return type of the
/// closure or async block wrapping a function body, before the body is
/// type-checked (so `?` and `Err(Box::new(e))` convert as in the function).
#[inline(always)]
pub fn fake_return<T>() -> T {
    unreachable!("neatlogs: only for type inference, never called")
}

// Autoref specialization (https://github.com/dtolnay/case-studies/tree/master/autoref-specialization):
// method resolution tries `&&Outcome<T>` before `&Outcome<T>`, so the impl
// for `Result` wins when it applies and the catch-all answers otherwise. The
// choice is made at the expansion site, where the types are concrete.

/// A function's return value, inspected for an `Err`.
pub struct Outcome<'a, T>(pub &'a T);

/// Chosen when the return value is a `core::result::Result`.
pub trait IsResult<'a> {
    /// The error type.
    type Error;
    /// The success type.
    type Success;
    /// The error, if the value is an `Err`.
    fn __neatlogs_err(&self) -> Option<&'a Self::Error>;
    /// What is recorded as the output: the `Ok` value.
    fn __neatlogs_ok(&self) -> Option<&'a Self::Success>;
}

impl<'a, T, E> IsResult<'a> for &Outcome<'a, Result<T, E>> {
    type Error = E;
    type Success = T;
    fn __neatlogs_err(&self) -> Option<&'a E> {
        self.0.as_ref().err()
    }
    fn __neatlogs_ok(&self) -> Option<&'a T> {
        self.0.as_ref().ok()
    }
}

/// Chosen for a type that is only *named* `Result` (a user's own enum): never
/// an error, and the code still compiles.
pub trait NotResult<'a> {
    /// The value's type.
    type Success: ?Sized;
    /// Always `None`.
    fn __neatlogs_err(&self) -> Option<&'a core::convert::Infallible>;
    /// The whole value.
    fn __neatlogs_ok(&self) -> Option<&'a Self::Success>;
}

impl<'a, T> NotResult<'a> for Outcome<'a, T> {
    type Success = T;
    fn __neatlogs_err(&self) -> Option<&'a core::convert::Infallible> {
        None
    }
    fn __neatlogs_ok(&self) -> Option<&'a T> {
        Some(self.0)
    }
}

/// An error, to be described by `Display`, else `Debug`, else its type name.
pub struct ErrorText<'a, E>(pub &'a E);

/// How an error is described on the span.
pub enum ErrorMessage<'a> {
    /// The error's `Display` text.
    Display(&'a dyn fmt::Display),
    /// The error's `Debug` text, for a type without `Display`.
    Debug(&'a dyn fmt::Debug),
    /// The type name, for a type with neither.
    TypeName(&'static str),
}

impl fmt::Display for ErrorMessage<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorMessage::Display(e) => e.fmt(f),
            ErrorMessage::Debug(e) => write!(f, "{e:?}"),
            ErrorMessage::TypeName(name) => f.write_str(name),
        }
    }
}

/// Chosen first: the error has `Display`.
pub trait DisplayError {
    /// Describe the error.
    fn __neatlogs_error_text(&self) -> ErrorMessage<'_>;
}

impl<E: fmt::Display> DisplayError for &&ErrorText<'_, E> {
    fn __neatlogs_error_text(&self) -> ErrorMessage<'_> {
        ErrorMessage::Display(self.0)
    }
}

/// Chosen second: the error has `Debug`.
pub trait DebugError {
    /// Describe the error.
    fn __neatlogs_error_text(&self) -> ErrorMessage<'_>;
}

impl<E: fmt::Debug> DebugError for &ErrorText<'_, E> {
    fn __neatlogs_error_text(&self) -> ErrorMessage<'_> {
        ErrorMessage::Debug(self.0)
    }
}

/// Chosen last: any error type, described by its name.
pub trait NamedError {
    /// Describe the error.
    fn __neatlogs_error_text(&self) -> ErrorMessage<'_>;
}

impl<E> NamedError for ErrorText<'_, E> {
    fn __neatlogs_error_text(&self) -> ErrorMessage<'_> {
        ErrorMessage::TypeName(core::any::type_name::<E>())
    }
}

#[cfg(test)]
mod tests {
    // The extra borrows are the mechanism: they choose the impl.
    #![allow(clippy::needless_borrow)]

    use super::*;

    struct Plain;
    #[derive(Debug)]
    struct OnlyDebug(#[allow(dead_code)] u8);
    #[derive(Debug)]
    struct Both;
    impl fmt::Display for Both {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("both: display wins")
        }
    }

    #[test]
    fn error_text_prefers_display_then_debug_then_type_name() {
        assert_eq!(
            (&&&ErrorText(&Both)).__neatlogs_error_text().to_string(),
            "both: display wins"
        );
        assert_eq!(
            (&&&ErrorText(&OnlyDebug(7)))
                .__neatlogs_error_text()
                .to_string(),
            "OnlyDebug(7)"
        );
        assert!((&&&ErrorText(&Plain))
            .__neatlogs_error_text()
            .to_string()
            .ends_with("tests::Plain"));
    }

    #[test]
    fn capture_prefers_serialize_then_debug_then_type_name() {
        #[derive(serde::Serialize, Debug)]
        struct Ser {
            a: u8,
        }
        assert_eq!(
            (&&&Capture(&Ser { a: 1 })).__neatlogs_capture(),
            serde_json::json!({"a": 1})
        );
        assert_eq!(
            (&&&Capture(&OnlyDebug(7))).__neatlogs_capture(),
            serde_json::json!("OnlyDebug(7)")
        );
        let named = (&&&Capture(&Plain)).__neatlogs_capture();
        assert!(
            named.as_str().unwrap().ends_with("tests::Plain>"),
            "{named}"
        );
        assert_eq!(
            (&&&Capture("text")).__neatlogs_capture(),
            serde_json::json!("text")
        );
    }

    #[test]
    fn outcome_finds_errors_only_in_results() {
        let err: Result<u8, &str> = Err("boom");
        assert_eq!((&&Outcome(&err)).__neatlogs_err(), Some(&"boom"));
        let ok: Result<u8, &str> = Ok(1);
        assert_eq!((&&Outcome(&ok)).__neatlogs_err(), None);
        #[allow(dead_code)]
        enum MyResult {
            Fine,
        }
        assert!((&&Outcome(&MyResult::Fine)).__neatlogs_err().is_none());
    }
}
