//! What a cycle concludes of a pool beyond its configuration: whether each destination
//! it names can receive logs (`checks.destinations`, checked after the pool's read and
//! kept by ARN for `checks.interval`), and the verdict of each rule of `policy.rules`
//! that selects it.

use std::sync::Arc;
use std::time::Duration;

use futures_util::{StreamExt, stream};

use super::Settings;
use crate::aws::{Connection, DestinationChecks};
use crate::config::PolicyRule;
use crate::model::{DestinationStatus, LogDelivery, PoolRecord, TargetId, Verdict};
use crate::policy::{self, PoolFacts};

/// A target's destination checks, with the settings they were made with.
#[derive(Debug)]
pub(super) struct Checks {
    inner: DestinationChecks,
    interval: Duration,
    timeout: Duration,
}

impl Checks {
    /// Makes, reconfigures or drops `checks` as `settings` say now: turned off, the
    /// results kept go with them.
    pub(super) fn sync(
        checks: &mut Option<Checks>,
        connection: &Connection,
        id: &TargetId,
        settings: &Settings,
    ) {
        let (interval, timeout) = (settings.checks.interval, settings.poll.timeout);
        if !settings.checks.destinations {
            *checks = None;
            return;
        }
        match checks {
            Some(c) if c.interval == interval && c.timeout == timeout => {}
            Some(c) => {
                c.inner.reconfigure(&settings.poll, interval);
                (c.interval, c.timeout) = (interval, timeout);
            }
            None => {
                *checks = Some(Checks {
                    inner: connection.destinations(id, &settings.poll, interval),
                    interval,
                    timeout,
                });
            }
        }
    }

    /// The status of each destination of each read pool, in the order of the pool's
    /// destinations: `concurrency` pools at a time, each pool's destinations one after
    /// the other (a pool has at most a few). `account` is the pools' account.
    pub(super) async fn statuses<T>(
        &self,
        account: &str,
        pools: Vec<(T, LogDelivery)>,
        concurrency: usize,
    ) -> Vec<(T, LogDelivery, Vec<DestinationStatus>)> {
        stream::iter(pools)
            .map(|(key, delivery)| async move {
                let mut statuses = Vec::with_capacity(delivery.destinations().len());
                for destination in delivery.destinations() {
                    statuses.push(self.inner.status(account, destination).await);
                }
                (key, delivery, statuses)
            })
            .buffer_unordered(concurrency)
            .collect()
            .await
    }
}

/// What the last steps of folding a cycle need: the target's identity, the rules, and
/// whether destinations are checked at all.
#[derive(Clone, Copy, Debug)]
pub(super) struct Judge<'a> {
    pub(super) id: &'a TargetId,
    pub(super) rules: &'a [PolicyRule],
    pub(super) checks: bool,
}

impl Judge<'_> {
    /// Completes a folded record: without checks it shows no statuses; it gets the
    /// verdict of each rule that selects it (none when it is stale: its configuration
    /// is not known well enough to judge). A rule that needs a check the pool does not
    /// have yet (checks just turned on, and the pool's reads failing since) keeps the
    /// verdict it had, or has none: never a guess.
    pub(super) fn complete(&self, record: &mut PoolRecord) {
        if !self.checks {
            record.statuses.clear();
        }
        let before = std::mem::take(&mut record.verdicts);
        let Some(delivery) = &record.delivery else {
            return;
        };
        let checked = record.statuses.len() == delivery.destinations().len();
        let facts = PoolFacts {
            account_id: &self.id.account_id,
            region: &self.id.region,
            name: &record.name,
            plan: record
                .features
                .as_ref()
                .and_then(|f| f.plan.as_ref())
                .map(|p| p.as_str()),
            delivery,
        };
        let checked_ok = |d: &_| {
            delivery
                .destinations()
                .iter()
                .zip(&record.statuses)
                .any(|(known, status)| known == d && *status == DestinationStatus::Ok)
        };
        let verdicts = self
            .rules
            .iter()
            .filter_map(|rule| {
                if rule.require.status_ok && !checked {
                    // Selected or not is known; compliant is not.
                    return policy::selects(&rule.pools, &facts)
                        .then(|| before.iter().find(|v| *v.rule == *rule.name).cloned())
                        .flatten();
                }
                policy::evaluate(rule, &facts, checked_ok).map(|compliant| Verdict {
                    rule: Arc::from(rule.name.as_str()),
                    compliant,
                })
            })
            .collect();
        record.verdicts = verdicts;
    }
}
