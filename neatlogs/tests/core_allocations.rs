//! What opening and closing a span allocates on the calling thread, counted
//! by a global allocator: a child with a static name allocates nothing, an
//! LLM child with no content allocates nothing, and content costs one box.

use neatlogs::SpanHandle;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use neatlogs::llm::Message;
use neatlogs::SpanKind;

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations_of(f: impl FnOnce()) -> u64 {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

#[test]
fn a_child_with_a_static_name_and_no_content_allocates_nothing() {
    neatlogs::init(
        neatlogs::Config::new()
            .default_destination(false)
            .exporter(Discard),
    )
    .unwrap();
    // Warm up this thread's stack; when a root ends, its spans are handed to
    // the export queue and the thread gets a fresh buffer for 16 ended spans
    // (one allocation per trace, made as the root ends).
    drop(neatlogs::trace("warm").enter());
    let _root = neatlogs::trace("chat").end_user_id("u_1").enter();

    let plain = allocations_of(|| drop(neatlogs::span(SpanKind::Tool, "search").enter()));
    assert_eq!(plain, 0, "a plain child");

    let llm = allocations_of(|| {
        let mut call = neatlogs::span(SpanKind::Llm, "chat gpt-4o").enter();
        call.set_usage(neatlogs::llm::Usage::new(12, 3));
        call.set_finish_reason("stop");
        drop(call);
    });
    // With the `metrics` feature, each call also goes to the `metrics`
    // facade, whose labels are allocated per call (a model call's cost, not
    // a span's).
    if cfg!(not(feature = "metrics")) {
        assert_eq!(
            llm, 1,
            "an LLM child with a static name, usage and finish reason: one box for its facts (its usage series made at its first call, in room kept for it)"
        );
    }

    let none = allocations_of(|| drop(neatlogs::span(SpanKind::Llm, "chat").enter()));
    if cfg!(not(feature = "metrics")) {
        assert_eq!(none, 0, "an LLM child with nothing recorded");
    }

    let content = allocations_of(|| {
        let mut call = neatlogs::span(SpanKind::Llm, "chat").enter();
        call.add_input_message(Message::user("static prompt"));
        drop(call);
    });
    if cfg!(not(feature = "metrics")) {
        assert!(
            content <= 3,
            "a message: the builder's box, the facts, the list ({content})"
        );
    }
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
