//! What a parsed filter means, independent of how it was written or where it
//! runs. `Display` writes the canonical form, which parses back to the same
//! filter.

use std::fmt;

/// A parsed filter: clauses that must all hold (`and`). No clauses matches
/// every trace.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Filter {
    /// The clauses, in the order written.
    pub clauses: Vec<Clause>,
}

/// One `field operator [value]` clause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clause {
    /// What is tested.
    pub field: Field,
    /// How it is tested.
    pub op: Op,
}

/// A trace property that filters can test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    /// The trace's end-user, taken from its root span.
    EndUser,
    /// The trace's session.
    Session,
    /// The workflow (`neatlogs.workflow_name`, else `service.name`).
    Workflow,
    /// The root span's name.
    Name,
    /// `ok` or `error` (`error` when any span of the trace failed).
    Status,
    /// A key of the end-user metadata sent on the trace's root; a dotted path
    /// (`org.tier`) reaches into nested objects.
    Metadata(String),
}

/// An operator and its operands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// `is v`
    Is(String),
    /// `is not v` (also matches traces where the field is not set)
    IsNot(String),
    /// `contains v`
    Contains(String),
    /// `does not contain v` (also matches traces where the field is not set)
    DoesNotContain(String),
    /// `starts with v`
    StartsWith(String),
    /// `ends with v`
    EndsWith(String),
    /// `is any of a, b`
    IsAnyOf(Vec<String>),
    /// `is none of a, b` (also matches traces where the field is not set)
    IsNoneOf(Vec<String>),
    /// `is set`
    IsSet,
    /// `is not set`
    IsNotSet,
}

impl Field {
    /// The field's keyword: `end_user`, `session`, `workflow`, `name`,
    /// `status` or `metadata` (without the key).
    pub fn keyword(&self) -> &'static str {
        match self {
            Field::EndUser => "end_user",
            Field::Session => "session",
            Field::Workflow => "workflow",
            Field::Name => "name",
            Field::Status => "status",
            Field::Metadata(_) => "metadata",
        }
    }

    /// The field as written in a filter (`metadata:KEY` with its key).
    pub fn name(&self) -> String {
        match self {
            Field::Metadata(key) => format!("metadata:{}", quote_if_needed(key)),
            other => other.keyword().to_owned(),
        }
    }
}

impl Op {
    /// The operator as written (`is`, `does not contain`, `is any of`, ...).
    ///
    /// ```
    /// let f = neatlogs_cli::filter::parse("end_user starts with u_8").unwrap();
    /// assert_eq!(f.clauses[0].op.keyword(), "starts with");
    /// assert_eq!(f.clauses[0].op.values(), ["u_8"]);
    /// ```
    pub fn keyword(&self) -> &'static str {
        match self {
            Op::Is(_) => "is",
            Op::IsNot(_) => "is not",
            Op::Contains(_) => "contains",
            Op::DoesNotContain(_) => "does not contain",
            Op::StartsWith(_) => "starts with",
            Op::EndsWith(_) => "ends with",
            Op::IsAnyOf(_) => "is any of",
            Op::IsNoneOf(_) => "is none of",
            Op::IsSet => "is set",
            Op::IsNotSet => "is not set",
        }
    }

    /// The operands: one value, several (`is any of`), or none (`is set`).
    pub fn values(&self) -> &[String] {
        match self {
            Op::Is(v)
            | Op::IsNot(v)
            | Op::Contains(v)
            | Op::DoesNotContain(v)
            | Op::StartsWith(v)
            | Op::EndsWith(v) => std::slice::from_ref(v),
            Op::IsAnyOf(vs) | Op::IsNoneOf(vs) => vs,
            Op::IsSet | Op::IsNotSet => &[],
        }
    }
}

/// Words that the parser reads as operators or joiners, so a value equal to
/// one of them must be quoted.
const RESERVED: &[&str] = &[
    "and", "is", "not", "any", "none", "of", "set", "contains", "does", "contain", "starts",
    "ends", "with",
];

fn quote_if_needed(value: &str) -> String {
    let plain = !value.is_empty()
        && !value
            .chars()
            .any(|c| c.is_whitespace() || c == ',' || c == '"' || c == '\\')
        && !RESERVED.contains(&value.to_ascii_lowercase().as_str());
    if plain {
        value.to_owned()
    } else {
        let escaped = value.replace('\\', "\\\\").replace('"', "\\\"");
        format!("\"{escaped}\"")
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |values: &[String]| {
            values
                .iter()
                .map(|v| quote_if_needed(v))
                .collect::<Vec<_>>()
                .join(", ")
        };
        match self {
            Op::Is(v) => write!(f, "is {}", quote_if_needed(v)),
            Op::IsNot(v) => write!(f, "is not {}", quote_if_needed(v)),
            Op::Contains(v) => write!(f, "contains {}", quote_if_needed(v)),
            Op::DoesNotContain(v) => write!(f, "does not contain {}", quote_if_needed(v)),
            Op::StartsWith(v) => write!(f, "starts with {}", quote_if_needed(v)),
            Op::EndsWith(v) => write!(f, "ends with {}", quote_if_needed(v)),
            Op::IsAnyOf(vs) => write!(f, "is any of {}", list(vs)),
            Op::IsNoneOf(vs) => write!(f, "is none of {}", list(vs)),
            Op::IsSet => f.write_str("is set"),
            Op::IsNotSet => f.write_str("is not set"),
        }
    }
}

impl fmt::Display for Clause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.field.name(), self.op)
    }
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, clause) in self.clauses.iter().enumerate() {
            if i > 0 {
                f.write_str(" and ")?;
            }
            write!(f, "{clause}")?;
        }
        Ok(())
    }
}

impl Filter {
    /// Both filters' clauses: what several `--filter` flags mean.
    pub fn and(mut self, other: Filter) -> Filter {
        self.clauses.extend(other.clauses);
        self
    }
}
