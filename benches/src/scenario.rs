//! The request data and the LLM calls every stack traces, identical for all
//! of them.

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
            plan: if i.is_multiple_of(3) {
                "enterprise"
            } else {
                "pro"
            }
            .to_owned(),
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

/// What a ring of prebuilt inputs is made of: the `i`-th synthetic one.
pub trait Synthetic {
    /// The `i`-th value.
    fn nth(i: usize) -> Self;
}

impl Synthetic for Request {
    fn nth(i: usize) -> Self {
        Request::new(i)
    }
}

/// A ring of prebuilt inputs, so that building the application's strings
/// is not part of what is timed (it costs the same whatever the stack).
#[derive(Debug)]
pub struct Ring<T> {
    pool: Vec<T>,
    next: usize,
}

/// A ring of prebuilt requests.
pub type Requests = Ring<Request>;

/// A ring of prebuilt LLM calls.
pub type Chats = Ring<Chat>;

impl<T: Synthetic> Ring<T> {
    /// `n` distinct values (at least one).
    pub fn new(n: usize) -> Ring<T> {
        Ring {
            pool: (0..n.max(1)).map(T::nth).collect(),
            next: 0,
        }
    }
}

impl<T> Ring<T> {
    /// The next value of the ring.
    #[inline]
    #[allow(clippy::should_implement_trait)] // never ends: not an iterator
    pub fn next(&mut self) -> &T {
        let i = self.next;
        self.next = if i + 1 == self.pool.len() { 0 } else { i + 1 };
        &self.pool[i]
    }
}

impl<T: Synthetic> Default for Ring<T> {
    fn default() -> Self {
        Ring::new(1024)
    }
}

/// The model asked for by every [`Chat`].
pub const REQUEST_MODEL: &str = "gpt-4o";

/// The model that answers every [`Chat`].
pub const RESPONSE_MODEL: &str = "gpt-4o-2024-08-06";

/// The provider of every [`Chat`].
pub const PROVIDER: &str = "openai";

/// The name of the LLM span.
pub const LLM_SPAN_NAME: &str = "chat gpt-4o";

/// Why the model stopped, in every [`Chat`].
pub const FINISH_REASON: &str = "stop";

/// One LLM call as an application holds it: the prompt's system and user
/// messages (≈ 60 and ≈ 40 bytes), the reply, and the token counts the
/// provider returned. The texts are owned `String`s that the application
/// also needs for the request itself, so every stack is handed copies.
#[derive(Debug, Clone)]
pub struct Chat {
    /// The system message.
    pub system: String,
    /// The user's message.
    pub user: String,
    /// The assistant's reply.
    pub reply: String,
    /// Prompt (input) tokens.
    pub prompt_tokens: u64,
    /// Completion (output) tokens.
    pub completion_tokens: u64,
}

impl Chat {
    /// The `i`-th synthetic call.
    pub fn new(i: usize) -> Chat {
        let order = i * 7919 % 1_000_000;
        Chat {
            system: format!(
                "You are Acme's support assistant (desk {:02}). Answer briefly.",
                i % 100
            ),
            user: format!("Where is the refund for my order #{order:06}?"),
            reply: format!("The refund for order #{order:06} was sent on Monday."),
            prompt_tokens: 31 + (i % 5) as u64,
            completion_tokens: 12 + (i % 3) as u64,
        }
    }
}

impl Synthetic for Chat {
    fn nth(i: usize) -> Self {
        Chat::new(i)
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
    fn chats_differ_and_their_texts_have_the_sizes_described() {
        let mut chats = Chats::new(3);
        let a = chats.next().clone();
        let b = chats.next().clone();
        assert_ne!(a.user, b.user);
        for chat in [&a, &b] {
            assert!((55..=65).contains(&chat.system.len()), "{:?}", chat.system);
            assert!((35..=45).contains(&chat.user.len()), "{:?}", chat.user);
            assert!(chat.prompt_tokens > 0 && chat.completion_tokens > 0);
        }
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
