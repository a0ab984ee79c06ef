//! The process's tracing switch and what `init` installed: all the hot path
//! reads (one relaxed load when off), below everything that records.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use crate::export::pipeline::Pipeline;
use crate::identity::Resolved;
use crate::instance::Instance;
use crate::record::SpanRecord;
use crate::sampling::Sampling;

/// How many things want spans recorded: 1 for `init` (until `shutdown`), plus
/// one per live test capture and per thread an instance is the default on. Zero means every tracing call is a no-op, and
/// checking it is one relaxed load.
static ACTIVE: AtomicUsize = AtomicUsize::new(0);

/// What `init` installed, once per process.
static GLOBAL: OnceLock<Instance> = OnceLock::new();

/// Install `instance` as the process's (`false` when one already is) and
/// turn recording on.
pub(crate) fn install(instance: Instance) -> bool {
    if GLOBAL.set(instance).is_err() {
        return false;
    }
    ACTIVE.fetch_add(1, Ordering::Relaxed);
    true
}

/// What `init` installed, if it ran.
pub(crate) fn installed() -> Option<&'static Instance> {
    GLOBAL.get()
}

/// Turn recording off for `init`'s part (`shutdown`).
pub(crate) fn deactivate() {
    ACTIVE.fetch_sub(1, Ordering::Relaxed);
}

#[inline(always)]
pub(crate) fn enabled() -> bool {
    ACTIVE.load(Ordering::Relaxed) != 0
}

/// A test capture started, or an instance was made a thread's default.
pub(crate) fn scope_started() {
    ACTIVE.fetch_add(1, Ordering::Relaxed);
}

/// The capture or the instance's default ended.
pub(crate) fn scope_ended() {
    ACTIVE.fetch_sub(1, Ordering::Relaxed);
}

/// The process's sampler (`None` without `init`: everything is recorded).
pub(crate) fn sampling() -> Option<&'static Sampling> {
    GLOBAL.get().map(|g| &g.sampling)
}

/// The process's usage totals (`None` without `init`).
pub(crate) fn usage() -> Option<&'static crate::usage::UsageTable> {
    GLOBAL.get().map(|g| &*g.usage)
}

pub(crate) fn defaults() -> Option<&'static Resolved> {
    GLOBAL.get().map(|g| &g.defaults)
}

#[inline]
fn pipeline() -> Option<&'static Pipeline> {
    GLOBAL.get().filter(|g| g.is_running()).map(|g| &g.pipeline)
}

/// Whether ended spans are exported: `init` ran and `shutdown` has not.
#[inline]
pub(crate) fn exporting() -> bool {
    pipeline().is_some()
}

/// Hand a thread's buffer of finished spans to the export queue, leaving
/// an empty one in its place (one the export thread gave back, when it has
/// one). Never blocks.
#[inline]
pub(crate) fn hand_off(ended: &mut Vec<SpanRecord>) {
    match pipeline() {
        Some(p) => {
            let next = p.spare_buffer();
            p.send_batch(std::mem::replace(ended, next));
        }
        // Spans that finish after `shutdown` began: not exported, not counted.
        None => ended.clear(),
    }
}

/// How many of a thread's finished traces' spans wait in its stash before
/// they are handed off: [`LOCAL_BATCH`](crate::local::LOCAL_BATCH), or the
/// export batch size if smaller (a full export batch is never held back).
#[inline]
pub(crate) fn hand_off_at() -> usize {
    pipeline().map_or(1, |p| p.batch_size().min(crate::local::LOCAL_BATCH))
}

/// An empty hand-off buffer: a spare the export thread gave back, else a
/// new one (empty without a pipeline).
#[inline]
pub(crate) fn spare_buffer() -> Vec<SpanRecord> {
    pipeline().map_or_else(Vec::new, Pipeline::spare_buffer)
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
