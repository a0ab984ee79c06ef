// `-> Result<_, E>` with `?` in the body: conversions through `From`, boxed
// errors, `io::Result`, and a local alias, sync and async.

use std::error::Error;
use std::fmt;

#[derive(Debug)]
struct AppError(String);

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<std::num::ParseIntError> for AppError {
    fn from(e: std::num::ParseIntError) -> Self {
        AppError(e.to_string())
    }
}

impl Error for AppError {}

type AppResult<T> = Result<T, AppError>;

#[neatlogs::span(kind = "TOOL")]
fn parse(s: &str) -> Result<u32, AppError> {
    let n: u32 = s.parse()?;
    Ok(n)
}

#[neatlogs::span(kind = "TOOL")]
fn boxed(s: &str) -> Result<u32, Box<dyn Error + Send + Sync>> {
    if s.is_empty() {
        return Err(Box::new(AppError("empty".into())));
    }
    let n: u32 = s.parse()?;
    Ok(n)
}

#[neatlogs::span(kind = "TOOL")]
fn io(path: &str) -> std::io::Result<usize> {
    let text = std::fs::read_to_string(path)?;
    Ok(text.len())
}

#[neatlogs::span(kind = "TOOL")]
fn alias(s: &str) -> AppResult<u32> {
    Ok(parse(s)? * 2)
}

#[neatlogs::span(kind = "TOOL")]
fn into_error(s: &str) -> Result<(), String> {
    if s == "bad" {
        Err("bad input")?;
    }
    Ok(())
}

#[neatlogs::span(kind = "TOOL")]
fn format_result(f: &mut fmt::Formatter<'_>) -> fmt::Result {
    write!(f, "x")?;
    Ok(())
}

struct Shown;

impl fmt::Display for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        format_result(f)
    }
}

#[neatlogs::span(kind = "WORKFLOW")]
async fn parse_async(s: &str) -> Result<u32, AppError> {
    tokio::task::yield_now().await;
    let n = parse(s)?;
    Ok(n + boxed("1").map_err(|e| AppError(e.to_string()))?)
}

fn main() {
    assert_eq!(parse("1").unwrap(), 1);
    assert!(parse("x").is_err());
    assert!(boxed("").is_err());
    assert!(io("/definitely/not/here").is_err());
    assert_eq!(alias("2").unwrap(), 4);
    assert!(into_error("bad").is_err());
    assert_eq!(Shown.to_string(), "x");
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    assert_eq!(rt.block_on(parse_async("1")).unwrap(), 2);
}
