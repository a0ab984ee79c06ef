//! A streamed chat completion that carries its span: each poll runs inside
//! it, and it ends when the stream ends or is dropped.

use crate::SpanHandle;
use std::pin::Pin;
use std::task::{Context, Poll};

use async_openai::error::OpenAIError;
use async_openai::types::chat::{ChatCompletionResponseStream, CreateChatCompletionStreamResponse};
use futures_core::Stream;

use super::reply::StreamedReply;
use crate::wire;
use crate::Span;

/// async-openai's stream, with the call's span and what has arrived.
pub(super) struct TracedStream {
    inner: ChatCompletionResponseStream,
    /// `None` once the span has ended (the stream ended).
    span: Option<Span>,
    reply: StreamedReply,
    /// Keep the usage-only chunk from the caller (the caller did not ask
    /// for it; the request was changed to get it).
    hide_usage: bool,
    /// An item was an error: the span is ERROR, not OK, at the end.
    failed: bool,
}

impl TracedStream {
    pub(super) fn new(inner: ChatCompletionResponseStream, span: Span, hide_usage: bool) -> Self {
        TracedStream {
            inner,
            span: Some(span),
            reply: StreamedReply::default(),
            hide_usage,
            failed: false,
        }
    }
}

/// A chunk with no choices and the usage: what `include_usage` adds at the
/// end of a stream.
fn usage_only(chunk: &CreateChatCompletionStreamResponse) -> bool {
    chunk.choices.is_empty() && chunk.usage.is_some()
}

impl Stream for TracedStream {
    type Item = Result<CreateChatCompletionStreamResponse, OpenAIError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            // Ended: async-openai's stream must not be polled again.
            let Some(span) = &mut this.span else {
                return Poll::Ready(None);
            };
            let inner = &mut this.inner;
            let item = match span.in_scope(|| inner.as_mut().poll_next(cx)) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(item) => item,
            };
            match item {
                Some(Ok(chunk)) => {
                    if this.reply.add(&chunk) {
                        span.record_first_token();
                    }
                    if this.hide_usage && usage_only(&chunk) {
                        continue;
                    }
                    return Poll::Ready(Some(Ok(chunk)));
                }
                Some(Err(error)) => {
                    span.record_error(&error);
                    this.failed = true;
                    return Poll::Ready(Some(Err(error)));
                }
                None => {
                    if let Some(mut span) = this.span.take() {
                        std::mem::take(&mut this.reply).record(&mut span);
                        if !this.failed {
                            span.set_ok();
                        }
                    }
                    return Poll::Ready(None);
                }
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match self.span {
            Some(_) => (0, self.inner.size_hint().1),
            None => (0, Some(0)),
        }
    }
}

impl Drop for TracedStream {
    /// Dropped before its end: the span ends now, with what arrived and its
    /// status as it was (unset unless an item was an error).
    fn drop(&mut self) {
        if let Some(mut span) = self.span.take() {
            std::mem::take(&mut self.reply).record(&mut span);
            span.set_attribute(wire::stream::CANCELLED, true);
        }
    }
}
