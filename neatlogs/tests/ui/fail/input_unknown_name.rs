#[neatlogs::span(input = qurey)]
fn search(query: &str) -> usize {
    query.len()
}

fn main() {
    search("q");
}
