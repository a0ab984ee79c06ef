//! Plain-text tables for the terminal: aligned columns, numbers on the
//! right, long cells cut with `…`, and stored text made safe to print.

use std::borrow::Cow;
use std::fmt::Write as _;

/// How a column aligns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Text.
    Left,
    /// Numbers.
    Right,
}

/// A table built row by row and written at once.
///
/// ```
/// use neatlogs_cli::render::{Align, Table};
/// let mut t = Table::new(&[("USER", Align::Left), ("TRACES", Align::Right)]);
/// t.row(vec!["u_1".into(), "12".into()]);
/// assert_eq!(t.to_string(), "USER  TRACES\nu_1       12\n");
/// ```
#[derive(Debug, Clone)]
pub struct Table {
    headers: Vec<(String, Align)>,
    rows: Vec<Vec<String>>,
    max_width: usize,
}

impl Table {
    /// A table with these column headers.
    pub fn new(headers: &[(&str, Align)]) -> Table {
        Table {
            headers: headers.iter().map(|(h, a)| ((*h).to_owned(), *a)).collect(),
            rows: Vec::new(),
            max_width: 48,
        }
    }

    /// Adds a row (missing cells are blank).
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }
}

/// `s` cut to `max` characters, with `…` when cut.
pub fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

/// `s` made safe for a terminal: every control character (ESC, BEL, CR,
/// LF, DEL, the C1 range) and every invisible direction or line control
/// (U+200E/F, U+2028/9, U+202A–E, U+2066–9) is written as a visible
/// `\u{..}` escape, and a backslash as `\\` so an escape cannot be forged.
/// Any sender can store any text as an end-user id or a span name; printed
/// raw it could clear the screen, retitle the terminal or forge table rows.
/// `--json` output is exact instead (JSON escapes these itself).
///
/// ```
/// use neatlogs_cli::render::terminal_safe;
/// assert_eq!(terminal_safe("u_812"), "u_812");
/// assert_eq!(terminal_safe("a\x1b[2Jb\r\n"), "a\\u{1b}[2Jb\\u{d}\\u{a}");
/// ```
pub fn terminal_safe(s: &str) -> Cow<'_, str> {
    fn unsafe_char(c: char) -> bool {
        c.is_control()
            || c == '\\'
            || matches!(c, '\u{200e}' | '\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    }
    if !s.chars().any(unsafe_char) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c == '\\' {
            out.push_str("\\\\");
        } else if unsafe_char(c) {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// `-` for nothing.
pub fn or_dash(value: Option<&str>) -> String {
    value.filter(|v| !v.is_empty()).unwrap_or("-").to_owned()
}

impl std::fmt::Display for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let cells: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|row| {
                (0..self.headers.len())
                    .map(|i| {
                        let cell = row.get(i).map_or("", String::as_str);
                        truncate(&terminal_safe(cell), self.max_width)
                    })
                    .collect()
            })
            .collect();
        let widths: Vec<usize> = self
            .headers
            .iter()
            .enumerate()
            .map(|(i, (h, _))| {
                cells
                    .iter()
                    .map(|r| r[i].chars().count())
                    .chain(std::iter::once(h.chars().count()))
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let line = |f: &mut std::fmt::Formatter<'_>, row: &[String]| -> std::fmt::Result {
            let mut out = String::new();
            for (i, ((_, align), cell)) in self.headers.iter().zip(row).enumerate() {
                let pad = widths[i] - cell.chars().count();
                let last = i + 1 == row.len();
                if i > 0 {
                    out.push_str("  ");
                }
                match align {
                    Align::Right => {
                        out.push_str(&" ".repeat(pad));
                        out.push_str(cell);
                    }
                    Align::Left => {
                        out.push_str(cell);
                        if !last {
                            out.push_str(&" ".repeat(pad));
                        }
                    }
                }
            }
            writeln!(f, "{}", out.trim_end())
        };
        let header: Vec<String> = self.headers.iter().map(|(h, _)| h.clone()).collect();
        line(f, &header)?;
        for row in &cells {
            line(f, row)?;
        }
        Ok(())
    }
}

/// `1234567` as `1,234,567`.
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

/// A cost in USD for a table: `$12.35` from a dollar up, four significant
/// digits below (`$0.004215`), blank when unknown (never `$0`
/// standing in for a price nobody knows).
pub fn usd(cost: Option<f64>) -> String {
    match cost {
        None => String::new(),
        Some(0.0) => "$0".to_owned(),
        Some(c) if c.abs() >= 1.0 => {
            let cents = (c * 100.0).round() as i64;
            format!("${}.{:02}", thousands(cents / 100), (cents % 100).abs())
        }
        Some(c) => {
            // Four significant digits: enough to tell calls apart.
            let decimals = (3 - c.abs().log10().floor() as i32).clamp(2, 12) as usize;
            let text = format!("{c:.decimals$}");
            format!("${}", text.trim_end_matches('0').trim_end_matches('.'))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn costs() {
        assert_eq!(usd(None), "");
        assert_eq!(usd(Some(0.0)), "$0");
        assert_eq!(usd(Some(1234.5)), "$1,234.50");
        assert_eq!(usd(Some(0.00421549)), "$0.004215");
        assert_eq!(usd(Some(0.12)), "$0.12");
        assert_eq!(usd(Some(0.000_000_15)), "$0.00000015");
    }

    #[test]
    fn numbers_and_truncation() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(thousands(-1000), "-1,000");
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abc", 4), "abc");
    }

    #[test]
    fn escapes_cannot_be_forged() {
        assert_eq!(terminal_safe("a\\u{1b}"), "a\\\\u{1b}");
        assert_ne!(terminal_safe("a\\u{1b}"), terminal_safe("a\u{1b}"));
        assert_eq!(terminal_safe("\u{202e}evil"), "\\u{202e}evil");
        assert_eq!(terminal_safe("é ü 日本"), "é ü 日本");
    }

    proptest::proptest! {
        /// Whatever a sender stores as an end-user id or a name, a table
        /// row prints as exactly one line, with no control character.
        #[test]
        fn any_stored_text_prints_as_one_safe_line(user in proptest::prelude::any::<String>(), name in "(\\PC|[\\x00-\\x1f\\x7f\\u{80}-\\u{9f}\\u{2028}\\u{202e}])*") {
            let mut t = Table::new(&[("END-USER", Align::Left), ("NAME", Align::Left), ("N", Align::Right)]);
            t.row(vec![user, name, "1".into()]);
            let out = t.to_string();
            proptest::prop_assert_eq!(out.matches('\n').count(), 2, "header and one row: {:?}", out);
            let body = out.replace('\n', "");
            proptest::prop_assert!(!body.chars().any(|c| c.is_control() || ('\u{2028}'..='\u{202e}').contains(&c)), "{:?}", out);
        }
    }
}
