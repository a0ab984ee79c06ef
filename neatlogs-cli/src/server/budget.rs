//! The memory budget of ingest: a byte semaphore that every ingest request
//! draws from before it holds memory, so that the collector's memory stays
//! bounded however many senders push at once.
//!
//! A request reserves, in steps, what it is about to hold: its body as it
//! arrives (the declared `Content-Length` up front), the inflated body of a
//! gzip or zstd request as it inflates (and a zstd decoder's window), and the cost of decoding and storing it
//! ([`crate::ingest::decode_cost`]). A step the budget cannot cover right
//! now is not waited for: the request is answered `503 Service
//! Unavailable` with `Retry-After`, as OTLP/HTTP asks of an overloaded
//! server, and the sender retries. Everything is released when the request
//! ends.
//!
//! One request may need more than the whole budget; it is then admitted
//! only when it has the budget to itself.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The ingest memory budget unless configured: 512 MiB.
pub const DEFAULT_INGEST_MEMORY: usize = 512 * 1024 * 1024;
/// How long a client may take to send a whole ingest body unless
/// configured.
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(30);
/// `Retry-After` on a request refused for want of budget, in seconds.
pub const RETRY_AFTER_SECONDS: u64 = 1;

/// Budget units: KiB, so that a budget of terabytes still counts in `u32`
/// permits.
const UNIT: usize = 1024;

/// Limits on ingest requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngestLimits {
    /// Bytes that ingest requests in progress may hold together: bodies,
    /// inflated bodies and the estimated cost of decoding and storing them.
    pub memory: usize,
    /// The longest a client may take to send a whole body; a slower one is
    /// answered `408 Request Timeout`.
    pub body_timeout: Duration,
}

impl Default for IngestLimits {
    /// [`DEFAULT_INGEST_MEMORY`] and [`DEFAULT_BODY_TIMEOUT`].
    fn default() -> Self {
        IngestLimits {
            memory: DEFAULT_INGEST_MEMORY,
            body_timeout: DEFAULT_BODY_TIMEOUT,
        }
    }
}

/// [`IngestLimits`] as the ingest handlers apply them.
#[derive(Clone)]
pub(crate) struct IngestGate {
    pub(crate) budget: Budget,
    pub(crate) body_timeout: Duration,
}

impl IngestGate {
    pub(crate) fn new(limits: &IngestLimits) -> IngestGate {
        IngestGate {
            budget: Budget::new(limits.memory),
            body_timeout: limits.body_timeout,
        }
    }
}

/// The shared budget.
#[derive(Clone)]
pub(crate) struct Budget {
    permits: Arc<Semaphore>,
    total: u32,
}

impl Budget {
    pub(crate) fn new(bytes: usize) -> Budget {
        let total = units(bytes).clamp(1, Semaphore::MAX_PERMITS.min(u32::MAX as usize) as u32);
        Budget {
            permits: Arc::new(Semaphore::new(total as usize)),
            total,
        }
    }

    /// A reservation of nothing yet.
    pub(crate) fn reservation(&self) -> Reservation {
        Reservation {
            budget: self.clone(),
            permit: None,
            held: 0,
        }
    }
}

/// Why a reservation could not grow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shortfall {
    /// Other requests hold the budget now; later it may fit.
    Busy,
    /// More than the whole budget: it never fits.
    Never {
        /// Bytes asked for.
        needed: usize,
        /// The whole budget, in bytes.
        budget: usize,
    },
}

/// What one request holds of the budget; released when dropped.
pub(crate) struct Reservation {
    budget: Budget,
    permit: Option<OwnedSemaphorePermit>,
    held: u32,
}

impl Reservation {
    /// Grows the reservation to `bytes` in all (never shrinks it); on a
    /// shortfall nothing changes.
    pub(crate) fn grow_to(&mut self, bytes: usize) -> Result<(), Shortfall> {
        let want = units(bytes);
        if want <= self.held {
            return Ok(());
        }
        if want > self.budget.total {
            return Err(Shortfall::Never {
                needed: bytes,
                budget: self.budget.total as usize * UNIT,
            });
        }
        match self
            .budget
            .permits
            .clone()
            .try_acquire_many_owned(want - self.held)
        {
            Ok(more) => {
                match &mut self.permit {
                    Some(permit) => permit.merge(more),
                    None => self.permit = Some(more),
                }
                self.held = want;
                Ok(())
            }
            Err(_) => Err(Shortfall::Busy),
        }
    }
}

/// `bytes` in budget units, rounded up.
fn units(bytes: usize) -> u32 {
    u32::try_from(bytes.div_ceil(UNIT)).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reservations_share_the_budget_and_give_it_back_when_dropped() {
        let budget = Budget::new(10 * UNIT);
        let mut a = budget.reservation();
        assert_eq!(a.grow_to(4 * UNIT), Ok(()));
        assert_eq!(a.grow_to(6 * UNIT), Ok(()));
        assert_eq!(a.grow_to(UNIT), Ok(()), "a reservation never shrinks");
        let mut b = budget.reservation();
        assert_eq!(
            b.grow_to(5 * UNIT),
            Err(Shortfall::Busy),
            "only 4 units are left"
        );
        assert_eq!(b.grow_to(4 * UNIT), Ok(()));
        assert_eq!(
            b.grow_to(4 * UNIT + 1),
            Err(Shortfall::Busy),
            "a partial unit counts as a unit"
        );
        drop(a);
        assert_eq!(b.grow_to(10 * UNIT), Ok(()));
    }

    #[test]
    fn a_request_larger_than_the_whole_budget_never_fits() {
        let budget = Budget::new(10 * UNIT);
        let mut huge = budget.reservation();
        assert_eq!(
            huge.grow_to(10 * UNIT + 1),
            Err(Shortfall::Never {
                needed: 10 * UNIT + 1,
                budget: 10 * UNIT
            })
        );
        assert_eq!(huge.grow_to(10 * UNIT), Ok(()));
    }
}
