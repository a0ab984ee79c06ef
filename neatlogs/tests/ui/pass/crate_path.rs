// `crate = path`: a crate that re-exports neatlogs under another path points
// the macro there.

mod sdk {
    pub use neatlogs as tracing_core;
}

use neatlogs as renamed;

#[neatlogs::span(kind = "TOOL", end_user_id = "u_1", crate = crate::sdk::tracing_core)]
fn through_module() -> Result<u8, String> {
    Err("e".into())
}

#[renamed::span(kind = "TOOL", crate = renamed)]
async fn through_alias() -> u8 {
    1
}

#[neatlogs::span(kind = "TOOL", crate = ::neatlogs)]
fn absolute() {}

fn main() {
    let (_, spans) = neatlogs::testing::with_capture(|| {
        assert!(through_module().is_err());
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        assert_eq!(rt.block_on(through_alias()), 1);
        absolute();
    });
    assert_eq!(spans.len(), 3);
    assert_eq!(spans[0].end_user().unwrap().id().as_str(), "u_1");
}
