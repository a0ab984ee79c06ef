//! Request bodies to OTLP messages: content type, gzip or zstd (with a bomb
//! guard), protobuf or JSON.

use std::borrow::Cow;
use std::io::Read;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;

use super::{depth, IngestError};

/// Largest request body accepted, compressed or not, and the most a gzip
/// or zstd body may expand to: 20 MiB.
pub const MAX_BODY_BYTES: usize = 20 * 1024 * 1024;

/// The largest zstd window decoded, as a power of two: 32 MiB, the first
/// above [`MAX_BODY_BYTES`] (a frame never needs a window larger than what
/// it decodes to). A frame that asks for more is refused before anything is
/// decoded.
const ZSTD_WINDOW_LOG_MAX: u32 = 25;

/// How an OTLP body is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// `application/x-protobuf` (the SDK's default).
    Protobuf,
    /// `application/json` (OTLP/JSON).
    Json,
}

impl Encoding {
    /// The encoding named by a `Content-Type` header.
    pub fn from_content_type(content_type: Option<&str>) -> Result<Encoding, IngestError> {
        let essence = content_type
            .and_then(|ct| ct.split(';').next())
            .map(|ct| ct.trim().to_ascii_lowercase());
        match essence.as_deref() {
            Some("application/x-protobuf" | "application/protobuf") => Ok(Encoding::Protobuf),
            Some("application/json") => Ok(Encoding::Json),
            other => Err(IngestError::Unsupported(format!(
                "unsupported content type {}: send application/x-protobuf or application/json",
                other.map_or("(none)".to_owned(), |ct| format!("`{ct}`"))
            ))),
        }
    }
}

/// Undoes `Content-Encoding` (none, `identity`, `gzip` or `zstd`), refusing
/// bodies that expand past [`MAX_BODY_BYTES`]. An unencoded body is
/// borrowed, not copied.
pub fn decompress<'a>(
    body: &'a [u8],
    content_encoding: Option<&str>,
) -> Result<Cow<'a, [u8]>, IngestError> {
    decompress_within(body, content_encoding, &mut |_| true)
}

/// [`decompress`], asking `reserve(n)` before the inflated body grows to
/// `n` bytes of memory; when it answers `false` the inflation stops with
/// [`IngestError::Overloaded`]. The collector's memory budget is the
/// reserver, so that a small gzip or zstd body cannot inflate past it. For
/// zstd, `n` also counts the decoder's window, as the first frame's header
/// declares it (at most [`MAX_BODY_BYTES`]; frames asking for more than a
/// 32 MiB window are refused as malformed).
///
/// ```
/// use neatlogs_cli::ingest::{decompress_within, IngestError};
/// let body = br#"{"resourceSpans":[]}"#;
/// let mut asked = Vec::new();
/// let raw = decompress_within(body, None, &mut |n| { asked.push(n); true }).unwrap();
/// assert_eq!(&*raw, body);
/// assert!(asked.is_empty(), "an unencoded body is borrowed, not copied");
/// ```
pub fn decompress_within<'a>(
    body: &'a [u8],
    content_encoding: Option<&str>,
    reserve: &mut dyn FnMut(usize) -> bool,
) -> Result<Cow<'a, [u8]>, IngestError> {
    match content_encoding
        .map(|e| e.trim().to_ascii_lowercase())
        .as_deref()
    {
        None | Some("" | "identity") => Ok(Cow::Borrowed(body)),
        Some("gzip" | "x-gzip") => {
            let gz = flate2::read::MultiGzDecoder::new(body);
            expand(gz, "gzip", 0, reserve).map(Cow::Owned)
        }
        Some("zstd") => unzstd(body, reserve).map(Cow::Owned),
        Some(other) => Err(IngestError::Unsupported(format!(
            "unsupported content encoding `{other}`: send gzip, zstd or no encoding"
        ))),
    }
}

/// Decodes zstd (every frame of the body) in steps, reserving the
/// decoder's window and each step's memory first.
fn unzstd(body: &[u8], reserve: &mut dyn FnMut(usize) -> bool) -> Result<Vec<u8>, IngestError> {
    let malformed =
        |e: &dyn std::fmt::Display| IngestError::Malformed(format!("body is not valid zstd: {e}"));
    let window = zstd_window(body).unwrap_or(0);
    if window > 1 << ZSTD_WINDOW_LOG_MAX {
        return Err(malformed(&format_args!(
            "the frame asks for a {} MiB window; at most {} MiB is decoded",
            window >> 20,
            1u64 << (ZSTD_WINDOW_LOG_MAX - 20)
        )));
    }
    let mut zstd = zstd::stream::read::Decoder::with_buffer(body).map_err(|e| malformed(&e))?;
    zstd.window_log_max(ZSTD_WINDOW_LOG_MAX)
        .map_err(|e| malformed(&e))?;
    // The decoder keeps at most the window, and never more than it decodes.
    // Only the first frame's window is read: a body of several frames (a
    // later one may ask for a larger window) is counted at the most any
    // frame can hold.
    let single_frame = zstd::zstd_safe::find_frame_compressed_size(body) == Ok(body.len());
    let held = if single_frame {
        usize::try_from(window).map_or(MAX_BODY_BYTES, |w| w.min(MAX_BODY_BYTES))
    } else {
        MAX_BODY_BYTES
    };
    expand(zstd, "zstd", held, reserve)
}

/// The window a zstd body's first frame declares (RFC 8878, 3.1.1.1): its
/// `Window_Descriptor`, or its content size for a single-segment frame.
/// `None` when the body does not start with a zstd frame header (the
/// decoder then says what is wrong).
fn zstd_window(body: &[u8]) -> Option<u64> {
    let header = body.strip_prefix(&[0x28, 0xb5, 0x2f, 0xfd])?;
    let descriptor = *header.first()?;
    if descriptor & 0x20 == 0 {
        let window = *header.get(1)?;
        let base = 1u64 << (10 + (window >> 3));
        return Some(base + base / 8 * u64::from(window & 7));
    }
    let dictionary_id = [0, 1, 2, 4][usize::from(descriptor & 3)];
    let size_len = [1, 2, 4, 8][usize::from(descriptor >> 6)];
    let size = header.get(1 + dictionary_id..1 + dictionary_id + size_len)?;
    let value = size
        .iter()
        .rev()
        .fold(0u64, |v, &b| (v << 8) | u64::from(b));
    Some(if size_len == 2 { value + 256 } else { value })
}

/// Decodes `decoder` in steps, asking `reserve` for `held` (what the
/// decoder itself keeps) plus the output's memory before it grows; stops
/// past [`MAX_BODY_BYTES`].
fn expand(
    decoder: impl Read,
    encoding: &str,
    held: usize,
    reserve: &mut dyn FnMut(usize) -> bool,
) -> Result<Vec<u8>, IngestError> {
    const STEP: usize = 64 * 1024;
    let overloaded = || {
        IngestError::Overloaded(format!(
            "no memory to inflate this {encoding} body now; retry later"
        ))
    };
    if held > 0 && !reserve(held) {
        return Err(overloaded());
    }
    let mut decoder = decoder.take(MAX_BODY_BYTES as u64 + 1);
    let mut out = Vec::new();
    let mut chunk = vec![0u8; STEP];
    loop {
        let n = decoder
            .read(&mut chunk)
            .map_err(|e| IngestError::Malformed(format!("body is not valid {encoding}: {e}")))?;
        if n == 0 {
            break;
        }
        if out.len() + n > out.capacity() {
            let capacity = (out.len() + n).max(out.capacity() * 2);
            if !reserve(held + capacity) {
                return Err(overloaded());
            }
            out.reserve_exact(capacity - out.len());
        }
        out.extend_from_slice(&chunk[..n]);
        if out.len() > MAX_BODY_BYTES {
            return Err(IngestError::TooLarge(format!(
                "{encoding} body expands past {} MiB",
                MAX_BODY_BYTES / (1024 * 1024)
            )));
        }
    }
    Ok(out)
}

/// Memory that decoding and storing a body of `decoded_len` bytes (after
/// `Content-Encoding`) may take on top of the body itself: the decoded
/// message, the rows converted from it with their JSON, and the store's
/// copy of a row. The ratios cover the peaks measured on the costliest
/// realistic shapes (a span with a million tiny attributes: 16x for
/// protobuf, 5x for JSON, before the allocator's own overhead), checked by
/// `tests/ingest_memory.rs`. Bodies made of empty messages expand further
/// (up to ~200x); docs/hardening.md says which.
///
/// ```
/// use neatlogs_cli::ingest::{decode_cost, Encoding};
/// assert!(decode_cost(1_000_000, Encoding::Protobuf) > decode_cost(1_000_000, Encoding::Json));
/// ```
pub fn decode_cost(decoded_len: usize, encoding: Encoding) -> usize {
    let per_byte = match encoding {
        Encoding::Protobuf => PROTOBUF_COST_PER_BYTE,
        Encoding::Json => JSON_COST_PER_BYTE,
    };
    decoded_len.saturating_mul(per_byte)
}

/// Peak memory per body byte of decoding and storing OTLP protobuf.
const PROTOBUF_COST_PER_BYTE: usize = 24;
/// Peak memory per body byte of decoding and storing JSON (OTLP or the
/// browser SDK's simple traces).
const JSON_COST_PER_BYTE: usize = 12;

/// Decodes an OTLP/HTTP trace export body.
///
/// ```
/// use neatlogs_cli::ingest::{decode_otlp, Encoding};
/// let request = decode_otlp(br#"{"resourceSpans":[]}"#, Encoding::Json, None).unwrap();
/// assert!(request.resource_spans.is_empty());
/// assert!(decode_otlp(b"{", Encoding::Json, None).is_err());
/// ```
pub fn decode_otlp(
    body: &[u8],
    encoding: Encoding,
    content_encoding: Option<&str>,
) -> Result<ExportTraceServiceRequest, IngestError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(IngestError::TooLarge(format!(
            "body is over {} MiB",
            MAX_BODY_BYTES / (1024 * 1024)
        )));
    }
    let raw = decompress(body, content_encoding)?;
    match encoding {
        Encoding::Protobuf => decode_protobuf(&raw),
        Encoding::Json => decode_json(&raw),
    }
}

/// OTLP protobuf. A body the decoder refuses is decoded again with its
/// attribute values capped at [`depth::MAX_VALUE_DEPTH`] levels, if that
/// changes it: prost refuses deeper nesting than that allows.
fn decode_protobuf(raw: &[u8]) -> Result<ExportTraceServiceRequest, IngestError> {
    let first = match ExportTraceServiceRequest::decode(raw) {
        Ok(request) => return Ok(request),
        Err(e) => e,
    };
    depth::cap_protobuf(raw)
        .and_then(|capped| ExportTraceServiceRequest::decode(&*capped).ok())
        .ok_or_else(|| IngestError::Malformed(format!("invalid OTLP protobuf: {first}")))
}

/// OTLP/JSON, including the non-finite doubles the JSON mapping writes as
/// the strings `"NaN"`, `"Infinity"` and `"-Infinity"` (which the generated
/// decoder rejects): such a value is kept as that string, since the store's
/// JSON cannot hold it as a number. Attribute values nested deeper than
/// serde_json allows are capped at [`depth::MAX_VALUE_DEPTH`] levels. Only a
/// body that fails the fast typed decode pays for the second pass.
fn decode_json(raw: &[u8]) -> Result<ExportTraceServiceRequest, IngestError> {
    let first = match serde_json::from_slice(raw) {
        Ok(request) => return Ok(request),
        Err(e) => e,
    };
    let malformed =
        |e: &dyn std::fmt::Display| IngestError::Malformed(format!("invalid OTLP JSON: {e}"));
    let (mut tree, capped) = depth::cap_json(raw).map_err(|_| malformed(&first))?;
    if !(non_finite_doubles_as_strings(&mut tree) | capped) {
        return Err(malformed(&first));
    }
    serde_json::from_value(tree).map_err(|e| malformed(&e))
}

/// Turn every `{"doubleValue": "NaN" | "Infinity" | "-Infinity"}` into a
/// `stringValue`; whether any was found.
fn non_finite_doubles_as_strings(value: &mut serde_json::Value) -> bool {
    use serde_json::Value as J;
    match value {
        J::Object(map) => {
            let special = matches!(
                map.get("doubleValue"),
                Some(J::String(s)) if matches!(s.as_str(), "NaN" | "Infinity" | "-Infinity")
            );
            if special {
                if let Some(v) = map.remove("doubleValue") {
                    map.insert("stringValue".to_owned(), v);
                }
            }
            let mut found = special;
            for v in map.values_mut() {
                found |= non_finite_doubles_as_strings(v);
            }
            found
        }
        J::Array(items) => items
            .iter_mut()
            .fold(false, |found, v| non_finite_doubles_as_strings(v) | found),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        enc.write_all(data).unwrap();
        enc.finish().unwrap()
    }

    #[test]
    fn gzip_round_trip() {
        let body = gzip(br#"{"resourceSpans":[]}"#);
        assert!(decode_otlp(&body, Encoding::Json, Some("gzip")).is_ok());
    }

    #[test]
    fn gzip_bomb_is_too_large() {
        let bomb = gzip(&vec![0u8; MAX_BODY_BYTES + 10]);
        assert!(bomb.len() < 100_000);
        assert!(matches!(
            decode_otlp(&bomb, Encoding::Protobuf, Some("gzip")),
            Err(IngestError::TooLarge(_))
        ));
    }

    #[test]
    fn zstd_round_trip_and_bomb() {
        let body = zstd::encode_all(&br#"{"resourceSpans":[]}"#[..], 3).unwrap();
        assert!(decode_otlp(&body, Encoding::Json, Some("zstd")).is_ok());
        assert!(decode_otlp(&body, Encoding::Json, Some(" ZSTD ")).is_ok());
        let bomb = zstd::encode_all(&vec![0u8; MAX_BODY_BYTES + 10][..], 19).unwrap();
        assert!(bomb.len() < 10_000, "{}", bomb.len());
        match decode_otlp(&bomb, Encoding::Protobuf, Some("zstd")) {
            Err(IngestError::TooLarge(m)) => assert!(m.contains("zstd body expands past 20 MiB")),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            decode_otlp(b"not zstd", Encoding::Protobuf, Some("zstd")),
            Err(IngestError::Malformed(m)) if m.contains("not valid zstd")
        ));
    }

    /// A small first frame must not vouch for a later one's window: a body
    /// of several frames is counted at the largest window decoded.
    #[test]
    fn a_later_zstd_frame_cannot_hide_its_window_from_the_budget() {
        let mut body = zstd::encode_all(&br#"{"resourceSpans""#[..], 1).unwrap();
        let mut big = zstd::stream::Encoder::new(Vec::new(), 1).unwrap();
        big.set_parameter(zstd::zstd_safe::CParameter::WindowLog(24))
            .unwrap();
        big.include_contentsize(false).unwrap();
        std::io::Write::write_all(&mut big, br#":[]}"#).unwrap();
        body.extend(big.finish().unwrap());
        let mut asked = Vec::new();
        let raw = decompress_within(&body, Some("zstd"), &mut |n| {
            asked.push(n);
            true
        })
        .unwrap();
        assert_eq!(&*raw, br#"{"resourceSpans":[]}"#);
        assert!(asked[0] >= MAX_BODY_BYTES, "{asked:?}");

        // One frame: its own window, not the most.
        let one = zstd::encode_all(&br#"{"resourceSpans":[]}"#[..], 1).unwrap();
        let mut asked = Vec::new();
        decompress_within(&one, Some("zstd"), &mut |n| {
            asked.push(n);
            true
        })
        .unwrap();
        assert!(asked[0] < 1 << 20, "{asked:?}");
    }

    #[test]
    fn zstd_frames_of_several_parts_decode_whole() {
        let mut body = zstd::encode_all(&br#"{"resourceSpans""#[..], 1).unwrap();
        body.extend(zstd::encode_all(&br#":[]}"#[..], 1).unwrap());
        let raw = decompress(&body, Some("zstd")).unwrap();
        assert_eq!(&*raw, br#"{"resourceSpans":[]}"#);
    }

    #[test]
    fn zstd_windows_are_read_from_the_frame_header_and_capped() {
        // Single segment: the window is the content size.
        let small = zstd::bulk::compress(&[7u8; 1000], 1).unwrap();
        assert_eq!(zstd_window(&small), Some(1000));
        // A window descriptor: exponent 15 (2^25), mantissa 0; then 1.
        let frame = |descriptor: u8| [0x28, 0xb5, 0x2f, 0xfd, 0x00, descriptor, 0, 0, 0];
        assert_eq!(zstd_window(&frame(15 << 3)), Some(1 << 25));
        assert_eq!(
            zstd_window(&frame((15 << 3) | 1)),
            Some((1 << 25) + (1 << 22))
        );
        assert_eq!(zstd_window(b"not zstd"), None);
        assert!(matches!(
            decompress(&frame((15 << 3) | 1), Some("zstd")),
            Err(IngestError::Malformed(m)) if m.contains("asks for a 36 MiB window")
        ));
        // The window is reserved before the output.
        let mut asked = Vec::new();
        let raw = decompress_within(&small, Some("zstd"), &mut |n| {
            asked.push(n);
            true
        })
        .unwrap();
        assert_eq!(raw.len(), 1000);
        assert_eq!(asked.first(), Some(&1000));
        assert!(
            asked[1..].iter().all(|&n| n >= 1000 + raw.len()),
            "{asked:?}"
        );
    }

    #[test]
    fn non_finite_doubles_are_kept_as_strings() {
        let body = br#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060708","name":"s","attributes":[{"key":"a","value":{"doubleValue":"NaN"}},{"key":"b","value":{"doubleValue":"-Infinity"}},{"key":"c","value":{"doubleValue":1.5}}]}]}]}]}"#;
        let request = decode_otlp(body, Encoding::Json, None).unwrap();
        let attrs = &request.resource_spans[0].scope_spans[0].spans[0].attributes;
        let text: Vec<String> = attrs
            .iter()
            .map(|kv| {
                format!(
                    "{}={:?}",
                    kv.key,
                    kv.value.as_ref().and_then(|v| v.value.clone())
                )
            })
            .collect();
        assert_eq!(
            text,
            [
                r#"a=Some(StringValue("NaN"))"#,
                r#"b=Some(StringValue("-Infinity"))"#,
                "c=Some(DoubleValue(1.5))"
            ]
        );
        assert!(decode_otlp(br#"{"resourceSpans":"NaN"}"#, Encoding::Json, None).is_err());
    }

    #[test]
    fn content_types() {
        assert_eq!(
            Encoding::from_content_type(Some("application/json; charset=utf-8")).unwrap(),
            Encoding::Json
        );
        assert!(matches!(
            Encoding::from_content_type(Some("text/plain")),
            Err(IngestError::Unsupported(_))
        ));
    }
}
