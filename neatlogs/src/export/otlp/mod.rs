//! Finished spans as an OTLP `ExportTraceServiceRequest`, with the attributes
//! of the wire contract ([`crate::wire`], `docs/wire.md`), in protobuf or in
//! the OTLP JSON mapping.
//!
//! Both encodings are written straight from the [`SpanRecord`]s, with no
//! intermediate message tree: [`protobuf`] computes each nested message's
//! length exactly once, [`json`] writes one line of text. What goes out,
//! per request: one resource, one instrumentation scope (`neatlogs` and the
//! crate version), and the spans in batch order, each root followed by its
//! `neatlogs.trace.complete` marker. The tests check both encodings against
//! the `opentelemetry-proto` message types (a dev-dependency only).

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use super::{Conventions, Resource};
use crate::error::ParseError;
use crate::id::SpanId;
use crate::kind::SpanKind;
use crate::record::SpanRecord;
use crate::value::{Status, Value};
use crate::wire::{genai, openinference, otlp, resource, span, trace_complete};

mod json;
pub(crate) mod metrics;
mod protobuf;
mod vocab;

#[cfg(test)]
mod oracle_tests;

/// How OTLP payloads are encoded on the wire.
///
/// ```
/// use neatlogs::export::Protocol;
/// assert_eq!("http/json".parse::<Protocol>().unwrap(), Protocol::HttpJson);
/// assert_eq!(Protocol::default(), Protocol::HttpProtobuf);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Protocol {
    /// `application/x-protobuf` (the default; `NEATLOGS_PROTOCOL=http/protobuf`).
    #[default]
    HttpProtobuf,
    /// `application/json`, the OTLP JSON mapping (`NEATLOGS_PROTOCOL=http/json`).
    HttpJson,
}

impl Protocol {
    /// The name used by `NEATLOGS_PROTOCOL` (and `OTEL_EXPORTER_OTLP_PROTOCOL`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Protocol::HttpProtobuf => "http/protobuf",
            Protocol::HttpJson => "http/json",
        }
    }

    /// The request's `Content-Type`.
    pub const fn content_type(self) -> &'static str {
        match self {
            Protocol::HttpProtobuf => "application/x-protobuf",
            Protocol::HttpJson => "application/json",
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Protocol {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "http/protobuf" | "protobuf" => Ok(Protocol::HttpProtobuf),
            "http/json" | "json" => Ok(Protocol::HttpJson),
            _ => Err(ParseError::new(
                "OTLP protocol",
                s,
                "`http/protobuf` or `http/json` (gRPC is not supported)",
            )),
        }
    }
}

/// Encodes batches of finished spans as OTLP `ExportTraceServiceRequest`s,
/// in protobuf (`application/x-protobuf`) or in the OTLP JSON mapping
/// (`application/json`): what the built-in HTTP and file exporters send.
///
/// Each request carries one resource (from [`Resource`]), one
/// instrumentation scope (`neatlogs` and the crate version), and the spans
/// in batch order, each trace root followed by its `neatlogs.trace.complete`
/// marker span. The encoder keeps its buffers from one batch to the next, so
/// after the first few batches encoding allocates only for a larger batch
/// than any before.
///
/// Use it in an [`Exporter`](super::Exporter) that ships OTLP its own way:
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use neatlogs::export::{ExportError, Exporter, OtlpEncoder, Resource};
///
/// struct Ship {
///     encoder: OtlpEncoder,
///     sent: Arc<Mutex<Vec<Vec<u8>>>>,
/// }
///
/// impl Exporter for Ship {
///     fn export(&mut self, resource: &Resource, batch: &[neatlogs::export::SpanRecord]) -> Result<(), ExportError> {
///         let body = self.encoder.protobuf(resource, batch);
///         // a real exporter would POST `body` as application/x-protobuf
///         self.sent.lock().unwrap().push(body.to_vec());
///         Ok(())
///     }
/// }
///
/// let sent = Arc::new(Mutex::new(Vec::new()));
/// let ship = Ship { encoder: OtlpEncoder::new(), sent: sent.clone() };
/// neatlogs::init(neatlogs::Config::new().default_destination(false).exporter(ship))?;
/// drop(neatlogs::trace("chat").end_user_id("u_1").enter());
/// neatlogs::shutdown();
/// assert!(!sent.lock().unwrap().is_empty());
/// # Ok::<(), neatlogs::InitError>(())
/// ```
#[derive(Debug, Default)]
pub struct OtlpEncoder {
    protobuf: protobuf::Writer,
    json: json::Writer,
}

impl OtlpEncoder {
    /// An encoder with no buffers allocated yet.
    ///
    /// ```
    /// let encoder = neatlogs::export::OtlpEncoder::new();
    /// # drop(encoder);
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// The protobuf encoding (`application/x-protobuf`) of `batch`, valid
    /// until the next call.
    ///
    /// ```
    /// use neatlogs::export::{ExportError, Exporter, OtlpEncoder, Resource};
    ///
    /// struct FirstByte(OtlpEncoder);
    /// impl Exporter for FirstByte {
    ///     fn export(&mut self, resource: &Resource, batch: &[neatlogs::export::SpanRecord]) -> Result<(), ExportError> {
    ///         let bytes = self.0.protobuf(resource, batch);
    ///         // field 1 (resource_spans), length-delimited
    ///         assert_eq!(bytes[0], 0x0a);
    ///         Ok(())
    ///     }
    /// }
    /// neatlogs::init(neatlogs::Config::new().default_destination(false).exporter(FirstByte(OtlpEncoder::new())))?;
    /// drop(neatlogs::trace("chat").enter());
    /// neatlogs::shutdown();
    /// # Ok::<(), neatlogs::InitError>(())
    /// ```
    pub fn protobuf(&mut self, resource: &Resource, batch: &[SpanRecord]) -> &[u8] {
        self.protobuf.write(resource, batch)
    }

    /// The OTLP JSON encoding (`application/json`) of `batch`, on one line
    /// with no trailing newline, valid until the next call: hex trace and
    /// span ids, camelCase field names, 64-bit integers as strings, enums as
    /// integers, and fields at their default value left out (attribute
    /// values are always written, `false`, `0` and `""` included).
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use neatlogs::export::{ExportError, Exporter, OtlpEncoder, Resource};
    ///
    /// struct Lines(OtlpEncoder, Arc<Mutex<Vec<String>>>);
    /// impl Exporter for Lines {
    ///     fn export(&mut self, resource: &Resource, batch: &[neatlogs::export::SpanRecord]) -> Result<(), ExportError> {
    ///         let json = self.0.json(resource, batch);
    ///         self.1.lock().unwrap().push(json.to_owned());
    ///         Ok(())
    ///     }
    /// }
    /// let lines = Arc::new(Mutex::new(Vec::new()));
    /// let exporter = Lines(OtlpEncoder::new(), lines.clone());
    /// neatlogs::init(neatlogs::Config::new().default_destination(false).exporter(exporter))?;
    /// drop(neatlogs::trace("chat").end_user_id("u_1").enter());
    /// neatlogs::shutdown();
    ///
    /// let line = lines.lock().unwrap()[0].clone();
    /// assert!(!line.contains('\n'));
    /// assert!(line.contains(r#"{"key":"neatlogs.end_user.id","value":{"stringValue":"u_1"}}"#));
    /// let value: serde_json::Value = serde_json::from_str(&line).unwrap();
    /// let spans = &value["resourceSpans"][0]["scopeSpans"][0]["spans"];
    /// assert_eq!(spans[0]["name"], "chat");
    /// assert_eq!(spans[1]["name"], "neatlogs.trace.complete");
    /// assert_eq!(spans[0]["traceId"].as_str().unwrap().len(), 32);
    /// # Ok::<(), neatlogs::InitError>(())
    /// ```
    pub fn json(&mut self, resource: &Resource, batch: &[SpanRecord]) -> &str {
        self.json.write(resource, batch)
    }

    /// [`json`](Self::json) followed by a newline: one line of a JSON-lines
    /// file, ready for a single write.
    pub(crate) fn json_line(&mut self, resource: &Resource, batch: &[SpanRecord]) -> &[u8] {
        self.json.write_line(resource, batch)
    }
}

/// An attribute key as the writers see it: a string, or one put together
/// from static parts (`neatlogs.llm.input_messages.` `0` `.role`) without
/// allocating.
#[derive(Debug, Clone, Copy)]
enum Key<'a> {
    Str(&'a str),
    /// `prefix`, the index in decimal, `suffix`.
    Indexed(&'static str, usize, &'static str),
    /// Three static parts: `neatlogs.` `tool` `.input`.
    Joined(&'static str, &'static str, &'static str),
    /// A static prefix and a borrowed rest: `langfuse.trace.metadata.` `plan`.
    Prefixed(&'static str, &'a str),
    /// Two indices: `llm.output_messages.` `0` `.message.tool_calls.` `1`
    /// `.tool_call.id`.
    Indexed2(&'static str, usize, &'static str, usize, &'static str),
}

impl Key<'_> {
    /// Its length in bytes.
    fn len(&self) -> usize {
        match *self {
            Key::Str(s) => s.len(),
            Key::Indexed(p, i, s) => p.len() + digits(i) + s.len(),
            Key::Joined(a, b, c) => a.len() + b.len() + c.len(),
            Key::Prefixed(a, b) => a.len() + b.len(),
            Key::Indexed2(p, i, m, j, s) => p.len() + digits(i) + m.len() + digits(j) + s.len(),
        }
    }

    /// Calls `f` with its parts, in order.
    fn for_each_part(&self, mut f: impl FnMut(&[u8])) {
        match *self {
            Key::Str(s) => f(s.as_bytes()),
            Key::Indexed(p, i, s) => {
                f(p.as_bytes());
                f(itoa::Buffer::new().format(i).as_bytes());
                f(s.as_bytes());
            }
            Key::Joined(a, b, c) => {
                f(a.as_bytes());
                f(b.as_bytes());
                f(c.as_bytes());
            }
            Key::Prefixed(a, b) => {
                f(a.as_bytes());
                f(b.as_bytes());
            }
            Key::Indexed2(p, i, m, j, s) => {
                f(p.as_bytes());
                f(itoa::Buffer::new().format(i).as_bytes());
                f(m.as_bytes());
                f(itoa::Buffer::new().format(j).as_bytes());
                f(s.as_bytes());
            }
        }
    }

    #[cfg(test)]
    fn text(self) -> String {
        let mut out = Vec::new();
        self.for_each_part(|p| out.extend_from_slice(p));
        String::from_utf8(out).expect("keys are UTF-8")
    }
}

/// The number of decimal digits of `n`.
fn digits(n: usize) -> usize {
    n.checked_ilog10().map_or(1, |d| d as usize + 1)
}

/// One attribute value as the writers see it: the SDK's own values, a
/// reference into a record, or a list that exists only on the wire.
#[derive(Debug, Clone, Copy)]
enum Attr<'a> {
    Str(&'a str),
    Bool(bool),
    I64(i64),
    F64(f64),
    /// A list of strings (the trace's tags), as an `ArrayValue`.
    Tags(&'a [String]),
    /// A list of one string, as an `ArrayValue`.
    OneTag(&'a str),
    /// Strings written comma-joined as one string value.
    Joined(&'a [String]),
    Value(&'a Value),
}

/// The resource's attributes, in wire order.
fn resource_attributes<'a>(r: &'a Resource, mut f: impl FnMut(Key<'a>, Attr<'a>)) {
    resource_attributes_str(r, |k, a| f(Key::Str(k), a));
}

fn resource_attributes_str<'a>(r: &'a Resource, mut f: impl FnMut(&'a str, Attr<'a>)) {
    let neatlogs = r.conventions.contains(Conventions::NEATLOGS);
    f(resource::SERVICE_NAME, Attr::Str(&r.service_name));
    if let Some(w) = &r.workflow_name {
        if neatlogs {
            f(resource::WORKFLOW_NAME, Attr::Str(w));
        }
    }
    if r.conventions.contains(Conventions::OPENINFERENCE) {
        f(openinference::PROJECT_NAME, Attr::Str(&r.service_name));
    }
    f(resource::SDK_NAME, Attr::Str(resource::SDK_NAME_VALUE));
    f(
        resource::SDK_LANGUAGE,
        Attr::Str(resource::SDK_LANGUAGE_VALUE),
    );
    f(resource::SDK_VERSION, Attr::Str(r.sdk_version));
    if let Some(op) = &r.operator {
        // `user.id` is the end-user's key for every other vocabulary: the
        // operator goes there only when the Neatlogs one is alone.
        let key = if r.conventions == Conventions::NEATLOGS {
            resource::OPERATOR
        } else {
            span::OPERATOR
        };
        f(key, Attr::Str(op.as_str()));
    }
    if let Some(s) = &r.session_id {
        f(resource::SESSION, Attr::Str(s));
    }
    if neatlogs && !r.tags.is_empty() {
        f(resource::TAGS, Attr::Joined(&r.tags));
    }
    for (k, v) in &r.attributes {
        f(k, Attr::Str(v));
    }
}

/// A span's outcome as written: `Unset` writes no status at all.
#[derive(Clone, Copy)]
enum StatusView<'a> {
    Unset,
    Ok,
    Error(&'a str),
}

/// Where a span's attributes come from.
#[derive(Clone, Copy)]
enum Attrs<'a> {
    /// A record's: the SDK's keys, the root's identity, then the
    /// application's attributes picked by [`pick_attributes`].
    Record(&'a SpanRecord),
    /// The completion marker's fixed three.
    Marker,
}

/// One span as written: a record, or the completion marker of a root.
struct SpanView<'a> {
    trace_id: [u8; 16],
    span_id: [u8; 8],
    parent: Option<[u8; 8]>,
    /// `Span.flags`: whether the parent is remote, and the sampled flag.
    flags: u32,
    /// The W3C `tracestate` a continued trace came with.
    trace_state: Option<&'a str>,
    /// A root's span link: (trace id, span id) of the span it was started
    /// from.
    link: Option<([u8; 16], [u8; 8])>,
    name: Cow<'a, str>,
    /// The OTLP `SpanKind`.
    kind: i32,
    start: u64,
    end: u64,
    status: StatusView<'a>,
    attrs: Attrs<'a>,
}

impl<'a> SpanView<'a> {
    fn of(record: &'a SpanRecord, conventions: Conventions) -> Self {
        let mut name = Cow::Borrowed(record.name());
        let mut kind = otlp::SPAN_KIND_INTERNAL;
        if conventions.contains(Conventions::GENAI)
            && matches!(record.kind(), SpanKind::Llm | SpanKind::Embedding)
        {
            // A call to a model is a client span; named `{operation}
            // {model}` unless the Neatlogs backend, which shows the name
            // given, reads the same spans.
            kind = otlp::SPAN_KIND_CLIENT;
            let model = record
                .llm()
                .and_then(|c| c.request_model().or(c.response_model()));
            if let (false, Some(op), Some(model)) = (
                conventions.contains(Conventions::NEATLOGS),
                vocab::genai_operation(record.kind()),
                model,
            ) {
                name = Cow::Owned(format!("{op} {model}"));
            }
        }
        SpanView {
            trace_id: record.trace_id().to_bytes(),
            span_id: record.span_id().to_bytes(),
            parent: record.parent_span_id().map(SpanId::to_bytes),
            flags: if record.has_remote_parent() {
                otlp::SPAN_FLAGS_REMOTE_PARENT
            } else {
                otlp::SPAN_FLAGS
            },
            trace_state: record.trace_state(),
            link: record
                .link()
                .map(|(trace, span)| (trace.to_bytes(), span.to_bytes())),
            name,
            kind,
            start: record.start_unix_nanos(),
            end: record.end_unix_nanos(),
            status: match record.status() {
                Status::Unset => StatusView::Unset,
                Status::Ok => StatusView::Ok,
                Status::Error(message) => StatusView::Error(message),
            },
            attrs: Attrs::Record(record),
        }
    }

    /// The completion marker for a root that just ended.
    fn marker(root: &'a SpanRecord) -> Self {
        let root_id = root.span_id().to_bytes();
        let end = root.end_unix_nanos();
        SpanView {
            trace_id: root.trace_id().to_bytes(),
            span_id: marker_span_id(u64::from_be_bytes(root_id)),
            parent: Some(root_id),
            flags: otlp::SPAN_FLAGS,
            trace_state: root.trace_state(),
            link: None,
            name: Cow::Borrowed(trace_complete::NAME),
            kind: otlp::SPAN_KIND_INTERNAL,
            start: end,
            end,
            status: StatusView::Unset,
            attrs: Attrs::Marker,
        }
    }
}

/// Calls `f` with each span of `batch` in wire order: every record, and
/// after each root its completion marker (a Neatlogs-vocabulary span: only
/// when that vocabulary is written).
fn for_each_span<'a>(
    batch: &'a [SpanRecord],
    conventions: Conventions,
    mut f: impl FnMut(&SpanView<'a>),
) {
    let markers = conventions.contains(Conventions::NEATLOGS);
    for record in batch {
        f(&SpanView::of(record, conventions));
        // A root that continues a caller's trace is not the trace's root:
        // the caller's root ends the trace.
        if markers && record.is_root() && !record.has_remote_parent() {
            f(&SpanView::marker(record));
        }
    }
}

/// Which application attributes of a record go out: `(key index, value
/// index)` into [`SpanRecord::attributes`]. Keys the SDK owns are dropped
/// (a debug-level diagnostic says so), so a nested span can never carry
/// identity and the kind cannot be forged; a key set more than once goes out
/// once, at the place it first appeared, with the last value (OTLP keys are
/// unique). Spans carry few attributes, so a scan beats a set.
fn pick_attributes(record: &SpanRecord, out: &mut Vec<(usize, usize)>) {
    out.clear();
    let attrs = record.attributes();
    for (i, (key, _)) in attrs.iter().enumerate() {
        let key: &str = key;
        if is_reserved(key) {
            log::debug!(
                "neatlogs: attribute `{key}` on span `{}` is owned by the SDK and was dropped",
                record.name()
            );
            continue;
        }
        match out.iter_mut().find(|(k, _)| attrs[*k].0 == key) {
            Some(earlier) => earlier.1 = i,
            None => out.push((i, i)),
        }
    }
}

/// Whether an application attribute's key is one the SDK owns
/// ([`span::RESERVED`], and the `langfuse.trace.metadata.` keys; a `match`
/// compares the length first).
fn is_reserved(key: &str) -> bool {
    matches!(
        key,
        span::OPENINFERENCE_KIND
            | span::NEATLOGS_KIND
            | span::INTERNAL
            | span::END_USER_ID
            | span::ENDUSER_ID
            | span::END_USER_METADATA
            | span::SESSION
            | span::TAGS
            | trace_complete::ATTRIBUTE
            | span::WORKFLOW_NAME
            | span::OPERATOR
            | span::PROCESS_TAGS
            | openinference::USER_ID
            | openinference::SESSION_ID
            | openinference::METADATA
            | openinference::PROJECT_NAME
            | genai::CONVERSATION_ID
            | genai::LANGFUSE_USER_ID
            | genai::LANGFUSE_SESSION_ID
            | genai::LANGFUSE_TAGS
            | span::SAMPLING_PROBABILITY
            | span::TAIL_KEPT
    ) || key.starts_with(genai::LANGFUSE_METADATA_PREFIX)
}

/// Calls `f` with each attribute of a span in wire order; `picked` is what
/// [`pick_attributes`] chose for a record (unused for the marker).
fn for_each_attribute<'a>(
    attrs: Attrs<'a>,
    resource: &'a Resource,
    picked: &[(usize, usize)],
    mut f: impl FnMut(Key<'a>, Attr<'a>),
) {
    match attrs {
        Attrs::Marker => marker_attributes(resource, f),
        Attrs::Record(record) => {
            if resource.conventions.contains(Conventions::NEATLOGS) {
                neatlogs_kind(record.kind(), &mut f);
            }
            for_each_varying_attribute(record, resource, picked, &mut f);
            for_each_constant(resource, f);
        }
    }
}

/// The completion marker's attributes: the same on every marker of a batch.
fn marker_attributes<'a>(resource: &'a Resource, mut f: impl FnMut(Key<'a>, Attr<'a>)) {
    let mut f = |k: &'a str, a: Attr<'a>| f(Key::Str(k), a);
    f(trace_complete::ATTRIBUTE, Attr::Bool(true));
    f(span::NEATLOGS_KIND, Attr::Str(trace_complete::KIND));
    f(span::INTERNAL, Attr::Bool(true));
    if !resource.tags.is_empty() {
        f(span::PROCESS_TAGS, Attr::Joined(&resource.tags));
    }
}

/// The Neatlogs vocabulary's kind keys, first on every record: the same on
/// every span of a kind.
fn neatlogs_kind<'a>(kind: SpanKind, mut f: impl FnMut(Key<'a>, Attr<'a>)) {
    f(Key::Str(span::OPENINFERENCE_KIND), Attr::Str(kind.as_str()));
    f(
        Key::Str(span::NEATLOGS_KIND),
        Attr::Str(kind.as_lower_str()),
    );
    f(Key::Str(span::INTERNAL), Attr::Bool(true));
}

/// The attributes of a record that differ from span to span: all but
/// [`neatlogs_kind`]'s and [`for_each_constant`]'s. Each configured
/// vocabulary in turn; a key two of them share is written by the first.
fn for_each_varying_attribute<'a>(
    record: &'a SpanRecord,
    resource: &'a Resource,
    picked: &[(usize, usize)],
    mut f: impl FnMut(Key<'a>, Attr<'a>),
) {
    let conventions = resource.conventions;
    let neatlogs = conventions.contains(Conventions::NEATLOGS);
    if neatlogs && record.is_root() {
        neatlogs_identity(record, &mut f);
    }
    if record.is_root() {
        if let Some(p) = record.trace.probability {
            f(Key::Str(span::SAMPLING_PROBABILITY), Attr::F64(p));
        }
        if record.trace.tail.is_some() {
            f(Key::Str(span::TAIL_KEPT), Attr::Bool(true));
        }
    }
    let all = record.attributes();
    for &(k, v) in picked {
        f(Key::Str(&all[k].0), Attr::Value(&all[v].1));
    }
    if neatlogs {
        vocab::neatlogs(record, &mut f);
    }
    let openinference = conventions.contains(Conventions::OPENINFERENCE);
    if openinference {
        vocab::openinference(record, neatlogs, &mut f);
    }
    if conventions.contains(Conventions::GENAI) {
        vocab::genai(record, neatlogs, neatlogs || openinference, &mut f);
    }
}

/// The attributes that every record of a batch carries, the same on each
/// (taken from the resource), last in wire order; not on the marker.
fn for_each_constant<'a>(resource: &'a Resource, mut f: impl FnMut(Key<'a>, Attr<'a>)) {
    if resource.conventions.contains(Conventions::NEATLOGS) {
        vocab::neatlogs_constants(resource, &mut f);
    }
}

/// The Neatlogs vocabulary's identity keys, on a root.
fn neatlogs_identity<'a>(record: &'a SpanRecord, f: &mut impl FnMut(Key<'a>, Attr<'a>)) {
    let mut f = |k: &'a str, a: Attr<'a>| f(Key::Str(k), a);
    if let Some(user) = record.end_user() {
        f(span::END_USER_ID, Attr::Str(user.id().as_str()));
        f(span::ENDUSER_ID, Attr::Str(user.id().as_str()));
        if let Some(json) = user.metadata_json() {
            f(span::END_USER_METADATA, Attr::Str(json));
        }
    }
    if let Some(s) = record.session_id() {
        f(span::SESSION, Attr::Str(s));
    }
    if !record.tags().is_empty() {
        f(span::TAGS, Attr::Tags(record.tags()));
    }
}

/// The marker's span id, derived from the root's so that encoding the same
/// root twice (a split batch, a retry) yields the same marker.
fn marker_span_id(root: u64) -> [u8; 8] {
    let mut z = root ^ 0x6e65_6174_6c6f_6773; // "neatlogs"
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    if z == 0 || z == root {
        z = root.rotate_left(32) ^ 1;
    }
    z.to_be_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_names() {
        assert_eq!(
            "http/protobuf".parse::<Protocol>().unwrap(),
            Protocol::HttpProtobuf
        );
        assert_eq!(
            " HTTP/JSON ".parse::<Protocol>().unwrap(),
            Protocol::HttpJson
        );
        assert!("grpc".parse::<Protocol>().is_err());
        assert_eq!(Protocol::HttpJson.to_string(), "http/json");
    }

    #[test]
    fn reserved_keys_are_the_wire_contracts() {
        for key in span::RESERVED {
            assert!(is_reserved(key), "{key}");
        }
        assert!(is_reserved("langfuse.trace.metadata.plan"));
        let others = [
            "",
            "enduser",
            "neatlogs.span",
            "tag.tags ",
            "user.idx",
            "langfuse.trace",
            "app.session.id",
        ];
        assert!(others.iter().all(|k| !is_reserved(k)));
    }

    #[test]
    fn keys_built_from_parts_have_the_length_they_write() {
        for i in [0, 1, 9, 10, 99, 100, 12_345, usize::MAX] {
            let key = Key::Indexed("neatlogs.llm.input_messages.", i, ".role");
            let text = key.text();
            assert_eq!(text, format!("neatlogs.llm.input_messages.{i}.role"));
            assert_eq!(key.len(), text.len());
        }
        let key = Key::Joined("neatlogs.", "tool", ".input");
        assert_eq!(
            (key.text().as_str(), key.len()),
            ("neatlogs.tool.input", 19)
        );
    }

    #[test]
    fn marker_id_is_stable_and_distinct() {
        let a = marker_span_id(42);
        assert_eq!(a, marker_span_id(42));
        assert_ne!(a, 42u64.to_be_bytes());
        assert_ne!(a, [0u8; 8]);
        // Unchanged from the earlier encoder: a retried batch from before an
        // upgrade still yields the same marker.
        assert_eq!(marker_span_id(42), 0xfcb8_cc32_7a5b_e7cdu64.to_be_bytes());
    }
}
