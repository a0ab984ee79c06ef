//! Span kinds, as OpenInference names them.

use std::fmt;
use std::str::FromStr;

use crate::error::ParseError;

/// What a span represents. Exported as `openinference.span.kind` (upper case)
/// and `neatlogs.span.kind` (lower case).
///
/// ```
/// use neatlogs::SpanKind;
/// assert_eq!("MCP_TOOL".parse::<SpanKind>().unwrap(), SpanKind::McpTool);
/// assert_eq!(SpanKind::Llm.as_str(), "LLM");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
// A whole word: a span record is built, then written where it stays; a
// one-byte field in it made that write wait for the byte to be stored.
#[repr(u64)]
pub enum SpanKind {
    /// A whole unit of work, usually a request or job: the default trace root.
    Workflow,
    /// An agent deciding what to do next.
    Agent,
    /// A fixed sequence of steps.
    Chain,
    /// A tool or function call.
    Tool,
    /// A retrieval (vector search, database lookup).
    Retriever,
    /// An embedding call.
    Embedding,
    /// A guardrail check on input or output.
    Guardrail,
    /// A tool called through the Model Context Protocol.
    McpTool,
    /// A call to a language model.
    Llm,
}

impl SpanKind {
    /// Whether a span of this kind is a model call whose usage is counted
    /// per end-user even in a trace that is not recorded (LLM, embedding).
    #[inline(always)]
    pub(crate) fn counts_usage(self) -> bool {
        matches!(self, SpanKind::Llm | SpanKind::Embedding)
    }

    /// Every kind, in declaration order.
    pub const ALL: [SpanKind; 9] = [
        SpanKind::Workflow,
        SpanKind::Agent,
        SpanKind::Chain,
        SpanKind::Tool,
        SpanKind::Retriever,
        SpanKind::Embedding,
        SpanKind::Guardrail,
        SpanKind::McpTool,
        SpanKind::Llm,
    ];

    /// The upper-case name (`openinference.span.kind`).
    pub const fn as_str(self) -> &'static str {
        match self {
            SpanKind::Workflow => "WORKFLOW",
            SpanKind::Agent => "AGENT",
            SpanKind::Chain => "CHAIN",
            SpanKind::Tool => "TOOL",
            SpanKind::Retriever => "RETRIEVER",
            SpanKind::Embedding => "EMBEDDING",
            SpanKind::Guardrail => "GUARDRAIL",
            SpanKind::McpTool => "MCP_TOOL",
            SpanKind::Llm => "LLM",
        }
    }

    /// The lower-case name (`neatlogs.span.kind`).
    pub const fn as_lower_str(self) -> &'static str {
        match self {
            SpanKind::Workflow => "workflow",
            SpanKind::Agent => "agent",
            SpanKind::Chain => "chain",
            SpanKind::Tool => "tool",
            SpanKind::Retriever => "retriever",
            SpanKind::Embedding => "embedding",
            SpanKind::Guardrail => "guardrail",
            SpanKind::McpTool => "mcp_tool",
            SpanKind::Llm => "llm",
        }
    }
}

impl fmt::Display for SpanKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SpanKind {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SpanKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                ParseError::new(
                    "span kind",
                    s,
                    "one of WORKFLOW, AGENT, CHAIN, TOOL, RETRIEVER, EMBEDDING, GUARDRAIL, MCP_TOOL, LLM",
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        for k in SpanKind::ALL {
            assert_eq!(k.as_str().parse::<SpanKind>().unwrap(), k);
            assert_eq!(k.as_lower_str(), k.as_str().to_lowercase());
        }
        assert!("workflow".parse::<SpanKind>().is_err());
    }
}
