//! The errors `init` and configuration parsing return: a leaf that the
//! configuration, the exporters and the runtime all point down to.

use crate::identity::IdentityError;

/// Why [`init`](crate::init) failed. The process keeps running; tracing stays
/// as it was (off, or the first configuration).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InitError {
    /// `init` was already called; the first configuration stays in force.
    #[error("neatlogs is already initialized; the first configuration stays in force")]
    AlreadyInitialized,
    /// The default end-user id is invalid.
    #[error("invalid default end_user_id: {0}")]
    InvalidEndUserId(IdentityError),
    /// The default end-user metadata is invalid.
    #[error("invalid default end_user_metadata: {0}")]
    InvalidEndUserMetadata(IdentityError),
    /// The session id is invalid.
    #[error("invalid session_id: {0}")]
    InvalidSessionId(IdentityError),
    /// The endpoint URL cannot be used.
    #[error("invalid endpoint `{url}`: {reason}")]
    InvalidEndpoint {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// `NEATLOGS_PROTOCOL` names no supported protocol.
    #[error("invalid NEATLOGS_PROTOCOL: {0}")]
    InvalidProtocol(ParseError),
    /// An environment variable's value cannot be used (see
    /// [`Config::from_env`](crate::Config::from_env)).
    #[error("invalid {name}: {reason}")]
    InvalidEnvVar {
        /// The variable.
        name: &'static str,
        /// What is wrong (a header's value is never repeated here).
        reason: String,
    },
    /// A header given with [`Config::header`](crate::Config::header) cannot be sent.
    #[error("invalid header `{name}`: {reason}")]
    InvalidHeader {
        /// The header's name.
        name: String,
        /// What is wrong (the value is never repeated here).
        reason: String,
    },
    /// `NEATLOGS_TRACE_CONTENT` is neither true nor false.
    #[error("invalid NEATLOGS_TRACE_CONTENT `{0}`: expected true or false")]
    InvalidTraceContent(String),
    /// The sampler's ratio is not a probability (between 0 and 1).
    #[error("invalid sampler: the ratio {0} is not between 0 and 1")]
    InvalidSampler(f64),
    /// The export thread could not be started.
    #[error("could not start the export thread: {0}")]
    Spawn(#[from] std::io::Error),
    /// An exporter could not be set up.
    #[error("could not set up the exporter: {0}")]
    Exporter(String),
}

/// A name that parses to none of the values of a [`SpanKind`](crate::SpanKind),
/// [`Protocol`](crate::export::Protocol), [`Compression`](crate::export::Compression)
/// or [`Conventions`](crate::export::Conventions): the one error every
/// `FromStr` of this crate returns.
///
/// ```
/// let err = "grpc".parse::<neatlogs::export::Protocol>().unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "unknown OTLP protocol `grpc`; expected `http/protobuf` or `http/json` (gRPC is not supported)"
/// );
/// assert_eq!(err.value(), "grpc");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} `{value}`; expected {expected}")]
pub struct ParseError {
    what: &'static str,
    value: String,
    expected: &'static str,
}

impl ParseError {
    pub(crate) fn new(what: &'static str, value: &str, expected: &'static str) -> ParseError {
        ParseError {
            what,
            value: value.to_owned(),
            expected,
        }
    }

    /// The text that did not parse.
    pub fn value(&self) -> &str {
        &self.value
    }
}
