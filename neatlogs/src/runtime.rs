//! `init`, `flush`, `shutdown` and `stats`: starting and stopping what
//! [`global`](crate::global) holds.

use std::marker::PhantomData;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::capture::{self, Ambient};
use crate::config::Config;
use crate::error::InitError;
use crate::export::pipeline::{Counters, Pipeline, Settings};
use crate::export::ConsoleExporter;
use crate::export::Resource;
use crate::global;
use crate::identity::{self, Given, OperatorId, Problem, Resolved};
use crate::instance::Instance;
use crate::local;
use crate::sampling::Sampling;
use crate::session;
use crate::stats::Stats;
use crate::usage::UsageTable;
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
    let capture_content = config.content.capture;
    let Some(instance) = build(config)? else {
        return Ok(());
    };
    crate::content::set_capture(capture_content);
    if !global::install(instance) {
        return Err(InitError::AlreadyInitialized);
    }
    Ok(())
}

/// The pipeline and defaults `config` describes, started; `None` when
/// `OTEL_SDK_DISABLED` turns tracing off.
fn build(config: Config) -> Result<Option<Instance>, InitError> {
    if config.sdk_disabled {
        // Off means off: nothing else is read or checked.
        log::info!("neatlogs: OTEL_SDK_DISABLED=true; tracing stays off");
        return Ok(None);
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
        sampler,
        sampling_rule,
        tail_keep,
        usage_interval,
        usage_cardinality_limit,
        ..
    } = config;
    if let Some(ratio) = sampler.invalid_ratio() {
        return Err(InitError::InvalidSampler(ratio));
    }
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
    let usage = Arc::new(UsageTable::new(usage_cardinality_limit));
    let mut usage_exporters = Vec::new();
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
        usage_exporters.extend(crate::export::default_usage_exporters(
            &transport,
            local_file.as_deref(),
            &counters,
        )?);
    }

    content.genai = conventions.contains(crate::export::Conventions::GENAI);
    let pipeline = Pipeline::start(
        Settings {
            resource,
            content,
            queue_size,
            batch_size,
            schedule_delay,
            on_start: local::suppress_tracing_on_this_thread,
            usage: usage.clone(),
            usage_interval,
        },
        exporters,
        usage_exporters,
        counters,
    )?;
    Ok(Some(Instance::new(
        defaults,
        Sampling {
            sampler,
            rule: sampling_rule,
            tail: tail_keep.map(|keep| Arc::new(crate::tail::Tails::new(keep))),
        },
        pipeline,
        usage,
    )))
}

/// Whether [`init`] has run (and [`shutdown`] has not).
pub fn is_initialized() -> bool {
    global::installed().is_some_and(|g| g.is_running())
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
        Some(g) if g.is_running() => {
            crate::local::hand_off_this_thread();
            g.flush(timeout)
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
    match g.shutdown(timeout) {
        Some(all) => {
            global::deactivate();
            all
        }
        None => g.pipeline.all_exported(),
    }
}

/// Export counters since `init`.
pub fn stats() -> Stats {
    global::installed().map(|g| g.stats()).unwrap_or_default()
}

/// A pipeline and its defaults as a value: what [`init`] starts and installs
/// for the whole process, made here without installing it. Spans go to it
/// from the traces whose root opens on a thread where it is the default
/// ([`set_default`](Neatlogs::set_default), [`in_scope`](Neatlogs::in_scope))
/// — with their children on any task or thread that carries the trace's
/// [`Context`](crate::Context) — and to nothing else.
///
/// For tests above all: each builds its own, with its own configuration,
/// and the tests of one binary run side by side.
///
/// ```
/// use neatlogs::{Config, Neatlogs};
///
/// # let dir = std::env::temp_dir().join(format!("neatlogs-doc-{}", std::process::id()));
/// let file = dir.join("traces.jsonl");
/// let tracer = Neatlogs::new(Config::new().local_file(&file).end_user_id("u_default"))?;
/// tracer.in_scope(|| {
///     let _root = neatlogs::trace("chat").enter();
///     assert_eq!(neatlogs::current_end_user().unwrap().id().as_str(), "u_default");
/// });
/// assert!(tracer.shutdown());
/// assert_eq!(tracer.stats().exported, 1);
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok::<(), neatlogs::InitError>(())
/// ```
///
/// Dropping it shuts it down (waiting at most 15 seconds for the export).
/// Spans sent to an instance skip the per-thread batching of the process's
/// pipeline: each goes to its queue as it ends.
pub struct Neatlogs {
    /// `None` when `OTEL_SDK_DISABLED` turned it off.
    instance: Option<Arc<Instance>>,
}

impl std::fmt::Debug for Neatlogs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Neatlogs")
            .field(
                "running",
                &self.instance.as_ref().is_some_and(|i| i.is_running()),
            )
            .finish_non_exhaustive()
    }
}

impl Neatlogs {
    /// Start the pipeline `config` describes (its export thread included),
    /// with the same checks and errors as [`init`], without installing it.
    pub fn new(config: Config) -> Result<Neatlogs, InitError> {
        Ok(Neatlogs {
            instance: build(config)?.map(Arc::new),
        })
    }

    /// Make this the default on this thread until the guard drops: roots
    /// opened here report to it, with its default identity.
    #[must_use = "the instance is the default only while the guard is alive"]
    pub fn set_default(&self) -> DefaultGuard {
        let Some(instance) = &self.instance else {
            return DefaultGuard {
                prev: None,
                _not_send: PhantomData,
            };
        };
        global::scope_started();
        let prev = capture::replace_ambient(Some(Ambient::Instance(instance.clone())));
        DefaultGuard {
            prev: Some(prev),
            _not_send: PhantomData,
        }
    }

    /// Run `f` with this as the default on this thread.
    pub fn in_scope<R>(&self, f: impl FnOnce() -> R) -> R {
        let _default = self.set_default();
        f()
    }

    /// Export everything it was sent; wait at most 15 seconds. Returns
    /// whether everything was exported.
    #[must_use = "`false` means some spans were not exported in time"]
    pub fn flush(&self) -> bool {
        match &self.instance {
            Some(i) => i.flush(DEFAULT_FLUSH_TIMEOUT),
            None => true,
        }
    }

    /// Export everything it was sent and stop its export thread (spans
    /// that end later are not exported). Waits at most 15 seconds; returns
    /// whether everything was exported. Calling it again is harmless.
    #[must_use = "`false` means some spans were not exported"]
    pub fn shutdown(&self) -> bool {
        match &self.instance {
            Some(i) => i
                .shutdown(DEFAULT_FLUSH_TIMEOUT)
                .unwrap_or_else(|| i.pipeline.all_exported()),
            None => true,
        }
    }

    /// Its export counters.
    pub fn stats(&self) -> Stats {
        self.instance
            .as_ref()
            .map(|i| i.stats())
            .unwrap_or_default()
    }
}

impl Drop for Neatlogs {
    fn drop(&mut self) {
        if let Some(i) = &self.instance {
            let _ = i.shutdown(DEFAULT_FLUSH_TIMEOUT);
        }
    }
}

/// Keeps a [`Neatlogs`] instance the default on this thread; restores the
/// previous default on drop. `!Send`.
#[must_use = "the instance is the default only while the guard is alive"]
pub struct DefaultGuard {
    /// The thread's previous ambient; `None` when nothing was set.
    prev: Option<Option<Ambient>>,
    _not_send: PhantomData<*const ()>,
}

impl std::fmt::Debug for DefaultGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DefaultGuard").finish_non_exhaustive()
    }
}

impl Drop for DefaultGuard {
    fn drop(&mut self) {
        if let Some(prev) = self.prev.take() {
            capture::replace_ambient(prev);
            global::scope_ended();
        }
    }
}
