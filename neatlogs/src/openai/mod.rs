//! [async-openai](https://docs.rs/async-openai) calls as spans (feature
//! `async-openai`): wrap the client once, and every chat completion (plain
//! or streamed) becomes an LLM span and every embedding call an EMBEDDING
//! span, with the request, the reply, the token usage and any error.
//!
//! ```no_run
//! use async_openai::config::OpenAIConfig;
//! use async_openai::types::chat::{
//!     ChatCompletionRequestUserMessage, CreateChatCompletionRequestArgs,
//! };
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! neatlogs::init(neatlogs::Config::from_env())?;
//! // The one line that changes: everything else is async-openai's API.
//! let client = neatlogs::openai::instrument(async_openai::Client::with_config(OpenAIConfig::new()));
//!
//! let request = CreateChatCompletionRequestArgs::default()
//!     .model("gpt-4o-mini")
//!     .messages([ChatCompletionRequestUserMessage::from("Where is my refund?").into()])
//!     .build()?;
//! // Inside a trace, the call is a child span of it (and belongs to its
//! // end-user); outside any trace, it is a trace of its own.
//! let reply = neatlogs::trace("support")
//!     .end_user_id("u_812")
//!     .instrument(client.chat().create(request))
//!     .await?;
//! println!("{:?}", reply.choices[0].message.content);
//! # Ok(()) }
//! ```
//!
//! # What a chat completion records
//!
//! The span is named `openai.chat.completions.create`, as the official
//! Python SDK names it, with:
//!
//! - the model asked for, the provider (`openai` unless set with
//!   [`TracedClient::provider`]) and the system;
//! - the prompt's messages: role, text (the text parts of a message made of
//!   parts, with `[image]`, `[audio]` and `[file]` standing for the others),
//!   the author's name, the tool call a tool message answers; an assistant
//!   message that only calls tools has those calls as its text, in OpenAI's
//!   JSON form;
//! - the tools offered (and the deprecated `functions`), and the invocation
//!   parameters (`temperature`, `top_p`, `max_tokens`,
//!   `max_completion_tokens`, penalties, `n`, `seed`, `stop`, ...) as one
//!   JSON object;
//! - from the reply: the model that answered, the response id, one output
//!   message per choice, the first choice's tool calls and finish reason,
//!   and the usage (prompt, completion, total, cached prompt tokens,
//!   reasoning tokens);
//! - status OK on success, as the Python SDK sets it; an error
//!   ([`OpenAIError`]: HTTP, API, deserialisation, invalid argument) marks the
//!   span ERROR with the error's message and is returned unchanged.
//!
//! Prompts and replies follow [`Config::capture_content`](crate::Config::capture_content)
//! like any other content.
//!
//! # Streams
//!
//! [`TracedChat::create_stream`] returns async-openai's own
//! [`ChatCompletionResponseStream`] type; the span lives in the stream, and
//! each poll runs inside it. The span records the time to first token (at
//! the first chunk that carries text, a refusal or a tool call), the text
//! and tool calls as they add up, the finish reason, and the usage.
//!
//! To get the usage, the request is sent with `stream_options.include_usage
//! = true` when the caller did not ask for it; the server then ends the
//! stream with one chunk that has no choices and only the usage, and that
//! chunk is kept from the caller, who sees the stream they asked for. A
//! caller who asked for the usage gets that chunk as usual.
//!
//! The span ends when the stream ends (status OK, or ERROR if an item was
//! an error). A stream dropped before its end ends the span at the drop,
//! with what had arrived: the text so far, usually no finish reason and no
//! usage (they come last), status left unset, and
//! `neatlogs.stream.cancelled = true`.
//!
//! When tracing is off (no [`init`](crate::init), or the span is not
//! recorded), requests and streams pass through untouched.

mod reply;
mod request;
mod stream;

use crate::SpanHandle;
use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::ops::Deref;

use async_openai::config::Config;
use async_openai::error::OpenAIError;
use async_openai::traits::RequestOptionsBuilder;
use async_openai::types::chat::{
    ChatCompletionResponseStream, CreateChatCompletionRequest, CreateChatCompletionResponse,
};
use async_openai::types::embeddings::{
    CreateBase64EmbeddingResponse, CreateEmbeddingRequest, CreateEmbeddingResponse,
};
use async_openai::{Chat, Client, Embeddings, RequestOptions};

use crate::Span;
use crate::SpanKind;

/// The name of a chat completion's span, as the Python SDK's OpenAI
/// wrapper names it.
const CHAT_SPAN: &str = "openai.chat.completions.create";
/// The name of an embedding call's span.
const EMBEDDINGS_SPAN: &str = "openai.embeddings.create";
/// The provider unless [`TracedClient::provider`] says otherwise.
const DEFAULT_PROVIDER: &str = "openai";

/// Wrap an async-openai client: its chat completions and embeddings become
/// spans. Everything else about the client stays as it was (the wrapper
/// dereferences to it).
///
/// ```
/// use async_openai::config::{Config, OpenAIConfig};
///
/// let config = OpenAIConfig::new().with_api_base("http://127.0.0.1:8000/v1");
/// let client = neatlogs::openai::instrument(async_openai::Client::with_config(config))
///     .provider("vllm");
/// assert_eq!(client.config().api_base(), "http://127.0.0.1:8000/v1");
/// ```
pub fn instrument<C: Config>(client: Client<C>) -> TracedClient<C> {
    TracedClient::new(client)
}

/// An async-openai [`Client`] whose [`chat`](TracedClient::chat) and
/// [`embeddings`](TracedClient::embeddings) calls are traced. Made by
/// [`instrument`]; dereferences to the client for every other API.
#[derive(Clone)]
pub struct TracedClient<C: Config> {
    client: Client<C>,
    provider: Cow<'static, str>,
    system: Option<Cow<'static, str>>,
}

impl<C: Config + fmt::Debug> fmt::Debug for TracedClient<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TracedClient")
            .field("client", &self.client)
            .field("provider", &self.provider)
            .field("system", &self.system)
            .finish()
    }
}

impl<C: Config> TracedClient<C> {
    /// Wrap `client` (what [`instrument`] does).
    pub fn new(client: Client<C>) -> Self {
        TracedClient {
            client,
            provider: Cow::Borrowed(DEFAULT_PROVIDER),
            system: None,
        }
    }

    /// The provider the spans name (`openai` by default): `vllm`,
    /// `together`, `azure`, ... for an OpenAI-compatible server (its URL is
    /// async-openai's `OpenAIConfig::with_api_base`).
    pub fn provider(mut self, provider: impl Into<Cow<'static, str>>) -> Self {
        self.provider = provider.into();
        self
    }

    /// The AI system, when it differs from the provider (OpenAI models
    /// served by Azure: system `openai`, provider `azure`). Unset, it is
    /// the provider.
    pub fn system(mut self, system: impl Into<Cow<'static, str>>) -> Self {
        self.system = Some(system.into());
        self
    }

    /// Chat completions, traced: [`create`](TracedChat::create) and
    /// [`create_stream`](TracedChat::create_stream).
    pub fn chat(&self) -> TracedChat<'_, C> {
        TracedChat {
            chat: self.client.chat(),
            traced: self,
        }
    }

    /// Embeddings, traced: [`create`](TracedEmbeddings::create) and
    /// [`create_base64`](TracedEmbeddings::create_base64).
    pub fn embeddings(&self) -> TracedEmbeddings<'_, C> {
        TracedEmbeddings {
            embeddings: self.client.embeddings(),
            traced: self,
        }
    }

    /// The wrapped client.
    pub fn inner(&self) -> &Client<C> {
        &self.client
    }

    /// The wrapped client, unwrapped.
    pub fn into_inner(self) -> Client<C> {
        self.client
    }

    /// An LLM or EMBEDDING span named `name`, open, with the provider and
    /// system (a span that records nothing when tracing is off).
    fn start(&self, kind: SpanKind, name: &'static str) -> Span {
        let mut span = crate::span(kind, name).start();
        if span.is_open() {
            span.set_provider(self.provider.clone());
            if let Some(system) = &self.system {
                span.set_system(system.clone());
            }
        }
        span
    }
}

impl<C: Config> Deref for TracedClient<C> {
    type Target = Client<C>;

    fn deref(&self) -> &Client<C> {
        &self.client
    }
}

/// async-openai's [`Chat`] group, with traced [`create`](TracedChat::create)
/// and [`create_stream`](TracedChat::create_stream); its other methods
/// (`retrieve`, `list`, ...) are reached through `Deref`, and request options
/// (`headers`, `query`) through [`RequestOptionsBuilder`].
pub struct TracedChat<'c, C: Config> {
    chat: Chat<'c, C>,
    traced: &'c TracedClient<C>,
}

impl<C: Config> fmt::Debug for TracedChat<'_, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TracedChat")
            .field("provider", &self.traced.provider)
            .finish_non_exhaustive()
    }
}

impl<C: Config> TracedChat<'_, C> {
    /// async-openai's `Chat::create`, as an LLM span: see the
    /// [module docs](self) for what it records.
    pub async fn create(
        &self,
        request: CreateChatCompletionRequest,
    ) -> Result<CreateChatCompletionResponse, OpenAIError> {
        let mut span = self.span(&request, false);
        let result = in_span(&mut span, self.chat.create(request)).await;
        if span.is_open() {
            match &result {
                Ok(response) => {
                    reply::record_response(&mut span, response);
                    span.set_ok();
                }
                Err(error) => span.record_error(error),
            }
        }
        result
    }

    /// async-openai's `Chat::create_stream`, as an LLM span that the
    /// returned stream carries until its end (or its drop): see
    /// [Streams](self#streams) for the usage chunk and what an early drop
    /// records.
    pub async fn create_stream(
        &self,
        mut request: CreateChatCompletionRequest,
    ) -> Result<ChatCompletionResponseStream, OpenAIError> {
        let mut span = self.span(&request, true);
        let mut hide_usage = false;
        if span.is_open() {
            let options = request.stream_options.get_or_insert_with(Default::default);
            if options.include_usage != Some(true) {
                options.include_usage = Some(true);
                hide_usage = true;
            }
        }
        let result = in_span(&mut span, self.chat.create_stream(request)).await;
        match result {
            Ok(inner) if span.is_open() => {
                Ok(Box::pin(stream::TracedStream::new(inner, span, hide_usage)))
            }
            Ok(inner) => Ok(inner),
            Err(error) => {
                span.record_error(&error);
                Err(error)
            }
        }
    }

    /// The span of a chat completion, open, with the request recorded.
    fn span(&self, request: &CreateChatCompletionRequest, streaming: bool) -> Span {
        let mut span = self.traced.start(SpanKind::Llm, CHAT_SPAN);
        if span.is_open() {
            request::describe(&mut span, request);
            span.set_streaming(streaming);
        }
        span
    }
}

impl<'c, C: Config> Deref for TracedChat<'c, C> {
    type Target = Chat<'c, C>;

    fn deref(&self) -> &Chat<'c, C> {
        &self.chat
    }
}

impl<C: Config> RequestOptionsBuilder for TracedChat<'_, C> {
    fn options_mut(&mut self) -> &mut RequestOptions {
        self.chat.options_mut()
    }

    fn options(&self) -> &RequestOptions {
        self.chat.options()
    }
}

/// async-openai's [`Embeddings`] group, with traced
/// [`create`](TracedEmbeddings::create) and
/// [`create_base64`](TracedEmbeddings::create_base64).
///
/// An EMBEDDING span named `openai.embeddings.create`: the model asked for
/// and the one that answered (also as `neatlogs.embedding.model_name`), the
/// provider, the prompt and total tokens, the number of embeddings
/// returned (`neatlogs.embedding.count`) and their dimensions
/// (`neatlogs.embedding.dimensions`, float vectors only). Status OK, or
/// ERROR with the error's message. The input text is not recorded.
pub struct TracedEmbeddings<'c, C: Config> {
    embeddings: Embeddings<'c, C>,
    traced: &'c TracedClient<C>,
}

impl<C: Config> fmt::Debug for TracedEmbeddings<'_, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TracedEmbeddings")
            .field("provider", &self.traced.provider)
            .finish_non_exhaustive()
    }
}

impl<C: Config> TracedEmbeddings<'_, C> {
    /// async-openai's `Embeddings::create`, as an EMBEDDING span.
    pub async fn create(
        &self,
        request: CreateEmbeddingRequest,
    ) -> Result<CreateEmbeddingResponse, OpenAIError> {
        let model = request.model.clone();
        let mut span = self.span(&model);
        let result = in_span(&mut span, self.embeddings.create(request)).await;
        let outcome = result.as_ref().map(|r| reply::Embedded {
            model: &r.model,
            count: r.data.len(),
            dimensions: r.data.first().map(|e| e.embedding.len()),
            usage: &r.usage,
        });
        reply::record_embeddings(&mut span, &model, outcome);
        result
    }

    /// async-openai's `Embeddings::create_base64`, as an EMBEDDING span
    /// (without the dimensions: the vectors stay encoded).
    pub async fn create_base64(
        &self,
        request: CreateEmbeddingRequest,
    ) -> Result<CreateBase64EmbeddingResponse, OpenAIError> {
        let model = request.model.clone();
        let mut span = self.span(&model);
        let result = in_span(&mut span, self.embeddings.create_base64(request)).await;
        let outcome = result.as_ref().map(|r| reply::Embedded {
            model: &r.model,
            count: r.data.len(),
            dimensions: None,
            usage: &r.usage,
        });
        reply::record_embeddings(&mut span, &model, outcome);
        result
    }

    fn span(&self, model: &str) -> Span {
        let mut span = self.traced.start(SpanKind::Embedding, EMBEDDINGS_SPAN);
        if span.is_open() {
            span.set_model(model.to_owned());
        }
        span
    }
}

impl<'c, C: Config> Deref for TracedEmbeddings<'c, C> {
    type Target = Embeddings<'c, C>;

    fn deref(&self) -> &Embeddings<'c, C> {
        &self.embeddings
    }
}

impl<C: Config> RequestOptionsBuilder for TracedEmbeddings<'_, C> {
    fn options_mut(&mut self) -> &mut RequestOptions {
        self.embeddings.options_mut()
    }

    fn options(&self) -> &RequestOptions {
        self.embeddings.options()
    }
}

/// Drive `fut` with `span` current on every poll: whatever it opens is a
/// child of the call's span.
async fn in_span<F: Future>(span: &mut Span, fut: F) -> F::Output {
    let mut fut = std::pin::pin!(fut);
    std::future::poll_fn(|cx| span.in_scope(|| fut.as_mut().poll(cx))).await
}
