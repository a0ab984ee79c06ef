//! Clocks and memory figures from the OS: CPU time of the whole process (all
//! threads, so background export work counts) and of the calling thread,
//! `getrusage` figures (CPU time and context switches), and resident set
//! sizes from `/proc/self/status`.

use std::time::Duration;

fn cpu_clock(clock: libc::clockid_t) -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec, and both clock ids used
    // here exist on every Linux since 2.6.12.
    let rc = unsafe { libc::clock_gettime(clock, &mut ts) };
    if rc != 0 {
        return Duration::ZERO;
    }
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// CPU time used by every thread of this process so far.
pub fn process_cpu() -> Duration {
    cpu_clock(libc::CLOCK_PROCESS_CPUTIME_ID)
}

/// CPU time used by the calling thread so far.
pub fn thread_cpu() -> Duration {
    cpu_clock(libc::CLOCK_THREAD_CPUTIME_ID)
}

/// What `getrusage` reports for a process or a thread.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    /// User + system CPU time.
    pub cpu: Duration,
    /// Voluntary context switches (the thread blocked: a sleep, a lock, I/O).
    pub voluntary_switches: u64,
    /// Involuntary context switches (the scheduler preempted it).
    pub involuntary_switches: u64,
}

impl Usage {
    /// What was used between `earlier` and `self`.
    pub fn since(self, earlier: Usage) -> Usage {
        Usage {
            cpu: self.cpu.saturating_sub(earlier.cpu),
            voluntary_switches: self
                .voluntary_switches
                .saturating_sub(earlier.voluntary_switches),
            involuntary_switches: self
                .involuntary_switches
                .saturating_sub(earlier.involuntary_switches),
        }
    }

    /// Voluntary + involuntary context switches.
    pub fn switches(self) -> u64 {
        self.voluntary_switches + self.involuntary_switches
    }
}

fn usage(who: libc::c_int) -> Usage {
    // SAFETY: `rusage` is plain data; all-zero is a valid value.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `ru` is a valid, writable rusage, and both `who` values used
    // here exist on every Linux since 2.6.26.
    if unsafe { libc::getrusage(who, &mut ru) } != 0 {
        return Usage::default();
    }
    let tv = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec.max(0) as u64) + Duration::from_micros(t.tv_usec.max(0) as u64)
    };
    Usage {
        cpu: tv(ru.ru_utime) + tv(ru.ru_stime),
        voluntary_switches: ru.ru_nvcsw.max(0) as u64,
        involuntary_switches: ru.ru_nivcsw.max(0) as u64,
    }
}

/// `getrusage(RUSAGE_SELF)`: every thread of this process so far, threads
/// that have ended included.
pub fn process_usage() -> Usage {
    usage(libc::RUSAGE_SELF)
}

/// `getrusage(RUSAGE_THREAD)`: the calling thread so far.
pub fn thread_usage() -> Usage {
    usage(libc::RUSAGE_THREAD)
}

fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Peak resident set size of this process so far, in KiB (`VmHWM`).
pub fn peak_rss_kib() -> u64 {
    status_kib("VmHWM:")
}

/// Current resident set size, in KiB (`VmRSS`).
pub fn rss_kib() -> u64 {
    status_kib("VmRSS:")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clocks_and_rss_read() {
        let before = process_cpu();
        let mut x = 0u64;
        for i in 0..1_000_000u64 {
            x = x.wrapping_add(std::hint::black_box(i));
        }
        std::hint::black_box(x);
        assert!(process_cpu() > before);
        assert!(thread_cpu() > Duration::ZERO);
        assert!(rss_kib() > 0);
        assert!(peak_rss_kib() > 0);
    }

    #[test]
    fn usage_reads_and_subtracts() {
        let before = process_usage();
        let mut x = 0u64;
        for i in 0..1_000_000u64 {
            x = x.wrapping_add(std::hint::black_box(i));
        }
        std::hint::black_box(x);
        std::thread::sleep(Duration::from_millis(2));
        let after = process_usage();
        assert!(after.cpu >= before.cpu);
        assert!(
            after.since(before).voluntary_switches >= 1,
            "the sleep blocked"
        );
        let thread = thread_usage();
        assert!(thread.cpu <= process_usage().cpu);
        assert_eq!(before.since(after), Usage::default());
    }
}
