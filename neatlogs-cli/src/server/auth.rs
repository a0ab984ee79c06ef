//! The API key: required on ingest and the query API when configured
//! (`x-api-key: KEY` or `Authorization: Bearer KEY`), compared in constant
//! time and never logged. Also the rule that refuses to listen beyond
//! loopback without one.

use std::net::SocketAddr;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

use super::AppState;

/// Whether `headers` carry `expected`. Only the length of the key can leak
/// through timing, not its content.
pub(crate) fn authorized(headers: &HeaderMap, expected: &str) -> bool {
    let presented = headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .or_else(|| {
            headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| {
                    let (scheme, token) = v.trim().split_once(' ')?;
                    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
                })
        });
    match presented {
        Some(key) => bool::from(key.as_bytes().ct_eq(expected.as_bytes())),
        None => false,
    }
}

/// Middleware: 401 unless the request carries the configured key.
pub(crate) async fn require_api_key(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if let Some(expected) = state.api_key.as_deref() {
        if !authorized(request.headers(), expected) {
            return (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer")],
                axum::Json(serde_json::json!({
                    "error": "missing or wrong API key: send `x-api-key: KEY` or `Authorization: Bearer KEY`"
                })),
            )
                .into_response();
        }
    }
    next.run(request).await
}

/// Refuses a non-loopback address without an API key: anyone who can reach
/// the port could read every end-user's traces.
///
/// ```
/// use neatlogs_cli::server::check_listen;
/// assert!(check_listen(&"127.0.0.1:4318".parse().unwrap(), false).is_ok());
/// assert!(check_listen(&"0.0.0.0:4318".parse().unwrap(), false).is_err());
/// assert!(check_listen(&"0.0.0.0:4318".parse().unwrap(), true).is_ok());
/// ```
pub fn check_listen(addr: &SocketAddr, has_api_key: bool) -> Result<(), String> {
    if addr.ip().is_loopback() || has_api_key {
        return Ok(());
    }
    Err(format!(
        "refusing to listen on {addr} without an API key: anyone who can reach it could read \
         and write every end-user's traces. Pass --api-key KEY (or set NEATLOGS_API_KEY), or \
         listen on a loopback address such as 127.0.0.1:{}",
        addr.port()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(name: &'static str, value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(name, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn accepts_either_header() {
        assert!(authorized(&headers("x-api-key", "k1"), "k1"));
        assert!(authorized(&headers("authorization", "Bearer k1"), "k1"));
        assert!(authorized(&headers("authorization", "bearer  k1 "), "k1"));
    }

    #[test]
    fn refuses_wrong_or_missing() {
        assert!(!authorized(&headers("x-api-key", "k2"), "k1"));
        assert!(!authorized(&headers("x-api-key", "k1x"), "k1"));
        assert!(!authorized(&headers("authorization", "Basic k1"), "k1"));
        assert!(!authorized(&HeaderMap::new(), "k1"));
    }

    #[test]
    fn loopback_v6_is_fine() {
        assert!(check_listen(&"[::1]:4318".parse().unwrap(), false).is_ok());
        let msg = check_listen(&"192.0.2.1:4318".parse().unwrap(), false).unwrap_err();
        assert!(msg.contains("--api-key"), "{msg}");
    }
}
