//! Timestamps: the TSC read where it is reliable (a few nanoseconds, against
//! tens for the system clock), else the system clock. An instant is
//! converted to Unix time only when read, which happens on the export thread.

use std::sync::OnceLock;

pub(crate) use fastant::Instant;

/// Now, as a raw instant.
#[inline]
pub(crate) fn now() -> Instant {
    Instant::now()
}

/// Nanoseconds since the Unix epoch, from an anchor taken once per process.
pub(crate) fn unix_nanos(at: Instant) -> u64 {
    static ANCHOR: OnceLock<fastant::Anchor> = OnceLock::new();
    at.as_unix_nanos(ANCHOR.get_or_init(fastant::Anchor::new))
}
