//! Where finished spans go: the [`Exporter`] seam, the batch pipeline that
//! feeds it from a dedicated thread, and the built-in exporters.
//!
//! What `init` sets up, from [`Config`](crate::Config):
//!
//! | API key | endpoint | spans go to |
//! |---|---|---|
//! | no | no | the local file ([`DEFAULT_LOCAL_FILE`], or `Config::local_file`) |
//! | yes | no | [`DEFAULT_ENDPOINT`] (the Neatlogs cloud), OTLP/HTTP |
//! | any | yes | that endpoint, OTLP/HTTP (`x-api-key` when a key is set) |
//!
//! plus the console when `Config::console(true)`, plus every
//! `Config::exporter`. `Config::local_file` also writes the file next to a
//! remote endpoint.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::config::InitError;
use crate::identity::OperatorId;
use crate::record::SpanRecord;

mod console;
mod file;
#[cfg(feature = "otlp-http")]
mod http;
mod otlp;
pub(crate) mod pipeline;

pub use console::ConsoleExporter;
pub use file::{FileExporter, DEFAULT_LOCAL_FILE};
pub use otlp::{OtlpEncoder, ParseProtocolError, Protocol};

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
///         batch: &[neatlogs::SpanRecord],
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

/// What `init` needs to pick and build the default exporters.
pub(crate) struct ExportSettings<'a> {
    pub(crate) api_key: Option<&'a str>,
    pub(crate) endpoint: Option<&'a str>,
    pub(crate) protocol: Protocol,
    pub(crate) local_file: Option<&'a Path>,
    pub(crate) export_timeout: Duration,
}

/// The endpoint spans are sent to: the configured one, else the Neatlogs
/// cloud when an API key is set, else none (the local file).
fn remote_endpoint<'a>(api_key: Option<&str>, endpoint: Option<&'a str>) -> Option<&'a str> {
    match (api_key, endpoint) {
        (_, Some(endpoint)) => Some(endpoint),
        (Some(_), None) => Some(DEFAULT_ENDPOINT),
        (None, None) => None,
    }
}

/// The exporters `init` adds for the given settings (see the table in the
/// module docs). An endpoint that cannot be used is an error naming it.
pub(crate) fn default_exporters(
    settings: ExportSettings<'_>,
    shared: &Arc<pipeline::Counters>,
) -> Result<Vec<Box<dyn Exporter>>, InitError> {
    let mut exporters: Vec<Box<dyn Exporter>> = Vec::new();
    let remote = remote_endpoint(settings.api_key, settings.endpoint);
    if let Some(endpoint) = remote {
        #[cfg(feature = "otlp-http")]
        {
            let url = http::traces_url(endpoint)?;
            exporters.push(Box::new(http::HttpExporter::new(
                url,
                settings.api_key,
                settings.protocol,
                settings.export_timeout,
                shared.clone(),
            )?));
        }
        #[cfg(not(feature = "otlp-http"))]
        {
            let _ = (shared, settings.protocol, settings.export_timeout);
            return Err(InitError::Exporter(format!(
                "an API key or endpoint ({endpoint}) is set, but neatlogs was built without its `otlp-http` feature; enable it, or unset NEATLOGS_API_KEY / NEATLOGS_ENDPOINT to write the local file"
            )));
        }
    }
    if settings.local_file.is_some() || remote.is_none() {
        let path = settings
            .local_file
            .unwrap_or_else(|| Path::new(DEFAULT_LOCAL_FILE));
        exporters.push(Box::new(FileExporter::new(path)));
    }
    Ok(exporters)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings<'a>(
        api_key: Option<&'a str>,
        endpoint: Option<&'a str>,
        local_file: Option<&'a Path>,
    ) -> ExportSettings<'a> {
        ExportSettings {
            api_key,
            endpoint,
            protocol: Protocol::default(),
            local_file,
            export_timeout: Duration::from_secs(1),
        }
    }

    #[test]
    fn destination_follows_key_and_endpoint() {
        assert_eq!(remote_endpoint(None, None), None);
        assert_eq!(remote_endpoint(Some("k"), None), Some(DEFAULT_ENDPOINT));
        assert_eq!(
            remote_endpoint(Some("k"), Some("http://h")),
            Some("http://h")
        );
        assert_eq!(remote_endpoint(None, Some("http://h")), Some("http://h"));
    }

    #[cfg(not(feature = "otlp-http"))]
    #[test]
    fn a_remote_without_the_http_feature_is_an_init_error() {
        let shared = Arc::new(pipeline::Counters::default());
        let err = default_exporters(settings(Some("k"), None, None), &shared).err();
        assert!(
            matches!(&err, Some(InitError::Exporter(m)) if m.contains("otlp-http")),
            "{err:?}"
        );
        let local = default_exporters(settings(None, None, None), &shared).map(|e| e.len());
        assert_eq!(local.ok(), Some(1));
    }

    #[cfg(feature = "otlp-http")]
    #[test]
    fn default_endpoint_is_the_neatlogs_cloud_traces_url() {
        assert_eq!(
            http::traces_url(DEFAULT_ENDPOINT).unwrap().as_str(),
            "https://ingest.neatlogs.com/v1/traces"
        );
    }

    #[cfg(feature = "otlp-http")]
    #[test]
    fn exporters_for_each_setting() {
        let shared = Arc::new(pipeline::Counters::default());
        let count = |s| default_exporters(s, &shared).map(|e| e.len());
        assert_eq!(
            count(settings(None, None, None)).unwrap(),
            1,
            "the local file"
        );
        assert_eq!(
            count(settings(Some("k"), None, None)).unwrap(),
            1,
            "the cloud only"
        );
        let file = Path::new("target/x.jsonl");
        assert_eq!(
            count(settings(None, Some("http://127.0.0.1:1"), Some(file))).unwrap(),
            2,
            "an explicit file is written next to the endpoint"
        );
        assert!(matches!(
            count(settings(None, Some("http://h/v1/metrics"), None)),
            Err(InitError::InvalidEndpoint { .. })
        ));
        assert!(matches!(
            count(settings(Some("bad\nkey"), None, None)),
            Err(InitError::Exporter(_))
        ));
    }
}
