// User identifiers named like the macro's locals neither clash with them nor
// are captured by them: the identity expressions and the body see the user's
// values.

#[neatlogs::span(kind = "WORKFLOW", end_user_id = __neatlogs_builder, session_id = __neatlogs_guard)]
fn handle(
    __neatlogs_builder: &str,
    __neatlogs_guard: &str,
    __neatlogs_result: u32,
) -> Result<u32, String> {
    let __neatlogs_error = __neatlogs_result + 1;
    let __neatlogs_future = __neatlogs_error;
    Ok(__neatlogs_future + __neatlogs_builder.len() as u32 + __neatlogs_guard.len() as u32)
}

#[neatlogs::span(kind = "WORKFLOW", end_user_id = __neatlogs_future)]
async fn handle_async(__neatlogs_future: u64, __neatlogs_result: u64) -> Result<u64, String> {
    let __neatlogs_builder = __neatlogs_result * 2;
    Ok(__neatlogs_builder + __neatlogs_future)
}

fn main() {
    let (v, spans) = neatlogs::testing::with_capture(|| handle("u_812", "s_1", 1));
    assert_eq!(v, Ok(10));
    assert_eq!(spans[0].end_user().unwrap().id().as_str(), "u_812");
    assert_eq!(spans[0].session_id(), Some("s_1"));
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let (v, spans) = neatlogs::testing::with_capture(|| rt.block_on(handle_async(7, 2)));
    assert_eq!(v, Ok(11));
    assert_eq!(spans[0].end_user().unwrap().id().as_str(), "7");
}
