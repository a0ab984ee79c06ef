//! `init` configuration.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::content::Policy;
use crate::error::{InitError, ParseError};
use crate::export::{
    traces_url, Compression, Conventions, Exporter, Protocol, Transport, DEFAULT_ENDPOINT,
};
use crate::identity::{self, EndUserId, IdInput, IdentityError, IntoEndUserId, Metadata};
use crate::sampling::{Rule, Sampler, SamplingRoot};
use crate::tail::TailKeep;

mod env;

use env::{Problem, Setting};

/// Process-wide configuration, given once to [`init`](crate::init).
///
/// ```no_run
/// use serde_json::json;
/// neatlogs::init(
///     neatlogs::Config::from_env()
///         .workflow_name("batch-job")
///         .operator_id("svc-batch")      // the operator, not the end-user
///         .end_user_id("u_812")          // process-wide default end-user
///         .end_user_metadata(json!({"plan": "pro"}))
///         .session_id("s_1")
///         .tags(["nightly"]),
/// )?;
/// # Ok::<(), neatlogs::InitError>(())
/// ```
pub struct Config {
    pub(crate) api_key: Option<String>,
    pub(crate) endpoint: Option<Endpoint>,
    /// Given with [`Config::header`].
    pub(crate) headers: Vec<(String, String)>,
    /// From `OTEL_EXPORTER_OTLP_[TRACES_]HEADERS`.
    pub(crate) env_headers: Vec<(String, String)>,
    pub(crate) compression: Compression,
    pub(crate) conventions: Conventions,
    pub(crate) sampler: Sampler,
    pub(crate) sampling_rule: Option<Arc<Rule>>,
    pub(crate) tail_keep: Option<TailKeep>,
    pub(crate) resource_attributes: Vec<(String, String)>,
    /// `OTEL_SDK_DISABLED=true`: `init` does nothing.
    pub(crate) sdk_disabled: bool,
    /// Variables whose values cannot be used; `init` fails with the first.
    pub(crate) problems: Vec<Problem>,
    pub(crate) disable_export: bool,
    pub(crate) workflow_name: Option<String>,
    pub(crate) operator: Option<String>,
    pub(crate) end_user_id: Option<IdInput<EndUserId>>,
    pub(crate) end_user_metadata: Option<Result<Arc<Metadata>, IdentityError>>,
    pub(crate) session_id: Option<String>,
    pub(crate) auto_session: bool,
    pub(crate) tags: Vec<String>,
    pub(crate) console: bool,
    pub(crate) exporters: Vec<Box<dyn Exporter>>,
    pub(crate) queue_size: usize,
    pub(crate) batch_size: usize,
    pub(crate) schedule_delay: Duration,
    pub(crate) usage_interval: Duration,
    pub(crate) usage_cardinality_limit: usize,
    pub(crate) export_timeout: Duration,
    pub(crate) protocol: Option<Result<Protocol, ParseError>>,
    pub(crate) local_file: Option<PathBuf>,
    pub(crate) content: Policy,
    /// `NEATLOGS_TRACE_CONTENT` when it is neither true nor false.
    pub(crate) bad_trace_content: Option<String>,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("endpoint", &self.endpoint.as_ref().map(|e| &e.url))
            .field(
                "headers",
                &self
                    .env_headers
                    .iter()
                    .chain(&self.headers)
                    .map(|(k, _)| (k.as_str(), "<redacted>"))
                    .collect::<Vec<_>>(),
            )
            .field("compression", &self.compression)
            .field("conventions", &self.conventions)
            .field("resource_attributes", &self.resource_attributes)
            .field("sdk_disabled", &self.sdk_disabled)
            .field("disable_export", &self.disable_export)
            .field("workflow_name", &self.workflow_name)
            .field("operator_id", &self.operator)
            .field("session_id", &self.session_id)
            .field("auto_session", &self.auto_session)
            .field("tags", &self.tags)
            .field("console", &self.console)
            .field("exporters", &self.exporters.len())
            .field("queue_size", &self.queue_size)
            .field("batch_size", &self.batch_size)
            .field("schedule_delay", &self.schedule_delay)
            .field("export_timeout", &self.export_timeout)
            .field("protocol", &self.protocol)
            .field("local_file", &self.local_file)
            .field("content", &self.content)
            .finish_non_exhaustive()
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            api_key: None,
            endpoint: None,
            headers: Vec::new(),
            env_headers: Vec::new(),
            compression: Compression::default(),
            conventions: Conventions::default(),
            sampler: Sampler::default(),
            sampling_rule: None,
            tail_keep: None,
            resource_attributes: Vec::new(),
            sdk_disabled: false,
            problems: Vec::new(),
            disable_export: false,
            workflow_name: None,
            operator: None,
            end_user_id: None,
            end_user_metadata: None,
            session_id: None,
            auto_session: false,
            tags: Vec::new(),
            console: false,
            exporters: Vec::new(),
            queue_size: 65_536,
            batch_size: 512,
            schedule_delay: Duration::from_secs(1),
            usage_interval: Duration::from_secs(60),
            usage_cardinality_limit: crate::usage::DEFAULT_CARDINALITY_LIMIT,
            export_timeout: Duration::from_secs(10),
            protocol: None,
            local_file: None,
            content: Policy::default(),
            bad_trace_content: None,
        }
    }
}

/// A configured endpoint and how its path is read.
#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    pub(crate) url: String,
    /// Used as is (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`); otherwise a base
    /// URL that gets `/v1/traces`.
    pub(crate) exact: bool,
    /// The variable it came from, for errors.
    pub(crate) var: Option<&'static str>,
}

fn is_flag(v: &str) -> bool {
    matches!(
        v.trim().to_ascii_lowercase().as_str(),
        "1" | "true" | "yes" | "on"
    )
}

/// `true`/`false` in the usual spellings; `None` for anything else.
fn parse_flag(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

impl Config {
    /// A configuration with every default and nothing read from the environment.
    pub fn new() -> Self {
        Self::default()
    }

    /// Defaults plus the environment: `NEATLOGS_API_KEY`, `NEATLOGS_ENDPOINT`,
    /// `NEATLOGS_DISABLE_EXPORT` (`1`/`true` turns export off),
    /// `NEATLOGS_PROTOCOL` (`http/protobuf` or `http/json`; anything else
    /// makes `init` fail with [`InitError::InvalidProtocol`]),
    /// `NEATLOGS_FILE` (see [`local_file`](Config::local_file)),
    /// `NEATLOGS_TRACE_CONTENT` (`false` drops captured content, see
    /// [`capture_content`](Config::capture_content); a value that is neither
    /// true nor false makes `init` fail with
    /// [`InitError::InvalidTraceContent`]), `NEATLOGS_CONVENTIONS` (see
    /// [`conventions`](Config::conventions)) and `NEATLOGS_COMPRESSION` (see
    /// [`compression`](Config::compression)).
    ///
    /// Then the OpenTelemetry variables, for what those leave unset:
    ///
    /// | variable | setting |
    /// |---|---|
    /// | `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` | the traces URL, used as is |
    /// | `OTEL_EXPORTER_OTLP_ENDPOINT` | a base URL, `/v1/traces` appended (its path kept) |
    /// | `OTEL_EXPORTER_OTLP_[TRACES_]HEADERS` | `name=value,...`, values percent-decoded; see [`header`](Config::header) |
    /// | `OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL` | `http/protobuf` or `http/json` (`grpc` is not supported) |
    /// | `OTEL_EXPORTER_OTLP_[TRACES_]COMPRESSION` | `gzip` or `none` (`zstd` with the `zstd` feature) |
    /// | `OTEL_EXPORTER_OTLP_[TRACES_]TIMEOUT` | the export timeout, in milliseconds |
    /// | `OTEL_SERVICE_NAME` | the workflow name (else `service.name` in `OTEL_RESOURCE_ATTRIBUTES`) |
    /// | `OTEL_RESOURCE_ATTRIBUTES` | more resource attributes, `key=value,...` |
    /// | `OTEL_SDK_DISABLED` | `true`: `init` does nothing and tracing stays off |
    ///
    /// Precedence: a method called on the returned `Config` beats every
    /// variable; a `NEATLOGS_*` variable beats the OpenTelemetry one for the
    /// same setting; a `_TRACES_` variable beats the generic one. A value that
    /// cannot be used makes `init` fail with [`InitError::InvalidEnvVar`],
    /// which names the variable (and never repeats a header's value).
    pub fn from_env() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// [`from_env`](Config::from_env) with `var` looking the variables up.
    pub(crate) fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Self {
        let nonempty = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        let trace_content = nonempty("NEATLOGS_TRACE_CONTENT");
        let capture = trace_content.as_deref().map(parse_flag);
        let mut content = Policy::default();
        if let Some(Some(capture)) = capture {
            content.capture = capture;
        }
        let mut config = Config {
            content,
            bad_trace_content: trace_content.filter(|_| matches!(capture, Some(None))),
            api_key: nonempty("NEATLOGS_API_KEY"),
            endpoint: nonempty("NEATLOGS_ENDPOINT").map(|url| Endpoint {
                url,
                exact: false,
                var: Some("NEATLOGS_ENDPOINT"),
            }),
            disable_export: nonempty("NEATLOGS_DISABLE_EXPORT").is_some_and(|v| is_flag(&v)),
            protocol: nonempty("NEATLOGS_PROTOCOL").map(|p| p.parse()),
            local_file: nonempty("NEATLOGS_FILE").map(PathBuf::from),
            ..Self::default()
        };
        env::read_conventions(&mut config, &var);
        env::read_otel(&mut config, &var);
        config
    }

    fn problem(&mut self, setting: Setting, name: &'static str, reason: String) {
        self.problems.push(Problem {
            setting,
            name,
            reason,
        });
    }

    /// An explicit setting replaces what its variables said, bad or not.
    fn settled(&mut self, setting: Setting) {
        self.problems.retain(|p| p.setting != setting);
    }

    /// The API key for the Neatlogs backend, sent as `x-api-key`. With a key
    /// and no [`endpoint`](Config::endpoint), spans go to the Neatlogs cloud
    /// ([`DEFAULT_ENDPOINT`](crate::export::DEFAULT_ENDPOINT)). Also
    /// `NEATLOGS_API_KEY`.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// Where traces are sent over OTLP/HTTP (the Neatlogs backend or any
    /// OpenTelemetry receiver): a base URL, which gets `/v1/traces` appended
    /// with its path kept (`http://127.0.0.1:4318` →
    /// `http://127.0.0.1:4318/v1/traces`,
    /// `https://cloud.langfuse.com/api/public/otel` →
    /// `.../api/public/otel/v1/traces`), or a URL that already ends in
    /// `/v1/traces`. A URL that is not http(s) makes `init` fail with
    /// [`InitError::InvalidEndpoint`]. Also `NEATLOGS_ENDPOINT`,
    /// `OTEL_EXPORTER_OTLP_ENDPOINT` and `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`
    /// (see [`from_env`](Config::from_env)).
    ///
    /// ```
    /// let config = neatlogs::Config::new().endpoint("http://127.0.0.1:4318");
    /// # drop(config);
    /// ```
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        self.endpoint = Some(Endpoint {
            url: url.into(),
            exact: false,
            var: None,
        });
        self.settled(Setting::Endpoint);
        self
    }

    /// Send an HTTP header with every export request: authentication for
    /// other backends (`Authorization: Basic …` for Langfuse,
    /// `Authorization: Bearer …` for Phoenix), a tenant header. Repeatable;
    /// a later header replaces an earlier one of the same name (names are
    /// case-insensitive), and replaces one of the same name from
    /// `OTEL_EXPORTER_OTLP_HEADERS`. Values are never logged, and `Debug`
    /// prints only the names. A name or value that cannot be sent makes
    /// `init` fail with [`InitError::InvalidHeader`].
    ///
    /// ```
    /// let config = neatlogs::Config::new()
    ///     .endpoint("https://cloud.langfuse.com/api/public/otel")
    ///     .header("Authorization", "Basic cGstbGYtLi4uOnNrLWxmLS4uLg==")
    ///     .conventions(neatlogs::export::Conventions::GENAI);
    /// # drop(config);
    /// ```
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        env::set_header(&mut self.headers, name.into(), value.into());
        self
    }

    /// How request bodies are compressed (default
    /// [`Compression::Gzip`]; `Compression::Zstd` with the `zstd` feature).
    /// Also `NEATLOGS_COMPRESSION`, then
    /// `OTEL_EXPORTER_OTLP_[TRACES_]COMPRESSION`.
    pub fn compression(mut self, compression: Compression) -> Self {
        self.compression = compression;
        self.settled(Setting::Compression);
        self
    }

    /// Which attribute vocabularies go on the wire (default
    /// [`Conventions::NEATLOGS`]): see [`Conventions`] for what each one
    /// writes and which backend reads it. Also `NEATLOGS_CONVENTIONS`.
    ///
    /// ```
    /// use neatlogs::export::Conventions;
    /// // Phoenix, and the Neatlogs backend through the same collector.
    /// let config = neatlogs::Config::new()
    ///     .conventions(Conventions::OPENINFERENCE | Conventions::NEATLOGS);
    /// # drop(config);
    /// ```
    pub fn conventions(mut self, conventions: Conventions) -> Self {
        self.conventions = conventions;
        self.settled(Setting::Conventions);
        self
    }

    /// Whether spans go to the default destination: the OTLP endpoint with
    /// an API key or an endpoint, else the local file. On by default (off
    /// with `NEATLOGS_DISABLE_EXPORT=true`). With it off, spans still reach
    /// the console, test captures and exporters given with
    /// [`exporter`](Config::exporter); nothing else leaves the process.
    pub fn default_destination(mut self, on: bool) -> Self {
        self.disable_export = !on;
        self
    }

    /// Which traces are recorded ([`Sampler`]); by default every new trace,
    /// and a continued trace when its caller sampled it. Replaces
    /// `OTEL_TRACES_SAMPLER` / `OTEL_TRACES_SAMPLER_ARG`. A ratio outside
    /// 0..=1 fails `init` with [`InitError::InvalidSampler`].
    ///
    /// ```
    /// use neatlogs::{Config, Sampler};
    /// let config = Config::new().sampler(Sampler::parent_based(Sampler::TraceIdRatio(0.05)));
    /// # drop(config);
    /// ```
    pub fn sampler(mut self, sampler: Sampler) -> Self {
        self.sampler = sampler;
        self.settled(Setting::Sampler);
        self
    }

    /// Keep, when their root ends, traces the head sampler dropped but
    /// that turned out to matter: one with a failed span, or whose root ran
    /// longer than a threshold ([`TailKeep`]). Such traces are recorded and
    /// their ended spans held in memory until the root ends, under the
    /// bounds [`TailKeep`] states; past them the head decision stands and
    /// [`Stats::tail_fell_back`](crate::Stats::tail_fell_back) counts it.
    ///
    /// Each service decides its own part: the `traceparent` it sends carries
    /// the head decision (`00`), so a parent-based callee drops its part of
    /// a trace kept here, and a callee's part kept by its own tail keep
    /// under a caller that dropped its part arrives as a partial trace
    /// (its root has a parent that was never exported).
    ///
    /// ```
    /// use std::time::Duration;
    /// use neatlogs::{Config, Sampler, TailKeep};
    /// let config = Config::new()
    ///     .sampler(Sampler::parent_based(Sampler::TraceIdRatio(0.05)))
    ///     .tail_keep(TailKeep::errors().slower_than(Duration::from_secs(10)));
    /// # drop(config);
    /// ```
    pub fn tail_keep(mut self, keep: TailKeep) -> Self {
        self.tail_keep = Some(keep);
        self
    }

    /// A rule that sees each trace's root with its identity (name, kind,
    /// end-user and metadata, session, the caller's `sampled` flag) before
    /// the trace starts, and returns the probability of recording it, or
    /// `None` to leave the decision to the [`sampler`](Config::sampler).
    /// The probability is applied to the trace id as
    /// [`Sampler::TraceIdRatio`] does, so that services agree.
    ///
    /// It runs for every root in this process: the `#[neatlogs::span]`
    /// macro's, the builders', the `tower` layer's and the `tracing`
    /// layer's. A rule that panics or returns a value outside 0..=1 is
    /// ignored for that root (the sampler decides), with a warning.
    ///
    /// ```
    /// use neatlogs::{Config, Sampler};
    /// // Every trace of the users under investigation, 1 % of the rest.
    /// let watched = ["u_812", "u_977"];
    /// let config = Config::new()
    ///     .sampler(Sampler::parent_based(Sampler::TraceIdRatio(0.01)))
    ///     .sampling_rule(move |root| {
    ///         root.end_user_id()
    ///             .filter(|id| watched.contains(id))
    ///             .map(|_| 1.0)
    ///     });
    /// # drop(config);
    /// ```
    pub fn sampling_rule(
        mut self,
        rule: impl Fn(&SamplingRoot<'_>) -> Option<f64> + Send + Sync + 'static,
    ) -> Self {
        self.sampling_rule = Some(Arc::new(Rule(Box::new(rule))));
        self
    }

    /// The workflow (service) name: `service.name` and `neatlogs.workflow_name`.
    pub fn workflow_name(mut self, name: impl Into<String>) -> Self {
        self.workflow_name = Some(name.into());
        self
    }

    /// The **operator**: whoever runs the SDK (a developer, a service account).
    /// Exported on the resource as `user.id` with the Neatlogs vocabulary
    /// alone, and as `neatlogs.user.id` when another vocabulary that reads
    /// `user.id` as the end-user is configured (see
    /// [`conventions`](Config::conventions)); also `neatlogs.user.id` on
    /// every span with the Neatlogs vocabulary. This is not the end-user;
    /// use [`end_user_id`](Config::end_user_id) for that.
    pub fn operator_id(mut self, operator: impl Into<String>) -> Self {
        self.operator = Some(operator.into());
        self
    }

    /// The process-wide default end-user, for single-user processes (a CLI, a
    /// batch job for one customer). A trace root's explicit end-user wins.
    pub fn end_user_id(mut self, id: impl IntoEndUserId) -> Self {
        self.end_user_id = Some(id.into_end_user_id());
        self
    }

    /// Metadata for the default end-user (a JSON object). It is attached only
    /// to traces whose end-user is the default.
    pub fn end_user_metadata<T: serde::Serialize>(mut self, metadata: T) -> Self {
        self.end_user_metadata = Some(identity::metadata_from(&metadata));
        self
    }

    /// The process-wide session (`session.id` on the resource, and the
    /// session of every trace whose root does not set one).
    pub fn session_id(mut self, session: impl Into<String>) -> Self {
        self.session_id = Some(session.into());
        self
    }

    /// Generate one session id for this process
    /// (`session_{unix_seconds}_{8 lowercase hex}`) unless
    /// [`session_id`](Config::session_id) is given.
    pub fn auto_session(mut self, enabled: bool) -> Self {
        self.auto_session = enabled;
        self
    }

    /// Process-wide tags, exported comma-joined as `neatlogs.tags` (a key
    /// of the Neatlogs vocabulary: other vocabularies carry a trace's own
    /// tags, given on its root, and not these).
    pub fn tags<I, S>(mut self, tags: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.tags.extend(tags.into_iter().map(Into::into));
        self
    }

    /// Also print each finished trace as a tree on standard output.
    pub fn console(mut self, enabled: bool) -> Self {
        self.console = enabled;
        self
    }

    /// Add an exporter. Finished spans go to every configured exporter, in
    /// batches, on the export thread.
    pub fn exporter(mut self, exporter: impl Exporter) -> Self {
        self.exporters.push(Box::new(exporter));
        self
    }

    /// How many finished spans may wait for export (default 65,536). When
    /// full, new spans are dropped and counted in [`stats`](crate::stats).
    pub fn queue_size(mut self, spans: usize) -> Self {
        self.queue_size = spans.max(1);
        self
    }

    /// The most spans per export call (default 512).
    pub fn batch_size(mut self, spans: usize) -> Self {
        self.batch_size = spans.max(1);
        self
    }

    /// The longest a span waits before a partial batch is exported (default 1 s).
    pub fn schedule_delay(mut self, delay: Duration) -> Self {
        self.schedule_delay = delay;
        self
    }

    /// How often the usage totals (tokens, calls, durations per end-user)
    /// are sent as OTLP metrics to the endpoint's `/v1/metrics` (default
    /// 60 s, `OTEL_METRIC_EXPORT_INTERVAL` in milliseconds); `flush` and
    /// `shutdown` send them too.
    pub fn usage_interval(mut self, interval: Duration) -> Self {
        self.usage_interval = interval.max(Duration::from_millis(1));
        self.settled(Setting::UsageInterval);
        self
    }

    /// The most usage series (end-user × model × provider × outcome) kept
    /// apart; LLM calls of series past it are counted together in one
    /// overflow series (`otel.metric.overflow`), and in
    /// [`Stats::usage_overflowed`](crate::Stats::usage_overflowed). Default
    /// [`DEFAULT_CARDINALITY_LIMIT`](crate::DEFAULT_CARDINALITY_LIMIT)
    /// (2000), as the OpenTelemetry metrics SDK's.
    pub fn usage_cardinality_limit(mut self, series: usize) -> Self {
        self.usage_cardinality_limit = series.max(1);
        self
    }

    /// The longest one export may take, retries included (default 10 s).
    pub fn export_timeout(mut self, timeout: Duration) -> Self {
        self.export_timeout = timeout;
        self.settled(Setting::Timeout);
        self
    }

    /// How OTLP/HTTP requests are encoded: [`Protocol::HttpProtobuf`]
    /// (default) or [`Protocol::HttpJson`]. Also `NEATLOGS_PROTOCOL`.
    ///
    /// ```
    /// let config = neatlogs::Config::new()
    ///     .endpoint("http://127.0.0.1:4318")
    ///     .protocol(neatlogs::export::Protocol::HttpJson);
    /// # drop(config);
    /// ```
    pub fn protocol(mut self, protocol: Protocol) -> Self {
        self.protocol = Some(Ok(protocol));
        self.settled(Setting::Protocol);
        self
    }

    /// Write traces as OTLP JSON lines to `path` (default
    /// `.neatlogs/traces.jsonl` under the working directory; also
    /// `NEATLOGS_FILE`). The file is the default destination when no API key
    /// and no endpoint are set; set explicitly, it is written in addition to
    /// a remote endpoint.
    ///
    /// ```
    /// let config = neatlogs::Config::new().local_file("target/traces.jsonl");
    /// # drop(config);
    /// ```
    pub fn local_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.local_file = Some(path.into());
        self
    }

    /// Whether captured content leaves the process (default `true`; also
    /// `NEATLOGS_TRACE_CONTENT`). With `false`, every prompt, message, tool
    /// call argument, input and output is dropped on the export thread,
    /// and `#[neatlogs::span]` serialises no arguments; the model, token
    /// counts, timings, names and identity are kept.
    ///
    /// ```
    /// let config = neatlogs::Config::new().capture_content(false);
    /// # drop(config);
    /// ```
    pub fn capture_content(mut self, capture: bool) -> Self {
        self.content.capture = capture;
        self.bad_trace_content = None;
        self
    }

    /// Mask every captured string before it leaves the process: message
    /// contents, tool call arguments, inputs and outputs (every string
    /// inside a JSON input or output), and the application attributes named
    /// in [`mask_attributes`](Config::mask_attributes). It runs on the
    /// export thread, before any exporter sees a span. Never masked: ids
    /// (trace, span, end-user, session), attribute keys, span names, kinds,
    /// models and token counts. A mask that panics replaces the value with
    /// [`MASK_FAILED`](crate::export::MASK_FAILED), never the raw value.
    ///
    /// ```
    /// let config = neatlogs::Config::new().mask(|text| {
    ///     text.split(' ')
    ///         .map(|w| if w.contains('@') { "[email]" } else { w })
    ///         .collect::<Vec<_>>()
    ///         .join(" ")
    /// });
    /// # drop(config);
    /// ```
    pub fn mask<F>(mut self, mask: F) -> Self
    where
        F: Fn(&str) -> String + Send + Sync + 'static,
    {
        self.content.mask = Some(Arc::new(move |s: &str| Ok(mask(s))));
        self
    }

    /// [`mask`](Config::mask) with a function that may fail: an `Err`
    /// replaces the value with [`MASK_FAILED`](crate::export::MASK_FAILED).
    pub fn try_mask<F, E>(mut self, mask: F) -> Self
    where
        F: Fn(&str) -> Result<String, E> + Send + Sync + 'static,
        E: std::fmt::Display,
    {
        self.content.mask = Some(Arc::new(move |s: &str| mask(s).map_err(|e| e.to_string())));
        self
    }

    /// Application attributes (set with `set_attribute` / `attribute`, and
    /// the fields of span events, such as `tracing` events' fields) whose
    /// string values the mask also applies to.
    pub fn mask_attributes<I, S>(mut self, keys: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut all: Vec<String> = self.content.masked_attributes.to_vec();
        all.extend(keys.into_iter().map(Into::into));
        self.content.masked_attributes = Arc::from(all);
        self
    }
}

impl Config {
    /// The transport `init` would use, or the error it would fail with for
    /// the environment, the endpoint, the protocol or a header.
    pub(crate) fn transport(&self) -> Result<Transport, InitError> {
        if let Some(p) = self.problems.first() {
            return Err(InitError::InvalidEnvVar {
                name: p.name,
                reason: p.reason.clone(),
            });
        }
        let protocol = self
            .protocol
            .clone()
            .transpose()
            .map_err(InitError::InvalidProtocol)?
            .unwrap_or_default();
        let mut headers = Vec::new();
        if let Some(key) = &self.api_key {
            headers.push(("x-api-key".to_owned(), key.trim().to_owned()));
        }
        for (name, value) in self.env_headers.iter().chain(&self.headers) {
            env::set_header(&mut headers, name.clone(), value.clone());
        }
        for (name, value) in &headers {
            let reason = if !env::is_header_name(name) {
                "not a valid HTTP header name"
            } else if !env::is_header_value(value) {
                "the value has characters not allowed in an HTTP header"
            } else {
                continue;
            };
            return Err(InitError::InvalidHeader {
                name: name.clone(),
                reason: reason.to_owned(),
            });
        }
        let url = match (&self.endpoint, &self.api_key) {
            (Some(e), _) => Some(traces_url(&e.url, e.exact).map_err(|reason| match e.var {
                Some(name) => InitError::InvalidEnvVar {
                    name,
                    reason: format!("`{}`: {reason}", e.url),
                },
                None => InitError::InvalidEndpoint {
                    url: e.url.clone(),
                    reason,
                },
            })?),
            (None, Some(_)) => Some(traces_url(DEFAULT_ENDPOINT, false).map_err(|reason| {
                InitError::InvalidEndpoint {
                    url: DEFAULT_ENDPOINT.to_owned(),
                    reason,
                }
            })?),
            (None, None) => None,
        };
        Ok(Transport {
            url,
            headers,
            protocol,
            compression: self.compression,
            export_timeout: self.export_timeout,
        })
    }
}
