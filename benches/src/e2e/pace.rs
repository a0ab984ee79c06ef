//! Sending at a fixed rate: traces go out in small bursts, one burst per
//! millisecond, each due at its place on a fixed schedule from the start.

use std::time::{Duration, Instant};

/// Keeps a loop at `per_sec` iterations per second.
///
/// Every `burst` iterations (`per_sec / 1000`, at least 1) the loop sleeps
/// until the next burst is due. A loop that falls behind does not sleep until
/// it has caught up, so the average rate holds; sleeping about once a
/// millisecond keeps the pacing's own cost (a timer wake-up and a voluntary
/// context switch per burst) the same for every stack and small next to
/// 10,000 traces per second.
#[derive(Debug, Clone)]
pub struct Pacer {
    start: Instant,
    per_sec: u64,
    burst: u64,
}

impl Pacer {
    /// A schedule of `per_sec` iterations per second (at least 1), starting now.
    pub fn new(per_sec: u64) -> Pacer {
        let per_sec = per_sec.max(1);
        Pacer {
            start: Instant::now(),
            per_sec,
            burst: (per_sec / 1000).max(1),
        }
    }

    /// When iteration `i` is due, counted from the start.
    pub fn due(&self, i: u64) -> Duration {
        Duration::from_nanos((u128::from(i) * 1_000_000_000 / u128::from(self.per_sec)) as u64)
    }

    /// Call before iteration `i` (from 0): sleeps if a burst starts at `i`
    /// and it is not due yet.
    #[inline]
    pub fn wait(&self, i: u64) {
        if !i.is_multiple_of(self.burst) {
            return;
        }
        let due = self.start + self.due(i);
        let now = Instant::now();
        if due > now {
            std::thread::sleep(due - now);
        }
    }

    /// Iterations per burst.
    pub fn burst(&self) -> u64 {
        self.burst
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule() {
        let p = Pacer::new(10_000);
        assert_eq!(p.burst(), 10);
        assert_eq!(p.due(0), Duration::ZERO);
        assert_eq!(p.due(10), Duration::from_millis(1));
        assert_eq!(p.due(200_000), Duration::from_secs(20));
        let slow = Pacer::new(3);
        assert_eq!(slow.burst(), 1);
        assert_eq!(slow.due(1), Duration::from_nanos(333_333_333));
        assert_eq!(Pacer::new(0).due(2), Duration::from_secs(2));
    }
}
