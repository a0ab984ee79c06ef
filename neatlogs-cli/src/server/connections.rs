//! Accepting connections so that slow or idle clients cannot lock real ones
//! out: a limit on open connections (kept under the open-file limit), a
//! deadline for each request's headers (which also closes idle keep-alive
//! connections), and, when every slot is taken, room made for a new client
//! by closing the connection that has been idle longest.
//!
//! hyper's HTTP/1 connection does the header deadline; the rest is this
//! accept loop. A connection at the limit waits in the kernel's listen
//! backlog, holding no descriptor of ours. Accept errors (`EMFILE` when the
//! process is out of descriptors) are reported and retried after a pause,
//! never fatal and never a busy loop.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::Request;
use axum::response::Response;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{watch, Notify, OwnedSemaphorePermit, Semaphore};

/// The most connections open at once unless the open-file limit is lower.
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;
/// Descriptors kept free of connections for the store, the runtime and the
/// one connection being accepted, when the default limit is derived from
/// the open-file limit.
const RESERVED_DESCRIPTORS: u64 = 64;
/// How long a client may take to send a request's headers, and how long a
/// keep-alive connection may stay idle, unless configured.
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// How often the accept loop, waiting for a slot while every connection is
/// busy, looks again for one that has become idle.
const BUSY_RECHECK: Duration = Duration::from_millis(50);
/// Pause after an accept error that is not about a single connection (out
/// of descriptors or memory), so that the loop does not spin.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);

/// How connections are accepted and kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// The most connections open at once. At the limit, a new connection
    /// takes the slot of the connection idle longest (one with no request
    /// in progress: waiting for headers, or kept alive between requests);
    /// when every connection has a request in progress, it waits in the
    /// listen backlog for a slot.
    pub max_connections: usize,
    /// The longest a client may take to send a request's headers, counted
    /// from the connection (or the previous response) on; an idle
    /// keep-alive connection is closed after it too.
    pub header_timeout: Duration,
}

impl Default for ConnectionLimits {
    /// [`DEFAULT_MAX_CONNECTIONS`], or the open-file limit less 64 when that
    /// is lower, and [`DEFAULT_HEADER_TIMEOUT`].
    fn default() -> Self {
        ConnectionLimits {
            max_connections: default_max_connections(),
            header_timeout: DEFAULT_HEADER_TIMEOUT,
        }
    }
}

/// [`DEFAULT_MAX_CONNECTIONS`], lowered to fit the process's open-file limit
/// (less descriptors kept for everything else), at least 1.
pub fn default_max_connections() -> usize {
    let fit = open_file_limit()
        .map(|limit| limit.saturating_sub(RESERVED_DESCRIPTORS))
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(DEFAULT_MAX_CONNECTIONS);
    fit.clamp(1, DEFAULT_MAX_CONNECTIONS)
}

/// The soft `RLIMIT_NOFILE`, if there is one.
#[cfg(unix)]
fn open_file_limit() -> Option<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes the struct it is given, which lives for
    // the whole call.
    let status = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) };
    // `rlim_t` is u64 on Linux but not on every unix.
    #[allow(clippy::unnecessary_cast)]
    (status == 0 && limit.rlim_cur != libc::RLIM_INFINITY).then_some(limit.rlim_cur as u64)
}

#[cfg(not(unix))]
fn open_file_limit() -> Option<u64> {
    None
}

/// One open connection, as the accept loop sees it.
struct Connection {
    /// Requests in progress.
    busy: AtomicUsize,
    /// Milliseconds since the loop started, when it last began or finished a
    /// request (or was accepted).
    last_active: AtomicU64,
    /// Tells the connection's task to close it.
    evict: Notify,
}

/// The open connections, to find the one idle longest.
struct Registry {
    started: Instant,
    next_id: AtomicU64,
    open: Mutex<HashMap<u64, Arc<Connection>>>,
}

impl Registry {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<Connection>>> {
        self.open.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn add(&self) -> (u64, Arc<Connection>) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let connection = Arc::new(Connection {
            busy: AtomicUsize::new(0),
            last_active: AtomicU64::new(self.now_ms()),
            evict: Notify::new(),
        });
        self.lock().insert(id, connection.clone());
        (id, connection)
    }

    fn remove(&self, id: u64) {
        self.lock().remove(&id);
    }

    /// Asks the connection idle longest to close; whether there was one.
    fn evict_idlest(&self) -> bool {
        let mut open = self.lock();
        let idlest = open
            .iter()
            .filter(|(_, c)| c.busy.load(Ordering::Acquire) == 0)
            .min_by_key(|(id, c)| (c.last_active.load(Ordering::Relaxed), **id))
            .map(|(id, _)| *id);
        match idlest.and_then(|id| open.remove(&id)) {
            Some(connection) => {
                connection.evict.notify_one();
                true
            }
            None => false,
        }
    }
}

/// An accepted connection's slot under the limit and its registry entry.
struct Slot {
    permit: OwnedSemaphorePermit,
    id: u64,
    connection: Arc<Connection>,
}

/// The router, marking its connection busy while a request is handled.
#[derive(Clone)]
struct Tracked {
    router: Router,
    connection: Arc<Connection>,
    registry: Arc<Registry>,
}

/// Marks a connection busy for as long as it lives.
struct Busy {
    connection: Arc<Connection>,
    registry: Arc<Registry>,
}

impl Busy {
    fn new(connection: Arc<Connection>, registry: Arc<Registry>) -> Busy {
        connection.busy.fetch_add(1, Ordering::AcqRel);
        connection
            .last_active
            .store(registry.now_ms(), Ordering::Relaxed);
        Busy {
            connection,
            registry,
        }
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.connection
            .last_active
            .store(self.registry.now_ms(), Ordering::Relaxed);
        self.connection.busy.fetch_sub(1, Ordering::AcqRel);
    }
}

impl tower_service::Service<Request<Incoming>> for Tracked {
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        tower_service::Service::<Request>::poll_ready(&mut self.router, cx)
    }

    fn call(&mut self, request: Request<Incoming>) -> Self::Future {
        let busy = Busy::new(self.connection.clone(), self.registry.clone());
        let response =
            tower_service::Service::<Request>::call(&mut self.router, request.map(Body::new));
        Box::pin(async move {
            let response = response.await;
            drop(busy);
            response
        })
    }
}

/// Serves `app` on `listener` within `limits` until `shutdown` completes,
/// then lets the requests in progress finish.
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    limits: &ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let registry = Arc::new(Registry {
        started: Instant::now(),
        next_id: AtomicU64::new(0),
        open: Mutex::new(HashMap::new()),
    });
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let http = Arc::new(http);
    // Dropped to tell the connections to finish; they hold the receivers,
    // so `closed()` on the sender says when they all have.
    let (stop_tx, stop_rx) = watch::channel(());
    let (done_tx, done_rx) = watch::channel(());
    let mut shutdown = pin!(shutdown);
    let mut accept_errors = 0u64;
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    accept_error(e, &registry, &mut accept_errors).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let permit = match slots.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => match tokio::select! {
                permit = make_room(&slots, &registry) => permit,
                () = &mut shutdown => None,
            } {
                Some(permit) => permit,
                None => break,
            },
        };
        let _ = stream.set_nodelay(true);
        // Registered here, in accept order, so that ties in idleness go to
        // the older connection.
        let (id, connection) = registry.add();
        let slot = Slot {
            permit,
            id,
            connection,
        };
        tokio::spawn(serve_connection(
            stream,
            slot,
            app.clone(),
            registry.clone(),
            http.clone(),
            stop_rx.clone(),
            done_rx.clone(),
        ));
    }
    drop(listener);
    drop(stop_tx);
    drop(done_rx);
    done_tx.closed().await;
}

/// Every slot is taken: closes the idlest connection and waits for its
/// slot. When every connection has a request in progress, waits for one
/// to end or become idle (then closes it).
async fn make_room(slots: &Arc<Semaphore>, registry: &Registry) -> Option<OwnedSemaphorePermit> {
    let mut evicted = registry.evict_idlest();
    let permit = slots.clone().acquire_owned();
    let mut permit = pin!(permit);
    loop {
        tokio::select! {
            permit = permit.as_mut() => return permit.ok(),
            () = tokio::time::sleep(BUSY_RECHECK), if !evicted => {
                evicted = registry.evict_idlest();
            }
        }
    }
}

/// One connection's task: serve it until it ends, is evicted (closed at
/// once) or the server stops (finish the request in progress, then close).
async fn serve_connection(
    stream: tokio::net::TcpStream,
    slot: Slot,
    app: Router,
    registry: Arc<Registry>,
    http: Arc<hyper::server::conn::http1::Builder>,
    mut stop: watch::Receiver<()>,
    done: watch::Receiver<()>,
) {
    let Slot {
        permit,
        id,
        connection,
    } = slot;
    let service = TowerToHyperService::new(Tracked {
        router: app,
        connection: connection.clone(),
        registry: registry.clone(),
    });
    let mut conn = pin!(http.serve_connection(TokioIo::new(stream), service));
    let mut stopping = false;
    loop {
        tokio::select! {
            _ = conn.as_mut() => break,
            () = connection.evict.notified() => break,
            changed = stop.changed(), if !stopping => {
                // Err: the sender is gone, which is the signal.
                let _ = changed;
                stopping = true;
                conn.as_mut().graceful_shutdown();
            }
        }
    }
    registry.remove(id);
    drop(permit);
    drop(done);
}

/// An accept error: one about a single connection is skipped; any other
/// (out of descriptors, out of memory) frees the idlest connection's
/// descriptor, is reported (first and every 100th), and pauses the loop.
async fn accept_error(error: std::io::Error, registry: &Registry, count: &mut u64) {
    use std::io::ErrorKind;
    if matches!(
        error.kind(),
        ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset | ErrorKind::ConnectionRefused
    ) {
        return;
    }
    if count.is_multiple_of(100) {
        eprintln!(
            "neatlogs: cannot accept a connection: {error} (the collector keeps running; \
             lower --max-connections or raise the open-file limit, `ulimit -n`)"
        );
    }
    *count += 1;
    registry.evict_idlest();
    tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
}
