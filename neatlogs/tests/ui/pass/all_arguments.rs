// Every kind, and every argument together in any order (each pair of
// different arguments is accepted; see also the parser's unit tests).

use serde::Serialize;

#[derive(Serialize)]
struct Meta<'a> {
    plan: &'a str,
}

#[neatlogs::span(kind = "WORKFLOW")]
fn workflow() {}
#[neatlogs::span(kind = "AGENT")]
fn agent() {}
#[neatlogs::span(kind = "CHAIN")]
fn chain() {}
#[neatlogs::span(kind = "TOOL")]
fn tool() {}
#[neatlogs::span(kind = "RETRIEVER")]
fn retriever() {}
#[neatlogs::span(kind = "EMBEDDING")]
fn embedding() {}
#[neatlogs::span(kind = "GUARDRAIL")]
fn guardrail() {}
#[neatlogs::span(kind = "MCP_TOOL")]
fn mcp_tool() {}
#[neatlogs::span(kind = "LLM")]
fn llm() {}

#[neatlogs::span(
    kind = "WORKFLOW",
    name = "everything",
    end_user_id = user,
    end_user_metadata = Meta { plan },
    session_id = &session,
    tags = ["beta", plan, String::from("owned")],
    crate = ::neatlogs,
)]
fn everything(user: &str, plan: &str, session: String) -> usize {
    session.len()
}

#[neatlogs::span(
    crate = ::neatlogs,
    tags = [],
    session_id = "s",
    end_user_metadata = serde_json::json!({ "n": 1 }),
    end_user_id = 42u64,
    name = "reversed",
    kind = "LLM",
)]
fn reversed() {}

#[neatlogs::span(end_user_id = Some("u_1"), kind = "AGENT")]
fn optional_id() {}

#[neatlogs::span(end_user_id = None::<&str>, end_user_metadata = (), name = "none")]
fn no_id() {}

fn main() {
    use neatlogs::SpanKind::*;
    let (_, spans) = neatlogs::testing::with_capture(|| {
        workflow();
        agent();
        chain();
        tool();
        retriever();
        embedding();
        guardrail();
        mcp_tool();
        llm();
        assert_eq!(everything("u_812", "pro", "s_1".into()), 3);
        reversed();
        optional_id();
        no_id();
    });
    let kinds: Vec<_> = spans.iter().take(9).map(|s| s.kind()).collect();
    assert_eq!(
        kinds,
        [Workflow, Agent, Chain, Tool, Retriever, Embedding, Guardrail, McpTool, Llm]
    );
    let e = &spans[9];
    assert_eq!(e.name(), "everything");
    assert_eq!(e.end_user().unwrap().id().as_str(), "u_812");
    assert_eq!(e.end_user().unwrap().metadata::<serde_json::Value>().unwrap()["plan"], "pro");
    assert_eq!(e.session_id(), Some("s_1"));
    assert_eq!(e.tags(), ["beta", "pro", "owned"]);
    assert_eq!(spans[10].name(), "reversed");
    assert_eq!(spans[10].end_user().unwrap().id().as_str(), "42");
    assert_eq!(spans[11].end_user().unwrap().id().as_str(), "u_1");
    assert!(spans[12].end_user().is_none());
}
