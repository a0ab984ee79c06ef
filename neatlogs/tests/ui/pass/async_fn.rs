// `async fn`: the returned future is `Send` when the body is, so it can be
// spawned; the span is entered on every poll.

#[neatlogs::span(kind = "WORKFLOW", end_user_id = user_id)]
async fn handle(user_id: &'static str) -> usize {
    tokio::task::yield_now().await;
    lookup().await
}

#[neatlogs::span(kind = "RETRIEVER")]
async fn lookup() -> usize {
    tokio::task::yield_now().await;
    neatlogs::current_end_user().map_or(0, |u| u.id().as_str().len())
}

#[neatlogs::span(kind = "TOOL")]
async fn unit() {}

fn assert_send<T: Send + 'static>(t: T) -> T {
    t
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let n = rt.block_on(async {
        tokio::spawn(unit()).await.unwrap();
        tokio::spawn(assert_send(handle("u_812"))).await.unwrap()
    });
    // Spawned without a context and without a capture: tracing is off here,
    // and the function still runs.
    assert_eq!(n, 0);
    let (n, spans) = neatlogs::testing::with_capture(|| rt.block_on(handle("u_812")));
    assert_eq!(n, 5);
    assert_eq!(spans.len(), 2);
}
