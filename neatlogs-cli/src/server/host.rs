//! The `Host` check, against DNS rebinding. A page on another site can
//! point its own name at 127.0.0.1 and then read a loopback collector as if
//! it were its own origin; no API key stands in its way when the collector
//! runs without one. The browser still sends that site's name as `Host`, so
//! the collector answers only to names that cannot be rebound (the way
//! Vite's `server.allowedHosts` and Jupyter's `local_hostnames` do):
//!
//! - any IP address (`127.0.0.1`, `[::1]`, the bound address): a page whose
//!   origin is an address reaches that address and nothing else;
//! - `localhost` and names under `.localhost`, which browsers resolve to
//!   loopback themselves;
//! - the names given with `--allow-host` (a name starting with a dot also
//!   admits every name under it).
//!
//! The port is not compared: a tunnel (`ssh -L 9000:127.0.0.1:4318`)
//! changes it, a rebinding page cannot change the name. On a non-loopback
//! address the API key is the protection (a rebinding page does not have
//! it) and any `Host` is answered, unless `--allow-host` names the ones to
//! answer. Every route is checked, `/healthz` included: probes use an
//! address or `localhost`. A request without `Host` (only non-browser
//! clients send one) is answered.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Which `Host` names the collector answers to (see the module docs).
///
/// ```
/// use neatlogs_cli::server::AllowedHosts;
///
/// let loopback = "127.0.0.1:4318".parse().unwrap();
/// let hosts = AllowedHosts::for_listen(&loopback, &["collector.internal".to_owned()]).unwrap();
/// assert!(hosts.allows("localhost:4318"));
/// assert!(hosts.allows("[::1]:4318"));
/// assert!(hosts.allows("collector.internal:4318"));
/// assert!(!hosts.allows("evil.example:4318"));
/// ```
#[derive(Debug, Clone)]
pub struct AllowedHosts {
    /// `None`: every name. Otherwise the `--allow-host` names, normalised.
    names: Option<Arc<[String]>>,
}

impl Default for AllowedHosts {
    /// The loopback rule with no extra names: addresses and `localhost`.
    fn default() -> Self {
        AllowedHosts {
            names: Some(Arc::from([])),
        }
    }
}

impl AllowedHosts {
    /// The rule for a collector listening on `listen`, with the
    /// `--allow-host` names `extra`. A name that is not a host name (a port,
    /// a scheme, a space) is an error that says what to give instead.
    pub fn for_listen(listen: &SocketAddr, extra: &[String]) -> Result<AllowedHosts, String> {
        let names = extra
            .iter()
            .map(|name| normalize_allowed(name))
            .collect::<Result<Vec<_>, _>>()?;
        if names.is_empty() && !listen.ip().is_loopback() {
            return Ok(AllowedHosts { names: None });
        }
        Ok(AllowedHosts {
            names: Some(names.into()),
        })
    }

    /// Whether a request with this `Host` header value is answered.
    pub fn allows(&self, host: &str) -> bool {
        let Some(names) = &self.names else {
            return true;
        };
        let Some(name) = host_name(host) else {
            return false;
        };
        if let Some(literal) = name.strip_prefix('[').and_then(|n| n.strip_suffix(']')) {
            return literal.parse::<Ipv6Addr>().is_ok();
        }
        if name.parse::<Ipv4Addr>().is_ok() {
            return true;
        }
        let name = name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase();
        if name == "localhost" || name.ends_with(".localhost") {
            return true;
        }
        names.iter().any(|allowed| match allowed.strip_prefix('.') {
            Some(domain) => {
                name == domain
                    || name
                        .strip_suffix(domain)
                        .is_some_and(|sub| sub.ends_with('.'))
            }
            None => name == *allowed,
        })
    }
}

/// The name part of a `Host` value: `[::1]:4318` → `[::1]`,
/// `localhost:4318` → `localhost`; `None` when it is not one.
fn host_name(host: &str) -> Option<&str> {
    let name = match host.rsplit_once(':') {
        // `[::1]` alone has colons but no port.
        Some((name, port)) if !port.contains(']') && port.bytes().all(|b| b.is_ascii_digit()) => {
            name
        }
        _ => host,
    };
    (!name.is_empty() && name.bytes().all(|b| b.is_ascii_graphic())).then_some(name)
}

/// An `--allow-host` value, lower case and without a trailing dot.
fn normalize_allowed(name: &str) -> Result<String, String> {
    let trimmed = name.trim();
    let lower = trimmed
        .strip_suffix('.')
        .unwrap_or(trimmed)
        .to_ascii_lowercase();
    let label = lower.strip_prefix('.').unwrap_or(&lower);
    let valid = !label.is_empty()
        && label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'));
    if !valid {
        return Err(format!(
            "--allow-host {name:?} is not a host name: give the name alone, without a scheme or \
             a port (e.g. --allow-host collector.internal, or --allow-host .example.com for \
             every name under example.com); IP addresses are always allowed"
        ));
    }
    Ok(lower)
}

/// Middleware: 403 unless the request's `Host` is allowed.
pub(crate) async fn check_host(
    State(hosts): State<AllowedHosts>,
    request: Request,
    next: Next,
) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .map(|v| v.to_str().unwrap_or("\u{fffd}"))
        .or_else(|| request.uri().authority().map(|a| a.as_str()));
    match host {
        Some(host) if !hosts.allows(host) => refuse(host),
        _ => next.run(request).await,
    }
}

fn refuse(host: &str) -> Response {
    let name = host_name(host).unwrap_or(host);
    (
        StatusCode::FORBIDDEN,
        axum::Json(serde_json::json!({
            "error": format!(
                "this collector does not answer to the host name `{name}`: a web page may have \
                 pointed it at this machine (DNS rebinding). Use http://127.0.0.1 or \
                 http://localhost, or, if `{name}` really is this collector, start it with \
                 --allow-host {name}"
            )
        })),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(listen: &str, extra: &[&str]) -> AllowedHosts {
        let extra: Vec<String> = extra.iter().map(|s| (*s).to_owned()).collect();
        AllowedHosts::for_listen(&listen.parse().unwrap(), &extra).unwrap()
    }

    #[test]
    fn loopback_answers_addresses_and_localhost_only() {
        let hosts = rule("127.0.0.1:4318", &[]);
        for ok in [
            "127.0.0.1",
            "127.0.0.1:4318",
            "127.0.0.1:9000",
            "localhost",
            "localhost:4318",
            "LOCALHOST.:4318",
            "app.localhost:4318",
            "[::1]",
            "[::1]:4318",
            "192.0.2.7:4318",
        ] {
            assert!(hosts.allows(ok), "{ok}");
        }
        for refused in [
            "evil.example",
            "evil.example:4318",
            "localhost.evil.example",
            "evillocalhost",
            "127.0.0.1.nip.io:4318",
            "[::1",
            "[not-an-address]:4318",
            "",
            ":4318",
            "local host",
        ] {
            assert!(!hosts.allows(refused), "{refused}");
        }
    }

    #[test]
    fn allow_host_adds_names_and_domains() {
        let hosts = rule("[::1]:4318", &["Collector.Internal.", ".dev.example"]);
        assert!(hosts.allows("collector.internal:4318"));
        assert!(hosts.allows("COLLECTOR.internal"));
        assert!(hosts.allows("dev.example"));
        assert!(hosts.allows("a.b.dev.example:80"));
        assert!(!hosts.allows("xdev.example"));
        assert!(!hosts.allows("other.internal"));
    }

    #[test]
    fn a_public_address_answers_any_host_unless_names_are_given() {
        assert!(rule("0.0.0.0:4318", &[]).allows("collector.example.com"));
        let hosts = rule("0.0.0.0:4318", &["collector.example.com"]);
        assert!(hosts.allows("collector.example.com:4318"));
        assert!(hosts.allows("10.0.0.5:4318"));
        assert!(!hosts.allows("evil.example"));
    }

    #[test]
    fn bad_allow_host_values_are_errors_that_say_what_to_give() {
        for bad in [
            "",
            " ",
            "http://x",
            "x:4318",
            "a b",
            ".",
            "exa$mple",
            "[::1]:4318",
        ] {
            let e = AllowedHosts::for_listen(&"127.0.0.1:1".parse().unwrap(), &[bad.to_owned()])
                .unwrap_err();
            assert!(e.contains("--allow-host"), "{e}");
        }
    }
}
