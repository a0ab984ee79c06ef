//! Where finished spans go: the [`Exporter`] seam, the batch pipeline that
//! feeds it from a dedicated thread, and the built-in exporters.

use std::time::Duration;

use crate::config::InitError;
use crate::identity::OperatorId;
use crate::record::SpanRecord;

pub mod console;
pub(crate) mod pipeline;

pub use console::ConsoleExporter;

/// Process-wide facts that exporters write once per batch (the OTLP resource).
#[derive(Debug, Clone)]
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
}

impl ExportError {
    /// An error with a message.
    pub fn new(message: impl Into<String>) -> Self {
        ExportError {
            message: message.into(),
        }
    }
}

/// Receives finished spans in batches, on the export thread (never on the
/// application's threads). Implement it to send spans somewhere new.
///
/// ```
/// struct CountSpans(usize);
/// impl neatlogs::Exporter for CountSpans {
///     fn export(
///         &mut self,
///         _resource: &neatlogs::Resource,
///         batch: &[neatlogs::SpanRecord],
///     ) -> Result<(), neatlogs::ExportError> {
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

/// Export counters since `init`, from [`stats`](crate::stats).
///
/// Every span handed to the pipeline is counted once as `queued` or
/// `dropped`; every queued span ends as `exported` or `failed` (or is still
/// in flight).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Spans accepted into the export queue.
    pub queued: u64,
    /// Spans dropped because the queue was full or export had shut down.
    pub dropped: u64,
    /// Spans every exporter accepted.
    pub exported: u64,
    /// Spans in batches an exporter finally rejected.
    pub failed: u64,
    /// Export attempts retried.
    pub retried: u64,
}

/// The exporters `init` adds for the given credentials.
pub(crate) fn default_exporters(
    api_key: Option<&str>,
    endpoint: Option<&str>,
    _export_timeout: Duration,
) -> Result<Vec<Box<dyn Exporter>>, InitError> {
    if api_key.is_some() || endpoint.is_some() {
        log::warn!("neatlogs: OTLP export is not available in this build; spans are not sent");
    }
    Ok(Vec::new())
}
