//! The wire contract: every attribute key and fixed value this SDK writes,
//! in one place.
//!
//! The OTLP writer, the `#[neatlogs::span]` macro (whose kind list a test
//! checks against [`SpanKind::ALL`](crate::SpanKind::ALL)) and the `neatlogs`
//! collector's ingest all read these constants, so a key cannot drift
//! between the writer and a reader. `docs/wire.md` describes the same
//! contract for people.
//!
//! ```
//! use neatlogs::wire;
//! assert_eq!(wire::span::END_USER_ID, "neatlogs.end_user.id");
//! assert_eq!(wire::resource::OPERATOR, "user.id");
//! ```

/// Resource attributes: written once per export request.
pub mod resource {
    /// The workflow name, else [`DEFAULT_SERVICE_NAME`].
    pub const SERVICE_NAME: &str = "service.name";
    /// `service.name` when no workflow name is configured.
    pub const DEFAULT_SERVICE_NAME: &str = "neatlogs-app";
    /// The workflow name (`Config::workflow_name`).
    pub const WORKFLOW_NAME: &str = "neatlogs.workflow_name";
    /// [`SDK_NAME_VALUE`].
    pub const SDK_NAME: &str = "telemetry.sdk.name";
    /// The value of [`SDK_NAME`], also the instrumentation scope's name.
    pub const SDK_NAME_VALUE: &str = "neatlogs";
    /// [`SDK_LANGUAGE_VALUE`].
    pub const SDK_LANGUAGE: &str = "telemetry.sdk.language";
    /// The value of [`SDK_LANGUAGE`].
    pub const SDK_LANGUAGE_VALUE: &str = "rust";
    /// The crate version.
    pub const SDK_VERSION: &str = "telemetry.sdk.version";
    /// The **operator** running the SDK (`Config::user_id`), never the end-user.
    pub const OPERATOR: &str = "user.id";
    /// The process-wide session (`Config::session_id`, `auto_session`).
    pub const SESSION: &str = "session.id";
    /// `Config::tags`, comma-joined.
    pub const TAGS: &str = "neatlogs.tags";
}

/// Span attributes the SDK owns.
pub mod span {
    /// Every span: the kind, upper case (`WORKFLOW`, `LLM`, ...).
    pub const OPENINFERENCE_KIND: &str = "openinference.span.kind";
    /// Every span: the kind, lower case (`workflow`, `llm`, ...).
    pub const NEATLOGS_KIND: &str = "neatlogs.span.kind";
    /// Every span: `true`.
    pub const INTERNAL: &str = "neatlogs.internal";
    /// Root only: the trace's resolved end-user id.
    pub const END_USER_ID: &str = "neatlogs.end_user.id";
    /// Root only: the same id, under the OpenTelemetry semantic-convention key.
    pub const ENDUSER_ID: &str = "enduser.id";
    /// Root only: the end-user's metadata, a JSON object as a string.
    pub const END_USER_METADATA: &str = "neatlogs.end_user.metadata";
    /// Root only: the trace's resolved session.
    pub const SESSION: &str = "neatlogs.session.id";
    /// Root only: the trace's tags, a list of strings.
    pub const TAGS: &str = "tag.tags";

    /// Keys an application attribute may not use: such an attribute is
    /// dropped by the writer (a debug-level diagnostic says so), so a nested
    /// span can never claim an identity and a kind cannot be forged.
    pub const RESERVED: [&str; 9] = [
        OPENINFERENCE_KIND,
        NEATLOGS_KIND,
        INTERNAL,
        END_USER_ID,
        ENDUSER_ID,
        END_USER_METADATA,
        SESSION,
        TAGS,
        super::trace_complete::ATTRIBUTE,
    ];
}

/// The span emitted after each root ends, which tells the Neatlogs backend
/// that the trace is complete.
pub mod trace_complete {
    /// Its name.
    pub const NAME: &str = "neatlogs.trace.complete";
    /// Its marker attribute, `true`.
    pub const ATTRIBUTE: &str = "neatlogs.trace.complete";
    /// Its `neatlogs.span.kind`.
    pub const KIND: &str = "Neatlogs.INTERNAL";
}

/// LLM spans: the model and token counts (OpenTelemetry GenAI keys).
pub mod llm {
    /// The model asked for.
    pub const REQUEST_MODEL: &str = "gen_ai.request.model";
    /// The model that answered.
    pub const RESPONSE_MODEL: &str = "gen_ai.response.model";
    /// Prompt tokens.
    pub const INPUT_TOKENS: &str = "gen_ai.usage.input_tokens";
    /// Completion tokens.
    pub const OUTPUT_TOKENS: &str = "gen_ai.usage.output_tokens";
    /// Older GenAI name of [`INPUT_TOKENS`], read by the collector.
    pub const PROMPT_TOKENS_LEGACY: &str = "gen_ai.usage.prompt_tokens";
    /// Older GenAI name of [`OUTPUT_TOKENS`], read by the collector.
    pub const COMPLETION_TOKENS_LEGACY: &str = "gen_ai.usage.completion_tokens";
    /// OpenInference: the model.
    pub const OPENINFERENCE_MODEL: &str = "llm.model_name";
    /// OpenInference: prompt tokens.
    pub const OPENINFERENCE_PROMPT_TOKENS: &str = "llm.token_count.prompt";
    /// OpenInference: completion tokens.
    pub const OPENINFERENCE_COMPLETION_TOKENS: &str = "llm.token_count.completion";
}

/// Captured inputs and outputs (OpenInference keys).
pub mod io {
    /// The span's input: a prompt, tool arguments.
    pub const INPUT: &str = "input.value";
    /// The span's output: a completion, a tool result.
    pub const OUTPUT: &str = "output.value";
}

/// Fixed values of the OTLP span itself.
pub mod otlp {
    /// `Span.flags`: `SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK` with `IS_REMOTE`
    /// clear (every parent is local) plus the sampled trace flag.
    pub const SPAN_FLAGS: u32 = 0x100 | 0x01;
    /// `Span.kind`: `SPAN_KIND_INTERNAL`.
    pub const SPAN_KIND_INTERNAL: i32 = 1;
    /// `Status.code`: `STATUS_CODE_OK`.
    pub const STATUS_CODE_OK: i32 = 1;
    /// `Status.code`: `STATUS_CODE_ERROR`.
    pub const STATUS_CODE_ERROR: i32 = 2;
    /// The request path under an endpoint's base URL.
    pub const TRACES_PATH: &str = "/v1/traces";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_keys_are_distinct() {
        let mut keys = span::RESERVED.to_vec();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), span::RESERVED.len());
    }
}
