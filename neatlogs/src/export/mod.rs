//! Where finished spans go: the [`Exporter`] seam, the batch pipeline that
//! feeds it from a dedicated thread, and the built-in exporters.
//!
//! What `init` sets up, from [`Config`](crate::Config):
//!
//! | API key | endpoint | spans go to |
//! |---|---|---|
//! | no | no | the local file ([`DEFAULT_LOCAL_FILE`], or `Config::local_file`) |
//! | yes | no | [`DEFAULT_ENDPOINT`] (the Neatlogs cloud), OTLP/HTTP |
//! | any | yes | that endpoint, OTLP/HTTP (`x-api-key` when a key is set, and every `Config::header`) |
//!
//! plus the console when `Config::console(true)`, plus every
//! `Config::exporter`. `Config::local_file` also writes the file next to a
//! remote endpoint.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::error::InitError;
use crate::identity::OperatorId;

mod console;
mod conventions;
mod file;
#[cfg(feature = "otlp-http")]
mod http;
mod otlp;
pub(crate) mod pipeline;

pub use crate::content::{Captured, CodeLocation, MASK_FAILED};
pub use crate::record::SpanRecord;
pub use crate::value::{SpanEvent, Status, Value};
pub use console::ConsoleExporter;
pub use conventions::{Compression, Conventions};
pub use file::{usage_file, FileExporter, DEFAULT_LOCAL_FILE};
pub use otlp::{OtlpEncoder, Protocol};

/// The Neatlogs cloud ingest: where spans go when an API key is set and no
/// endpoint is (`/v1/traces` is appended).
pub const DEFAULT_ENDPOINT: &str = "https://ingest.neatlogs.com";

/// Process-wide facts that exporters write once per batch (the OTLP resource).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Resource {
    /// `service.name`: the workflow name, else `neatlogs-app`.
    pub service_name: String,
    /// `neatlogs.workflow_name`.
    pub workflow_name: Option<String>,
    /// `user.id`: the operator running the SDK (never the end-user).
    pub operator: Option<OperatorId>,
    /// `session.id`: the process-wide session.
    pub session_id: Option<String>,
    /// `neatlogs.tags`: process-wide tags.
    pub tags: Vec<String>,
    /// `telemetry.sdk.version`.
    pub sdk_version: &'static str,
    /// More resource attributes (`OTEL_RESOURCE_ATTRIBUTES`), written after
    /// the SDK's own.
    pub attributes: Vec<(String, String)>,
    /// The vocabularies written on each span.
    pub conventions: Conventions,
}

/// Why an export failed.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct ExportError {
    /// What went wrong, for the log.
    pub message: String,
    failed_spans: Option<usize>,
}

impl ExportError {
    /// The whole batch was lost.
    pub fn new(message: impl Into<String>) -> Self {
        ExportError {
            message: message.into(),
            failed_spans: None,
        }
    }

    /// Only `failed_spans` of the batch were lost; the rest were delivered
    /// (a receiver's partial success, or a split batch of which one half
    /// went through).
    ///
    /// ```
    /// let e = neatlogs::export::ExportError::partial("2 spans rejected", 2);
    /// assert_eq!(e.failed_spans(), Some(2));
    /// assert_eq!(neatlogs::export::ExportError::new("down").failed_spans(), None);
    /// ```
    pub fn partial(message: impl Into<String>, failed_spans: usize) -> Self {
        ExportError {
            message: message.into(),
            failed_spans: Some(failed_spans),
        }
    }

    /// How many spans of the batch were lost; `None` means all of them.
    pub fn failed_spans(&self) -> Option<usize> {
        self.failed_spans
    }
}

/// Receives finished spans in batches, on the export thread (never on the
/// application's threads). Implement it to send spans somewhere new.
///
/// ```
/// use neatlogs::export::{ExportError, Exporter, Resource};
///
/// struct CountSpans(usize);
/// impl Exporter for CountSpans {
///     fn export(
///         &mut self,
///         _resource: &Resource,
///         batch: &[neatlogs::export::SpanRecord],
///     ) -> Result<(), ExportError> {
///         self.0 += batch.len();
///         Ok(())
///     }
/// }
/// let config = neatlogs::Config::new().exporter(CountSpans(0));
/// # drop(config);
/// ```
pub trait Exporter: Send + 'static {
    /// Export one batch. Retries, if any, are the exporter's business and must
    /// stay within the configured export timeout.
    fn export(&mut self, resource: &Resource, batch: &[SpanRecord]) -> Result<(), ExportError>;

    /// Called by `flush()` after the queue is drained.
    fn flush(&mut self) -> Result<(), ExportError> {
        Ok(())
    }

    /// Called once by `shutdown()` after the last batch.
    fn shutdown(&mut self) -> Result<(), ExportError> {
        Ok(())
    }
}

/// Where and how spans are sent over OTLP/HTTP, resolved from the
/// [`Config`](crate::Config) and the environment.
#[derive(Debug, Clone)]
// Without `otlp-http`, only the URL is read (to say that it cannot be used).
#[cfg_attr(not(feature = "otlp-http"), allow(dead_code))]
pub(crate) struct Transport {
    /// The traces URL; `None`: no remote (the local file).
    pub(crate) url: Option<String>,
    /// Every header sent, `x-api-key` (the API key) first; checked.
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) protocol: Protocol,
    pub(crate) compression: Compression,
    pub(crate) export_timeout: Duration,
}

/// The traces URL of an endpoint: `exact` is used as is; otherwise a base
/// URL gets `/v1/traces` appended to its path (a path that already ends in
/// `/v1/traces` is kept). `Err` says what is wrong.
pub(crate) fn traces_url(endpoint: &str, exact: bool) -> Result<String, String> {
    #[cfg(feature = "otlp-http")]
    {
        http::traces_url(endpoint, exact).map(|u| u.to_string())
    }
    #[cfg(not(feature = "otlp-http"))]
    {
        let _ = exact;
        Ok(endpoint.to_owned())
    }
}

/// The exporters `init` adds (see the table in the module docs).
pub(crate) fn default_exporters(
    transport: &Transport,
    local_file: Option<&Path>,
    shared: &Arc<pipeline::Counters>,
) -> Result<Vec<Box<dyn Exporter>>, InitError> {
    let mut exporters: Vec<Box<dyn Exporter>> = Vec::new();
    if let Some(url) = &transport.url {
        #[cfg(feature = "otlp-http")]
        {
            exporters.push(Box::new(http::HttpExporter::new(
                url,
                transport,
                shared.clone(),
            )?));
        }
        #[cfg(not(feature = "otlp-http"))]
        {
            let _ = shared;
            return Err(InitError::Exporter(format!(
                "an API key or endpoint ({url}) is set, but neatlogs was built without its `otlp-http` feature; enable it, or unset NEATLOGS_API_KEY / NEATLOGS_ENDPOINT / OTEL_EXPORTER_OTLP_ENDPOINT to write the local file"
            )));
        }
    }
    if local_file.is_some() || transport.url.is_none() {
        let path = local_file.unwrap_or_else(|| Path::new(DEFAULT_LOCAL_FILE));
        exporters.push(Box::new(FileExporter::new(path)));
    }
    Ok(exporters)
}

/// The usage exporters `init` adds, beside the traces: the OTLP/HTTP
/// endpoint's `/v1/metrics`, and the local file when it is written.
pub(crate) fn default_usage_exporters(
    transport: &Transport,
    local_file: Option<&Path>,
    shared: &Arc<pipeline::Counters>,
) -> Result<Vec<Box<dyn pipeline::UsageExporter>>, InitError> {
    let mut exporters: Vec<Box<dyn pipeline::UsageExporter>> = Vec::new();
    #[cfg(feature = "otlp-http")]
    if let Some(url) = &transport.url {
        match http::metrics_url(url) {
            Some(metrics) => exporters.push(Box::new(http::HttpExporter::new(
                &metrics,
                &Transport {
                    protocol: Protocol::HttpProtobuf,
                    ..transport.clone()
                },
                shared.clone(),
            )?)),
            None => log::warn!(
                "neatlogs: the traces URL {url} does not end in /v1/traces: usage metrics are not sent (give the base URL to send them to its /v1/metrics)"
            ),
        }
    }
    #[cfg(not(feature = "otlp-http"))]
    let _ = shared;
    if local_file.is_some() || transport.url.is_none() {
        let path = local_file.unwrap_or_else(|| Path::new(DEFAULT_LOCAL_FILE));
        exporters.push(Box::new(file::FileUsageExporter::new(path)));
    }
    Ok(exporters)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Config;

    fn transport(config: Config) -> Result<Transport, InitError> {
        config.transport()
    }

    #[cfg(not(feature = "otlp-http"))]
    #[test]
    fn a_remote_without_the_http_feature_is_an_init_error() {
        let shared = Arc::new(pipeline::Counters::default());
        let t = transport(Config::new().api_key("k")).unwrap();
        let err = default_exporters(&t, None, &shared).err();
        assert!(
            matches!(&err, Some(InitError::Exporter(m)) if m.contains("otlp-http")),
            "{err:?}"
        );
        let t = transport(Config::new()).unwrap();
        let local = default_exporters(&t, None, &shared).map(|e| e.len());
        assert_eq!(local.ok(), Some(1));
    }

    #[cfg(feature = "otlp-http")]
    #[test]
    fn default_endpoint_is_the_neatlogs_cloud_traces_url() {
        let t = transport(Config::new().api_key("k")).unwrap();
        assert_eq!(
            t.url.as_deref(),
            Some("https://ingest.neatlogs.com/v1/traces")
        );
        assert_eq!(t.headers, vec![("x-api-key".into(), "k".into())]);
    }

    #[cfg(feature = "otlp-http")]
    #[test]
    fn exporters_for_each_setting() {
        let shared = Arc::new(pipeline::Counters::default());
        let count = |c: Config, file: Option<&Path>| {
            transport(c).and_then(|t| default_exporters(&t, file, &shared).map(|e| e.len()))
        };
        assert_eq!(count(Config::new(), None).unwrap(), 1, "the local file");
        assert_eq!(
            count(Config::new().api_key("k"), None).unwrap(),
            1,
            "the cloud only"
        );
        let file = Path::new("target/x.jsonl");
        assert_eq!(
            count(Config::new().endpoint("http://127.0.0.1:1"), Some(file)).unwrap(),
            2,
            "an explicit file is written next to the endpoint"
        );
        assert!(matches!(
            count(Config::new().endpoint("http://h/v1/metrics"), None),
            Err(InitError::InvalidEndpoint { .. })
        ));
        let e = count(Config::new().api_key("bad\nkey-secret"), None).unwrap_err();
        assert!(matches!(e, InitError::InvalidHeader { .. }), "{e:?}");
        assert!(!e.to_string().contains("secret"), "{e}");
    }
}
