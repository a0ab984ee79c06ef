// The expansion names nothing from the prelude: it compiles in a module
// without one, and next to user items that shadow `Result`, `Option`, `Some`,
// `Ok`, `Err`, `String` and `Box`.

mod no_prelude {
    #![no_implicit_prelude]

    #[::neatlogs::span(kind = "TOOL", end_user_id = id, tags = ["a"])]
    pub fn sync(id: &str) -> ::core::result::Result<u32, &'static str> {
        ::core::result::Result::Err("no prelude")
    }

    #[::neatlogs::span(kind = "TOOL")]
    pub fn plain(x: u32) -> u32 {
        x
    }

    #[::neatlogs::span(kind = "TOOL", end_user_id = id)]
    pub async fn not_sync(id: u64) -> ::core::result::Result<u64, ()> {
        ::core::result::Result::Ok(id)
    }
}

mod shadowed {
    #![allow(dead_code, non_snake_case, clippy::all)]

    pub struct Option;
    pub struct String;
    pub struct Box;
    pub fn Some() {}
    pub fn Ok() {}
    pub fn Err() {}
    pub enum Result {
        Good,
        Bad,
    }

    #[neatlogs::span(kind = "TOOL", end_user_id = "u_1", tags = ["t"])]
    pub fn own_result() -> Result {
        Result::Bad
    }

    #[neatlogs::span(kind = "TOOL")]
    pub fn std_result() -> core::result::Result<u8, &'static str> {
        core::result::Result::Err("shadowed")
    }

    #[neatlogs::span(kind = "TOOL")]
    pub async fn own_result_async() -> Result {
        Result::Good
    }
}

fn main() {
    let (_, spans) = neatlogs::testing::with_capture(|| {
        assert!(no_prelude::sync("u_1").is_err());
        assert_eq!(no_prelude::plain(3), 3);
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        assert_eq!(rt.block_on(no_prelude::not_sync(4)), Ok(4));
        assert!(matches!(shadowed::own_result(), shadowed::Result::Bad));
        assert!(shadowed::std_result().is_err());
        assert!(matches!(
            rt.block_on(shadowed::own_result_async()),
            shadowed::Result::Good
        ));
    });
    use neatlogs::export::Status;
    assert_eq!(spans[0].status(), &Status::Error("no prelude".into()));
    // A type only named `Result` is never an error.
    assert_eq!(spans[3].status(), &Status::Unset);
    assert_eq!(spans[4].status(), &Status::Error("shadowed".into()));
}
