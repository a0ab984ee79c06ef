#[neatlogs::span(kind =)]
fn handle() {}

#[neatlogs::span(kind = , name = "x")]
fn other() {}

fn main() {
    handle();
    other();
}
