//! Who a trace is for (the end-user) and who runs the SDK (the operator).
//!
//! The two are different types so they cannot be swapped by accident:
//! [`EndUserId`] is the person using the customer's AI product and travels on
//! the trace root as `neatlogs.end_user.id`; [`OperatorId`] is the developer or
//! service account running the SDK and travels on the resource as `user.id`.

use std::fmt;
use std::sync::Arc;

use serde_json::Value;

use crate::session::SessionId;

/// The longest end-user id accepted, in characters.
///
/// Longer ids are dropped with a warning: they are almost always a whole
/// request body or token passed by mistake, and storing them would put
/// personal data where an identifier was expected.
pub const MAX_END_USER_ID_CHARS: usize = 256;

/// The largest end-user metadata accepted, in bytes of serialized JSON.
///
/// Larger metadata is dropped with a warning (the id is kept).
pub const MAX_END_USER_METADATA_BYTES: usize = 16 * 1024;

/// The longest session id accepted, in characters (same rules as end-user ids).
pub const MAX_SESSION_ID_CHARS: usize = 256;

/// Why an identity value was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdentityError {
    /// The id is longer than the documented maximum.
    #[error("{what} is {len} characters long; the maximum is {max}")]
    TooLong {
        /// Which value (`end_user_id`, `session_id`).
        what: &'static str,
        /// Its length in characters.
        len: usize,
        /// The maximum accepted.
        max: usize,
    },
    /// The id contains a control character (newline, NUL, escape, ...).
    #[error("{what} contains a control character at position {position}")]
    ControlCharacter {
        /// Which value (`end_user_id`, `session_id`).
        what: &'static str,
        /// Character index of the first control character.
        position: usize,
    },
    /// The id contains a bidirectional-text control (U+061C, U+200E,
    /// U+200F, U+202A–U+202E, U+2066–U+2069): it would display as another
    /// id than the one stored.
    #[error("{what} contains a bidirectional-text control character (U+{code:04X}) at position {position}")]
    BidiControl {
        /// Which value (`end_user_id`, `session_id`).
        what: &'static str,
        /// Character index of the first one.
        position: usize,
        /// Its code point.
        code: u32,
    },
    /// The id is blank, or starts or ends with whitespace: ids are never
    /// trimmed, so `" u_1"` is not silently the same user as `"u_1"`.
    #[error("{what} is blank or starts or ends with whitespace; ids are not trimmed")]
    Whitespace {
        /// Which value (`end_user_id`, `session_id`).
        what: &'static str,
    },
    /// The id is not UTF-8 once percent-decoded (from W3C `baggage`).
    #[error("{what} is not valid UTF-8 once percent-decoded")]
    NotUtf8 {
        /// Which value (`end_user_id`).
        what: &'static str,
    },
    /// The metadata is not a JSON object.
    #[error("end_user_metadata must be a JSON object, got {found}")]
    MetadataNotObject {
        /// The JSON type that was given (`array`, `string`, ...).
        found: &'static str,
    },
    /// The metadata could not be serialized.
    #[error("end_user_metadata could not be serialized: {0}")]
    MetadataSerialize(String),
    /// The metadata is larger than [`MAX_END_USER_METADATA_BYTES`].
    #[error("end_user_metadata is {bytes} bytes of JSON; the maximum is {max}")]
    MetadataTooLarge {
        /// Its serialized size.
        bytes: usize,
        /// The maximum accepted.
        max: usize,
    },
}

/// Bidi_Control characters (Unicode): they reorder how the text around
/// them is displayed, so an id holding one shows as another id.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// The rule every identity value follows, here and in the collector: not
/// blank, no whitespace at either end (never trimmed), no control or
/// bidirectional-text control characters, at most `max` characters.
pub(crate) fn validate_id(what: &'static str, s: &str, max: usize) -> Result<(), IdentityError> {
    let b = s.as_bytes();
    // Fast path: short printable ASCII with no space at either end, the
    // shape of nearly every real id.
    if b.len() <= max
        && b.first() != Some(&b' ')
        && b.last() != Some(&b' ')
        && b.iter().all(|b| (0x20..0x7f).contains(b))
    {
        return Ok(());
    }
    // Count characters only as far as needed: a 10 MB string must not cost
    // 10 MB of scanning before we reject it.
    let mut len = 0usize;
    for (position, c) in s.chars().enumerate() {
        if c.is_control() {
            return Err(IdentityError::ControlCharacter { what, position });
        }
        if is_bidi_control(c) {
            return Err(IdentityError::BidiControl {
                what,
                position,
                code: u32::from(c),
            });
        }
        len += 1;
        if len > max {
            return Err(IdentityError::TooLong {
                what,
                len: s.chars().count(),
                max,
            });
        }
    }
    let ends_blank = |c: Option<char>| c.is_some_and(char::is_whitespace);
    if ends_blank(s.chars().next()) || ends_blank(s.chars().next_back()) {
        return Err(IdentityError::Whitespace { what });
    }
    Ok(())
}

/// The id of an application end-user: the person using the AI product.
///
/// Validated on construction: not empty, at most [`MAX_END_USER_ID_CHARS`]
/// characters, no control characters, no bidirectional-text controls, not
/// blank and no whitespace at either end (ids are never trimmed: `" u_1"`
/// is rejected, not turned into `"u_1"`). Cheap to clone.
///
/// ```
/// let id = neatlogs::EndUserId::new("u_812").unwrap();
/// assert_eq!(id.as_str(), "u_812");
/// assert!(neatlogs::EndUserId::new("").is_none());
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EndUserId(Arc<str>);

impl EndUserId {
    /// A valid id, or `None` when `id` is empty or invalid.
    ///
    /// Use [`EndUserId::parse`] to learn why an id was rejected.
    pub fn new(id: impl AsRef<str>) -> Option<Self> {
        Self::parse(id.as_ref()).ok().flatten()
    }

    /// `Ok(None)` for an empty id (meaning "not given"), `Ok(Some)` for a valid
    /// one, `Err` for an invalid one.
    ///
    /// ```
    /// use neatlogs::EndUserId;
    /// assert!(EndUserId::parse("").unwrap().is_none());
    /// assert!(EndUserId::parse("u\n1").is_err());
    /// assert!(EndUserId::parse("   ").is_err());
    /// assert!(EndUserId::parse(" u_1 ").is_err());
    /// assert!(EndUserId::parse("u_\u{202E}1").is_err());
    /// ```
    pub fn parse(id: &str) -> Result<Option<Self>, IdentityError> {
        if id.is_empty() {
            return Ok(None);
        }
        validate_id("end_user_id", id, MAX_END_USER_ID_CHARS)?;
        Ok(Some(EndUserId(Arc::from(id))))
    }

    /// The id as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EndUserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for EndUserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("EndUserId").field(&&*self.0).finish()
    }
}

impl AsRef<str> for EndUserId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// The operator: the developer or service account running the SDK (`init`'s
/// `operator_id`). Never an end-user; exported on the resource as `user.id`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct OperatorId(Arc<str>);

impl OperatorId {
    /// The operator id as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub(crate) fn new(s: &str) -> Self {
        OperatorId(Arc::from(s))
    }
}

impl fmt::Display for OperatorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for OperatorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("OperatorId").field(&&*self.0).finish()
    }
}

/// End-user metadata: a JSON object, kept as the compact JSON text that
/// goes on the wire.
pub(crate) struct Metadata {
    json: String,
    /// Each top-level key with its value as text (a string as is, anything
    /// else as JSON): made on the export thread when a vocabulary needs it.
    flat: std::sync::OnceLock<Vec<(String, String)>>,
}

impl fmt::Debug for Metadata {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.json)
    }
}

/// A trace's end-user: the id and, from the same source, its metadata.
///
/// Returned by [`current_end_user`](crate::current_end_user) and carried by
/// every finished span of the trace.
#[derive(Clone)]
pub struct EndUser {
    id: EndUserId,
    metadata: Option<Arc<Metadata>>,
}

impl PartialEq for EndUser {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id && self.metadata_json() == other.metadata_json()
    }
}

impl EndUser {
    pub(crate) fn new(id: EndUserId, metadata: Option<Arc<Metadata>>) -> Self {
        EndUser { id, metadata }
    }

    /// The end-user id.
    pub fn id(&self) -> &EndUserId {
        &self.id
    }

    /// The end-user's metadata, if the source of the id gave one,
    /// deserialized into `T` (a `serde_json::Value`, a map, your own struct).
    /// `None` when there is none or it does not fit `T`.
    ///
    /// ```
    /// # neatlogs::testing::with_capture(|| {
    /// let _root = neatlogs::trace("chat")
    ///     .end_user_id("u_812")
    ///     .end_user_metadata(serde_json::json!({"plan": "pro"}))
    ///     .enter();
    /// let user = neatlogs::current_end_user().unwrap();
    /// let metadata: serde_json::Value = user.metadata().unwrap();
    /// assert_eq!(metadata["plan"], "pro");
    /// # });
    /// ```
    pub fn metadata<T: serde::de::DeserializeOwned>(&self) -> Option<T> {
        serde_json::from_str(self.metadata_json()?).ok()
    }

    /// The metadata as compact JSON text (what is exported as
    /// `neatlogs.end_user.metadata`).
    pub fn metadata_json(&self) -> Option<&str> {
        self.metadata.as_deref().map(|m| m.json.as_str())
    }

    /// The metadata's top-level keys, each with its value as text (a string
    /// as is, anything else as JSON); empty without metadata.
    pub(crate) fn metadata_flat(&self) -> &[(String, String)] {
        let Some(m) = self.metadata.as_deref() else {
            return &[];
        };
        m.flat.get_or_init(|| match serde_json::from_str(&m.json) {
            Ok(Value::Object(map)) => map
                .into_iter()
                .map(|(k, v)| match v {
                    Value::String(s) => (k, s),
                    other => (k, other.to_string()),
                })
                .collect(),
            _ => Vec::new(),
        })
    }
}

impl fmt::Debug for EndUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EndUser")
            .field("id", &self.id.as_str())
            .field("metadata", &self.metadata_json())
            .finish()
    }
}

/// What a caller gave as an end-user or session id, after validation.
///
/// Public only so that the sealed [`IntoEndUserId`] can name it; not
/// reachable from outside the crate.
#[derive(Debug, Clone)]
pub enum IdInput<T> {
    /// Nothing (or an empty string, or `None`) was given.
    NotGiven,
    /// A valid value.
    Valid(T),
    /// A value was given but rejected; it must not be replaced by a default.
    Invalid(IdentityError),
}

/// Values accepted as an end-user id: `&str`, `String`, integers,
/// `uuid::Uuid` (feature `uuid`, on by default), [`EndUserId`], and `Option`
/// of any of these (`None` means "not given").
///
/// A type that is not listed here is a compile error, not a silent
/// `to_string()`: an end-user id should be a deliberate choice.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be an end-user id",
    label = "not an end-user id",
    note = "an end-user id is a `&str`, `String`, integer, `uuid::Uuid` or `neatlogs::EndUserId`, or an `Option` of one",
    note = "pass the id field itself (`user.id`), or convert it deliberately (`user.id.to_string()`)"
)]
pub trait IntoEndUserId: sealed::Sealed {
    /// Validate and convert.
    #[doc(hidden)]
    fn into_end_user_id(self) -> IdInput<EndUserId>;
}

/// Only this crate implements [`IntoEndUserId`]: the list of accepted types
/// is part of the identity contract, not an extension point.
mod sealed {
    pub trait Sealed {}
}

fn from_str_input(s: &str) -> IdInput<EndUserId> {
    match EndUserId::parse(s) {
        Ok(Some(id)) => IdInput::Valid(id),
        Ok(None) => IdInput::NotGiven,
        Err(e) => IdInput::Invalid(e),
    }
}

impl IntoEndUserId for &str {
    fn into_end_user_id(self) -> IdInput<EndUserId> {
        from_str_input(self)
    }
}

impl IntoEndUserId for String {
    fn into_end_user_id(self) -> IdInput<EndUserId> {
        from_str_input(&self)
    }
}

impl IntoEndUserId for &String {
    fn into_end_user_id(self) -> IdInput<EndUserId> {
        from_str_input(self)
    }
}

impl IntoEndUserId for std::borrow::Cow<'_, str> {
    fn into_end_user_id(self) -> IdInput<EndUserId> {
        from_str_input(&self)
    }
}

impl IntoEndUserId for EndUserId {
    fn into_end_user_id(self) -> IdInput<EndUserId> {
        IdInput::Valid(self)
    }
}

impl IntoEndUserId for &EndUserId {
    fn into_end_user_id(self) -> IdInput<EndUserId> {
        IdInput::Valid(self.clone())
    }
}

impl<T: IntoEndUserId> IntoEndUserId for Option<T> {
    fn into_end_user_id(self) -> IdInput<EndUserId> {
        match self {
            Some(v) => v.into_end_user_id(),
            None => IdInput::NotGiven,
        }
    }
}

impl sealed::Sealed for &str {}
impl sealed::Sealed for String {}
impl sealed::Sealed for &String {}
impl sealed::Sealed for std::borrow::Cow<'_, str> {}
impl sealed::Sealed for EndUserId {}
impl sealed::Sealed for &EndUserId {}
impl<T: IntoEndUserId> sealed::Sealed for Option<T> {}

macro_rules! int_end_user_id {
    ($($t:ty),*) => {$(
        impl sealed::Sealed for $t {}
        impl sealed::Sealed for &$t {}
        impl IntoEndUserId for $t {
            fn into_end_user_id(self) -> IdInput<EndUserId> {
                IdInput::Valid(EndUserId(Arc::from(self.to_string())))
            }
        }
        impl IntoEndUserId for &$t {
            fn into_end_user_id(self) -> IdInput<EndUserId> {
                (*self).into_end_user_id()
            }
        }
    )*};
}
int_end_user_id!(u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize);

#[cfg(feature = "uuid")]
impl sealed::Sealed for uuid::Uuid {}
#[cfg(feature = "uuid")]
impl sealed::Sealed for &uuid::Uuid {}

#[cfg(feature = "uuid")]
impl IntoEndUserId for uuid::Uuid {
    fn into_end_user_id(self) -> IdInput<EndUserId> {
        let mut buf = uuid::Uuid::encode_buffer();
        IdInput::Valid(EndUserId(Arc::from(
            &*self.hyphenated().encode_lower(&mut buf),
        )))
    }
}

#[cfg(feature = "uuid")]
impl IntoEndUserId for &uuid::Uuid {
    fn into_end_user_id(self) -> IdInput<EndUserId> {
        (*self).into_end_user_id()
    }
}

/// Serialize metadata and check that it is a JSON object within the size cap.
///
/// Serialized straight to text (no `Value` tree): the text is what the wire
/// carries, and a struct or map serializes to an object exactly when its
/// compact JSON starts with `{`.
pub(crate) fn metadata_from<T: serde::Serialize + ?Sized>(
    value: &T,
) -> Result<Arc<Metadata>, IdentityError> {
    let json = serde_json::to_string(value)
        .map_err(|e| IdentityError::MetadataSerialize(e.to_string()))?;
    if !json.starts_with('{') {
        let found = serde_json::from_str::<Value>(&json)
            .map(|v| json_type(&v))
            .unwrap_or("not an object");
        return Err(IdentityError::MetadataNotObject { found });
    }
    if json.len() > MAX_END_USER_METADATA_BYTES {
        return Err(IdentityError::MetadataTooLarge {
            bytes: json.len(),
            max: MAX_END_USER_METADATA_BYTES,
        });
    }
    Ok(Arc::new(Metadata {
        json,
        flat: std::sync::OnceLock::new(),
    }))
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Validate a session id: the same rules as an end-user id.
pub(crate) fn parse_session(s: &str) -> IdInput<SessionId> {
    if s.is_empty() {
        return IdInput::NotGiven;
    }
    match validate_id("session_id", s, MAX_SESSION_ID_CHARS) {
        Ok(()) => IdInput::Valid(Arc::from(s)),
        Err(e) => IdInput::Invalid(e),
    }
}

/// An identity as given by a caller (a root's builder, or `init`), each part
/// already validated.
#[derive(Default)]
pub(crate) struct Given {
    pub(crate) end_user: Option<IdInput<EndUserId>>,
    pub(crate) metadata: Option<Result<Arc<Metadata>, IdentityError>>,
    pub(crate) session: Option<IdInput<SessionId>>,
    /// Where it was given, for the warning about a value set aside
    /// ("returned by the TraceLayer identity function"); `None` for a
    /// builder.
    pub(crate) origin: Option<&'static str>,
}

/// Whether this is the first time a diagnostic is given for `site` (a call
/// site, a callsite of `tracing`): one warning per place in the code, not
/// one per call. Past 1,024 places, every later one counts as seen.
pub(crate) fn first_time_at(site: u64) -> bool {
    use std::collections::HashSet;
    use std::sync::Mutex;
    static SEEN: Mutex<Option<HashSet<u64>>> = Mutex::new(None);
    let Ok(mut seen) = SEEN.lock() else {
        return false;
    };
    let seen = seen.get_or_insert_with(HashSet::new);
    seen.len() < 1024 && seen.insert(site)
}

/// An identity after resolution: what a trace (or the `init` default) carries.
#[derive(Debug, Clone, Default)]
pub(crate) struct Resolved {
    pub(crate) end_user: Option<EndUser>,
    pub(crate) session: Option<SessionId>,
}

/// Something given that resolution set aside. A root logs it; `init` turns
/// it into an error.
#[derive(Debug)]
pub(crate) enum Problem {
    /// The id was invalid: there is no end-user (never the fallback's).
    EndUserId(IdentityError),
    /// The metadata was invalid: the id is kept without it.
    Metadata(IdentityError),
    /// Metadata without an id: ignored (metadata travels with its id).
    MetadataWithoutId,
    /// The session was invalid: there is no session (never the fallback's).
    Session(IdentityError),
}

/// Resolve an identity **as one unit**: an explicit value beats the
/// fallback (the `init` default for a root, nothing for `init` itself), the
/// source of the id is the source of the metadata, and an invalid value
/// means "none", never the fallback. `problem` hears about each value set
/// aside.
pub(crate) fn resolve(
    given: Given,
    fallback: Option<&Resolved>,
    mut problem: impl FnMut(Problem),
) -> Resolved {
    let end_user = match given.end_user {
        Some(IdInput::Valid(id)) => {
            let metadata = match given.metadata {
                Some(Ok(m)) => Some(m),
                Some(Err(e)) => {
                    problem(Problem::Metadata(e));
                    None
                }
                None => None,
            };
            Some(EndUser::new(id, metadata))
        }
        Some(IdInput::Invalid(e)) => {
            problem(Problem::EndUserId(e));
            None
        }
        Some(IdInput::NotGiven) | None => {
            if given.metadata.is_some() {
                problem(Problem::MetadataWithoutId);
            }
            fallback.and_then(|f| f.end_user.clone())
        }
    };
    let session = match given.session {
        Some(IdInput::Valid(s)) => Some(s),
        Some(IdInput::Invalid(e)) => {
            problem(Problem::Session(e));
            None
        }
        Some(IdInput::NotGiven) | None => fallback.and_then(|f| f.session.clone()),
    };
    Resolved { end_user, session }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_is_not_given() {
        assert!(matches!("".into_end_user_id(), IdInput::NotGiven));
        assert!(matches!(None::<&str>.into_end_user_id(), IdInput::NotGiven));
    }

    #[test]
    fn too_long_and_control_are_invalid() {
        let long = "x".repeat(MAX_END_USER_ID_CHARS + 1);
        assert!(matches!(
            long.as_str().into_end_user_id(),
            IdInput::Invalid(IdentityError::TooLong { len: 257, .. })
        ));
        let exact = "é".repeat(MAX_END_USER_ID_CHARS);
        assert!(matches!(exact.into_end_user_id(), IdInput::Valid(_)));
        assert!(matches!(
            "u_1\n".into_end_user_id(),
            IdInput::Invalid(IdentityError::ControlCharacter { position: 3, .. })
        ));
    }

    #[test]
    fn blank_padded_and_bidi_are_invalid() {
        for bad in ["   ", " u_pad ", "u_pad ", " u", "u_1\u{3000}", "\u{a0}"] {
            assert!(
                matches!(
                    bad.into_end_user_id(),
                    IdInput::Invalid(IdentityError::Whitespace { .. })
                ),
                "{bad:?}"
            );
        }
        for (bad, at) in [
            ("u_\u{202E}1", 2),
            ("\u{2066}u", 0),
            ("é\u{200F}", 1),
            ("a\u{061C}", 1),
        ] {
            assert!(
                matches!(bad.into_end_user_id(), IdInput::Invalid(IdentityError::BidiControl { position, .. }) if position == at),
                "{bad:?}"
            );
        }
        // Inner spaces and other scripts are ids.
        for good in ["u 812", "用户_1", "ü"] {
            assert!(
                matches!(good.into_end_user_id(), IdInput::Valid(_)),
                "{good:?}"
            );
        }
        assert!(matches!(parse_session(" s"), IdInput::Invalid(_)));
    }

    #[test]
    fn integers_and_uuid() {
        match 812u64.into_end_user_id() {
            IdInput::Valid(id) => assert_eq!(id.as_str(), "812"),
            other => panic!("{other:?}"),
        }
        let u = uuid::Uuid::from_u128(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef);
        match u.into_end_user_id() {
            IdInput::Valid(id) => assert_eq!(id.as_str(), "01234567-89ab-cdef-0123-456789abcdef"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn metadata_must_be_object_within_cap() {
        assert!(metadata_from(&serde_json::json!({"plan": "pro"})).is_ok());
        assert_eq!(
            metadata_from(&serde_json::json!([1, 2])).unwrap_err(),
            IdentityError::MetadataNotObject { found: "an array" }
        );
        let big = serde_json::json!({ "x": "y".repeat(MAX_END_USER_METADATA_BYTES) });
        assert!(matches!(
            metadata_from(&big),
            Err(IdentityError::MetadataTooLarge { .. })
        ));
    }
}
