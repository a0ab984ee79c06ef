// `#[async_trait]` methods: the macro instruments the boxed inner future
// (not the call that creates it), and the future stays `Send`.

use async_trait::async_trait;

#[async_trait]
trait Tool {
    async fn call(&self, input: &str) -> Result<String, String>;
    async fn name(&self) -> String;
}

struct Search {
    prefix: String,
}

#[async_trait]
impl Tool for Search {
    #[neatlogs::span(kind = "TOOL", end_user_id = input)]
    async fn call(&self, input: &str) -> Result<String, String> {
        tokio::task::yield_now().await;
        if input.is_empty() {
            return Err("empty input".to_owned());
        }
        Ok(format!("{}{input}", self.prefix))
    }

    #[neatlogs::span(kind = "TOOL", name = "tool-name", end_user_id = &self.prefix)]
    async fn name(&self) -> String {
        self.prefix.clone()
    }
}

#[async_trait(?Send)]
trait LocalTool {
    async fn run(&self) -> u32;
}

#[async_trait(?Send)]
impl LocalTool for Search {
    #[neatlogs::span(kind = "TOOL")]
    async fn run(&self) -> u32 {
        7
    }
}

fn main() {
    let tool: Box<dyn Tool + Send + Sync> = Box::new(Search {
        prefix: "s:".into(),
    });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let (_, spans) = neatlogs::testing::with_capture(|| {
        rt.block_on(async {
            assert_eq!(tool.call("q").await.unwrap(), "s:q");
            assert!(tool.call("").await.is_err());
            assert_eq!(tool.name().await, "s:");
            assert_eq!(
                Search {
                    prefix: String::new()
                }
                .run()
                .await,
                7
            );
        })
    });
    let names: Vec<&str> = spans.iter().map(|s| s.name()).collect();
    assert_eq!(names, ["call", "call", "tool-name", "run"]);
    assert_eq!(spans[0].end_user().unwrap().id().as_str(), "q");
    assert_eq!(
        spans[1].status(),
        &neatlogs::export::Status::Error("empty input".into())
    );
    // `self` in an identity expression is the method's receiver.
    assert_eq!(spans[2].end_user().unwrap().id().as_str(), "s:");
}
