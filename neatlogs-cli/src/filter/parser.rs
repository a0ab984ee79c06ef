//! Turns tokens into a [`Filter`], with errors that point at the offending
//! word and list what would have been accepted there.

use super::ast::{Clause, Field, Filter, Op};
use super::lexer::{tokenize, Token, TokenKind};
use super::FilterError;

/// Longest filter accepted, in characters. Keeps the compiled SQL far below
/// SQLite's limits on statement length and bound parameters.
pub const MAX_FILTER_CHARS: usize = 4096;

const FIELDS: &str = "end_user, session, workflow, name, status or metadata:KEY";
const OPERATORS: &str = "is, is not, contains, does not contain, starts with, ends with, \
                         is any of, is none of, is set, is not set";
const FIELD_NAMES: &[&str] = &[
    "end_user", "session", "workflow", "name", "status", "metadata",
];
const OPERATOR_NAMES: &[&str] = &[
    "is",
    "is not",
    "contains",
    "does not contain",
    "starts with",
    "ends with",
    "is any of",
    "is none of",
    "is set",
    "is not set",
];

/// Parses a filter. An empty (or all-blank) filter matches every trace.
///
/// ```
/// use neatlogs_cli::filter::{parse, Field, Op};
/// let filter = parse("end_user starts with u_8 and metadata:plan is pro").unwrap();
/// assert_eq!(filter.clauses[0].field, Field::EndUser);
/// assert_eq!(filter.clauses[1].op, Op::Is("pro".into()));
///
/// let err = parse("end_user strats with u_8").unwrap_err();
/// assert!(err.to_string().starts_with(
///     "expected an operator after `end_user` at column 10: is, is not, contains"
/// ));
/// ```
pub fn parse(input: &str) -> Result<Filter, FilterError> {
    let length = input.chars().count();
    if length > MAX_FILTER_CHARS {
        return Err(FilterError::new(
            MAX_FILTER_CHARS + 1,
            format!(
                "the filter is {length} characters long; at most {MAX_FILTER_CHARS} are accepted \
                 (the excess starts at column {})",
                MAX_FILTER_CHARS + 1
            ),
        ));
    }
    let tokens = tokenize(input)?;
    Parser {
        tokens,
        pos: 0,
        end_column: length + 1,
        status_values: false,
    }
    .filter()
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    /// Column reported for "the end of the filter".
    end_column: usize,
    /// Whether the clause being parsed tests `status`, whose values are
    /// checked and lower-cased.
    status_values: bool,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn peek_at(&self, offset: usize) -> Option<&Token> {
        self.tokens.get(self.pos + offset)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.pos).cloned();
        if token.is_some() {
            self.pos += 1;
        }
        token
    }

    /// The bare word at `offset`, lower-cased, if there is one.
    fn keyword_at(&self, offset: usize) -> Option<String> {
        match self.peek_at(offset) {
            Some(Token {
                kind: TokenKind::Word(w),
                ..
            }) => Some(w.to_lowercase()),
            _ => None,
        }
    }

    /// Column of the next token, or of the end of the filter.
    fn here(&self) -> usize {
        self.peek().map_or(self.end_column, |t| t.column)
    }

    fn found(&self) -> String {
        match self.peek() {
            Some(token) => format!("found {}", token.shown()),
            None => "found the end of the filter".to_owned(),
        }
    }

    fn filter(mut self) -> Result<Filter, FilterError> {
        let mut filter = Filter::default();
        if self.peek().is_none() {
            return Ok(filter);
        }
        loop {
            filter.clauses.push(self.clause()?);
            match self.peek() {
                None => return Ok(filter),
                Some(_) if self.keyword_at(0).as_deref() == Some("and") => {
                    self.next();
                    if self.peek().is_none() {
                        return Err(FilterError::new(
                            self.end_column,
                            format!(
                                "expected a clause after `and` at column {}: {FIELDS}",
                                self.end_column
                            ),
                        ));
                    }
                }
                Some(token) => {
                    let column = token.column;
                    let hint = match self.keyword_at(0).as_deref() {
                        Some("or") => "; only `and` combines clauses".to_owned(),
                        _ => {
                            "; quote values that contain spaces or commas (name is \"support chat\")"
                                .to_owned()
                        }
                    };
                    return Err(FilterError::new(
                        column,
                        format!(
                            "expected `and` or the end of the filter at column {column}, {}{hint}",
                            self.found()
                        ),
                    ));
                }
            }
        }
    }

    fn clause(&mut self) -> Result<Clause, FilterError> {
        let (field, shown) = self.field()?;
        self.status_values = field == Field::Status;
        let op = self.op(&shown)?;
        Ok(Clause { field, op })
    }

    /// The field and how it was written (for "after `...`" in errors).
    fn field(&mut self) -> Result<(Field, String), FilterError> {
        let column = self.here();
        let Some(token) = self.next() else {
            return Err(FilterError::new(
                column,
                format!("expected a field at column {column}: {FIELDS}"),
            ));
        };
        let TokenKind::Word(word) = &token.kind else {
            return Err(FilterError::new(
                column,
                format!(
                    "expected a field at column {column}, found {}: {FIELDS}",
                    token.shown()
                ),
            ));
        };
        let lower = word.to_lowercase();
        let field = match lower.as_str() {
            "end_user" => Field::EndUser,
            "session" => Field::Session,
            "workflow" => Field::Workflow,
            "name" => Field::Name,
            "status" => Field::Status,
            _ if lower.starts_with("metadata:") => {
                let mut key = word["metadata:".len()..].to_owned();
                let mut shown = word.clone();
                if key.is_empty() {
                    if let Some(Token {
                        kind: TokenKind::Quoted(quoted),
                        column: next_column,
                        ..
                    }) = self.peek()
                    {
                        if *next_column == token.end {
                            key = quoted.clone();
                            shown = format!("{word}\"{quoted}\"");
                            self.next();
                        }
                    }
                }
                if key.is_empty() {
                    let at = token.end;
                    return Err(FilterError::new(
                        at,
                        format!(
                            "expected a metadata key after `metadata:` at column {at} (metadata:plan, metadata:org.tier)"
                        ),
                    ));
                }
                if key.split('.').any(str::is_empty) {
                    let at = column + "metadata:".len();
                    return Err(FilterError::new(
                        at,
                        format!(
                            "metadata key `{key}` at column {at} has an empty part: write dotted paths as metadata:org.tier"
                        ),
                    ));
                }
                return Ok((Field::Metadata(key), shown));
            }
            _ => {
                let hint = if lower == "metadata" {
                    " (write metadata:KEY, e.g. metadata:plan)".to_owned()
                } else {
                    suggestion(&lower, FIELD_NAMES)
                };
                return Err(FilterError::new(
                    column,
                    format!("unknown field `{word}` at column {column}: expected {FIELDS}{hint}"),
                ));
            }
        };
        Ok((field, word.clone()))
    }

    fn op(&mut self, field: &str) -> Result<Op, FilterError> {
        let column = self.here();
        let Some(first) = self.keyword_at(0) else {
            return Err(self.expected_operator(field, column));
        };
        match first.as_str() {
            "is" => {
                self.next();
                match self.keyword_at(0).as_deref() {
                    Some("not") => {
                        self.next();
                        if self.keyword_at(0).as_deref() == Some("set") {
                            self.next();
                            Ok(Op::IsNotSet)
                        } else {
                            Ok(Op::IsNot(self.value("is not")?))
                        }
                    }
                    Some("set") => {
                        self.next();
                        Ok(Op::IsSet)
                    }
                    Some("any") => {
                        self.next();
                        self.expect_word("of", "is any")?;
                        Ok(Op::IsAnyOf(self.list("is any of")?))
                    }
                    Some("none") => {
                        self.next();
                        self.expect_word("of", "is none")?;
                        Ok(Op::IsNoneOf(self.list("is none of")?))
                    }
                    _ => Ok(Op::Is(self.value("is")?)),
                }
            }
            "contains" => {
                self.next();
                Ok(Op::Contains(self.value("contains")?))
            }
            "does" => {
                self.next();
                self.expect_word("not", "does")?;
                match self.keyword_at(0).as_deref() {
                    Some("contain" | "contains") => {
                        self.next();
                        Ok(Op::DoesNotContain(self.value("does not contain")?))
                    }
                    _ => {
                        let at = self.here();
                        Err(FilterError::new(
                            at,
                            format!(
                                "expected `contain` after `does not` at column {at}, {}",
                                self.found()
                            ),
                        ))
                    }
                }
            }
            "starts" => {
                self.next();
                self.expect_word("with", "starts")?;
                Ok(Op::StartsWith(self.value("starts with")?))
            }
            "ends" => {
                self.next();
                self.expect_word("with", "ends")?;
                Ok(Op::EndsWith(self.value("ends with")?))
            }
            _ => Err(self.expected_operator(field, column)),
        }
    }

    fn expected_operator(&self, field: &str, column: usize) -> FilterError {
        let tail = match self.peek() {
            None => " (found the end of the filter)".to_owned(),
            Some(token) => {
                let guess = match &token.kind {
                    TokenKind::Word(w) => suggestion(&w.to_lowercase(), OPERATOR_NAMES),
                    _ => String::new(),
                };
                format!(" (found {}{guess})", token.shown())
            }
        };
        FilterError::new(
            column,
            format!("expected an operator after `{field}` at column {column}: {OPERATORS}{tail}"),
        )
    }

    fn expect_word(&mut self, word: &str, after: &str) -> Result<(), FilterError> {
        if self.keyword_at(0).as_deref() == Some(word) {
            self.next();
            return Ok(());
        }
        let at = self.here();
        Err(FilterError::new(
            at,
            format!(
                "expected `{word}` after `{after}` at column {at}, {}",
                self.found()
            ),
        ))
    }

    fn value(&mut self, after: &str) -> Result<String, FilterError> {
        let at = self.here();
        match self.peek().map(|t| t.kind.clone()) {
            Some(TokenKind::Word(v) | TokenKind::Quoted(v)) => {
                self.next();
                if self.status_values {
                    check_status(&v, at)?;
                    return Ok(v.to_lowercase());
                }
                Ok(v)
            }
            _ => Err(FilterError::new(
                at,
                format!(
                    "expected a value after `{after}` at column {at}, {}",
                    self.found()
                ),
            )),
        }
    }

    fn list(&mut self, after: &str) -> Result<Vec<String>, FilterError> {
        let mut values = vec![self.value(after)?];
        while matches!(self.peek().map(|t| &t.kind), Some(TokenKind::Comma)) {
            self.next();
            values.push(self.value(",")?);
        }
        Ok(values)
    }
}

fn check_status(value: &str, column: usize) -> Result<(), FilterError> {
    match value.to_lowercase().as_str() {
        "ok" | "error" => Ok(()),
        _ => Err(FilterError::new(
            column,
            format!("unknown status `{value}` at column {column}: expected ok or error"),
        )),
    }
}

/// " (did you mean `x`?)" when a known word is within two edits.
fn suggestion(word: &str, known: &[&str]) -> String {
    known
        .iter()
        .filter_map(|k| {
            // Compare against the first word of multi-word operators too, so
            // `strats` suggests `starts with`.
            let head = k.split(' ').next().unwrap_or(k);
            let d = edit_distance(word, head).min(edit_distance(word, k));
            (d <= 2 && d < word.chars().count()).then_some((d, *k))
        })
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| format!("; did you mean `{k}`?"))
        .unwrap_or_default()
}

fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_basics() {
        assert_eq!(edit_distance("strats", "starts"), 2);
        assert_eq!(edit_distance("", "is"), 2);
        assert_eq!(edit_distance("session", "session"), 0);
    }

    #[test]
    fn suggests_close_words_only() {
        assert_eq!(
            suggestion("enduser", FIELD_NAMES),
            "; did you mean `end_user`?"
        );
        assert_eq!(suggestion("zzzzzz", FIELD_NAMES), "");
    }
}
