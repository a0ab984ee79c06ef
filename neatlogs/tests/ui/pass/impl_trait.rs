// `impl Trait` in argument and return position, sync and async, including
// inside a `Result`.

use std::fmt::Display;

#[neatlogs::span(kind = "TOOL")]
fn describe(x: impl Display) -> impl Display {
    format!("<{x}>")
}

#[neatlogs::span(kind = "TOOL")]
fn numbers(n: u32) -> impl Iterator<Item = u32> {
    (0..n).map(|i| i * 2)
}

#[neatlogs::span(kind = "TOOL")]
fn parsed(s: impl AsRef<str>) -> Result<impl Display, std::num::ParseIntError> {
    let n: u32 = s.as_ref().parse()?;
    Ok(n + 1)
}

#[neatlogs::span(kind = "TOOL")]
async fn describe_async(x: impl Display + Send) -> impl Display {
    format!("[{x}]")
}

#[neatlogs::span(kind = "TOOL")]
fn future(n: u32) -> impl std::future::Future<Output = u32> + Send {
    async move { n + 1 }
}

fn main() {
    assert_eq!(describe(1).to_string(), "<1>");
    assert_eq!(numbers(3).collect::<Vec<_>>(), [0, 2, 4]);
    assert_eq!(parsed("41").unwrap().to_string(), "42");
    assert!(parsed("x").is_err());
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    assert_eq!(rt.block_on(describe_async("a")).to_string(), "[a]");
    assert_eq!(rt.block_on(future(1)), 2);
}
