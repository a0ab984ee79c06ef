#[neatlogs::span(kind = "TOOL")]
const fn limit() -> usize {
    10
}

fn main() {
    let _ = limit();
}
