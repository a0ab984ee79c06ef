//! The bounded queue between the application and the export thread.
//!
//! The application side hands over one thread's batch at a time (a few
//! traces' spans from its stash, see `local`; the export thread takes
//! what waits in the stashes itself at its timer, a flush and shutdown)
//! and never waits: what does not fit under the queue's bound (counted in spans) is
//! dropped and counted, with one warning. A hand-off does not wake the export
//! thread: it sleeps until a full batch is waiting (the hand-off that fills
//! one sends a single wake-up), the schedule delay passes, or a flush or
//! shutdown asks. It exports full batches of `batch_size` spans and keeps
//! the remainder for the next one; the timer, a flush and shutdown send the
//! remainder too.
//!
//! Memory goes back where it came from. The buffers threads hand off in
//! return to them, and with them the plain spans already exported: a thread
//! that takes a spare buffer drops those spans, so their memory is freed
//! into the allocator's cache of a thread that makes spans, and the next
//! trace's allocations find it there, warm, instead of crossing to the
//! export thread and back. Spans with content or an LLM call (large), and
//! spans of a trace that reports elsewhere (a test capture, an instance),
//! are dropped on the export thread. Each buffer goes back with about as
//! many spans as it came with, since a thread takes one per hand-off.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, select, unbounded, Receiver, RecvTimeoutError, Sender};

use super::{Exporter, Resource};
use crate::content::Policy;
use crate::error::InitError;
use crate::record::{Sink, SpanRecord};
use crate::stats::Stats;
use crate::usage::UsageTable;

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
    /// Usage reports every usage exporter accepted, and those one lost.
    pub(crate) usage_reports: AtomicU64,
    pub(crate) usage_reports_failed: AtomicU64,
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

/// Sends the usage totals (the HTTP exporter's twin on `/v1/metrics`, the
/// local file).
pub(crate) trait UsageExporter: Send {
    /// Send every series of `usage` as it stands.
    fn export_usage(&mut self, resource: &Resource, usage: &UsageTable) -> Result<(), UsageError>;
}

/// Why a usage report was not taken.
#[derive(Debug)]
pub(crate) enum UsageError {
    /// This report was lost (the next one carries the same totals and more).
    Failed(super::ExportError),
    /// The receiver does not take metrics (a receiver of traces only): no
    /// report is sent there again.
    #[cfg_attr(not(feature = "otlp-http"), allow(dead_code))]
    Unsupported(String),
}

enum Control {
    Flush(Sender<bool>),
    Shutdown(Sender<bool>),
}

/// The capacity of a new hand-off buffer: a stash's worth of spans fits
/// without growing it.
const HAND_OFF_CAPACITY: usize = crate::local::LOCAL_BATCH;
/// Spare hand-off buffers kept for reuse, each carrying about the spans of
/// one hand-off back, at most [`MAX_SPARE_CAPACITY`].
const SPARE_BUFFERS: usize = 64;
/// The largest spare kept: what a thread hands off at most at once (a
/// larger buffer would hold memory for a burst long gone).
const MAX_SPARE_CAPACITY: usize = crate::local::LOCAL_BATCH;

pub(crate) struct Pipeline {
    tx: Sender<Vec<SpanRecord>>,
    /// Hand-off buffers back from the export thread, holding spans it has
    /// exported: a thread that hands off its ended spans takes its next
    /// buffer here rather than allocating one, and drops those spans.
    spare: Receiver<Vec<SpanRecord>>,
    /// Wakes the export thread when a full batch is waiting (one token at most).
    wake: Sender<()>,
    batch_size: usize,
    /// Spans in the channel; kept at most `capacity` (the bound is in spans,
    /// while the channel carries one thread's hand-off at a time).
    in_queue: Arc<AtomicUsize>,
    capacity: usize,
    control: Sender<Control>,
    counters: Arc<Counters>,
    warned_full: AtomicBool,
    thread: Mutex<Option<JoinHandle<()>>>,
}

/// What the export thread is started with: `init`'s batch settings.
pub(crate) struct Settings {
    pub(crate) resource: Resource,
    pub(crate) content: Policy,
    /// The most spans waiting in the queue; past it, spans are dropped.
    pub(crate) queue_size: usize,
    /// Spans per export call.
    pub(crate) batch_size: usize,
    /// The longest a span waits for a batch to fill.
    pub(crate) schedule_delay: Duration,
    /// Run first on the export thread: the runtime turns tracing off there.
    pub(crate) on_start: fn(),
    /// The usage totals, and how often they are sent.
    pub(crate) usage: Arc<UsageTable>,
    pub(crate) usage_interval: Duration,
}

impl Pipeline {
    pub(crate) fn start(
        settings: Settings,
        exporters: Vec<Box<dyn Exporter>>,
        usage_exporters: Vec<Box<dyn UsageExporter>>,
        counters: Arc<Counters>,
    ) -> Result<Pipeline, InitError> {
        let Settings {
            resource,
            content,
            queue_size,
            batch_size,
            schedule_delay,
            on_start,
            usage,
            usage_interval,
        } = settings;
        let (tx, rx) = unbounded();
        let (wake, wake_rx) = bounded(1);
        let (control, control_rx) = unbounded();
        let (spare_tx, spare) = bounded(SPARE_BUFFERS);
        let batch_size = batch_size.max(1);
        let in_queue = Arc::new(AtomicUsize::new(0));
        let worker = Worker {
            resource,
            content,
            exporters,
            rx,
            spare: spare_tx,
            empties: Vec::with_capacity(SPARE_BUFFERS),
            wake: wake_rx,
            in_queue: in_queue.clone(),
            control: control_rx,
            batch: Vec::with_capacity(batch_size.min(4096)),
            batch_size,
            schedule_delay,
            counters: counters.clone(),
            on_start,
            usage,
            usage_exporters,
            usage_interval,
        };
        let thread = std::thread::Builder::new()
            .name("neatlogs-export".into())
            .spawn(move || worker.run())?;
        Ok(Pipeline {
            tx,
            spare,
            wake,
            batch_size,
            in_queue,
            capacity: queue_size,
            control,
            counters,
            warned_full: AtomicBool::new(false),
            thread: Mutex::new(Some(thread)),
        })
    }

    /// An empty buffer for a thread's next ended spans: one the export
    /// thread gave back, emptied here (the exported spans it holds are
    /// dropped on this thread, see the module's documentation), else a new
    /// one.
    #[inline]
    pub(crate) fn spare_buffer(&self) -> Vec<SpanRecord> {
        match self.spare.try_recv() {
            Ok(mut buffer) => {
                buffer.clear();
                buffer
            }
            Err(_) => Vec::with_capacity(HAND_OFF_CAPACITY),
        }
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
                // Only the hand-off that completes a batch wakes the export
                // thread; the others cost no system call.
                if before < self.batch_size && before + kept >= self.batch_size {
                    let _ = self.wake.try_send(());
                }
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

    /// Spans per export call.
    #[inline]
    pub(crate) fn batch_size(&self) -> usize {
        self.batch_size
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
        // The spans given back and not taken yet are dropped now.
        while self.spare.try_recv().is_ok() {}
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
            usage_reports: c.usage_reports.load(Ordering::Relaxed),
            usage_reports_failed: c.usage_reports_failed.load(Ordering::Relaxed),
            usage_overflowed: 0,
            tail_kept: 0,
            tail_fell_back: 0,
        }
    }
}

struct Worker {
    resource: Resource,
    /// Applied to every span as it is taken from the queue, before any
    /// exporter sees it.
    content: Policy,
    exporters: Vec<Box<dyn Exporter>>,
    rx: Receiver<Vec<SpanRecord>>,
    wake: Receiver<()>,
    in_queue: Arc<AtomicUsize>,
    control: Receiver<Control>,
    /// Where hand-off buffers go back, holding exported spans (see
    /// [`Pipeline::spare_buffer`]).
    spare: Sender<Vec<SpanRecord>>,
    /// Hand-off buffers emptied into the batch, waiting to carry its spans
    /// back once they are exported (at most [`SPARE_BUFFERS`]).
    empties: Vec<Vec<SpanRecord>>,
    /// Spans taken from the queue, not yet exported.
    batch: Vec<SpanRecord>,
    batch_size: usize,
    schedule_delay: Duration,
    counters: Arc<Counters>,
    on_start: fn(),
    usage: Arc<UsageTable>,
    usage_exporters: Vec<Box<dyn UsageExporter>>,
    usage_interval: Duration,
}

impl Worker {
    fn run(mut self) {
        // Exporters run here: nothing they do (HTTP calls, file writes, an
        // instrumented client in a custom exporter) may become a span, or
        // every export would feed the next one.
        (self.on_start)();
        let mut next_tick = Instant::now() + self.schedule_delay;
        let mut next_usage = Instant::now() + self.usage_interval;
        loop {
            if Instant::now() >= next_usage {
                self.export_usage();
                next_usage = Instant::now() + self.usage_interval;
            }
            let wait = next_tick
                .min(next_usage)
                .saturating_duration_since(Instant::now());
            select! {
                recv(self.wake) -> _ => {
                    // Full batches only; the rest waits for the next batch
                    // or the timer. Keep going while producers keep up (a
                    // hand-off made while `fill` had not yet counted what it
                    // took may have seen no batch to wake for).
                    loop {
                        while self.fill() {
                            self.export_full_batches();
                        }
                        if self.in_queue.load(Ordering::Relaxed) < self.batch_size {
                            break;
                        }
                    }
                },
                recv(self.control) -> msg => match msg {
                    Ok(Control::Flush(reply)) => {
                        let ok = self.drain();
                        self.export_usage();
                        let ok = self.each_exporter(|e| e.flush()) && ok;
                        next_tick = Instant::now() + self.schedule_delay;
                        let _ = reply.send(ok);
                    }
                    Ok(Control::Shutdown(reply)) => {
                        let ok = self.drain();
                        self.export_usage();
                        let ok = self.each_exporter(|e| e.shutdown()) && ok;
                        let _ = reply.send(ok);
                        return;
                    }
                    Err(_) => {
                        self.drain();
                        return;
                    }
                },
                default(wait) => {
                    if Instant::now() >= next_tick {
                        self.drain();
                        next_tick = Instant::now() + self.schedule_delay;
                    }
                }
            }
        }
    }

    /// Run `f` on every exporter; whether all succeeded. A panicking
    /// exporter counts as a failure, never as the end of the export thread.
    fn each_exporter(
        &mut self,
        mut f: impl FnMut(&mut dyn Exporter) -> Result<(), super::ExportError>,
    ) -> bool {
        let mut ok = true;
        for exporter in &mut self.exporters {
            let result =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(exporter.as_mut())))
                    .unwrap_or_else(|_| Err(super::ExportError::new("the exporter panicked")));
            if let Err(e) = result {
                log::warn!("neatlogs: exporter flush or shutdown failed: {e}");
                ok = false;
            }
        }
        ok
    }

    /// Send the usage totals to every usage exporter (nothing when no LLM
    /// call was counted yet). A failure is counted in the stats, not in
    /// what `flush` and `shutdown` answer (they answer for spans); a
    /// receiver that does not take metrics is dropped from the list.
    fn export_usage(&mut self) {
        if self.usage_exporters.is_empty() || self.usage.is_empty() {
            return;
        }
        let (resource, usage, counters) = (&self.resource, &self.usage, &self.counters);
        self.usage_exporters.retain_mut(|exporter| {
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                exporter.export_usage(resource, usage)
            }))
            .unwrap_or_else(|_| {
                Err(UsageError::Failed(super::ExportError::new(
                    "the usage exporter panicked",
                )))
            });
            match result {
                Ok(()) => {
                    counters.usage_reports.fetch_add(1, Ordering::Relaxed);
                    true
                }
                Err(UsageError::Failed(e)) => {
                    log::warn!("neatlogs: usage export failed (the next report carries the same totals): {e}");
                    counters.usage_reports_failed.fetch_add(1, Ordering::Relaxed);
                    true
                }
                Err(UsageError::Unsupported(why)) => {
                    log::info!(
                        "neatlogs: the receiver does not take OTLP metrics ({why}); usage per end-user is not sent there"
                    );
                    counters.usage_reports_failed.fetch_add(1, Ordering::Relaxed);
                    false
                }
            }
        });
    }

    /// Move queued hand-offs into the pending batch until it is full;
    /// whether it is (`false`: the queue is empty). A batch at a time, so
    /// that each one's spans are done with, and their memory given back,
    /// before the next is taken, however long the queue.
    fn fill(&mut self) -> bool {
        let mut taken = 0;
        let full = loop {
            if self.batch.len() >= self.batch_size {
                break true;
            }
            match self.rx.try_recv() {
                Ok(records) => {
                    taken += records.len();
                    self.take(records);
                }
                Err(_) => break false,
            }
        };
        // Counted out once for all of them: the count is shared with every
        // thread that hands off spans.
        if taken > 0 {
            self.in_queue.fetch_sub(taken, Ordering::Relaxed);
        }
        full
    }

    /// Export everything queued so far, the last batch possibly short;
    /// whether all of it went out.
    fn drain(&mut self) -> bool {
        // What waits in threads' stashes first: a thread that has gone
        // quiet hands nothing off.
        crate::local::take_stashed(|spans| {
            self.counters
                .queued
                .fetch_add(spans.len() as u64, Ordering::Relaxed);
            self.take(spans);
        });
        let mut ok = true;
        while self.fill() {
            ok &= self.export_full_batches();
        }
        if !self.batch.is_empty() {
            ok &= self.export_chunk(self.batch.len());
        }
        ok
    }

    fn take(&mut self, mut records: Vec<SpanRecord>) {
        for record in &mut records {
            self.content
                .prepare(record.details.as_deref_mut(), &mut record.attributes);
        }
        self.batch.append(&mut records);
        // The emptied buffer is kept to carry exported spans back (unless
        // enough are kept, or it is an odd size).
        if self.empties.len() < SPARE_BUFFERS
            && (HAND_OFF_CAPACITY..=MAX_SPARE_CAPACITY).contains(&records.capacity())
        {
            self.empties.push(records);
        }
    }

    /// Be done with the first `n` pending spans (exported, or lost): the
    /// plain spans of traces exported here go back to the threads that make
    /// spans in the kept buffers, to be dropped there; the rest, and what
    /// no buffer has room for, are dropped here.
    fn retire(&mut self, n: usize) {
        // No more buffers than the threads have room to take: the spans a
        // buffer would carry are not moved only to be dropped here anyway.
        let mut room = SPARE_BUFFERS
            .saturating_sub(self.spare.len())
            .min(self.empties.len());
        // As many spans in each as in the hand-off it came with, about: a
        // thread takes one buffer per hand-off, so buffers filled to their
        // capacity would leave a third of its hand-offs without one.
        let per_buffer = n.div_ceil(room.max(1));
        let empties = &mut self.empties;
        let mut next = || {
            room = room.checked_sub(1)?;
            empties.pop()
        };
        let mut buffer = next();
        for record in self.batch.drain(..n) {
            let Some(into) = buffer.as_mut() else {
                continue;
            };
            if record.details.is_some() || !matches!(record.trace.sink, Sink::Export) {
                continue;
            }
            into.push(record);
            if into.len() >= per_buffer || into.len() == into.capacity() {
                if let Some(full) = buffer.take() {
                    let _ = self.spare.try_send(full);
                }
                buffer = next();
            }
        }
        if let Some(buffer) = buffer {
            if buffer.is_empty() {
                self.empties.push(buffer);
            } else {
                let _ = self.spare.try_send(buffer);
            }
        }
    }

    /// Export the pending spans in full batches of `batch_size`, keeping
    /// the remainder; whether all of it went out.
    fn export_full_batches(&mut self) -> bool {
        let mut ok = true;
        let mut done = 0;
        while self.batch.len() - done >= self.batch_size {
            ok &= self.export_range(done, self.batch_size);
            done += self.batch_size;
        }
        // One drain for all of them: draining batch by batch would move the
        // rest once per batch.
        self.retire(done);
        ok
    }

    /// Export the first `n` pending spans, and be done with them.
    fn export_chunk(&mut self, n: usize) -> bool {
        let ok = self.export_range(0, n);
        self.retire(n);
        ok
    }

    /// Export `n` pending spans from `start` (they stay pending).
    fn export_range(&mut self, start: usize, n: usize) -> bool {
        if n == 0 {
            return true;
        }
        let chunk = &self.batch[start..start + n];
        // A span counts as failed when any exporter lost it; an exporter
        // that lost only part of the batch says how much.
        let mut failed = 0;
        for exporter in &mut self.exporters {
            // A panicking exporter loses its batch, not the export thread.
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                exporter.export(&self.resource, chunk)
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
        failed == 0
    }
}
