//! Compile tests for `#[neatlogs::span]` (trybuild): every form of function
//! the macro must accept compiles and runs (`ui/pass`), and every mistake is
//! reported at the user's token with a fix (`ui/fail`, `.stderr` checked in).
//!
//! Regenerate the `.stderr` files with `TRYBUILD=overwrite`, then read them.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*.rs");
}
