// Generic parameters, lifetimes, const generics and `where` clauses are
// forwarded as written.

use std::fmt::Display;

#[neatlogs::span(kind = "TOOL")]
fn longest<'a, 'b: 'a>(a: &'a str, b: &'b str) -> &'a str {
    if a.len() >= b.len() {
        a
    } else {
        b
    }
}

#[neatlogs::span(kind = "TOOL", end_user_id = id.to_string())]
fn render<T, U: Clone, const N: usize>(id: T, items: [U; N]) -> Vec<String>
where
    T: Display,
    U: Display,
{
    items.iter().map(|i| format!("{id}:{i}")).collect()
}

#[neatlogs::span(kind = "TOOL")]
fn first<'a, T>(items: &'a [T]) -> Result<&'a T, String>
where
    T: std::fmt::Debug,
{
    items.first().ok_or_else(|| "empty".to_owned())
}

#[neatlogs::span(kind = "TOOL")]
async fn join<'a, I>(parts: I) -> String
where
    I: IntoIterator<Item = &'a str>,
{
    parts.into_iter().collect::<Vec<_>>().join(" ")
}

struct Wrapper<T>(T);

impl<T: Display> Wrapper<T> {
    #[neatlogs::span(kind = "CHAIN")]
    fn show<'s>(&'s self, prefix: &'s str) -> String {
        format!("{prefix}{}", self.0)
    }
}

fn main() {
    assert_eq!(longest("abc", "de"), "abc");
    assert_eq!(render(7, [1, 2]), ["7:1", "7:2"]);
    assert_eq!(first(&[1, 2]), Ok(&1));
    assert_eq!(first::<u8>(&[]), Err("empty".to_owned()));
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    assert_eq!(rt.block_on(join(["a", "b"])), "a b");
    assert_eq!(Wrapper(3).show("n="), "n=3");
}
