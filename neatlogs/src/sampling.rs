//! Head sampling: which traces are recorded and exported, decided once, when
//! a trace's root opens in this process.
//!
//! A ratio is decided from the trace id alone, as the OpenTelemetry
//! specification's `TraceIdRatioBased` sampler does with W3C random trace
//! ids: the trace is kept when the id's 56 low-order bits, read as a number,
//! are at or above the rejection threshold `(1 - ratio) × 2^56`. Every
//! service that samples at the same ratio therefore keeps the same traces,
//! and a service at a higher ratio keeps a superset of one at a lower ratio.
//!
//! Identity never depends on the decision: a trace that is not sampled still
//! has its end-user, its session and its context (for
//! [`current_end_user`](crate::current_end_user), the `tower` layer,
//! outgoing `traceparent` and `baggage`); only its spans are not recorded.
//! Its children are not opened: their builders come back disabled after
//! one look at the thread's current frame.

use std::fmt;
use std::sync::Arc;

use crate::id::TraceId;
use crate::identity::EndUser;
use crate::kind::SpanKind;

/// Which traces are recorded: set with
/// [`Config::sampler`](crate::Config::sampler) or `OTEL_TRACES_SAMPLER`
/// (and `OTEL_TRACES_SAMPLER_ARG`).
///
/// The default is `ParentBased(AlwaysOn)`: every new trace is recorded, and a
/// trace continued from a caller is recorded when the caller's `traceparent`
/// says it sampled it.
///
/// ```
/// use neatlogs::Sampler;
/// // 10 % of new traces; continued traces follow their caller.
/// let sampler = Sampler::parent_based(Sampler::TraceIdRatio(0.1));
/// # drop(sampler);
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Sampler {
    /// Record every trace (`always_on`).
    AlwaysOn,
    /// Record none (`always_off`).
    AlwaysOff,
    /// Record a trace with this probability, decided from its trace id
    /// (`traceidratio`): between 0 and 1.
    TraceIdRatio(f64),
    /// A continued trace follows its caller's `sampled` flag; a new trace is
    /// decided by the sampler inside (`parentbased_*`).
    ParentBased(Box<Sampler>),
}

impl Default for Sampler {
    fn default() -> Self {
        Sampler::ParentBased(Box::new(Sampler::AlwaysOn))
    }
}

impl Sampler {
    /// [`Sampler::ParentBased`] around `root`.
    pub fn parent_based(root: Sampler) -> Sampler {
        Sampler::ParentBased(Box::new(root))
    }

    /// The ratio, when it is not a probability.
    pub(crate) fn invalid_ratio(&self) -> Option<f64> {
        match self {
            Sampler::TraceIdRatio(r) if !(0.0..=1.0).contains(r) => Some(*r),
            Sampler::ParentBased(root) => root.invalid_ratio(),
            _ => None,
        }
    }

    /// Whether the trace `trace_id` is recorded; `caller` is the `sampled`
    /// flag of the caller whose trace this root continues, if any.
    #[cfg(test)]
    pub(crate) fn decide(&self, trace_id: TraceId, caller: Option<bool>) -> bool {
        self.decide_with_probability(trace_id, caller).0
    }

    /// The decision, and the probability it was made with when it was a
    /// ratio below 1 (`None`: always, never, or the caller's).
    fn decide_with_probability(
        &self,
        trace_id: TraceId,
        caller: Option<bool>,
    ) -> (bool, Option<f64>) {
        match self {
            Sampler::AlwaysOn => (true, None),
            Sampler::AlwaysOff => (false, None),
            Sampler::TraceIdRatio(ratio) => ratio_decision(trace_id, *ratio),
            Sampler::ParentBased(root) => match caller {
                Some(sampled) => (sampled, None),
                None => root.decide_with_probability(trace_id, None),
            },
        }
    }
}

/// What a [sampling rule](crate::Config::sampling_rule) sees: a trace's root
/// in this process, with its identity resolved, before the trace starts.
#[derive(Debug)]
pub struct SamplingRoot<'a> {
    pub(crate) name: &'a str,
    pub(crate) kind: SpanKind,
    pub(crate) end_user: Option<&'a EndUser>,
    pub(crate) session: Option<&'a str>,
    pub(crate) caller_sampled: Option<bool>,
}

impl SamplingRoot<'_> {
    /// The root span's name.
    pub fn name(&self) -> &str {
        self.name
    }

    /// The root span's kind.
    pub fn kind(&self) -> SpanKind {
        self.kind
    }

    /// The trace's end-user: its id, and its metadata through
    /// [`EndUser::metadata`].
    pub fn end_user(&self) -> Option<&EndUser> {
        self.end_user
    }

    /// The trace's end-user id.
    pub fn end_user_id(&self) -> Option<&str> {
        self.end_user.map(|u| u.id().as_str())
    }

    /// The trace's session.
    pub fn session_id(&self) -> Option<&str> {
        self.session
    }

    /// For a root that continues a caller's trace, the caller's `sampled`
    /// flag.
    pub fn caller_sampled(&self) -> Option<bool> {
        self.caller_sampled
    }
}

/// The function given to [`Config::sampling_rule`](crate::Config::sampling_rule).
pub(crate) struct Rule(pub(crate) Box<RuleFn>);

/// A rule's signature.
pub(crate) type RuleFn = dyn Fn(&SamplingRoot<'_>) -> Option<f64> + Send + Sync;

// A rule runs inside `catch_unwind`; one that panicked is asked again for
// the next root (its own state is its business), and the sampler decides
// meanwhile: nothing of the SDK's is left half-done.
impl std::panic::UnwindSafe for Rule {}
impl std::panic::RefUnwindSafe for Rule {}

/// How an instance decides which traces to record: the rule first, then the
/// sampler for the roots the rule leaves to it.
#[derive(Clone, Default)]
pub(crate) struct Sampling {
    pub(crate) sampler: Sampler,
    pub(crate) rule: Option<Arc<Rule>>,
    /// Tail keep, when on.
    pub(crate) tail: Option<Arc<crate::tail::Tails>>,
}

impl fmt::Debug for Sampling {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sampling")
            .field("sampler", &self.sampler)
            .field("rule", &self.rule.is_some())
            .field("tail", &self.tail)
            .finish()
    }
}

impl Sampling {
    /// Whether the trace `trace_id`, rooted at `root`, is recorded, and the
    /// probability it was kept with when below 1 (written on the root as
    /// `neatlogs.sampling.probability`, so that a reader can count what
    /// was dropped).
    pub(crate) fn decide(&self, trace_id: TraceId, root: &SamplingRoot<'_>) -> (bool, Option<f64>) {
        if let Some(rule) = &self.rule {
            let asked = std::panic::catch_unwind(|| (rule.0)(root));
            match asked {
                Ok(Some(p)) if (0.0..=1.0).contains(&p) => {
                    return ratio_decision(trace_id, p);
                }
                Ok(None) => {}
                Ok(Some(p)) => rule_failed(root.name, &format!("returned {p}, not a probability")),
                Err(_) => rule_failed(root.name, "panicked"),
            }
        }
        self.sampler
            .decide_with_probability(trace_id, root.caller_sampled)
    }
}

/// A ratio's decision, with the ratio when it is below 1.
fn ratio_decision(trace_id: TraceId, ratio: f64) -> (bool, Option<f64>) {
    let keep = randomness(trace_id) >= threshold(ratio);
    (keep, (ratio < 1.0).then_some(ratio))
}

/// A rule that answered nonsense: the sampler decides, with one warning.
#[cold]
fn rule_failed(name: &str, what: &str) {
    use std::sync::atomic::{AtomicBool, Ordering};
    static WARNED: AtomicBool = AtomicBool::new(false);
    if !WARNED.swap(true, Ordering::Relaxed) {
        log::warn!(
            "neatlogs: the sampling rule {what} for trace `{name}`; the sampler decides instead (later failures are logged at debug)"
        );
    } else {
        log::debug!("neatlogs: the sampling rule {what} for trace `{name}`");
    }
}

/// 2^56: the range of the randomness and of the threshold.
const MAX: u64 = 1 << 56;

/// The rejection threshold of `ratio`: `(1 - ratio) × 2^56`, rounded.
fn threshold(ratio: f64) -> u64 {
    if ratio.is_nan() || ratio <= 0.0 {
        MAX
    } else if ratio >= 1.0 {
        0
    } else {
        ((1.0 - ratio) * MAX as f64).round() as u64
    }
}

/// The 56 low-order bits of a trace id (W3C's random part).
fn randomness(trace_id: TraceId) -> u64 {
    let bytes = trace_id.to_bytes();
    let mut low = [0u8; 8];
    low.copy_from_slice(&bytes[8..16]);
    u64::from_be_bytes(low) & (MAX - 1)
}

/// The sampler `OTEL_TRACES_SAMPLER` (and `OTEL_TRACES_SAMPLER_ARG`, the
/// ratio, 1 when unset) name, or what is wrong with them: `Err((variable,
/// reason))`.
pub(crate) fn from_env(name: &str, arg: Option<&str>) -> Result<Sampler, (&'static str, String)> {
    let ratio = || -> Result<f64, (&'static str, String)> {
        let Some(arg) = arg else { return Ok(1.0) };
        match arg.trim().parse::<f64>() {
            Ok(r) if (0.0..=1.0).contains(&r) => Ok(r),
            _ => Err((
                SAMPLER_ARG,
                format!("`{arg}`: expected a probability between 0 and 1"),
            )),
        }
    };
    Ok(match name.trim().to_ascii_lowercase().as_str() {
        "always_on" => Sampler::AlwaysOn,
        "always_off" => Sampler::AlwaysOff,
        "traceidratio" => Sampler::TraceIdRatio(ratio()?),
        "parentbased_always_on" => Sampler::parent_based(Sampler::AlwaysOn),
        "parentbased_always_off" => Sampler::parent_based(Sampler::AlwaysOff),
        "parentbased_traceidratio" => Sampler::parent_based(Sampler::TraceIdRatio(ratio()?)),
        _ => {
            return Err((
                SAMPLER,
                format!(
                    "`{name}`: expected always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off or parentbased_traceidratio"
                ),
            ))
        }
    })
}

/// The sampler's variable.
pub(crate) const SAMPLER: &str = "OTEL_TRACES_SAMPLER";
/// The sampler's argument.
pub(crate) const SAMPLER_ARG: &str = "OTEL_TRACES_SAMPLER_ARG";

#[cfg(test)]
mod tests {
    use super::*;

    fn id(low: u64) -> TraceId {
        let mut bytes = [0u8; 16];
        bytes[0] = 1;
        bytes[8..].copy_from_slice(&low.to_be_bytes());
        TraceId::from_bytes(bytes).unwrap()
    }

    #[test]
    fn a_ratio_keeps_the_ids_at_or_above_its_threshold() {
        let quarter = Sampler::TraceIdRatio(0.25);
        // Threshold 0.75 × 2^56.
        let t = MAX / 4 * 3;
        assert!(!quarter.decide(id(t - 1), None));
        assert!(quarter.decide(id(t), None));
        assert!(quarter.decide(id(MAX - 1), None));
        // The high byte of the low half is not randomness: ignored.
        assert!(!quarter.decide(id((0xff << 56) | (t - 1)), None));
        assert!(Sampler::TraceIdRatio(1.0).decide(id(0), None));
        assert!(!Sampler::TraceIdRatio(0.0).decide(id(MAX - 1), None));
    }

    #[test]
    fn a_higher_ratio_keeps_a_superset() {
        let (low, high) = (Sampler::TraceIdRatio(0.1), Sampler::TraceIdRatio(0.3));
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let (mut kept_low, mut kept_high) = (0, 0);
        for _ in 0..100_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let t = id(x);
            let (a, b) = (low.decide(t, None), high.decide(t, None));
            assert!(!a || b);
            kept_low += a as u32;
            kept_high += b as u32;
        }
        // Binomial: 10,000 ± 95 and 30,000 ± 145 (one sigma); five sigmas here.
        assert!((9_500..=10_500).contains(&kept_low), "{kept_low}");
        assert!((29_250..=30_750).contains(&kept_high), "{kept_high}");
    }

    #[test]
    fn parent_based_follows_the_caller_and_decides_new_traces_itself() {
        let s = Sampler::parent_based(Sampler::AlwaysOff);
        assert!(s.decide(id(1), Some(true)));
        assert!(!s.decide(id(1), Some(false)));
        assert!(!s.decide(id(1), None));
        assert!(
            Sampler::AlwaysOn.decide(id(1), Some(false)),
            "not parent-based: the caller's flag is not asked"
        );
    }
}
