//! The wire contract of the `neatlogs` SDK: every attribute key and fixed
//! value it writes, in one place, and nothing else (no code, no
//! dependencies), as `opentelemetry-semantic-conventions` is for
//! OpenTelemetry.
//!
//! The SDK's OTLP writer (which re-exports this crate as `neatlogs::wire`),
//! the `#[neatlogs::span]` macro (whose kind list a test checks against
//! `neatlogs::SpanKind::ALL`) and the `neatlogs` collector's ingest all read
//! these constants, so a key cannot drift between the writer and a reader.
//! `docs/wire.md` describes the same contract for people.
//!
//! ```
//! assert_eq!(neatlogs_wire::span::END_USER_ID, "neatlogs.end_user.id");
//! assert_eq!(neatlogs_wire::resource::OPERATOR, "user.id");
//! ```
#![no_std]
#![warn(missing_docs)]

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
    /// The **operator** running the SDK (`Config::operator_id`), never the end-user.
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
    /// Every span: the instrumentation that wrote it
    /// ([`SDK_NAME_VALUE`](super::resource::SDK_NAME_VALUE)).
    pub const INSTRUMENTATION_NAME: &str = "neatlogs.instrumentation.name";
    /// Every span: a copy of the resource's workflow name (or
    /// [`DEFAULT_SERVICE_NAME`](super::resource::DEFAULT_SERVICE_NAME)).
    pub const WORKFLOW_NAME: &str = "neatlogs.workflow_name";
    /// Every span, when configured: a copy of the resource's **operator**
    /// (`user.id`), never the end-user.
    pub const OPERATOR: &str = "neatlogs.user.id";
    /// Every span and the completion marker, when configured: a copy of the
    /// resource's comma-joined tags.
    pub const PROCESS_TAGS: &str = "neatlogs.tags";
    /// What a non-TOOL span does (`set_description`).
    pub const DESCRIPTION: &str = "neatlogs.description";
    /// The event a span gets when a trace of its own is started from it
    /// (`neatlogs::new_trace`); the new root links back to the
    /// span.
    pub const TRACE_SPAWNED: &str = "neatlogs.trace.spawned";
    /// Root: the probability the head sampler kept this trace with, when
    /// a ratio below 1 decided it (a double; each stored trace stands for
    /// `1 / p` traces run). Written in every vocabulary.
    pub const SAMPLING_PROBABILITY: &str = "neatlogs.sampling.probability";
    /// Root: `true` when the head sampler dropped the trace and tail keep
    /// kept it (a failed span, a slow root); such a trace stands for
    /// itself only. Written in every vocabulary.
    pub const TAIL_KEPT: &str = "neatlogs.sampling.tail_kept";
    /// That event's attribute: the new trace's id (32 lower-case hex).
    pub const TRACE_SPAWNED_TRACE_ID: &str = "neatlogs.trace.spawned.trace_id";

    /// Keys an application attribute may not use: such an attribute is
    /// dropped by the writer (a debug-level diagnostic says so), so a nested
    /// span can never claim an identity and a kind cannot be forged.
    /// Identity keys of every vocabulary are among them, whichever are
    /// configured; so are keys that start with
    /// [`LANGFUSE_METADATA_PREFIX`](super::genai::LANGFUSE_METADATA_PREFIX).
    pub const RESERVED: [&str; 22] = [
        OPENINFERENCE_KIND,
        NEATLOGS_KIND,
        INTERNAL,
        END_USER_ID,
        ENDUSER_ID,
        END_USER_METADATA,
        SESSION,
        TAGS,
        super::trace_complete::ATTRIBUTE,
        WORKFLOW_NAME,
        OPERATOR,
        PROCESS_TAGS,
        super::openinference::USER_ID,
        super::openinference::SESSION_ID,
        super::openinference::METADATA,
        super::genai::CONVERSATION_ID,
        super::genai::LANGFUSE_USER_ID,
        super::genai::LANGFUSE_SESSION_ID,
        super::genai::LANGFUSE_TAGS,
        super::openinference::PROJECT_NAME,
        SAMPLING_PROBABILITY,
        TAIL_KEPT,
    ];
}

/// The span emitted after each root ends, which tells the Neatlogs backend
/// that the trace is complete.
#[doc(hidden)]
pub mod trace_complete {
    /// Its name.
    pub const NAME: &str = "neatlogs.trace.complete";
    /// Its marker attribute, `true`.
    pub const ATTRIBUTE: &str = "neatlogs.trace.complete";
    /// Its `neatlogs.span.kind`.
    pub const KIND: &str = "Neatlogs.INTERNAL";
}

/// LLM spans, in the Neatlogs vocabulary (what the Neatlogs backend reads,
/// as the official Python SDK writes it), written on the export thread from
/// the typed `neatlogs::llm::LlmCall`.
pub mod llm {
    /// The model: the one that answered when known, else the one asked for.
    pub const MODEL_NAME: &str = "neatlogs.llm.model_name";
    /// The provider (`openai`, ...).
    pub const PROVIDER: &str = "neatlogs.llm.provider";
    /// The AI system (`openai`, ...).
    pub const SYSTEM: &str = "neatlogs.llm.system";
    /// Prompt tokens.
    pub const TOKENS_PROMPT: &str = "neatlogs.llm.token_count.prompt";
    /// Completion tokens.
    pub const TOKENS_COMPLETION: &str = "neatlogs.llm.token_count.completion";
    /// All tokens.
    pub const TOKENS_TOTAL: &str = "neatlogs.llm.token_count.total";
    /// Prompt tokens read from the cache.
    pub const TOKENS_CACHE_READ: &str = "neatlogs.llm.token_count.cache_read";
    /// Prompt tokens written to the cache.
    pub const TOKENS_CACHE_WRITE: &str = "neatlogs.llm.token_count.cache_write";
    /// Completion tokens spent reasoning.
    pub const TOKENS_REASONING: &str = "neatlogs.llm.token_count.reasoning";
    /// `neatlogs.llm.input_messages.N.role` / `.content` / `.name` / `.tool_call_id`.
    pub const INPUT_MESSAGES: &str = "neatlogs.llm.input_messages.";
    /// `neatlogs.llm.output_messages.N.role` / `.content` / ...
    pub const OUTPUT_MESSAGES: &str = "neatlogs.llm.output_messages.";
    /// A message's role (after the index).
    pub const MESSAGE_ROLE: &str = ".role";
    /// A message's text.
    pub const MESSAGE_CONTENT: &str = ".content";
    /// A message author's name.
    pub const MESSAGE_NAME: &str = ".name";
    /// The tool call a message answers.
    pub const MESSAGE_TOOL_CALL_ID: &str = ".tool_call_id";
    /// `neatlogs.llm.tool_calls.N.id` / `.name` / `.arguments`.
    pub const TOOL_CALLS: &str = "neatlogs.llm.tool_calls.";
    /// A tool call's id.
    pub const TOOL_CALL_ID: &str = ".id";
    /// A tool call's function name.
    pub const TOOL_CALL_NAME: &str = ".name";
    /// A tool call's arguments (JSON text).
    pub const TOOL_CALL_ARGUMENTS: &str = ".arguments";
    /// A tool call's type, `function`.
    pub const TOOL_CALL_TYPE: &str = ".type";
    /// A tool call's position among the reply's tool calls.
    pub const TOOL_CALL_INDEX: &str = ".tool_call_index";
    /// The choice a tool call belongs to (`0`: one choice is recorded).
    pub const TOOL_CALL_CHOICE_INDEX: &str = ".choice_index";
    /// `neatlogs.llm.tools.N.name` / `.description` / `.input_schema` /
    /// `.type` / `.definition`: the tools offered in the request.
    pub const TOOLS: &str = "neatlogs.llm.tools.";
    /// An offered tool's name.
    pub const TOOL_NAME: &str = ".name";
    /// An offered tool's description.
    pub const TOOL_DESCRIPTION: &str = ".description";
    /// An offered tool's argument schema, JSON text.
    pub const TOOL_INPUT_SCHEMA: &str = ".input_schema";
    /// An offered tool's type, `function`.
    pub const TOOL_TYPE: &str = ".type";
    /// An offered tool's whole definition, JSON text (OpenAI's shape).
    pub const TOOL_DEFINITION: &str = ".definition";
    /// Why the model stopped.
    pub const FINISH_REASON: &str = "neatlogs.llm.finish_reason";
    /// The first choice's finish reason (`neatlogs.llm.choices.0.finish_reason`).
    pub const CHOICE_0_FINISH_REASON: &str = "neatlogs.llm.choices.0.finish_reason";
    /// Whether the reply was streamed.
    pub const IS_STREAMING: &str = "neatlogs.llm.is_streaming";
    /// Time to first token, in milliseconds (a double).
    pub const TTFT_MS: &str = "neatlogs.llm.metrics.ttft_ms";
    /// From the first token to the end, in milliseconds.
    pub const STREAMING_TIME_TO_GENERATE_MS: &str =
        "neatlogs.llm.metrics.streaming_time_to_generate_ms";
    /// The call's duration, in milliseconds.
    pub const DURATION_MS: &str = "neatlogs.llm.metrics.duration_ms";
    /// The provider's response id.
    pub const RESPONSE_ID: &str = "neatlogs.llm.response_id";
    /// The invocation parameters, a JSON object as text.
    pub const INVOCATION_PARAMETERS: &str = "neatlogs.llm.invocation_parameters";
    /// The prefix of the invocation parameters also written one by one
    /// ([`PARAMETERS`]): `neatlogs.llm.temperature`.
    pub const PARAMETER_PREFIX: &str = "neatlogs.llm.";
    /// The invocation parameters written one by one when they are numbers.
    pub const PARAMETERS: [&str; 5] = [
        "temperature",
        "top_p",
        "max_tokens",
        "frequency_penalty",
        "presence_penalty",
    ];
}

/// EMBEDDING spans of an integration (`neatlogs::openai`), with the keys
/// the Python SDK's OpenAI wrapper writes besides the typed model and
/// usage of [`llm`].
pub mod embedding {
    /// The model that answered, else the one asked for.
    pub const MODEL_NAME: &str = "neatlogs.embedding.model_name";
    /// How many embeddings the reply holds.
    pub const COUNT: &str = "neatlogs.embedding.count";
    /// The length of each embedding vector.
    pub const DIMENSIONS: &str = "neatlogs.embedding.dimensions";
    /// All tokens of the call.
    pub const TOKEN_COUNT: &str = "neatlogs.embedding.token_count";
}

/// Streamed replies of an integration (`neatlogs::openai`).
pub mod stream {
    /// `true` on the span of a stream dropped before its end.
    pub const CANCELLED: &str = "neatlogs.stream.cancelled";
}

/// Metrics written on every span.
pub mod metrics {
    /// The span's duration, in milliseconds (a double).
    pub const DURATION_MS: &str = "neatlogs.metrics.duration_ms";
}

/// The OpenInference vocabulary (`Conventions::OPENINFERENCE`), what
/// Arize Phoenix reads. Keys it shares with the Neatlogs vocabulary
/// (`openinference.span.kind`, `input.value`, `tool.name`, `tag.tags`) are
/// in [`span`], [`io`] and [`tool`].
///
pub mod openinference {
    /// Resource: the Phoenix project (the workflow name).
    pub const PROJECT_NAME: &str = "openinference.project.name";
    /// Root: the trace's **end-user** (never the operator).
    pub const USER_ID: &str = "user.id";
    /// Root: the trace's session.
    pub const SESSION_ID: &str = "session.id";
    /// Root: the end-user's metadata, a JSON object as a string.
    pub const METADATA: &str = "metadata";
    /// The model: the one that answered when known, else the one asked for.
    pub const MODEL_NAME: &str = "llm.model_name";
    /// The provider (`openai`).
    pub const PROVIDER: &str = "llm.provider";
    /// The AI system.
    pub const SYSTEM: &str = "llm.system";
    /// Prompt tokens.
    pub const TOKENS_PROMPT: &str = "llm.token_count.prompt";
    /// Completion tokens.
    pub const TOKENS_COMPLETION: &str = "llm.token_count.completion";
    /// Total tokens.
    pub const TOKENS_TOTAL: &str = "llm.token_count.total";
    /// Prompt tokens read from a cache.
    pub const TOKENS_CACHE_READ: &str = "llm.token_count.prompt_details.cache_read";
    /// Prompt tokens written to a cache.
    pub const TOKENS_CACHE_WRITE: &str = "llm.token_count.prompt_details.cache_write";
    /// Reasoning tokens.
    pub const TOKENS_REASONING: &str = "llm.token_count.completion_details.reasoning";
    /// `llm.input_messages.N` + a message suffix.
    pub const INPUT_MESSAGES: &str = "llm.input_messages.";
    /// `llm.output_messages.N` + a message suffix.
    pub const OUTPUT_MESSAGES: &str = "llm.output_messages.";
    /// A message's role.
    pub const MESSAGE_ROLE: &str = ".message.role";
    /// A message's content.
    pub const MESSAGE_CONTENT: &str = ".message.content";
    /// A message's author name.
    pub const MESSAGE_NAME: &str = ".message.name";
    /// The tool call a `tool` message answers.
    pub const MESSAGE_TOOL_CALL_ID: &str = ".message.tool_call_id";
    /// `llm.output_messages.0.message.tool_calls.M` + a tool call suffix: the
    /// tool calls of the reply, on its first output message.
    pub const TOOL_CALLS: &str = ".message.tool_calls.";
    /// A tool call's id.
    pub const TOOL_CALL_ID: &str = ".tool_call.id";
    /// A tool call's function name.
    pub const TOOL_CALL_NAME: &str = ".tool_call.function.name";
    /// A tool call's arguments (JSON text).
    pub const TOOL_CALL_ARGUMENTS: &str = ".tool_call.function.arguments";
    /// `llm.tools.N` + [`TOOL_JSON_SCHEMA`]: the tools offered.
    pub const TOOLS: &str = "llm.tools.";
    /// A tool's definition, JSON.
    pub const TOOL_JSON_SCHEMA: &str = ".tool.json_schema";
    /// The invocation parameters, a JSON object as a string.
    pub const INVOCATION_PARAMETERS: &str = "llm.invocation_parameters";
}

/// The OpenTelemetry GenAI semantic conventions (`Conventions::GENAI`),
/// plus the trace-level keys Langfuse reads.
///
pub mod genai {
    /// `chat`, `embeddings`, `execute_tool`, `invoke_agent`.
    pub const OPERATION: &str = "gen_ai.operation.name";
    /// The provider (`openai`).
    pub const PROVIDER: &str = "gen_ai.provider.name";
    /// The provider, under the key older GenAI readers use.
    pub const SYSTEM: &str = "gen_ai.system";
    /// The model asked for (the one that answered when only that is
    /// known).
    pub const REQUEST_MODEL: &str = "gen_ai.request.model";
    /// The model that answered.
    pub const RESPONSE_MODEL: &str = "gen_ai.response.model";
    /// The response's id.
    pub const RESPONSE_ID: &str = "gen_ai.response.id";
    /// Why the model stopped: a list of strings.
    pub const FINISH_REASONS: &str = "gen_ai.response.finish_reasons";
    /// Prompt tokens.
    pub const INPUT_TOKENS: &str = "gen_ai.usage.input_tokens";
    /// Completion tokens.
    pub const OUTPUT_TOKENS: &str = "gen_ai.usage.output_tokens";
    /// The older name of [`INPUT_TOKENS`], still written by some libraries
    /// (read by the collector, never written here).
    pub const PROMPT_TOKENS_LEGACY: &str = "gen_ai.usage.prompt_tokens";
    /// The older name of [`OUTPUT_TOKENS`] (read, never written).
    pub const COMPLETION_TOKENS_LEGACY: &str = "gen_ai.usage.completion_tokens";
    /// The prompt: a JSON array of `{role, parts: [{type, content}]}`.
    pub const INPUT_MESSAGES: &str = "gen_ai.input.messages";
    /// The reply, in the same form (with `finish_reason`).
    pub const OUTPUT_MESSAGES: &str = "gen_ai.output.messages";
    /// `gen_ai.request.` + a parameter name (`temperature`, `max_tokens`,
    /// ...), from the invocation parameters.
    pub const REQUEST_PREFIX: &str = "gen_ai.request.";
    /// A TOOL span's tool.
    pub const TOOL_NAME: &str = "gen_ai.tool.name";
    /// Root: the trace's session.
    pub const CONVERSATION_ID: &str = "gen_ai.conversation.id";
    /// Root: the trace's end-user, as Langfuse reads it.
    pub const LANGFUSE_USER_ID: &str = "langfuse.user.id";
    /// Root: the trace's session, as Langfuse reads it.
    pub const LANGFUSE_SESSION_ID: &str = "langfuse.session.id";
    /// Root: the trace's tags, a list of strings.
    pub const LANGFUSE_TAGS: &str = "langfuse.trace.tags";
    /// Root: `langfuse.trace.metadata.` + each key of the end-user's
    /// metadata (strings; other values as JSON text).
    pub const LANGFUSE_METADATA_PREFIX: &str = "langfuse.trace.metadata.";
}

/// Captured inputs and outputs: the OpenInference keys, and their
/// `neatlogs.<kind>.input` / `.output` twins.
pub mod io {
    /// The span's input: a prompt, tool arguments.
    pub const INPUT: &str = "input.value";
    /// The input's MIME type.
    pub const INPUT_MIME_TYPE: &str = "input.mime_type";
    /// The span's output: a completion, a tool result.
    pub const OUTPUT: &str = "output.value";
    /// The output's MIME type.
    pub const OUTPUT_MIME_TYPE: &str = "output.mime_type";
    /// The twins' prefix: `neatlogs.` + the kind in lower case + a suffix.
    pub const TWIN_PREFIX: &str = "neatlogs.";
    /// `neatlogs.<kind>.input`.
    pub const TWIN_INPUT: &str = ".input";
    /// `neatlogs.<kind>.output`.
    pub const TWIN_OUTPUT: &str = ".output";
    /// `neatlogs.<kind>.input_mime_type`.
    pub const TWIN_INPUT_MIME_TYPE: &str = ".input_mime_type";
    /// `neatlogs.<kind>.output_mime_type`.
    pub const TWIN_OUTPUT_MIME_TYPE: &str = ".output_mime_type";
    /// The MIME type of text.
    pub const MIME_TEXT: &str = "text/plain";
    /// The MIME type of JSON.
    pub const MIME_JSON: &str = "application/json";
}

/// TOOL spans: the tool's name (the span's) and description, under the
/// OpenInference keys and their `neatlogs.tool.*` twins.
pub mod tool {
    /// The tool's name.
    pub const NAME: &str = "tool.name";
    /// Its description.
    pub const DESCRIPTION: &str = "tool.description";
    /// [`NAME`]'s twin.
    pub const TWIN_NAME: &str = "neatlogs.tool.name";
    /// [`DESCRIPTION`]'s twin.
    pub const TWIN_DESCRIPTION: &str = "neatlogs.tool.description";
}

/// Where a `#[neatlogs::span]` function is (OpenTelemetry `code.*` keys,
/// each with a `neatlogs.code.*` twin).
pub mod code {
    /// The function's name.
    pub const FUNCTION: &str = "code.function.name";
    /// Its module path.
    pub const NAMESPACE: &str = "code.namespace";
    /// Its file.
    pub const FILE: &str = "code.file.path";
    /// Its line.
    pub const LINE: &str = "code.line.number";
    /// [`FUNCTION`]'s twin.
    pub const TWIN_FUNCTION: &str = "neatlogs.code.function.name";
    /// [`NAMESPACE`]'s twin.
    pub const TWIN_NAMESPACE: &str = "neatlogs.code.namespace";
    /// [`FILE`]'s twin.
    pub const TWIN_FILE: &str = "neatlogs.code.file.path";
    /// [`LINE`]'s twin.
    pub const TWIN_LINE: &str = "neatlogs.code.line.number";
}

/// The root of a request an HTTP service answered (`neatlogs::tower`'s
/// layer, feature `tower`), in the OpenTelemetry HTTP server vocabulary.
pub mod http {
    /// The request method (`GET`, ...; `_OTHER` for a method outside the
    /// HTTP specifications).
    pub const REQUEST_METHOD: &str = "http.request.method";
    /// The method as sent, when [`REQUEST_METHOD`] is `_OTHER`.
    pub const REQUEST_METHOD_ORIGINAL: &str = "http.request.method_original";
    /// The matched route template (`/users/{id}`), when known.
    pub const ROUTE: &str = "http.route";
    /// The request path as sent (`/users/42`).
    pub const URL_PATH: &str = "url.path";
    /// The response's status code (an integer).
    pub const RESPONSE_STATUS_CODE: &str = "http.response.status_code";
}

/// Fixed values of the OTLP span itself.
pub mod otlp {
    /// `Span.flags`: `SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK` with `IS_REMOTE`
    /// clear (every parent is local) plus the sampled trace flag.
    pub const SPAN_FLAGS: u32 = 0x100 | 0x01;
    /// `Span.flags` of a root whose parent is in another process (it
    /// continues a trace read from `traceparent`): `IS_REMOTE` set.
    pub const SPAN_FLAGS_REMOTE_PARENT: u32 = 0x300 | 0x01;
    /// `Span.kind`: `SPAN_KIND_INTERNAL`.
    pub const SPAN_KIND_INTERNAL: i32 = 1;
    /// `Span.kind`: `SPAN_KIND_CLIENT`, for calls to a model when the GenAI
    /// vocabulary is written.
    pub const SPAN_KIND_CLIENT: i32 = 3;
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

/// Usage per end-user, as OTLP metrics (`POST /v1/metrics`): cumulative
/// histograms, one point per (end-user, models, provider, outcome) series,
/// that count every LLM call whether its trace was sampled or not.
pub mod usage {
    /// Tokens per call, `gen_ai.token.type` [`INPUT`] or [`OUTPUT`]
    /// (the GenAI metric conventions' `{token}` histogram).
    pub const TOKEN_USAGE: &str = "gen_ai.client.token.usage";
    /// Cache-read, cache-write and reasoning tokens per call (part of the
    /// input and output tokens above, so kept apart: summing
    /// [`TOKEN_USAGE`] over its token types counts each token once).
    pub const TOKEN_USAGE_DETAILS: &str = "neatlogs.client.token.usage.details";
    /// Seconds per call (one point per call: its count is the calls).
    pub const OPERATION_DURATION: &str = "gen_ai.client.operation.duration";
    /// The token kind of a point.
    pub const TOKEN_TYPE: &str = "gen_ai.token.type";
    /// Prompt tokens.
    pub const INPUT: &str = "input";
    /// Completion tokens.
    pub const OUTPUT: &str = "output";
    /// Prompt tokens read from the provider's cache.
    pub const CACHE_READ: &str = "cache_read";
    /// Prompt tokens written to the provider's cache.
    pub const CACHE_WRITE: &str = "cache_write";
    /// Completion tokens spent reasoning.
    pub const REASONING: &str = "reasoning";
    /// The operation (`chat`).
    pub const OPERATION_NAME: &str = "gen_ai.operation.name";
    /// The provider.
    pub const PROVIDER_NAME: &str = "gen_ai.provider.name";
    /// The model asked for.
    pub const REQUEST_MODEL: &str = "gen_ai.request.model";
    /// The model that answered.
    pub const RESPONSE_MODEL: &str = "gen_ai.response.model";
    /// The end-user (the same key as on spans, `enduser.id`).
    pub const END_USER_ID: &str = super::span::ENDUSER_ID;
    /// Set (to `_OTHER`) on the series of calls that failed.
    pub const ERROR_TYPE: &str = "error.type";
    /// `true` on the one series past the sender's cardinality limit.
    pub const OVERFLOW: &str = "otel.metric.overflow";
}
