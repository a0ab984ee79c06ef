//! Where the memory of exported spans is freed, counted by a global
//! allocator per thread: plain spans go back to a thread that makes spans
//! and are freed there (so its next allocations find the memory warm);
//! spans with content are freed on the export thread, not kept waiting.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use neatlogs::SpanHandle;

struct Counting;

thread_local! {
    static FREED: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let _ = FREED.try_with(|n| n.set(n.get() + layout.size()));
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Bytes freed on this thread while `f` runs.
fn freed_by(f: impl FnOnce()) -> usize {
    let before = FREED.with(Cell::get);
    f();
    FREED.with(Cell::get) - before
}

const TRACES: usize = 40;
const BIG: usize = 16 * 1024;

#[test]
fn exported_plain_spans_are_freed_where_spans_are_made_and_content_on_the_export_thread() {
    neatlogs::init(
        neatlogs::Config::new()
            .default_destination(false)
            .exporter(Discard),
    )
    .unwrap();
    let big = "x".repeat(BIG);

    // Each trace carries a 16 KiB attribute; once it is exported, its
    // spans come back with the buffer the next trace hands off in, and are
    // dropped on this thread.
    let plain = freed_by(|| {
        for i in 0..TRACES {
            let root = neatlogs::trace("plain")
                .end_user_id(format!("u_{i}"))
                .attribute("blob", big.clone())
                .enter();
            drop(root);
            assert!(neatlogs::flush());
        }
    });
    assert!(
        plain >= (TRACES - 2) * BIG,
        "the attributes of exported plain spans are freed on this thread: {plain} bytes freed, {} expected at least",
        (TRACES - 2) * BIG
    );

    // The same 16 KiB as captured input: content is dropped on the export
    // thread as soon as it is exported.
    let content = freed_by(|| {
        for i in 0..TRACES {
            let mut root = neatlogs::trace("content")
                .end_user_id(format!("u_{i}"))
                .enter();
            root.set_input(big.clone());
            drop(root);
            assert!(neatlogs::flush());
        }
    });
    assert!(
        content < TRACES * BIG / 4,
        "spans with content are freed on the export thread: {content} bytes freed here"
    );
    let stats = neatlogs::stats();
    assert_eq!((stats.exported, stats.dropped), (2 * TRACES as u64, 0));
}

struct Discard;

impl neatlogs::export::Exporter for Discard {
    fn export(
        &mut self,
        _: &neatlogs::export::Resource,
        _: &[neatlogs::export::SpanRecord],
    ) -> Result<(), neatlogs::export::ExportError> {
        Ok(())
    }
}
