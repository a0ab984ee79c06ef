//! The filter language: one parser for the CLI (`--filter`), the JSON API
//! (`?filter=`) and the traces page.
//!
//! ```text
//! end_user is u_812            end_user is not u_1         end_user is any of u_1, u_2
//! end_user contains 81         end_user starts with u_8    end_user ends with _812
//! end_user is set              end_user is not set         metadata:plan is pro
//! session is s_1               workflow is support-chat    name contains chat
//! ```
//!
//! Fields: `end_user`, `session`, `workflow`, `name`, `status` (`ok` or
//! `error`), `metadata:KEY` (the end-user metadata on the trace's root; a
//! dotted key such as `metadata:org.tier` reaches into nested objects).
//! Values are bare words or double-quoted (`name is "support chat"`, with `\"`
//! and `\\` inside quotes); quote a value that is one of the keywords. Clauses
//! combine with `and`. Negations (`is not`, `does not contain`, `is none of`)
//! also match traces where the field is not set. Matching is case-sensitive,
//! except for `status` values.
//!
//! The pipeline is [`parse`] (a lexer and a recursive-descent parser) to a
//! [`Filter`] (the AST) to [`SqlCondition`] (parameterised SQL).

mod ast;
mod lexer;
mod parser;
mod sql;

pub use ast::{Clause, Field, Filter, Op};
pub use parser::{parse, MAX_FILTER_CHARS};
pub(crate) use sql::prefix_upper_bound;
pub use sql::{metadata_rows, MetadataPlan, SqlCondition};

/// A filter that does not parse: where, and what was expected there.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct FilterError {
    /// 1-based column, in characters, of the offending word (one past the
    /// end of the filter when something is missing at the end).
    pub column: usize,
    /// The full message, which names the column and what was expected.
    pub message: String,
}

impl FilterError {
    pub(crate) fn new(column: usize, message: String) -> Self {
        FilterError { column, message }
    }
}

/// Parses each expression and combines them with `and` (what several
/// `--filter` flags mean).
///
/// ```
/// let f = neatlogs_cli::filter::parse_all(["end_user is u_1", "status is error"]).unwrap();
/// assert_eq!(f.to_string(), "end_user is u_1 and status is error");
/// ```
pub fn parse_all<I, S>(expressions: I) -> Result<Filter, FilterError>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    expressions
        .into_iter()
        .try_fold(Filter::default(), |acc, e| Ok(acc.and(parse(e.as_ref())?)))
}
