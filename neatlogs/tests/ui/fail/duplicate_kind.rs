// `kind` given twice is an error at the second one, whether the two are
// next to each other or apart.

#[neatlogs::span(kind = "TOOL", kind = "LLM")]
fn adjacent(user: &str) -> usize {
    user.len()
}

#[neatlogs::span(kind = "TOOL", name = "x", kind = "LLM")]
fn apart(user: &str) -> usize {
    user.len()
}

fn main() {
    adjacent("u_1");
    apart("u_1");
}
