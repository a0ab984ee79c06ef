//! Compiles a [`Filter`] to a parameterised SQL condition over the store's
//! `traces` table (alias `t`). Values are always bound parameters, never
//! pasted into the SQL text.

use super::ast::{Clause, Field, Filter, Op};

/// A SQL boolean expression over `traces t` and the values for its `?`
/// placeholders, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlCondition {
    /// The condition, ready to follow `WHERE`.
    pub sql: String,
    /// One value per `?`, in order of appearance.
    pub params: Vec<String>,
}

/// How a `metadata:KEY` clause is evaluated. Both give the same rows; they
/// differ in cost, and only the store knows which is cheaper.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MetadataPlan {
    /// Check each candidate trace against the metadata index
    /// (`EXISTS (...)`): cheapest when many traces match, because the newest
    /// page is found after a short scan in time order.
    #[default]
    Probe,
    /// Start from the matching metadata rows (`t.id IN (...)`): cheapest
    /// when few traces match. Negations are always probed.
    Drive,
}

impl Filter {
    /// The filter as a SQL condition over `traces t`, probing metadata.
    ///
    /// ```
    /// let filter = neatlogs_cli::filter::parse("end_user is u_1 and metadata:plan is pro").unwrap();
    /// let sql = filter.to_sql();
    /// assert_eq!(
    ///     sql.sql,
    ///     "t.end_user = ? AND EXISTS (SELECT 1 FROM trace_metadata m \
    ///      WHERE m.trace_rowid = t.id AND m.path = ? AND m.value = ?)"
    /// );
    /// assert_eq!(sql.params, ["u_1", "plan", "pro"]);
    /// ```
    pub fn to_sql(&self) -> SqlCondition {
        self.to_sql_with(|_| MetadataPlan::Probe)
    }

    /// The filter as a SQL condition, with `plan` choosing how each
    /// metadata clause is evaluated.
    ///
    /// ```
    /// use neatlogs_cli::filter::{parse, MetadataPlan};
    /// let sql = parse("metadata:plan is pro").unwrap().to_sql_with(|_| MetadataPlan::Drive);
    /// assert_eq!(
    ///     sql.sql,
    ///     "t.id IN (SELECT m.trace_rowid FROM trace_metadata m WHERE m.path = ? AND m.value = ?)"
    /// );
    /// ```
    pub fn to_sql_with(&self, mut plan: impl FnMut(&Clause) -> MetadataPlan) -> SqlCondition {
        if self.clauses.is_empty() {
            return SqlCondition {
                sql: "TRUE".to_owned(),
                params: Vec::new(),
            };
        }
        let mut params = Vec::new();
        let parts: Vec<String> = self
            .clauses
            .iter()
            .map(|clause| compile_clause(clause, plan(clause), &mut params))
            .collect();
        SqlCondition {
            sql: parts.join(" AND "),
            params,
        }
    }
}

/// The metadata rows (`trace_metadata m`) a positive metadata clause
/// selects, ignoring which trace they belong to; `None` for other clauses
/// and for negations. The store counts these to pick a [`MetadataPlan`].
pub fn metadata_rows(clause: &Clause) -> Option<SqlCondition> {
    let Field::Metadata(path) = &clause.field else {
        return None;
    };
    if negated(&clause.op).is_some() {
        return None;
    }
    let mut params = Vec::new();
    let sql = metadata_row(path, &clause.op, &mut params);
    Some(SqlCondition { sql, params })
}

/// The `traces` column behind a field (metadata has its own table).
fn column(field: &Field) -> &'static str {
    match field {
        Field::EndUser => "t.end_user",
        Field::Session => "t.session",
        Field::Workflow => "t.workflow",
        Field::Name => "t.name",
        Field::Status | Field::Metadata(_) => "t.status",
    }
}

fn compile_clause(clause: &Clause, plan: MetadataPlan, params: &mut Vec<String>) -> String {
    match &clause.field {
        Field::Metadata(path) => compile_metadata(path, &clause.op, plan, params),
        field => compile_column(column(field), &clause.op, params),
    }
}

/// A positive operator applied to `col`. Negations are `None`; callers
/// build them from the operator they negate (see [`negated`]).
fn positive(col: &str, op: &Op, params: &mut Vec<String>) -> Option<String> {
    Some(match op {
        Op::Is(v) => {
            params.push(v.clone());
            format!("{col} = ?")
        }
        Op::Contains(v) if v.is_empty() => format!("{col} IS NOT NULL"),
        Op::Contains(v) => {
            params.push(v.clone());
            format!("instr({col}, ?) > 0")
        }
        Op::StartsWith(v) => starts_with(col, v, params),
        Op::EndsWith(v) if v.is_empty() => format!("{col} IS NOT NULL"),
        Op::EndsWith(v) => {
            params.push(v.clone());
            params.push(v.clone());
            // On bytes: for text, SQLite's length() and a negative substr()
            // count characters only up to the first NUL, and ids may hold
            // one. A suffix of the UTF-8 bytes that equals the pattern's
            // bytes is a suffix of the text.
            format!("substr(CAST({col} AS BLOB), -length(CAST(? AS BLOB))) = CAST(? AS BLOB)")
        }
        Op::IsAnyOf(vs) => {
            params.extend(vs.iter().cloned());
            format!("{col} IN ({})", placeholders(vs.len()))
        }
        Op::IsSet => format!("{col} IS NOT NULL"),
        Op::IsNot(_) | Op::DoesNotContain(_) | Op::IsNoneOf(_) | Op::IsNotSet => return None,
    })
}

/// The positive operator that a negation negates.
fn negated(op: &Op) -> Option<Op> {
    match op {
        Op::IsNot(v) => Some(Op::Is(v.clone())),
        Op::DoesNotContain(v) => Some(Op::Contains(v.clone())),
        Op::IsNoneOf(vs) => Some(Op::IsAnyOf(vs.clone())),
        Op::IsNotSet => Some(Op::IsSet),
        _ => None,
    }
}

/// Negations also match traces where the column is NULL (not set), the way
/// "traces whose end-user is not u_1" reads.
fn compile_column(col: &str, op: &Op, params: &mut Vec<String>) -> String {
    if let Some(test) = positive(col, op, params) {
        return test;
    }
    match op {
        Op::IsNot(v) => {
            params.push(v.clone());
            format!("({col} IS NULL OR {col} <> ?)")
        }
        Op::DoesNotContain(v) if v.is_empty() => format!("{col} IS NULL"),
        Op::DoesNotContain(v) => {
            params.push(v.clone());
            format!("({col} IS NULL OR instr({col}, ?) = 0)")
        }
        Op::IsNoneOf(vs) => {
            params.extend(vs.iter().cloned());
            format!(
                "({col} IS NULL OR {col} NOT IN ({}))",
                placeholders(vs.len())
            )
        }
        _ => format!("{col} IS NULL"),
    }
}

/// Metadata lives in `trace_metadata` (one row per path of the root's
/// metadata, keyed by path and value, and by trace), so a clause tests for
/// a matching row, and a negation for the absence of one.
fn compile_metadata(path: &str, op: &Op, plan: MetadataPlan, params: &mut Vec<String>) -> String {
    let negation = negated(op);
    let row = metadata_row(path, negation.as_ref().unwrap_or(op), params);
    match (negation.is_some(), plan) {
        (false, MetadataPlan::Drive) => {
            format!("t.id IN (SELECT m.trace_rowid FROM trace_metadata m WHERE {row})")
        }
        (negate, _) => {
            let exists = if negate { "NOT EXISTS" } else { "EXISTS" };
            format!(
                "{exists} (SELECT 1 FROM trace_metadata m WHERE m.trace_rowid = t.id AND {row})"
            )
        }
    }
}

/// `m.path = ? AND <test of m.value>`: the `trace_metadata m` rows a
/// positive operator selects (the path alone for `is set`: every row has a
/// value, so the path says the key is set).
fn metadata_row(path: &str, op: &Op, params: &mut Vec<String>) -> String {
    params.push(path.to_owned());
    let value_test = match op {
        Op::IsSet => None,
        op => positive("m.value", op, params),
    };
    match value_test {
        Some(test) => format!("m.path = ? AND {test}"),
        None => "m.path = ?".to_owned(),
    }
}

fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

/// `col starts with v` as a range on the column, so an index on it is used:
/// every string with prefix `p + c` lies in `[p + c, p + succ(c))` under
/// SQLite's binary collation (UTF-8 byte order is code point order).
fn starts_with(col: &str, prefix: &str, params: &mut Vec<String>) -> String {
    if prefix.is_empty() {
        return format!("{col} IS NOT NULL");
    }
    params.push(prefix.to_owned());
    match prefix_upper_bound(prefix) {
        Some(upper) => {
            params.push(upper);
            format!("({col} >= ? AND {col} < ?)")
        }
        None => format!("{col} >= ?"),
    }
}

/// The smallest string greater than every string that starts with `prefix`,
/// or `None` when there is none (the prefix is all `char::MAX`).
pub(crate) fn prefix_upper_bound(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        if let Some(next) = next_char(last) {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

fn next_char(c: char) -> Option<char> {
    match c {
        char::MAX => None,
        // Skip the surrogate range, which `char` cannot hold.
        '\u{D7FF}' => Some('\u{E000}'),
        c => char::from_u32(c as u32 + 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upper_bounds() {
        assert_eq!(prefix_upper_bound("u_8").as_deref(), Some("u_9"));
        assert_eq!(
            prefix_upper_bound("a\u{D7FF}").as_deref(),
            Some("a\u{E000}")
        );
        assert_eq!(
            prefix_upper_bound("ab\u{10FFFF}").as_deref(),
            Some("ac"),
            "a trailing char::MAX is dropped and the previous char bumped"
        );
        assert_eq!(prefix_upper_bound("\u{10FFFF}"), None);
    }
}
