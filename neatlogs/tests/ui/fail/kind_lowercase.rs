#[neatlogs::span(kind = "tool")]
fn search() {}

fn main() {
    search();
}
