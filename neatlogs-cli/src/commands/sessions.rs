//! `neatlogs sessions`

use super::{print_json, source, CliError, Source};
use crate::filter::Filter;
use crate::render::{or_dash, thousands, Align, Table};
use crate::time;

pub(crate) fn run(
    filter: &Filter,
    source: &Source,
    json: bool,
    limit: u32,
) -> Result<(), CliError> {
    let store = source::open(source)?;
    let sessions = store.sessions(filter, limit)?;
    if json {
        return print_json(&sessions);
    }
    if sessions.is_empty() {
        eprintln!("no sessions in the matching traces");
        return Ok(());
    }
    let mut table = Table::new(&[
        ("SESSION", Align::Left),
        ("END-USER", Align::Left),
        ("TURNS", Align::Right),
        ("SPANS", Align::Right),
        ("ERRORS", Align::Right),
        ("TOKENS", Align::Right),
        ("FIRST TURN (UTC)", Align::Left),
        ("LAST TURN (UTC)", Align::Left),
        ("WORKFLOW", Align::Left),
    ]);
    let mut conflicts = 0;
    for s in &sessions {
        let end_user = if s.end_user_conflict {
            conflicts += 1;
            format!("{} (!)", s.end_users.join(" / "))
        } else {
            or_dash(s.end_user.as_deref())
        };
        table.row(vec![
            s.session.clone(),
            end_user,
            thousands(s.turns),
            thousands(s.spans),
            thousands(s.errors),
            thousands(s.input_tokens + s.output_tokens),
            time::short(s.first_turn_ns),
            time::short(s.last_turn_ns),
            s.workflows.join(", "),
        ]);
    }
    print!("{table}");
    if conflicts > 0 {
        println!(
            "(!) {conflicts} {} turns from different end-users",
            if conflicts == 1 {
                "session has"
            } else {
                "sessions have"
            }
        );
    }
    Ok(())
}
