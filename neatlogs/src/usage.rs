//! Usage per end-user, exact whatever is sampled: every LLM call that ends
//! in a trace rooted here adds to the totals of its (end-user, request
//! model, response model, provider, failed) series, whether its trace is
//! recorded or not. The export thread sends the totals as OTLP metrics
//! (`gen_ai.client.token.usage`, `gen_ai.client.operation.duration`; see
//! docs/wire.md).
//!
//! Memory is bounded by the cardinality limit: past
//! [`DEFAULT_CARDINALITY_LIMIT`] series, new series add to one overflow
//! series (`otel.metric.overflow = true`), as the OpenTelemetry metrics SDK
//! does; the totals over all series stay exact, only the split by
//! end-user of what overflowed is lost, and [`Stats`](crate::Stats) counts
//! the calls that went there.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::identity::EndUserId;
use crate::record::SpanRecord;
use crate::value::Status;

/// The most series (end-user × model × provider × outcome) kept apart, per
/// instance; what comes after goes to the overflow series. The OpenTelemetry
/// metrics SDK's default limit.
pub const DEFAULT_CARDINALITY_LIMIT: usize = 2000;

/// The token kinds counted, in the order of [`Totals::tokens`]: the
/// standard `gen_ai.token.type` values `input` and `output`, then the
/// details (`neatlogs.client.token.usage.details`).
#[cfg_attr(not(feature = "otlp-http"), allow(dead_code))]
pub(crate) const TOKEN_TYPES: [&str; 5] = {
    use crate::wire::usage::{CACHE_READ, CACHE_WRITE, INPUT, OUTPUT, REASONING};
    [INPUT, OUTPUT, CACHE_READ, CACHE_WRITE, REASONING]
};

/// The GenAI conventions' advised bucket boundaries for token counts.
pub(crate) const TOKEN_BOUNDS: [f64; 14] = [
    1.0, 4.0, 16.0, 64.0, 256.0, 1024.0, 4096.0, 16384.0, 65536.0, 262144.0, 1048576.0, 4194304.0,
    16777216.0, 67108864.0,
];

/// The GenAI conventions' advised bucket boundaries for durations, seconds.
pub(crate) const DURATION_BOUNDS: [f64; 14] = [
    0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
];

/// One series' identity. `overflow` is the series past the limit (the rest
/// empty).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Key {
    pub(crate) end_user: Option<EndUserId>,
    pub(crate) request_model: Option<Box<str>>,
    pub(crate) response_model: Option<Box<str>>,
    pub(crate) provider: Option<Box<str>>,
    pub(crate) failed: bool,
    pub(crate) overflow: bool,
}

/// A histogram with fixed bounds: count, sum, min, max and bucket counts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Histogram {
    pub(crate) count: u64,
    pub(crate) sum: f64,
    pub(crate) min: f64,
    pub(crate) max: f64,
    /// `bounds.len() + 1` counts.
    pub(crate) buckets: [u64; BUCKETS],
}

/// Bucket counts per histogram (both bound lists have 14 bounds).
const BUCKETS: usize = TOKEN_BOUNDS.len() + 1;
const _: () = assert!(DURATION_BOUNDS.len() + 1 == BUCKETS);

impl Histogram {
    fn new() -> Histogram {
        Histogram {
            count: 0,
            sum: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            buckets: [0; BUCKETS],
        }
    }

    fn record(&mut self, value: f64, bounds: &[f64]) {
        self.count += 1;
        self.sum += value;
        self.min = self.min.min(value);
        self.max = self.max.max(value);
        // Buckets are upper-inclusive: bucket i holds bounds[i-1] < v <= bounds[i].
        let i = bounds.partition_point(|b| *b < value);
        self.buckets[i] += 1;
    }
}

/// A series' totals since the instance started.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Totals {
    /// Per [`TOKEN_TYPES`]: the calls that reported that kind of token.
    pub(crate) tokens: [Histogram; 5],
    /// One point per call, seconds.
    pub(crate) duration: Histogram,
}

impl Totals {
    fn new() -> Totals {
        Totals {
            tokens: std::array::from_fn(|_| Histogram::new()),
            duration: Histogram::new(),
        }
    }
}

/// A series' fields as a call gives them, borrowed: what is looked up (a
/// [`Key`] is made, and its strings copied, only for a new series).
#[derive(Hash)]
struct View<'a> {
    end_user: Option<&'a str>,
    request_model: Option<&'a str>,
    response_model: Option<&'a str>,
    provider: Option<&'a str>,
    failed: bool,
    overflow: bool,
}

impl Key {
    fn matches(&self, v: &View<'_>) -> bool {
        self.end_user.as_ref().map(EndUserId::as_str) == v.end_user
            && self.request_model.as_deref() == v.request_model
            && self.response_model.as_deref() == v.response_model
            && self.provider.as_deref() == v.provider
            && self.failed == v.failed
            && self.overflow == v.overflow
    }

    fn from_view(v: &View<'_>, end_user: Option<&EndUserId>) -> Key {
        Key {
            end_user: end_user.cloned(),
            request_model: v.request_model.map(Box::from),
            response_model: v.response_model.map(Box::from),
            provider: v.provider.map(Box::from),
            failed: v.failed,
            overflow: v.overflow,
        }
    }
}

/// The series, in the order they were made, and an index by hash (a
/// collision chains through `next`).
#[derive(Debug)]
struct Series {
    list: Vec<(Key, Totals, Option<u32>)>,
    index: HashMap<u64, u32>,
    hasher: RandomState,
}

impl Series {
    fn find(&self, hash: u64, view: &View<'_>) -> Option<usize> {
        let mut at = *self.index.get(&hash)?;
        loop {
            let (key, _, next) = &self.list[at as usize];
            if key.matches(view) {
                return Some(at as usize);
            }
            at = (*next)?;
        }
    }

    fn insert(&mut self, hash: u64, key: Key) -> usize {
        let at = self.list.len();
        let next = self.index.insert(hash, at as u32);
        self.list.push((key, Totals::new(), next));
        at
    }
}

/// The totals of every series, shared by the threads that end LLM calls
/// and the export thread that sends them.
#[derive(Debug)]
pub(crate) struct UsageTable {
    series: Mutex<Series>,
    limit: usize,
    /// When counting began (the points' `start_time_unix_nano`).
    #[cfg_attr(not(feature = "otlp-http"), allow(dead_code))]
    pub(crate) start_unix_nanos: u64,
    /// Calls counted in the overflow series.
    overflowed: AtomicU64,
}

impl UsageTable {
    pub(crate) fn new(limit: usize) -> UsageTable {
        UsageTable {
            // Room for the first series made up front: a call that makes
            // one allocates only for its model and provider names.
            series: Mutex::new(Series {
                list: Vec::with_capacity(64),
                index: HashMap::with_capacity(64),
                hasher: RandomState::new(),
            }),
            limit: limit.max(1),
            start_unix_nanos: unix_nanos(),
            overflowed: AtomicU64::new(0),
        }
    }

    /// Add `record`'s call (an LLM or embedding span, or a span an LLM
    /// call was recorded on: the caller checked).
    pub(crate) fn add(&self, record: &SpanRecord) {
        let llm = record.llm();
        let end_user = record.end_user().map(|u| u.id());
        let mut view = View {
            end_user: end_user.map(EndUserId::as_str),
            request_model: llm.and_then(|l| l.request_model()),
            response_model: llm.and_then(|l| l.response_model()),
            provider: llm.and_then(|l| l.provider()),
            failed: matches!(record.status(), Status::Error(_)),
            overflow: false,
        };
        let usage = llm.map(|l| *l.usage()).unwrap_or_default();
        let counts = [
            usage.prompt_tokens(),
            usage.completion_tokens(),
            usage.cache_read_tokens(),
            usage.cache_write_tokens(),
            usage.reasoning_tokens(),
        ];
        let seconds = record.duration().as_secs_f64();
        let mut series = match self.series.lock() {
            Ok(s) => s,
            Err(poisoned) => poisoned.into_inner(),
        };
        let mut hash = series.hasher.hash_one(&view);
        let at = match series.find(hash, &view) {
            Some(at) => at,
            None if series.list.len() < self.limit => {
                series.insert(hash, Key::from_view(&view, end_user))
            }
            None => {
                self.overflowed.fetch_add(1, Ordering::Relaxed);
                view = View {
                    end_user: None,
                    request_model: None,
                    response_model: None,
                    provider: None,
                    failed: false,
                    overflow: true,
                };
                hash = series.hasher.hash_one(&view);
                match series.find(hash, &view) {
                    Some(at) => at,
                    None => series.insert(hash, Key::from_view(&view, None)),
                }
            }
        };
        let totals = &mut series.list[at].1;
        for (histogram, count) in totals.tokens.iter_mut().zip(counts) {
            if let Some(n) = count {
                histogram.record(n as f64, &TOKEN_BOUNDS);
            }
        }
        totals.duration.record(seconds, &DURATION_BOUNDS);
        drop(series);
        #[cfg(feature = "metrics")]
        facade::record(&view, counts, seconds);
    }

    /// Every series and its totals, now.
    #[cfg_attr(not(feature = "otlp-http"), allow(dead_code))]
    pub(crate) fn snapshot(&self) -> Vec<(Key, Totals)> {
        let series = match self.series.lock() {
            Ok(s) => s,
            Err(poisoned) => poisoned.into_inner(),
        };
        series
            .list
            .iter()
            .map(|(k, t, _)| (k.clone(), t.clone()))
            .collect()
    }

    /// Whether no call was counted yet.
    pub(crate) fn is_empty(&self) -> bool {
        match self.series.lock() {
            Ok(s) => s.list.is_empty(),
            Err(poisoned) => poisoned.into_inner().list.is_empty(),
        }
    }

    /// Calls counted in the overflow series.
    pub(crate) fn overflowed(&self) -> u64 {
        self.overflowed.load(Ordering::Relaxed)
    }
}

/// The same call through the `metrics` crate's facade, to whatever recorder
/// the application installed: the same names and labels as the OTLP points,
/// the series past the cardinality limit labelled `otel.metric.overflow`
/// alone (so the recorder's memory is bounded as this table's is).
#[cfg(feature = "metrics")]
mod facade {
    use super::{View, TOKEN_TYPES};
    use crate::wire::usage::{
        END_USER_ID, ERROR_TYPE, OPERATION_DURATION, OPERATION_NAME, OVERFLOW, PROVIDER_NAME,
        REQUEST_MODEL, RESPONSE_MODEL, TOKEN_TYPE, TOKEN_USAGE, TOKEN_USAGE_DETAILS,
    };
    use metrics::Label;

    pub(super) fn record(view: &View<'_>, counts: [Option<u64>; 5], seconds: f64) {
        let mut labels = Vec::with_capacity(7);
        if view.overflow {
            labels.push(Label::new(OVERFLOW, "true"));
        } else {
            labels.push(Label::new(OPERATION_NAME, "chat"));
            let mut push = |key: &'static str, value: Option<&str>| {
                if let Some(v) = value {
                    labels.push(Label::new(key, v.to_owned()));
                }
            };
            push(PROVIDER_NAME, view.provider);
            push(REQUEST_MODEL, view.request_model);
            push(RESPONSE_MODEL, view.response_model);
            push(END_USER_ID, view.end_user);
            if view.failed {
                labels.push(Label::new(ERROR_TYPE, "_OTHER"));
            }
        }
        for (i, count) in counts.iter().enumerate() {
            let Some(n) = count else { continue };
            let name = if i < 2 {
                TOKEN_USAGE
            } else {
                TOKEN_USAGE_DETAILS
            };
            let mut labels = labels.clone();
            labels.push(Label::new(TOKEN_TYPE, TOKEN_TYPES[i]));
            metrics::histogram!(name, labels).record(*n as f64);
        }
        metrics::histogram!(OPERATION_DURATION, labels).record(seconds);
    }
}

/// Now, in nanoseconds since the Unix epoch.
pub(crate) fn unix_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_upper_inclusive() {
        let mut h = Histogram::new();
        for v in [0.5, 1.0, 1.5, 4.0, 1e9] {
            h.record(v, &TOKEN_BOUNDS);
        }
        assert_eq!(h.count, 5);
        assert_eq!(h.sum, 0.5 + 1.0 + 1.5 + 4.0 + 1e9);
        assert_eq!((h.min, h.max), (0.5, 1e9));
        assert_eq!(&h.buckets[..3], &[2, 2, 0]);
        assert_eq!(h.buckets[14], 1);
    }
}
