//! `init`, `flush`, `shutdown` and `stats`: starting and stopping what
//! [`global`](crate::global) holds.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::config::Config;
use crate::error::InitError;
use crate::export::pipeline::{Counters, Pipeline, Settings};
use crate::export::ConsoleExporter;
use crate::export::Resource;
use crate::global::{self, Global};
use crate::identity::{self, Given, OperatorId, Problem, Resolved};
use crate::local;
use crate::session;
use crate::stats::Stats;
use crate::wire;

static INIT_LOCK: Mutex<()> = Mutex::new(());

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
    if global::installed().is_some() {
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
        Settings {
            resource,
            content,
            queue_size,
            batch_size,
            schedule_delay,
            on_start: local::suppress_tracing_on_this_thread,
        },
        exporters,
        counters,
    )?;
    let installed = global::install(Global {
        defaults,
        pipeline,
        shut_down: AtomicBool::new(false),
    });
    if !installed {
        return Err(InitError::AlreadyInitialized);
    }
    Ok(())
}

/// Whether [`init`] has run (and [`shutdown`] has not).
pub fn is_initialized() -> bool {
    global::installed().is_some_and(|g| !g.shut_down.load(Ordering::Relaxed))
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
    match global::installed() {
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
    let Some(g) = global::installed() else {
        return true;
    };
    // Spans this thread finished but has not handed off yet go out too (the
    // hand-off is a no-op once export has shut down).
    crate::local::hand_off_this_thread();
    if g.shut_down.swap(true, Ordering::AcqRel) {
        return g.pipeline.all_exported();
    }
    global::deactivate();
    g.pipeline.shutdown(timeout)
}

/// Export counters since `init`.
pub fn stats() -> Stats {
    global::installed()
        .map(|g| g.pipeline.stats())
        .unwrap_or_default()
}
