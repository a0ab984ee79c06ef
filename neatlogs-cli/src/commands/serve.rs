//! `neatlogs serve`

use std::io::Write;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::Path;
#[cfg(feature = "test-fixtures")]
use std::path::PathBuf;

use super::CliError;
use crate::server;

pub(crate) fn run(
    listen: &str,
    db: &Path,
    api_key: Option<String>,
    #[cfg(feature = "test-fixtures")] dev_fixtures: Option<PathBuf>,
) -> Result<(), CliError> {
    let addr = resolve(listen)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Other(format!("cannot start the runtime: {e}")))?;
    let auth = if api_key.as_deref().is_some_and(|k| !k.is_empty()) {
        "API key required"
    } else {
        "no API key"
    };
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
        let _ = writeln!(
            out,
            "  OTLP/HTTP endpoint: http://{bound}{}",
            neatlogs::wire::otlp::TRACES_PATH
        );
        let _ = out.flush();
    };
    #[cfg(feature = "test-fixtures")]
    if let Some(dir) = dev_fixtures {
        return runtime
            .block_on(server::serve_with_dev_fixtures(
                addr, db, api_key, dir, ready,
            ))
            .map_err(serve_error);
    }
    runtime
        .block_on(server::serve(addr, db, api_key, ready))
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
