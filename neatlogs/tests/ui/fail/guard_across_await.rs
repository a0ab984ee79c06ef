// A span guard is `!Send`: held across `.await` in a spawned task, it is a
// compile error. (`#[neatlogs::span]` on an `async fn` never does this.)

async fn work() {}

#[tokio::main]
async fn main() {
    tokio::spawn(async {
        let _guard = neatlogs::span(neatlogs::SpanKind::Tool, "search").enter();
        work().await;
    });
}
