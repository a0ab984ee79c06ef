//! The OTLP JSON mapping of an `ExportTraceServiceRequest`, written straight
//! from the records as one line of text.
//!
//! The mapping's rules: camelCase field names, trace and span ids as
//! lowercase hex (not base64), 64-bit integers as decimal strings, enums as
//! integers, bytes as standard base64, non-finite doubles as `"NaN"`,
//! `"Infinity"` and `"-Infinity"`. Fields at their default value are left
//! out (an empty name, a missing parent, an unset status), except what
//! decoders built from the `.proto` files require: an attribute's `key` and
//! a list's `values` are always written, and an `AnyValue`'s value is data,
//! never a default (`{"boolValue":false}`, `{"stringValue":""}`).

use super::{
    for_each_attribute, for_each_span, pick_attributes, resource_attributes, Attr, Attrs, Key,
    SpanView, StatusView,
};
use crate::export::Resource;
use crate::record::SpanRecord;
use crate::value::{SpanEvent, Value};
use crate::wire::{otlp, resource};

/// The reused output and scratch.
#[derive(Debug, Default)]
pub(super) struct Writer {
    out: String,
    picked: Vec<(usize, usize)>,
}

impl Writer {
    pub(super) fn write(&mut self, resource: &Resource, batch: &[SpanRecord]) -> &str {
        self.fill(resource, batch);
        &self.out
    }

    pub(super) fn write_line(&mut self, resource: &Resource, batch: &[SpanRecord]) -> &[u8] {
        self.fill(resource, batch);
        self.out.push('\n');
        self.out.as_bytes()
    }

    fn fill(&mut self, resource: &Resource, batch: &[SpanRecord]) {
        let Writer { out, picked } = self;
        out.clear();
        out.push_str(r#"{"resourceSpans":[{"resource":{"attributes":["#);
        let mut first = true;
        resource_attributes(resource, |k, a| put_kv(out, &mut first, k, a));
        out.push_str(r#"]},"scopeSpans":[{"scope":{"name":"#);
        put_str(out, resource::SDK_NAME_VALUE);
        if !resource.sdk_version.is_empty() {
            out.push_str(r#","version":"#);
            put_str(out, resource.sdk_version);
        }
        out.push('}');
        let mut first_span = true;
        for_each_span(batch, resource.conventions, |s| {
            out.push_str(if first_span { r#","spans":["# } else { "," });
            first_span = false;
            put_span(out, resource, s, picked);
        });
        if !first_span {
            out.push(']');
        }
        out.push_str("}]}]}");
    }
}

fn put_span<'a>(
    out: &mut String,
    resource: &'a Resource,
    s: &SpanView<'a>,
    picked: &mut Vec<(usize, usize)>,
) {
    match s.attrs {
        Attrs::Record(record) => pick_attributes(record, picked),
        Attrs::Marker => picked.clear(),
    }
    out.push_str(r#"{"traceId":""#);
    put_hex(out, &s.trace_id);
    out.push_str(r#"","spanId":""#);
    put_hex(out, &s.span_id);
    out.push('"');
    if let Some(state) = s.trace_state {
        out.push_str(r#","traceState":"#);
        put_str(out, state);
    }
    if let Some(parent) = &s.parent {
        out.push_str(r#","parentSpanId":""#);
        put_hex(out, parent);
        out.push('"');
    }
    if !s.name.is_empty() {
        out.push_str(r#","name":"#);
        put_str(out, &s.name);
    }
    out.push_str(r#","kind":"#);
    put_int(out, i64::from(s.kind));
    put_u64_field(out, "startTimeUnixNano", s.start);
    put_u64_field(out, "endTimeUnixNano", s.end);
    let mut first = true;
    for_each_attribute(s.attrs, resource, picked, |k, a| {
        if first {
            out.push_str(r#","attributes":["#);
        }
        put_kv(out, &mut first, k, a);
    });
    if !first {
        out.push(']');
    }
    if let Attrs::Record(record) = s.attrs {
        put_events(out, record.events());
    }
    if let Some((trace_id, span_id)) = &s.link {
        out.push_str(r#","links":[{"traceId":""#);
        put_hex(out, trace_id);
        out.push_str(r#"","spanId":""#);
        put_hex(out, span_id);
        out.push_str(r#""}]"#);
    }
    let (message, code) = match s.status {
        StatusView::Unset => ("", None),
        StatusView::Ok => ("", Some(otlp::STATUS_CODE_OK)),
        StatusView::Error(m) => (m, Some(otlp::STATUS_CODE_ERROR)),
    };
    if let Some(code) = code {
        out.push_str(r#","status":{"#);
        if !message.is_empty() {
            out.push_str(r#""message":"#);
            put_str(out, message);
            out.push(',');
        }
        out.push_str(r#""code":"#);
        put_int(out, i64::from(code));
        out.push('}');
    }
    out.push_str(r#","flags":"#);
    put_int(out, i64::from(s.flags));
    out.push('}');
}

/// `"events"`, left out when there are none.
fn put_events(out: &mut String, events: &[SpanEvent]) {
    for (i, event) in events.iter().enumerate() {
        out.push_str(if i == 0 { r#","events":[{"# } else { ",{" });
        out.push_str(r#""timeUnixNano":""#);
        out.push_str(itoa::Buffer::new().format(event.unix_nanos()));
        out.push('"');
        if !event.name().is_empty() {
            out.push_str(r#","name":"#);
            put_str(out, event.name());
        }
        let mut first = true;
        for (k, v) in event.attributes() {
            if first {
                out.push_str(r#","attributes":["#);
            }
            put_kv(out, &mut first, Key::Str(k), Attr::Value(v));
        }
        if !first {
            out.push(']');
        }
        out.push('}');
    }
    if !events.is_empty() {
        out.push(']');
    }
}

/// A `uint64`/`fixed64` field as a decimal string, left out when zero.
fn put_u64_field(out: &mut String, name: &str, v: u64) {
    if v != 0 {
        out.push_str(",\"");
        out.push_str(name);
        out.push_str("\":\"");
        out.push_str(itoa::Buffer::new().format(v));
        out.push('"');
    }
}

/// One `KeyValue`, after a comma unless it is the first.
fn put_kv(out: &mut String, first: &mut bool, k: Key<'_>, a: Attr<'_>) {
    if !std::mem::take(first) {
        out.push(',');
    }
    out.push_str(r#"{"key":""#);
    k.for_each_part(|p| put_escaped(out, std::str::from_utf8(p).unwrap_or_default()));
    out.push_str(r#"","value":"#);
    match a {
        Attr::Str(s) => put_string_value(out, s),
        Attr::Bool(b) => put_bool_value(out, b),
        Attr::I64(i) => put_value(out, &Value::I64(i)),
        Attr::F64(f) => put_value(out, &Value::F64(f)),
        Attr::Joined(parts) => {
            out.push_str(r#"{"stringValue":""#);
            put_comma_separated(out, parts, |out, p| put_escaped(out, p));
            out.push_str("\"}");
        }
        Attr::Tags(tags) => {
            out.push_str(r#"{"arrayValue":{"values":["#);
            put_comma_separated(out, tags, |out, t| put_string_value(out, t));
            out.push_str("]}}");
        }
        Attr::OneTag(t) => {
            out.push_str(r#"{"arrayValue":{"values":["#);
            put_string_value(out, t);
            out.push_str("]}}");
        }
        Attr::Value(v) => put_value(out, v),
    }
    out.push('}');
}

/// `items`, each written by `put`, separated by commas.
fn put_comma_separated<T>(out: &mut String, items: &[T], mut put: impl FnMut(&mut String, &T)) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        put(out, item);
    }
}

fn put_string_value(out: &mut String, s: &str) {
    out.push_str(r#"{"stringValue":"#);
    put_str(out, s);
    out.push('}');
}

fn put_bool_value(out: &mut String, b: bool) {
    out.push_str(if b {
        r#"{"boolValue":true}"#
    } else {
        r#"{"boolValue":false}"#
    });
}

/// An `AnyValue`.
fn put_value(out: &mut String, v: &Value) {
    match v {
        Value::Str(s) => put_string_value(out, s),
        Value::Bool(b) => put_bool_value(out, *b),
        Value::I64(i) => {
            out.push_str(r#"{"intValue":""#);
            put_int(out, *i);
            out.push_str("\"}");
        }
        Value::F64(f) => {
            out.push_str(r#"{"doubleValue":"#);
            put_double(out, *f);
            out.push('}');
        }
        Value::Bytes(b) => {
            out.push_str(r#"{"bytesValue":""#);
            put_base64(out, b);
            out.push_str("\"}");
        }
        Value::Array(items) => {
            out.push_str(r#"{"arrayValue":{"values":["#);
            put_comma_separated(out, items, put_value);
            out.push_str("]}}");
        }
        Value::Map(entries) => {
            out.push_str(r#"{"kvlistValue":{"values":["#);
            let mut first = true;
            for (k, v) in entries {
                put_kv(out, &mut first, Key::Str(k), Attr::Value(v));
            }
            out.push_str("]}}");
        }
    }
}

fn put_int(out: &mut String, v: i64) {
    out.push_str(itoa::Buffer::new().format(v));
}

/// A double: the shortest text that reads back as the same value, or the
/// JSON mapping's strings for the values JSON numbers cannot express.
fn put_double(out: &mut String, f: f64) {
    if f.is_finite() {
        out.push_str(ryu::Buffer::new().format_finite(f));
    } else if f.is_nan() {
        out.push_str(r#""NaN""#);
    } else if f > 0.0 {
        out.push_str(r#""Infinity""#);
    } else {
        out.push_str(r#""-Infinity""#);
    }
}

/// A JSON string: quoted and escaped.
fn put_str(out: &mut String, s: &str) {
    out.push('"');
    put_escaped(out, s);
    out.push('"');
}

/// What each byte becomes inside a JSON string: 0 for itself, else the
/// letter of a short escape, or `u` for `\u00XX`.
static ESCAPE: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = b'u';
        b += 1;
    }
    table[0x08] = b'b';
    table[0x09] = b't';
    table[0x0a] = b'n';
    table[0x0c] = b'f';
    table[0x0d] = b'r';
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    table
};

const HEX: &[u8; 16] = b"0123456789abcdef";

/// The body of a JSON string: `"`, `\` and control characters escaped;
/// everything else, non-ASCII included, is valid UTF-8 and goes out as is.
fn put_escaped(out: &mut String, s: &str) {
    let bytes = s.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        // Eight bytes at a time while none needs escaping (most text).
        if let Some(word) = bytes.get(i..i + 8) {
            let word = u64::from_le_bytes(word.try_into().unwrap_or_default());
            if !needs_escape(word) {
                i += 8;
                continue;
            }
        }
        let b = bytes[i];
        let escape = ESCAPE[usize::from(b)];
        if escape != 0 {
            // `b` is ASCII, so `i` is a char boundary.
            out.push_str(&s[start..i]);
            out.push('\\');
            if escape == b'u' {
                out.push_str("u00");
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 0xf)]));
            } else {
                out.push(char::from(escape));
            }
            start = i + 1;
        }
        i += 1;
    }
    out.push_str(&s[start..]);
}

/// Whether any of the eight bytes of `word` is a control character, `"` or
/// `\` (bytes of multi-byte characters are all 0x80 or above: never).
#[inline]
fn needs_escape(word: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // A byte below `n` (n <= 0x80) sets its high bit in `(w - n) & !w`.
    let below = |w: u64, n: u8| w.wrapping_sub(ONES * u64::from(n)) & !w & HIGH;
    let zero = |w: u64| below(w, 1);
    (below(word, 0x20)
        | zero(word ^ (ONES * u64::from(b'"')))
        | zero(word ^ (ONES * u64::from(b'\\'))))
        != 0
}

/// Lowercase hex (ids).
fn put_hex(out: &mut String, bytes: &[u8]) {
    for &b in bytes {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0xf)]));
    }
}

/// Standard base64 with padding (RFC 4648 §4), as the JSON mapping writes
/// `bytes`.
fn put_base64(out: &mut String, bytes: &[u8]) {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let sextet = |n: u32, shift: u32| char::from(ALPHABET[(n >> shift & 0x3f) as usize]);
    let mut chunks = bytes.chunks_exact(3);
    for c in &mut chunks {
        let n = u32::from(c[0]) << 16 | u32::from(c[1]) << 8 | u32::from(c[2]);
        for shift in [18, 12, 6, 0] {
            out.push(sextet(n, shift));
        }
    }
    match *chunks.remainder() {
        [a] => {
            let n = u32::from(a) << 16;
            out.push(sextet(n, 18));
            out.push(sextet(n, 12));
            out.push_str("==");
        }
        [a, b] => {
            let n = u32::from(a) << 16 | u32::from(b) << 8;
            out.push(sextet(n, 18));
            out.push(sextet(n, 12));
            out.push(sextet(n, 6));
            out.push('=');
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn escaped(s: &str) -> String {
        let mut out = String::new();
        put_str(&mut out, s);
        out
    }

    #[test]
    fn strings_are_escaped_as_serde_json_does() {
        let all_controls: String = (0u8..0x20).map(char::from).collect();
        for s in [
            "",
            "plain",
            "quote \" backslash \\ slash /",
            "tab\tnewline\nreturn\rbell\u{7}nul\u{0}del\u{7f}",
            &all_controls,
            "unicode é ü 漢字 😀 \u{2028}\u{2029} \u{feff}",
            "a long run of plain text, then a \" quote, then more text",
            "0123456789abcdef\u{1f}0123456789abcdef\\",
            "ÿÿÿÿÿÿÿÿ!!!!!!!!########\u{0}",
        ] {
            let out = escaped(s);
            assert_eq!(out, serde_json::to_string(s).unwrap());
            assert_eq!(serde_json::from_str::<String>(&out).unwrap(), s);
        }
    }

    #[test]
    fn every_byte_position_of_every_escape() {
        let specials: Vec<char> = (0u8..0x20)
            .map(char::from)
            .chain(['"', '\\', '\u{7f}', 'é', '😀', '!', '#', ']'])
            .collect();
        for c in specials {
            for at in 0..20 {
                let s: String = "x".repeat(at) + &c.to_string() + &"y".repeat(19 - at);
                assert_eq!(
                    escaped(&s),
                    serde_json::to_string(&s).unwrap(),
                    "{c:?} at {at}"
                );
            }
        }
    }

    #[test]
    fn doubles() {
        let text = |f: f64| {
            let mut out = String::new();
            put_double(&mut out, f);
            out
        };
        assert_eq!(text(1.5), "1.5");
        assert_eq!(text(0.0), "0.0");
        assert_eq!(text(-0.0), "-0.0");
        assert_eq!(text(1e300), "1e300");
        assert_eq!(text(f64::NAN), r#""NaN""#);
        assert_eq!(text(f64::INFINITY), r#""Infinity""#);
        assert_eq!(text(f64::NEG_INFINITY), r#""-Infinity""#);
        for f in [0.1, -2.5e-308, f64::MAX, f64::MIN_POSITIVE, 123_456.789] {
            assert_eq!(text(f).parse::<f64>().unwrap(), f);
        }
    }

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        for (input, expected) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            let mut out = String::new();
            put_base64(&mut out, input.as_bytes());
            assert_eq!(out, expected);
        }
        let mut out = String::new();
        put_base64(&mut out, &[0xff, 0xfe, 0x00, 0x3e, 0x3f]);
        assert_eq!(out, "//4APj8=");
    }
}
