//! Attribute values nested deeper than [`MAX_VALUE_DEPTH`] levels.
//!
//! An OTLP attribute value (`AnyValue`) can hold a list or a map of further
//! values, to any depth. The decoders refuse deep nesting to protect their
//! stack: prost stops at 100 nested messages (about 32 levels of map, since
//! each level is three messages) and serde_json at 128 nested containers
//! (about 30 levels). Refusing is right for the decoders and wrong for a
//! collector: one odd attribute would cost the sender every span of the
//! request. So, as the OpenTelemetry Collector does, the request is kept:
//! every value at a level past [`MAX_VALUE_DEPTH`] is replaced by the string
//! [`TOO_DEEP`], and everything else of the span is stored as sent.
//!
//! A request the decoder accepts as it is pays nothing here; only one it
//! refuses is walked again, by [`cap_protobuf`] or [`cap_json`], and decoded
//! once more if that changed anything. Both walks are bounded: past the
//! limit a value is skipped, not descended (a protobuf field by its length,
//! JSON by serde_json's iterative skipping), so no depth of input can
//! exhaust the stack.

use serde::de::{self, Deserialize, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// Levels of nested attribute value kept: an attribute's value is level 1,
/// a value inside its list or map level 2, and so on. A value at level
/// `MAX_VALUE_DEPTH + 1` is stored as [`TOO_DEEP`] instead.
pub const MAX_VALUE_DEPTH: usize = 24;

/// What a value nested deeper than [`MAX_VALUE_DEPTH`] is stored as.
pub const TOO_DEEP: &str = "[neatlogs: value nested deeper than 24 levels, dropped]";

// ---------------------------------------------------------------- protobuf

/// The OTLP messages on the way from the request to an attribute value;
/// every other message is copied as it is.
#[derive(Clone, Copy)]
enum Msg {
    Request,
    ResourceSpans,
    Resource,
    /// `InstrumentationScope`.
    Scope,
    ScopeSpans,
    Span,
    Event,
    Link,
    KeyValue,
    AnyValue,
    ArrayValue,
    /// `KeyValueList`.
    KvList,
}

impl Msg {
    /// The message a length-delimited field of `self` holds, if it is on
    /// the way to an attribute value.
    fn child(self, field: u64) -> Option<Msg> {
        Some(match (self, field) {
            (Msg::Request, 1) => Msg::ResourceSpans,
            (Msg::ResourceSpans, 1) => Msg::Resource,
            (Msg::ResourceSpans, 2) => Msg::ScopeSpans,
            (Msg::ScopeSpans, 1) => Msg::Scope,
            (Msg::ScopeSpans, 2) => Msg::Span,
            (Msg::Resource, 1) | (Msg::Scope, 3) => Msg::KeyValue,
            (Msg::Span, 9) | (Msg::Event, 3) | (Msg::Link, 4) => Msg::KeyValue,
            (Msg::Span, 11) => Msg::Event,
            (Msg::Span, 13) => Msg::Link,
            (Msg::KeyValue, 2) => Msg::AnyValue,
            (Msg::AnyValue, 5) => Msg::ArrayValue,
            (Msg::AnyValue, 6) => Msg::KvList,
            (Msg::ArrayValue, 1) => Msg::AnyValue,
            (Msg::KvList, 1) => Msg::KeyValue,
            _ => return None,
        })
    }
}

/// A copy of an `ExportTraceServiceRequest` (protobuf) with every value
/// nested deeper than [`MAX_VALUE_DEPTH`] replaced by [`TOO_DEEP`]; `None`
/// if there is none, or if the bytes are not protobuf (the decoder's own
/// error then says why).
pub(crate) fn cap_protobuf(body: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(body.len());
    match rewrite(Msg::Request, body, 0, &mut out) {
        Some(true) => Some(out),
        _ => None,
    }
}

/// Writes `msg` (the bytes of one message of kind `msg`, holding values at
/// `level`) to `out` with over-deep values replaced; whether any was.
/// Recursion is bounded by the schema: at most [`MAX_VALUE_DEPTH`] levels
/// of values below a handful of envelope messages.
fn rewrite(msg: Msg, mut bytes: &[u8], level: usize, out: &mut Vec<u8>) -> Option<bool> {
    let mut changed = false;
    while !bytes.is_empty() {
        let start = bytes;
        let key = varint(&mut bytes)?;
        let (field, wire_type) = (key >> 3, key & 7);
        match wire_type {
            0 => drop(varint(&mut bytes)?),
            1 => bytes = bytes.get(8..)?,
            5 => bytes = bytes.get(4..)?,
            2 => {
                let len = usize::try_from(varint(&mut bytes)?).ok()?;
                let content = bytes.get(..len)?;
                bytes = &bytes[len..];
                if let Some(child) = msg.child(field) {
                    let level = level + usize::from(matches!(child, Msg::AnyValue));
                    let mut inner = Vec::new();
                    if level > MAX_VALUE_DEPTH {
                        // AnyValue { string_value (1): TOO_DEEP }
                        inner.push(1 << 3 | 2);
                        put_varint(&mut inner, TOO_DEEP.len() as u64);
                        inner.extend_from_slice(TOO_DEEP.as_bytes());
                        changed = true;
                    } else {
                        changed |= rewrite(child, content, level, &mut inner)?;
                    }
                    put_varint(out, key);
                    put_varint(out, inner.len() as u64);
                    out.extend_from_slice(&inner);
                    continue;
                }
            }
            // Groups (3, 4) are deprecated and not in OTLP.
            _ => return None,
        }
        out.extend_from_slice(&start[..start.len() - bytes.len()]);
    }
    Some(changed)
}

fn varint(bytes: &mut &[u8]) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let (&byte, rest) = bytes.split_first()?;
        *bytes = rest;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

// -------------------------------------------------------------------- JSON

/// JSON containers deeper than this are not built by [`cap_json`] (they
/// become `null`): below serde_json's own limit of 128, and deep enough for
/// a value at level [`MAX_VALUE_DEPTH`] + 1 in the deepest place OTLP/JSON
/// puts attributes (span event attributes start at depth 12, and each
/// level of map adds 4).
const JSON_BUILD_DEPTH: usize = 120;

/// An OTLP/JSON body as a tree, with every attribute value nested deeper
/// than [`MAX_VALUE_DEPTH`] replaced by [`TOO_DEEP`], and whether anything
/// was left out or replaced. Fails only on text that is not JSON.
pub(crate) fn cap_json(raw: &[u8]) -> Result<(Value, bool), serde_json::Error> {
    let mut cut = false;
    let mut de = serde_json::Deserializer::from_slice(raw);
    let mut tree = Capped {
        depth: 0,
        cut: &mut cut,
    }
    .deserialize(&mut de)?;
    de.end()?;
    let replaced = cap_request(&mut tree);
    Ok((tree, cut || replaced))
}

/// Builds a [`Value`] to [`JSON_BUILD_DEPTH`] and skips what lies deeper
/// (serde_json skips a value without recursion).
struct Capped<'a> {
    depth: usize,
    cut: &'a mut bool,
}

impl<'de> DeserializeSeed<'de> for Capped<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        if self.depth >= JSON_BUILD_DEPTH {
            *self.cut = true;
            IgnoredAny::deserialize(deserializer)?;
            return Ok(Value::Null);
        }
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Capped<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(Capped {
            depth: self.depth + 1,
            cut: &mut *self.cut,
        })? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value_seed(Capped {
                depth: self.depth + 1,
                cut: &mut *self.cut,
            })?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

/// Replaces over-deep values in an `ExportTraceServiceRequest` tree;
/// whether any was. Shapes that are not OTLP are left to the decoder.
fn cap_request(request: &mut Value) -> bool {
    let mut changed = false;
    for resource_spans in items(request, "resourceSpans") {
        if let Some(resource) = resource_spans.get_mut("resource") {
            changed |= cap_attributes(resource, "attributes");
        }
        for scope_spans in items(resource_spans, "scopeSpans") {
            if let Some(scope) = scope_spans.get_mut("scope") {
                changed |= cap_attributes(scope, "attributes");
            }
            for span in items(scope_spans, "spans") {
                changed |= cap_attributes(span, "attributes");
                for event in items(span, "events") {
                    changed |= cap_attributes(event, "attributes");
                }
                for link in items(span, "links") {
                    changed |= cap_attributes(link, "attributes");
                }
            }
        }
    }
    changed
}

/// The elements of the array at `object[key]`, if it is one.
fn items<'a>(object: &'a mut Value, key: &str) -> impl Iterator<Item = &'a mut Value> {
    object
        .get_mut(key)
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
}

/// Caps the values of the `KeyValue` list at `object[key]`, at level 1.
fn cap_attributes(object: &mut Value, key: &str) -> bool {
    let mut changed = false;
    for kv in items(object, key) {
        if let Some(value) = kv.get_mut("value") {
            changed |= cap_any_value(value, 1);
        }
    }
    changed
}

/// Caps one `AnyValue` at `level`; whether anything was replaced.
fn cap_any_value(value: &mut Value, level: usize) -> bool {
    if level > MAX_VALUE_DEPTH {
        *value = serde_json::json!({ "stringValue": TOO_DEEP });
        return true;
    }
    let mut changed = false;
    if let Some(array) = value.get_mut("arrayValue") {
        for item in items(array, "values") {
            changed |= cap_any_value(item, level + 1);
        }
    }
    if let Some(kvlist) = value.get_mut("kvlistValue") {
        for kv in items(kvlist, "values") {
            if let Some(inner) = kv.get_mut("value") {
                changed |= cap_any_value(inner, level + 1);
            }
        }
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip() {
        for n in [0, 1, 127, 128, 300, u64::from(u32::MAX), u64::MAX] {
            let mut buf = Vec::new();
            put_varint(&mut buf, n);
            let mut slice = &buf[..];
            assert_eq!(varint(&mut slice), Some(n));
            assert!(slice.is_empty());
        }
        assert_eq!(varint(&mut &[0x80u8, 0x80][..]), None, "truncated");
    }

    #[test]
    fn the_marker_names_the_limit() {
        assert!(TOO_DEEP.contains(&MAX_VALUE_DEPTH.to_string()));
    }

    #[test]
    fn non_protobuf_is_left_to_the_decoder() {
        assert_eq!(cap_protobuf(b"\xff\xff\xff\xff not protobuf"), None);
        assert_eq!(cap_protobuf(b""), None);
    }
}
