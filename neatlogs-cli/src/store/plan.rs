//! Choosing how each metadata clause runs. SQLite cannot estimate how many
//! traces a `trace_metadata` subquery yields, so the store counts (up to a
//! cap) the metadata rows a clause selects and picks the plan itself:
//! drive from those rows when they are few, probe each trace otherwise.

use rusqlite::params_from_iter;

use super::{Store, StoreError};
use crate::filter::{metadata_rows, Filter, MetadataPlan, SqlCondition};

/// Metadata rows at which probing starts to beat driving.
const DRIVE_BELOW: i64 = 2_000;

impl Store {
    /// The filter as SQL, with a plan per metadata clause.
    pub(crate) fn compile(&self, filter: &Filter) -> Result<SqlCondition, StoreError> {
        let mut plans = Vec::with_capacity(filter.clauses.len());
        for clause in &filter.clauses {
            let plan = match metadata_rows(clause) {
                None => MetadataPlan::Probe,
                Some(rows) => {
                    let sql = format!(
                        "SELECT COUNT(*) FROM (SELECT 1 FROM trace_metadata m WHERE {} LIMIT {DRIVE_BELOW})",
                        rows.sql
                    );
                    let n: i64 = self
                        .conn
                        .prepare_cached(&sql)?
                        .query_row(params_from_iter(rows.params.iter()), |r| r.get(0))?;
                    if n < DRIVE_BELOW {
                        MetadataPlan::Drive
                    } else {
                        MetadataPlan::Probe
                    }
                }
            };
            plans.push(plan);
        }
        let mut plans = plans.into_iter();
        Ok(filter.to_sql_with(|_| plans.next().unwrap_or_default()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::parse;
    use crate::ingest::batch_from_simple_trace;

    fn ids(store: &Store, sql: &SqlCondition) -> Vec<String> {
        let mut stmt = store
            .conn
            .prepare(&format!(
                "SELECT t.trace_id FROM traces t WHERE {} ORDER BY t.trace_id",
                sql.sql
            ))
            .unwrap();
        stmt.query_map(params_from_iter(sql.params.iter()), |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    #[test]
    fn both_plans_select_the_same_traces() {
        let mut store = Store::in_memory().unwrap();
        let metadata = [
            r#"{"plan":"pro","org":{"tier":"gold"}}"#,
            r#"{"plan":"free"}"#,
            r#"{"plan":"pro","seats":3}"#,
            r#"{"seats":1}"#,
        ];
        for (i, m) in metadata.iter().enumerate() {
            let body = serde_json::json!({
                "name": "chat",
                "attributes": {
                    "neatlogs.end_user.id": format!("u_{i}"),
                    "neatlogs.end_user.metadata": m,
                }
            });
            let (batch, _) = batch_from_simple_trace(body.to_string().as_bytes()).unwrap();
            store.write(&batch).unwrap();
        }
        let (batch, _) = batch_from_simple_trace(br#"{"name":"anonymous"}"#).unwrap();
        store.write(&batch).unwrap();

        for expression in [
            "metadata:plan is pro",
            "metadata:plan is not pro",
            "metadata:plan is set",
            "metadata:plan is not set",
            "metadata:plan contains r",
            "metadata:plan does not contain r",
            "metadata:plan starts with p",
            "metadata:plan ends with ee",
            "metadata:plan is any of pro, free",
            "metadata:plan is none of pro",
            "metadata:org.tier is gold",
            "metadata:seats is 3",
            "metadata:plan is pro and end_user is not u_0",
        ] {
            let filter = parse(expression).unwrap();
            let probe = ids(&store, &filter.to_sql_with(|_| MetadataPlan::Probe));
            let drive = ids(&store, &filter.to_sql_with(|_| MetadataPlan::Drive));
            let chosen = ids(&store, &store.compile(&filter).unwrap());
            assert_eq!(probe, drive, "{expression}");
            assert_eq!(probe, chosen, "{expression}");
        }
        let pro = ids(&store, &parse("metadata:plan is pro").unwrap().to_sql());
        assert_eq!(pro.len(), 2);
        let not_pro = ids(&store, &parse("metadata:plan is not pro").unwrap().to_sql());
        assert_eq!(not_pro.len(), 3, "includes traces without the key");
    }
}
