//! Prints each finished trace as an indented tree, with its end-user and
//! session on the root line.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write;

use super::{ExportError, Exporter, Resource};
use crate::id::{SpanId, TraceId};
use crate::record::SpanRecord;
use crate::value::Status;

/// The most traces held while waiting for their root to finish; past it, the
/// oldest partial trace is printed as it is.
const MAX_PENDING_TRACES: usize = 1024;

/// Prints finished traces as trees:
///
/// ```text
/// trace 5c1e…  chat  end_user=u_812 {"plan":"pro"}  session=s_1  (12.4 ms)
/// └─ AGENT planner (3.1 ms)
///    └─ LLM completion (2.0 ms) model=gpt-4o tokens=120→48
/// ```
///
/// A trace is printed when its root span finishes; enable it with
/// [`Config::console`](crate::Config::console).
pub struct ConsoleExporter {
    out: Box<dyn Write + Send>,
    pending: HashMap<TraceId, Vec<SpanRecord>>,
    order: Vec<TraceId>,
}

impl std::fmt::Debug for ConsoleExporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsoleExporter")
            .field("pending_traces", &self.pending.len())
            .finish_non_exhaustive()
    }
}

impl ConsoleExporter {
    /// Print to standard output.
    pub fn stdout() -> Self {
        Self::to_writer(std::io::stdout())
    }

    /// Print to any writer.
    pub fn to_writer(out: impl Write + Send + 'static) -> Self {
        ConsoleExporter {
            out: Box::new(out),
            pending: HashMap::new(),
            order: Vec::new(),
        }
    }

    fn print(&mut self, spans: Vec<SpanRecord>) -> Result<(), ExportError> {
        let text = render_trace(&spans);
        self.out
            .write_all(text.as_bytes())
            .and_then(|()| self.out.flush())
            .map_err(|e| ExportError::new(format!("console: {e}")))
    }
}

impl Exporter for ConsoleExporter {
    fn export(&mut self, _resource: &Resource, batch: &[SpanRecord]) -> Result<(), ExportError> {
        for span in batch {
            let trace_id = span.trace_id();
            let is_root = span.is_root();
            let entry = self.pending.entry(trace_id).or_insert_with(|| {
                self.order.push(trace_id);
                Vec::new()
            });
            entry.push(span.clone());
            if is_root {
                if let Some(spans) = self.pending.remove(&trace_id) {
                    self.order.retain(|t| *t != trace_id);
                    self.print(spans)?;
                }
            }
        }
        while self.order.len() > MAX_PENDING_TRACES {
            let oldest = self.order.remove(0);
            if let Some(spans) = self.pending.remove(&oldest) {
                self.print(spans)?;
            }
        }
        Ok(())
    }

    fn shutdown(&mut self) -> Result<(), ExportError> {
        for trace_id in std::mem::take(&mut self.order) {
            if let Some(spans) = self.pending.remove(&trace_id) {
                self.print(spans)?;
            }
        }
        Ok(())
    }
}

fn took(span: &SpanRecord) -> String {
    let d = span.duration();
    if d.as_micros() < 1000 {
        format!("{} µs", d.as_micros())
    } else {
        format!("{:.1} ms", d.as_secs_f64() * 1000.0)
    }
}

fn details(span: &SpanRecord) -> String {
    let mut s = String::new();
    if let Some(call) = span.llm() {
        if let Some(model) = call.model() {
            let _ = write!(s, " model={model}");
        }
        let usage = call.usage();
        let (input, output) = (usage.prompt_tokens(), usage.completion_tokens());
        if input.is_some() || output.is_some() {
            let _ = write!(s, " tokens={}→{}", input.unwrap_or(0), output.unwrap_or(0));
        }
    }
    if let Status::Error(message) = span.status() {
        let _ = write!(s, " ERROR: {message}");
    }
    s
}

/// Render one trace's spans as a tree (children in start order).
pub(crate) fn render_trace(spans: &[SpanRecord]) -> String {
    let mut children: HashMap<Option<SpanId>, Vec<&SpanRecord>> = HashMap::new();
    let ids: std::collections::HashSet<SpanId> = spans.iter().map(|s| s.span_id()).collect();
    for span in spans {
        // A span whose parent is not in this set (a late or attached span) is
        // shown at the top level rather than lost.
        let parent = span.parent_span_id().filter(|p| ids.contains(p));
        children.entry(parent).or_default().push(span);
    }
    for list in children.values_mut() {
        list.sort_by_key(|s| s.start_unix_nanos());
    }
    let mut out = String::new();
    for top in children.get(&None).cloned().unwrap_or_default() {
        let _ = write!(out, "trace {}  {}", top.trace_id(), top.name());
        if top.is_root() {
            match top.end_user() {
                Some(user) => {
                    let _ = write!(out, "  end_user={}", user.id());
                    if let Some(json) = user.metadata_json() {
                        let _ = write!(out, " {json}");
                    }
                }
                None => out.push_str("  end_user=-"),
            }
            if let Some(session) = top.session_id() {
                let _ = write!(out, "  session={session}");
            }
        }
        let _ = writeln!(out, "  ({}){}", took(top), details(top));
        walk(&children, top.span_id(), "", &mut out);
    }
    out
}

fn walk(
    children: &HashMap<Option<SpanId>, Vec<&SpanRecord>>,
    parent: SpanId,
    prefix: &str,
    out: &mut String,
) {
    let Some(list) = children.get(&Some(parent)) else {
        return;
    };
    for (i, span) in list.iter().enumerate() {
        let last = i + 1 == list.len();
        let _ = writeln!(
            out,
            "{prefix}{} {} {} ({}){}",
            if last { "└─" } else { "├─" },
            span.kind(),
            span.name(),
            took(span),
            details(span)
        );
        let next = format!("{prefix}{}", if last { "   " } else { "│  " });
        walk(children, span.span_id(), &next, out);
    }
}
