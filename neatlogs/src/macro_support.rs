//! Not public API: what `#[neatlogs::span]` expands to. May change in any
//! release.
//!
//! Generated code names everything through `::neatlogs::__private` (or the
//! `crate = path` given to the macro), so it works in modules that shadow
//! `Result`, `Option` or `String`, or that use `#![no_implicit_prelude]`.

pub use crate::builder::{span, trace, SpanBuilder};
pub use crate::guard::SpanGuard;
pub use crate::SpanKind;
pub use core::fmt;
pub use core::option::Option::{self, None, Some};
pub use core::result::Result;
pub use std::string::String;

/// Mark the innermost span as failed with `message`.
pub fn record_error_message(message: &dyn fmt::Display) {
    crate::with_current_span(|s| s.record_error(message));
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
    /// The error, if the value is an `Err`.
    fn __neatlogs_err(&self) -> Option<&'a Self::Error>;
}

impl<'a, T, E> IsResult<'a> for &Outcome<'a, Result<T, E>> {
    type Error = E;
    fn __neatlogs_err(&self) -> Option<&'a E> {
        self.0.as_ref().err()
    }
}

/// Chosen for a type that is only *named* `Result` (a user's own enum): never
/// an error, and the code still compiles.
pub trait NotResult<'a> {
    /// Always `None`.
    fn __neatlogs_err(&self) -> Option<&'a core::convert::Infallible>;
}

impl<'a, T> NotResult<'a> for Outcome<'a, T> {
    fn __neatlogs_err(&self) -> Option<&'a core::convert::Infallible> {
        None
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
