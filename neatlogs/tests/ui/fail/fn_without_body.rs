trait Search {
    #[neatlogs::span(kind = "TOOL")]
    fn search(&self, query: &str) -> Vec<String>;
}

fn main() {}
