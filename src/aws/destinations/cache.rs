//! The results of destination checks, kept by ARN for `checks.interval`. Each ARN has
//! its own lock, held across its check, so pools that share a destination wait for one
//! check rather than each making it; a bucket's region stays known across checks. A
//! failed check is tried again sooner.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::time::Instant;

use super::DestinationStatus;

/// A destination no pool has asked about for this long is forgotten (its bucket region
/// too): twice the longest `poll.interval`, so every destination still configured is
/// asked about in between.
const FORGET_AFTER: Duration = Duration::from_secs(48 * 3600);
/// How often the forgotten ones are looked for.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);
/// How long a `check_failed` result is kept (when `checks.interval` is longer): a
/// time-out or a throttled call says nothing of the destination, so it is tried again
/// within a few cycles rather than shown for an hour.
const RETRY_FAILED: Duration = Duration::from_secs(60);

/// Check results by ARN.
#[derive(Debug)]
pub(super) struct Cache {
    inner: Mutex<Entries>,
}

#[derive(Debug)]
struct Entries {
    by_arn: HashMap<String, Entry>,
    interval: Duration,
    pruned: Instant,
}

#[derive(Debug)]
struct Entry {
    slot: Arc<tokio::sync::Mutex<Slot>>,
    /// When a pool last asked about it.
    asked: Instant,
}

#[derive(Debug, Default)]
struct Slot {
    /// The last result, and when it was had.
    checked: Option<(DestinationStatus, Instant)>,
    /// For a bucket: the region HeadBucket last named.
    bucket_region: Option<String>,
}

impl Cache {
    pub(super) fn new(interval: Duration) -> Self {
        Self {
            inner: Mutex::new(Entries {
                by_arn: HashMap::new(),
                interval,
                pruned: Instant::now(),
            }),
        }
    }

    /// Results older than `interval` are checked again; the ones kept stay.
    pub(super) fn set_interval(&self, interval: Duration) {
        self.lock().interval = interval;
    }

    /// The status of `arn`: the kept result while it is younger than the interval, else
    /// what `check` finds. `check` gets the bucket region known from before, and gives
    /// the status with the region it learned, if any.
    pub(super) async fn status<F, Fut>(&self, arn: &str, check: F) -> DestinationStatus
    where
        F: FnOnce(Option<String>) -> Fut,
        Fut: Future<Output = (DestinationStatus, Option<String>)>,
    {
        let (slot, interval) = {
            let now = Instant::now();
            let mut entries = self.lock();
            entries.prune(now);
            let entry = entries
                .by_arn
                .entry(arn.to_owned())
                .or_insert_with(|| Entry {
                    slot: Arc::default(),
                    asked: now,
                });
            entry.asked = now;
            (Arc::clone(&entry.slot), entries.interval)
        };
        let mut slot = slot.lock().await;
        if let Some((status, at)) = slot.checked
            && at.elapsed() < kept_for(status, interval)
        {
            return status;
        }
        let (status, region) = check(slot.bucket_region.clone()).await;
        if region.is_some() {
            slot.bucket_region = region;
        }
        slot.checked = Some((status, Instant::now()));
        status
    }

    /// How many ARNs are kept.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().by_arn.len()
    }

    fn lock(&self) -> MutexGuard<'_, Entries> {
        // Nothing panics while holding it; a poisoned map is still a valid map.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// How long a result is kept.
fn kept_for(status: DestinationStatus, interval: Duration) -> Duration {
    match status {
        DestinationStatus::CheckFailed => interval.min(RETRY_FAILED),
        _ => interval,
    }
}

impl Entries {
    fn prune(&mut self, now: Instant) {
        if now.duration_since(self.pruned) < PRUNE_EVERY {
            return;
        }
        self.pruned = now;
        // An entry whose check is under way (its slot shared) stays.
        self.by_arn.retain(|_, e| {
            now.duration_since(e.asked) < FORGET_AFTER || Arc::strong_count(&e.slot) > 1
        });
    }
}

#[cfg(test)]
mod tests;
