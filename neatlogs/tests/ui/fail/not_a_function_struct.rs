#[neatlogs::span(kind = "TOOL")]
struct Search {
    query: String,
}

fn main() {
    let s = Search {
        query: String::new(),
    };
    let _ = s.query;
}
