//! Property tests: the parser never panics, whatever it is given, and
//! whatever it accepts compiles to SQL with one parameter per placeholder
//! and survives a round trip through its canonical form; run against a
//! store, each text operator matches what the same test on Rust strings
//! does, NUL and multi-byte characters included.

mod common;

use common::filters::{check as check_store, store_with};
use neatlogs_cli::filter::parse;
use proptest::prelude::*;

/// Words that make the parser go down its interesting paths.
fn token() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("end_user".to_owned()),
        Just("session".to_owned()),
        Just("status".to_owned()),
        Just("metadata:plan".to_owned()),
        Just("metadata:".to_owned()),
        Just("metadata:a..b".to_owned()),
        Just("is".to_owned()),
        Just("not".to_owned()),
        Just("any".to_owned()),
        Just("none".to_owned()),
        Just("of".to_owned()),
        Just("set".to_owned()),
        Just("contains".to_owned()),
        Just("does".to_owned()),
        Just("contain".to_owned()),
        Just("starts".to_owned()),
        Just("ends".to_owned()),
        Just("with".to_owned()),
        Just("and".to_owned()),
        Just("or".to_owned()),
        Just(",".to_owned()),
        Just("\"".to_owned()),
        Just("\\".to_owned()),
        Just("ok".to_owned()),
        "[a-z_0-9]{0,6}",
        "\"[^\"]{0,6}\"",
        "\\PC{1,3}",
    ]
}

fn check(input: &str) {
    if let Ok(filter) = parse(input) {
        let sql = filter.to_sql();
        assert_eq!(sql.sql.matches('?').count(), sql.params.len(), "{input:?}");
        let canonical = filter.to_string();
        assert_eq!(
            parse(&canonical).as_ref(),
            Ok(&filter),
            "{input:?} -> {canonical:?}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn never_panics_on_arbitrary_text(input in "\\PC{0,80}") {
        check(&input);
    }

    #[test]
    fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
        check(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn never_panics_on_keyword_soup(tokens in proptest::collection::vec(token(), 0..12)) {
        check(&tokens.join(" "));
        check(&tokens.concat());
    }

    #[test]
    fn error_columns_are_inside_or_just_past_the_input(input in "\\PC{0,60}") {
        if let Err(e) = parse(&input) {
            prop_assert!(e.column >= 1);
            prop_assert!(e.column <= input.chars().count() + 1, "{:?}: {}", input, e);
            prop_assert!(e.message.contains(&format!("column {}", e.column)), "{}", e);
        }
    }
}

/// Short text from an alphabet that makes SQLite's text functions differ
/// from byte comparisons: NUL and a two-byte character.
fn nul_text(min: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![Just('a'), Just('_'), Just('\0'), Just('é')],
        min..5,
    )
    .prop_map(String::from_iter)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn text_operators_match_exactly_on_values_with_nul(
        // An empty id counts as no end-user, so ids have at least one character.
        ids in proptest::collection::vec(nul_text(1), 1..6),
        patterns in proptest::collection::vec(nul_text(0), 1..4),
    ) {
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        let patterns: Vec<&str> = patterns.iter().map(String::as_str).collect();
        check_store(&store_with(&ids), &ids, &patterns);
    }
}
