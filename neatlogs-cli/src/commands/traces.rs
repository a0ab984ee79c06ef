//! `neatlogs traces`

use super::{print_json, source, CliError, Source};
use crate::filter::Filter;
use crate::render::{or_dash, thousands, Align, Table};
use crate::store::TraceSummary;
use crate::time;

pub(crate) fn run(
    filter: &Filter,
    source: &Source,
    json: bool,
    limit: u32,
    offset: u32,
) -> Result<(), CliError> {
    let store = source::open(source)?;
    let traces = store.list_traces(filter, limit, offset)?;
    if json {
        return print_json(&traces);
    }
    if traces.is_empty() {
        eprintln!("no traces match{}", describe(filter));
        return Ok(());
    }
    print!("{}", table(&traces));
    let total = store.count_traces(filter)?;
    let shown = traces.len() as u64;
    if total > shown + u64::from(offset) || offset > 0 {
        println!(
            "showing {}-{} of {} traces (--limit, --offset for more)",
            offset + 1,
            u64::from(offset) + shown,
            thousands(total as i64)
        );
    }
    Ok(())
}

fn describe(filter: &Filter) -> String {
    if filter.clauses.is_empty() {
        String::new()
    } else {
        format!(" `{filter}`")
    }
}

/// The traces as a table.
pub(crate) fn table(traces: &[TraceSummary]) -> Table {
    let mut table = Table::new(&[
        ("TIME (UTC)", Align::Left),
        ("TRACE", Align::Left),
        ("WORKFLOW", Align::Left),
        ("NAME", Align::Left),
        ("END-USER", Align::Left),
        ("SESSION", Align::Left),
        ("SPANS", Align::Right),
        ("DURATION", Align::Right),
        ("STATUS", Align::Left),
    ]);
    for t in traces {
        let mut status = t.status.clone();
        if !t.has_root {
            status.push_str(" (root pending)");
        }
        table.row(vec![
            time::short(t.start_unix_nano),
            t.trace_id.chars().take(12).collect(),
            or_dash(t.workflow.as_deref()),
            or_dash(t.name.as_deref()),
            or_dash(t.end_user.as_deref()),
            or_dash(t.session.as_deref()),
            t.span_count.to_string(),
            time::duration(t.duration_ns),
            status,
        ]);
    }
    table
}
