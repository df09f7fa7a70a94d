//! Readiness: whether the exporter has something true to serve. The pollers mark it and
//! the HTTP server reports it on `/-/ready`; it lives here so that neither imports the
//! other.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Ready once every target has finished a first cycle; not ready once shutdown begins.
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

    /// Shutdown began: load balancers should stop sending scrapes here.
    pub(crate) fn stopping(&self) {
        self.stopping.store(true, Ordering::Release);
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
}
