//! The protobuf wire format of an `ExportTraceServiceRequest`, written
//! straight from the records.
//!
//! A length-delimited field needs its length before its body, and a message
//! tree encoder measures every nested message again at each level it is
//! written from. Here each length is computed once:
//!
//! - a span is measured in one pass over its attributes, then written. The
//!   length of a leaf (a string, a number) follows in O(1) from its size and
//!   is simply recomputed when written; the content length of every nested
//!   list (`ArrayValue`, `KeyValueList`, the tags) is measured once and kept
//!   in `sizes`, in the order the write pass meets them;
//! - the spans go into the buffer behind room left for the envelope
//!   (request, resource spans, resource, scope spans, scope), whose two
//!   outer lengths are known only once the spans are written; the envelope
//!   is then placed right before them. No span is ever moved.
//!
//! Field order and the fields left out (proto3 defaults: an empty string or
//! byte string, a zero number, an unset status) follow `prost`'s encoding of
//! the same message, byte for byte (the tests compare them).

use super::{
    for_each_constant, for_each_own_attribute, for_each_span, pick_attributes, resource_attributes,
    Attr, Attrs, Key, SpanView, StatusView,
};
use crate::export::Resource;
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
    /// The attributes every record of the batch carries, encoded once per
    /// batch (`Span.attributes` fields) and copied into each span.
    constants: Vec<u8>,
    /// Content lengths of the nested lists of the message being written.
    sizes: Vec<usize>,
    /// The application attributes that go out, for the span being written.
    picked: Vec<(usize, usize)>,
    /// The attributes of the message being written, as measured (empty
    /// between calls: only the allocation is kept).
    items: Vec<Item<'static>>,
}

/// One attribute as measured: its `AnyValue` is `value_len` long.
#[derive(Debug, Clone, Copy)]
struct Item<'a> {
    key: Key<'a>,
    attr: Attr<'a>,
    value_len: usize,
}

/// The same allocation, empty, for items that borrow from something else.
/// (Collecting a mapped `vec::IntoIter` into a `Vec` of a type of the same
/// size and alignment reuses the allocation.)
fn recycle<'b>(mut items: Vec<Item<'_>>) -> Vec<Item<'b>> {
    items.clear();
    items.into_iter().map(|_| unreachable!("empty")).collect()
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

impl Writer {
    pub(super) fn write(&mut self, resource: &Resource, batch: &[SpanRecord]) -> &[u8] {
        let Writer {
            buf,
            head,
            constants,
            sizes,
            picked,
            items: kept,
        } = self;
        let mut items = recycle(std::mem::take(kept));

        // Resource { attributes = 1 } and InstrumentationScope { name = 1, version = 2 }.
        sizes.clear();
        resource_attributes(resource, |key, attr| {
            push_measured(&mut items, sizes, key, attr)
        });
        let res_len = fields_len(&items);
        let version = resource.sdk_version;
        let scope_len = str_field_len(resource::SDK_NAME_VALUE) + str_field_len(version);
        let resource_field = ld(res_len);
        head.clear();
        head.resize(resource_field + ld(scope_len), 0);
        let mut w = Cursor::new(head);
        w.byte(key(1, LEN));
        w.varint(res_len);
        w.attributes(key(1, LEN), &items, sizes);
        w.byte(key(1, LEN));
        w.varint(scope_len);
        w.str_field(key(1, LEN), resource::SDK_NAME_VALUE);
        w.str_field(key(2, LEN), version);
        w.done();

        // The records' constant attributes, as `Span.attributes` = 9.
        sizes.clear();
        items.clear();
        for_each_constant(resource, |key, attr| {
            push_measured(&mut items, sizes, key, attr)
        });
        let constants_len = fields_len(&items);
        constants.clear();
        constants.resize(constants_len, 0);
        let mut w = Cursor::new(constants);
        w.attributes(key(9, LEN), &items, sizes);
        w.done();

        // ScopeSpans.spans = 2, behind room for the envelope.
        let room = head.len() + 2 * (1 + MAX_VARINT);
        buf.clear();
        buf.resize(room, 0);
        for_each_span(batch, resource.conventions, |s| {
            write_span(buf, resource, constants, s, sizes, picked, &mut items)
        });
        let spans_len = buf.len() - room;
        *kept = recycle(items);

        // Request { resource_spans = 1 { resource = 1, scope_spans = 2 { scope = 1, spans } } }.
        let scope_spans_len = head.len() - resource_field + spans_len;
        let resource_spans_len = resource_field + ld(scope_spans_len);
        let envelope = ld(resource_spans_len) - spans_len;
        let start = room - envelope;
        let mut w = Cursor::new(&mut buf[start..room]);
        w.byte(key(1, LEN));
        w.varint(resource_spans_len);
        w.bytes(&head[..resource_field]);
        w.byte(key(2, LEN));
        w.varint(scope_spans_len);
        w.bytes(&head[resource_field..]);
        w.done();
        &buf[start..]
    }
}

/// Measure, then write, one span as `ScopeSpans.spans` (field 2).
fn write_span<'a>(
    buf: &mut Vec<u8>,
    resource: &'a Resource,
    constants: &[u8],
    s: &SpanView<'a>,
    sizes: &mut Vec<usize>,
    picked: &mut Vec<(usize, usize)>,
    items: &mut Vec<Item<'a>>,
) {
    sizes.clear();
    items.clear();
    match s.attrs {
        Attrs::Record(record) => pick_attributes(record, picked),
        Attrs::Marker => picked.clear(),
    }

    // Span: trace_id = 1, span_id = 2, parent_span_id = 4, name = 5,
    // kind = 6, start = 7, end = 8, attributes = 9, events = 11, links = 13,
    // status = 15, flags = 16.
    let mut len = ld(16) + ld(8) + 2 + 6;
    if s.parent.is_some() {
        len += ld(8);
    }
    if let Some(state) = s.trace_state {
        len += str_field_len(state);
    }
    len += str_field_len(&s.name);
    len += fixed64_field_len(s.start) + fixed64_field_len(s.end);
    let constants = match s.attrs {
        Attrs::Record(_) => constants,
        Attrs::Marker => &[],
    };
    len += constants.len();
    for_each_own_attribute(s.attrs, resource, picked, |key, attr| {
        push_measured(items, sizes, key, attr)
    });
    len += fields_len(items);
    // Events = 11, each { time_unix_nano = 1, name = 2, attributes = 3 }:
    // an event's length goes into `sizes` ahead of its attributes' lists.
    let events = match s.attrs {
        Attrs::Record(record) => record.events(),
        Attrs::Marker => &[],
    };
    for event in events {
        let slot = sizes.len();
        sizes.push(0);
        let mut inner = fixed64_field_len(event.unix_nanos()) + str_field_len(event.name());
        for (k, v) in event.attributes() {
            inner += ld(kv_len(Key::Str(k), measure_value(v, sizes)));
        }
        sizes[slot] = inner;
        len += ld(inner);
    }
    // Links = 13, each { trace_id = 1, span_id = 2 }.
    const LINK_LEN: usize = 2 + 16 + 2 + 8;
    if s.link.is_some() {
        len += ld(LINK_LEN);
    }
    let status_len = status_len(s.status);
    if let Some(n) = status_len {
        len += ld(n);
    }

    let start = buf.len();
    buf.resize(start + ld(len), 0);
    let mut w = Cursor::new(&mut buf[start..]);
    w.byte(key(2, LEN));
    w.varint(len);
    w.bytes_field(key(1, LEN), &s.trace_id);
    w.bytes_field(key(2, LEN), &s.span_id);
    if let Some(state) = s.trace_state {
        w.str_field(key(3, LEN), state);
    }
    if let Some(parent) = &s.parent {
        w.bytes_field(key(4, LEN), parent);
    }
    w.str_field(key(5, LEN), &s.name);
    w.byte(key(6, 0));
    w.byte(s.kind as u8);
    w.fixed64_field(key(7, 1), s.start);
    w.fixed64_field(key(8, 1), s.end);
    let mut next = w.attributes(key(9, LEN), items, sizes);
    w.bytes(constants);
    for event in events {
        let inner = sizes[next];
        next += 1;
        w.byte(key(11, LEN));
        w.varint(inner);
        w.fixed64_field(key(1, 1), event.unix_nanos());
        w.str_field(key(2, LEN), event.name());
        for (k, v) in event.attributes() {
            w.kv(key(3, LEN), Key::Str(k), measured(v, sizes, next));
            w.value(v, sizes, &mut next);
        }
    }
    if let Some((trace_id, span_id)) = &s.link {
        w.byte(key(13, LEN));
        w.varint(LINK_LEN);
        w.bytes_field(key(1, LEN), trace_id);
        w.bytes_field(key(2, LEN), span_id);
    }
    if let Some(n) = status_len {
        // Status: message = 2, code = 3.
        w.byte(key(15, LEN));
        w.varint(n);
        let (message, code) = match s.status {
            StatusView::Error(m) => (m, otlp::STATUS_CODE_ERROR),
            _ => ("", otlp::STATUS_CODE_OK),
        };
        w.str_field(key(2, LEN), message);
        w.byte(key(3, 0));
        w.byte(code as u8);
    }
    w.bytes(&SPAN_FLAGS_KEY);
    w.bytes(&s.flags.to_le_bytes());
    w.done();
}

/// Measure an attribute into `items` (the lengths of its nested lists into
/// `sizes`).
#[inline(always)]
fn push_measured<'a>(
    items: &mut Vec<Item<'a>>,
    sizes: &mut Vec<usize>,
    key: Key<'a>,
    attr: Attr<'a>,
) {
    let value_len = measure(attr, sizes);
    items.push(Item {
        key,
        attr,
        value_len,
    });
}

/// The length of measured attributes written as repeated `KeyValue` fields.
fn fields_len(items: &[Item<'_>]) -> usize {
    items.iter().map(|i| ld(kv_len(i.key, i.value_len))).sum()
}

/// The `Status` message's length; `None` writes no status.
fn status_len(status: StatusView<'_>) -> Option<usize> {
    match status {
        StatusView::Unset => None,
        StatusView::Ok => Some(2),
        StatusView::Error(m) => Some(str_field_len(m) + 2),
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

/// A length-delimited field with a one-byte key: key, length, body.
#[inline]
fn ld(body: usize) -> usize {
    1 + varint_len(body as u64) + body
}

/// A string field, left out when empty.
#[inline]
fn str_field_len(s: &str) -> usize {
    if s.is_empty() {
        0
    } else {
        ld(s.len())
    }
}

/// A `fixed64` field, left out when zero.
#[inline]
fn fixed64_field_len(v: u64) -> usize {
    if v == 0 {
        0
    } else {
        9
    }
}

/// A `KeyValue` { key = 1, value = 2 } whose `AnyValue` is `value_len` long.
#[inline]
fn kv_len(key: Key<'_>, value_len: usize) -> usize {
    let n = key.len();
    (if n == 0 { 0 } else { ld(n) }) + ld(value_len)
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
            .map(|(k, v)| ld(kv_len(Key::Str(k), measure_value(v, sizes))))
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

/// Writes into a slice sized to the exact length measured.
struct Cursor<'a> {
    buf: &'a mut [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn new(buf: &'a mut [u8]) -> Self {
        Cursor { buf, pos: 0 }
    }

    /// Checks that the measured length was filled exactly.
    fn done(self) {
        debug_assert_eq!(self.pos, self.buf.len(), "measured length");
    }

    #[inline(always)]
    fn byte(&mut self, b: u8) {
        self.buf[self.pos] = b;
        self.pos += 1;
    }

    #[inline(always)]
    fn bytes(&mut self, b: &[u8]) {
        self.buf[self.pos..self.pos + b.len()].copy_from_slice(b);
        self.pos += b.len();
    }

    #[inline(always)]
    fn varint(&mut self, v: usize) {
        self.varint64(v as u64);
    }

    #[inline(always)]
    fn varint64(&mut self, mut v: u64) {
        if v < 0x80 {
            self.byte(v as u8);
            return;
        }
        while v >= 0x80 {
            self.byte(v as u8 | 0x80);
            v >>= 7;
        }
        self.byte(v as u8);
    }

    /// A length-delimited field, written even when empty (a `oneof` member).
    #[inline(always)]
    fn ld(&mut self, field_key: u8, bytes: &[u8]) {
        self.byte(field_key);
        self.varint(bytes.len());
        self.bytes(bytes);
    }

    /// A plain string field: left out when empty.
    #[inline(always)]
    fn str_field(&mut self, field_key: u8, s: &str) {
        if !s.is_empty() {
            self.ld(field_key, s.as_bytes());
        }
    }

    /// A plain bytes field (never empty here: ids are 8 or 16 bytes).
    #[inline(always)]
    fn bytes_field(&mut self, field_key: u8, bytes: &[u8]) {
        self.ld(field_key, bytes);
    }

    /// A `fixed64` field: left out when zero.
    #[inline(always)]
    fn fixed64_field(&mut self, field_key: u8, v: u64) {
        if v != 0 {
            self.byte(field_key);
            self.bytes(&v.to_le_bytes());
        }
    }

    /// Measured attributes, each a `KeyValue` as field `field_key`; returns
    /// the index in `sizes` of what was measured after them.
    fn attributes(&mut self, field_key: u8, items: &[Item<'_>], sizes: &[usize]) -> usize {
        let mut next = 0;
        for item in items {
            self.kv(field_key, item.key, item.value_len);
            self.attr(item.attr, sizes, &mut next);
        }
        next
    }

    /// A key's bytes: most keys are one static string.
    #[inline(always)]
    fn key(&mut self, k: Key<'_>) {
        match k {
            Key::Str(s) => self.bytes(s.as_bytes()),
            k => k.for_each_part(|p| self.bytes(p)),
        }
    }

    /// A `KeyValue`'s field key, length, key, and its value's key and
    /// length: what comes before the `AnyValue`'s body.
    #[inline(always)]
    fn kv(&mut self, field_key: u8, k: Key<'_>, value_len: usize) {
        let len = kv_len(k, value_len);
        let key_len = k.len();
        if len < 0x80 && key_len != 0 {
            // The common case: every length fits in one byte.
            self.bytes(&[field_key, len as u8, key(1, LEN), key_len as u8]);
            self.key(k);
            self.bytes(&[key(2, LEN), value_len as u8]);
            return;
        }
        self.byte(field_key);
        self.varint(len);
        if key_len != 0 {
            self.byte(key(1, LEN));
            self.varint(key_len);
            self.key(k);
        }
        self.byte(key(2, LEN));
        self.varint(value_len);
    }

    /// An attribute's `AnyValue` body.
    #[inline(always)]
    fn attr(&mut self, a: Attr<'_>, sizes: &[usize], next: &mut usize) {
        match a {
            Attr::Str(s) => self.ld(key(1, LEN), s.as_bytes()),
            Attr::Bool(b) => {
                self.byte(key(2, 0));
                self.byte(u8::from(b));
            }
            Attr::I64(i) => {
                self.byte(key(3, 0));
                self.varint64(i as u64);
            }
            Attr::F64(f) => {
                self.byte(key(4, 1));
                self.bytes(&f.to_le_bytes());
            }
            Attr::Joined(parts) => {
                self.byte(key(1, LEN));
                self.varint(joined_len(parts));
                for (i, p) in parts.iter().enumerate() {
                    if i > 0 {
                        self.byte(b',');
                    }
                    self.bytes(p.as_bytes());
                }
            }
            Attr::Tags(tags) => {
                let inner = sizes[*next];
                *next += 1;
                self.byte(key(5, LEN));
                self.varint(inner);
                for t in tags {
                    self.array_string(t);
                }
            }
            Attr::OneTag(t) => {
                let inner = sizes[*next];
                *next += 1;
                self.byte(key(5, LEN));
                self.varint(inner);
                self.array_string(t);
            }
            Attr::Value(v) => self.value(v, sizes, next),
        }
    }

    /// One string of an `ArrayValue`: `values = 1`, an `AnyValue` with
    /// `string_value = 1`.
    fn array_string(&mut self, s: &str) {
        self.byte(key(1, LEN));
        self.varint(ld(s.len()));
        self.ld(key(1, LEN), s.as_bytes());
    }

    /// An `AnyValue` body: string = 1, bool = 2, int = 3, double = 4,
    /// array = 5, kvlist = 6, bytes = 7.
    #[inline(always)]
    fn value(&mut self, v: &Value, sizes: &[usize], next: &mut usize) {
        match v {
            Value::Str(s) => self.ld(key(1, LEN), s.as_bytes()),
            Value::Bool(b) => {
                self.byte(key(2, 0));
                self.byte(u8::from(*b));
            }
            Value::I64(i) => {
                self.byte(key(3, 0));
                self.varint64(*i as u64);
            }
            Value::F64(f) => {
                self.byte(key(4, 1));
                self.bytes(&f.to_le_bytes());
            }
            Value::Bytes(b) => self.ld(key(7, LEN), b),
            Value::Array(_) | Value::Map(_) => self.list(v, sizes, next),
        }
    }

    /// A list's `AnyValue` body: `array_value` (5) or `kvlist_value` (6).
    #[inline(never)]
    fn list(&mut self, v: &Value, sizes: &[usize], next: &mut usize) {
        let inner = sizes[*next];
        *next += 1;
        match v {
            Value::Array(items) => {
                self.byte(key(5, LEN));
                self.varint(inner);
                for item in items {
                    // ArrayValue.values = 1
                    self.byte(key(1, LEN));
                    self.varint(measured(item, sizes, *next));
                    self.value(item, sizes, next);
                }
            }
            Value::Map(entries) => {
                self.byte(key(6, LEN));
                self.varint(inner);
                for (k, v) in entries {
                    // KeyValueList.values = 1
                    self.kv(key(1, LEN), Key::Str(k), measured(v, sizes, *next));
                    self.value(v, sizes, next);
                }
            }
            _ => unreachable!("a list"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn varint(v: u64) -> Vec<u8> {
        let mut buf = [0; MAX_VARINT];
        let mut w = Cursor::new(&mut buf);
        w.varint64(v);
        let n = w.pos;
        buf[..n].to_vec()
    }

    #[test]
    fn varint_lengths() {
        for v in [0, 1, 127, 128, 16_383, 16_384, u32::MAX as u64, u64::MAX] {
            assert_eq!(varint(v).len(), varint_len(v), "{v}");
        }
        assert_eq!(varint_len(u64::MAX), MAX_VARINT);
        assert_eq!(varint(300), [0xac, 0x02]);
    }

    #[test]
    fn flags_key_is_field_16_fixed32() {
        assert_eq!(varint(16 << 3 | 5), SPAN_FLAGS_KEY);
    }

    #[test]
    fn recycled_items_keep_their_allocation() {
        let mut items: Vec<Item<'static>> = Vec::with_capacity(16);
        items.push(Item {
            key: Key::Str("k"),
            attr: Attr::Bool(true),
            value_len: 2,
        });
        let cap = items.capacity();
        let local = String::from("local");
        let mut shorter: Vec<Item<'_>> = recycle(items);
        shorter.push(Item {
            key: Key::Str(&local),
            attr: Attr::Str(&local),
            value_len: 7,
        });
        let back: Vec<Item<'static>> = recycle(shorter);
        assert!(back.is_empty());
        assert_eq!(back.capacity(), cap);
    }
}
