//! The HTTP server layer benchmark (`benches/http_layer.rs`): one axum
//! route, `GET /users/{id}`, called in process (no sockets) with
//! `tower::ServiceExt::oneshot` on a current-thread tokio runtime, the
//! response body collected to the end. Three ways of serving it, the same
//! [`Call`] for each:
//!
//! - [`bare_app`]: no tracing layer (the baseline: routing, the handler and
//!   the body alone);
//! - [`neatlogs_app`]: `neatlogs::tower::TraceLayer`, the end-user read from
//!   the `x-user` header;
//! - [`tower_http_app`]: tower-http's `TraceLayer::new_for_http()`, its span
//!   made the way an OpenTelemetry user makes it comparable: named by route
//!   (`otel.name`), the end-user as `enduser.id`, the HTTP attributes
//!   neatlogs writes, the caller's `traceparent` continued with the SDK's
//!   `TraceContextPropagator`, and the status code recorded on the response.
//!   Recorded by `tracing_opentelemetry::layer()` when the process's
//!   subscriber has it.

use std::hint::black_box;

use axum::body::Body;
use axum::extract::{MatchedPath, Path};
use axum::routing::get;
use axum::Router;
use http::header::{HeaderName, HeaderValue};
use http::{Method, Request, Response, Uri};
use http_body_util::BodyExt as _;
use neatlogs::tower::{RequestIdentity, TraceLayer, Trust};
use opentelemetry::propagation::TextMapPropagator as _;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tower::ServiceExt as _;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

use crate::propagation::{HeaderExtractor, CALLER_TRACEPARENT, CALLER_TRACESTATE};
use crate::scenario::{Ring, Synthetic};

/// The one route of the application.
pub const ROUTE: &str = "/users/{id}";

/// The header the application reads its end-user from.
pub const USER_HEADER: &str = "x-user";

/// One incoming call, prebuilt so that the application's strings are not
/// part of what is timed: its URI (`/users/{user}`) and its `x-user`
/// header, both cheap to clone (shared bytes).
#[derive(Debug, Clone)]
pub struct Call {
    /// `/users/{user}`.
    pub uri: Uri,
    /// The end-user, as the `x-user` header carries it.
    pub user: HeaderValue,
}

impl Synthetic for Call {
    fn nth(i: usize) -> Self {
        let user = crate::scenario::Request::new(i).user_id;
        let uri = format!("/users/{user}")
            .parse()
            .unwrap_or_else(|e| panic!("a synthetic URI is valid: {e}"));
        let user = HeaderValue::from_str(&user)
            .unwrap_or_else(|e| panic!("a synthetic user id is a valid header: {e}"));
        Call { uri, user }
    }
}

/// A ring of prebuilt calls.
pub type Calls = Ring<Call>;

impl Call {
    /// The request: `GET` with the `x-user` header, and, when `continued`,
    /// the caller's `traceparent` and `tracestate`.
    pub fn request(&self, continued: bool) -> Request<Body> {
        let mut request = Request::new(Body::empty());
        *request.method_mut() = Method::GET;
        *request.uri_mut() = self.uri.clone();
        let headers = request.headers_mut();
        headers.insert(HeaderName::from_static(USER_HEADER), self.user.clone());
        if continued {
            headers.insert(
                HeaderName::from_static("traceparent"),
                HeaderValue::from_static(CALLER_TRACEPARENT),
            );
            headers.insert(
                HeaderName::from_static("tracestate"),
                HeaderValue::from_static(CALLER_TRACESTATE),
            );
        }
        request
    }
}

/// The handler: answers the id of the path.
async fn show_user(Path(id): Path<String>) -> String {
    id
}

/// The application with no tracing layer.
pub fn bare_app() -> Router {
    Router::new().route(ROUTE, get(show_user))
}

/// The end-user of a request, from its `x-user` header.
fn header_user(headers: &http::HeaderMap) -> Option<&str> {
    headers.get(USER_HEADER).and_then(|v| v.to_str().ok())
}

/// The application behind `neatlogs::tower::TraceLayer`, the end-user from
/// `x-user`; the root is named by axum's matched route. The caller's trace
/// is continued (`Trust::TraceContext`), as the OpenTelemetry stack does.
pub fn neatlogs_app() -> Router {
    bare_app().layer(
        TraceLayer::new()
            .identity(|parts| match header_user(&parts.headers) {
                Some(user) => RequestIdentity::new().end_user_id(user),
                None => RequestIdentity::default(),
            })
            .trust(|_| Trust::TraceContext),
    )
}

/// The application behind tower-http's `TraceLayer::new_for_http()`, with
/// a span that records what neatlogs' root records: see the [module
/// documentation](self). tower-http's default `on_request`, `on_response`
/// and `on_eos` events ("started processing request", "finished processing
/// request", "end of stream") are replaced, so that neither stack records
/// events; its `on_failure` (an event on a 5xx or an error) is kept.
pub fn tower_http_app() -> Router {
    let propagator = TraceContextPropagator::new();
    let layer = tower_http::trace::TraceLayer::new_for_http()
        .make_span_with(move |request: &Request<Body>| {
            let method = request.method().as_str();
            let route = request
                .extensions()
                .get::<MatchedPath>()
                .map(MatchedPath::as_str);
            let name = match route {
                Some(route) => format!("{method} {route}"),
                None => method.to_owned(),
            };
            let span = tracing::info_span!(
                "request",
                otel.name = name.as_str(),
                otel.kind = "server",
                http.request.method = method,
                url.path = request.uri().path(),
                http.route = route,
                enduser.id = header_user(request.headers()),
                http.response.status_code = tracing::field::Empty,
            );
            let caller = propagator.extract(&HeaderExtractor(request.headers()));
            // Fails only without the OpenTelemetry layer (no subscriber):
            // then there is no trace to continue.
            let _ = span.set_parent(caller);
            span
        })
        .on_request(())
        .on_body_chunk(())
        .on_eos(())
        .on_response(|response: &Response<_>, _latency, span: &tracing::Span| {
            span.record(
                "http.response.status_code",
                i64::from(response.status().as_u16()),
            );
        });
    bare_app().layer(layer)
}

/// Serve `n` calls of `calls` one after the other through `app`, each
/// response body collected to its end, on the current-thread runtime `rt`.
/// Returns the number of responses that were not `200 OK` with a body.
pub fn serve(
    rt: &tokio::runtime::Runtime,
    app: &Router,
    calls: &mut Calls,
    n: u64,
    continued: bool,
) -> u64 {
    rt.block_on(async {
        let mut failed = 0;
        for _ in 0..n {
            let request = calls.next().request(continued);
            let response = match app.clone().oneshot(request).await {
                Ok(response) => response,
                Err(never) => match never {},
            };
            let ok = response.status() == http::StatusCode::OK;
            let body = response.into_body().collect().await.map(|b| b.to_bytes());
            match body {
                Ok(body) if ok && !black_box(&body).is_empty() => {}
                _ => failed += 1,
            }
        }
        failed
    })
}

/// One call served through `app` on a fresh current-thread runtime: the
/// status and the body (for the tests).
pub fn serve_one(app: &Router, call: &Call, continued: bool) -> (http::StatusCode, String) {
    let rt = runtime();
    rt.block_on(async {
        let response = match app.clone().oneshot(call.request(continued)).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map(|b| String::from_utf8_lossy(&b.to_bytes()).into_owned())
            .unwrap_or_else(|e| format!("<body error: {e}>"));
        (status, body)
    })
}

/// The current-thread runtime the calls are driven on.
pub fn runtime() -> tokio::runtime::Runtime {
    match tokio::runtime::Builder::new_current_thread().build() {
        Ok(rt) => rt,
        Err(e) => panic!("could not build a current-thread runtime: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use opentelemetry::trace::{SpanKind, TracerProvider as _};
    use opentelemetry::Value;
    use opentelemetry_sdk::trace::SdkTracerProvider;
    use tracing_subscriber::layer::SubscriberExt as _;

    use super::*;

    fn call() -> Call {
        Call::nth(3)
    }

    fn caller_ids() -> (&'static str, &'static str) {
        let mut parts = CALLER_TRACEPARENT.split('-').skip(1);
        (parts.next().unwrap(), parts.next().unwrap())
    }

    #[test]
    fn every_app_answers_the_user_of_the_path() {
        let call = call();
        let user = call.user.to_str().unwrap().to_owned();
        for app in [bare_app(), neatlogs_app(), tower_http_app()] {
            for continued in [false, true] {
                let (status, body) = serve_one(&app, &call, continued);
                assert_eq!(status, http::StatusCode::OK);
                assert_eq!(body, user);
            }
        }
        let rt = runtime();
        let mut calls = Calls::new(4);
        assert_eq!(serve(&rt, &neatlogs_app(), &mut calls, 8, true), 0);
    }

    #[test]
    fn the_neatlogs_root_is_named_by_route_with_the_end_user_and_the_caller() {
        let call = call();
        let app = neatlogs_app();
        for continued in [false, true] {
            let (_, spans) = neatlogs::testing::with_capture(|| serve_one(&app, &call, continued));
            assert_eq!(spans.len(), 1, "{spans:?}");
            let root = &spans[0];
            assert_eq!(root.name(), "GET /users/{id}");
            assert_eq!(
                root.end_user().map(|u| u.id().as_str()),
                call.user.to_str().ok()
            );
            assert_eq!(
                root.attribute(neatlogs::wire::http::ROUTE)
                    .and_then(|v| v.as_str()),
                Some(ROUTE)
            );
            assert_eq!(
                root.attribute(neatlogs::wire::http::RESPONSE_STATUS_CODE)
                    .and_then(|v| v.as_i64()),
                Some(200)
            );
            let (trace_id, span_id) = caller_ids();
            assert_eq!(root.trace_id().to_string() == trace_id, continued);
            assert_eq!(
                root.parent_span_id().map(|s| s.to_string()).as_deref() == Some(span_id),
                continued
            );
            if continued {
                assert_eq!(root.trace_state(), Some(CALLER_TRACESTATE));
            }
        }
    }

    use crate::stacks::otel_sdk::Keep;

    #[test]
    fn the_tower_http_span_records_what_the_neatlogs_root_records() {
        let call = call();
        let app = tower_http_app();
        for continued in [false, true] {
            let keep = Keep::default();
            let provider = SdkTracerProvider::builder()
                .with_simple_exporter(keep.clone())
                .build();
            let subscriber = tracing_subscriber::registry()
                .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
            tracing::subscriber::with_default(subscriber, || serve_one(&app, &call, continued));
            let spans = keep.0.lock().unwrap_or_else(|p| p.into_inner()).clone();
            assert_eq!(spans.len(), 1, "{spans:?}");
            let span = &spans[0];
            assert_eq!(span.name, "GET /users/{id}");
            assert_eq!(span.span_kind, SpanKind::Server);
            assert!(span.events.is_empty(), "{:?}", span.events);
            let attrs: HashMap<&str, &Value> = span
                .attributes
                .iter()
                .map(|kv| (kv.key.as_str(), &kv.value))
                .collect();
            let text = |v: &str| Value::from(v.to_owned());
            assert_eq!(
                attrs.get("enduser.id"),
                Some(&&text(call.user.to_str().unwrap()))
            );
            assert_eq!(attrs.get("http.route"), Some(&&text(ROUTE)));
            assert_eq!(attrs.get("http.request.method"), Some(&&text("GET")));
            assert_eq!(attrs.get("url.path"), Some(&&text(call.uri.path())));
            assert_eq!(
                attrs.get("http.response.status_code"),
                Some(&&Value::I64(200))
            );
            let (trace_id, span_id) = caller_ids();
            assert_eq!(
                span.span_context.trace_id().to_string() == trace_id,
                continued
            );
            assert_eq!(span.parent_span_id.to_string() == span_id, continued);
            if continued {
                assert_eq!(span.span_context.trace_state().header(), CALLER_TRACESTATE);
            }
        }
    }
}
