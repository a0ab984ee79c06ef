//! The request data every stack traces, identical for all of them.

use std::fmt;

use serde::Serialize;

/// The names of the ten child spans of a request trace, in order.
pub const CHILD_NAMES: [&str; 10] = [
    "authenticate",
    "load_session",
    "retrieve",
    "rerank",
    "build_prompt",
    "llm_call",
    "parse_answer",
    "tool_call",
    "store_turn",
    "respond",
];

/// Spans in one request trace: the root and its ten children.
pub const SPANS_PER_TRACE: u64 = 1 + CHILD_NAMES.len() as u64;

/// One incoming request, as a service holds it: owned, per-request strings
/// that the tracing call borrows.
#[derive(Debug, Clone)]
pub struct Request {
    /// The end-user of this request.
    pub user_id: String,
    /// The end-user's plan (goes into the metadata object).
    pub plan: String,
    /// The end-user's organisation (goes into the metadata object).
    pub org: String,
}

/// The end-user metadata of a request: a JSON object whose values are
/// borrowed from the request.
#[derive(Debug, Serialize)]
pub struct Metadata<'a> {
    /// The plan.
    pub plan: &'a str,
    /// The organisation.
    pub org: &'a str,
}

impl Request {
    /// The `i`-th synthetic request.
    pub fn new(i: usize) -> Request {
        Request {
            user_id: format!("u_{:06}", i * 7919 % 1_000_000),
            plan: if i % 3 == 0 { "enterprise" } else { "pro" }.to_owned(),
            org: format!("org_{}", i % 97),
        }
    }

    /// The metadata object, borrowing this request's strings.
    pub fn metadata(&self) -> Metadata<'_> {
        Metadata {
            plan: &self.plan,
            org: &self.org,
        }
    }
}

/// A ring of prebuilt requests, so that building the application's strings
/// is not part of what is timed (it costs the same whatever the stack).
#[derive(Debug)]
pub struct Requests {
    pool: Vec<Request>,
    next: usize,
}

impl Requests {
    /// `n` distinct requests (at least one).
    pub fn new(n: usize) -> Requests {
        Requests {
            pool: (0..n.max(1)).map(Request::new).collect(),
            next: 0,
        }
    }

    /// The next request of the ring.
    #[inline]
    #[allow(clippy::should_implement_trait)] // never ends: not an iterator
    pub fn next(&mut self) -> &Request {
        let i = self.next;
        self.next = if i + 1 == self.pool.len() { 0 } else { i + 1 };
        &self.pool[i]
    }
}

impl Default for Requests {
    fn default() -> Self {
        Requests::new(1024)
    }
}

/// Formats a value as JSON when (and only when) a recorder asks for it: how a
/// `tracing` user passes a JSON object as a span field.
pub struct JsonDisplay<'a, T>(pub &'a T);

impl<T: Serialize> fmt::Display for JsonDisplay<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let json = serde_json::to_string(self.0).map_err(|_| fmt::Error)?;
        f.write_str(&json)
    }
}

/// The metadata object as a JSON string, for stacks whose attributes are
/// strings (fastrace properties, OpenTelemetry attributes).
pub fn metadata_json(req: &Request) -> String {
    serde_json::to_string(&req.metadata()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ring_wraps_and_requests_differ() {
        let mut reqs = Requests::new(2);
        let a = reqs.next().user_id.clone();
        let b = reqs.next().user_id.clone();
        assert_ne!(a, b);
        assert_eq!(reqs.next().user_id, a);
    }

    #[test]
    fn metadata_is_a_json_object_of_the_request() {
        let req = Request::new(3);
        assert_eq!(
            metadata_json(&req),
            format!(r#"{{"plan":"{}","org":"{}"}}"#, req.plan, req.org)
        );
        assert_eq!(
            JsonDisplay(&req.metadata()).to_string(),
            metadata_json(&req)
        );
    }
}
