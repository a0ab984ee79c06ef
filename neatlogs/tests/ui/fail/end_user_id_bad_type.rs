struct User {
    id: u64,
}

#[neatlogs::span(kind = "WORKFLOW", end_user_id = user)]
fn handle(user: &User) -> u64 {
    user.id
}

#[neatlogs::span(kind = "WORKFLOW", end_user_id = score)]
fn rank(score: f64) -> f64 {
    score
}

fn main() {
    handle(&User { id: 1 });
    rank(1.0);
}
