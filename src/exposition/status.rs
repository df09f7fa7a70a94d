//! What the status page knows of each target: a small summary taken from the snapshot a
//! target publishes, beside its rendered series, so the page and the metrics never
//! disagree. The summaries are bounded whatever the pool count (at most [`LISTED`] pools
//! named per list), and every change bumps a generation the page's cache is keyed by.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use crate::model::{PoolRecord, Source, TargetId, TargetSnapshot};

/// How many pools of each list (no destination, failing) a summary names, and the page
/// shows in all; the rest are counted.
pub(crate) const LISTED: usize = 100;

/// A pool the status page names.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct NamedPool {
    pub(crate) id: Arc<str>,
    pub(crate) name: Arc<str>,
    /// Unix time of the last successful read, if there ever was one.
    pub(crate) last_success: Option<f64>,
}

impl NamedPool {
    fn of(pool: &PoolRecord) -> Self {
        Self {
            id: Arc::clone(&pool.id),
            name: Arc::clone(&pool.name),
            last_success: pool.last_success,
        }
    }
}

/// How a target's pools deliver their logs, counted as the metrics show them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Coverage {
    pub(crate) pools: usize,
    /// Pools with a destination for message-delivery errors (`userNotification`).
    pub(crate) notification: usize,
    /// Pools with a destination for user activity (`userAuthEvents`).
    pub(crate) auth_events: usize,
    /// Pools whose configuration has no destination at all.
    pub(crate) none: usize,
    /// Pools whose configuration is not known (never read, or stale).
    pub(crate) unknown: usize,
    /// Pools whose read failed this cycle.
    pub(crate) failing: usize,
}

impl Coverage {
    /// The sum of `self` and `other`, field by field.
    pub(crate) fn add(&mut self, other: &Coverage) {
        self.pools += other.pools;
        self.notification += other.notification;
        self.auth_events += other.auth_events;
        self.none += other.none;
        self.unknown += other.unknown;
        self.failing += other.failing;
    }
}

/// One target as the status page shows it, from one published snapshot.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct TargetSummary {
    pub(crate) id: TargetId,
    pub(crate) up: bool,
    /// Unix time the cycle ended.
    pub(crate) finished_at: f64,
    pub(crate) duration_seconds: f64,
    pub(crate) coverage: Coverage,
    /// The first [`LISTED`] pools, by ID, with no log destination;
    /// `coverage.none` counts them all.
    pub(crate) uncovered: Vec<NamedPool>,
    /// The first [`LISTED`] pools, by ID, whose read failed this cycle;
    /// `coverage.failing` counts them all.
    pub(crate) failing: Vec<NamedPool>,
}

impl TargetSummary {
    /// The summary of `snapshot`, published by target `id`.
    pub(crate) fn of(id: &TargetId, snapshot: &TargetSnapshot) -> Self {
        let mut coverage = Coverage {
            pools: snapshot.pools.len(),
            ..Coverage::default()
        };
        let (mut uncovered, mut failing) = (Vec::new(), Vec::new());
        for pool in &snapshot.pools {
            if !pool.success {
                coverage.failing += 1;
                if failing.len() < LISTED {
                    failing.push(NamedPool::of(pool));
                }
            }
            // What the metrics serve: the last configuration read, while fresh enough.
            let Some(delivery) = &pool.delivery else {
                coverage.unknown += 1;
                continue;
            };
            let has = |source| delivery.destinations().iter().any(|d| d.source == source);
            coverage.notification += usize::from(has(Source::UserNotification));
            coverage.auth_events += usize::from(has(Source::UserAuthEvents));
            if delivery.destinations().is_empty() {
                coverage.none += 1;
                if uncovered.len() < LISTED {
                    uncovered.push(NamedPool::of(pool));
                }
            }
        }
        Self {
            id: id.clone(),
            up: snapshot.up,
            finished_at: snapshot.finished_at,
            duration_seconds: snapshot.duration_seconds,
            coverage,
            uncovered,
            failing,
        }
    }
}

/// Every publishing target's summary, with the generation of the last change.
#[derive(Debug, Default)]
pub(crate) struct Board {
    inner: Mutex<View>,
}

/// The board at one generation.
#[derive(Clone, Debug, Default)]
pub(crate) struct View {
    /// Bumped by every publish and removal.
    pub(crate) generation: u64,
    pub(crate) targets: BTreeMap<TargetId, Arc<TargetSummary>>,
}

impl Board {
    /// Replaces the summary of its target.
    pub(crate) fn set(&self, summary: TargetSummary) {
        let mut inner = self.lock();
        inner.generation += 1;
        inner.targets.insert(summary.id.clone(), Arc::new(summary));
    }

    /// Removes the summary of target `id`.
    pub(crate) fn remove(&self, id: &TargetId) {
        let mut inner = self.lock();
        if inner.targets.remove(id).is_some() {
            inner.generation += 1;
        }
    }

    /// The generation of the last change.
    pub(crate) fn generation(&self) -> u64 {
        self.lock().generation
    }

    /// The board as it is now.
    pub(crate) fn view(&self) -> View {
        self.lock().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, View> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Destination, Kind, Level, LogDelivery};

    fn pool(i: usize, delivery: Option<Vec<Destination>>, success: bool) -> PoolRecord {
        PoolRecord {
            id: format!("eu-west-1_{i:05}").into(),
            name: format!("pool-{i}").into(),
            delivery: delivery.map(LogDelivery::new),
            success,
            last_success: None,
            features: None,
            log_changes: None,
            last_change: None,

            statuses: Vec::new(),

            verdicts: Vec::new(),
        }
    }

    fn dest(source: Source, level: Level, kind: Kind) -> Destination {
        Destination {
            source,
            level,
            kind,
            arn: "arn:aws:logs:eu-west-1:123456789012:log-group:x".into(),
        }
    }

    #[test]
    fn counts_each_source_and_names_the_uncovered_and_failing_pools() {
        let both = vec![
            dest(Source::UserNotification, Level::Error, Kind::CloudwatchLogs),
            dest(Source::UserAuthEvents, Level::Info, Kind::S3),
        ];
        let snapshot = TargetSnapshot {
            up: true,
            duration_seconds: 1.5,
            finished_at: 1_700_000_000.0,
            pools: vec![
                pool(0, Some(both), true),
                pool(1, Some(vec![]), true),
                // Failing, but its last configuration is still served.
                pool(2, Some(vec![]), false),
                // Failing long enough to be stale.
                pool(3, None, false),
            ],
        };
        let summary = TargetSummary::of(&TargetId::new("123456789012", "eu-west-1"), &snapshot);
        let c = summary.coverage;
        assert_eq!(
            (c.pools, c.notification, c.auth_events, c.none, c.unknown),
            (4, 1, 1, 2, 1)
        );
        assert_eq!(c.failing, 2);
        let ids = |pools: &[NamedPool]| pools.iter().map(|p| p.id.to_string()).collect::<Vec<_>>();
        assert_eq!(
            ids(&summary.uncovered),
            ["eu-west-1_00001", "eu-west-1_00002"]
        );
        assert_eq!(
            ids(&summary.failing),
            ["eu-west-1_00002", "eu-west-1_00003"]
        );
    }

    #[test]
    fn names_at_most_listed_pools_and_counts_the_rest() {
        let snapshot = TargetSnapshot {
            pools: (0..LISTED + 7)
                .map(|i| pool(i, Some(vec![]), false))
                .collect(),
            ..TargetSnapshot::default()
        };
        let summary = TargetSummary::of(&TargetId::new("1", "r"), &snapshot);
        assert_eq!(summary.uncovered.len(), LISTED);
        assert_eq!(summary.failing.len(), LISTED);
        assert_eq!(summary.coverage.none, LISTED + 7);
        assert_eq!(summary.coverage.failing, LISTED + 7);
    }

    #[test]
    fn every_change_moves_the_generation() {
        let board = Board::default();
        let id = TargetId::new("1", "r");
        let before = board.generation();
        board.set(TargetSummary::of(&id, &TargetSnapshot::default()));
        let published = board.generation();
        assert!(published > before);
        board.remove(&TargetId::new("2", "r"));
        assert_eq!(board.generation(), published, "nothing removed");
        board.remove(&id);
        assert!(board.generation() > published);
        assert!(board.view().targets.is_empty());
    }
}
