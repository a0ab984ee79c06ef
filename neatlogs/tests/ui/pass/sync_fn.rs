// A plain sync function, with and without a return value, as root and child.

#[neatlogs::span(kind = "WORKFLOW")]
fn handle(query: &str) -> usize {
    search(query).len()
}

#[neatlogs::span(kind = "TOOL")]
fn search(query: &str) -> Vec<String> {
    vec![query.to_owned()]
}

#[neatlogs::span]
fn no_kind_no_return() {}

fn main() {
    let (n, spans) = neatlogs::testing::with_capture(|| {
        no_kind_no_return();
        handle("refunds")
    });
    assert_eq!(n, 1);
    let names: Vec<&str> = spans.iter().map(|s| s.name()).collect();
    assert_eq!(names, ["no_kind_no_return", "search", "handle"]);
    assert_eq!(spans[0].kind(), neatlogs::SpanKind::Chain);
}
