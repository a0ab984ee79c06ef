// The span kinds the macro accepts. This file is also compiled into the
// `neatlogs` crate's wire-contract test, which checks it against
// `neatlogs::SpanKind::ALL`: a kind cannot be added to one and not the other.

/// The span kinds, as written in `kind = ".."`, with their `SpanKind` variant.
pub const KINDS: [(&str, &str); 9] = [
    ("WORKFLOW", "Workflow"),
    ("AGENT", "Agent"),
    ("CHAIN", "Chain"),
    ("TOOL", "Tool"),
    ("RETRIEVER", "Retriever"),
    ("EMBEDDING", "Embedding"),
    ("GUARDRAIL", "Guardrail"),
    ("MCP_TOOL", "McpTool"),
    ("LLM", "Llm"),
];
