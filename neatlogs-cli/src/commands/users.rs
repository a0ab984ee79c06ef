//! `neatlogs users`

use std::path::Path;

use super::{print_json, source, CliError, Source};
use crate::filter::Filter;
use crate::render::{or_dash, thousands, usd, Align, Table};
use crate::store::UserSort;
use crate::time;

pub(crate) fn run(
    filter: &Filter,
    source: &Source,
    json: bool,
    sort: UserSort,
    prices: Option<&Path>,
) -> Result<(), CliError> {
    let store = source::open_priced(source, prices)?;
    let report = store.users(filter, sort)?;
    if json {
        return print_json(&report);
    }
    // Traces run, estimated from the sampling probability: a column only
    // when some sender sampled.
    let estimated = |u: &crate::store::UserStats| u.traces_estimated.round() as i64;
    let sampled = report.users.iter().any(|u| estimated(u) != u.traces);
    if report.users.is_empty() {
        eprintln!("no end-users in the matching traces");
    } else {
        let mut columns = vec![("END-USER", Align::Left), ("TRACES", Align::Right)];
        if sampled {
            columns.push(("~RUN", Align::Right));
        }
        let mut table = Table::new(
            &[
                columns.as_slice(),
                &[
                    ("SESSIONS", Align::Right),
                    ("SPANS", Align::Right),
                    ("ERRORS", Align::Right),
                    ("IN-TOKENS", Align::Right),
                    ("OUT-TOKENS", Align::Right),
                    ("COST (USD)", Align::Right),
                    ("P50", Align::Right),
                    ("P95", Align::Right),
                    ("FIRST SEEN (UTC)", Align::Left),
                    ("LAST SEEN (UTC)", Align::Left),
                    ("METADATA", Align::Left),
                ],
            ]
            .concat(),
        );
        for u in &report.users {
            let mut cells = vec![u.end_user.clone(), thousands(u.traces)];
            if sampled {
                cells.push(thousands(estimated(u)));
            }
            cells.extend([
                thousands(u.sessions),
                thousands(u.spans),
                thousands(u.errors),
                thousands(u.input_tokens),
                thousands(u.output_tokens),
                usd(u.cost_usd),
                time::duration((u.p50_ms * 1e6) as i64),
                time::duration((u.p95_ms * 1e6) as i64),
                time::short(u.first_seen_ns),
                time::short(u.last_seen_ns),
                or_dash(u.metadata.as_ref().map(|m| m.to_string()).as_deref()),
            ]);
            table.row(cells);
        }
        print!("{table}");
    }
    if sampled {
        println!("TRACES counts the traces stored; ~RUN estimates the traces run, each stored trace counting 1/p for the probability p it was sampled with");
    }
    let from_usage = report
        .users
        .iter()
        .filter(|u| u.usage_source == "usage")
        .count();
    if from_usage > 0 {
        println!(
            "tokens and cost of {} {} from the usage metrics (every LLM call, sampled or not: exact); TRACES counts the traces stored",
            thousands(from_usage as i64),
            if from_usage == 1 {
                "end-user are"
            } else {
                "end-users are"
            }
        );
    }
    let unpriced: i64 = report.users.iter().map(|u| u.unpriced_spans).sum();
    if unpriced > 0 {
        println!(
            "{} LLM {} tokens but no cost (a model not in the price table; see --prices)",
            thousands(unpriced),
            if unpriced == 1 {
                "call has"
            } else {
                "calls have"
            }
        );
    }
    if report.traces_without_end_user > 0 {
        let n = report.traces_without_end_user;
        println!(
            "{} matching {} no end-user",
            thousands(n),
            if n == 1 { "trace has" } else { "traces have" }
        );
    }
    Ok(())
}
