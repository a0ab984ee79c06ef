//! The filter language against a store: every text operator matches
//! exactly what the same test on Rust strings matches, for values that
//! hold NUL (which SQLite's text functions stop at) as much as for others.

mod common;

use common::filters::{check, store_with};

#[test]
fn ends_with_matches_ids_that_contain_nul() {
    let ids = [
        "u\0_812", "u_812", "\0_812", "_812\0", "\0", "a\0b\0c", "é\0_812", "plain",
    ];
    let store = store_with(&ids);
    check(
        &store,
        &ids,
        &[
            "_812", "\0_812", "\0", "b\0c", "u\0", "é\0", "812\0", "\0\0",
        ],
    );
}
