//! The bounded queue between the application and the export thread.
//!
//! The application side only ever `try_send`s: a full queue drops the span
//! and counts it, with one warning. The export thread batches by size and by
//! time, and answers flush and shutdown requests after draining the queue.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{
    bounded, select, unbounded, Receiver, RecvTimeoutError, Sender, TrySendError,
};

use super::{Exporter, Resource, Stats};
use crate::config::InitError;
use crate::record::SpanRecord;

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) queued: AtomicU64,
    pub(crate) dropped: AtomicU64,
    pub(crate) exported: AtomicU64,
    pub(crate) failed: AtomicU64,
    pub(crate) retried: AtomicU64,
}

enum Control {
    Flush(Sender<bool>),
    Shutdown(Sender<bool>),
}

pub(crate) struct Pipeline {
    tx: Sender<SpanRecord>,
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
    ) -> Result<Pipeline, InitError> {
        let (tx, rx) = bounded(queue_size);
        let (control, control_rx) = unbounded();
        let counters = Arc::new(Counters::default());
        let worker = Worker {
            resource,
            exporters,
            rx,
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
            control,
            counters,
            warned_full: AtomicBool::new(false),
            thread: Mutex::new(Some(thread)),
        })
    }

    #[inline]
    pub(crate) fn send(&self, record: SpanRecord) {
        match self.tx.try_send(record) {
            Ok(()) => {
                self.counters.queued.fetch_add(1, Ordering::Relaxed);
            }
            Err(TrySendError::Full(_)) => {
                self.counters.dropped.fetch_add(1, Ordering::Relaxed);
                if !self.warned_full.swap(true, Ordering::Relaxed) {
                    log::warn!(
                        "neatlogs: export queue full; dropping spans (counted in neatlogs::stats().dropped)"
                    );
                }
            }
            Err(TrySendError::Disconnected(_)) => {
                self.counters.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    fn request(&self, make: impl FnOnce(Sender<bool>) -> Control, timeout: Duration) -> bool {
        let (reply, answer) = bounded(1);
        if self.control.send(make(reply)).is_err() {
            return self.all_exported();
        }
        match answer.recv_timeout(timeout) {
            Ok(ok) => ok,
            Err(RecvTimeoutError::Timeout) => {
                log::warn!("neatlogs: flush timed out after {timeout:?}; some spans may not have been exported");
                false
            }
            Err(RecvTimeoutError::Disconnected) => false,
        }
    }

    pub(crate) fn flush(&self, timeout: Duration) -> bool {
        self.request(Control::Flush, timeout)
    }

    pub(crate) fn shutdown(&self, timeout: Duration) -> bool {
        let ok = self.request(Control::Shutdown, timeout);
        if ok {
            if let Some(t) = self.thread.lock().ok().and_then(|mut t| t.take()) {
                // The worker answered and is returning: joining cannot hang.
                let _ = t.join();
            }
        }
        ok && self.all_exported()
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
    rx: Receiver<SpanRecord>,
    control: Receiver<Control>,
    batch: Vec<SpanRecord>,
    batch_size: usize,
    schedule_delay: Duration,
    _export_timeout: Duration,
    counters: Arc<Counters>,
}

impl Worker {
    fn run(mut self) {
        let mut deadline: Option<Instant> = None;
        loop {
            let wait = deadline
                .map(|d| d.saturating_duration_since(Instant::now()))
                .unwrap_or(Duration::from_secs(3600));
            select! {
                recv(self.rx) -> msg => match msg {
                    Ok(record) => {
                        self.batch.push(record);
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
        while let Ok(record) = self.rx.try_recv() {
            self.batch.push(record);
            if self.batch.len() >= self.batch_size {
                ok &= self.export_batch();
            }
        }
        ok &= self.export_batch();
        ok
    }

    fn export_batch(&mut self) -> bool {
        if self.batch.is_empty() {
            return true;
        }
        let mut ok = true;
        for exporter in &mut self.exporters {
            if let Err(e) = exporter.export(&self.resource, &self.batch) {
                log::warn!("neatlogs: export of {} spans failed: {e}", self.batch.len());
                ok = false;
            }
        }
        let n = self.batch.len() as u64;
        if ok {
            self.counters.exported.fetch_add(n, Ordering::Relaxed);
        } else {
            self.counters.failed.fetch_add(n, Ordering::Relaxed);
        }
        self.batch.clear();
        ok
    }
}
