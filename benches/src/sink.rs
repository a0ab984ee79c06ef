//! Where every exporter of every stack ends: a counter of delivered spans and
//! encoded bytes, behind an optional gate that holds the export thread.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};

/// Holds export threads until opened: a receiver that is slow (opened later)
/// or down (never opened).
#[derive(Debug, Default)]
pub struct Gate {
    open: Mutex<bool>,
    changed: Condvar,
}

impl Gate {
    /// A closed gate.
    pub fn closed() -> Arc<Gate> {
        Arc::new(Gate::default())
    }

    /// An open gate.
    pub fn opened() -> Arc<Gate> {
        let gate = Gate::closed();
        gate.open();
        gate
    }

    /// Hold every export that starts from now on until [`Gate::open`].
    pub fn close(&self) {
        *self.open.lock().unwrap_or_else(|p| p.into_inner()) = false;
    }

    /// Let every waiting and future export through.
    pub fn open(&self) {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        *open = true;
        self.changed.notify_all();
    }

    fn wait(&self) {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        while !*open {
            open = self.changed.wait(open).unwrap_or_else(|p| p.into_inner());
        }
    }
}

#[derive(Debug, Default)]
struct Counts {
    spans: AtomicU64,
    bytes: AtomicU64,
}

/// The end of an export pipeline. Clones share their counts.
#[derive(Debug, Clone, Default)]
pub struct Sink {
    counts: Arc<Counts>,
    gate: Option<Arc<Gate>>,
}

impl Sink {
    /// A sink that accepts at once.
    pub fn discard() -> Sink {
        Sink::default()
    }

    /// A sink that blocks every export until `gate` opens.
    pub fn gated(gate: Arc<Gate>) -> Sink {
        Sink {
            counts: Arc::default(),
            gate: Some(gate),
        }
    }

    /// Called by an exporter before it does any work: blocks while the gate
    /// is closed.
    pub fn wait_until_open(&self) {
        if let Some(gate) = &self.gate {
            gate.wait();
        }
    }

    /// Called by an exporter once a batch is done with.
    pub fn delivered(&self, spans: usize, encoded_bytes: usize) {
        self.counts.spans.fetch_add(spans as u64, Ordering::Relaxed);
        self.counts
            .bytes
            .fetch_add(encoded_bytes as u64, Ordering::Relaxed);
    }

    /// The gate in front of this sink, if any.
    pub fn gate(&self) -> Option<&Arc<Gate>> {
        self.gate.as_ref()
    }

    /// Spans delivered so far.
    pub fn spans(&self) -> u64 {
        self.counts.spans.load(Ordering::Relaxed)
    }

    /// Encoded bytes delivered so far (0 for exporters that do not encode).
    pub fn bytes(&self) -> u64 {
        self.counts.bytes.load(Ordering::Relaxed)
    }
}
