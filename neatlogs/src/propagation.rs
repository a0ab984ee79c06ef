//! Trace context across services: W3C `traceparent` / `tracestate` in
//! HTTP headers (feature `http`).
//!
//! The calling service [`inject`]s the current span's position into the
//! headers of its request; the called service [`extract`]s it and opens its
//! spans inside the returned [`Context`]. The first span opened there is a
//! root *in this process* that continues the caller's trace: same trace id,
//! parent the caller's span, flagged as a remote parent in OTLP
//! (`Span.flags` bit `IS_REMOTE`). It owns the identity in this process,
//! with the usual precedence (explicit > `init` default > none).
//!
//! # The end-user across services: sending and believing are separate
//!
//! An end-user id that arrives from the network is hearsay. Sending the
//! trace's end-user to the services you call and believing the one your
//! callers send are two separate decisions:
//!
//! - **Sending** is a setting: [`Propagator::send_end_user`] writes it in
//!   W3C `baggage` (key `neatlogs.end_user.id`) on every request it
//!   injects into.
//! - **Believing** is decided per request, by the application:
//!   [`extract`] never reads baggage; [`extract_trusting_end_user`] does,
//!   and is for a request whose caller the application has authenticated
//!   as allowed to assert an end-user (an internal network, a service
//!   token, mTLS). The HTTP layer asks the same question of every request
//!   ([`TraceLayer::trust`](crate::tower::TraceLayer::trust)).
//!
//! A believed end-user is the continued trace's end-user only when the
//! application gives none of its own: what the application authenticated
//! beats what a caller asserts (a conflict is logged with both ids). An
//! invalid one gives a trace with no end-user, never the `init` default.
//!
//! ```
//! use neatlogs::propagation::{self, Propagator};
//! # neatlogs::testing::with_capture(|| {
//! // Service A, inside its request's trace:
//! let _root = neatlogs::trace("gateway").end_user_id("u_812").enter();
//! let mut headers = http::HeaderMap::new();
//! Propagator::new().send_end_user(true).inject(&mut headers);
//! let caller = neatlogs::current_trace_id();
//! drop(_root);
//!
//! // Service B, on a request its authentication says came from A:
//! let cx = propagation::extract_trusting_end_user(&headers);
//! let _g = cx.attach();
//! let _root = neatlogs::trace("agent").enter();
//! assert_eq!(neatlogs::current_trace_id(), caller);
//! assert_eq!(neatlogs::current_end_user().unwrap().id().as_str(), "u_812");
//! # });
//! ```
//!
//! # Continuing a caller's trace, or linking to it
//!
//! A root opened inside an extracted context continues the caller's trace
//! (same trace id, the caller's span as parent). A public edge need not:
//! [`new_trace`](crate::new_trace) opened there starts a trace of its own
//! with a span link to the caller's span, so a stranger's `traceparent`
//! cannot place this service's spans inside a trace of its choosing.
//!
//! With the default sampler (parent-based), a continued trace is recorded
//! when the caller's `traceparent` says it sampled it; the `traceparent`
//! this process sends carries its own decision (`01` recorded, `00` not),
//! and identity travels the same either way ([`Sampler`](crate::Sampler)).

use std::sync::Arc;

use http::header::{HeaderMap, HeaderValue};

use crate::seam::{self, Context, EndUserId, IdInput, Position, Remote};
use crate::{SpanId, TraceId};

/// The W3C Trace Context header with the caller's trace and span ids.
pub const TRACEPARENT: &str = "traceparent";
/// The W3C Trace Context header with vendors' state, passed on unchanged.
pub const TRACESTATE: &str = "tracestate";
/// The W3C Baggage header.
pub const BAGGAGE: &str = "baggage";
/// The `baggage` key the end-user id travels under, when the caller sends
/// it and the receiver believes it.
pub const BAGGAGE_END_USER_ID: &str = crate::wire::span::END_USER_ID;

/// The longest `tracestate` passed on (W3C Trace Context: vendors must
/// propagate at least 512 characters); a longer one is dropped.
const MAX_TRACESTATE: usize = 512;
/// The longest `baggage` header read (W3C Baggage: at least 8,192 bytes).
const MAX_BAGGAGE: usize = 8192;

/// Write the current span's position into `headers` (`traceparent`, and
/// `tracestate` when the trace came with one); no baggage. `false` (and
/// `headers` untouched) outside a trace. See [`Propagator::inject`].
///
/// ```
/// # neatlogs::testing::with_capture(|| {
/// let _root = neatlogs::trace("gateway").enter();
/// let mut headers = http::HeaderMap::new();
/// assert!(neatlogs::propagation::inject(&mut headers));
/// assert!(headers["traceparent"].to_str().unwrap().starts_with("00-"));
/// # });
/// ```
pub fn inject(headers: &mut HeaderMap) -> bool {
    Propagator::new().inject(headers)
}

/// Read a caller's position from `headers`; baggage is never read. An
/// empty context (spans opened in it start a new trace) when there is no
/// valid `traceparent` (missing, malformed, all-zero ids, a version this
/// reader does not know the shape of).
///
/// The returned context, once [attached](Context::attach) (or given to a
/// future with [`FutureExt::with_context`](crate::FutureExt::with_context)),
/// makes the next span opened a root that continues the caller's trace,
/// with its end-user resolved in this process (explicit, else the `init`
/// default, else none).
///
/// ```
/// let mut headers = http::HeaderMap::new();
/// headers.insert(
///     "traceparent",
///     "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".parse().unwrap(),
/// );
/// headers.insert("baggage", "neatlogs.end_user.id=u_victim".parse().unwrap());
/// let cx = neatlogs::propagation::extract(&headers);
/// assert!(cx.is_remote());
/// assert_eq!(cx.trace_id().unwrap().to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
/// assert!(cx.end_user().is_none(), "baggage is not believed");
/// ```
pub fn extract(headers: &HeaderMap) -> Context {
    read_caller(headers, false).map_or_else(Context::default, seam::remote_context)
}

/// [`extract`], and believe the end-user the caller asserts in `baggage`
/// (`neatlogs.end_user.id`): call it only for a request whose caller the
/// application has authenticated as allowed to assert an end-user (an
/// internal network, a service token, mTLS), never on a request from the
/// public.
///
/// The asserted end-user becomes the continued trace's when the root
/// opened there is given none of its own (an id given on the root wins; a
/// conflict is logged with both ids). An invalid one (a control or
/// bidirectional-text character, blank, padded, over 256 characters) is
/// dropped with a warning and the trace has no end-user: never the `init`
/// default.
pub fn extract_trusting_end_user(headers: &HeaderMap) -> Context {
    read_caller(headers, true).map_or_else(Context::default, seam::remote_context)
}

/// The caller's position in `headers`, with its baggage end-user when
/// `believe_end_user`; `None` without a valid `traceparent`.
pub(crate) fn read_caller(headers: &HeaderMap, believe_end_user: bool) -> Option<Arc<Remote>> {
    let (trace_id, span_id, sampled) = caller(headers)?;
    Some(Arc::new(Remote {
        trace_id,
        span_id,
        sampled,
        trace_state: trace_state(headers),
        end_user: if believe_end_user {
            baggage_end_user(headers)
        } else {
            None
        },
    }))
}

/// The caller's trace and span ids and its `sampled` flag, from a valid
/// `traceparent`, and nothing else (a caller that is only linked to needs
/// no more).
pub(crate) fn caller(headers: &HeaderMap) -> Option<(TraceId, SpanId, bool)> {
    let parsed = headers
        .get(TRACEPARENT)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_traceparent);
    if parsed.is_none() && headers.contains_key(TRACEPARENT) {
        log::debug!(
            "neatlogs: ignoring an invalid traceparent header; the request starts a new trace"
        );
    }
    parsed
}

/// How trace context is written into outgoing headers: W3C `traceparent`
/// and `tracestate` always, the trace's end-user in `baggage` only when
/// [sending it](Propagator::send_end_user) is turned on. Reading is
/// [`extract`] and [`extract_trusting_end_user`]: what a service believes
/// is decided per request, not here.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Propagator {
    send_end_user: bool,
}

impl Propagator {
    /// `traceparent` and `tracestate` only: the end-user does not travel.
    pub const fn new() -> Self {
        Propagator {
            send_end_user: false,
        }
    }

    /// Whether [`inject`](Propagator::inject) writes the trace's end-user
    /// into `baggage`. Turn it on for calls to services that are yours; the
    /// called service still decides, per request, whether to believe it.
    pub const fn send_end_user(mut self, on: bool) -> Self {
        self.send_end_user = on;
        self
    }

    /// Write the current span's position into `headers`; see
    /// [`inject_context`](Propagator::inject_context).
    pub fn inject(&self, headers: &mut HeaderMap) -> bool {
        self.inject_context(&Context::current(), headers)
    }

    /// Write `cx`'s position into `headers`: `traceparent` (replacing one
    /// already there), `tracestate` when the trace came with one, and, when
    /// sending is on, the trace's end-user as the `baggage` member
    /// `neatlogs.end_user.id` (other members are kept). `false` (and
    /// `headers` untouched) when `cx` is not in a trace.
    pub fn inject_context(&self, cx: &Context, headers: &mut HeaderMap) -> bool {
        let (trace_id, span_id, sampled, state, end_user) = match seam::position(cx) {
            None => return false,
            Some(Position::Local(at)) => (
                at.trace.trace_id,
                at.span_id,
                // The head decision: a trace held for tail keep was dropped
                // by it.
                at.trace.sampled && at.trace.tail.is_none(),
                at.trace.remote.as_ref().and_then(|r| r.trace_state.clone()),
                at.trace.end_user.as_ref().map(|u| u.id().clone()),
            ),
            Some(Position::Remote(remote)) => (
                remote.trace_id,
                remote.span_id,
                remote.sampled,
                remote.trace_state.clone(),
                match &remote.end_user {
                    Some(IdInput::Valid(id)) => Some(id.clone()),
                    _ => None,
                },
            ),
        };
        // This process's decision for a trace it recorded or dropped; the
        // caller's, passed on, at a caller's position.
        let flags = if sampled { "01" } else { "00" };
        let traceparent = format!("00-{trace_id}-{span_id}-{flags}");
        let Ok(value) = HeaderValue::from_str(&traceparent) else {
            return false;
        };
        headers.insert(TRACEPARENT, value);
        match state.and_then(|s| HeaderValue::from_str(&s).ok()) {
            Some(state) => {
                headers.insert(TRACESTATE, state);
            }
            None => {
                headers.remove(TRACESTATE);
            }
        }
        if self.send_end_user {
            set_baggage_end_user(headers, end_user.as_ref());
        }
        true
    }
}

/// Trace context on outgoing [`reqwest`](https://docs.rs/reqwest/0.13)
/// requests (feature `reqwest`, reqwest 0.13): the called service's
/// spans continue the current trace.
///
/// The context is read when the method is called: call it inside the span
/// the call belongs to. The called service's root gets that span as its
/// parent.
///
/// ```no_run
/// use neatlogs::propagation::RequestBuilderExt;
/// # async fn call(client: reqwest::Client) -> Result<(), reqwest::Error> {
/// let answer = neatlogs::span(neatlogs::SpanKind::Tool, "search service")
///     .instrument(async {
///         client
///             .get("http://search.internal/query?q=refunds")
///             .trace_context()
///             .send()
///             .await
///     })
///     .await?;
/// # drop(answer); Ok(()) }
/// ```
#[cfg(feature = "reqwest")]
pub trait RequestBuilderExt: sealed::Sealed {
    /// Add `traceparent` (and `tracestate`) for the current span; no
    /// baggage. Unchanged outside a trace.
    fn trace_context(self) -> Self;

    /// Add the current span's context as `propagator` writes it: with
    /// [`Propagator::send_end_user`], the trace's end-user travels in a
    /// `baggage` header of its own (`baggage` headers already on the
    /// request are kept).
    fn trace_context_with(self, propagator: &Propagator) -> Self;
}

#[cfg(feature = "reqwest")]
impl RequestBuilderExt for reqwest::RequestBuilder {
    fn trace_context(self) -> Self {
        self.trace_context_with(&Propagator::new())
    }

    fn trace_context_with(self, propagator: &Propagator) -> Self {
        let mut headers = HeaderMap::new();
        if !propagator.inject(&mut headers) {
            return self;
        }
        // `headers` replaces these names on the request (one traceparent),
        // while `header` appends: the application's own baggage stays.
        let baggage = headers.remove(BAGGAGE);
        let builder = self.headers(headers);
        match baggage {
            Some(baggage) => builder.header(BAGGAGE, baggage),
            None => builder,
        }
    }
}

/// Only this crate implements [`RequestBuilderExt`].
#[cfg(feature = "reqwest")]
mod sealed {
    pub trait Sealed {}
    impl Sealed for reqwest::RequestBuilder {}
}

/// A W3C `traceparent`: `{version}-{trace id}-{span id}-{flags}`, lower-case
/// hex. Version `00` is exactly 55 characters; a later version may append
/// fields after a `-`; `ff` is invalid.
fn parse_traceparent(s: &str) -> Option<(TraceId, SpanId, bool)> {
    let s = s.trim();
    let b = s.as_bytes();
    if b.len() < 55 || b[2] != b'-' || b[35] != b'-' || b[52] != b'-' {
        return None;
    }
    let version = hex_bytes::<1>(&s[0..2])?[0];
    if version == 0xff || (version == 0 && b.len() != 55) || (b.len() > 55 && b[55] != b'-') {
        return None;
    }
    let trace_id = TraceId::from_bytes(hex_bytes::<16>(&s[3..35])?)?;
    let span_id = SpanId::from_bytes(hex_bytes::<8>(&s[36..52])?)?;
    let flags = hex_bytes::<1>(&s[53..55])?[0];
    Some((trace_id, span_id, flags & 1 == 1))
}

/// `N` bytes from `2 * N` lower-case hex digits.
fn hex_bytes<const N: usize>(s: &str) -> Option<[u8; N]> {
    fn digit(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        }
    }
    let b = s.as_bytes();
    if b.len() != 2 * N {
        return None;
    }
    let mut out = [0; N];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = digit(b[2 * i])? << 4 | digit(b[2 * i + 1])?;
    }
    Some(out)
}

/// The `tracestate` headers joined (W3C allows several), if short enough to
/// pass on and free of anything but visible ASCII.
fn trace_state(headers: &HeaderMap) -> Option<Box<str>> {
    let mut joined = String::new();
    for value in headers.get_all(TRACESTATE) {
        let value = value.to_str().ok()?.trim();
        if value.is_empty() {
            continue;
        }
        if !joined.is_empty() {
            joined.push(',');
        }
        joined.push_str(value);
    }
    if joined.is_empty() {
        return None;
    }
    if joined.len() > MAX_TRACESTATE {
        log::debug!(
            "neatlogs: tracestate of {} bytes is over {MAX_TRACESTATE}; not passed on",
            joined.len()
        );
        return None;
    }
    Some(joined.into_boxed_str())
}

/// The end-user id in the `baggage` headers: `None` when there is none (or
/// the headers are past their bound), `Invalid` when the member is there
/// but not a valid id (a warning says so).
fn baggage_end_user(headers: &HeaderMap) -> Option<IdInput<EndUserId>> {
    let mut total = 0;
    for value in headers.get_all(BAGGAGE) {
        let Ok(value) = value.to_str() else { continue };
        total += value.len();
        if total > MAX_BAGGAGE {
            log::warn!("neatlogs: baggage over {MAX_BAGGAGE} bytes; its end-user is not read");
            return None;
        }
        for member in value.split(',') {
            let pair = member.split(';').next().unwrap_or_default();
            let Some((key, raw)) = pair.split_once('=') else {
                continue;
            };
            if key.trim() != BAGGAGE_END_USER_ID {
                continue;
            }
            // W3C Baggage allows optional whitespace around the value; the
            // value itself (after percent-decoding) follows the id rules.
            let decoded = percent_encoding::percent_decode_str(raw.trim()).decode_utf8();
            return match decoded {
                Ok(id) => match EndUserId::parse(&id) {
                    Ok(Some(id)) => Some(IdInput::Valid(id)),
                    Ok(None) => None,
                    Err(e) => Some(IdInput::Invalid(e)),
                },
                Err(_) => Some(IdInput::Invalid(crate::IdentityError::NotUtf8 {
                    what: "end_user_id",
                })),
            };
        }
    }
    None
}

/// Characters percent-encoded in a baggage value: all but the unreserved
/// ones.
const BAGGAGE_VALUE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Put the end-user member into `baggage`, keeping the other members; with
/// no end-user, remove it.
fn set_baggage_end_user(headers: &mut HeaderMap, end_user: Option<&EndUserId>) {
    let mut members: Vec<String> = headers
        .get_all(BAGGAGE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|m| {
            !m.is_empty() && m.split(['=', ';']).next().map(str::trim) != Some(BAGGAGE_END_USER_ID)
        })
        .map(str::to_owned)
        .collect();
    if let Some(id) = end_user {
        members.push(format!(
            "{BAGGAGE_END_USER_ID}={}",
            percent_encoding::utf8_percent_encode(id.as_str(), BAGGAGE_VALUE)
        ));
    }
    headers.remove(BAGGAGE);
    if members.is_empty() {
        return;
    }
    if let Ok(value) = HeaderValue::from_str(&members.join(",")) {
        headers.insert(BAGGAGE, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traceparent_follows_the_w3c_shape() {
        let ok = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let (t, s, sampled) = parse_traceparent(ok).unwrap();
        assert!(sampled);
        assert_eq!(t.to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(s.to_string(), "00f067aa0ba902b7");
        // A later version may carry more fields after a dash.
        assert!(
            parse_traceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-xyz")
                .is_some()
        );
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
            "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0x",
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",
        ] {
            assert!(parse_traceparent(bad).is_none(), "{bad:?} was accepted");
        }
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn baggage_is_read_only_with_the_opt_in() {
        let tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let h = headers(&[
            (TRACEPARENT, tp),
            (BAGGAGE, "a=1, neatlogs.end_user.id=u%20812;p=1"),
        ]);
        assert!(extract(&h).end_user().is_none());
        let cx = extract_trusting_end_user(&h);
        assert_eq!(cx.end_user().unwrap().id().as_str(), "u 812");
        // An invalid id is kept as invalid (so it is not replaced by a
        // default later), whatever makes it so.
        for bad in ["u%0A1", "%20u", "u%E2%80%AE1", "%20%20", "u%FF"] {
            let member = format!("neatlogs.end_user.id={bad}");
            let h = headers(&[(TRACEPARENT, tp), (BAGGAGE, &member)]);
            let remote = read_caller(&h, true).unwrap();
            assert!(
                matches!(remote.end_user, Some(IdInput::Invalid(_))),
                "{bad}: {:?}",
                remote.end_user
            );
            assert!(extract_trusting_end_user(&h).end_user().is_none());
        }
    }

    #[test]
    fn an_unsampled_caller_is_continued_and_baggage_past_the_bound_is_not_read() {
        let tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00";
        let cx = extract(&headers(&[(TRACEPARENT, tp)]));
        assert!(cx.is_remote(), "an unsampled caller is still continued");
        let mut out = HeaderMap::new();
        assert!(Propagator::new().inject_context(&cx, &mut out));
        assert_eq!(
            out[TRACEPARENT], "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00",
            "at the caller's position, the caller's decision is passed on"
        );

        let padding = format!("pad={}", "x".repeat(MAX_BAGGAGE));
        let h = headers(&[
            (TRACEPARENT, tp),
            (BAGGAGE, &padding),
            (BAGGAGE, "neatlogs.end_user.id=u_1"),
        ]);
        let cx = extract_trusting_end_user(&h);
        assert!(cx.is_remote() && cx.end_user().is_none());
    }

    #[test]
    fn injected_baggage_keeps_other_members_and_replaces_its_own() {
        let mut h = headers(&[(BAGGAGE, "a=1,neatlogs.end_user.id=old"), (BAGGAGE, "b=2")]);
        set_baggage_end_user(&mut h, Some(&EndUserId::new("u,é 1").unwrap()));
        assert_eq!(
            h.get_all(BAGGAGE).iter().collect::<Vec<_>>(),
            ["a=1,b=2,neatlogs.end_user.id=u%2C%C3%A9%201"]
        );
        let h2 = headers(&[
            (
                TRACEPARENT,
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            ),
            (BAGGAGE, h[BAGGAGE].to_str().unwrap()),
        ]);
        let cx = extract_trusting_end_user(&h2);
        assert_eq!(cx.end_user().unwrap().id().as_str(), "u,é 1");
        set_baggage_end_user(&mut h, None);
        assert_eq!(h[BAGGAGE], "a=1,b=2");
    }

    #[test]
    fn tracestate_is_joined_and_bounded() {
        let tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let h = headers(&[(TRACEPARENT, tp), (TRACESTATE, "a=1"), (TRACESTATE, "b=2")]);
        assert_eq!(trace_state(&h).as_deref(), Some("a=1,b=2"));
        let long = "x=".to_owned() + &"y".repeat(MAX_TRACESTATE);
        let h = headers(&[(TRACEPARENT, tp), (TRACESTATE, &long)]);
        assert!(trace_state(&h).is_none());
    }
}
