//! neatlogs: `init` with export to the Neatlogs backend disabled, and one
//! custom exporter that encodes every batch as an OTLP protobuf request and
//! then discards it.

use neatlogs::SpanHandle;
use std::hint::black_box;

use neatlogs::export::SpanRecord;
use neatlogs::export::{ExportError, Exporter, OtlpEncoder, Resource};
use neatlogs::llm::Message;
use neatlogs::{Config, SpanKind};

use super::Pipeline;
use crate::driver::{LlmSpans, Stack};
use crate::scenario::{
    Chat, Request, CHILD_NAMES, FINISH_REASON, LLM_SPAN_NAME, PROVIDER, REQUEST_MODEL,
    RESPONSE_MODEL,
};
use crate::sink::Sink;

/// Full OTLP protobuf encoding with the runtime's own encoder
/// (`neatlogs::export::OtlpEncoder`: the bytes the HTTP exporter sends), then discard.
#[derive(Debug)]
pub struct OtlpDiscard {
    sink: Sink,
    encoder: OtlpEncoder,
}

impl OtlpDiscard {
    /// An exporter ending in `sink`.
    pub fn new(sink: Sink) -> OtlpDiscard {
        OtlpDiscard {
            sink,
            encoder: OtlpEncoder::new(),
        }
    }
}

impl Exporter for OtlpDiscard {
    fn export(&mut self, resource: &Resource, batch: &[SpanRecord]) -> Result<(), ExportError> {
        self.sink.wait_until_open();
        let bytes = self.encoder.protobuf(resource, batch);
        self.sink.delivered(batch.len(), black_box(bytes).len());
        Ok(())
    }
}

/// The configuration the benchmarks start neatlogs with: the default
/// vocabulary, or those named by `NEATLOGS_CONVENTIONS` (e.g.
/// `neatlogs,openinference,genai`, to measure what writing all of them
/// costs the export thread).
pub fn config(pipeline: &Pipeline) -> Config {
    let config = Config::new()
        .default_destination(false)
        .exporter(OtlpDiscard::new(pipeline.sink.clone()))
        .queue_size(pipeline.queue_size)
        .batch_size(pipeline.batch_size);
    match std::env::var("NEATLOGS_CONVENTIONS") {
        Ok(names) => match names.parse() {
            Ok(conventions) => config.conventions(conventions),
            Err(e) => panic!("NEATLOGS_CONVENTIONS: {e}"),
        },
        Err(_) => config,
    }
}

/// One request trace: a root owning the end-user, ten children.
#[inline]
pub fn request_trace(req: &Request) {
    let _root = neatlogs::trace("request")
        .end_user_id(&req.user_id)
        .end_user_metadata(req.metadata())
        .enter();
    for name in CHILD_NAMES {
        let _child = neatlogs::span(SpanKind::Tool, name).enter();
    }
}

/// The root alone.
#[inline]
pub fn request_root(req: &Request) {
    let _root = neatlogs::trace("request")
        .end_user_id(&req.user_id)
        .end_user_metadata(req.metadata())
        .enter();
}

/// One LLM call, recorded with the typed API on the guard. Everything is stored typed on this thread; the
/// `neatlogs.llm.*` keys are written on the export thread.
#[inline]
pub fn llm_call(chat: &Chat) {
    let mut call = neatlogs::span(SpanKind::Llm, LLM_SPAN_NAME).enter();
    call.set_model(REQUEST_MODEL);
    call.set_provider(PROVIDER);
    call.add_input_message(Message::system(chat.system.clone()));
    call.add_input_message(Message::user(chat.user.clone()));
    call.set_response_model(RESPONSE_MODEL);
    call.add_output_message(Message::assistant(chat.reply.clone()));
    call.set_usage(neatlogs::llm::Usage::new(
        chat.prompt_tokens,
        chat.completion_tokens,
    ));
    call.set_finish_reason(FINISH_REASON);
}

/// `body` under a root `request` with no end-user.
pub fn under_root(body: &mut dyn FnMut()) {
    let _root = neatlogs::trace("request").enter();
    body();
}

/// neatlogs after `init`.
#[derive(Debug)]
pub struct Neatlogs(());

impl Stack for Neatlogs {
    const NAME: &'static str = "neatlogs";

    fn disabled_trace(req: &Request) {
        request_trace(req);
    }

    fn disabled_root(req: &Request) {
        request_root(req);
    }

    fn start(pipeline: &Pipeline) -> Self {
        if let Err(e) = neatlogs::init(config(pipeline)) {
            panic!("neatlogs::init failed: {e}");
        }
        Neatlogs(())
    }

    fn trace(&self, req: &Request) {
        request_trace(req);
    }

    fn root_only(&self, req: &Request) {
        request_root(req);
    }

    fn flush(&self) {
        let _ = neatlogs::flush();
    }

    fn dropped(&self) -> Option<u64> {
        Some(neatlogs::stats().dropped)
    }

    const LLM: Option<LlmSpans<Self>> = Some(LlmSpans {
        under_root: |_, body| under_root(body),
        call: |_, chat| llm_call(chat),
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Chats;

    #[test]
    fn the_llm_call_records_every_fact_of_the_chat_under_the_root() {
        let mut chats = Chats::new(2);
        let chat = chats.next().clone();
        let ((), spans) = neatlogs::testing::with_capture(|| under_root(&mut || llm_call(&chat)));
        assert_eq!(spans.len(), 2);
        let (llm_span, root) = (&spans[0], &spans[1]);
        assert_eq!(root.name(), "request");
        assert_eq!(llm_span.name(), LLM_SPAN_NAME);
        assert_eq!(llm_span.kind(), SpanKind::Llm);
        assert_eq!(llm_span.parent_span_id(), Some(root.span_id()));
        let llm = llm_span.llm().expect("an LLM call");
        assert_eq!(llm.request_model(), Some(REQUEST_MODEL));
        assert_eq!(llm.response_model(), Some(RESPONSE_MODEL));
        assert_eq!(llm.provider(), Some(PROVIDER));
        let input: Vec<_> = llm
            .input_messages()
            .iter()
            .map(|m| (m.role(), m.content()))
            .collect();
        assert_eq!(
            input,
            [
                ("system", chat.system.as_str()),
                ("user", chat.user.as_str())
            ]
        );
        let output: Vec<_> = llm
            .output_messages()
            .iter()
            .map(|m| (m.role(), m.content()))
            .collect();
        assert_eq!(output, [("assistant", chat.reply.as_str())]);
        assert_eq!(llm.usage().prompt_tokens(), Some(chat.prompt_tokens));
        assert_eq!(
            llm.usage().completion_tokens(),
            Some(chat.completion_tokens)
        );
        assert_eq!(llm.finish_reason(), Some(FINISH_REASON));
    }
}
