//! The hand-off buffers the export thread gives back: one for each
//! hand-off it took, each with about the spans that hand-off brought, so
//! that a burst of traces finds a buffer for every hand-off when the next
//! burst comes, and their spans are freed on the thread that made them.
//! (Buffers filled to their capacity came back fewer than the hand-offs:
//! two thirds of them for traces of 11 spans, and at most 64.)

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::{Arc, Condvar, Mutex};

struct Counting;

const BLOB: usize = 1000;

thread_local! {
    /// Attributes freed on this thread (the only allocations of `BLOB` bytes).
    static FREED: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if layout.size() == BLOB {
            let _ = FREED.try_with(|n| n.set(n.get() + 1));
        }
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Attributes freed on this thread while `f` runs.
fn freed_by(f: impl FnOnce()) -> usize {
    let before = FREED.with(Cell::get);
    f();
    FREED.with(Cell::get) - before
}

const TRACES: usize = 200;
const CHILDREN: usize = 10;
const SPANS: usize = TRACES * (CHILDREN + 1);

/// A burst of traces of 11 spans, each span with a `BLOB`-byte attribute.
fn burst(blob: &str) {
    for i in 0..TRACES {
        let _root = neatlogs::trace("request")
            .end_user_id(format!("u_{i}"))
            .attribute("blob", blob.to_owned())
            .enter();
        for _ in 0..CHILDREN {
            let _child = neatlogs::span(neatlogs::SpanKind::Tool, "step")
                .attribute("blob", blob.to_owned())
                .enter();
        }
    }
}

#[test]
fn every_hand_off_of_a_burst_finds_a_buffer_with_the_spans_of_one_before_it() {
    let gate = Gate::default();
    neatlogs::init(
        neatlogs::Config::new()
            .default_destination(false)
            .queue_size(4 * SPANS)
            .exporter(Gated(gate.clone())),
    )
    .unwrap();
    let blob = "x".repeat(BLOB);

    // The first burst is handed off while the export is held: every
    // hand-off comes with a buffer of its own, all of them queued.
    burst(&blob);
    gate.open();
    assert!(neatlogs::flush());

    // The second burst, handed off while the export is held again (so that
    // none of its own spans comes back during it), takes one buffer back
    // per hand-off, and drops the first burst's spans it carries here.
    gate.close();
    let freed = freed_by(|| burst(&blob));
    gate.open();
    let expected = SPANS * 9 / 10;
    assert!(
        freed >= expected,
        "the first burst's attributes are freed on this thread as the second hands off: {freed} of {SPANS} freed, at least {expected} expected"
    );
    assert!(neatlogs::flush());
    let stats = neatlogs::stats();
    assert_eq!(
        (stats.exported, stats.dropped),
        (2 * SPANS as u64, 0),
        "{stats:?}"
    );
}

/// Holds every export until opened.
#[derive(Clone, Default)]
struct Gate(Arc<(Mutex<bool>, Condvar)>);

impl Gate {
    fn open(&self) {
        *self.0 .0.lock().unwrap() = true;
        self.0 .1.notify_all();
    }

    fn close(&self) {
        *self.0 .0.lock().unwrap() = false;
    }

    fn wait(&self) {
        let mut open = self.0 .0.lock().unwrap();
        while !*open {
            open = self.0 .1.wait(open).unwrap();
        }
    }
}

struct Gated(Gate);

impl neatlogs::export::Exporter for Gated {
    fn export(
        &mut self,
        _: &neatlogs::export::Resource,
        _: &[neatlogs::export::SpanRecord],
    ) -> Result<(), neatlogs::export::ExportError> {
        self.0.wait();
        Ok(())
    }
}
