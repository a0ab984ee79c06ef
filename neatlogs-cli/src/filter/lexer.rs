//! Splits a filter into words, quoted values and commas, remembering the
//! column (1-based, in characters) where each one starts.

use super::FilterError;

/// What a token is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TokenKind {
    /// A bare word: a field, a keyword or an unquoted value.
    Word(String),
    /// A double-quoted value, with `\"` and `\\` unescaped.
    Quoted(String),
    /// The `,` between the values of `is any of` / `is none of`.
    Comma,
}

/// One token and where it sits in the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
    pub(crate) kind: TokenKind,
    /// Column of the first character.
    pub(crate) column: usize,
    /// Column just past the last character.
    pub(crate) end: usize,
}

impl Token {
    /// The token as the user wrote it, for error messages.
    pub(crate) fn shown(&self) -> String {
        match &self.kind {
            TokenKind::Word(w) => format!("`{w}`"),
            TokenKind::Quoted(q) => format!("`\"{q}\"`"),
            TokenKind::Comma => "`,`".to_owned(),
        }
    }
}

/// Splits `input` into tokens. The only lexical error is an unterminated
/// quoted value.
pub(crate) fn tokenize(input: &str) -> Result<Vec<Token>, FilterError> {
    let mut tokens = Vec::new();
    let mut chars = input.chars().peekable();
    let mut column = 1;
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            column += 1;
        } else if c == ',' {
            chars.next();
            tokens.push(Token {
                kind: TokenKind::Comma,
                column,
                end: column + 1,
            });
            column += 1;
        } else if c == '"' {
            let start = column;
            chars.next();
            column += 1;
            let mut value = String::new();
            let mut closed = false;
            while let Some(c) = chars.next() {
                column += 1;
                match c {
                    '"' => {
                        closed = true;
                        break;
                    }
                    '\\' => {
                        if let Some(escaped) = chars.next() {
                            column += 1;
                            value.push(escaped);
                        }
                    }
                    other => value.push(other),
                }
            }
            if !closed {
                return Err(FilterError::new(
                    start,
                    format!(
                        "unterminated quoted value starting at column {start}: add the closing `\"`"
                    ),
                ));
            }
            tokens.push(Token {
                kind: TokenKind::Quoted(value),
                column: start,
                end: column,
            });
        } else {
            let start = column;
            let mut word = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() || c == ',' || c == '"' {
                    break;
                }
                word.push(c);
                chars.next();
                column += 1;
            }
            tokens.push(Token {
                kind: TokenKind::Word(word),
                column: start,
                end: column,
            });
        }
    }
    Ok(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(input: &str) -> Vec<TokenKind> {
        tokenize(input)
            .unwrap()
            .into_iter()
            .map(|t| t.kind)
            .collect()
    }

    #[test]
    fn words_quotes_and_commas() {
        assert_eq!(
            kinds(r#"name is any of a,"b c" , d"#),
            vec![
                TokenKind::Word("name".into()),
                TokenKind::Word("is".into()),
                TokenKind::Word("any".into()),
                TokenKind::Word("of".into()),
                TokenKind::Word("a".into()),
                TokenKind::Comma,
                TokenKind::Quoted("b c".into()),
                TokenKind::Comma,
                TokenKind::Word("d".into()),
            ]
        );
    }

    #[test]
    fn escapes_inside_quotes() {
        assert_eq!(
            kinds(r#""say \"hi\" \\ ok""#),
            vec![TokenKind::Quoted(r#"say "hi" \ ok"#.into())]
        );
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        let tokens = tokenize("é is x").unwrap();
        assert_eq!(tokens[0].column, 1);
        assert_eq!(tokens[1].column, 3);
        assert_eq!(tokens[2].column, 6);
    }

    #[test]
    fn adjacent_quote_after_metadata_prefix() {
        let tokens = tokenize(r#"metadata:"a b" is x"#).unwrap();
        assert_eq!(tokens[0].end, tokens[1].column);
    }

    #[test]
    fn unterminated_quote_is_an_error() {
        let err = tokenize(r#"name is "abc"#).unwrap_err();
        assert_eq!(err.column, 9);
    }
}
