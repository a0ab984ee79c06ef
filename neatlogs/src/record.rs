//! Finished spans, as exporters and test captures see them.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::context::TraceShared;
use crate::id::{SpanId, TraceId};
use crate::identity::EndUser;
use crate::kind::SpanKind;

/// An attribute value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A string.
    Str(Cow<'static, str>),
    /// A boolean.
    Bool(bool),
    /// A signed integer.
    I64(i64),
    /// A float.
    F64(f64),
    /// A list of strings.
    StrList(Vec<String>),
}

impl Value {
    /// The string, if this is a string value.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The integer, if this is an integer value.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::I64(v) => Some(*v),
            _ => None,
        }
    }
}

impl From<&'static str> for Value {
    fn from(v: &'static str) -> Self {
        Value::Str(Cow::Borrowed(v))
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Str(Cow::Owned(v))
    }
}
impl From<&String> for Value {
    fn from(v: &String) -> Self {
        Value::Str(Cow::Owned(v.clone()))
    }
}
impl From<Cow<'static, str>> for Value {
    fn from(v: Cow<'static, str>) -> Self {
        Value::Str(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::F64(v)
    }
}
impl From<f32> for Value {
    fn from(v: f32) -> Self {
        Value::F64(f64::from(v))
    }
}
impl From<Vec<String>> for Value {
    fn from(v: Vec<String>) -> Self {
        Value::StrList(v)
    }
}
macro_rules! int_value {
    ($($t:ty),*) => {$(
        impl From<$t> for Value {
            fn from(v: $t) -> Self {
                Value::I64(i64::from(v))
            }
        }
    )*};
}
int_value!(i8, i16, i32, i64, u8, u16, u32);
impl From<u64> for Value {
    /// Values above `i64::MAX` saturate (OTLP integers are signed).
    fn from(v: u64) -> Self {
        Value::I64(i64::try_from(v).unwrap_or(i64::MAX))
    }
}
impl From<usize> for Value {
    fn from(v: usize) -> Self {
        Value::I64(i64::try_from(v).unwrap_or(i64::MAX))
    }
}

/// A span's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Status {
    /// Nothing was recorded (OTLP `STATUS_CODE_UNSET`).
    #[default]
    Unset,
    /// Explicitly marked successful.
    Ok,
    /// Failed, with a message.
    Error(String),
}

/// A finished span: what exporters receive and test captures return.
#[derive(Debug, Clone)]
pub struct SpanRecord {
    pub(crate) trace: Arc<TraceShared>,
    pub(crate) span_id: SpanId,
    pub(crate) parent: Option<SpanId>,
    pub(crate) name: Cow<'static, str>,
    pub(crate) kind: SpanKind,
    pub(crate) start: Instant,
    pub(crate) end: Instant,
    pub(crate) attributes: Vec<(Cow<'static, str>, Value)>,
    pub(crate) status: Status,
}

impl SpanRecord {
    /// Stands for a span of `trace` that lives elsewhere (an attached
    /// context): only the trace and the id are read.
    pub(crate) fn placeholder(trace: Arc<TraceShared>, span_id: SpanId) -> SpanRecord {
        SpanRecord {
            trace,
            span_id,
            parent: None,
            name: Cow::Borrowed(""),
            kind: SpanKind::Chain,
            start: Instant::ZERO,
            end: Instant::ZERO,
            attributes: Vec::new(),
            status: Status::Unset,
        }
    }

    /// The trace this span belongs to.
    pub fn trace_id(&self) -> TraceId {
        self.trace.trace_id
    }
    /// This span's id.
    pub fn span_id(&self) -> SpanId {
        self.span_id
    }
    /// The parent span's id; `None` for a trace root.
    pub fn parent_span_id(&self) -> Option<SpanId> {
        self.parent
    }
    /// Whether this span is its trace's root (the one that owns the identity).
    pub fn is_root(&self) -> bool {
        self.parent.is_none() && self.span_id == self.trace.root_span_id
    }
    /// The span name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The span kind.
    pub fn kind(&self) -> SpanKind {
        self.kind
    }
    /// The trace's end-user (the same for every span of a trace; exporters
    /// write it on the root only).
    pub fn end_user(&self) -> Option<&EndUser> {
        self.trace.end_user.as_ref()
    }
    /// The trace's session id.
    pub fn session_id(&self) -> Option<&str> {
        self.trace.session.as_deref()
    }
    /// The trace's span-level tags (given on the root; exporters write them
    /// on the root only).
    pub fn tags(&self) -> &[String] {
        &self.trace.tags
    }
    /// Start time, in nanoseconds since the Unix epoch.
    pub fn start_unix_nanos(&self) -> u64 {
        unix_nanos(self.start)
    }
    /// End time, in nanoseconds since the Unix epoch.
    pub fn end_unix_nanos(&self) -> u64 {
        unix_nanos(self.end)
    }
    /// Start time.
    pub fn start_time(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_nanos(unix_nanos(self.start))
    }
    /// How long the span lasted.
    pub fn duration(&self) -> Duration {
        self.end.saturating_duration_since(self.start)
    }
    /// Attributes, in the order they were set (a key set twice appears twice;
    /// the last one wins, see [`SpanRecord::attribute`]).
    pub fn attributes(&self) -> &[(Cow<'static, str>, Value)] {
        &self.attributes
    }
    /// The last value set for `key`.
    pub fn attribute(&self, key: &str) -> Option<&Value> {
        self.attributes
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }
    /// The span's status.
    pub fn status(&self) -> &Status {
        &self.status
    }
}

/// A timestamp: the TSC read where it is reliable (a few nanoseconds,
/// against tens for the system clock), else the system clock. Converted to
/// Unix time only when read, which happens on the export thread.
pub(crate) use fastant::Instant;

#[inline]
pub(crate) fn now() -> Instant {
    Instant::now()
}

/// Nanoseconds since the Unix epoch, from an anchor taken once per process.
pub(crate) fn unix_nanos(at: Instant) -> u64 {
    static ANCHOR: std::sync::OnceLock<fastant::Anchor> = std::sync::OnceLock::new();
    at.as_unix_nanos(ANCHOR.get_or_init(fastant::Anchor::new))
}
