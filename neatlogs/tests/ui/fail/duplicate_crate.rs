// `crate` given twice is an error at the second one, whether the two are
// next to each other or apart.

#[neatlogs::span(crate = ::neatlogs, crate = neatlogs)]
fn adjacent(user: &str) -> usize {
    user.len()
}

#[neatlogs::span(crate = ::neatlogs, end_user_metadata = serde_json::json!({}), crate = neatlogs)]
fn apart(user: &str) -> usize {
    user.len()
}

fn main() {
    adjacent("u_1");
    apart("u_1");
}
