//! `neatlogs serve`: OTLP/HTTP and browser ingest plus the JSON query API,
//! over one SQLite store.
//!
//! | route | what |
//! |---|---|
//! | `POST /v1/traces` | OTLP traces, protobuf or JSON, optionally gzip |
//! | `POST /v1/trace` | the browser SDK's simple-trace JSON |
//! | `GET /api/traces?filter=..&limit=..&offset=..` | traces, newest first |
//! | `GET /api/traces/{trace_id}` | one trace and its spans |
//! | `GET /api/end-users?filter=..&sort=..` | usage per end-user |
//! | `GET /api/sessions?filter=..&limit=..` | sessions with their end-user |
//! | `GET /api/end-users/daily?filter=..&top=..&days=..` | traces per day of the top end-users |
//! | `GET /api/metadata-keys` | end-user metadata keys seen, with common values |
//! | `GET /api/filter?filter=..` | a filter parsed into clauses (for the page's chips) |
//! | `GET /`, `/users`, `/sessions`, `/trace/{id}`, `/assets/..` | the traces page |
//! | `GET /api` | this list, as text |
//!
//! Each ingest request is one transaction, committed before the response:
//! a malformed request (400) or an oversized one (413) stores nothing.
//!
//! Under load and attack ([`Limits`]): ingest requests in progress share a
//! memory budget, and one it cannot take now is answered `503` with
//! `Retry-After` (nothing stored; the SDK retries); a body that takes longer
//! than the body timeout is answered `408`; headers that take longer than
//! the header timeout, and keep-alive connections idle that long, are
//! closed; at most `max_connections` are open, a new one taking the slot of
//! the connection idle longest.

mod api;
mod auth;
mod budget;
mod connections;
#[cfg(feature = "test-fixtures")]
mod fixtures;
mod ingest;
mod web;

use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
#[cfg(feature = "test-fixtures")]
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;

pub use auth::check_listen;
pub use budget::{IngestLimits, DEFAULT_BODY_TIMEOUT, DEFAULT_INGEST_MEMORY, RETRY_AFTER_SECONDS};
pub use connections::{
    default_max_connections, ConnectionLimits, DEFAULT_HEADER_TIMEOUT, DEFAULT_MAX_CONNECTIONS,
};

use crate::ingest::MAX_BODY_BYTES;
use crate::pricing::PriceTable;
use crate::store::{Store, StoreError};

/// Shared by the handlers.
#[derive(Clone)]
pub(crate) struct AppState {
    /// Ingest writes through this connection, one request at a time.
    writer: Arc<Mutex<Store>>,
    /// Queries read through this one, so they do not wait for writes (WAL).
    reader: Arc<Mutex<Store>>,
    api_key: Option<Arc<str>>,
    /// The ingest memory budget and body deadline.
    ingest: budget::IngestGate,
}

/// Everything `serve` bounds, to stay up under load and attack.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Limits {
    /// Ingest requests: memory budget and body deadline.
    pub ingest: IngestLimits,
    /// Connections: how many, and the header deadline.
    pub connections: ConnectionLimits,
}

fn lock(store: &Mutex<Store>) -> MutexGuard<'_, Store> {
    // A panic while holding the lock rolled its transaction back; the
    // connection itself is still sound.
    store
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The collector's routes over a store at `db`. `api_key`, when given, is
/// required on ingest and the query API (not on the page and its assets,
/// `/api`, `/healthz` or a CORS preflight). Ingest has the default
/// [`IngestLimits`].
pub fn router(db: &Path, api_key: Option<String>) -> Result<Router, StoreError> {
    router_configured(db, api_key, &IngestLimits::default(), PriceTable::builtin())
}

/// [`router`] with these ingest limits.
pub fn router_with_limits(
    db: &Path,
    api_key: Option<String>,
    limits: &IngestLimits,
) -> Result<Router, StoreError> {
    router_configured(db, api_key, limits, PriceTable::builtin())
}

/// [`router`], pricing the LLM calls it stores with `prices` rather than
/// the built-in table.
pub fn router_priced(
    db: &Path,
    api_key: Option<String>,
    prices: PriceTable,
) -> Result<Router, StoreError> {
    router_configured(db, api_key, &IngestLimits::default(), prices)
}

/// [`router`] with these ingest limits and prices.
pub fn router_configured(
    db: &Path,
    api_key: Option<String>,
    limits: &IngestLimits,
    prices: PriceTable,
) -> Result<Router, StoreError> {
    let mut writer = Store::open(db)?;
    writer.set_prices(prices);
    let reader = Store::open(db)?;
    Ok(app(writer, reader, api_key, limits))
}

/// The routes over already-open connections (`reader` may be another
/// connection to the same file), with the default [`IngestLimits`].
pub fn router_with(writer: Store, reader: Store, api_key: Option<String>) -> Router {
    app(writer, reader, api_key, &IngestLimits::default())
}

fn app(writer: Store, reader: Store, api_key: Option<String>, limits: &IngestLimits) -> Router {
    let state = AppState {
        writer: Arc::new(Mutex::new(writer)),
        reader: Arc::new(Mutex::new(reader)),
        api_key: api_key.filter(|k| !k.is_empty()).map(Arc::from),
        ingest: budget::IngestGate::new(limits),
    };
    let api_key = axum::middleware::from_fn_with_state(state.clone(), auth::require_api_key);
    let protected = Router::new()
        .route(neatlogs::wire::otlp::TRACES_PATH, post(ingest::otlp))
        .route("/api/traces", get(api::traces))
        .route("/api/traces/{trace_id}", get(api::trace))
        .route("/api/end-users", get(api::end_users))
        .route("/api/sessions", get(api::sessions))
        .route("/api/end-users/daily", get(api::end_users_daily))
        .route("/api/metadata-keys", get(api::metadata_keys))
        .route("/api/filter", get(api::parse))
        .route_layer(api_key.clone());
    // The browser SDK's route: the key is checked on POST only (a CORS
    // preflight carries no credentials), and every answer carries CORS.
    let browser = post(ingest::simple_trace)
        .route_layer(api_key)
        .options(ingest::preflight)
        .layer(axum::middleware::map_response(ingest::cors));
    Router::new()
        .route("/", get(web::page))
        .route("/users", get(web::page))
        .route("/sessions", get(web::page))
        .route("/trace/{trace_id}", get(web::page))
        .route("/assets/{name}", get(web::asset))
        .route("/api", get(api::index))
        .route("/healthz", get(|| async { "ok" }))
        .route("/v1/trace", browser)
        .merge(protected)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::map_response(nosniff))
        .with_state(state)
}

/// Every answer, the JSON API's and the 404s included, tells browsers not to
/// guess its type: a stored value must never be sniffed into a script or a
/// page.
async fn nosniff(mut response: axum::response::Response) -> axum::response::Response {
    response.headers_mut().insert(
        axum::http::header::X_CONTENT_TYPE_OPTIONS,
        axum::http::HeaderValue::from_static("nosniff"),
    );
    response
}

/// Adds `/__test/{path}`, serving the files under `dir`: the browser tests'
/// fixture pages and the built browser SDK, from the collector's origin.
/// For tests only: built with the `test-fixtures` feature, which is off by
/// default (`neatlogs serve --dev-fixtures DIR`).
#[cfg(feature = "test-fixtures")]
pub fn with_dev_fixtures(router: Router, dir: PathBuf) -> Router {
    router.merge(fixtures::router(dir))
}

/// Why `serve` stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The address is not allowed without an API key.
    #[error("{0}")]
    Refused(String),
    /// The store could not be opened.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The address could not be bound, or the server failed.
    #[error("{0}")]
    Io(String),
}

/// Binds `listen`, calls `ready` with the bound address (useful with port
/// 0), and serves within `limits` until Ctrl-C or SIGTERM, pricing LLM
/// calls with `prices`.
pub async fn serve(
    listen: SocketAddr,
    db: &Path,
    api_key: Option<String>,
    limits: &Limits,
    prices: PriceTable,
    ready: impl FnOnce(SocketAddr),
) -> Result<(), ServeError> {
    let api_key = api_key.filter(|k| !k.is_empty());
    check_listen(&listen, api_key.is_some()).map_err(ServeError::Refused)?;
    let app = router_configured(db, api_key, &limits.ingest, prices)?;
    serve_app(listen, app, &limits.connections, ready).await
}

/// Serves `app` on an already-bound `listener` within `limits` until
/// `shutdown` completes, then lets the requests in progress finish.
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    app: Router,
    limits: &ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send,
) {
    connections::serve(listener, app, limits, shutdown).await;
}

/// [`serve`] plus the test routes of [`with_dev_fixtures`], on a loopback
/// address only. Built with the `test-fixtures` feature.
#[cfg(feature = "test-fixtures")]
pub async fn serve_with_dev_fixtures(
    listen: SocketAddr,
    db: &Path,
    api_key: Option<String>,
    limits: &Limits,
    prices: PriceTable,
    dev_fixtures: PathBuf,
    ready: impl FnOnce(SocketAddr),
) -> Result<(), ServeError> {
    let api_key = api_key.filter(|k| !k.is_empty());
    check_listen(&listen, api_key.is_some()).map_err(ServeError::Refused)?;
    if !listen.ip().is_loopback() {
        return Err(ServeError::Refused(format!(
            "--dev-fixtures serves local files for browser tests; it only listens on loopback, \
             not {listen}"
        )));
    }
    let app = with_dev_fixtures(
        router_configured(db, api_key, &limits.ingest, prices)?,
        dev_fixtures,
    );
    serve_app(listen, app, &limits.connections, ready).await
}

async fn serve_app(
    listen: SocketAddr,
    app: Router,
    limits: &ConnectionLimits,
    ready: impl FnOnce(SocketAddr),
) -> Result<(), ServeError> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| ServeError::Io(format!("cannot listen on {listen}: {e}")))?;
    let bound = listener
        .local_addr()
        .map_err(|e| ServeError::Io(e.to_string()))?;
    ready(bound);
    connections::serve(listener, app, limits, shutdown_signal()).await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
