//! Admission to bcrypt: how many verifications run at once, and how long a request may
//! wait for its turn before it is turned away.
//!
//! bcrypt takes tens of milliseconds of a core per verification, by design, so
//! credentials that miss the cache are what a client can make the server burn CPU on.
//! Two bounds keep a flood of them from taking the server over:
//!
//! - [`AT_ONCE`] (one) verification runs at a time, on the blocking pool. Whatever the
//!   flood, bcrypt holds at most one core, and the async workers (the exporter runs two)
//!   keep the rest for polling and for scrapes; the blocking pool keeps threads free for
//!   file reads and DNS. One is also what makes progress at all, and what the
//!   exporter-toolkit does (it serialises bcrypt).
//! - A request waits at most [`WAIT`] for its turn, lane and slot together, and is then
//!   answered 429: a flood is turned away instead of queueing without bound, and a
//!   scraper turned away learns it within a second, well inside a scrape timeout.
//!
//! Turns are fair between user names: a name has at most one request waiting for a
//! slot or running bcrypt, and its other requests wait in that name's lane. Guesses at
//! one name (a brute force, or a client retrying a stale password) so take one place in
//! the queue at a time, and another user's first login waits for about two
//! verifications, not for every guess. Lanes follow the name sent, configured or not,
//! so they reveal nothing about which users exist; that also means a flood varying the
//! name fills the queue, and first logins are then turned away after [`WAIT`] too.
//! Passwords already verified never come here (the cache answers them).

use std::collections::HashSet;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// bcrypt verifications running at once.
pub(crate) const AT_ONCE: usize = 1;

/// The longest a request waits for its turn before it is answered 429.
pub(crate) const WAIT: Duration = Duration::from_secs(1);

/// The queue in front of bcrypt, one per loaded configuration.
pub(crate) struct Gate {
    slots: Arc<Semaphore>,
    /// The names that have a request waiting for a slot or running bcrypt, hashed: a
    /// name sent by a client can be long, and a collision only shares a lane.
    lanes: Mutex<HashSet<u64>>,
    lane_freed: Notify,
    names: RandomState,
}

/// A request's place in its name's lane; frees the lane when dropped.
pub(crate) struct Lane<'a> {
    gate: &'a Gate,
    name: u64,
}

impl Gate {
    pub(crate) fn new() -> Self {
        Self {
            slots: Arc::new(Semaphore::new(AT_ONCE)),
            lanes: Mutex::new(HashSet::new()),
            lane_freed: Notify::new(),
            names: RandomState::new(),
        }
    }

    /// Waits until no other request for `user` is waiting for a slot or running bcrypt;
    /// `None` once `deadline` passes.
    pub(crate) async fn lane(&self, user: &str, deadline: Instant) -> Option<Lane<'_>> {
        let name = self.names.hash_one(user);
        loop {
            let mut freed = std::pin::pin!(self.lane_freed.notified());
            // Registered before looking, so a lane freed in between still wakes this one.
            freed.as_mut().enable();
            if self.lock_lanes().insert(name) {
                return Some(Lane { gate: self, name });
            }
            tokio::time::timeout_at(deadline, freed).await.ok()?;
        }
    }

    /// Waits for a bcrypt slot, in arrival order; `None` once `deadline` passes. Owned,
    /// so that it can move into the blocking task and stay taken while bcrypt runs even
    /// if the client hangs up.
    pub(crate) async fn slot(&self, deadline: Instant) -> Option<OwnedSemaphorePermit> {
        let acquire = self.slots.clone().acquire_owned();
        tokio::time::timeout_at(deadline, acquire).await.ok()?.ok()
    }

    fn lock_lanes(&self) -> MutexGuard<'_, HashSet<u64>> {
        // Every critical section is one insert or remove, so a poisoned set is whole.
        self.lanes.lock().unwrap_or_else(PoisonError::into_inner)
    }

    #[cfg(test)]
    fn lanes_taken(&self) -> usize {
        self.lock_lanes().len()
    }
}

impl Drop for Lane<'_> {
    fn drop(&mut self) {
        self.gate.lock_lanes().remove(&self.name);
        // Waiters of every name wake and look again; only a lane's own name finds it free.
        self.gate.lane_freed.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};

    use super::*;

    /// Polls `future` once: whether it is ready without waiting.
    fn ready_now<F: Future>(future: std::pin::Pin<&mut F>) -> Option<F::Output> {
        match future.poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(output) => Some(output),
            Poll::Pending => None,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_name_waits_behind_its_own_lane_and_other_names_do_not() {
        let gate = Gate::new();
        let deadline = Instant::now() + WAIT;
        let bob = gate.lane("bob", deadline).await.expect("free lane");
        let mut second_bob = pin!(gate.lane("bob", deadline));
        assert!(
            ready_now(second_bob.as_mut()).is_none(),
            "bob's lane is taken"
        );
        let alice = gate.lane("alice", deadline).await;
        assert!(alice.is_some(), "alice does not wait behind bob");
        drop(bob);
        let second_bob = second_bob.await;
        assert!(second_bob.is_some(), "the lane passes on once freed");
        drop((alice, second_bob));
        assert_eq!(gate.lanes_taken(), 0, "freed lanes are forgotten");
    }

    #[tokio::test(start_paused = true)]
    async fn waits_end_at_the_deadline() {
        let gate = Gate::new();
        let start = Instant::now();
        let deadline = start + WAIT;
        let _lane = gate.lane("bob", deadline).await.expect("free lane");
        assert!(gate.lane("bob", deadline).await.is_none());
        assert_eq!(
            Instant::now(),
            deadline,
            "gave up at the deadline, not before"
        );

        let deadline = Instant::now() + WAIT;
        let slots: Vec<_> = (0..AT_ONCE)
            .map(|_| ready_now(pin!(gate.slot(deadline))).flatten())
            .collect();
        assert!(slots.iter().all(Option::is_some), "{AT_ONCE} slot(s) free");
        assert!(
            gate.slot(deadline).await.is_none(),
            "no slot beyond {AT_ONCE}"
        );
        assert_eq!(Instant::now(), deadline);
        drop(slots);
        assert!(
            gate.slot(deadline).await.is_some(),
            "a freed slot is taken even late"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn slots_go_in_arrival_order() {
        let gate = Gate::new();
        let deadline = Instant::now() + WAIT;
        let held = gate.slot(deadline).await.expect("free slot");
        let mut first = pin!(gate.slot(deadline));
        let mut second = pin!(gate.slot(deadline));
        assert!(ready_now(first.as_mut()).is_none());
        assert!(ready_now(second.as_mut()).is_none());
        drop(held);
        assert!(
            ready_now(second.as_mut()).is_none(),
            "the later one still waits"
        );
        assert!(ready_now(first.as_mut()).flatten().is_some());
    }
}
