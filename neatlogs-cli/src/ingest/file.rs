//! The SDK's embedded default file: OTLP JSON lines, one
//! `ExportTraceServiceRequest` per line (the OpenTelemetry file-exporter
//! format), usually `.neatlogs/traces.jsonl`.

use std::collections::HashMap;
use std::io::BufRead;

use super::{batch_from_otlp, decode_otlp, Batch, Encoding};

/// What reading a file found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileReport {
    /// Non-blank lines read.
    pub lines: usize,
    /// Lines that could not be decoded (1-based line number, reason). A
    /// half-written last line from an SDK still writing is one of these.
    pub skipped: Vec<(usize, String)>,
}

/// Reads a JSON-lines file into one batch (resources deduplicated), skipping
/// and reporting lines that do not decode.
///
/// ```
/// let file = b"{\"resourceSpans\":[]}\nnot json\n";
/// let (batch, report) = neatlogs_cli::ingest::read_jsonl(&file[..]).unwrap();
/// assert!(batch.spans.is_empty());
/// assert_eq!(report.lines, 2);
/// assert_eq!(report.skipped[0].0, 2);
/// ```
pub fn read_jsonl<R: BufRead>(reader: R) -> std::io::Result<(Batch, FileReport)> {
    let mut merged = Batch::default();
    let mut report = FileReport::default();
    let mut resource_ids: HashMap<String, usize> = HashMap::new();
    for (index, line) in reader.lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        report.lines += 1;
        // The SDK's usage reports (OTLP metrics) share the file with its
        // trace requests.
        if line.trim_start().starts_with("{\"resourceMetrics\"") {
            match super::metrics::decode_metrics(line.as_bytes(), Encoding::Json) {
                Ok(request) => merged
                    .usage
                    .extend(super::metrics::usage_from_metrics(&request)),
                Err(e) => report.skipped.push((index + 1, e.to_string())),
            }
            continue;
        }
        let batch = decode_otlp(line.as_bytes(), Encoding::Json, None)
            .and_then(|request| batch_from_otlp(&request));
        let batch = match batch {
            Ok(batch) => batch,
            Err(e) => {
                report.skipped.push((index + 1, e.to_string()));
                continue;
            }
        };
        let mut remap = Vec::with_capacity(batch.resources.len());
        for resource in batch.resources {
            let id = *resource_ids
                .entry(resource.attributes.clone())
                .or_insert_with(|| {
                    merged.resources.push(resource);
                    merged.resources.len() - 1
                });
            remap.push(id);
        }
        merged.spans.extend(batch.spans.into_iter().map(|mut span| {
            span.resource = remap[span.resource];
            span
        }));
    }
    Ok((merged, report))
}
