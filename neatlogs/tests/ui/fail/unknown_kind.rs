#[neatlogs::span(kind = "WORKFLOWW")]
fn handle() {}

fn main() {
    handle();
}
