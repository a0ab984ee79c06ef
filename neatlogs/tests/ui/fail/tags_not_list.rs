#[neatlogs::span(kind = "TOOL", tags = "beta")]
fn search() {}

fn main() {
    search();
}
