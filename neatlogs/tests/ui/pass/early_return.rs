// Early `return` keeps its meaning: it returns from the function, and an
// early `Err` still marks the span as failed.

#[neatlogs::span(kind = "TOOL")]
fn classify(n: i32) -> &'static str {
    if n < 0 {
        return "negative";
    }
    "non-negative"
}

#[neatlogs::span(kind = "TOOL")]
fn checked(n: i32) -> Result<i32, String> {
    if n < 0 {
        return Err(format!("{n} is negative"));
    }
    for i in 0.. {
        if i == n {
            return Ok(i);
        }
    }
    unreachable!()
}

#[neatlogs::span(kind = "TOOL")]
async fn checked_async(n: i32) -> Result<i32, String> {
    if n < 0 {
        return Err(format!("{n} is negative"));
    }
    Ok(n)
}

fn main() {
    let (_, spans) = neatlogs::testing::with_capture(|| {
        assert_eq!(classify(-1), "negative");
        assert_eq!(checked(-1).unwrap_err(), "-1 is negative");
        assert_eq!(checked(3), Ok(3));
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        assert!(rt.block_on(checked_async(-2)).is_err());
    });
    use neatlogs::export::Status;
    let statuses: Vec<&Status> = spans.iter().map(|s| s.status()).collect();
    assert_eq!(
        statuses,
        [
            &Status::Unset,
            &Status::Error("-1 is negative".into()),
            &Status::Unset,
            &Status::Error("-2 is negative".into()),
        ]
    );
}
