//! The embedded default: OTLP JSON lines in a local file, the OpenTelemetry
//! file-exporter format that the `neatlogs` CLI reads.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::{ExportError, Exporter, OtlpEncoder, Resource};
use crate::record::SpanRecord;

/// Where traces go when neither an API key nor an endpoint is configured,
/// relative to the working directory at [`init`](crate::init).
pub const DEFAULT_LOCAL_FILE: &str = ".neatlogs/traces.jsonl";

/// Appends each batch as one line of OTLP JSON (one
/// `ExportTraceServiceRequest` per line) to a file, creating the file and its
/// directory when needed.
///
/// `init` adds one automatically when no API key and no endpoint are set
/// (see [`Config::local_file`](crate::Config::local_file)); add one yourself to
/// keep a local copy next to another exporter:
///
/// ```no_run
/// let config = neatlogs::Config::from_env()
///     .exporter(neatlogs::export::FileExporter::new("/var/log/myapp/traces.jsonl"));
/// neatlogs::init(config)?;
/// # Ok::<(), neatlogs::InitError>(())
/// ```
///
/// Each line goes out in one append-mode write, so processes sharing the file
/// (on a local file system) do not interleave their lines. The file is never
/// rotated or truncated: delete it to start over.
#[derive(Debug)]
pub struct FileExporter {
    path: PathBuf,
    file: Option<File>,
    encoder: OtlpEncoder,
}

impl FileExporter {
    /// Append to `path`. A relative path is resolved against the working
    /// directory now, so a later `chdir` does not move the file.
    pub fn new(path: impl AsRef<Path>) -> Self {
        let path = path.as_ref();
        let path = if path.is_relative() {
            std::env::current_dir()
                .map(|d| d.join(path))
                .unwrap_or_else(|_| path.to_path_buf())
        } else {
            path.to_path_buf()
        };
        FileExporter {
            path,
            file: None,
            encoder: OtlpEncoder::new(),
        }
    }

    /// The file written to.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The open file, opened (and its directory created) if it is not.
fn open<'a>(path: &Path, file: &'a mut Option<File>) -> std::io::Result<&'a mut File> {
    let opened = match file.take() {
        Some(f) => f,
        None => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            OpenOptions::new().create(true).append(true).open(path)?
        }
    };
    Ok(file.insert(opened))
}

impl Exporter for FileExporter {
    fn export(&mut self, resource: &Resource, batch: &[SpanRecord]) -> Result<(), ExportError> {
        if batch.is_empty() {
            return Ok(());
        }
        let line = self.encoder.json_line(resource, batch);
        let written = open(&self.path, &mut self.file).and_then(|f| f.write_all(line));
        if let Err(e) = written {
            // Reopen next time: the directory may have been removed or the
            // disk may have been full.
            self.file = None;
            return Err(ExportError::new(format!(
                "could not write {}: {e}",
                self.path.display()
            )));
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), ExportError> {
        if let Some(f) = &mut self.file {
            f.flush()
                .map_err(|e| ExportError::new(format!("{}: {e}", self.path.display())))?;
        }
        Ok(())
    }

    fn shutdown(&mut self) -> Result<(), ExportError> {
        let flushed = self.flush();
        self.file = None;
        flushed
    }
}

/// Appends the usage totals beside the local file ([`usage_file`]): one
/// OTLP JSON `ExportMetricsServiceRequest` per line, which the `neatlogs`
/// CLI reads with the traces.
#[derive(Debug)]
pub(crate) struct FileUsageExporter {
    path: PathBuf,
    file: Option<File>,
}

impl FileUsageExporter {
    /// Appending to the usage file of the traces file `path` (relative to
    /// the working directory now).
    pub(crate) fn new(path: impl AsRef<Path>) -> Self {
        FileUsageExporter {
            path: usage_file(&FileExporter::new(path).path),
            file: None,
        }
    }
}

/// Where the usage reports go beside a traces file: the same directory,
/// the name's `.jsonl` replaced by `.usage.jsonl` (`.neatlogs/traces.jsonl`
/// → `.neatlogs/traces.usage.jsonl`; a name without `.jsonl` gets it
/// appended). The traces file keeps one `ExportTraceServiceRequest` per
/// line; this one holds one `ExportMetricsServiceRequest` per line.
///
/// ```
/// use std::path::Path;
/// let usage = neatlogs::export::usage_file(Path::new(".neatlogs/traces.jsonl"));
/// assert_eq!(usage, Path::new(".neatlogs/traces.usage.jsonl"));
/// ```
pub fn usage_file(traces: &Path) -> PathBuf {
    let name = traces
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = name.strip_suffix(".jsonl").unwrap_or(&name);
    traces.with_file_name(format!("{stem}.usage.jsonl"))
}

impl super::pipeline::UsageExporter for FileUsageExporter {
    fn export_usage(
        &mut self,
        resource: &Resource,
        usage: &crate::usage::UsageTable,
    ) -> Result<(), super::pipeline::UsageError> {
        let mut line = super::otlp::metrics::encode_json(
            resource,
            &usage.snapshot(),
            usage.start_unix_nanos,
            crate::usage::unix_nanos(),
        );
        line.push('\n');
        let written = open(&self.path, &mut self.file)
            .and_then(|f| f.write_all(line.as_bytes()).and_then(|()| f.flush()));
        if let Err(e) = written {
            self.file = None;
            return Err(super::pipeline::UsageError::Failed(ExportError::new(
                format!("could not write {}: {e}", self.path.display()),
            )));
        }
        Ok(())
    }
}
