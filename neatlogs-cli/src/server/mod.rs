//! `neatlogs serve`: OTLP/HTTP and browser ingest plus the JSON query API,
//! over one SQLite store.
//!
//! | route | what |
//! |---|---|
//! | `POST /v1/traces` | OTLP traces, protobuf or JSON, optionally gzip or zstd |
//! | `POST /v1/metrics` | OTLP metrics: the SDK's usage per end-user (`gen_ai.client.token.usage`, ...) |
//! | `POST /v1/trace` | the browser SDK's simple-trace JSON |
//! | `GET /api/traces?filter=..&limit=..&offset=..&count=true` | traces, newest first (and how many) |
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
//!
//! Reads run on a pool of reader connections ([`Options::readers`], 8 by
//! default), so a slow query holds one connection while the others answer.
//! Each query (all but `/api/traces/{trace_id}`, whose cost is the one
//! trace's size) runs under [`Options::query_time_limit`] (5 s by default):
//! SQLite stops one that runs longer, and the answer is a 503 whose JSON
//! `error` asks for a narrower filter (`"error_type": "timeout"`). A query
//! that finds every reader busy for that long gets a 503 with `Retry-After`
//! (`"error_type": "busy"`). `count=true` on `/api/traces` counts matching
//! traces up to `offset` + [`Options::count_limit`] (10,000 by default):
//! `total` is exact when `total_is_lower_bound` is false, and otherwise
//! there are more than `total`.
//!
//! Every route answers only to a `Host` that cannot be rebound to this
//! machine by another site: IP addresses, `localhost`, and the names given
//! with `--allow-host` ([`AllowedHosts`]); others get a 403 naming the flag.

mod api;
mod auth;
mod budget;
mod connections;
#[cfg(feature = "test-fixtures")]
mod fixtures;
mod host;
mod ingest;
mod read;
mod web;

use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
#[cfg(feature = "test-fixtures")]
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;

pub use auth::check_listen;
pub use budget::{IngestLimits, DEFAULT_BODY_TIMEOUT, DEFAULT_INGEST_MEMORY, RETRY_AFTER_SECONDS};
pub use connections::{
    default_max_connections, ConnectionLimits, DEFAULT_HEADER_TIMEOUT, DEFAULT_MAX_CONNECTIONS,
};
pub use host::AllowedHosts;
pub use read::{Reader, Readers};

use crate::ingest::MAX_BODY_BYTES;
use crate::pricing::PriceTable;
use crate::store::{Store, StoreError};

/// Reader connections unless configured: several heavy queries (the page
/// asks for a filtered list and its count) still leave a connection for a
/// cheap one. Each costs at most SQLite's default page cache, 2 MiB.
pub const DEFAULT_READERS: usize = 8;
/// How long a query may run unless configured.
pub const DEFAULT_QUERY_TIME_LIMIT: Duration = Duration::from_secs(5);
/// How far `count=true` counts beyond `offset` unless configured.
pub const DEFAULT_COUNT_LIMIT: u64 = 10_000;

/// How the collector runs, beyond its store.
#[derive(Debug, Clone)]
pub struct Options {
    /// Required on ingest and the query API when set (not on the page and
    /// its assets, `/api`, `/healthz` or a CORS preflight).
    pub api_key: Option<String>,
    /// Reader connections: how many queries run at once.
    pub readers: usize,
    /// How long one query may run before SQLite stops it (503); also the
    /// longest a query waits for a free reader connection.
    pub query_time_limit: Duration,
    /// `GET /api/traces?count=true` counts matches up to `offset` plus this.
    pub count_limit: u64,
    /// Ingest memory, body and connection limits.
    pub limits: Limits,
    /// Prices of LLM calls (the built-in table unless configured).
    pub prices: PriceTable,
    /// The `Host` names answered.
    pub hosts: AllowedHosts,
}

impl Default for Options {
    /// No API key, the default limits, and the loopback `Host` rule.
    fn default() -> Self {
        Options {
            api_key: None,
            readers: DEFAULT_READERS,
            query_time_limit: DEFAULT_QUERY_TIME_LIMIT,
            count_limit: DEFAULT_COUNT_LIMIT,
            limits: Limits::default(),
            prices: PriceTable::builtin(),
            hosts: AllowedHosts::default(),
        }
    }
}

/// Shared by the handlers.
#[derive(Clone)]
pub(crate) struct AppState {
    /// Ingest writes through this connection, one request at a time.
    writer: Arc<Mutex<Store>>,
    /// Queries read through these, side by side and beside the writer (WAL).
    readers: Readers,
    /// Each query's time limit, and its longest wait for a reader.
    query_time_limit: Duration,
    count_limit: u64,
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

/// The collector's routes over a store at `db`, with the default
/// [`Options`] and `api_key`.
pub fn router(db: &Path, api_key: Option<String>) -> Result<Router, StoreError> {
    router_with_options(
        db,
        Options {
            api_key,
            ..Options::default()
        },
    )
}

/// [`router`] with these ingest limits.
pub fn router_with_limits(
    db: &Path,
    api_key: Option<String>,
    limits: &IngestLimits,
) -> Result<Router, StoreError> {
    router_with_options(
        db,
        Options {
            api_key,
            limits: Limits {
                ingest: limits.clone(),
                ..Limits::default()
            },
            ..Options::default()
        },
    )
}

/// [`router`], pricing the LLM calls it stores with `prices` rather than
/// the built-in table.
pub fn router_priced(
    db: &Path,
    api_key: Option<String>,
    prices: PriceTable,
) -> Result<Router, StoreError> {
    router_with_options(
        db,
        Options {
            api_key,
            prices,
            ..Options::default()
        },
    )
}

/// The collector's routes over a store at `db`.
pub fn router_with_options(db: &Path, options: Options) -> Result<Router, StoreError> {
    let mut writer = Store::open(db)?;
    writer.set_prices(options.prices.clone());
    let readers = Readers::open(db, options.readers)?;
    Ok(router_with(writer, readers, options))
}

/// The routes over already-open connections (`readers` are other
/// connections to the same file; `options.readers` and `options.prices`
/// are not used).
pub fn router_with(writer: Store, readers: Readers, options: Options) -> Router {
    let state = AppState {
        writer: Arc::new(Mutex::new(writer)),
        readers,
        query_time_limit: options.query_time_limit,
        count_limit: options.count_limit,
        api_key: options.api_key.filter(|k| !k.is_empty()).map(Arc::from),
        ingest: budget::IngestGate::new(&options.limits.ingest),
    };
    let api_key = axum::middleware::from_fn_with_state(state.clone(), auth::require_api_key);
    let protected = Router::new()
        .route(neatlogs::wire::otlp::TRACES_PATH, post(ingest::otlp))
        .route("/v1/metrics", post(ingest::otlp_metrics))
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
        .layer(axum::middleware::from_fn_with_state(
            options.hosts,
            host::check_host,
        ))
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
    options: Options,
    ready: impl FnOnce(SocketAddr),
) -> Result<(), ServeError> {
    let has_key = options.api_key.as_deref().is_some_and(|k| !k.is_empty());
    check_listen(&listen, has_key).map_err(ServeError::Refused)?;
    let connections = options.limits.connections.clone();
    serve_app(
        listen,
        router_with_options(db, options)?,
        &connections,
        ready,
    )
    .await
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
    options: Options,
    dev_fixtures: PathBuf,
    ready: impl FnOnce(SocketAddr),
) -> Result<(), ServeError> {
    let has_key = options.api_key.as_deref().is_some_and(|k| !k.is_empty());
    check_listen(&listen, has_key).map_err(ServeError::Refused)?;
    if !listen.ip().is_loopback() {
        return Err(ServeError::Refused(format!(
            "--dev-fixtures serves local files for browser tests; it only listens on loopback, \
             not {listen}"
        )));
    }
    let connections = options.limits.connections.clone();
    let app = with_dev_fixtures(router_with_options(db, options)?, dev_fixtures);
    serve_app(listen, app, &connections, ready).await
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
