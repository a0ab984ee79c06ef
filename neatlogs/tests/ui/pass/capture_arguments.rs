// `skip(..)`, `skip_all`, `input = ..` and `skip_output`, with every kind of
// argument and return the macro may meet.

use serde::Serialize;

#[derive(Serialize)]
struct Query {
    text: String,
}

struct NoTraits;

#[neatlogs::span(kind = "TOOL", skip(password, r#type))]
fn login(user: &str, password: &str, r#type: u8) -> bool {
    !user.is_empty() && !password.is_empty() && r#type > 0
}

#[neatlogs::span(skip_all)]
fn nothing_in(secret: String, _other: NoTraits) -> usize {
    secret.len()
}

#[neatlogs::span(input = serde_json::json!({ "q": query.text }), skip_output)]
fn custom_input(query: Query, _opaque: NoTraits) -> NoTraits {
    NoTraits
}

#[neatlogs::span(kind = "RETRIEVER", input = &query.text)]
async fn async_input(query: Query) -> Result<Vec<String>, std::io::Error> {
    Ok(vec![query.text])
}

#[neatlogs::span]
fn destructured((a, b): (u8, u8), [c, _]: [u8; 2], mut d: Vec<u8>) -> u8 {
    d.push(c);
    a + b + d.len() as u8
}

#[neatlogs::span]
fn returns_impl(n: u8) -> impl Iterator<Item = u8> {
    0..n
}

#[neatlogs::span]
fn returns_reference<'a>(items: &'a [String], i: usize) -> &'a str {
    &items[i]
}

#[neatlogs::span]
fn unit_returns() -> () {}

fn main() {
    let (_, spans) = neatlogs::testing::with_capture(|| {
        assert!(login("u", "p", 1));
        assert_eq!(nothing_in("s".into(), NoTraits), 1);
        let _ = custom_input(Query { text: "q".into() }, NoTraits);
        drop(async_input(Query { text: "q".into() }));
        assert_eq!(destructured((1, 2), [3, 4], vec![]), 4);
        assert_eq!(returns_impl(3).count(), 3);
        let items = vec!["a".to_owned()];
        assert_eq!(returns_reference(&items, 0), "a");
        unit_returns();
    });
    let login = &spans[0];
    let input = login.input().unwrap().as_json().unwrap();
    assert_eq!(input, &serde_json::json!({ "user": "u" }));
    assert!(spans[1].input().is_none());
    assert_eq!(
        spans[2].input().unwrap().as_json().unwrap(),
        &serde_json::json!({ "q": "q" })
    );
    assert!(spans[2].output().is_none());
    // The async function's future was dropped unpolled: no span.
    assert_eq!(
        spans[3].input().unwrap().as_json().unwrap(),
        &serde_json::json!({ "d": [] }),
        "destructured arguments are not captured"
    );
    assert_eq!(spans[3].output().unwrap().as_json().unwrap(), &serde_json::json!(4));
    assert_eq!(spans[5].output().unwrap().as_json().unwrap(), &serde_json::json!("a"));
    assert!(spans[6].output().is_none(), "`()` is no output");
}
