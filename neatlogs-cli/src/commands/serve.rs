//! `neatlogs serve`

use std::io::Write;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::Path;
#[cfg(feature = "test-fixtures")]
use std::path::PathBuf;
use std::time::Duration;

use super::CliError;
use crate::pricing::PriceTable;
use crate::server;

/// `neatlogs serve`'s flags beyond the address and the store.
pub(crate) struct Settings {
    pub(crate) api_key: Option<String>,
    pub(crate) allow_host: Vec<String>,
    pub(crate) readers: usize,
    /// Seconds, as [`parse_seconds`] accepted them.
    pub(crate) query_timeout: f64,
    pub(crate) limits: server::Limits,
    pub(crate) prices: PriceTable,
}

pub(crate) fn run(
    listen: &str,
    db: &Path,
    settings: Settings,
    #[cfg(feature = "test-fixtures")] dev_fixtures: Option<PathBuf>,
) -> Result<(), CliError> {
    let api_key = normalize_api_key(settings.api_key)?;
    let addr = resolve(listen)?;
    let options = server::Options {
        hosts: server::AllowedHosts::for_listen(&addr, &settings.allow_host)
            .map_err(CliError::Other)?,
        readers: settings.readers,
        query_time_limit: Duration::from_secs_f64(settings.query_timeout),
        count_limit: server::DEFAULT_COUNT_LIMIT,
        api_key,
        limits: settings.limits,
        prices: settings.prices,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Other(format!("cannot start the runtime: {e}")))?;
    let auth = if options.api_key.as_deref().is_some_and(|k| !k.is_empty()) {
        "API key required"
    } else {
        "no API key"
    };
    let prices_line = format!(
        "{} models ({})",
        options.prices.len(),
        options.prices.source
    );
    let limits = options.limits.clone();
    let ready = |bound: SocketAddr| {
        // The server keeps running if nobody reads stdout any more
        // (`neatlogs serve | head -1`), so write errors are ignored.
        let mut out = std::io::stdout().lock();
        let _ = writeln!(
            out,
            "neatlogs collector listening on http://{bound} ({auth}; store {})",
            db.display()
        );
        let _ = writeln!(out, "  traces page:        http://{bound}/");
        let _ = writeln!(out, "  LLM prices:         {}", prices_line);
        let _ = writeln!(
            out,
            "  OTLP/HTTP endpoint: http://{bound}{}",
            neatlogs::wire::otlp::TRACES_PATH
        );
        let _ = writeln!(
            out,
            "  limits: ingest memory {} MiB, {} connections, header timeout {:?}, body timeout {:?}",
            limits.ingest.memory / (1024 * 1024),
            limits.connections.max_connections,
            limits.connections.header_timeout,
            limits.ingest.body_timeout
        );
        let _ = out.flush();
    };
    #[cfg(feature = "test-fixtures")]
    if let Some(dir) = dev_fixtures {
        return runtime
            .block_on(server::serve_with_dev_fixtures(
                addr, db, options, dir, ready,
            ))
            .map_err(serve_error);
    }
    runtime
        .block_on(server::serve(addr, db, options, ready))
        .map_err(serve_error)
}

fn serve_error(e: server::ServeError) -> CliError {
    match e {
        server::ServeError::Store(e) => CliError::Store(e),
        other => CliError::Other(other.to_string()),
    }
}

fn resolve(listen: &str) -> Result<SocketAddr, CliError> {
    if let Ok(addr) = listen.parse() {
        return Ok(addr);
    }
    listen
        .to_socket_addrs()
        .ok()
        .and_then(|mut addrs| addrs.next())
        .ok_or_else(|| {
            CliError::Other(format!(
                "cannot use --listen {listen}: expected HOST:PORT, e.g. 127.0.0.1:4318"
            ))
        })
}

/// `--query-timeout`: a positive number of seconds, at most a day.
pub(crate) fn parse_seconds(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(seconds) if seconds > 0.0 && seconds <= 86_400.0 => Ok(seconds),
        _ => Err(format!(
            "expected a number of seconds greater than 0 and at most 86400 (e.g. 5 or 0.5), \
             not `{text}`"
        )),
    }
}

/// The key as the server will compare it: surrounding whitespace removed
/// (clients' keys are trimmed too, so a key pasted with a trailing space
/// still matches); empty means no key; a key of only whitespace is an error
/// rather than a key anyone can send.
fn normalize_api_key(key: Option<String>) -> Result<Option<String>, CliError> {
    match key {
        None => Ok(None),
        Some(k) if k.is_empty() => Ok(None),
        Some(k) if k.trim().is_empty() => Err(CliError::Other(
            "the API key (--api-key or NEATLOGS_API_KEY) is only whitespace; give a real key, \
             or leave it unset to run without one on a loopback address"
                .to_owned(),
        )),
        Some(k) => Ok(Some(k.trim().to_owned())),
    }
}

#[cfg(test)]
mod key_tests {
    use super::{normalize_api_key, parse_seconds};

    #[test]
    fn query_timeouts_are_positive_seconds() {
        assert_eq!(parse_seconds("5"), Ok(5.0));
        assert_eq!(parse_seconds("0.25"), Ok(0.25));
        for bad in ["0", "-1", "NaN", "inf", "1e9", "5s", ""] {
            let e = parse_seconds(bad).unwrap_err();
            assert!(e.contains("seconds"), "{bad}: {e}");
        }
    }

    #[test]
    fn blank_keys_are_refused_and_padding_is_trimmed() {
        assert_eq!(normalize_api_key(None).ok(), Some(None));
        assert_eq!(normalize_api_key(Some(String::new())).ok(), Some(None));
        assert!(normalize_api_key(Some(" ".into())).is_err());
        assert!(normalize_api_key(Some("\t \n".into())).is_err());
        assert_eq!(
            normalize_api_key(Some("secret \n".into())).ok(),
            Some(Some("secret".to_owned()))
        );
    }
}
