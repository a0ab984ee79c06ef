//! What an LLM call cost: the sender's own figure when it gives one, else
//! the call's tokens priced from a table of well-known models.
//!
//! The built-in table ([`PriceTable::builtin`], the file `builtin.json`
//! beside this one) holds list prices in USD per million tokens for a few
//! dozen well-known OpenAI, Anthropic and Google models. Its `source` and
//! `date` fields say where the figures come from: LiteLLM's
//! `model_prices_and_context_window_backup.json` as shipped in the `litellm`
//! 1.110.2 wheel on PyPI, taken on 2026-12-01. Prices change; a user keeps
//! them current with a file of their own (`neatlogs serve --prices FILE`),
//! in the same shape as the built-in one, JSON or TOML:
//!
//! ```json
//! { "models": {
//!     "gpt-4o": { "input": 2.5, "output": 10, "cache_read": 1.25 },
//!     "my-finetune": { "input": 3, "output": 12 } } }
//! ```
//!
//! Each entry replaces the built-in one of the same name, or adds a model.
//! Fields: `input`, `output` (required), `cache_read`, `cache_write`
//! (default: the input price) and `long_context` (`above_input_tokens`
//! plus its own `input`, `output`, `cache_read`), all in USD per million
//! tokens. Unknown fields and negative or non-finite prices are errors.
//!
//! How a call is priced ([`PriceTable::cost`]): prompt tokens that were
//! neither read from nor written to a cache at the input price, cache reads
//! at `cache_read`, cache writes at `cache_write` (the conventions count
//! both inside the prompt tokens), completion tokens (reasoning included)
//! at the output price; a prompt over `long_context.above_input_tokens`
//! uses those prices instead. A model that is not in the table has **no**
//! cost (never 0): its tokens still count.
//!
//! Model names match exactly (case-insensitive), then without a provider
//! prefix (`openai/gpt-4o`, `models/gemini-2.5-pro`), then without a date
//! suffix (`gpt-4o-2024-08-06` → `gpt-4o`, `claude-sonnet-4-5-20250929` →
//! `claude-sonnet-4-5`), so a dated snapshot with its own price (listed
//! under its full name) keeps it.
//!
//! Costs are kept as integer nano-dollars ([`Nanos`]) so that sums over
//! spans, traces and end-users are exact and order-independent.

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;

/// A cost in nano-dollars (10⁻⁹ USD): exact to add up.
pub type Nanos = i64;

/// Nano-dollars in a dollar.
pub const NANOS_PER_USD: f64 = 1e9;

/// The built-in table, as text.
const BUILTIN: &str = include_str!("builtin.json");

/// Why a price file was refused.
#[derive(Debug, thiserror::Error)]
pub enum PriceError {
    /// The file could not be read.
    #[error("cannot read the price file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Not a price table (bad JSON or TOML, an unknown field, a missing
    /// price).
    #[error("{path} is not a price table: {message}")]
    Parse {
        /// The file.
        path: String,
        /// What is wrong, from the parser.
        message: String,
    },
    /// A price that is negative, not finite, or a threshold of 0.
    #[error("{path}: model `{model}`: {message}")]
    Invalid {
        /// The file.
        path: String,
        /// The model entry.
        model: String,
        /// What is wrong.
        message: String,
    },
}

/// The list price of one model, in USD per million tokens.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelPrice {
    /// Prompt tokens.
    pub input: f64,
    /// Completion tokens (reasoning tokens included).
    pub output: f64,
    /// Prompt tokens read from the provider's cache (default: `input`).
    #[serde(default)]
    pub cache_read: Option<f64>,
    /// Prompt tokens written to the provider's cache (default: `input`).
    #[serde(default)]
    pub cache_write: Option<f64>,
    /// Other prices for prompts over a size (Gemini 2.5 Pro over 200k).
    #[serde(default)]
    pub long_context: Option<LongContextPrice>,
}

/// The prices of a prompt over `above_input_tokens`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LongContextPrice {
    /// Prompts with more tokens than this use these prices.
    pub above_input_tokens: i64,
    /// Prompt tokens.
    pub input: f64,
    /// Completion tokens.
    pub output: f64,
    /// Cache reads (default: this tier's `input`).
    #[serde(default)]
    pub cache_read: Option<f64>,
}

/// One call's token counts, as read from its span.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    /// Prompt tokens (cache reads and writes included).
    pub input: Option<i64>,
    /// Completion tokens (reasoning included).
    pub output: Option<i64>,
    /// Prompt tokens read from a cache.
    pub cache_read: Option<i64>,
    /// Prompt tokens written to a cache.
    pub cache_write: Option<i64>,
}

impl Usage {
    /// Whether the call reported any tokens at all.
    pub fn is_empty(&self) -> bool {
        self.input.is_none() && self.output.is_none()
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PriceFile {
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    date: Option<String>,
    #[serde(default)]
    unit: Option<String>,
    models: HashMap<String, ModelPrice>,
}

/// Model prices, keyed by lower-case model name.
///
/// ```
/// use neatlogs_cli::pricing::{PriceTable, Usage};
/// let table = PriceTable::builtin();
/// let usage = Usage { input: Some(1_000_000), output: Some(0), ..Usage::default() };
/// // gpt-4o lists $2.50 per million prompt tokens; a dated snapshot matches it.
/// assert_eq!(table.cost("gpt-4o-2024-08-06", &usage), Some(2_500_000_000));
/// assert_eq!(table.cost("my-own-model", &usage), None);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct PriceTable {
    /// Where the prices come from, and when they were taken.
    pub source: String,
    models: HashMap<String, ModelPrice>,
}

impl PriceTable {
    /// The built-in table (see the module docs for its source and date).
    pub fn builtin() -> PriceTable {
        // Checked by a unit test: the built-in file always parses.
        PriceTable::parse(BUILTIN, false, "the built-in price table").unwrap_or_else(|_| {
            PriceTable {
                source: String::new(),
                models: HashMap::new(),
            }
        })
    }

    /// A table from the text of a price file (TOML when `toml`, else
    /// JSON); `path` names it in errors.
    pub fn parse(text: &str, toml: bool, path: &str) -> Result<PriceTable, PriceError> {
        let parse_error = |message: String| PriceError::Parse {
            path: path.to_owned(),
            message,
        };
        let file: PriceFile = if toml {
            ::toml::from_str(text).map_err(|e| parse_error(e.to_string()))?
        } else {
            serde_json::from_str(text).map_err(|e| parse_error(e.to_string()))?
        };
        if let Some(unit) = &file.unit {
            if unit != "USD per million tokens" {
                return Err(parse_error(format!(
                    "`unit` is `{unit}`; prices must be in `USD per million tokens`"
                )));
            }
        }
        let mut models = HashMap::with_capacity(file.models.len());
        for (name, price) in file.models {
            validate(&price).map_err(|message| PriceError::Invalid {
                path: path.to_owned(),
                model: name.clone(),
                message,
            })?;
            models.insert(name.trim().to_ascii_lowercase(), price);
        }
        let source = match (file.source, file.date) {
            (Some(s), Some(d)) => format!("{s}, {d}"),
            (Some(s), None) => s,
            (None, Some(d)) => format!("{path}, {d}"),
            (None, None) => path.to_owned(),
        };
        Ok(PriceTable { source, models })
    }

    /// Reads a price file: `.toml` as TOML, anything else as JSON.
    pub fn load(path: &Path) -> Result<PriceTable, PriceError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| PriceError::Io {
            path: shown.clone(),
            source,
        })?;
        let toml = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("toml"));
        PriceTable::parse(&text, toml, &shown)
    }

    /// The built-in table with `path`'s entries over it (replacing models of
    /// the same name, adding the others).
    pub fn builtin_with_file(path: &Path) -> Result<PriceTable, PriceError> {
        Ok(PriceTable::builtin().overridden_by(PriceTable::load(path)?))
    }

    /// This table with `other`'s entries over it.
    pub fn overridden_by(mut self, other: PriceTable) -> PriceTable {
        self.source = format!("{} over {}", other.source, self.source);
        self.models.extend(other.models);
        self
    }

    /// How many models the table prices.
    pub fn len(&self) -> usize {
        self.models.len()
    }

    /// Whether the table prices no model.
    pub fn is_empty(&self) -> bool {
        self.models.is_empty()
    }

    /// The price of `model`: its exact name, then without a provider
    /// prefix, then without a date suffix.
    pub fn lookup(&self, model: &str) -> Option<&ModelPrice> {
        let name = model.trim().to_ascii_lowercase();
        if let Some(p) = self.models.get(&name) {
            return Some(p);
        }
        let bare = name.rsplit('/').next().unwrap_or(&name);
        if let Some(p) = self.models.get(bare) {
            return Some(p);
        }
        strip_date(bare).and_then(|base| self.models.get(base))
    }

    /// What a call to `model` with `usage` cost, in nano-dollars; `None`
    /// for a model the table does not know or a call without tokens.
    pub fn cost(&self, model: &str, usage: &Usage) -> Option<Nanos> {
        if usage.is_empty() {
            return None;
        }
        let price = self.lookup(model)?;
        let count = |n: Option<i64>| n.unwrap_or(0).max(0) as f64;
        let input = count(usage.input);
        let cache_read = count(usage.cache_read).min(input);
        let cache_write = count(usage.cache_write).min(input - cache_read);
        let uncached = input - cache_read - cache_write;
        let output = count(usage.output);
        let (in_price, out_price, read_price) = match &price.long_context {
            Some(long) if usage.input.unwrap_or(0) > long.above_input_tokens => (
                long.input,
                long.output,
                long.cache_read.unwrap_or(long.input),
            ),
            _ => (
                price.input,
                price.output,
                price.cache_read.unwrap_or(price.input),
            ),
        };
        let write_price = price.cache_write.unwrap_or(in_price);
        // USD per million tokens = 1,000 nano-dollars per token.
        let nanos = 1e3
            * (uncached * in_price
                + cache_read * read_price
                + cache_write * write_price
                + output * out_price);
        Some(nanos.round() as Nanos)
    }
}

impl Default for PriceTable {
    /// The built-in table.
    fn default() -> Self {
        PriceTable::builtin()
    }
}

/// A sender's cost in USD as nano-dollars; `None` for a negative or
/// non-finite figure, which is ignored rather than trusted.
pub fn usd_to_nanos(usd: f64) -> Option<Nanos> {
    (0.0..9e9)
        .contains(&usd)
        .then(|| (usd * NANOS_PER_USD).round() as Nanos)
}

/// Nano-dollars as USD, for display and the API.
pub fn nanos_to_usd(nanos: Nanos) -> f64 {
    nanos as f64 / NANOS_PER_USD
}

fn validate(price: &ModelPrice) -> Result<(), String> {
    let check = |what: &str, v: f64| {
        if v.is_finite() && v >= 0.0 {
            Ok(())
        } else {
            Err(format!("`{what}` must be a price of 0 or more, not {v}"))
        }
    };
    check("input", price.input)?;
    check("output", price.output)?;
    if let Some(v) = price.cache_read {
        check("cache_read", v)?;
    }
    if let Some(v) = price.cache_write {
        check("cache_write", v)?;
    }
    if let Some(long) = &price.long_context {
        if long.above_input_tokens <= 0 {
            return Err("`long_context.above_input_tokens` must be more than 0".to_owned());
        }
        check("long_context.input", long.input)?;
        check("long_context.output", long.output)?;
        if let Some(v) = long.cache_read {
            check("long_context.cache_read", v)?;
        }
    }
    Ok(())
}

/// `gpt-4o-2024-08-06` → `gpt-4o`, `claude-haiku-4-5-20251001` →
/// `claude-haiku-4-5`, `gemini-2.0-flash-001` → `gemini-2.0-flash`.
fn strip_date(name: &str) -> Option<&str> {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    // -YYYY-MM-DD
    let parts: Vec<&str> = name.rsplitn(4, '-').collect();
    if parts.len() == 4
        && parts[0].len() == 2
        && parts[1].len() == 2
        && parts[2].len() == 4
        && digits(parts[0])
        && digits(parts[1])
        && digits(parts[2])
    {
        return Some(parts[3]);
    }
    // -YYYYMMDD or a -NNN version
    let (base, tail) = name.rsplit_once('-')?;
    ((tail.len() == 8 || tail.len() == 3) && digits(tail)).then_some(base)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(input: i64, output: i64) -> Usage {
        Usage {
            input: Some(input),
            output: Some(output),
            ..Usage::default()
        }
    }

    #[test]
    fn the_builtin_table_parses_and_names_its_source() {
        let table = PriceTable::parse(BUILTIN, false, "builtin").expect("builtin.json parses");
        assert!(table.len() >= 12, "{} models", table.len());
        assert!(table.source.contains("litellm 1.110.2"), "{}", table.source);
        assert!(table.source.contains("2026-12-01"), "{}", table.source);
        assert_eq!(PriceTable::builtin(), table);
    }

    #[test]
    fn prices_per_million_tokens() {
        let table = PriceTable::builtin();
        // gpt-4o-mini: $0.15 in, $0.60 out per million.
        let price = table.lookup("gpt-4o-mini").unwrap().clone();
        let expected = (1000.0 * price.input * 1e3 + 500.0 * price.output * 1e3).round() as i64;
        assert_eq!(table.cost("gpt-4o-mini", &usage(1000, 500)), Some(expected));
        assert_eq!(expected, 150_000 + 300_000);
    }

    #[test]
    fn matching_tries_exact_then_provider_prefix_then_date_suffix() {
        let table = PriceTable::builtin();
        let base = table.lookup("gpt-4o").unwrap();
        assert_eq!(table.lookup("GPT-4o"), Some(base));
        assert_eq!(table.lookup("openai/gpt-4o"), Some(base));
        assert_eq!(table.lookup("gpt-4o-2024-08-06"), Some(base));
        // A dated snapshot with its own price keeps it.
        assert_ne!(table.lookup("gpt-4o-2024-05-13"), Some(base));
        assert_eq!(
            table.lookup("claude-sonnet-4-5-20250929"),
            table.lookup("claude-sonnet-4-5")
        );
        assert_eq!(
            table.lookup("models/gemini-2.5-pro"),
            table.lookup("gemini-2.5-pro")
        );
        // Only dates are stripped: another model is never taken for its prefix.
        assert_eq!(table.lookup("gpt-4o-mini-tts"), None);
        assert_eq!(table.lookup("gpt-4o-audio-preview"), None);
        assert_eq!(table.lookup("no-such-model"), None);
        assert_eq!(table.lookup(""), None);
    }

    #[test]
    fn unknown_models_and_calls_without_tokens_have_no_cost() {
        let table = PriceTable::builtin();
        assert_eq!(table.cost("llama-3-local", &usage(100, 100)), None);
        assert_eq!(table.cost("gpt-4o", &Usage::default()), None);
    }

    #[test]
    fn cache_reads_and_writes_are_priced_apart() {
        let table = PriceTable::parse(
            r#"{"models":{"m":{"input":10,"output":20,"cache_read":1,"cache_write":15}}}"#,
            false,
            "t",
        )
        .unwrap();
        let u = Usage {
            input: Some(1000),
            output: Some(100),
            cache_read: Some(600),
            cache_write: Some(100),
        };
        // 300 uncached * 10 + 600 * 1 + 100 * 15 + 100 * 20, per million, in nanos.
        assert_eq!(
            table.cost("m", &u),
            Some((300 * 10 + 600 + 100 * 15 + 100 * 20) * 1000)
        );
        // More cached tokens than prompt tokens cannot make a negative cost.
        let odd = Usage {
            input: Some(10),
            output: Some(0),
            cache_read: Some(50),
            cache_write: Some(50),
        };
        assert_eq!(table.cost("m", &odd), Some(10 * 1000));
    }

    #[test]
    fn long_prompts_use_the_long_context_prices() {
        let table = PriceTable::builtin();
        let price = table.lookup("gemini-2.5-pro").unwrap().clone();
        let long = price
            .long_context
            .clone()
            .expect("gemini-2.5-pro has a long-context tier");
        let short = usage(long.above_input_tokens, 0);
        let over = usage(long.above_input_tokens + 1, 0);
        assert_eq!(
            table.cost("gemini-2.5-pro", &short),
            Some((long.above_input_tokens as f64 * price.input * 1e3).round() as i64)
        );
        assert_eq!(
            table.cost("gemini-2.5-pro", &over),
            Some(((long.above_input_tokens + 1) as f64 * long.input * 1e3).round() as i64)
        );
    }

    #[test]
    fn a_file_overrides_and_extends_the_builtin_table() {
        let file = PriceTable::parse(
            "[models.gpt-4o]\ninput = 100\noutput = 200\n\n[models.\"my-model\"]\ninput = 1\noutput = 2\n",
            true,
            "prices.toml",
        )
        .unwrap();
        let table = PriceTable::builtin().overridden_by(file);
        assert_eq!(table.cost("gpt-4o", &usage(1, 1)), Some(300_000));
        assert_eq!(table.cost("my-model", &usage(1, 1)), Some(3_000));
        assert!(table.lookup("gpt-4o-mini").is_some(), "others kept");
        assert!(
            table.source.starts_with("prices.toml over "),
            "{}",
            table.source
        );
    }

    #[test]
    fn bad_price_files_are_typed_errors() {
        for (text, toml, want) in [
            ("{", false, "not a price table"),
            (
                r#"{"models":{"m":{"input":1}}}"#,
                false,
                "missing field `output`",
            ),
            (
                r#"{"models":{"m":{"input":1,"output":1,"inptu":2}}}"#,
                false,
                "unknown field",
            ),
            (
                r#"{"models":{"m":{"input":-1,"output":1}}}"#,
                false,
                "model `m`",
            ),
            (
                r#"{"unit":"USD per token","models":{}}"#,
                false,
                "USD per million tokens",
            ),
            (
                r#"{"models":{"m":{"input":1,"output":1,"long_context":{"above_input_tokens":0,"input":1,"output":1}}}}"#,
                false,
                "above_input_tokens",
            ),
            ("models = 3", true, "not a price table"),
        ] {
            let err = PriceTable::parse(text, toml, "p").unwrap_err().to_string();
            assert!(err.contains(want), "{text}: {err}");
        }
        let missing = PriceTable::load(Path::new("/nonexistent/prices.json")).unwrap_err();
        assert!(matches!(missing, PriceError::Io { .. }), "{missing}");
    }

    #[test]
    fn sender_costs_convert_exactly_and_refuse_nonsense() {
        assert_eq!(usd_to_nanos(0.0066), Some(6_600_000));
        assert_eq!(usd_to_nanos(-1.0), None);
        assert_eq!(usd_to_nanos(f64::NAN), None);
        assert_eq!(usd_to_nanos(f64::INFINITY), None);
        assert_eq!(nanos_to_usd(6_600_000), 0.0066);
    }

    /// The example price file in docs/llm-data.md is a valid one.
    #[test]
    fn the_documented_example_parses() {
        let doc = include_str!("../../../docs/llm-data.md");
        let start = doc.find("```toml\n").expect("a TOML example") + "```toml\n".len();
        let end = start + doc[start..].find("```").expect("its end");
        let table = PriceTable::parse(&doc[start..end], true, "docs/llm-data.md").unwrap();
        assert!(table.lookup("house-llama").is_some());
        assert!(table
            .lookup("gemini-2.5-pro")
            .unwrap()
            .long_context
            .is_some());
    }

    #[test]
    fn date_suffixes() {
        assert_eq!(strip_date("gpt-4o-2024-08-06"), Some("gpt-4o"));
        assert_eq!(
            strip_date("claude-haiku-4-5-20251001"),
            Some("claude-haiku-4-5")
        );
        assert_eq!(strip_date("gemini-2.0-flash-001"), Some("gemini-2.0-flash"));
        assert_eq!(strip_date("gpt-4o"), None);
        assert_eq!(strip_date("claude-sonnet-4-5"), None);
        assert_eq!(strip_date("o3"), None);
    }
}
