// Patterns in arguments: tuples, structs, `mut`, `ref`, references and `_`,
// usable in the identity expressions too.

struct Point {
    x: i64,
    y: i64,
}

#[neatlogs::span(kind = "TOOL", end_user_id = a)]
fn add((a, b): (u32, u32)) -> u32 {
    a + b
}

#[neatlogs::span(kind = "TOOL")]
fn bump(mut x: u32) -> u32 {
    x += 1;
    x
}

#[neatlogs::span(kind = "TOOL")]
fn bump_result(mut x: u32) -> Result<u32, String> {
    x += 1;
    Ok(x)
}

#[neatlogs::span(kind = "TOOL", end_user_id = x)]
fn norm(Point { x, y }: Point, _: u8, &scale: &i64) -> i64 {
    (x.abs() + y.abs()) * scale
}

#[neatlogs::span(kind = "TOOL")]
async fn swap((a, mut b): (String, String)) -> String {
    b.push_str(&a);
    b
}

#[neatlogs::span(kind = "TOOL")]
fn by_ref(ref s: String) -> usize {
    s.len()
}

fn main() {
    assert_eq!(add((1, 2)), 3);
    assert_eq!(bump(1), 2);
    assert_eq!(bump_result(1), Ok(2));
    assert_eq!(norm(Point { x: -1, y: 2 }, 0, &2), 6);
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    assert_eq!(rt.block_on(swap(("a".into(), "b".into()))), "ba");
    assert_eq!(by_ref("abc".into()), 3);
}
