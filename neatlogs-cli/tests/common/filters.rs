//! The filter language run against a store, and the Rust string test
//! each text operator must agree with.

use neatlogs_cli::filter::parse;
use neatlogs_cli::ingest::batch_from_otlp;
use neatlogs_cli::store::Store;

use super::{identity, request, sdk_resource, span, trace_hex};

/// Whether a stored value matches a pattern.
pub type Test = fn(&str, &str) -> bool;

/// The text operators, each with the test it must agree with.
pub const OPERATORS: &[(&str, Test)] = &[
    ("is", |v, p| v == p),
    ("is not", |v, p| v != p),
    ("contains", |v, p| v.contains(p)),
    ("does not contain", |v, p| !v.contains(p)),
    ("starts with", |v, p| v.starts_with(p)),
    ("ends with", |v, p| v.ends_with(p)),
];

/// A quoted filter value (the lexer unescapes `\"` and `\\`).
pub fn quoted(value: &str) -> String {
    format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Stores one trace per end-user id, through OTLP ingest, each with the
/// metadata `{"plan": <the same id>}`; trace `i + 1` is `ids[i]`'s.
pub fn store_with(ids: &[&str]) -> Store {
    let mut store = Store::in_memory().unwrap();
    for (i, id) in ids.iter().enumerate() {
        let n = i as u64 + 1;
        let metadata = serde_json::json!({ "plan": id }).to_string();
        // A value that is no valid end-user id (a NUL is a control
        // character) is stored as metadata only, under a stand-in id.
        let stand_in = format!("u_stand_in_{n}");
        let id = if is_valid_id(id) {
            id
        } else {
            stand_in.as_str()
        };
        let root = span(
            n,
            1,
            None,
            "chat",
            "WORKFLOW",
            n,
            1,
            identity(id, Some(&metadata), None),
        );
        let batch = batch_from_otlp(&request(sdk_resource("wf", None), vec![root])).unwrap();
        store.write(&batch).unwrap();
    }
    store
}

/// Whether `id` can be an end-user (the SDK's and the collector's rule).
pub fn is_valid_id(id: &str) -> bool {
    matches!(neatlogs::EndUserId::parse(id), Ok(Some(_)))
}

/// Checks every operator and pattern, on the end-user (when every id is a
/// valid one) and on metadata, against the Rust test over `ids`.
pub fn check(store: &Store, ids: &[&str], patterns: &[&str]) {
    let fields: &[&str] = if ids.iter().all(|id| is_valid_id(id)) {
        &["end_user", "metadata:plan"]
    } else {
        &["metadata:plan"]
    };
    for (op, test) in OPERATORS {
        for pattern in patterns {
            let mut expected: Vec<String> = ids
                .iter()
                .enumerate()
                .filter(|(_, id)| test(id, pattern))
                .map(|(i, _)| trace_hex(i as u64 + 1))
                .collect();
            expected.sort();
            for field in fields {
                let filter = format!("{field} {op} {}", quoted(pattern));
                let mut got: Vec<String> = store
                    .list_traces(&parse(&filter).unwrap(), 1000, 0)
                    .unwrap()
                    .into_iter()
                    .map(|t| t.trace_id)
                    .collect();
                got.sort();
                assert_eq!(got, expected, "{filter:?} over {ids:?}");
            }
        }
    }
}
