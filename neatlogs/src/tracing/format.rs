//! Log lines that name their trace: a `tracing_subscriber::fmt` event
//! formatter wrapper.

use std::fmt;

use tracing_core::{Event, Subscriber};
use tracing_subscriber::fmt::format::{Format, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

use crate::seam;

/// Wraps a `tracing_subscriber::fmt` event formatter: a line written inside
/// a neatlogs trace (a neatlogs span, or a `tracing` span recorded by the
/// [layer](crate::tracing::layer)) starts with `trace_id=<32 hex>` and, when
/// the trace has one, `end_user=<id>`; other lines are as the inner
/// formatter writes them. The log line and the trace join on the trace id.
///
/// ```
/// use tracing_subscriber::prelude::*;
///
/// tracing_subscriber::registry()
///     .with(neatlogs::tracing::layer())
///     .with(tracing_subscriber::fmt::layer().event_format(neatlogs::tracing::TraceContextFormat::default()))
///     .init();
/// # neatlogs::testing::with_capture(|| {
/// let _root = neatlogs::trace("chat").end_user_id("u_1").enter();
/// tracing::info!("refund sent");
/// // trace_id=4bf92f3577b34da6a3ce929d0e0e4736 end_user=u_1 2025-01-01T00:00:00Z  INFO refund sent
/// # });
/// ```
#[derive(Debug, Clone)]
pub struct TraceContextFormat<F = Format> {
    inner: F,
}

impl Default for TraceContextFormat {
    /// Wraps `tracing_subscriber`'s default (full) format.
    fn default() -> Self {
        TraceContextFormat::new(Format::default())
    }
}

impl<F> TraceContextFormat<F> {
    /// Wrap `inner` (`tracing_subscriber::fmt::format().compact()`, `.json()`,
    /// or a formatter of your own).
    ///
    /// ```
    /// let format = neatlogs::tracing::TraceContextFormat::new(tracing_subscriber::fmt::format().compact());
    /// # drop(format);
    /// ```
    pub fn new(inner: F) -> Self {
        TraceContextFormat { inner }
    }
}

impl<S, N, F> FormatEvent<S, N> for TraceContextFormat<F>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let current = seam::with_current(|cx| (cx.trace.trace_id, cx.trace.end_user.clone()));
        if let Some((trace_id, end_user)) = current {
            write!(writer, "trace_id={trace_id} ")?;
            if let Some(user) = end_user {
                write!(writer, "end_user={} ", user.id().as_str())?;
            }
        }
        self.inner.format_event(ctx, writer, event)
    }
}
