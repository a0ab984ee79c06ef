//! Every HTTP request a service answers as a trace root, with the
//! request's end-user (feature `tower`; `axum` adds axum's matched route).
//!
//! [`TraceLayer`] wraps a [`tower`](https://docs.rs/tower) service (an axum
//! `Router`, a tonic or hyper service): for each request it opens a trace
//! root with the end-user your [`identity`](TraceLayer::identity) function
//! reads from the request (what your authentication decided), and runs the
//! handler inside it: the handler's spans are its children and
//! [`current_end_user`](crate::current_end_user) answers the request's
//! end-user at any depth. The root stays open until the response body has
//! been sent (a streamed answer included).
//!
//! # Trust is decided per request
//!
//! What a caller sends — `traceparent`, `baggage` — is believed only as far
//! as your [`trust`](TraceLayer::trust) function says for that request
//! ([`Trust`]). By default the layer believes nothing: a request starts a
//! trace of its own (with a span link to the caller's `traceparent`, if it
//! sent one) and its `baggage` is not read, so a client of a public service
//! can neither choose the end-user its traces and cost go to nor place them
//! in another trace. Say [`Trust::TraceContext`] for requests from your own
//! services to continue their traces, and [`Trust::TraceContextAndEndUser`]
//! for those allowed to assert the end-user; even then, an end-user your
//! identity function gives wins over the asserted one.
//!
//! A request with no end-user follows the usual precedence: the `init`
//! default, else none. An invalid id (from the identity function or a
//! believed caller) gives a trace with no end-user, never the default. The root is named `{METHOD} {route}` (`GET
//! /users/{id}`: the route template, never the raw path, which would make
//! one name per user), or `{METHOD}` when no route is known, as the
//! OpenTelemetry HTTP conventions ask, with the attributes of
//! [`wire::http`]. A 5xx answer or an error of the
//! service marks it ERROR; a 4xx is the client's error, not the server's,
//! and leaves the status unset.
//!
//! ```
//! use axum::{extract::Request, middleware::Next, response::Response, routing::get, Extension, Router};
//! use neatlogs::tower::{RequestIdentity, TraceLayer};
//!
//! /// Who is calling, as the application's authentication decided.
//! #[derive(Clone)]
//! struct CurrentUser { id: String, plan: &'static str }
//!
//! async fn auth(mut request: Request, next: Next) -> Response {
//!     // (Check a session or a token here.)
//!     let id = request.headers().get("x-user").and_then(|v| v.to_str().ok()).map(str::to_owned);
//!     if let Some(id) = id {
//!         request.extensions_mut().insert(CurrentUser { id, plan: "pro" });
//!     }
//!     next.run(request).await
//! }
//!
//! async fn show_user(Extension(user): Extension<CurrentUser>) -> String {
//!     // Inside the request's trace: spans here are children of its root.
//!     let who = neatlogs::current_end_user().map(|u| u.id().to_string());
//!     format!("{} ({who:?})", user.id)
//! }
//!
//! let app: Router = Router::new()
//!     .route("/users/{id}", get(show_user))
//!     // Inner layers run later: the trace layer sees what `auth` put in
//!     // the request's extensions. A public service: callers are trusted
//!     // with nothing (the default), so no `.trust(..)`.
//!     .layer(TraceLayer::new().identity(|request| {
//!         match request.extensions.get::<CurrentUser>() {
//!             Some(user) => RequestIdentity::new()
//!                 .end_user_id(&user.id)
//!                 .end_user_metadata(serde_json::json!({ "plan": user.plan })),
//!             None => RequestIdentity::default(),
//!         }
//!     }))
//!     .layer(axum::middleware::from_fn(auth));
//! # drop(app);
//! ```
//!
//! Calls to other services carry the trace on with
//! [`RequestBuilderExt::trace_context`](crate::propagation::RequestBuilderExt::trace_context)
//! (feature `reqwest`) or [`propagation::inject`];
//! [`Propagator::send_end_user`](crate::propagation::Propagator::send_end_user)
//! sends the end-user along, for the called service to believe or not.
//!
//! # What it costs
//!
//! With tracing off (no [`init`](crate::init)), a request pays one relaxed
//! atomic load and the wrappers' moves. On, it pays what a root costs, plus
//! the header parsing, the identity function, and one formatted name.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context as TaskContext, Poll};

use http::request::Parts;
use http::{Method, Request, Response};
use http_body::{Body, Frame, SizeHint};

use crate::propagation;
use crate::seam::{self, request_root, Given, IntoEndUserId, Link};
use crate::wire;
use crate::{Span, SpanHandle};

/// The end-user (and session) of one request, as the application knows it:
/// what the [`identity`](TraceLayer::identity) function returns. The same
/// rules as on [`trace`](crate::trace) apply: an empty id counts as not
/// given, an invalid one is dropped with a warning (and the trace has no
/// end-user, never the default), metadata travels with its id.
///
/// [`Default`] (or [`new`](RequestIdentity::new) alone) gives nothing: the
/// request gets the `init` default end-user, if there is one.
///
/// ```
/// use neatlogs::tower::RequestIdentity;
///
/// let known = RequestIdentity::new()
///     .end_user_id("u_812")
///     .end_user_metadata(serde_json::json!({ "plan": "pro" }))
///     .session_id("s_1");
/// let anonymous = RequestIdentity::default();
/// # drop((known, anonymous));
/// ```
#[derive(Default)]
#[must_use = "the identity is used only when the identity function returns it"]
pub struct RequestIdentity {
    given: Given,
}

impl fmt::Debug for RequestIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Which parts were given, not their values: ids are personal data.
        f.debug_struct("RequestIdentity")
            .field("end_user_id", &self.given.end_user.is_some())
            .field("end_user_metadata", &self.given.metadata.is_some())
            .field("session_id", &self.given.session.is_some())
            .finish()
    }
}

impl RequestIdentity {
    /// Nothing given yet.
    pub fn new() -> Self {
        RequestIdentity::default()
    }

    /// The request's end-user: the same types as
    /// [`SpanBuilder::end_user_id`](crate::SpanBuilder::end_user_id).
    pub fn end_user_id(mut self, id: impl IntoEndUserId) -> Self {
        self.given.end_user = Some(id.into_end_user_id());
        self
    }

    /// The end-user's metadata, a JSON object: see
    /// [`SpanBuilder::end_user_metadata`](crate::SpanBuilder::end_user_metadata).
    pub fn end_user_metadata<T: serde::Serialize>(mut self, metadata: T) -> Self {
        self.given.metadata = Some(seam::metadata_from(&metadata));
        self
    }

    /// The request's session (beats the `init` session).
    pub fn session_id(mut self, session: impl AsRef<str>) -> Self {
        self.given.session = Some(seam::parse_session(session.as_ref()));
        self
    }
}

/// How far one request's caller is believed: what the
/// [`trust`](TraceLayer::trust) function returns for it. Decide it from
/// what the caller proved (a service token, mTLS, a private listener),
/// never from what it merely says.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Trust {
    /// A stranger (the default): the request starts a trace of its own,
    /// with a span link to the caller's `traceparent` when it sent a valid
    /// one; `baggage` is not read.
    #[default]
    Nothing,
    /// One of your services: the request's root continues the caller's
    /// trace (its `traceparent` and `tracestate`); `baggage` is not read,
    /// so the end-user is this service's own (identity function, else the
    /// `init` default, else none).
    TraceContext,
    /// One of your services that may assert the end-user: continue its
    /// trace, and believe the `neatlogs.end_user.id` it sends in `baggage`
    /// when the identity function gives no end-user (an identity function's
    /// end-user wins; a conflict is logged with both ids). An invalid
    /// asserted id gives a trace with no end-user.
    TraceContextAndEndUser,
}

type IdentityFn = dyn Fn(&Parts) -> RequestIdentity + Send + Sync;
type TrustFn = dyn Fn(&Parts) -> Trust + Send + Sync;
type RouteFn = dyn Fn(&Parts) -> Option<String> + Send + Sync;

/// A [`tower_layer::Layer`] that makes every request a trace root: see the
/// [module documentation](self).
///
/// Cheap to clone (three `Arc`s).
#[derive(Clone)]
#[must_use = "a layer does nothing until it wraps a service"]
pub struct TraceLayer {
    identity: Option<Arc<IdentityFn>>,
    trust: Option<Arc<TrustFn>>,
    route: Arc<RouteFn>,
}

impl fmt::Debug for TraceLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TraceLayer")
            .field("identity", &self.identity.is_some())
            .field("trust", &self.trust.is_some())
            .finish_non_exhaustive()
    }
}

impl Default for TraceLayer {
    fn default() -> Self {
        TraceLayer::new()
    }
}

impl TraceLayer {
    /// No identity of its own (each request gets the `init` default, if
    /// any), callers trusted with nothing ([`Trust::Nothing`]), and the
    /// route from axum's `MatchedPath` (feature `axum`; none without it).
    pub fn new() -> Self {
        TraceLayer {
            identity: None,
            trust: None,
            route: Arc::new(default_route),
        }
    }

    /// How to read a request's end-user: from what an authentication
    /// middleware or extractor put in its extensions, or from its headers.
    /// Called once per request, before the handler runs.
    pub fn identity<F>(mut self, f: F) -> Self
    where
        F: Fn(&Parts) -> RequestIdentity + Send + Sync + 'static,
    {
        self.identity = Some(Arc::new(f));
        self
    }

    /// How to read a request's route template (`/users/{id}`): it names the
    /// root and is its `http.route`. Return `None` when there is none; never
    /// the raw path.
    pub fn route<F>(mut self, f: F) -> Self
    where
        F: Fn(&Parts) -> Option<String> + Send + Sync + 'static,
    {
        self.route = Arc::new(f);
        self
    }

    /// How far each request's caller is believed ([`Trust`]): called once
    /// per request, before the handler runs, on what your authentication
    /// put in the request (a verified service token, the listener it came
    /// in on). Without it, every caller is trusted with nothing.
    ///
    /// ```
    /// use neatlogs::tower::{TraceLayer, Trust};
    ///
    /// /// Put in the extensions by the application's service-to-service
    /// /// authentication, once it has verified the caller's token.
    /// #[derive(Clone)]
    /// struct VerifiedService;
    ///
    /// let layer = TraceLayer::new().trust(|request| {
    ///     if request.extensions.get::<VerifiedService>().is_some() {
    ///         Trust::TraceContextAndEndUser
    ///     } else {
    ///         Trust::Nothing
    ///     }
    /// });
    /// # drop(layer);
    /// ```
    pub fn trust<F>(mut self, f: F) -> Self
    where
        F: Fn(&Parts) -> Trust + Send + Sync + 'static,
    {
        self.trust = Some(Arc::new(f));
        self
    }

    /// The request's root, open (and not yet current anywhere).
    fn start<B>(&self, request: Request<B>) -> (Request<B>, Span) {
        if !seam::enabled() {
            return (request, Span::none());
        }
        let (parts, body) = request.into_parts();
        let trust = self.trust.as_ref().map_or(Trust::Nothing, |f| f(&parts));
        // A stranger is only linked to: its ids are read, not its
        // tracestate or baggage.
        let (caller, link) = match trust {
            Trust::Nothing => (
                None,
                propagation::caller(&parts.headers)
                    .map(|(trace_id, span_id, _)| Link { trace_id, span_id }),
            ),
            Trust::TraceContext | Trust::TraceContextAndEndUser => (
                propagation::read_caller(&parts.headers, trust == Trust::TraceContextAndEndUser),
                None,
            ),
        };
        let mut identity = self
            .identity
            .as_ref()
            .map(|f| f(&parts).given)
            .unwrap_or_default();
        identity.origin = Some("returned by the TraceLayer identity function");
        let route = (self.route)(&parts);
        let (method, original) = method_name(&parts.method);
        let name = match &route {
            Some(route) => format!("{} {route}", name_method(method)),
            None => name_method(method).to_owned(),
        };
        let mut root = request_root(Cow::Owned(name), caller, link, identity)
            .attribute(wire::http::REQUEST_METHOD, method)
            .attribute(wire::http::URL_PATH, parts.uri.path().to_owned());
        if original {
            root = root.attribute(
                wire::http::REQUEST_METHOD_ORIGINAL,
                parts.method.as_str().to_owned(),
            );
        }
        if let Some(route) = route {
            root = root.attribute(wire::http::ROUTE, route);
        }
        (Request::from_parts(parts, body), root.start())
    }
}

/// The route axum matched (feature `axum`).
#[cfg(feature = "axum")]
fn default_route(parts: &Parts) -> Option<String> {
    parts
        .extensions
        .get::<axum::extract::MatchedPath>()
        .map(|path| path.as_str().to_owned())
}

/// No route known (without feature `axum`).
#[cfg(not(feature = "axum"))]
fn default_route(_: &Parts) -> Option<String> {
    None
}

/// The method as `http.request.method` writes it, and whether it is
/// `_OTHER` (a method outside the HTTP specifications, whose name a client
/// chooses, so it must not multiply span names).
fn method_name(method: &Method) -> (&'static str, bool) {
    let known = match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => return ("_OTHER", true),
    };
    (known, false)
}

/// The method in a span name: `HTTP` for `_OTHER`.
fn name_method(method: &'static str) -> &'static str {
    if method == "_OTHER" {
        "HTTP"
    } else {
        method
    }
}

impl<S> tower_layer::Layer<S> for TraceLayer {
    type Service = TraceService<S>;

    fn layer(&self, inner: S) -> TraceService<S> {
        TraceService {
            inner,
            layer: self.clone(),
        }
    }
}

/// A service wrapped by [`TraceLayer`]: each request is a trace root.
#[derive(Clone, Debug)]
pub struct TraceService<S> {
    inner: S,
    layer: TraceLayer,
}

impl<S> TraceService<S> {
    /// Wrap `inner` (what [`TraceLayer`] does as a layer).
    pub fn new(inner: S, layer: TraceLayer) -> Self {
        TraceService { inner, layer }
    }

    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }
}

impl<S, ReqBody, ResBody> tower_service::Service<Request<ReqBody>> for TraceService<S>
where
    S: tower_service::Service<Request<ReqBody>, Response = Response<ResBody>>,
    S::Error: fmt::Display,
{
    type Response = Response<TracedBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let (request, mut span) = self.layer.start(request);
        // Some services start their work in `call`: inside the root too.
        let inner = span.in_scope(|| self.inner.call(request));
        ResponseFuture {
            inner,
            span: Some(span),
        }
    }
}

pin_project_lite::pin_project! {
    /// The response of a [`TraceService`]: the service's future, polled
    /// inside the request's root. On the response, the root gets the status
    /// code and moves into the body ([`TracedBody`]); on an error of the
    /// service, it is marked ERROR and ends.
    #[must_use = "futures do nothing unless polled"]
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        span: Option<Span>,
    }
}

impl<F> fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture")
            .field("span", &self.span)
            .finish_non_exhaustive()
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
    E: fmt::Display,
{
    type Output = Result<Response<TracedBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut inner = this.inner;
        let result = ready!(match this.span.as_mut() {
            Some(span) => span.in_scope(|| inner.as_mut().poll(cx)),
            None => inner.poll(cx),
        });
        let mut span = this.span.take().unwrap_or_default();
        match result {
            Ok(response) => {
                let status = response.status();
                span.set_attribute(wire::http::RESPONSE_STATUS_CODE, status.as_u16());
                if status.is_server_error() {
                    let reason = status.canonical_reason().unwrap_or("server error");
                    span.record_error(&format_args!("HTTP {} {reason}", status.as_u16()));
                }
                Poll::Ready(Ok(response.map(|body| TracedBody {
                    inner: body,
                    span: Some(span),
                })))
            }
            Err(error) => {
                span.record_error(&error);
                span.end();
                Poll::Ready(Err(error))
            }
        }
    }
}

pin_project_lite::pin_project! {
    /// A response body that keeps the request's root open until it has
    /// been sent: the root ends when the body ends (its last frame, or
    /// [`is_end_stream`](Body::is_end_stream) after one), fails (the root
    /// is then ERROR) or is dropped (the client went away). Each frame is
    /// produced inside the root, so spans a streamed body opens are its
    /// children.
    pub struct TracedBody<B> {
        #[pin]
        inner: B,
        span: Option<Span>,
    }
}

impl<B> fmt::Debug for TracedBody<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TracedBody")
            .field("span", &self.span)
            .finish_non_exhaustive()
    }
}

impl<B> TracedBody<B> {
    /// The wrapped body.
    pub fn get_ref(&self) -> &B {
        &self.inner
    }
}

impl<B> Body for TracedBody<B>
where
    B: Body,
    B::Error: fmt::Display,
{
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        let this = self.project();
        let mut inner = this.inner;
        let Some(span) = this.span.as_mut() else {
            return inner.poll_frame(cx);
        };
        let frame = ready!(span.in_scope(|| inner.as_mut().poll_frame(cx)));
        match &frame {
            Some(Ok(_)) if !inner.is_end_stream() => {}
            Some(Ok(_)) | None => drop(this.span.take()),
            Some(Err(error)) => {
                span.record_error(error);
                drop(this.span.take());
            }
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_outside_the_specifications_are_other() {
        assert_eq!(method_name(&Method::GET), ("GET", false));
        let custom = Method::from_bytes(b"PURGE").unwrap();
        assert_eq!(method_name(&custom), ("_OTHER", true));
        assert_eq!(name_method("_OTHER"), "HTTP");
    }
}
