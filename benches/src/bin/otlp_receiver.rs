//! The receiver of the end-to-end benchmark: an OTLP/HTTP endpoint on the
//! loopback interface that decodes every `POST /v1/traces` body (protobuf,
//! plain, gzip or zstd) into the official `opentelemetry-proto` types, counts
//! requests, spans and bytes, and answers 200 with an empty
//! `ExportTraceServiceResponse`.
//!
//! ```text
//! otlp_receiver [--listen 127.0.0.1:0] [--addr-file PATH]
//! ```
//!
//! `GET /stats` returns the counts so far as JSON
//! (`neatlogs_bench::e2e::ReceiverStats`); on SIGTERM or SIGINT the receiver
//! prints them on standard output and exits. With port 0 the system picks a
//! free port; the address actually bound is written to `--addr-file` (and to
//! standard error) once the receiver accepts connections.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use neatlogs_bench::e2e::Counters;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse;
use prost::Message;

/// The largest request body accepted (the exporters send a few hundred
/// kilobytes at most).
const MAX_BODY: usize = 64 * 1024 * 1024;

const USAGE: &str = "usage: otlp_receiver [--listen 127.0.0.1:PORT] [--addr-file PATH]";

async fn traces(
    State(counters): State<Arc<Counters>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let text = |name| headers.get(name).and_then(|v| v.to_str().ok());
    match counters.ingest(
        text(header::CONTENT_TYPE),
        text(header::CONTENT_ENCODING),
        &body,
    ) {
        Ok(()) => (
            [(header::CONTENT_TYPE, "application/x-protobuf")],
            ExportTraceServiceResponse::default().encode_to_vec(),
        )
            .into_response(),
        Err(rejected) => (
            StatusCode::from_u16(rejected.status()).unwrap_or(StatusCode::BAD_REQUEST),
            rejected.to_string(),
        )
            .into_response(),
    }
}

async fn stats(State(counters): State<Arc<Counters>>) -> Response {
    match serde_json::to_string(&counters.snapshot()) {
        Ok(json) => ([(header::CONTENT_TYPE, "application/json")], json).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

/// Resolves on SIGTERM or SIGINT.
async fn stop_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(mut term), Ok(mut int)) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        }
        _ => {
            eprintln!("otlp_receiver: cannot watch for signals; stop it with SIGKILL");
            std::future::pending::<()>().await;
        }
    }
}

fn parse_args() -> Result<(SocketAddr, Option<String>), String> {
    let mut listen: SocketAddr = ([127, 0, 0, 1], 0).into();
    let mut addr_file = None;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        match flag.as_str() {
            "--listen" => {
                listen = value
                    .parse()
                    .map_err(|_| format!("--listen: `{value}` is not an address\n{USAGE}"))?
            }
            "--addr-file" => addr_file = Some(value),
            _ => return Err(format!("unknown argument `{flag}`\n{USAGE}")),
        }
    }
    if !listen.ip().is_loopback() {
        return Err(format!(
            "--listen {listen}: only a loopback address is allowed"
        ));
    }
    Ok((listen, addr_file))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let (listen, addr_file) = match parse_args() {
        Ok(args) => args,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let listener = match tokio::net::TcpListener::bind(listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("otlp_receiver: cannot listen on {listen}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let bound = match listener.local_addr() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("otlp_receiver: no local address: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(path) = &addr_file {
        // Written whole, then renamed: whoever polls for the file never reads
        // half an address.
        let tmp = format!("{path}.tmp");
        if let Err(e) =
            std::fs::write(&tmp, bound.to_string()).and_then(|()| std::fs::rename(&tmp, path))
        {
            eprintln!("otlp_receiver: cannot write {path}: {e}");
            return ExitCode::FAILURE;
        }
    }
    eprintln!("otlp_receiver: listening on {bound}");

    let counters = Arc::new(Counters::default());
    let app = Router::new()
        .route("/v1/traces", post(traces))
        .route("/stats", get(stats))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(counters.clone());
    if let Err(e) = axum::serve(listener, app)
        .with_graceful_shutdown(stop_signal())
        .await
    {
        eprintln!("otlp_receiver: {e}");
        return ExitCode::FAILURE;
    }
    match serde_json::to_string_pretty(&counters.snapshot()) {
        Ok(json) => println!("{json}"),
        Err(e) => eprintln!("otlp_receiver: could not write the counts: {e}"),
    }
    ExitCode::SUCCESS
}
