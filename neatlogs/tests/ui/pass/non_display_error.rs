// Error types without `Display`, and without `Debug` either, compile; the
// span gets the best description the type has.

#[derive(Debug)]
struct DebugOnly {
    code: u16,
}

struct Opaque;

#[neatlogs::span(kind = "TOOL")]
fn debug_only() -> Result<(), DebugOnly> {
    Err(DebugOnly { code: 429 })
}

#[neatlogs::span(kind = "TOOL")]
fn opaque() -> Result<(), Opaque> {
    Err(Opaque)
}

#[neatlogs::span(kind = "TOOL")]
fn generic<E>(e: E) -> Result<(), E> {
    Err(e)
}

#[neatlogs::span(kind = "TOOL")]
async fn opaque_async() -> Result<(), Opaque> {
    Err(Opaque)
}

fn main() {
    use neatlogs::export::Status;
    let (_, spans) = neatlogs::testing::with_capture(|| {
        let _ = debug_only();
        let _ = opaque();
        let _ = generic(DebugOnly { code: 1 });
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let _ = rt.block_on(opaque_async());
    });
    assert_eq!(
        spans[0].status(),
        &Status::Error("DebugOnly { code: 429 }".into())
    );
    assert!(matches!(spans[1].status(), Status::Error(m) if m.ends_with("::Opaque")));
    // Inside a generic function nothing is known about `E`: its name is used.
    assert!(matches!(spans[2].status(), Status::Error(m) if m.ends_with("::DebugOnly")));
    assert!(matches!(spans[3].status(), Status::Error(m) if m.ends_with("::Opaque")));
}
