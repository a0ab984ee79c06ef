// `session_id` given twice is an error at the second one, whether the two are
// next to each other or apart.

#[neatlogs::span(session_id = "s_1", session_id = "s_2")]
fn adjacent(user: &str) -> usize {
    user.len()
}

#[neatlogs::span(session_id = "s_1", tags = ["t"], session_id = "s_2")]
fn apart(user: &str) -> usize {
    user.len()
}

fn main() {
    adjacent("u_1");
    apart("u_1");
}
