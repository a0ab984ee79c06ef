//! The wire contract has one source: the macro's kind list and the SDK's
//! `SpanKind` agree, and every key the SDK writes comes from `neatlogs::wire`.

use neatlogs::SpanKind;

mod macro_kinds {
    // The macro crate's own list, compiled here as it is there.
    include!("../../neatlogs-macros/src/kinds.rs");
}

#[test]
fn macro_kind_list_matches_span_kind() {
    let from_sdk: Vec<(String, String)> = SpanKind::ALL
        .iter()
        .map(|k| (k.as_str().to_owned(), format!("{k:?}")))
        .collect();
    let from_macro: Vec<(String, String)> = macro_kinds::KINDS
        .iter()
        .map(|(wire, variant)| ((*wire).to_owned(), (*variant).to_owned()))
        .collect();
    assert_eq!(from_macro, from_sdk);
}

#[test]
fn every_kind_parses_back_from_its_wire_name() {
    for (wire, _) in macro_kinds::KINDS {
        let kind: SpanKind = wire.parse().expect("a macro kind is a SpanKind");
        assert_eq!(kind.as_str(), wire);
        assert_eq!(kind.as_lower_str(), wire.to_lowercase());
    }
}
