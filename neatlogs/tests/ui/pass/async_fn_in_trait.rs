// `async fn` in traits (no macro crate needed): on a default method and on
// an implementation.

trait Store {
    #[neatlogs::span(kind = "RETRIEVER")]
    async fn get(&self, key: u32) -> Result<String, String> {
        Err(format!("no {key}"))
    }

    async fn put(&mut self, key: u32, value: String);
}

struct Memory(Vec<(u32, String)>);

impl Store for Memory {
    #[neatlogs::span(kind = "RETRIEVER", end_user_id = key)]
    async fn get(&self, key: u32) -> Result<String, String> {
        self.0
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.clone())
            .ok_or_else(|| format!("no {key}"))
    }

    #[neatlogs::span(kind = "TOOL")]
    async fn put(&mut self, key: u32, value: String) {
        self.0.push((key, value));
    }
}

struct Empty;

impl Store for Empty {
    async fn put(&mut self, _: u32, _: String) {}
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let (_, spans) = neatlogs::testing::with_capture(|| {
        rt.block_on(async {
            let mut m = Memory(Vec::new());
            m.put(1, "one".into()).await;
            assert_eq!(m.get(1).await.unwrap(), "one");
            assert!(Empty.get(1).await.is_err());
        })
    });
    assert_eq!(spans.len(), 3);
    assert_eq!(spans[2].status(), &neatlogs::export::Status::Error("no 1".into()));
}
