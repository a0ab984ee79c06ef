#[neatlogs::span(kind = neatlogs::SpanKind::McpTool)]
fn call_mcp() {}

#[neatlogs::span(kind = TOOL)]
fn search() {}

fn main() {
    call_mcp();
    search();
}
