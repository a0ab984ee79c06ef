//! What a span's attributes and events hold: attribute values, the status,
//! events. A leaf: spans, content and exporters all build on it.

use std::borrow::Cow;

use crate::clock::{self, Instant};

/// An attribute value: the OTLP `AnyValue` types this SDK writes.
///
/// ```
/// use neatlogs::export::Value;
/// assert_eq!(Value::from(3_u32).as_i64(), Some(3));
/// assert_eq!(Value::from("pro").as_str(), Some("pro"));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Value {
    /// A string.
    Str(Cow<'static, str>),
    /// A boolean.
    Bool(bool),
    /// A signed integer.
    I64(i64),
    /// A float.
    F64(f64),
    /// Raw bytes.
    Bytes(Vec<u8>),
    /// A list of values.
    Array(Vec<Value>),
    /// A list of key-value pairs (OTLP `kvlist_value`).
    Map(Vec<(Cow<'static, str>, Value)>),
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

    /// The float, if this is a float value.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::F64(v) => Some(*v),
            _ => None,
        }
    }

    /// The boolean, if this is a boolean value.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(v) => Some(*v),
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
impl From<Vec<u8>> for Value {
    fn from(v: Vec<u8>) -> Self {
        Value::Bytes(v)
    }
}
impl From<Vec<String>> for Value {
    fn from(v: Vec<String>) -> Self {
        Value::Array(v.into_iter().map(Value::from).collect())
    }
}
impl From<Vec<Value>> for Value {
    fn from(v: Vec<Value>) -> Self {
        Value::Array(v)
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
    /// Values above `i64::MAX` saturate (OTLP integers are signed).
    fn from(v: usize) -> Self {
        Value::I64(i64::try_from(v).unwrap_or(i64::MAX))
    }
}

/// A span's outcome.
///
/// ```
/// assert_eq!(neatlogs::export::Status::default(), neatlogs::export::Status::Unset);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Status {
    /// Nothing was recorded (OTLP `STATUS_CODE_UNSET`).
    #[default]
    Unset,
    /// Explicitly marked successful.
    Ok,
    /// Failed, with a message.
    Error(Cow<'static, str>),
}

/// A time-stamped annotation of a span (an OTLP span event): a name and
/// attributes. The `tracing` integration records each event inside a span
/// as one, with its level and fields.
#[derive(Debug, Clone, PartialEq)]
pub struct SpanEvent {
    pub(crate) time: Instant,
    pub(crate) name: Cow<'static, str>,
    pub(crate) attributes: Attributes,
}

impl SpanEvent {
    /// An event named `name` that happens now.
    pub(crate) fn now(name: Cow<'static, str>, attributes: Attributes) -> SpanEvent {
        SpanEvent {
            time: clock::now(),
            name,
            attributes,
        }
    }

    /// The event's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// When it happened, in nanoseconds since the Unix epoch.
    pub fn unix_nanos(&self) -> u64 {
        clock::unix_nanos(self.time)
    }

    /// Its attributes, in the order they were given.
    pub fn attributes(&self) -> &[(Cow<'static, str>, Value)] {
        &self.attributes
    }

    /// The last value given for `key`.
    pub fn attribute(&self, key: &str) -> Option<&Value> {
        last_value(&self.attributes, key)
    }
}

/// The last value set for `key` in `attributes` (a key set twice appears
/// twice; the last one wins).
pub(crate) fn last_value<'a>(attributes: &'a Attributes, key: &str) -> Option<&'a Value> {
    attributes
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
}

/// The attributes of a span, in the order they were set.
pub(crate) type Attributes = Vec<(Cow<'static, str>, Value)>;
