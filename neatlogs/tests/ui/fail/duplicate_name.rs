// `name` given twice is an error at the second one, whether the two are
// next to each other or apart.

#[neatlogs::span(name = "a", name = "b")]
fn adjacent(user: &str) -> usize {
    user.len()
}

#[neatlogs::span(name = "a", kind = "TOOL", name = "b")]
fn apart(user: &str) -> usize {
    user.len()
}

fn main() {
    adjacent("u_1");
    apart("u_1");
}
