//! s7: `auto_session` gives one id per process.

#[test]
fn s7_auto_session_one_id_per_process() {
    let unix_secs = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
    };
    let before = unix_secs();
    neatlogs::init(
        neatlogs::Config::new()
            .auto_session(true)
            .default_destination(false),
    )
    .unwrap();
    let ((), spans) = neatlogs::testing::with_capture(|| {
        neatlogs::trace("a").in_scope(|| {});
        neatlogs::trace("b").in_scope(|| {});
    });
    let a = spans[0].session_id().unwrap().to_owned();
    assert_eq!(spans[1].session_id(), Some(a.as_str()));
    let rest = a.strip_prefix("session_").expect("session_ prefix");
    let (secs, hex) = rest.split_once('_').unwrap();
    let secs: u64 = secs.parse().unwrap();
    // The id carries the time it was made: within this test's own run.
    assert!((before..=unix_secs()).contains(&secs), "{a}");
    assert_eq!(hex.len(), 8);
    assert!(hex
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
    // An explicit root session still wins.
    let ((), spans) = neatlogs::testing::with_capture(|| {
        neatlogs::trace("c").session_id("s_x").in_scope(|| {});
    });
    assert_eq!(spans[0].session_id(), Some("s_x"));
}
