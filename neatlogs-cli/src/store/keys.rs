//! The end-user metadata keys seen on trace roots, with their most common
//! values: what the traces page offers when a filter on `metadata:KEY` is
//! being built.

use serde::Serialize;

use super::{Store, StoreError};

/// Longest value offered as a suggestion, in bytes; longer ones (whole
/// nested objects, long text) are still filterable, just not suggested.
const MAX_SUGGESTED_VALUE_BYTES: usize = 80;

/// One metadata key (a dotted path for nested objects) and how often it
/// appears.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetadataKey {
    /// `plan`, `org.tier`, ...
    pub key: String,
    /// Traces whose root metadata has the key.
    pub traces: i64,
    /// The most common values, most common first.
    pub values: Vec<MetadataValue>,
}

/// One value of a metadata key.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetadataValue {
    /// The value as filters compare it (strings as themselves, other JSON
    /// as its text).
    pub value: String,
    /// Traces with this value.
    pub traces: i64,
}

impl Store {
    /// Up to `limit` metadata keys, most used first, each with up to
    /// `values` of its most common short values.
    ///
    /// ```
    /// use neatlogs_cli::{ingest, store::Store};
    /// let mut store = Store::in_memory().unwrap();
    /// let body = br#"{"name":"chat","attributes":{"neatlogs.end_user.id":"u_1",
    ///     "neatlogs.end_user.metadata":{"plan":"pro","org":{"tier":"gold"}}}}"#;
    /// store.write(&ingest::batch_from_simple_trace(body).unwrap().0).unwrap();
    /// let keys = store.metadata_keys(50, 10).unwrap();
    /// let names: Vec<&str> = keys.iter().map(|k| k.key.as_str()).collect();
    /// assert_eq!(names, ["org", "org.tier", "plan"]);
    /// assert_eq!(keys[2].values[0].value, "pro");
    /// ```
    pub fn metadata_keys(&self, limit: u32, values: u32) -> Result<Vec<MetadataKey>, StoreError> {
        let mut keys = self
            .conn
            .prepare_cached(
                "SELECT path, COUNT(DISTINCT trace_rowid) FROM trace_metadata
                 GROUP BY path ORDER BY COUNT(DISTINCT trace_rowid) DESC, path LIMIT ?1",
            )?
            .query_map([limit], |row| {
                Ok(MetadataKey {
                    key: row.get(0)?,
                    traces: row.get(1)?,
                    values: Vec::new(),
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT value, COUNT(*) FROM trace_metadata
             WHERE path = ?1 AND length(CAST(value AS BLOB)) <= ?2
             GROUP BY value ORDER BY COUNT(*) DESC, value LIMIT ?3",
        )?;
        for key in &mut keys {
            key.values = stmt
                .query_map(
                    rusqlite::params![key.key, MAX_SUGGESTED_VALUE_BYTES as i64, values],
                    |row| {
                        Ok(MetadataValue {
                            value: row.get(0)?,
                            traces: row.get(1)?,
                        })
                    },
                )?
                .collect::<Result<_, _>>()?;
        }
        // Alphabetical reads best in a picker; the limit above kept the
        // most used ones.
        keys.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(keys)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::batch_from_simple_trace;

    fn add(store: &mut Store, user: &str, metadata: &str) {
        let body = serde_json::json!({
            "name": "chat",
            "attributes": {
                "neatlogs.end_user.id": user,
                "neatlogs.end_user.metadata": metadata,
            }
        });
        let (batch, _) = batch_from_simple_trace(body.to_string().as_bytes()).unwrap();
        store.write(&batch).unwrap();
    }

    #[test]
    fn counts_traces_per_key_and_value() {
        let mut store = Store::in_memory().unwrap();
        add(&mut store, "u_1", r#"{"plan":"pro","seats":3}"#);
        add(&mut store, "u_2", r#"{"plan":"pro"}"#);
        add(&mut store, "u_3", r#"{"plan":"free"}"#);
        let long = "x".repeat(200);
        add(&mut store, "u_4", &format!(r#"{{"note":"{long}"}}"#));

        let keys = store.metadata_keys(50, 10).unwrap();
        let plan = keys.iter().find(|k| k.key == "plan").unwrap();
        assert_eq!(plan.traces, 3);
        assert_eq!(
            plan.values,
            vec![
                MetadataValue {
                    value: "pro".into(),
                    traces: 2
                },
                MetadataValue {
                    value: "free".into(),
                    traces: 1
                },
            ]
        );
        let seats = keys.iter().find(|k| k.key == "seats").unwrap();
        assert_eq!(seats.values[0].value, "3");
        let note = keys.iter().find(|k| k.key == "note").unwrap();
        assert_eq!(note.traces, 1);
        assert!(note.values.is_empty(), "long values are not suggested");
    }

    #[test]
    fn limit_keeps_the_most_used_keys() {
        let mut store = Store::in_memory().unwrap();
        add(&mut store, "u_1", r#"{"plan":"pro","rare":"a"}"#);
        add(&mut store, "u_2", r#"{"plan":"pro"}"#);
        let keys = store.metadata_keys(1, 10).unwrap();
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].key, "plan");
    }
}
