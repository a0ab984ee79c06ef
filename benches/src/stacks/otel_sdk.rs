//! The OpenTelemetry SDK used directly: an `SdkTracerProvider` with a
//! `BatchSpanProcessor` feeding a `SpanExporter` that discards.

use opentelemetry::trace::{Span as _, TraceContextExt, Tracer, TracerProvider as _};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, SdkTracer, SdkTracerProvider, SpanData, SpanExporter,
};

use neatlogs::wire::{genai, llm, span};

use super::Pipeline;
use crate::driver::{LlmSpans, Stack};
use crate::scenario::{
    metadata_json, Chat, Request, CHILD_NAMES, FINISH_REASON, LLM_SPAN_NAME, PROVIDER,
    REQUEST_MODEL, RESPONSE_MODEL,
};
use crate::sink::Sink;

/// Discards every batch (no encoding).
#[derive(Debug)]
pub struct NoopExporter {
    sink: Sink,
}

impl SpanExporter for NoopExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        self.sink.wait_until_open();
        self.sink.delivered(batch.len(), 0);
        Ok(())
    }
}

/// A provider whose batch processor ends in `pipeline.sink`; shared with the
/// `tracing` + `tracing-opentelemetry` stack.
pub fn provider(pipeline: &Pipeline) -> SdkTracerProvider {
    provider_with(pipeline, opentelemetry_sdk::trace::Sampler::AlwaysOn)
}

/// [`provider`] with `sampler` (the SDK's default is parent-based always-on,
/// the same as `AlwaysOn` for the new traces measured here).
pub fn provider_with(
    pipeline: &Pipeline,
    sampler: opentelemetry_sdk::trace::Sampler,
) -> SdkTracerProvider {
    let config = BatchConfigBuilder::default()
        .with_max_queue_size(pipeline.queue_size)
        .with_max_export_batch_size(pipeline.batch_size)
        .build();
    let processor = BatchSpanProcessor::builder(NoopExporter {
        sink: pipeline.sink.clone(),
    })
    .with_batch_config(config)
    .build();
    SdkTracerProvider::builder()
        .with_sampler(sampler)
        .with_span_processor(processor)
        .build()
}

fn root<T: Tracer>(tracer: &T, req: &Request) -> T::Span {
    tracer
        .span_builder("request")
        .with_attributes([
            KeyValue::new("enduser.id", req.user_id.clone()),
            KeyValue::new("neatlogs.end_user.metadata", metadata_json(req)),
        ])
        .start(tracer)
}

/// One request trace: the root with the end-user id and metadata as
/// attributes, made the current context, and ten children under it.
pub fn request_trace<T>(tracer: &T, req: &Request)
where
    T: Tracer,
    T::Span: Send + Sync + 'static,
{
    // The root becomes the current context, as in a service where the
    // children are opened deeper in the call stack.
    let _current = Context::current_with_span(root(tracer, req)).attach();
    for name in CHILD_NAMES {
        tracer.start(name).end();
    }
    Context::current().span().end();
}

// The message keys, as an OpenTelemetry user writes them: literals (a test
// checks them against `neatlogs::wire`).
const SYSTEM_ROLE: &str = "neatlogs.llm.input_messages.0.role";
const SYSTEM_CONTENT: &str = "neatlogs.llm.input_messages.0.content";
const USER_ROLE: &str = "neatlogs.llm.input_messages.1.role";
const USER_CONTENT: &str = "neatlogs.llm.input_messages.1.content";
const REPLY_ROLE: &str = "neatlogs.llm.output_messages.0.role";
const REPLY_CONTENT: &str = "neatlogs.llm.output_messages.0.content";

/// One LLM call as attributes, under the keys the Neatlogs backend reads
/// (`neatlogs.llm.*`, and `gen_ai.request.model` for the model asked for):
/// the request's when the span starts, the response's before it ends. The
/// total token count is computed here, as an OpenTelemetry user must.
pub fn llm_call<T: Tracer>(tracer: &T, chat: &Chat) {
    let mut call = tracer
        .span_builder(LLM_SPAN_NAME)
        .with_attributes([
            KeyValue::new(span::OPENINFERENCE_KIND, "LLM"),
            KeyValue::new(genai::REQUEST_MODEL, REQUEST_MODEL),
            KeyValue::new(llm::PROVIDER, PROVIDER),
            KeyValue::new(SYSTEM_ROLE, "system"),
            KeyValue::new(SYSTEM_CONTENT, chat.system.clone()),
            KeyValue::new(USER_ROLE, "user"),
            KeyValue::new(USER_CONTENT, chat.user.clone()),
        ])
        .start(tracer);
    call.set_attributes([
        KeyValue::new(llm::MODEL_NAME, RESPONSE_MODEL),
        KeyValue::new(REPLY_ROLE, "assistant"),
        KeyValue::new(REPLY_CONTENT, chat.reply.clone()),
        KeyValue::new(llm::TOKENS_PROMPT, tokens(chat.prompt_tokens)),
        KeyValue::new(llm::TOKENS_COMPLETION, tokens(chat.completion_tokens)),
        KeyValue::new(
            llm::TOKENS_TOTAL,
            tokens(chat.prompt_tokens + chat.completion_tokens),
        ),
        KeyValue::new(llm::FINISH_REASON, FINISH_REASON),
    ]);
    call.end();
}

/// OpenTelemetry integers are signed.
fn tokens(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// `body` under a root `request` with no attributes, attached as the
/// current context (the LLM spans find their parent there).
pub fn under_root<T>(tracer: &T, body: &mut dyn FnMut())
where
    T: Tracer,
    T::Span: Send + Sync + 'static,
{
    let _current = Context::current_with_span(tracer.start("request")).attach();
    body();
    Context::current().span().end();
}

/// The SDK's tracer, and the provider that owns its pipeline.
#[derive(Debug)]
pub struct OtelSdk {
    provider: SdkTracerProvider,
    tracer: SdkTracer,
}

impl Stack for OtelSdk {
    const NAME: &'static str = "otel_sdk";

    /// With no provider installed, the global tracer is the no-op one.
    fn disabled_trace(req: &Request) {
        request_trace(&opentelemetry::global::tracer("bench"), req);
    }

    fn disabled_root(req: &Request) {
        root(&opentelemetry::global::tracer("bench"), req).end();
    }

    fn start(pipeline: &Pipeline) -> Self {
        let provider = provider(pipeline);
        let tracer = provider.tracer("bench");
        OtelSdk { provider, tracer }
    }

    fn trace(&self, req: &Request) {
        request_trace(&self.tracer, req);
    }

    fn root_only(&self, req: &Request) {
        root(&self.tracer, req).end();
    }

    fn flush(&self) {
        let _ = self.provider.force_flush();
    }

    const LLM: Option<LlmSpans<Self>> = Some(LlmSpans {
        under_root: |s, body| under_root(&s.tracer, body),
        call: |s, chat| llm_call(&s.tracer, chat),
    });
}

/// An exporter that keeps every span it is handed, for tests that read
/// what the OpenTelemetry SDK recorded.
#[cfg(test)]
#[derive(Debug, Clone, Default)]
pub(crate) struct Keep(pub(crate) std::sync::Arc<std::sync::Mutex<Vec<SpanData>>>);

#[cfg(test)]
impl SpanExporter for Keep {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend(batch);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use opentelemetry::Value;

    use super::*;
    use crate::scenario::Chats;

    #[test]
    fn the_message_keys_are_the_wire_contracts() {
        let key = |prefix, i, field| format!("{prefix}{i}{field}");
        assert_eq!(SYSTEM_ROLE, key(llm::INPUT_MESSAGES, 0, llm::MESSAGE_ROLE));
        assert_eq!(
            SYSTEM_CONTENT,
            key(llm::INPUT_MESSAGES, 0, llm::MESSAGE_CONTENT)
        );
        assert_eq!(USER_ROLE, key(llm::INPUT_MESSAGES, 1, llm::MESSAGE_ROLE));
        assert_eq!(
            USER_CONTENT,
            key(llm::INPUT_MESSAGES, 1, llm::MESSAGE_CONTENT)
        );
        assert_eq!(REPLY_ROLE, key(llm::OUTPUT_MESSAGES, 0, llm::MESSAGE_ROLE));
        assert_eq!(
            REPLY_CONTENT,
            key(llm::OUTPUT_MESSAGES, 0, llm::MESSAGE_CONTENT)
        );
    }

    #[test]
    fn the_llm_call_records_every_fact_of_the_chat_under_the_root() {
        let keep = Keep::default();
        let provider = SdkTracerProvider::builder()
            .with_simple_exporter(keep.clone())
            .build();
        let tracer = provider.tracer("test");
        let chat = Chats::new(2).next().clone();
        under_root(&tracer, &mut || llm_call(&tracer, &chat));
        let spans = keep.0.lock().unwrap_or_else(|p| p.into_inner()).clone();
        assert_eq!(spans.len(), 2);
        let (call, root) = (&spans[0], &spans[1]);
        assert_eq!(root.name, "request");
        assert_eq!(call.name, LLM_SPAN_NAME);
        assert_eq!(call.parent_span_id, root.span_context.span_id());
        let attrs: HashMap<&str, &Value> = call
            .attributes
            .iter()
            .map(|kv| (kv.key.as_str(), &kv.value))
            .collect();
        let text = |v: &str| Value::from(v.to_owned());
        let int = |n: u64| Value::I64(tokens(n));
        let expected = [
            (span::OPENINFERENCE_KIND, text("LLM")),
            (genai::REQUEST_MODEL, text(REQUEST_MODEL)),
            (llm::PROVIDER, text(PROVIDER)),
            (SYSTEM_ROLE, text("system")),
            (SYSTEM_CONTENT, text(&chat.system)),
            (USER_ROLE, text("user")),
            (USER_CONTENT, text(&chat.user)),
            (llm::MODEL_NAME, text(RESPONSE_MODEL)),
            (REPLY_ROLE, text("assistant")),
            (REPLY_CONTENT, text(&chat.reply)),
            (llm::TOKENS_PROMPT, int(chat.prompt_tokens)),
            (llm::TOKENS_COMPLETION, int(chat.completion_tokens)),
            (
                llm::TOKENS_TOTAL,
                int(chat.prompt_tokens + chat.completion_tokens),
            ),
            (llm::FINISH_REASON, text(FINISH_REASON)),
        ];
        assert_eq!(attrs.len(), expected.len(), "{attrs:?}");
        for (key, value) in &expected {
            assert_eq!(attrs.get(key), Some(&value), "{key}");
        }
    }
}
