//! Readiness: whether the exporter has something true to serve. The pollers mark it and
//! the HTTP server reports it on `/-/ready`; it lives here so that neither imports the
//! other.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Ready once every target of the first set (and its discovery) has finished a first
/// cycle; not ready once shutdown begins. Targets that join later (a reload, a new
/// account) never make it wait again.
#[derive(Debug)]
pub(crate) struct Readiness {
    pending: AtomicUsize,
    stopping: AtomicBool,
}

impl Readiness {
    /// Waits for `targets` first cycles.
    pub(crate) fn new(targets: usize) -> Self {
        Self {
            pending: AtomicUsize::new(targets),
            stopping: AtomicBool::new(false),
        }
    }

    pub(crate) fn is_ready(&self) -> bool {
        self.pending.load(Ordering::Acquire) == 0 && !self.stopping.load(Ordering::Acquire)
    }

    /// A target finished its first cycle. Extra calls never make it wait again.
    pub(crate) fn first_cycle_done(&self) {
        let _ = self
            .pending
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1));
    }

    /// One more thing to wait for: ready only once the token is done or dropped (a
    /// target removed before its first cycle ended no longer holds readiness back).
    pub(crate) fn expect(self: &Arc<Self>) -> ReadyToken {
        self.pending.fetch_add(1, Ordering::AcqRel);
        ReadyToken(Some(Arc::clone(self)))
    }

    /// Shutdown began: load balancers should stop sending scrapes here.
    pub(crate) fn stopping(&self) {
        self.stopping.store(true, Ordering::Release);
    }
}

/// Holds readiness back until [`ReadyToken::done`] or its drop; an empty token holds
/// nothing.
#[derive(Debug, Default)]
pub(crate) struct ReadyToken(Option<Arc<Readiness>>);

impl ReadyToken {
    pub(crate) fn done(&mut self) {
        if let Some(readiness) = self.0.take() {
            readiness.first_cycle_done();
        }
    }
}

impl Drop for ReadyToken {
    fn drop(&mut self) {
        self.done();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readiness_needs_every_target_and_ends_at_shutdown() {
        let r = Readiness::new(2);
        assert!(!r.is_ready());
        r.first_cycle_done();
        assert!(!r.is_ready());
        r.first_cycle_done();
        assert!(r.is_ready());
        r.first_cycle_done();
        assert!(r.is_ready(), "an extra mark does not underflow");
        r.stopping();
        assert!(!r.is_ready());
    }

    #[test]
    fn tokens_hold_readiness_until_done_or_dropped() {
        let r = Arc::new(Readiness::new(0));
        assert!(r.is_ready());
        let mut a = r.expect();
        let b = r.expect();
        a.done();
        assert!(!r.is_ready());
        a.done();
        assert!(!r.is_ready(), "a token counts once");
        drop(b);
        assert!(r.is_ready());
        drop(a);
        assert!(r.is_ready());
        drop(ReadyToken::default());
        assert!(r.is_ready());
    }
}
