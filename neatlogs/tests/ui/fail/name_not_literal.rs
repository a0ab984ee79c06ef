const NAME: &str = "search";

#[neatlogs::span(kind = "TOOL", name = NAME)]
fn search() {}

fn main() {
    search();
}
