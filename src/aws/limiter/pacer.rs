//! Lets paced attempts go at their exact instants. tokio's timer ends a sleep on its
//! next millisecond tick or later, so at high rates (a period of a few milliseconds)
//! each attempt would start up to a tick late and the pace would fall behind the rate.
//! One thread for the process keeps the instants asked for in order, sleeps until just
//! before the first and spins the last stretch, then lets it go; only attempts whose
//! period is short use it, and only for the last [`TAIL`] of their wait.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

/// The stretch of a wait the pacer takes over from tokio's timer: more than the timer's
/// lateness, so the attempt is handed over before its instant.
pub(super) const TAIL: Duration = Duration::from_millis(2);
/// How early the pacer's thread wakes to spin: above the lateness of a condition
/// variable's timed wait on Linux (tens of microseconds).
const SPIN: Duration = Duration::from_micros(200);

/// An attempt waiting for its instant.
#[derive(Debug)]
struct Waiting {
    at: Instant,
    /// Keeps attempts of one instant in the order they asked.
    seq: u64,
    go: oneshot::Sender<Instant>,
}

impl PartialEq for Waiting {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Waiting {}
impl PartialOrd for Waiting {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Waiting {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

#[derive(Debug, Default)]
struct Queue {
    waiting: BinaryHeap<Reverse<Waiting>>,
    seq: u64,
}

/// The process's pacer.
#[derive(Debug, Default)]
pub(super) struct Pacer {
    queue: Mutex<Queue>,
    changed: Condvar,
}

impl Pacer {
    /// The process's pacer, its thread started at the first call; `None` if the thread
    /// could not be started (then waits end on tokio's timer alone).
    pub(super) fn get() -> Option<&'static Pacer> {
        static PACER: OnceLock<Option<&'static Pacer>> = OnceLock::new();
        *PACER.get_or_init(|| {
            let pacer: &'static Pacer = Box::leak(Box::default());
            let started = std::thread::Builder::new()
                .name("pacer".into())
                .spawn(move || pacer.run());
            match started {
                Ok(_) => Some(pacer),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot start the pacer's thread: high request rates will fall behind");
                    None
                }
            }
        })
    }

    /// Waits until `at`, and returns when the attempt was let go (within microseconds
    /// of `at`, or at once if `at` is past).
    pub(super) async fn until(&self, at: Instant) -> Instant {
        let (go, gone) = oneshot::channel();
        {
            let mut queue = self.lock();
            queue.seq += 1;
            let seq = queue.seq;
            queue.waiting.push(Reverse(Waiting { at, seq, go }));
        }
        self.changed.notify_one();
        // The thread never drops a sender unanswered; should it have died, the attempt
        // goes at once rather than never.
        gone.await.unwrap_or_else(|_| Instant::now())
    }

    fn run(&self) {
        let mut queue = self.lock();
        loop {
            let Some(Reverse(first)) = queue.waiting.peek() else {
                queue = self.changed.wait(queue).unwrap_or_else(|p| p.into_inner());
                continue;
            };
            let at = first.at;
            let now = Instant::now();
            if at <= now {
                if let Some(Reverse(first)) = queue.waiting.pop() {
                    // A waiter that gave up (its request was cancelled) is no matter.
                    let _ = first.go.send(now);
                }
                continue;
            }
            let left = at - now;
            if left > SPIN {
                queue = self
                    .changed
                    .wait_timeout(queue, left - SPIN)
                    .map_or_else(|p| p.into_inner().0, |(q, _)| q);
                continue;
            }
            drop(queue);
            while Instant::now() < at {
                std::hint::spin_loop();
            }
            queue = self.lock();
        }
    }

    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Never before its instant, in the order of the instants, whatever the order asked.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn attempts_go_at_or_after_their_instants_in_order() {
        let start = Instant::now() + Duration::from_millis(5);
        let tasks: Vec<_> = (0..40_u32)
            .map(|i| {
                // 0, 13, 26, ... (mod 40) × 250 µs: asked out of order.
                let at = start + Duration::from_micros(u64::from((i * 13) % 40) * 250);
                tokio::spawn(async move { (at, Pacer::get().expect("a pacer").until(at).await) })
            })
            .collect();
        let mut released = Vec::new();
        for t in tasks {
            let (at, went) = t.await.expect("task");
            assert!(went >= at, "let go {:?} early", at - went);
            released.push((at, went));
        }
        released.sort();
        for pair in released.windows(2) {
            assert!(pair[1].1 >= pair[0].1, "out of order: {pair:?}");
        }
    }

    #[tokio::test]
    async fn a_past_instant_goes_at_once() {
        let at = Instant::now();
        assert!(Pacer::get().expect("a pacer").until(at).await >= at);
    }
}
