//! Trace and span ids, drawn from a per-thread generator.

use std::cell::Cell;
use std::fmt;
use std::num::{NonZeroU128, NonZeroU64};

/// A 128-bit trace id (never zero), as in W3C Trace Context and OTLP.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TraceId(NonZeroU128);

/// A 64-bit span id (never zero), as in W3C Trace Context and OTLP.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SpanId(NonZeroU64);

impl TraceId {
    /// The id as 16 big-endian bytes (the OTLP wire form).
    ///
    /// ```
    /// let id = neatlogs::TraceId::from_bytes([7; 16]).unwrap();
    /// assert_eq!(id.to_bytes(), [7; 16]);
    /// assert!(neatlogs::TraceId::from_bytes([0; 16]).is_none());
    /// ```
    pub const fn to_bytes(self) -> [u8; 16] {
        self.0.get().to_be_bytes()
    }

    /// The id from its 16 big-endian bytes (as in OTLP and W3C
    /// `traceparent`); `None` for all zeros, which is no valid trace id.
    pub const fn from_bytes(bytes: [u8; 16]) -> Option<Self> {
        match NonZeroU128::new(u128::from_be_bytes(bytes)) {
            Some(v) => Some(TraceId(v)),
            None => None,
        }
    }

    #[cfg(test)]
    pub(crate) fn from_u128(v: u128) -> Self {
        TraceId(NonZeroU128::new(v).expect("a trace id is never zero"))
    }
}

impl SpanId {
    /// The id as 8 big-endian bytes (the OTLP wire form).
    ///
    /// ```
    /// let id = neatlogs::SpanId::from_bytes([1, 2, 3, 4, 5, 6, 7, 8]).unwrap();
    /// assert_eq!(id.to_string(), "0102030405060708");
    /// ```
    pub const fn to_bytes(self) -> [u8; 8] {
        self.0.get().to_be_bytes()
    }

    /// The id from its 8 big-endian bytes (as in OTLP and W3C
    /// `traceparent`); `None` for all zeros, which is no valid span id.
    pub const fn from_bytes(bytes: [u8; 8]) -> Option<Self> {
        match NonZeroU64::new(u64::from_be_bytes(bytes)) {
            Some(v) => Some(SpanId(v)),
            None => None,
        }
    }

    #[cfg(test)]
    pub(crate) fn from_u64(v: u64) -> Self {
        SpanId(NonZeroU64::new(v).expect("a span id is never zero"))
    }
}

impl fmt::Display for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}", self.0.get())
    }
}

impl fmt::Debug for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TraceId({self})")
    }
}

impl fmt::Display for SpanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0.get())
    }
}

impl fmt::Debug for SpanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SpanId({self})")
    }
}

thread_local! {
    // wyrand state; seeded lazily from the std hasher's per-process random keys
    // mixed with the thread's address, so threads never share a sequence.
    static RNG: Cell<u64> = const { Cell::new(0) };
}

fn seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_usize(&RNG as *const _ as usize);
    if let Ok(d) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        h.write_u128(d.as_nanos());
    }
    h.finish() | 1
}

/// The next 64 random bits of this thread's generator (wyrand: fast, and
/// good enough for ids; not for secrets).
pub(crate) fn next_u64() -> u64 {
    RNG.with(|s| {
        let mut x = s.get();
        if x == 0 {
            x = seed();
        }
        x = x.wrapping_add(0xa076_1d64_78bd_642f);
        s.set(x);
        let t = u128::from(x) * u128::from(x ^ 0xe703_7ed1_a0b4_28db);
        ((t >> 64) as u64) ^ (t as u64)
    })
}

pub(crate) fn new_span_id() -> SpanId {
    loop {
        if let Some(v) = NonZeroU64::new(next_u64()) {
            return SpanId(v);
        }
    }
}

pub(crate) fn new_trace_id() -> TraceId {
    loop {
        let v = (u128::from(next_u64()) << 64) | u128::from(next_u64());
        if let Some(v) = NonZeroU128::new(v) {
            return TraceId(v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_distinct_and_formatted() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..10_000 {
            assert!(seen.insert(new_span_id()));
        }
        assert_eq!(new_trace_id().to_string().len(), 32);
        assert_eq!(SpanId::from_u64(1).to_string(), "0000000000000001");
    }
}
