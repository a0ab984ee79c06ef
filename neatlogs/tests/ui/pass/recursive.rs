// A recursive function: each call is a span, nested in its caller's.

#[neatlogs::span(kind = "CHAIN")]
fn fib(n: u32) -> u64 {
    if n < 2 {
        return n.into();
    }
    fib(n - 1) + fib(n - 2)
}

#[neatlogs::span(kind = "CHAIN")]
fn depth(n: u32) -> Result<u32, String> {
    if n == 0 {
        return Err("bottom".into());
    }
    depth(n - 1).or(Ok(n))
}

#[neatlogs::span(kind = "CHAIN")]
async fn countdown(n: u32) -> u32 {
    if n == 0 {
        return 0;
    }
    // Recursion in an async fn needs a box, with or without the macro.
    1 + Box::pin(countdown(n - 1)).await
}

fn main() {
    let (v, spans) = neatlogs::testing::with_capture(|| fib(5));
    assert_eq!(v, 5);
    assert_eq!(spans.len(), 15);
    assert_eq!(spans.iter().filter(|s| s.is_root()).count(), 1);
    assert_eq!(depth(3), Ok(1));
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let (v, spans) = neatlogs::testing::with_capture(|| rt.block_on(countdown(3)));
    assert_eq!(v, 3);
    assert_eq!(spans.len(), 4);
    for pair in spans.windows(2) {
        assert_eq!(pair[0].parent_span_id(), Some(pair[1].span_id()));
    }
}
