//! The traces page: plain HTML, CSS and JavaScript compiled into the binary
//! (no CDN, works offline), talking to the JSON API of the same server.
//!
//! Every page path serves the same `index.html`; the script reads the path
//! and the query string, so a filtered view is a URL that can be shared and
//! reloaded. The page holds no data, so it needs no API key; its API calls
//! do, when the server has one.

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// What the page may load and run: only its own files, only its own API.
/// Together with building the DOM from text (never HTML), a stored value
/// such as `<img src=x onerror=alert(1)>` cannot run.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
    style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; \
    form-action 'self'; frame-ancestors 'none'";

const INDEX_HTML: &str = include_str!("../../web/index.html");

/// The page's files, by name under `/assets/`.
const ASSETS: &[(&str, &str, &str)] = &[
    (
        "app.css",
        "text/css; charset=utf-8",
        include_str!("../../web/app.css"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("../../web/app.js"),
    ),
    (
        "api.js",
        "text/javascript; charset=utf-8",
        include_str!("../../web/api.js"),
    ),
    (
        "dom.js",
        "text/javascript; charset=utf-8",
        include_str!("../../web/dom.js"),
    ),
    (
        "format.js",
        "text/javascript; charset=utf-8",
        include_str!("../../web/format.js"),
    ),
    (
        "filters.js",
        "text/javascript; charset=utf-8",
        include_str!("../../web/filters.js"),
    ),
    (
        "traces.js",
        "text/javascript; charset=utf-8",
        include_str!("../../web/traces.js"),
    ),
    (
        "trace.js",
        "text/javascript; charset=utf-8",
        include_str!("../../web/trace.js"),
    ),
    (
        "transcript.js",
        "text/javascript; charset=utf-8",
        include_str!("../../web/transcript.js"),
    ),
    (
        "users.js",
        "text/javascript; charset=utf-8",
        include_str!("../../web/users.js"),
    ),
    (
        "chart.js",
        "text/javascript; charset=utf-8",
        include_str!("../../web/chart.js"),
    ),
    (
        "sessions.js",
        "text/javascript; charset=utf-8",
        include_str!("../../web/sessions.js"),
    ),
    (
        "favicon.svg",
        "image/svg+xml",
        include_str!("../../web/favicon.svg"),
    ),
];

fn respond(content_type: &'static str, body: &'static str) -> Response {
    let mut response = (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            // Small files, served from memory: always revalidate so a new
            // binary's page is never mixed with an old cached script.
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        body,
    )
        .into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

/// `GET /`, `/users`, `/sessions`, `/trace/{id}`: the page.
pub(crate) async fn page() -> Response {
    respond("text/html; charset=utf-8", INDEX_HTML)
}

/// `GET /assets/{name}`
pub(crate) async fn asset(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|(n, _, _)| *n == name) {
        Some((_, content_type, body)) => respond(content_type, body),
        None => (StatusCode::NOT_FOUND, "no such asset\n").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_script_the_page_imports_is_served() {
        // A module the page imports but the table forgets would break the
        // page only in a browser; catch it here.
        for (name, _, body) in ASSETS.iter().filter(|(n, _, _)| n.ends_with(".js")) {
            for line in body.lines() {
                let Some(rest) = line.trim().strip_prefix("import ") else {
                    continue;
                };
                let Some(start) = rest.find("'./") else {
                    continue;
                };
                let target = &rest[start + 3..];
                let target = &target[..target.find('\'').unwrap_or(target.len())];
                assert!(
                    ASSETS.iter().any(|(n, _, _)| *n == target),
                    "{name} imports {target}, which is not in ASSETS"
                );
            }
        }
        assert!(INDEX_HTML.contains("/assets/app.js"));
        assert!(INDEX_HTML.contains("/assets/app.css"));
    }

    #[test]
    fn the_page_never_parses_data_as_html() {
        for (name, _, body) in ASSETS.iter().filter(|(n, _, _)| n.ends_with(".js")) {
            for banned in [
                "innerHTML",
                "outerHTML",
                "insertAdjacentHTML",
                "document.write",
            ] {
                assert!(!body.contains(banned), "{name} uses {banned}");
            }
        }
    }
}
