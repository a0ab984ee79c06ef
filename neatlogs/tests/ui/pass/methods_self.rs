// Methods taking `self`, `&self` and `&mut self`, sync and async, and
// associated functions returning `Self`.

struct Agent {
    name: String,
    turns: u32,
}

impl Agent {
    #[neatlogs::span(kind = "AGENT")]
    fn new(name: &str) -> Self {
        Agent {
            name: name.to_owned(),
            turns: 0,
        }
    }

    #[neatlogs::span(kind = "AGENT", end_user_id = &self.name)]
    fn name(&self) -> &str {
        &self.name
    }

    #[neatlogs::span(kind = "AGENT", end_user_id = self.name.as_str())]
    fn turn(&mut self) -> Result<u32, String> {
        self.turns += 1;
        Ok(self.turns)
    }

    #[neatlogs::span(kind = "AGENT", end_user_id = &self.name)]
    fn into_name(self) -> String {
        self.name
    }

    #[neatlogs::span(kind = "AGENT", end_user_id = &self.name)]
    async fn name_async(&self) -> &str {
        &self.name
    }

    #[neatlogs::span(kind = "AGENT")]
    async fn turn_async(&mut self) -> Result<u32, String> {
        self.turns += 1;
        Ok(self.turns)
    }

    #[neatlogs::span(kind = "AGENT", end_user_id = &self.name)]
    async fn into_name_async(self) -> String {
        self.name
    }
}

fn main() {
    let (_, spans) = neatlogs::testing::with_capture(|| {
        let mut agent = Agent::new("u_1");
        assert_eq!(agent.name(), "u_1");
        assert_eq!(agent.turn(), Ok(1));
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async {
            assert_eq!(agent.name_async().await, "u_1");
            assert_eq!(agent.turn_async().await, Ok(2));
        });
        assert_eq!(rt.block_on(agent.into_name_async()), "u_1");
        assert_eq!(Agent::new("u_2").into_name(), "u_2");
    });
    assert_eq!(spans.len(), 8);
}
