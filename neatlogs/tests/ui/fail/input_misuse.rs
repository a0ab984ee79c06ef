#[neatlogs::span(input = query, skip_all)]
fn a(query: &str) -> usize { query.len() }

#[neatlogs::span(skip(query), input = query)]
fn b(query: &str) -> usize { query.len() }

#[neatlogs::span(input)]
fn c(query: &str) -> usize { query.len() }

fn main() {}
