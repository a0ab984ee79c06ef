// `end_user_id` given twice is an error at the second one, whether the two are
// next to each other or apart.

#[neatlogs::span(end_user_id = user, end_user_id = "u_2")]
fn adjacent(user: &str) -> usize {
    user.len()
}

#[neatlogs::span(end_user_id = user, session_id = "s", end_user_id = "u_2")]
fn apart(user: &str) -> usize {
    user.len()
}

fn main() {
    adjacent("u_1");
    apart("u_1");
}
