//! The bounded queue between the application and the export thread.
//!
//! The application side hands over one thread's batch at a time and never
//! waits: what does not fit under the queue's bound (counted in spans) is
//! dropped and counted, with one warning. The export thread batches by size and by
//! time, and answers flush and shutdown requests after draining the queue.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, select, unbounded, Receiver, RecvTimeoutError, Sender};

use super::{Exporter, Resource, Stats};
use crate::config::InitError;
use crate::record::SpanRecord;

/// State shared by the application side, the export thread and the
/// exporters: the counters behind [`Stats`], and when `shutdown` stops
/// waiting.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) queued: AtomicU64,
    pub(crate) dropped: AtomicU64,
    pub(crate) exported: AtomicU64,
    pub(crate) failed: AtomicU64,
    pub(crate) retried: AtomicU64,
    /// Set by `shutdown`: exporters must give up (no new attempt, no retry
    /// sleep) past this instant, so the export thread can count what was
    /// lost and answer before the caller stops waiting.
    stop_at: Mutex<Option<Instant>>,
}

// Only the HTTP exporter retries or waits.
#[cfg_attr(not(feature = "otlp-http"), allow(dead_code))]
impl Counters {
    /// When exporters must give up, if `shutdown` has begun.
    pub(crate) fn stop_at(&self) -> Option<Instant> {
        self.stop_at.lock().ok().and_then(|s| *s)
    }

    /// Count one retried export attempt.
    pub(crate) fn add_retry(&self) {
        self.retried.fetch_add(1, Ordering::Relaxed);
    }
}

/// How much of `shutdown`'s timeout is kept for the export thread to count
/// and answer after the exporters give up.
fn answer_margin(timeout: Duration) -> Duration {
    (timeout / 5).min(Duration::from_millis(200))
}

enum Control {
    Flush(Sender<bool>),
    Shutdown(Sender<bool>),
}

pub(crate) struct Pipeline {
    tx: Sender<Vec<SpanRecord>>,
    /// Spans in the channel; kept at most `capacity` (the bound is in spans,
    /// while the channel carries one batch per trace).
    in_queue: Arc<AtomicUsize>,
    capacity: usize,
    control: Sender<Control>,
    counters: Arc<Counters>,
    warned_full: AtomicBool,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Pipeline {
    pub(crate) fn start(
        resource: Resource,
        exporters: Vec<Box<dyn Exporter>>,
        queue_size: usize,
        batch_size: usize,
        schedule_delay: Duration,
        export_timeout: Duration,
        counters: Arc<Counters>,
    ) -> Result<Pipeline, InitError> {
        let (tx, rx) = unbounded();
        let (control, control_rx) = unbounded();
        let in_queue = Arc::new(AtomicUsize::new(0));
        let worker = Worker {
            resource,
            exporters,
            rx,
            in_queue: in_queue.clone(),
            control: control_rx,
            batch: Vec::with_capacity(batch_size.min(4096)),
            batch_size,
            schedule_delay,
            _export_timeout: export_timeout,
            counters: counters.clone(),
        };
        let thread = std::thread::Builder::new()
            .name("neatlogs-export".into())
            .spawn(move || worker.run())?;
        Ok(Pipeline {
            tx,
            in_queue,
            capacity: queue_size,
            control,
            counters,
            warned_full: AtomicBool::new(false),
            thread: Mutex::new(Some(thread)),
        })
    }

    /// Queue one thread's batch of finished spans. Never blocks: what does
    /// not fit in the queue is dropped and counted.
    pub(crate) fn send_batch(&self, mut batch: Vec<SpanRecord>) {
        let n = batch.len();
        let before = self.in_queue.fetch_add(n, Ordering::Relaxed);
        let room = self.capacity.saturating_sub(before).min(n);
        if room < n {
            self.in_queue.fetch_sub(n - room, Ordering::Relaxed);
            self.count_dropped(n - room);
            batch.truncate(room);
            if batch.is_empty() {
                return;
            }
        }
        let kept = batch.len();
        match self.tx.send(batch) {
            Ok(()) => {
                self.counters
                    .queued
                    .fetch_add(kept as u64, Ordering::Relaxed);
            }
            Err(_) => {
                self.in_queue.fetch_sub(kept, Ordering::Relaxed);
                self.counters
                    .dropped
                    .fetch_add(kept as u64, Ordering::Relaxed);
            }
        }
    }

    fn count_dropped(&self, n: usize) {
        self.counters.dropped.fetch_add(n as u64, Ordering::Relaxed);
        if !self.warned_full.swap(true, Ordering::Relaxed) {
            log::warn!(
                "neatlogs: export queue full; dropping spans (counted in neatlogs::stats().dropped)"
            );
        }
    }

    /// The worker's answer, or `None` when it did not answer in time.
    fn request(
        &self,
        make: impl FnOnce(Sender<bool>) -> Control,
        timeout: Duration,
    ) -> Option<bool> {
        let (reply, answer) = bounded(1);
        if self.control.send(make(reply)).is_err() {
            return Some(self.all_exported());
        }
        match answer.recv_timeout(timeout) {
            Ok(ok) => Some(ok),
            Err(RecvTimeoutError::Timeout) => {
                log::warn!("neatlogs: flush timed out after {timeout:?}; some spans may not have been exported");
                None
            }
            Err(RecvTimeoutError::Disconnected) => None,
        }
    }

    pub(crate) fn flush(&self, timeout: Duration) -> bool {
        self.request(Control::Flush, timeout).unwrap_or(false)
    }

    pub(crate) fn shutdown(&self, timeout: Duration) -> bool {
        if let Ok(mut stop_at) = self.counters.stop_at.lock() {
            *stop_at = Some(Instant::now() + timeout.saturating_sub(answer_margin(timeout)));
        }
        let answer = self.request(Control::Shutdown, timeout);
        if answer.is_some() {
            if let Some(t) = self.thread.lock().ok().and_then(|mut t| t.take()) {
                // The worker answered and is returning: joining cannot hang.
                let _ = t.join();
            }
        }
        answer.unwrap_or(false) && self.all_exported()
    }

    pub(crate) fn all_exported(&self) -> bool {
        let c = &self.counters;
        c.dropped.load(Ordering::Relaxed) == 0
            && c.failed.load(Ordering::Relaxed) == 0
            && c.exported.load(Ordering::Relaxed) == c.queued.load(Ordering::Relaxed)
    }

    pub(crate) fn stats(&self) -> Stats {
        let c = &self.counters;
        Stats {
            queued: c.queued.load(Ordering::Relaxed),
            dropped: c.dropped.load(Ordering::Relaxed),
            exported: c.exported.load(Ordering::Relaxed),
            failed: c.failed.load(Ordering::Relaxed),
            retried: c.retried.load(Ordering::Relaxed),
        }
    }
}

struct Worker {
    resource: Resource,
    exporters: Vec<Box<dyn Exporter>>,
    rx: Receiver<Vec<SpanRecord>>,
    in_queue: Arc<AtomicUsize>,
    control: Receiver<Control>,
    batch: Vec<SpanRecord>,
    batch_size: usize,
    schedule_delay: Duration,
    _export_timeout: Duration,
    counters: Arc<Counters>,
}

impl Worker {
    fn run(mut self) {
        // Exporters run here: nothing they do (HTTP calls, file writes, an
        // instrumented client in a custom exporter) may become a span, or
        // every export would feed the next one.
        crate::context::suppress_tracing_on_this_thread();
        let mut deadline: Option<Instant> = None;
        loop {
            let wait = deadline
                .map(|d| d.saturating_duration_since(Instant::now()))
                .unwrap_or(Duration::from_secs(3600));
            select! {
                recv(self.rx) -> msg => match msg {
                    Ok(records) => {
                        self.take(records);
                        if deadline.is_none() {
                            deadline = Some(Instant::now() + self.schedule_delay);
                        }
                        if self.batch.len() >= self.batch_size {
                            self.export_batch();
                            deadline = None;
                        }
                    }
                    Err(_) => {
                        self.export_batch();
                        return;
                    }
                },
                recv(self.control) -> msg => match msg {
                    Ok(Control::Flush(reply)) => {
                        let ok = self.drain();
                        let ok = self.exporters.iter_mut().all(|e| e.flush().is_ok()) && ok;
                        deadline = None;
                        let _ = reply.send(ok);
                    }
                    Ok(Control::Shutdown(reply)) => {
                        let ok = self.drain();
                        let mut ok_all = ok;
                        for e in &mut self.exporters {
                            ok_all &= e.shutdown().is_ok();
                        }
                        let _ = reply.send(ok_all);
                        return;
                    }
                    Err(_) => {
                        self.drain();
                        return;
                    }
                },
                default(wait) => {
                    self.export_batch();
                    deadline = None;
                }
            }
        }
    }

    /// Export everything queued so far; whether all of it went out.
    fn drain(&mut self) -> bool {
        let mut ok = true;
        while let Ok(records) = self.rx.try_recv() {
            self.take(records);
            if self.batch.len() >= self.batch_size {
                ok &= self.export_batch();
            }
        }
        ok &= self.export_batch();
        ok
    }

    fn take(&mut self, mut records: Vec<SpanRecord>) {
        self.in_queue.fetch_sub(records.len(), Ordering::Relaxed);
        if self.batch.is_empty() {
            // Reuse the producer's allocation rather than copy into ours.
            std::mem::swap(&mut self.batch, &mut records);
        } else {
            self.batch.append(&mut records);
        }
    }

    /// Export the pending spans in calls of at most `batch_size`.
    fn export_batch(&mut self) -> bool {
        if self.batch.len() <= self.batch_size {
            return self.export_chunk();
        }
        let mut rest = std::mem::take(&mut self.batch);
        let mut ok = true;
        while !rest.is_empty() {
            let tail = rest.split_off(rest.len().min(self.batch_size));
            self.batch = rest;
            ok &= self.export_chunk();
            rest = tail;
        }
        ok
    }

    fn export_chunk(&mut self) -> bool {
        if self.batch.is_empty() {
            return true;
        }
        // A span counts as failed when any exporter lost it; an exporter
        // that lost only part of the batch says how much.
        let n = self.batch.len();
        let mut failed = 0;
        for exporter in &mut self.exporters {
            // A panicking exporter loses its batch, not the export thread.
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                exporter.export(&self.resource, &self.batch)
            }))
            .unwrap_or_else(|_| Err(super::ExportError::new("the exporter panicked")));
            if let Err(e) = result {
                let lost = e.failed_spans().unwrap_or(n).min(n);
                log::warn!("neatlogs: export of {n} spans failed ({lost} lost): {e}");
                failed = failed.max(lost);
            }
        }
        self.counters
            .exported
            .fetch_add((n - failed) as u64, Ordering::Relaxed);
        self.counters
            .failed
            .fetch_add(failed as u64, Ordering::Relaxed);
        self.batch.clear();
        failed == 0
    }
}
