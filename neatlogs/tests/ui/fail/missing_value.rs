#[neatlogs::span(kind = "WORKFLOW", end_user_id =)]
fn handle() {}

#[neatlogs::span(tags)]
fn tagged() {}

fn main() {
    handle();
    tagged();
}
