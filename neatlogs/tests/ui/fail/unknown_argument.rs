#[neatlogs::span(kind = "WORKFLOW", end_user = user_id)]
fn handle(user_id: &str) -> usize {
    user_id.len()
}

#[neatlogs::span(kind = "TOOL", level = "info")]
fn search() {}

fn main() {
    handle("u_1");
    search();
}
