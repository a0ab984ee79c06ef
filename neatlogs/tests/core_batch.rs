//! A thread's batch of ended spans, with `init`: a span that never ends (its
//! guard forgotten) is never sent, while what ended around it is, when the
//! thread exits.

use std::sync::{Arc, Mutex};

use neatlogs::export::{ExportError, Exporter, Resource, SpanRecord};
use neatlogs::SpanKind;

#[derive(Clone, Default)]
struct Collect(Arc<Mutex<Vec<SpanRecord>>>);

impl Exporter for Collect {
    fn export(&mut self, _: &Resource, batch: &[SpanRecord]) -> Result<(), ExportError> {
        self.0.lock().unwrap().extend_from_slice(batch);
        Ok(())
    }
}

#[test]
fn a_span_that_never_ends_is_not_sent_and_what_ended_around_it_is() {
    let collected = Collect::default();
    neatlogs::init(
        neatlogs::Config::new()
            .default_destination(false)
            .exporter(collected.clone()),
    )
    .unwrap();
    std::thread::spawn(|| {
        let root = neatlogs::trace("job").end_user_id("u_7").enter();
        drop(neatlogs::span(SpanKind::Tool, "kept").enter());
        std::mem::forget(neatlogs::span(SpanKind::Chain, "forgotten").enter());
        drop(neatlogs::span(SpanKind::Tool, "after").enter());
        // The forgotten span is still current: the root's end does not
        // empty the stack, so the thread's spans wait for its exit.
        drop(root);
    })
    .join()
    .unwrap();
    assert!(neatlogs::flush());
    let spans = collected.0.lock().unwrap().clone();
    let mut names: Vec<&str> = spans.iter().map(SpanRecord::name).collect();
    names.sort_unstable();
    assert_eq!(names, ["after", "job", "kept"]);
    let find = |name: &str| spans.iter().find(|s| s.name() == name).unwrap();
    let (root, kept, after) = (find("job"), find("kept"), find("after"));
    assert_eq!(kept.parent_span_id(), Some(root.span_id()));
    // Under the forgotten span (open when it began), not the root.
    assert!(after.parent_span_id().is_some_and(|p| p != root.span_id()));
    for span in &spans {
        assert_eq!(span.end_user().map(|u| u.id().as_str()), Some("u_7"));
        assert!(span.end_unix_nanos() >= span.start_unix_nanos());
    }
    let stats = neatlogs::stats();
    assert_eq!((stats.exported, stats.dropped), (3, 0));
}
