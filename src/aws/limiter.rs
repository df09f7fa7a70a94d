//! The client-side rate limit of one target: API attempts spaced evenly at
//! `poll.requests_per_second`, with no burst, so a per-second server quota never sees
//! more than the configured rate; slowed down when Cognito throttles anyway (its quota is
//! shared with every other caller in the account and region), and back to the
//! configured rate as attempts succeed.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use prometheus_client::metrics::counter::Counter;
use tokio::time::Instant;

use pacer::Pacer;

/// Operations built and under way at once, across every target of the process: what a
/// fleet's targets, each let go by its own pace at the same moment, would otherwise
/// hold together (each operation some 100 KiB with its connection while it lasts; a
/// thousand targets starting their cycles together held over 100 MiB). At 50 ms an
/// answer, 256 operations still make 5,000 calls a second.
const IN_FLIGHT: usize = 256;
static OPERATIONS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(IN_FLIGHT);

/// The resolution of tokio's timer: a sleep ends up to this much after its deadline.
const TIMER_RESOLUTION: Duration = Duration::from_millis(1);
/// Periods below this end their waits on the [`Pacer`]: a tick's lateness would be more
/// than 2% of them. Longer ones wait on tokio's timer alone.
const PRECISE_BELOW: Duration = Duration::from_millis(50);
/// The share by which gaps let go by the pacer exceed the period (see `until_ready`).
const MARGIN: f64 = 0.02;
/// The pacer's resolution: periods below it follow their planned slots, as below the
/// timer's resolution without the pacer.
const PACER_RESOLUTION: Duration = Duration::from_micros(50);
/// How far throttling may slow the rate: to a sixteenth of the configured one.
const MAX_SLOWDOWN: f64 = 16.0;
/// The widest spacing a rate sets, before any slowdown: one attempt an hour. Validation
/// keeps rates far above that (at least 0.01 per second); this bound is what keeps the
/// arithmetic of any rate at all (zero, negative, NaN, 1e-300) from overflowing a
/// `Duration` or an `Instant`.
const WIDEST: Duration = Duration::from_secs(3600);
/// Each throttled attempt stretches the spacing by this factor...
const BACKOFF: f64 = 1.25;
/// ...and each successful one shrinks it back by this one: about 9 successes undo a
/// throttle. The pace settles where about 10% of attempts are throttled: a quota below
/// the configured rate is probed seldom, and throttles that come whatever the pace (the
/// quota is shared) slow it down only when they pass that share. (At 0.99, 5% of
/// throttles from elsewhere drove it to its slowest.)
const RECOVERY: f64 = 0.975;

#[derive(Debug)]
struct Pace {
    /// The spacing the configured rate sets.
    base: Duration,
    /// When the next attempt may start.
    next: Instant,
    /// The current spacing between attempts.
    period: Duration,
}

/// Paces the attempts of one target.
#[derive(Debug)]
pub(crate) struct Limiter {
    /// Whether short periods end their waits on the [`Pacer`] (always, but in tests on
    /// tokio's paused clock, which the pacer's thread does not follow).
    precise: bool,
    pace: Mutex<Pace>,
    /// Held by the attempt waiting for the next slot, so slots are taken one at a time,
    /// each a period after the previous attempt actually started.
    turn: tokio::sync::Mutex<()>,
    /// Where waiting time is counted, once the target's identity is known (the first
    /// attempt, which tells it, never waits).
    wait: OnceLock<Counter<f64, AtomicU64>>,
    /// Attempts waiting for their slot, and a signal each time one is let go: what
    /// [`Limiter::admit`] waits on.
    waiting: AtomicUsize,
    released: tokio::sync::Notify,
}

impl Limiter {
    pub(crate) fn new(requests_per_second: f64) -> Self {
        Self::with_precision(requests_per_second, true)
    }

    /// A limiter on tokio's timer alone, for tests on its paused clock.
    #[cfg(test)]
    pub(crate) fn on_tokio_timer(requests_per_second: f64) -> Self {
        Self::with_precision(requests_per_second, false)
    }

    fn with_precision(requests_per_second: f64, precise: bool) -> Self {
        let base = spacing(requests_per_second);
        Self {
            precise,
            pace: Mutex::new(Pace {
                base,
                next: Instant::now(),
                period: base,
            }),
            turn: tokio::sync::Mutex::new(()),
            wait: OnceLock::new(),
            waiting: AtomicUsize::new(0),
            released: tokio::sync::Notify::new(),
        }
    }

    /// A new configured rate (a reload), from the next slot on; a slowdown that
    /// throttling caused carries over in proportion.
    pub(crate) fn set_rate(&self, requests_per_second: f64) {
        let base = spacing(requests_per_second);
        let mut pace = self.lock();
        if base != pace.base {
            let slowdown =
                pace.period.as_secs_f64() / pace.base.as_secs_f64().max(f64::MIN_POSITIVE);
            pace.base = base;
            pace.period = scaled(base, slowdown.clamp(1.0, MAX_SLOWDOWN));
        }
    }

    /// Counts waiting time in `counter` from now on; later calls change nothing.
    pub(crate) fn count_waits(&self, counter: Counter<f64, AtomicU64>) {
        let _ = self.wait.set(counter);
    }

    /// Waits for the next slot: a period after the previous attempt started, or now if
    /// that is past (the target was idle), so idle time never builds a burst. The period
    /// counts from when the previous attempt actually started, not from its planned slot:
    /// a wait that ended late would otherwise make the next gap that much shorter, and a
    /// server quota with no burst throttles it. The price is that lateness: up to a
    /// millisecond per attempt on tokio's timer (1.5% at 15 requests per second), a few
    /// microseconds on the [`Pacer`], which ends the waits of periods under 50 ms. Below
    /// the resolution of the wait (then gaps cannot be exact anyway), slots follow each
    /// other from the planned ones and the rate holds on average. Returns when the
    /// attempt was let go.
    pub(crate) async fn until_ready(&self) -> Instant {
        let asked = Instant::now();
        let _waiting = Waiting::new(self);
        let _turn = self.turn.lock().await;
        let (slot, period) = {
            let pace = self.lock();
            (pace.next, pace.period)
        };
        let precise = self.precise && period < PRECISE_BELOW;
        let resolution = if precise {
            PACER_RESOLUTION
        } else {
            TIMER_RESOLUTION
        };
        let fine = period < resolution;
        // Fine-grained slots missed by less than the resolution are still taken, so a
        // late wait is caught up; idle time still earns no more than that.
        let now = Instant::now();
        let floor = if fine {
            now.checked_sub(resolution).unwrap_or(now)
        } else {
            now
        };
        let slot = slot.max(floor);
        let started = if slot <= now {
            now
        } else if precise {
            if let Some(early) = slot.checked_sub(pacer::TAIL)
                && early > now
            {
                tokio::time::sleep_until(early).await;
            }
            match Pacer::get() {
                Some(pacer) => Instant::from_std(pacer.until(slot.into_std()).await),
                None => {
                    tokio::time::sleep_until(slot).await;
                    Instant::now()
                }
            }
        } else {
            tokio::time::sleep_until(slot).await;
            Instant::now()
        };
        {
            let mut pace = self.lock();
            let from = if fine { slot } else { started };
            // A request reaches the server some microseconds after it is let go, more or
            // less of them each time; exact gaps would then arrive a little short now and
            // then, and a quota with no burst refuses those. On the pacer, gaps are
            // stretched by MARGIN to absorb that (tokio's timer is late by more anyway).
            let period = if precise && !fine {
                scaled(pace.period, 1.0 + MARGIN)
            } else {
                pace.period
            };
            // Unreachable with a period of at most 16 hours; without a later slot to give,
            // the attempt after this one may start at once.
            pace.next = from.checked_add(period).unwrap_or(from);
        }
        if started > asked
            && let Some(counter) = self.wait.get()
        {
            counter.inc_by((started - asked).as_secs_f64());
        }
        started
    }

    /// Returns once no attempt waits for its slot and the process has room for one
    /// more operation ([`IN_FLIGHT`]); the caller builds its operation then and keeps
    /// the [`Admitted`] until the operation is done. So operations (each with its
    /// request, signing and retry state) are built when they are next to go, rather
    /// than queued at the limiter up to `concurrency` at a time: at a low rate that
    /// queue was most of a target's memory during a cycle. Periods under 50 ms skip the
    /// wait for the slot: at such rates the queue is what keeps the pace (an operation
    /// built after the previous one was let go may miss its slot), and targets that fast
    /// are few.
    pub(crate) async fn admit(&self) -> Admitted<'static> {
        self.admit_within(&OPERATIONS).await
    }

    /// [`Limiter::admit`], with room for operations in `room`.
    async fn admit_within<'a>(&self, room: &'a tokio::sync::Semaphore) -> Admitted<'a> {
        loop {
            self.next_in_line().await;
            // The semaphore is never closed, so there is always a permit to wait for.
            let admitted = Admitted {
                _permit: room.acquire().await.ok(),
            };
            // Another of the target's operations may have gone to its slot meanwhile.
            if self.lock().period < PRECISE_BELOW || self.waiting.load(Ordering::Acquire) == 0 {
                return admitted;
            }
        }
    }

    /// Returns once no attempt waits for its slot (at once for periods under 50 ms).
    async fn next_in_line(&self) {
        if self.lock().period < PRECISE_BELOW {
            return;
        }
        loop {
            let released = self.released.notified();
            if self.waiting.load(Ordering::Acquire) == 0 {
                return;
            }
            released.await;
        }
    }

    /// An attempt was throttled: space the following ones further apart.
    pub(crate) fn throttled(&self) {
        let mut pace = self.lock();
        let slowest = scaled(pace.base, MAX_SLOWDOWN);
        pace.period = scaled(pace.period, BACKOFF).min(slowest);
    }

    /// An attempt succeeded: move back toward the configured rate.
    pub(crate) fn succeeded(&self) {
        let mut pace = self.lock();
        if pace.period > pace.base {
            pace.period = scaled(pace.period, RECOVERY).max(pace.base);
        }
    }

    /// The current spacing between attempts.
    #[cfg(test)]
    fn period(&self) -> Duration {
        self.lock().period
    }

    /// The spacing the configured rate sets.
    #[cfg(test)]
    fn base(&self) -> Duration {
        self.lock().base
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Pace> {
        self.pace.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Room for one operation under way; given back when dropped.
#[must_use = "the operation is admitted while this is held"]
pub(crate) struct Admitted<'a> {
    _permit: Option<tokio::sync::SemaphorePermit<'a>>,
}

/// An attempt counted as waiting for its slot until it is let go or given up.
struct Waiting<'a>(&'a Limiter);

impl<'a> Waiting<'a> {
    fn new(limiter: &'a Limiter) -> Self {
        limiter.waiting.fetch_add(1, Ordering::AcqRel);
        Self(limiter)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.waiting.fetch_sub(1, Ordering::AcqRel);
        self.0.released.notify_waiters();
    }
}

/// The spacing of `requests_per_second`. A rate of zero or below, or not a number, gets
/// the widest spacing rather than none at all; an infinite one, none.
fn spacing(requests_per_second: f64) -> Duration {
    if requests_per_second > 0.0 {
        scaled(Duration::from_secs(1), 1.0 / requests_per_second).min(WIDEST)
    } else {
        WIDEST
    }
}

/// `d` times `factor`, as `Duration::mul_f64` computes it, but saturating instead of
/// panicking: at `Duration::MAX` above its range or for an infinite product, at zero below
/// it or for one that is not a number.
fn scaled(d: Duration, factor: f64) -> Duration {
    let secs = d.as_secs_f64() * factor;
    if secs.is_nan() || secs <= 0.0 {
        Duration::ZERO
    } else {
        Duration::try_from_secs_f64(secs).unwrap_or(Duration::MAX)
    }
}

/// An HTTP client whose every request first waits for its turn at the limiter, so that
/// each attempt (SDK retries included) is paced, whatever client made it.
#[derive(Debug)]
pub(super) struct LimitedClient {
    pub(super) inner: SharedHttpClient,
    pub(super) limiter: Arc<Limiter>,
}

impl HttpClient for LimitedClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(LimitedConnector {
            inner: self.inner.http_connector(settings, components),
            limiter: self.limiter.clone(),
        })
    }
}

#[derive(Debug)]
struct LimitedConnector {
    inner: SharedHttpConnector,
    limiter: Arc<Limiter>,
}

impl HttpConnector for LimitedConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let inner = self.inner.clone();
        let limiter = self.limiter.clone();
        HttpConnectorFuture::new(async move {
            limiter.until_ready().await;
            inner.call(request).await
        })
    }
}

mod pacer;
#[cfg(test)]
mod tests;
