//! Parsing the arguments of `#[neatlogs::span(...)]`.
//!
//! One `Parse` impl per argument group; [`SpanArgs`] drives them and owns the
//! rules that span groups (no duplicates, unknown names). Every error points at
//! the user's own token and says what to write instead.

use proc_macro2::Span;
use quote::ToTokens;
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{bracketed, Expr, ExprLit, Ident, Lit, LitStr, Path, Token};

/// The argument names, as keywords (`crate` is a Rust keyword: `Token![crate]`).
pub(crate) mod kw {
    syn::custom_keyword!(kind);
    syn::custom_keyword!(name);
    syn::custom_keyword!(end_user_id);
    syn::custom_keyword!(end_user_metadata);
    syn::custom_keyword!(session_id);
    syn::custom_keyword!(tags);
    syn::custom_keyword!(skip);
    syn::custom_keyword!(skip_all);
    syn::custom_keyword!(skip_output);
    syn::custom_keyword!(input);
}

/// Every argument, in the order the docs list them.
pub(crate) const ARGUMENTS: [&str; 11] = [
    "kind",
    "name",
    "end_user_id",
    "end_user_metadata",
    "session_id",
    "tags",
    "skip",
    "skip_all",
    "input",
    "skip_output",
    "crate",
];

pub(crate) use crate::kinds::KINDS;

/// The kind used when `kind` is not given: a plain step.
pub(crate) const DEFAULT_KIND: &str = "Chain";

/// Everything given to `#[neatlogs::span(...)]`.
#[derive(Default)]
pub(crate) struct SpanArgs {
    pub(crate) kind: Option<KindArg>,
    pub(crate) name: Option<NameArg>,
    pub(crate) end_user_id: Option<ExprArg>,
    pub(crate) end_user_metadata: Option<ExprArg>,
    pub(crate) session_id: Option<ExprArg>,
    pub(crate) tags: Option<TagsArg>,
    pub(crate) skip: Option<SkipArg>,
    pub(crate) skip_all: Option<Span>,
    pub(crate) input: Option<ExprArg>,
    pub(crate) skip_output: Option<Span>,
    pub(crate) krate: Option<CrateArg>,
}

impl SpanArgs {
    /// Whether any root-only value (identity or tags) was given.
    pub(crate) fn has_root_values(&self) -> bool {
        self.end_user_id.is_some()
            || self.end_user_metadata.is_some()
            || self.session_id.is_some()
            || self.tags.as_ref().is_some_and(|t| !t.tags.is_empty())
    }
}

impl Parse for SpanArgs {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut args = SpanArgs::default();
        while !input.is_empty() {
            let lookahead = input.lookahead1();
            if lookahead.peek(kw::kind) {
                let arg: KindArg = input.parse()?;
                set_once(&mut args.kind, arg, "kind", |a| a.keyword)?;
            } else if lookahead.peek(kw::name) {
                let arg: NameArg = input.parse()?;
                set_once(&mut args.name, arg, "name", |a| a.keyword)?;
            } else if lookahead.peek(kw::end_user_id) {
                let arg = ExprArg::parse_after::<kw::end_user_id>(input, "end_user_id")?;
                set_once(&mut args.end_user_id, arg, "end_user_id", |a| a.keyword)?;
            } else if lookahead.peek(kw::end_user_metadata) {
                let arg =
                    ExprArg::parse_after::<kw::end_user_metadata>(input, "end_user_metadata")?;
                set_once(&mut args.end_user_metadata, arg, "end_user_metadata", |a| {
                    a.keyword
                })?;
            } else if lookahead.peek(kw::session_id) {
                let arg = ExprArg::parse_after::<kw::session_id>(input, "session_id")?;
                set_once(&mut args.session_id, arg, "session_id", |a| a.keyword)?;
            } else if lookahead.peek(kw::tags) {
                let arg: TagsArg = input.parse()?;
                set_once(&mut args.tags, arg, "tags", |a| a.keyword)?;
            } else if lookahead.peek(kw::skip_all) {
                let keyword: kw::skip_all = input.parse()?;
                no_value(input, "skip_all")?;
                set_once(&mut args.skip_all, keyword.span, "skip_all", |s| *s)?;
            } else if lookahead.peek(kw::skip_output) {
                let keyword: kw::skip_output = input.parse()?;
                no_value(input, "skip_output")?;
                set_once(&mut args.skip_output, keyword.span, "skip_output", |s| *s)?;
            } else if lookahead.peek(kw::skip) {
                let arg: SkipArg = input.parse()?;
                set_once(&mut args.skip, arg, "skip", |a| a.keyword)?;
            } else if lookahead.peek(kw::input) {
                let arg = ExprArg::parse_after::<kw::input>(input, "input")?;
                set_once(&mut args.input, arg, "input", |a| a.keyword)?;
            } else if lookahead.peek(Token![crate]) {
                let arg: CrateArg = input.parse()?;
                set_once(&mut args.krate, arg, "crate", |a| a.keyword)?;
            } else if input.peek(Ident::peek_any) {
                let unknown = Ident::parse_any(input)?;
                return Err(unknown_argument(&unknown));
            } else {
                return Err(syn::Error::new(
                    input.span(),
                    format!(
                        "expected an argument such as `kind = \"TOOL\"`; the arguments are: {}",
                        ARGUMENTS.join(", ")
                    ),
                ));
            }
            if input.is_empty() {
                break;
            }
            if !input.peek(Token![,]) {
                return Err(syn::Error::new(
                    input.span(),
                    "expected `,` between arguments, as in `kind = \"TOOL\", name = \"search\"`",
                ));
            }
            input.parse::<Token![,]>()?;
        }
        args.check_input_choice()?;
        Ok(args)
    }
}

impl SpanArgs {
    /// `input = ..` replaces the arguments as the input; `skip_all` drops
    /// them: they cannot be combined with each other or with `skip(..)`.
    fn check_input_choice(&self) -> syn::Result<()> {
        let conflict = |span: Span, msg: &str| Err(syn::Error::new(span, msg.to_owned()));
        match (&self.input, &self.skip_all, &self.skip) {
            (Some(input), Some(_), _) => conflict(
                input.keyword,
                "`input = ..` and `skip_all` contradict each other: `input` records this \
                 expression as the input, `skip_all` records no input; keep one",
            ),
            (Some(input), None, Some(_)) => conflict(
                input.keyword,
                "`input = ..` replaces the arguments as the input, so `skip(..)` has nothing \
                 to skip; remove `skip(..)`",
            ),
            (None, Some(_), Some(skip)) => conflict(
                skip.keyword,
                "`skip_all` already skips every argument; remove `skip(..)`",
            ),
            _ => Ok(()),
        }
    }
}

/// A flag argument (`skip_all`) must not be given a value.
fn no_value(input: ParseStream<'_>, name: &str) -> syn::Result<()> {
    if input.peek(Token![=]) || input.peek(syn::token::Paren) {
        return Err(syn::Error::new(
            input.span(),
            format!("`{name}` takes no value: write `{name}` alone"),
        ));
    }
    Ok(())
}

/// `skip(a, b)`: arguments left out of the captured input.
pub(crate) struct SkipArg {
    pub(crate) keyword: Span,
    pub(crate) names: Vec<Ident>,
}

impl Parse for SkipArg {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let keyword: kw::skip = input.parse()?;
        if !input.peek(syn::token::Paren) {
            return Err(syn::Error::new(
                keyword.span,
                "`skip` takes the arguments to leave out of the input, in parentheses: \
                 write `skip(password, client)` (or `skip_all`)",
            ));
        }
        let content;
        syn::parenthesized!(content in input);
        let names =
            Punctuated::<Ident, Token![,]>::parse_terminated_with(&content, Ident::parse_any)?;
        if names.is_empty() {
            return Err(syn::Error::new(
                keyword.span,
                "`skip()` names no argument: write `skip(password)`, or remove it",
            ));
        }
        Ok(SkipArg {
            keyword: keyword.span,
            names: names.into_iter().collect(),
        })
    }
}

/// Store an argument, or point at its second occurrence.
fn set_once<T>(
    slot: &mut Option<T>,
    arg: T,
    name: &str,
    keyword: impl Fn(&T) -> Span,
) -> syn::Result<()> {
    if slot.is_some() {
        return Err(syn::Error::new(
            keyword(&arg),
            format!("`{name}` is given twice; keep one of them"),
        ));
    }
    *slot = Some(arg);
    Ok(())
}

fn unknown_argument(unknown: &Ident) -> syn::Error {
    let written = unknown.unraw().to_string();
    let hint = match nearest(&written, &ARGUMENTS) {
        Some(best) => format!(": did you mean `{best}`?"),
        None => String::new(),
    };
    syn::Error::new(
        unknown.span(),
        format!(
            "unknown argument `{written}`{hint} (the arguments are: {})",
            ARGUMENTS.join(", ")
        ),
    )
}

/// Parse the `= ` after an argument name, or explain that it is missing.
fn parse_eq(input: ParseStream<'_>, keyword: &dyn ToTokens, example: &str) -> syn::Result<()> {
    if input.peek(Token![=]) {
        let eq: Token![=] = input.parse()?;
        if input.is_empty() || input.peek(Token![,]) {
            return Err(syn::Error::new_spanned(
                quote::quote!(#keyword #eq),
                format!("missing value: write `{example}`"),
            ));
        }
        Ok(())
    } else {
        Err(syn::Error::new_spanned(
            keyword,
            format!("expected `=` after this argument: write `{example}`"),
        ))
    }
}

/// `kind = "TOOL"`
pub(crate) struct KindArg {
    pub(crate) keyword: Span,
    /// The `SpanKind` variant, spanned at the user's literal.
    pub(crate) variant: Ident,
}

impl Parse for KindArg {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let keyword: kw::kind = input.parse()?;
        parse_eq(input, &keyword, "kind = \"WORKFLOW\"")?;
        let value: Expr = input.parse()?;
        let lit = match &value {
            Expr::Lit(ExprLit {
                lit: Lit::Str(lit), ..
            }) => lit.clone(),
            other => return Err(kind_not_literal(other)),
        };
        let written = lit.value();
        match KINDS.iter().find(|(k, _)| *k == written) {
            Some((_, variant)) => Ok(KindArg {
                keyword: keyword.span,
                variant: Ident::new(variant, lit.span()),
            }),
            None => Err(unknown_kind(&lit)),
        }
    }
}

fn kind_names() -> String {
    KINDS
        .iter()
        .map(|(k, _)| format!("\"{k}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

fn unknown_kind(lit: &LitStr) -> syn::Error {
    let written = lit.value();
    let hint = match nearest_kind(&written) {
        Some(best) => format!(": did you mean \"{best}\"?"),
        None => String::new(),
    };
    syn::Error::new(
        lit.span(),
        format!(
            "unknown span kind \"{written}\"{hint} (the kinds are: {})",
            kind_names()
        ),
    )
}

fn kind_not_literal(value: &Expr) -> syn::Error {
    // `kind = TOOL` or `kind = SpanKind::McpTool`: say which literal to write.
    let guess = match value {
        Expr::Path(p) => p
            .path
            .segments
            .last()
            .and_then(|s| nearest_kind(&s.ident.unraw().to_string())),
        _ => None,
    };
    let fix = match guess {
        Some(kind) => format!("write `kind = \"{kind}\"`"),
        None => format!("write `kind = \"WORKFLOW\"` (one of {})", kind_names()),
    };
    syn::Error::new_spanned(value, format!("`kind` takes a string literal: {fix}"))
}

/// The kind a user most likely meant: same letters ignoring case and `_`
/// first (`"tool"`, `McpTool`), then the nearest by edit distance.
fn nearest_kind(written: &str) -> Option<&'static str> {
    let squash = |s: &str| s.replace('_', "").to_ascii_uppercase();
    let kinds: Vec<&'static str> = KINDS.iter().map(|(k, _)| *k).collect();
    kinds
        .iter()
        .find(|k| squash(k) == squash(written))
        .copied()
        .or_else(|| nearest(&written.to_ascii_uppercase(), &kinds))
}

/// `name = "search"`
pub(crate) struct NameArg {
    pub(crate) keyword: Span,
    pub(crate) value: LitStr,
}

impl Parse for NameArg {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let keyword: kw::name = input.parse()?;
        parse_eq(input, &keyword, "name = \"search\"")?;
        let value: Expr = input.parse()?;
        match value {
            Expr::Lit(ExprLit {
                lit: Lit::Str(value),
                ..
            }) => Ok(NameArg {
                keyword: keyword.span,
                value,
            }),
            other => Err(syn::Error::new_spanned(
                other,
                "`name` takes a string literal, as in `name = \"search\"`; the default is the function's name",
            )),
        }
    }
}

/// `end_user_id = expr`, `end_user_metadata = expr`, `session_id = expr`
pub(crate) struct ExprArg {
    pub(crate) keyword: Span,
    pub(crate) value: Expr,
}

impl ExprArg {
    fn parse_after<K: Parse + ToTokens>(input: ParseStream<'_>, name: &str) -> syn::Result<Self> {
        let keyword: K = input.parse()?;
        let example = match name {
            "end_user_metadata" => "end_user_metadata = json!({ \"plan\": plan })".to_owned(),
            "input" => "input = json!({ \"question\": question })".to_owned(),
            _ => format!("{name} = request.user_id"),
        };
        parse_eq(input, &keyword, &example)?;
        Ok(ExprArg {
            keyword: keyword.span(),
            value: input.parse()?,
        })
    }
}

/// `tags = ["beta", plan]`
pub(crate) struct TagsArg {
    pub(crate) keyword: Span,
    pub(crate) tags: Vec<Expr>,
}

impl Parse for TagsArg {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let keyword: kw::tags = input.parse()?;
        parse_eq(input, &keyword, "tags = [\"beta\"]")?;
        if !input.peek(syn::token::Bracket) {
            let value: Expr = input.parse()?;
            return Err(syn::Error::new_spanned(
                &value,
                format!(
                    "`tags` takes a list in brackets: write `tags = [{}]`",
                    value.to_token_stream()
                ),
            ));
        }
        let content;
        bracketed!(content in input);
        let tags = Punctuated::<Expr, Token![,]>::parse_terminated(&content)?;
        Ok(TagsArg {
            keyword: keyword.span,
            tags: tags.into_iter().collect(),
        })
    }
}

/// `crate = path::to::neatlogs`, for crates that re-export `neatlogs`.
pub(crate) struct CrateArg {
    pub(crate) keyword: Span,
    pub(crate) path: Path,
}

impl Parse for CrateArg {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let keyword: Token![crate] = input.parse()?;
        parse_eq(input, &keyword, "crate = my_sdk::neatlogs")?;
        let path = input.call(Path::parse_mod_style).map_err(|e| {
            syn::Error::new(
                e.span(),
                "`crate` takes the path under which `neatlogs` is reachable, as in `crate = my_sdk::neatlogs`",
            )
        })?;
        Ok(CrateArg {
            keyword: keyword.span,
            path,
        })
    }
}

/// The candidate closest to `written`: one that contains it or is contained
/// in it (`end_user` → `end_user_id`), else the nearest by edit distance
/// when that distance is small for the word's length.
pub(crate) fn nearest<'a>(written: &str, candidates: &[&'a str]) -> Option<&'a str> {
    if written.len() >= 3 {
        let by_containment = candidates
            .iter()
            .filter(|c| c.contains(written) || written.contains(**c))
            .min_by_key(|c| c.len().abs_diff(written.len()));
        if let Some(best) = by_containment {
            return Some(best);
        }
    }
    let limit = (written.chars().count() / 3).max(2);
    candidates
        .iter()
        .map(|c| (edit_distance(written, c), *c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Levenshtein distance, by characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = if ca == *cb {
                diagonal
            } else {
                1 + diagonal.min(above).min(row[j])
            };
            diagonal = above;
        }
    }
    row[b.len()]
}

/// What the user wrote for an argument, for tests.
#[cfg(test)]
fn sample(name: &str) -> &'static str {
    match name {
        "kind" => "kind = \"TOOL\"",
        "name" => "name = \"search\"",
        "end_user_id" => "end_user_id = user.id",
        "end_user_metadata" => "end_user_metadata = json!({ \"plan\": plan })",
        "session_id" => "session_id = session",
        "tags" => "tags = [\"beta\", plan]",
        "skip" => "skip(password)",
        "skip_all" => "skip_all",
        "input" => "input = question",
        "skip_output" => "skip_output",
        "crate" => "crate = my_sdk::neatlogs",
        other => panic!("no sample for {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> syn::Result<SpanArgs> {
        syn::parse_str::<SpanArgs>(s)
    }

    fn given(args: &SpanArgs) -> Vec<&'static str> {
        let mut out = Vec::new();
        if args.kind.is_some() {
            out.push("kind");
        }
        if args.name.is_some() {
            out.push("name");
        }
        if args.end_user_id.is_some() {
            out.push("end_user_id");
        }
        if args.end_user_metadata.is_some() {
            out.push("end_user_metadata");
        }
        if args.session_id.is_some() {
            out.push("session_id");
        }
        if args.tags.is_some() {
            out.push("tags");
        }
        if args.skip.is_some() {
            out.push("skip");
        }
        if args.skip_all.is_some() {
            out.push("skip_all");
        }
        if args.input.is_some() {
            out.push("input");
        }
        if args.skip_output.is_some() {
            out.push("skip_output");
        }
        if args.krate.is_some() {
            out.push("crate");
        }
        out
    }

    /// `skip`, `skip_all` and `input` exclude each other.
    fn compatible(a: &str, b: &str) -> bool {
        let choice = ["skip", "skip_all", "input"];
        !(choice.contains(&a) && choice.contains(&b))
    }

    // tracing-attributes once checked duplicates against the wrong field, so
    // that only some pairs were caught: check every ordered pair.
    #[test]
    fn every_pair_of_distinct_arguments_is_accepted_and_lands_in_its_own_field() {
        for a in ARGUMENTS {
            for b in ARGUMENTS {
                if a == b {
                    continue;
                }
                let src = format!("{}, {}", sample(a), sample(b));
                if !compatible(a, b) {
                    assert!(parse(&src).is_err(), "{src} parsed");
                    continue;
                }
                let args = parse(&src).unwrap_or_else(|e| panic!("{src}: {e}"));
                let mut want = vec![a, b];
                want.sort_by_key(|n| ARGUMENTS.iter().position(|x| x == n));
                assert_eq!(given(&args), want, "{src}");
            }
        }
    }

    #[test]
    fn every_argument_given_twice_is_an_error_naming_it() {
        for a in ARGUMENTS {
            for between in ARGUMENTS.iter().filter(|b| **b != a) {
                let src = format!("{}, {}, {}", sample(a), sample(between), sample(a));
                let err = parse(&src).err().unwrap_or_else(|| panic!("{src} parsed"));
                assert_eq!(
                    err.to_string(),
                    format!("`{a}` is given twice; keep one of them"),
                    "{src}"
                );
            }
        }
    }

    #[test]
    fn all_compatible_arguments_together() {
        let all: Vec<&str> = ARGUMENTS
            .into_iter()
            .filter(|a| !["skip_all", "input"].contains(a))
            .collect();
        let src = all.iter().map(|a| sample(a)).collect::<Vec<_>>().join(", ") + ",";
        assert_eq!(given(&parse(&src).unwrap()), all);
    }

    #[test]
    fn input_choices_exclude_each_other() {
        let msg = |s: &str| parse(s).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(msg("skip_all, input = q").contains("contradict"));
        assert!(msg("skip(a), input = q").contains("nothing"));
        assert!(msg("skip_all, skip(a)").contains("already skips"));
        assert!(msg("skip").contains("in parentheses"));
        assert!(msg("skip()").contains("names no argument"));
        assert!(msg("skip_all = true").contains("takes no value"));
        assert!(msg("skip_output(x)").contains("takes no value"));
    }

    #[test]
    fn suggestions() {
        assert_eq!(nearest("end_user", &ARGUMENTS), Some("end_user_id"));
        assert_eq!(nearest("metadata", &ARGUMENTS), Some("end_user_metadata"));
        assert_eq!(nearest("session", &ARGUMENTS), Some("session_id"));
        assert_eq!(nearest("knd", &ARGUMENTS), Some("kind"));
        assert_eq!(nearest("level", &ARGUMENTS), None);
        assert_eq!(nearest_kind("WORKFLOWW"), Some("WORKFLOW"));
        assert_eq!(nearest_kind("tool"), Some("TOOL"));
        assert_eq!(nearest_kind("McpTool"), Some("MCP_TOOL"));
        assert_eq!(nearest_kind("RETRIVER"), Some("RETRIEVER"));
        assert_eq!(nearest_kind("DATABASE"), None);
    }

    #[test]
    fn messages() {
        let msg = |s: &str| parse(s).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(msg("kind = \"WORKFLOWW\"").contains("did you mean \"WORKFLOW\"?"));
        assert!(msg("kind = TOOL").contains("write `kind = \"TOOL\"`"));
        assert!(msg("kind =").starts_with("missing value"));
        assert!(msg("kind = , name = \"x\"").starts_with("missing value"));
        assert!(msg("kind \"TOOL\"").starts_with("expected `=`"));
        assert!(msg("end_user = x").contains("did you mean `end_user_id`?"));
        assert!(msg("tags = \"a\"").contains("tags = [\"a\"]"));
        assert!(msg("kind = \"TOOL\" name = \"x\"").starts_with("expected `,`"));
    }
}
