//! The protobuf wire format of an `ExportTraceServiceRequest`, written
//! straight from the records in one pass.
//!
//! A length-delimited field needs its length before its body. Most lengths
//! here are known before the body is written: an attribute's `KeyValue`
//! follows in O(1) from the sizes of its key and value (a list value, rare,
//! is measured first, its nested lengths kept in `sizes`). The span and an
//! event are the exceptions: they are written behind room for a two-byte
//! length, which is filled in once the body is written. A body of 128 to
//! 16,383 bytes (nearly every span) is never moved; a shorter or longer one
//! is moved once, by the byte its length needs less or more.
//!
//! What is the same on many spans is encoded once and copied as bytes:
//!
//! - the Neatlogs vocabulary's kind keys (`openinference.span.kind`,
//!   `neatlogs.span.kind`, `neatlogs.internal`), once per kind for the
//!   encoder's life;
//! - the attributes every record of a batch carries (from the resource), and
//!   the completion marker's, once per batch;
//! - the envelope (request, resource spans, resource, scope spans, scope),
//!   once per batch: the spans go into the buffer behind room left for it,
//!   and it is placed right before them once their length is known.
//!
//! Field order and the fields left out (proto3 defaults: an empty string or
//! byte string, a zero number, an unset status) follow `prost`'s encoding of
//! the same message, byte for byte (the tests compare them).

use super::{
    for_each_constant, for_each_span, for_each_varying_attribute, marker_attributes, neatlogs_kind,
    pick_attributes, resource_attributes, Attr, Attrs, Key, SpanView, StatusView,
};
use crate::export::{Conventions, Resource};
use crate::kind::SpanKind;
use crate::record::SpanRecord;
use crate::value::Value;
use crate::wire::{otlp, resource};

/// Reused buffers: after the first few batches, writing allocates only for
/// a larger request than any before.
#[derive(Debug, Default)]
pub(super) struct Writer {
    /// The request, from `start` on (see [`Writer::write`]).
    buf: Vec<u8>,
    /// The resource field then the scope field, built before the spans.
    head: Vec<u8>,
    /// The envelope, built once the spans are written.
    envelope: Vec<u8>,
    /// The attributes every record of the batch carries, encoded once per
    /// batch (`Span.attributes` fields) and copied into each span.
    constants: Vec<u8>,
    /// The completion marker's attributes, encoded once per batch.
    marker: Vec<u8>,
    /// The Neatlogs kind keys of each kind (by declaration order), encoded
    /// with the first batch: they depend on nothing else.
    kinds: [Vec<u8>; SpanKind::ALL.len()],
    /// Content lengths of the nested lists of the value being written.
    sizes: Vec<usize>,
    /// The application attributes that go out, for the span being written.
    picked: Vec<(usize, usize)>,
}

/// The most bytes a length varint takes.
const MAX_VARINT: usize = 10;

// Field keys (field number << 3 | wire type), all one byte except `flags`.
const LEN: u8 = 2;
const fn key(field: u8, wire_type: u8) -> u8 {
    field << 3 | wire_type
}
/// `Span.flags` (field 16, fixed32): two key bytes.
const SPAN_FLAGS_KEY: [u8; 2] = [0x85, 0x01];
/// `Span.attributes`.
const SPAN_ATTRIBUTE: u8 = key(9, LEN);

impl Writer {
    pub(super) fn write(&mut self, resource: &Resource, batch: &[SpanRecord]) -> &[u8] {
        let Writer {
            buf,
            head,
            envelope,
            constants,
            marker,
            kinds,
            sizes,
            picked,
        } = self;

        // ResourceSpans.resource = 1 { attributes = 1 }, then
        // ScopeSpans.scope = 1 { name = 1, version = 2 }.
        head.clear();
        let at = open(head, key(1, LEN));
        resource_attributes(resource, |k, a| attribute(head, key(1, LEN), k, a, sizes));
        close(head, at);
        let resource_field = head.len();
        let at = open(head, key(1, LEN));
        str_field(head, key(1, LEN), resource::SDK_NAME_VALUE);
        str_field(head, key(2, LEN), resource.sdk_version);
        close(head, at);

        // The kinds' keys (once), what every record carries, and the
        // marker's attributes.
        if kinds[0].is_empty() {
            for (block, kind) in kinds.iter_mut().zip(SpanKind::ALL) {
                neatlogs_kind(kind, |k, a| attribute(block, SPAN_ATTRIBUTE, k, a, sizes));
            }
        }
        constants.clear();
        for_each_constant(resource, |k, a| {
            attribute(constants, SPAN_ATTRIBUTE, k, a, sizes)
        });
        marker.clear();
        marker_attributes(resource, |k, a| {
            attribute(marker, SPAN_ATTRIBUTE, k, a, sizes)
        });
        let blocks = Blocks {
            constants,
            marker,
            kinds,
            neatlogs: resource.conventions.contains(Conventions::NEATLOGS),
        };

        // ScopeSpans.spans = 2, behind room for the envelope.
        let room = head.len() + 2 * (1 + MAX_VARINT);
        buf.clear();
        buf.resize(room, 0);
        for_each_span(batch, resource.conventions, |s| {
            write_span(buf, resource, &blocks, s, sizes, picked)
        });
        let spans_len = buf.len() - room;

        // Request { resource_spans = 1 { resource = 1, scope_spans = 2 { scope = 1, spans } } }.
        let scope_spans_len = head.len() - resource_field + spans_len;
        let resource_spans_len = resource_field + ld(scope_spans_len);
        envelope.clear();
        envelope.push(key(1, LEN));
        varint(envelope, resource_spans_len as u64);
        envelope.extend_from_slice(&head[..resource_field]);
        envelope.push(key(2, LEN));
        varint(envelope, scope_spans_len as u64);
        envelope.extend_from_slice(&head[resource_field..]);
        let start = room - envelope.len();
        buf[start..room].copy_from_slice(envelope);
        &buf[start..]
    }
}

/// The attribute blocks a span copies as bytes.
struct Blocks<'w> {
    /// What every record carries, last.
    constants: &'w [u8],
    /// All of the completion marker's attributes.
    marker: &'w [u8],
    /// Each kind's Neatlogs kind keys, first.
    kinds: &'w [Vec<u8>; SpanKind::ALL.len()],
    /// Whether the Neatlogs vocabulary (and so its kind keys) is written.
    neatlogs: bool,
}

/// One span as `ScopeSpans.spans` (field 2).
fn write_span<'a>(
    buf: &mut Vec<u8>,
    resource: &'a Resource,
    blocks: &Blocks<'_>,
    s: &SpanView<'a>,
    sizes: &mut Vec<usize>,
    picked: &mut Vec<(usize, usize)>,
) {
    let at = open(buf, key(2, LEN));
    // Span: trace_id = 1, span_id = 2, trace_state = 3, parent_span_id = 4,
    // name = 5, kind = 6, start = 7, end = 8, attributes = 9, events = 11,
    // links = 13, status = 15, flags = 16.
    let mut ids = [0u8; 28];
    ids[0] = key(1, LEN);
    ids[1] = 16;
    ids[2..18].copy_from_slice(&s.trace_id);
    ids[18] = key(2, LEN);
    ids[19] = 8;
    ids[20..].copy_from_slice(&s.span_id);
    buf.extend_from_slice(&ids);
    if let Some(state) = s.trace_state {
        str_field(buf, key(3, LEN), state);
    }
    if let Some(parent) = &s.parent {
        let mut field = [key(4, LEN), 8, 0, 0, 0, 0, 0, 0, 0, 0];
        field[2..].copy_from_slice(parent);
        buf.extend_from_slice(&field);
    }
    str_field(buf, key(5, LEN), &s.name);
    buf.extend_from_slice(&[key(6, 0), s.kind as u8]);
    fixed64_field(buf, key(7, 1), s.start);
    fixed64_field(buf, key(8, 1), s.end);
    let events = match s.attrs {
        Attrs::Record(record) => {
            pick_attributes(record, picked);
            if blocks.neatlogs {
                buf.extend_from_slice(&blocks.kinds[record.kind() as usize]);
            }
            for_each_varying_attribute(record, resource, picked, |k, a| {
                attribute(buf, SPAN_ATTRIBUTE, k, a, sizes)
            });
            buf.extend_from_slice(blocks.constants);
            record.events()
        }
        Attrs::Marker => {
            buf.extend_from_slice(blocks.marker);
            &[]
        }
    };
    // Events = 11, each { time_unix_nano = 1, name = 2, attributes = 3 }.
    for event in events {
        let at = open(buf, key(11, LEN));
        fixed64_field(buf, key(1, 1), event.unix_nanos());
        str_field(buf, key(2, LEN), event.name());
        for (k, v) in event.attributes() {
            attribute(buf, key(3, LEN), Key::Str(k), Attr::Value(v), sizes);
        }
        close(buf, at);
    }
    // Links = 13, each { trace_id = 1, span_id = 2 }.
    if let Some((trace_id, span_id)) = &s.link {
        let mut link = [0u8; 2 + 2 + 16 + 2 + 8];
        link[..4].copy_from_slice(&[key(13, LEN), 28, key(1, LEN), 16]);
        link[4..20].copy_from_slice(trace_id);
        link[20..22].copy_from_slice(&[key(2, LEN), 8]);
        link[22..].copy_from_slice(span_id);
        buf.extend_from_slice(&link);
    }
    // Status: message = 2, code = 3.
    match s.status {
        StatusView::Unset => {}
        StatusView::Ok => {
            buf.extend_from_slice(&[key(15, LEN), 2, key(3, 0), otlp::STATUS_CODE_OK as u8]);
        }
        StatusView::Error(message) => {
            buf.push(key(15, LEN));
            varint(buf, (str_field_len(message) + 2) as u64);
            str_field(buf, key(2, LEN), message);
            buf.extend_from_slice(&[key(3, 0), otlp::STATUS_CODE_ERROR as u8]);
        }
    }
    let flags = s.flags.to_le_bytes();
    buf.extend_from_slice(&[
        SPAN_FLAGS_KEY[0],
        SPAN_FLAGS_KEY[1],
        flags[0],
        flags[1],
        flags[2],
        flags[3],
    ]);
    close(buf, at);
}

/// Starts a length-delimited field whose length is known only once its body
/// is written: its key, then room for a two-byte length. Returns where the
/// field starts, for [`close`].
#[inline(always)]
fn open(buf: &mut Vec<u8>, field_key: u8) -> usize {
    let at = buf.len();
    buf.extend_from_slice(&[field_key, 0, 0]);
    at
}

/// Fills in the length of the field [`open`] started at `at`, whose body
/// runs to the end of `buf`: in place when it takes two bytes, else the
/// body moves by the difference.
#[inline(always)]
fn close(buf: &mut Vec<u8>, at: usize) {
    let body = at + 3;
    let len = buf.len() - body;
    if (0x80..0x4000).contains(&len) {
        buf[at + 1] = len as u8 | 0x80;
        buf[at + 2] = (len >> 7) as u8;
    } else {
        close_moving(buf, at, len);
    }
}

#[inline(never)]
fn close_moving(buf: &mut Vec<u8>, at: usize, len: usize) {
    let body = at + 3;
    let n = varint_len(len as u64);
    let new_body = at + 1 + n;
    if n < 2 {
        buf.copy_within(body.., new_body);
        buf.truncate(new_body + len);
    } else {
        buf.resize(new_body + len, 0);
        buf.copy_within(body..body + len, new_body);
    }
    let mut pos = at + 1;
    let mut v = len as u64;
    while v >= 0x80 {
        buf[pos] = v as u8 | 0x80;
        v >>= 7;
        pos += 1;
    }
    buf[pos] = v as u8;
}

/// One attribute as a `KeyValue` { key = 1, value = 2 } in field
/// `field_key`.
#[inline(always)]
fn attribute(buf: &mut Vec<u8>, field_key: u8, k: Key<'_>, a: Attr<'_>, sizes: &mut Vec<usize>) {
    let key_len = k.len();
    if let Attr::Str(s) = a {
        // The common case: a string, every length in one byte.
        let value_len = 2 + s.len();
        let kv = 2 + key_len + 2 + value_len;
        if kv < 0x80 && key_len != 0 {
            buf.extend_from_slice(&[field_key, kv as u8, key(1, LEN), key_len as u8]);
            put_key(buf, k);
            buf.extend_from_slice(&[key(2, LEN), value_len as u8, key(1, LEN), s.len() as u8]);
            buf.extend_from_slice(s.as_bytes());
            return;
        }
    }
    sizes.clear();
    let value_len = measure(a, sizes);
    buf.push(field_key);
    varint(
        buf,
        ((if key_len == 0 { 0 } else { ld(key_len) }) + ld(value_len)) as u64,
    );
    if key_len != 0 {
        buf.push(key(1, LEN));
        varint(buf, key_len as u64);
        put_key(buf, k);
    }
    buf.push(key(2, LEN));
    varint(buf, value_len as u64);
    let mut next = 0;
    attr_body(buf, a, sizes, &mut next);
}

/// A key's bytes: most keys are one static string.
#[inline(always)]
fn put_key(buf: &mut Vec<u8>, k: Key<'_>) {
    match k {
        Key::Str(s) => buf.extend_from_slice(s.as_bytes()),
        k => k.for_each_part(|p| buf.extend_from_slice(p)),
    }
}

/// The length of a varint.
#[inline]
fn varint_len(v: u64) -> usize {
    if v < 0x80 {
        return 1;
    }
    // 1 byte per 7 significant bits (as prost computes it).
    ((((v | 1).leading_zeros() ^ 63) * 9 + 73) / 64) as usize
}

#[inline(always)]
fn varint(buf: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        buf.push(v as u8 | 0x80);
        v >>= 7;
    }
    buf.push(v as u8);
}

/// A length-delimited field with a one-byte key: key, length, body.
#[inline]
fn ld(body: usize) -> usize {
    1 + varint_len(body as u64) + body
}

/// The length of a string field, left out when empty.
#[inline]
fn str_field_len(s: &str) -> usize {
    if s.is_empty() {
        0
    } else {
        ld(s.len())
    }
}

/// A length-delimited field, written even when empty (a `oneof` member).
#[inline(always)]
fn ld_field(buf: &mut Vec<u8>, field_key: u8, bytes: &[u8]) {
    if bytes.len() < 0x80 {
        buf.extend_from_slice(&[field_key, bytes.len() as u8]);
    } else {
        buf.push(field_key);
        varint(buf, bytes.len() as u64);
    }
    buf.extend_from_slice(bytes);
}

/// A plain string field: left out when empty.
#[inline(always)]
fn str_field(buf: &mut Vec<u8>, field_key: u8, s: &str) {
    if !s.is_empty() {
        ld_field(buf, field_key, s.as_bytes());
    }
}

/// A `fixed64` field: left out when zero.
#[inline(always)]
fn fixed64_field(buf: &mut Vec<u8>, field_key: u8, v: u64) {
    if v != 0 {
        let b = v.to_le_bytes();
        buf.extend_from_slice(&[field_key, b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);
    }
}

/// The length of a `KeyValue` { key = 1, value = 2 } with a key `key_len`
/// long and an `AnyValue` `value_len` long.
#[inline]
fn kv_len(key_len: usize, value_len: usize) -> usize {
    (if key_len == 0 { 0 } else { ld(key_len) }) + ld(value_len)
}

/// The length of a leaf `AnyValue` (one field: string = 1, bool = 2,
/// int = 3, double = 4, bytes = 7); `None` for a list.
#[inline]
fn leaf_len(v: &Value) -> Option<usize> {
    Some(match v {
        Value::Str(s) => ld(s.len()),
        Value::Bool(_) => 2,
        Value::I64(i) => 1 + varint_len(*i as u64),
        Value::F64(_) => 9,
        Value::Bytes(b) => ld(b.len()),
        Value::Array(_) | Value::Map(_) => return None,
    })
}

/// The length of an attribute's `AnyValue`, recording the content length of
/// each nested list in `sizes`, in the order the writer meets them.
#[inline(always)]
fn measure(a: Attr<'_>, sizes: &mut Vec<usize>) -> usize {
    match a {
        Attr::Str(s) => ld(s.len()),
        Attr::Bool(_) => 2,
        Attr::I64(i) => 1 + varint_len(i as u64),
        Attr::F64(_) => 9,
        Attr::Joined(parts) => ld(joined_len(parts)),
        Attr::Tags(tags) => {
            let inner = tags.iter().map(|t| ld(ld(t.len()))).sum();
            sizes.push(inner);
            ld(inner)
        }
        Attr::OneTag(t) => {
            let inner = ld(ld(t.len()));
            sizes.push(inner);
            ld(inner)
        }
        Attr::Value(v) => measure_value(v, sizes),
    }
}

#[inline(always)]
fn measure_value(v: &Value, sizes: &mut Vec<usize>) -> usize {
    match leaf_len(v) {
        Some(n) => n,
        None => measure_list(v, sizes),
    }
}

#[inline(never)]
fn measure_list(v: &Value, sizes: &mut Vec<usize>) -> usize {
    let slot = sizes.len();
    sizes.push(0);
    let inner = match v {
        Value::Array(items) => items.iter().map(|i| ld(measure_value(i, sizes))).sum(),
        Value::Map(entries) => entries
            .iter()
            .map(|(k, v)| ld(kv_len(k.len(), measure_value(v, sizes))))
            .sum(),
        _ => unreachable!("leaves are measured above"),
    };
    sizes[slot] = inner;
    ld(inner)
}

/// The length of a nested `AnyValue` already measured: O(1), from `sizes`
/// for a list (the next entry, at `next`).
#[inline]
fn measured(v: &Value, sizes: &[usize], next: usize) -> usize {
    leaf_len(v).unwrap_or_else(|| ld(sizes[next]))
}

fn joined_len(parts: &[String]) -> usize {
    parts.iter().map(String::len).sum::<usize>() + parts.len().saturating_sub(1)
}

/// An attribute's `AnyValue` body.
fn attr_body(buf: &mut Vec<u8>, a: Attr<'_>, sizes: &[usize], next: &mut usize) {
    match a {
        Attr::Str(s) => ld_field(buf, key(1, LEN), s.as_bytes()),
        Attr::Bool(b) => buf.extend_from_slice(&[key(2, 0), u8::from(b)]),
        Attr::I64(i) => {
            buf.push(key(3, 0));
            varint(buf, i as u64);
        }
        Attr::F64(f) => {
            let b = f.to_le_bytes();
            buf.extend_from_slice(&[key(4, 1), b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);
        }
        Attr::Joined(parts) => {
            buf.push(key(1, LEN));
            varint(buf, joined_len(parts) as u64);
            for (i, p) in parts.iter().enumerate() {
                if i > 0 {
                    buf.push(b',');
                }
                buf.extend_from_slice(p.as_bytes());
            }
        }
        Attr::Tags(tags) => {
            let inner = sizes[*next];
            *next += 1;
            buf.push(key(5, LEN));
            varint(buf, inner as u64);
            for t in tags {
                array_string(buf, t);
            }
        }
        Attr::OneTag(t) => {
            let inner = sizes[*next];
            *next += 1;
            buf.push(key(5, LEN));
            varint(buf, inner as u64);
            array_string(buf, t);
        }
        Attr::Value(v) => value(buf, v, sizes, next),
    }
}

/// One string of an `ArrayValue`: `values = 1`, an `AnyValue` with
/// `string_value = 1`.
fn array_string(buf: &mut Vec<u8>, s: &str) {
    buf.push(key(1, LEN));
    varint(buf, ld(s.len()) as u64);
    ld_field(buf, key(1, LEN), s.as_bytes());
}

/// An `AnyValue` body: string = 1, bool = 2, int = 3, double = 4,
/// array = 5, kvlist = 6, bytes = 7.
fn value(buf: &mut Vec<u8>, v: &Value, sizes: &[usize], next: &mut usize) {
    match v {
        Value::Str(s) => ld_field(buf, key(1, LEN), s.as_bytes()),
        Value::Bool(b) => buf.extend_from_slice(&[key(2, 0), u8::from(*b)]),
        Value::I64(i) => {
            buf.push(key(3, 0));
            varint(buf, *i as u64);
        }
        Value::F64(f) => {
            buf.push(key(4, 1));
            buf.extend_from_slice(&f.to_le_bytes());
        }
        Value::Bytes(b) => ld_field(buf, key(7, LEN), b),
        Value::Array(_) | Value::Map(_) => list(buf, v, sizes, next),
    }
}

/// A list's `AnyValue` body: `array_value` (5) or `kvlist_value` (6).
#[inline(never)]
fn list(buf: &mut Vec<u8>, v: &Value, sizes: &[usize], next: &mut usize) {
    let inner = sizes[*next];
    *next += 1;
    match v {
        Value::Array(items) => {
            buf.push(key(5, LEN));
            varint(buf, inner as u64);
            for item in items {
                // ArrayValue.values = 1
                buf.push(key(1, LEN));
                varint(buf, measured(item, sizes, *next) as u64);
                value(buf, item, sizes, next);
            }
        }
        Value::Map(entries) => {
            buf.push(key(6, LEN));
            varint(buf, inner as u64);
            for (k, v) in entries {
                // KeyValueList.values = 1 { key = 1, value = 2 }
                let value_len = measured(v, sizes, *next);
                buf.push(key(1, LEN));
                varint(buf, kv_len(k.len(), value_len) as u64);
                if !k.is_empty() {
                    ld_field(buf, key(1, LEN), k.as_bytes());
                }
                buf.push(key(2, LEN));
                varint(buf, value_len as u64);
                value(buf, v, sizes, next);
            }
        }
        _ => unreachable!("a list"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn varint_bytes(v: u64) -> Vec<u8> {
        let mut buf = Vec::new();
        varint(&mut buf, v);
        buf
    }

    #[test]
    fn varint_lengths() {
        for v in [0, 1, 127, 128, 16_383, 16_384, u32::MAX as u64, u64::MAX] {
            assert_eq!(varint_bytes(v).len(), varint_len(v), "{v}");
        }
        assert_eq!(varint_len(u64::MAX), MAX_VARINT);
        assert_eq!(varint_bytes(300), [0xac, 0x02]);
    }

    #[test]
    fn flags_key_is_field_16_fixed32() {
        assert_eq!(varint_bytes(16 << 3 | 5), SPAN_FLAGS_KEY);
    }

    #[test]
    fn a_field_closes_with_the_shortest_length_whatever_its_size() {
        for len in [0, 1, 127, 128, 300, 16_383, 16_384, 20_000, 2_097_152] {
            let mut buf = vec![7u8];
            let at = open(&mut buf, 0x12);
            buf.extend((0..len).map(|i| i as u8));
            close(&mut buf, at);
            let mut expected = vec![7u8, 0x12];
            varint(&mut expected, len as u64);
            expected.extend((0..len).map(|i| i as u8));
            assert_eq!(buf, expected, "{len}");
        }
    }
}
