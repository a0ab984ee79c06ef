// `neatlogs::span` is both the attribute macro and the function: one `use`
// brings both, and each is found in its own namespace.

use neatlogs::span;

#[span(kind = "TOOL")]
fn decorated() -> u8 {
    let _guard = span(neatlogs::SpanKind::Llm, "inside").enter();
    1
}

#[neatlogs::span(kind = "WORKFLOW")]
fn fully_qualified() -> u8 {
    let _guard = neatlogs::span(neatlogs::SpanKind::Tool, "inside").enter();
    decorated()
}

fn main() {
    let (v, spans) = neatlogs::testing::with_capture(fully_qualified);
    assert_eq!(v, 1);
    let names: Vec<&str> = spans.iter().map(|s| s.name()).collect();
    assert_eq!(names, ["inside", "decorated", "inside", "fully_qualified"]);
}
