//! The propagation benchmark (`benches/propagation.rs`): reading a caller's
//! W3C `traceparent` / `tracestate` from an `http::HeaderMap` and writing
//! them into the headers of an outgoing request, with neatlogs
//! (`neatlogs::propagation`) and with the OpenTelemetry SDK's
//! `TraceContextPropagator` through [`HeaderExtractor`] and
//! [`HeaderInjector`] (what `opentelemetry-http` provides, written here).

use http::header::{HeaderMap, HeaderName, HeaderValue};
use opentelemetry::propagation::{Extractor, Injector};

/// The caller's position when a call continues a trace.
pub const CALLER_TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

/// The caller's `tracestate` when a call continues a trace.
pub const CALLER_TRACESTATE: &str = "congo=t61rcWkgMzE";

/// Reads an `http::HeaderMap` for an OpenTelemetry propagator.
#[derive(Debug)]
pub struct HeaderExtractor<'a>(pub &'a HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(HeaderName::as_str).collect()
    }
}

/// Writes into an `http::HeaderMap` for an OpenTelemetry propagator: a
/// name or value that is not a valid header is skipped.
#[derive(Debug)]
pub struct HeaderInjector<'a>(pub &'a mut HeaderMap);

impl Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(key.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            self.0.insert(name, value);
        }
    }
}

/// The headers of an incoming request that continues a trace: the
/// caller's `traceparent` and `tracestate`, and a few ordinary headers.
pub fn incoming() -> HeaderMap {
    let mut headers = HeaderMap::new();
    for (name, value) in [
        ("host", "api.internal"),
        ("user-agent", "bench/1.0"),
        ("accept", "application/json"),
        ("x-user", "u_000812"),
        ("traceparent", CALLER_TRACEPARENT),
        ("tracestate", CALLER_TRACESTATE),
    ] {
        headers.insert(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    }
    headers
}

/// neatlogs: read the caller's context from `incoming`, write it into a
/// new header map.
pub fn neatlogs_round_trip(incoming: &HeaderMap) -> HeaderMap {
    let cx = neatlogs::propagation::extract(incoming);
    let mut outgoing = HeaderMap::new();
    neatlogs::propagation::Propagator::new().inject_context(&cx, &mut outgoing);
    outgoing
}

/// The OpenTelemetry SDK: read the caller's context from `incoming`, write
/// it into a new header map.
pub fn otel_round_trip(
    propagator: &opentelemetry_sdk::propagation::TraceContextPropagator,
    incoming: &HeaderMap,
) -> HeaderMap {
    use opentelemetry::propagation::TextMapPropagator as _;
    let cx = propagator.extract(&HeaderExtractor(incoming));
    let mut outgoing = HeaderMap::new();
    propagator.inject_context(&cx, &mut HeaderInjector(&mut outgoing));
    outgoing
}

#[cfg(test)]
mod tests {
    use opentelemetry_sdk::propagation::TraceContextPropagator;

    use super::*;

    #[test]
    fn both_pass_on_the_callers_traceparent_and_tracestate() {
        let incoming = incoming();
        let neatlogs = neatlogs_round_trip(&incoming);
        let otel = otel_round_trip(&TraceContextPropagator::new(), &incoming);
        for outgoing in [&neatlogs, &otel] {
            assert_eq!(outgoing.len(), 2, "{outgoing:?}");
            assert_eq!(outgoing["traceparent"], incoming["traceparent"]);
            assert_eq!(outgoing["tracestate"], incoming["tracestate"]);
        }
    }

    #[test]
    fn neither_writes_anything_without_a_valid_traceparent() {
        let mut incoming = incoming();
        incoming.insert(
            "traceparent",
            HeaderValue::from_static("00-00000000000000000000000000000000-00f067aa0ba902b7-01"),
        );
        assert!(neatlogs_round_trip(&incoming).is_empty());
        assert!(otel_round_trip(&TraceContextPropagator::new(), &incoming).is_empty());
    }
}
