//! One running pipeline with its defaults: what `init` installs for the
//! process, or what a [`Neatlogs`](crate::Neatlogs) value holds for the
//! threads it is made the default on.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::export::pipeline::Pipeline;
use crate::identity::Resolved;
use crate::record::{Destination, SpanRecord};
use crate::sampling::Sampling;
use crate::stats::Stats;
use crate::usage::UsageTable;

pub(crate) struct Instance {
    /// The default identity, the fallback of every root that reports here.
    pub(crate) defaults: Resolved,
    /// Which of the traces rooted here are recorded.
    pub(crate) sampling: Sampling,
    pub(crate) pipeline: Pipeline,
    /// Usage per end-user of every LLM call in a trace rooted here,
    /// recorded or not.
    pub(crate) usage: Arc<UsageTable>,
    pub(crate) shut_down: AtomicBool,
}

impl Instance {
    pub(crate) fn new(
        defaults: Resolved,
        sampling: Sampling,
        pipeline: Pipeline,
        usage: Arc<UsageTable>,
    ) -> Instance {
        Instance {
            defaults,
            sampling,
            pipeline,
            usage,
            shut_down: AtomicBool::new(false),
        }
    }

    /// Whether spans are still taken (`shutdown` has not begun).
    #[inline]
    pub(crate) fn is_running(&self) -> bool {
        !self.shut_down.load(Ordering::Relaxed)
    }

    pub(crate) fn flush(&self, timeout: std::time::Duration) -> bool {
        if !self.is_running() {
            return true;
        }
        self.pipeline.flush(timeout)
    }

    /// Stop taking spans, export what was taken, stop the export thread.
    /// `None` when it was already shut down.
    pub(crate) fn shutdown(&self, timeout: std::time::Duration) -> Option<bool> {
        if self.shut_down.swap(true, Ordering::AcqRel) {
            return None;
        }
        Some(self.pipeline.shutdown(timeout))
    }

    pub(crate) fn stats(&self) -> Stats {
        let tail = |f: fn(&crate::tail::Tails) -> u64| self.sampling.tail.as_deref().map_or(0, f);
        Stats {
            usage_overflowed: self.usage.overflowed(),
            tail_kept: tail(|t| t.kept.load(Ordering::Relaxed)),
            tail_fell_back: tail(|t| t.fell_back.load(Ordering::Relaxed)),
            ..self.pipeline.stats()
        }
    }
}

impl Destination for Instance {
    fn send(&self, record: SpanRecord) {
        if self.is_running() {
            self.pipeline.send_batch(vec![record]);
        }
    }

    fn defaults(&self) -> &Resolved {
        &self.defaults
    }

    fn sampling(&self) -> &Sampling {
        &self.sampling
    }

    fn usage(&self) -> &UsageTable {
        &self.usage
    }
}
