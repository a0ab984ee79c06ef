//! `neatlogs trace ID`

use std::collections::{HashMap, HashSet};

use super::{print_json, source, CliError, Source};
use crate::render::{or_dash, terminal_safe};
use crate::store::{SpanView, TraceDetail};
use crate::time;

pub(crate) fn run(id: &str, source: &Source, json: bool) -> Result<(), CliError> {
    let store = source::open(source)?;
    let Some(detail) = store.trace(id)? else {
        return Err(CliError::Other(format!("no trace with id `{id}`")));
    };
    if json {
        return print_json(&detail);
    }
    print!("{}", tree(&detail));
    Ok(())
}

/// The trace as an indented tree; the end-user sits on the root's line.
pub(crate) fn tree(detail: &TraceDetail) -> String {
    let t = &detail.trace;
    let header = format!(
        "trace {}  {}  {}  {}  {}",
        t.trace_id,
        or_dash(t.workflow.as_deref()),
        time::short(t.start_unix_nano),
        time::duration(t.duration_ns),
        t.status,
    );
    // Every line is made terminal-safe whole: stored text (names, ids,
    // metadata, messages) may hold any character.
    let mut out = format!("{}\n", terminal_safe(&header));
    let ids: HashSet<&str> = detail.spans.iter().map(|s| s.span_id.as_str()).collect();
    let mut children: HashMap<&str, Vec<&SpanView>> = HashMap::new();
    let mut tops = Vec::new();
    for span in &detail.spans {
        match span.parent_span_id.as_deref() {
            Some(parent) if ids.contains(parent) => children.entry(parent).or_default().push(span),
            _ => tops.push(span),
        }
    }
    for top in tops {
        let is_root = top.parent_span_id.is_none();
        let mut line = describe(top);
        if is_root {
            line.push_str(&format!("  end_user={}", or_dash(t.end_user.as_deref())));
            if let Some(m) = &t.end_user_metadata {
                line.push_str(&format!(" metadata={m}"));
            }
            if let Some(s) = &t.session {
                line.push_str(&format!("  session={s}"));
            }
            if let Some(o) = &t.operator {
                line.push_str(&format!("  operator={o}"));
            }
        } else {
            line.push_str("  (parent not received)");
        }
        out.push_str(&terminal_safe(&line));
        out.push('\n');
        walk(top, &children, "", &mut out);
    }
    for (label, links) in [
        ("started from trace", &detail.links),
        ("started trace", &detail.linked_from),
    ] {
        for link in links.iter() {
            let stored = if link.stored {
                ""
            } else {
                " (not stored here)"
            };
            let line = format!(
                "{label} {} (span {}){stored}",
                link.other_trace_id, link.other_span_id
            );
            out.push_str(&terminal_safe(&line));
            out.push('\n');
        }
    }
    out
}

fn walk(span: &SpanView, children: &HashMap<&str, Vec<&SpanView>>, prefix: &str, out: &mut String) {
    let Some(kids) = children.get(span.span_id.as_str()) else {
        return;
    };
    for (i, kid) in kids.iter().enumerate() {
        let last = i + 1 == kids.len();
        out.push_str(prefix);
        out.push_str(if last { "└─ " } else { "├─ " });
        out.push_str(&terminal_safe(&describe(kid)));
        out.push('\n');
        let deeper = format!("{prefix}{}", if last { "   " } else { "│  " });
        walk(kid, children, &deeper, out);
    }
}

fn describe(span: &SpanView) -> String {
    let mut line = span.name.clone();
    if let Some(kind) = &span.kind {
        line.push_str(&format!(" [{kind}]"));
    }
    line.push_str(&format!(" {}", time::duration(span.duration_ns)));
    if let Some(model) = &span.model {
        line.push_str(&format!("  {model}"));
    }
    if span.input_tokens.is_some() || span.output_tokens.is_some() {
        line.push_str(&format!(
            "  tokens {}→{}",
            span.input_tokens.unwrap_or(0),
            span.output_tokens.unwrap_or(0)
        ));
    }
    if span.status == "error" {
        line.push_str("  ERROR");
        if let Some(m) = &span.status_message {
            line.push_str(&format!(": {m}"));
        }
    }
    line
}
