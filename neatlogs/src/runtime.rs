//! Process-wide state: `init`, the defaults it sets, and the export pipeline.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use crate::config::{Config, InitError};
use crate::export::pipeline::{Counters, Pipeline};
use crate::export::ConsoleExporter;
use crate::export::Resource;
use crate::identity::{self, Given, OperatorId, Problem, Resolved};
use crate::record::SpanRecord;
use crate::session;
use crate::wire;

/// How many things want spans recorded: 1 for `init` (until `shutdown`), plus
/// one per live test capture. Zero means every tracing call is a no-op, and
/// checking it is one relaxed load.
static ACTIVE: AtomicUsize = AtomicUsize::new(0);

static GLOBAL: OnceLock<Global> = OnceLock::new();
static INIT_LOCK: Mutex<()> = Mutex::new(());

struct Global {
    /// The `init` default identity, the fallback of every root.
    defaults: Resolved,
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

pub(crate) fn defaults() -> Option<&'static Resolved> {
    GLOBAL.get().map(|g| &g.defaults)
}

#[inline]
fn pipeline() -> Option<&'static Pipeline> {
    GLOBAL
        .get()
        .filter(|g| !g.shut_down.load(Ordering::Relaxed))
        .map(|g| &g.pipeline)
}

/// Whether ended spans are exported: `init` ran and `shutdown` has not.
#[inline]
pub(crate) fn exporting() -> bool {
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

/// Export counters since `init`, from [`stats`](crate::stats).
///
/// Every span handed to the pipeline is counted once as `queued` or
/// `dropped`; every queued span ends as `exported` or `failed` (or is still
/// in flight).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Spans accepted into the export queue.
    pub queued: u64,
    /// Spans dropped because the queue was full or export had shut down.
    pub dropped: u64,
    /// Spans every exporter accepted.
    pub exported: u64,
    /// Spans an exporter finally lost (rejected by the receiver, out of
    /// retries or time, or cut off by `shutdown`'s timeout).
    pub failed: u64,
    /// Export attempts retried (each retried HTTP request counts once; the
    /// spans it carried are counted once, as exported or failed).
    pub retried: u64,
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
    if config.sdk_disabled {
        // Off means off: nothing else is read or checked.
        log::info!("neatlogs: OTEL_SDK_DISABLED=true; tracing stays off");
        return Ok(());
    }
    let transport = config.transport()?;
    let Config {
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
        local_file,
        mut content,
        bad_trace_content,
        conventions,
        resource_attributes,
        ..
    } = config;
    if let Some(value) = bad_trace_content {
        return Err(InitError::InvalidTraceContent(value));
    }

    let given = Given {
        end_user: end_user_id,
        metadata: end_user_metadata,
        session: session_id.as_deref().map(identity::parse_session),
        origin: None,
    };
    // `auto_session` is the fallback of an explicit session, as `init`'s
    // defaults are the fallback of a root's.
    let fallback = Resolved {
        end_user: None,
        session: auto_session.then(|| Arc::from(session::generate_session_id())),
    };
    let mut problem = None;
    let defaults = identity::resolve(given, Some(&fallback), |p| match p {
        Problem::MetadataWithoutId => {
            log::warn!("neatlogs: end_user_metadata without end_user_id is ignored")
        }
        p => {
            problem.get_or_insert(p);
        }
    });
    match problem {
        Some(Problem::EndUserId(e)) => return Err(InitError::InvalidEndUserId(e)),
        Some(Problem::Metadata(e)) => return Err(InitError::InvalidEndUserMetadata(e)),
        Some(Problem::Session(e)) => return Err(InitError::InvalidSessionId(e)),
        Some(Problem::MetadataWithoutId) | None => {}
    }

    let resource = Resource {
        service_name: workflow_name
            .clone()
            .unwrap_or_else(|| wire::resource::DEFAULT_SERVICE_NAME.to_owned()),
        workflow_name,
        operator: operator.as_deref().map(OperatorId::new),
        session_id: defaults.session.as_deref().map(str::to_owned),
        tags,
        sdk_version: env!("CARGO_PKG_VERSION"),
        attributes: resource_attributes,
        conventions,
    };

    let counters = Arc::new(Counters::default());
    let mut exporters = custom;
    if console {
        exporters.push(Box::new(ConsoleExporter::stdout()));
    }
    if !disable_export {
        exporters.extend(crate::export::default_exporters(
            &transport,
            local_file.as_deref(),
            &counters,
        )?);
    }

    crate::content::set_capture(content.capture);
    content.genai = conventions.contains(crate::export::Conventions::GENAI);
    let pipeline = Pipeline::start(
        resource,
        content,
        exporters,
        queue_size,
        batch_size,
        schedule_delay,
        export_timeout,
        counters,
    )?;
    let global = Global {
        defaults,
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
#[must_use = "`false` means some spans were not exported in time"]
pub fn flush() -> bool {
    flush_with_timeout(DEFAULT_FLUSH_TIMEOUT)
}

/// [`flush`] with an explicit timeout.
#[must_use = "`false` means some spans were not exported in time"]
pub fn flush_with_timeout(timeout: Duration) -> bool {
    match GLOBAL.get() {
        Some(g) if !g.shut_down.load(Ordering::Relaxed) => {
            crate::local::hand_off_this_thread();
            g.pipeline.flush(timeout)
        }
        _ => true,
    }
}

/// Export everything recorded, stop the export thread, and turn tracing off.
/// Waits at most 15 seconds; returns whether everything was exported.
/// Calling it again is harmless.
#[must_use = "`false` means some spans were not exported"]
pub fn shutdown() -> bool {
    shutdown_with_timeout(DEFAULT_FLUSH_TIMEOUT)
}

/// [`shutdown`] with an explicit timeout.
#[must_use = "`false` means some spans were not exported"]
pub fn shutdown_with_timeout(timeout: Duration) -> bool {
    let Some(g) = GLOBAL.get() else { return true };
    // Spans this thread finished but has not handed off yet go out too (the
    // hand-off is a no-op once export has shut down).
    crate::local::hand_off_this_thread();
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
