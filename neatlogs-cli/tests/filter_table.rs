//! The filter language as a table: valid expressions with the exact SQL and
//! parameters they compile to, and invalid ones with their exact errors.

use neatlogs_cli::filter::{parse, parse_all};

const MD: &str = "EXISTS (SELECT 1 FROM trace_metadata m WHERE m.trace_rowid = t.id AND m.path = ?";
const NOT_MD: &str =
    "NOT EXISTS (SELECT 1 FROM trace_metadata m WHERE m.trace_rowid = t.id AND m.path = ?";
const DRIVE: &str = "t.id IN (SELECT m.trace_rowid FROM trace_metadata m WHERE m.path = ?";

#[test]
fn valid_expressions_compile_to_parameterised_sql() {
    let md = |rest: &str| format!("{MD}{rest})");
    let not_md = |rest: &str| format!("{NOT_MD}{rest})");
    let cases: Vec<(&str, String, Vec<&str>)> = vec![
        ("", "TRUE".into(), vec![]),
        ("   ", "TRUE".into(), vec![]),
        ("end_user is u_812", "t.end_user = ?".into(), vec!["u_812"]),
        ("END_USER IS u_812", "t.end_user = ?".into(), vec!["u_812"]),
        (
            "end_user is not u_1",
            "(t.end_user IS NULL OR t.end_user <> ?)".into(),
            vec!["u_1"],
        ),
        (
            "end_user is any of u_1, u_2",
            "t.end_user IN (?, ?)".into(),
            vec!["u_1", "u_2"],
        ),
        (
            "end_user is any of u_1,u_2,\"u 3\"",
            "t.end_user IN (?, ?, ?)".into(),
            vec!["u_1", "u_2", "u 3"],
        ),
        (
            "end_user is none of u_1, u_2",
            "(t.end_user IS NULL OR t.end_user NOT IN (?, ?))".into(),
            vec!["u_1", "u_2"],
        ),
        (
            "end_user contains 81",
            "instr(t.end_user, ?) > 0".into(),
            vec!["81"],
        ),
        (
            "end_user does not contain 81",
            "(t.end_user IS NULL OR instr(t.end_user, ?) = 0)".into(),
            vec!["81"],
        ),
        (
            "end_user starts with u_8",
            "(t.end_user >= ? AND t.end_user < ?)".into(),
            vec!["u_8", "u_9"],
        ),
        (
            "end_user ends with _812",
            "substr(CAST(t.end_user AS BLOB), -length(CAST(? AS BLOB))) = CAST(? AS BLOB)".into(),
            vec!["_812", "_812"],
        ),
        ("end_user is set", "t.end_user IS NOT NULL".into(), vec![]),
        ("end_user is not set", "t.end_user IS NULL".into(), vec![]),
        ("end_user is \"set\"", "t.end_user = ?".into(), vec!["set"]),
        (
            "end_user starts with \"\"",
            "t.end_user IS NOT NULL".into(),
            vec![],
        ),
        ("session is s_1", "t.session = ?".into(), vec!["s_1"]),
        (
            "workflow is support-chat",
            "t.workflow = ?".into(),
            vec!["support-chat"],
        ),
        (
            "name contains chat",
            "instr(t.name, ?) > 0".into(),
            vec!["chat"],
        ),
        (
            "name is \"support chat \\\"v2\\\"\"",
            "t.name = ?".into(),
            vec!["support chat \"v2\""],
        ),
        ("status is ERROR", "t.status = ?".into(), vec!["error"]),
        (
            "status is any of ok, error",
            "t.status IN (?, ?)".into(),
            vec!["ok", "error"],
        ),
        (
            "metadata:plan is pro",
            md(" AND m.value = ?"),
            vec!["plan", "pro"],
        ),
        (
            "metadata:plan is not pro",
            not_md(" AND m.value = ?"),
            vec!["plan", "pro"],
        ),
        (
            "metadata:org.tier is gold",
            md(" AND m.value = ?"),
            vec!["org.tier", "gold"],
        ),
        (
            "metadata:\"team name\" is core",
            md(" AND m.value = ?"),
            vec!["team name", "core"],
        ),
        ("metadata:plan is set", md(""), vec!["plan"]),
        ("metadata:plan is not set", not_md(""), vec!["plan"]),
        (
            "metadata:plan starts with pr",
            md(" AND (m.value >= ? AND m.value < ?)"),
            vec!["plan", "pr", "ps"],
        ),
        (
            "metadata:plan is any of pro, team",
            md(" AND m.value IN (?, ?)"),
            vec!["plan", "pro", "team"],
        ),
        (
            "metadata:plan does not contain free",
            not_md(" AND instr(m.value, ?) > 0"),
            vec!["plan", "free"],
        ),
        (
            "end_user starts with u_ and metadata:plan is pro and status is ok",
            format!(
                "(t.end_user >= ? AND t.end_user < ?) AND {} AND t.status = ?",
                md(" AND m.value = ?")
            ),
            vec!["u_", "u`", "plan", "pro", "ok"],
        ),
        // Injection attempts are just values.
        (
            "name is \"x'); DROP TABLE traces; --\"",
            "t.name = ?".into(),
            vec!["x'); DROP TABLE traces; --"],
        ),
    ];
    for (expression, sql, params) in cases {
        let filter = parse(expression).unwrap_or_else(|e| panic!("{expression:?}: {e}"));
        let compiled = filter.to_sql();
        assert_eq!(compiled.sql, sql, "SQL of {expression:?}");
        assert_eq!(compiled.params, params, "params of {expression:?}");
        // The canonical form parses back to the same filter.
        let again = parse(&filter.to_string())
            .unwrap_or_else(|e| panic!("canonical {:?}: {e}", filter.to_string()));
        assert_eq!(again, filter, "round trip of {expression:?}");
    }
}

#[test]
fn invalid_expressions_name_the_column_and_what_was_expected() {
    let ops = "is, is not, contains, does not contain, starts with, ends with, is any of, is none of, is set, is not set";
    let fields = "end_user, session, workflow, name, status or metadata:KEY";
    let cases: Vec<(&str, usize, String)> = vec![
        (
            "end_user strats with u_8",
            10,
            format!("expected an operator after `end_user` at column 10: {ops} (found `strats`; did you mean `starts with`?)"),
        ),
        (
            "end_user",
            9,
            format!("expected an operator after `end_user` at column 9: {ops} (found the end of the filter)"),
        ),
        (
            "enduser is u_1",
            1,
            format!("unknown field `enduser` at column 1: expected {fields}; did you mean `end_user`?"),
        ),
        (
            "metadata is pro",
            1,
            format!("unknown field `metadata` at column 1: expected {fields} (write metadata:KEY, e.g. metadata:plan)"),
        ),
        (
            "metadata: is pro",
            10,
            "expected a metadata key after `metadata:` at column 10 (metadata:plan, metadata:org.tier)".into(),
        ),
        (
            "metadata:org..tier is x",
            10,
            "metadata key `org..tier` at column 10 has an empty part: write dotted paths as metadata:org.tier".into(),
        ),
        (
            "end_user starts with",
            21,
            "expected a value after `starts with` at column 21, found the end of the filter".into(),
        ),
        (
            "end_user starts u_8",
            17,
            "expected `with` after `starts` at column 17, found `u_8`".into(),
        ),
        (
            "end_user does contain x",
            15,
            "expected `not` after `does` at column 15, found `contain`".into(),
        ),
        (
            "end_user is any u_1",
            17,
            "expected `of` after `is any` at column 17, found `u_1`".into(),
        ),
        (
            "end_user is any of u_1,",
            24,
            "expected a value after `,` at column 24, found the end of the filter".into(),
        ),
        (
            "end_user is any of , u_1",
            20,
            "expected a value after `is any of` at column 20, found `,`".into(),
        ),
        (
            "name is support chat",
            17,
            "expected `and` or the end of the filter at column 17, found `chat`; quote values that contain spaces or commas (name is \"support chat\")".into(),
        ),
        (
            "end_user is u_1 or end_user is u_2",
            17,
            "expected `and` or the end of the filter at column 17, found `or`; only `and` combines clauses".into(),
        ),
        (
            "end_user is u_1 and",
            20,
            format!("expected a clause after `and` at column 20: {fields}"),
        ),
        (
            "name is \"unterminated",
            9,
            "unterminated quoted value starting at column 9: add the closing `\"`".into(),
        ),
        (
            "status is failed",
            11,
            "unknown status `failed` at column 11: expected ok or error".into(),
        ),
        (
            "\"end_user\" is u_1",
            1,
            format!("expected a field at column 1, found `\"end_user\"`: {fields}"),
        ),
        (
            "end_user = u_1",
            10,
            format!("expected an operator after `end_user` at column 10: {ops} (found `=`)"),
        ),
    ];
    for (expression, column, message) in cases {
        let err = parse(expression).expect_err(expression);
        assert_eq!(err.to_string(), message, "message for {expression:?}");
        assert_eq!(err.column, column, "column for {expression:?}");
    }
}

#[test]
fn metadata_clauses_can_drive_from_the_metadata_index() {
    use neatlogs_cli::filter::{metadata_rows, MetadataPlan};
    let cases: Vec<(&str, String, Vec<&str>)> = vec![
        (
            "metadata:plan is pro",
            format!("{DRIVE} AND m.value = ?)"),
            vec!["plan", "pro"],
        ),
        ("metadata:plan is set", format!("{DRIVE})"), vec!["plan"]),
        (
            "metadata:plan starts with p and end_user is u_1",
            format!("{DRIVE} AND (m.value >= ? AND m.value < ?)) AND t.end_user = ?"),
            vec!["plan", "p", "q", "u_1"],
        ),
        // Negations always probe.
        (
            "metadata:plan is not pro",
            format!("{NOT_MD} AND m.value = ?)"),
            vec!["plan", "pro"],
        ),
    ];
    for (expression, sql, params) in cases {
        let compiled = parse(expression)
            .unwrap()
            .to_sql_with(|_| MetadataPlan::Drive);
        assert_eq!(compiled.sql, sql, "SQL of {expression:?}");
        assert_eq!(compiled.params, params, "params of {expression:?}");
    }

    let rows = |e: &str| metadata_rows(&parse(e).unwrap().clauses[0]);
    let pro = rows("metadata:plan is pro").unwrap();
    assert_eq!(pro.sql, "m.path = ? AND m.value = ?");
    assert_eq!(pro.params, ["plan", "pro"]);
    assert_eq!(rows("metadata:plan is not pro"), None);
    assert_eq!(rows("end_user is u_1"), None);
}

#[test]
fn overlong_filters_are_refused() {
    let long = format!("name is {}", "x".repeat(5000));
    let err = parse(&long).unwrap_err();
    assert!(err.to_string().contains("at most 4096"), "{err}");
}

#[test]
fn several_filters_combine_with_and() {
    let f = parse_all(["end_user starts with u_", "metadata:plan is pro"]).unwrap();
    assert_eq!(f.clauses.len(), 2);
    assert_eq!(
        f.to_string(),
        "end_user starts with u_ and metadata:plan is pro"
    );
}
