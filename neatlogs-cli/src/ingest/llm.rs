//! The LLM facts of a span — model, token counts, a cost the sender worked
//! out — read from whichever of the three vocabularies it was written in:
//!
//! - **Neatlogs** (the official SDKs): `neatlogs.llm.model_name`,
//!   `neatlogs.llm.token_count.{prompt,completion,total,cache_read,cache_write,reasoning}`;
//! - **OpenInference** (`llm.*`): `llm.model_name`,
//!   `llm.response.model_name` / `llm.request.model_name`,
//!   `llm.token_count.{prompt,completion}`,
//!   `llm.token_count.prompt_details.{cache_read,cache_write}`,
//!   `llm.token_count.completion_details.reasoning`, `llm.cost.total`
//!   (the Neatlogs SDKs write no cost);
//! - **OpenTelemetry GenAI** (`gen_ai.*`, semantic conventions 1.37 and
//!   the older names): `gen_ai.response.model` / `gen_ai.request.model`,
//!   `gen_ai.usage.input_tokens` / `output_tokens` (`prompt_tokens` /
//!   `completion_tokens` before), `gen_ai.usage.cache_read.input_tokens`,
//!   `gen_ai.usage.cache_creation.input_tokens`.
//!
//! **Precedence**, when a span carries the same fact several ways: the
//! Neatlogs key, then OpenInference's, then GenAI's; and for the model, any
//! convention's *response* model before any *request* model (the model that
//! answered is the one that was billed). `neatlogs.llm.model_name` and
//! OpenInference's `llm.model_name` are the answering model when the SDK
//! knows it, so they rank with the response models.
//!
//! Messages, tool calls and TTFT are not extracted here: they stay in the
//! span's attributes, and the trace page builds its transcript from them.

use neatlogs::wire::{genai, openinference};
use serde_json::{Map, Value};

use crate::pricing::{usd_to_nanos, Nanos};

/// Keys of the official Neatlogs SDKs (`neatlogs.llm.*`).
pub mod neatlogs_keys {
    /// The model (the response model when the SDK knows it).
    pub const MODEL_NAME: &str = "neatlogs.llm.model_name";
    /// Prompt tokens.
    pub const PROMPT_TOKENS: &str = "neatlogs.llm.token_count.prompt";
    /// Completion tokens.
    pub const COMPLETION_TOKENS: &str = "neatlogs.llm.token_count.completion";
    /// Prompt tokens read from a cache.
    pub const CACHE_READ_TOKENS: &str = "neatlogs.llm.token_count.cache_read";
    /// Prompt tokens written to a cache.
    pub const CACHE_WRITE_TOKENS: &str = "neatlogs.llm.token_count.cache_write";
    /// Reasoning tokens (inside the completion tokens).
    pub const REASONING_TOKENS: &str = "neatlogs.llm.token_count.reasoning";
}

/// OpenInference keys (`llm.*`) beyond those in [`neatlogs::wire::openinference`].
pub mod openinference_keys {
    /// The model that answered.
    pub const RESPONSE_MODEL: &str = "llm.response.model_name";
    /// The model asked for.
    pub const REQUEST_MODEL: &str = "llm.request.model_name";
    pub use neatlogs::wire::openinference::{
        TOKENS_CACHE_READ as CACHE_READ_TOKENS, TOKENS_CACHE_WRITE as CACHE_WRITE_TOKENS,
        TOKENS_REASONING as REASONING_TOKENS,
    };
    /// The call's cost in USD.
    pub const COST_TOTAL: &str = "llm.cost.total";
    /// The prompt's cost in USD (added to the completion's when there is
    /// no total).
    pub const COST_PROMPT: &str = "llm.cost.prompt";
    /// The completion's cost in USD.
    pub const COST_COMPLETION: &str = "llm.cost.completion";
}

/// OpenTelemetry GenAI keys (`gen_ai.*`) beyond those in
/// [`neatlogs::wire::genai`].
pub mod genai_keys {
    /// Prompt tokens read from a cache (semantic conventions 1.37).
    pub const CACHE_READ_TOKENS: &str = "gen_ai.usage.cache_read.input_tokens";
    /// Prompt tokens written to a cache (semantic conventions 1.37).
    pub const CACHE_WRITE_TOKENS: &str = "gen_ai.usage.cache_creation.input_tokens";
    /// A cost in USD, as some GenAI instrumentations send it (not in the
    /// semantic conventions).
    pub const COST: &str = "gen_ai.usage.cost";
}

/// The model, in precedence order (see the module docs).
pub const MODEL: &[&str] = &[
    neatlogs_keys::MODEL_NAME,
    openinference_keys::RESPONSE_MODEL,
    genai::RESPONSE_MODEL,
    openinference::MODEL_NAME,
    openinference_keys::REQUEST_MODEL,
    genai::REQUEST_MODEL,
];
/// Prompt tokens.
pub const INPUT_TOKENS: &[&str] = &[
    neatlogs_keys::PROMPT_TOKENS,
    openinference::TOKENS_PROMPT,
    genai::INPUT_TOKENS,
    genai::PROMPT_TOKENS_LEGACY,
];
/// Completion tokens.
pub const OUTPUT_TOKENS: &[&str] = &[
    neatlogs_keys::COMPLETION_TOKENS,
    openinference::TOKENS_COMPLETION,
    genai::OUTPUT_TOKENS,
    genai::COMPLETION_TOKENS_LEGACY,
];
/// Prompt tokens read from a cache.
pub const CACHE_READ_TOKENS: &[&str] = &[
    neatlogs_keys::CACHE_READ_TOKENS,
    openinference_keys::CACHE_READ_TOKENS,
    genai_keys::CACHE_READ_TOKENS,
];
/// Prompt tokens written to a cache.
pub const CACHE_WRITE_TOKENS: &[&str] = &[
    neatlogs_keys::CACHE_WRITE_TOKENS,
    openinference_keys::CACHE_WRITE_TOKENS,
    genai_keys::CACHE_WRITE_TOKENS,
];
/// Reasoning tokens.
pub const REASONING_TOKENS: &[&str] = &[
    neatlogs_keys::REASONING_TOKENS,
    openinference_keys::REASONING_TOKENS,
];
/// A cost in USD that the sender gives. The Neatlogs SDKs write none (the
/// Python SDK 1.3.7 and 1.4.27 do not).
pub const COST: &[&str] = &[openinference_keys::COST_TOTAL, genai_keys::COST];

/// What a span says about an LLM call; every field is `None` on other spans.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct LlmFacts {
    pub model: Option<String>,
    pub input_tokens: Option<i64>,
    pub output_tokens: Option<i64>,
    pub cache_read_tokens: Option<i64>,
    pub cache_write_tokens: Option<i64>,
    pub reasoning_tokens: Option<i64>,
    /// The sender's cost; a negative or non-finite one is ignored.
    pub cost: Option<Nanos>,
}

impl LlmFacts {
    pub(crate) fn read(attrs: &Map<String, Value>) -> LlmFacts {
        let model = MODEL.iter().find_map(|k| match attrs.get(*k)? {
            Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
            _ => None,
        });
        let count = |keys: &[&str]| keys.iter().find_map(|k| count(attrs.get(*k)?));
        let usd = |key: &str| attrs.get(key).and_then(number);
        let cost = COST
            .iter()
            .find_map(|k| usd(k))
            .or_else(|| {
                match (
                    usd(openinference_keys::COST_PROMPT),
                    usd(openinference_keys::COST_COMPLETION),
                ) {
                    (None, None) => None,
                    (p, c) => Some(p.unwrap_or(0.0) + c.unwrap_or(0.0)),
                }
            })
            .and_then(usd_to_nanos);
        LlmFacts {
            model,
            input_tokens: count(INPUT_TOKENS),
            output_tokens: count(OUTPUT_TOKENS),
            cache_read_tokens: count(CACHE_READ_TOKENS),
            cache_write_tokens: count(CACHE_WRITE_TOKENS),
            reasoning_tokens: count(REASONING_TOKENS),
            cost,
        }
    }
}

/// A token count: a non-negative integer, or a number or numeric string
/// that is one.
fn count(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.is_finite()).map(|f| f as i64)),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    }
    .filter(|n| *n >= 0)
}

/// A number, or a string holding one (some exporters send every attribute
/// as a string).
fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    }
    .filter(|f| f.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(v: Value) -> LlmFacts {
        LlmFacts::read(v.as_object().unwrap())
    }

    #[test]
    fn each_convention_alone() {
        let neatlogs = read(json!({
            "neatlogs.llm.model_name": "gpt-4o",
            "neatlogs.llm.token_count.prompt": 10,
            "neatlogs.llm.token_count.completion": 5,
            "neatlogs.llm.token_count.cache_read": 4,
            "neatlogs.llm.token_count.cache_write": 1,
            "neatlogs.llm.token_count.reasoning": 2,
        }));
        let openinference = read(json!({
            "llm.model_name": "gpt-4o",
            "llm.token_count.prompt": 10,
            "llm.token_count.completion": 5,
            "llm.token_count.prompt_details.cache_read": 4,
            "llm.token_count.prompt_details.cache_write": 1,
            "llm.token_count.completion_details.reasoning": 2,
        }));
        let genai = read(json!({
            "gen_ai.request.model": "gpt-4o",
            "gen_ai.usage.input_tokens": 10,
            "gen_ai.usage.output_tokens": 5,
            "gen_ai.usage.cache_read.input_tokens": 4,
            "gen_ai.usage.cache_creation.input_tokens": 1,
        }));
        for facts in [&neatlogs, &openinference, &genai] {
            assert_eq!(facts.model.as_deref(), Some("gpt-4o"));
            assert_eq!(
                (facts.input_tokens, facts.output_tokens),
                (Some(10), Some(5))
            );
            assert_eq!(
                (facts.cache_read_tokens, facts.cache_write_tokens),
                (Some(4), Some(1))
            );
            assert_eq!(facts.cost, None);
        }
        assert_eq!(neatlogs.reasoning_tokens, Some(2));
        assert_eq!(openinference.reasoning_tokens, Some(2));
        let legacy = read(json!({
            "gen_ai.usage.prompt_tokens": "7", "gen_ai.usage.completion_tokens": 3.0
        }));
        assert_eq!(
            (legacy.input_tokens, legacy.output_tokens),
            (Some(7), Some(3))
        );
    }

    #[test]
    fn neatlogs_wins_over_openinference_over_genai() {
        let facts = read(json!({
            "gen_ai.usage.input_tokens": 1,
            "llm.token_count.prompt": 2,
            "neatlogs.llm.token_count.prompt": 3,
            "gen_ai.usage.output_tokens": 1,
            "llm.token_count.completion": 2,
            "llm.cost.total": 0.5,
            "gen_ai.usage.cost": 0.25,
        }));
        assert_eq!(facts.input_tokens, Some(3));
        assert_eq!(facts.output_tokens, Some(2));
        assert_eq!(facts.cost, Some(500_000_000));
    }

    #[test]
    fn the_response_model_wins_over_the_request_model() {
        let facts = read(json!({
            "gen_ai.request.model": "gpt-4o",
            "gen_ai.response.model": "gpt-4o-2024-08-06",
        }));
        assert_eq!(facts.model.as_deref(), Some("gpt-4o-2024-08-06"));
        let facts = read(json!({
            "llm.request.model_name": "claude-sonnet-4-5",
            "gen_ai.response.model": "claude-sonnet-4-5-20250929",
        }));
        assert_eq!(facts.model.as_deref(), Some("claude-sonnet-4-5-20250929"));
        let facts = read(json!({
            "gen_ai.response.model": "b", "neatlogs.llm.model_name": "a", "llm.model_name": "c",
        }));
        assert_eq!(facts.model.as_deref(), Some("a"));
    }

    #[test]
    fn costs_from_parts_and_nonsense_ignored() {
        let parts = read(json!({"llm.cost.prompt": 0.001, "llm.cost.completion": "0.002"}));
        assert_eq!(parts.cost, Some(3_000_000));
        for bad in [json!(-1), json!("NaN"), json!("free"), json!(true)] {
            let facts = read(json!({ "llm.cost.total": bad }));
            assert_eq!(facts.cost, None, "{bad}");
        }
        let negative_tokens = read(json!({"gen_ai.usage.input_tokens": -5}));
        assert_eq!(negative_tokens.input_tokens, None);
        let blank_model =
            read(json!({"neatlogs.llm.model_name": " ", "gen_ai.request.model": "m"}));
        assert_eq!(blank_model.model.as_deref(), Some("m"));
    }
}
