#[neatlogs::span(kind = "TOOL")]
const LIMIT: usize = 10;

fn main() {
    let _ = LIMIT;
}
