//! Outer attributes (doc comments included) and inner attributes of the
//! function are kept: were they dropped, the `deny` lints below would fail
//! the build.
#![deny(missing_docs, unused_variables, unused_mut, dead_code)]

/// Documented: `missing_docs` would fire without this comment.
#[neatlogs::span(kind = "TOOL")]
#[must_use]
pub fn documented() -> u32 {
    #![allow(unused_variables)]
    //! An inner doc comment, kept as well.
    let unused = 1;
    2
}

/// Also documented, with an inner attribute and a `Result`.
#[neatlogs::span(kind = "TOOL")]
pub fn documented_result() -> Result<u32, String> {
    #![allow(unused_mut)]
    let mut x = 1;
    Ok(x)
}

/// Also documented, async.
#[neatlogs::span(kind = "TOOL")]
pub async fn documented_async() -> u32 {
    #![allow(unused_variables)]
    let unused = 1;
    3
}

#[neatlogs::span(kind = "TOOL")]
#[allow(dead_code)]
fn never_called() {}

#[neatlogs::span(kind = "TOOL")]
#[cfg(any())]
fn compiled_out() -> DoesNotExist {}

fn main() {
    assert_eq!(documented(), 2);
    assert_eq!(documented_result(), Ok(1));
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    assert_eq!(rt.block_on(documented_async()), 3);
}
