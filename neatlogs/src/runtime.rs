//! Process-wide state: `init`, the defaults it sets, and the export pipeline.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use crate::config::{Config, InitError};
use crate::export::console::ConsoleExporter;
use crate::export::pipeline::{Counters, Pipeline};
use crate::export::{ExportSettings, Resource, Stats};
use crate::identity::{self, EndUser, IdInput, OperatorId};
use crate::record::SpanRecord;
use crate::session::{self, SessionId};

/// How many things want spans recorded: 1 for `init` (until `shutdown`), plus
/// one per live test capture. Zero means every tracing call is a no-op, and
/// checking it is one relaxed load.
static ACTIVE: AtomicUsize = AtomicUsize::new(0);

static GLOBAL: OnceLock<Global> = OnceLock::new();
static INIT_LOCK: Mutex<()> = Mutex::new(());

pub(crate) struct Defaults {
    pub(crate) end_user: Option<EndUser>,
    pub(crate) session: Option<SessionId>,
}

struct Global {
    defaults: Defaults,
    pipeline: Pipeline,
    shut_down: AtomicBool,
}

#[inline(always)]
pub(crate) fn enabled() -> bool {
    ACTIVE.load(Ordering::Relaxed) != 0
}

pub(crate) fn capture_started() {
    ACTIVE.fetch_add(1, Ordering::Relaxed);
}

pub(crate) fn capture_ended() {
    ACTIVE.fetch_sub(1, Ordering::Relaxed);
}

pub(crate) fn defaults() -> Option<&'static Defaults> {
    GLOBAL.get().map(|g| &g.defaults)
}

#[inline]
fn pipeline() -> Option<&'static Pipeline> {
    GLOBAL
        .get()
        .filter(|g| !g.shut_down.load(Ordering::Relaxed))
        .map(|g| &g.pipeline)
}

/// Give a finished span to its trace's test capture, if any; returns
/// whether it should also be exported (`init` ran and export has not shut
/// down).
#[inline]
pub(crate) fn capture(record: &SpanRecord) -> bool {
    if let Some(capture) = &record.trace.capture {
        if let Ok(mut spans) = capture.spans.lock() {
            spans.push(record.clone());
        }
    }
    pipeline().is_some()
}

/// Hand a thread's batch of finished spans to the export queue. Never blocks.
pub(crate) fn enqueue(batch: Vec<SpanRecord>) {
    if batch.is_empty() {
        return;
    }
    match pipeline() {
        Some(p) => p.send_batch(batch),
        // Spans that finish after `shutdown` began: not exported, not counted.
        None => drop(batch),
    }
}

/// Start neatlogs for this process. Call once, early in `main`.
///
/// Returns [`InitError::AlreadyInitialized`] on a second call (the first
/// configuration stays), and a typed error for an invalid default identity
/// or endpoint. Until `init` succeeds, every tracing call is a no-op.
///
/// ```no_run
/// neatlogs::init(neatlogs::Config::from_env().workflow_name("support-chat"))?;
/// # Ok::<(), neatlogs::InitError>(())
/// ```
pub fn init(config: Config) -> Result<(), InitError> {
    let _lock = INIT_LOCK.lock().unwrap_or_else(|p| p.into_inner());
    if GLOBAL.get().is_some() {
        return Err(InitError::AlreadyInitialized);
    }
    let Config {
        api_key,
        endpoint,
        disable_export,
        workflow_name,
        operator,
        end_user_id,
        end_user_metadata,
        session_id,
        auto_session,
        tags,
        console,
        exporters: custom,
        queue_size,
        batch_size,
        schedule_delay,
        export_timeout,
        protocol,
        local_file,
    } = config;
    let protocol = protocol
        .transpose()
        .map_err(InitError::InvalidProtocol)?
        .unwrap_or_default();

    let end_user = match end_user_id {
        Some(IdInput::Valid(id)) => {
            let metadata = match end_user_metadata {
                Some(Ok(m)) => Some(m),
                Some(Err(e)) => return Err(InitError::InvalidEndUserMetadata(e)),
                None => None,
            };
            Some(EndUser::new(id, metadata))
        }
        Some(IdInput::Invalid(e)) => return Err(InitError::InvalidEndUserId(e)),
        Some(IdInput::NotGiven) | None => {
            if end_user_metadata.is_some() {
                log::warn!("neatlogs: end_user_metadata without end_user_id is ignored");
            }
            None
        }
    };
    let session: Option<SessionId> = match session_id.as_deref().map(identity::parse_session) {
        Some(IdInput::Valid(s)) => Some(s),
        Some(IdInput::Invalid(e)) => return Err(InitError::InvalidSessionId(e)),
        Some(IdInput::NotGiven) | None if auto_session => {
            Some(Arc::from(session::generate_session_id()))
        }
        Some(IdInput::NotGiven) | None => None,
    };

    let resource = Resource {
        service_name: workflow_name
            .clone()
            .unwrap_or_else(|| "neatlogs-app".to_owned()),
        workflow_name,
        operator: operator.as_deref().map(OperatorId::new),
        session_id: session.as_deref().map(str::to_owned),
        tags,
        sdk_version: env!("CARGO_PKG_VERSION"),
    };

    let counters = Arc::new(Counters::default());
    let mut exporters = custom;
    if console {
        exporters.push(Box::new(ConsoleExporter::stdout()));
    }
    if !disable_export {
        let settings = ExportSettings {
            api_key: api_key.as_deref(),
            endpoint: endpoint.as_deref(),
            protocol,
            local_file: local_file.as_deref(),
            export_timeout,
        };
        exporters.extend(crate::export::default_exporters(settings, &counters)?);
    }

    let pipeline = Pipeline::start(
        resource,
        exporters,
        queue_size,
        batch_size,
        schedule_delay,
        export_timeout,
        counters,
    )?;
    let global = Global {
        defaults: Defaults { end_user, session },
        pipeline,
        shut_down: AtomicBool::new(false),
    };
    if GLOBAL.set(global).is_err() {
        return Err(InitError::AlreadyInitialized);
    }
    ACTIVE.fetch_add(1, Ordering::Relaxed);
    Ok(())
}

/// Whether [`init`] has run (and [`shutdown`] has not).
pub fn is_initialized() -> bool {
    GLOBAL
        .get()
        .is_some_and(|g| !g.shut_down.load(Ordering::Relaxed))
}

/// The default timeout of [`flush`] and [`shutdown`].
pub const DEFAULT_FLUSH_TIMEOUT: Duration = Duration::from_secs(15);

/// Export everything recorded so far; wait at most 15 seconds. Returns
/// whether everything was exported (`true` when there was nothing to do).
///
/// Safe to call from sync code and from inside any async runtime (it blocks
/// the calling thread, never an executor's reactor).
pub fn flush() -> bool {
    flush_with_timeout(DEFAULT_FLUSH_TIMEOUT)
}

/// [`flush`] with an explicit timeout.
pub fn flush_with_timeout(timeout: Duration) -> bool {
    match GLOBAL.get() {
        Some(g) if !g.shut_down.load(Ordering::Relaxed) => {
            crate::context::hand_off_this_thread();
            g.pipeline.flush(timeout)
        }
        _ => true,
    }
}

/// Export everything recorded, stop the export thread, and turn tracing off.
/// Waits at most 15 seconds; returns whether everything was exported.
/// Calling it again is harmless.
pub fn shutdown() -> bool {
    shutdown_with_timeout(DEFAULT_FLUSH_TIMEOUT)
}

/// [`shutdown`] with an explicit timeout.
pub fn shutdown_with_timeout(timeout: Duration) -> bool {
    let Some(g) = GLOBAL.get() else { return true };
    // Spans this thread finished but has not handed off yet go out too (the
    // hand-off is a no-op once export has shut down).
    crate::context::hand_off_this_thread();
    if g.shut_down.swap(true, Ordering::AcqRel) {
        return g.pipeline.all_exported();
    }
    ACTIVE.fetch_sub(1, Ordering::Relaxed);
    g.pipeline.shutdown(timeout)
}

/// Export counters since `init`.
pub fn stats() -> Stats {
    GLOBAL.get().map(|g| g.pipeline.stats()).unwrap_or_default()
}
