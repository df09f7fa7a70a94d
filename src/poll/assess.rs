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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{PoolSelector, Requirement};
    use crate::model::{Destination, Kind, Level, Source};

    const ARN: &str = "arn:aws:logs:eu-west-1:123456789012:log-group:/cognito/errors";

    fn rule(name: &str, status_ok: bool) -> PolicyRule {
        PolicyRule {
            name: name.to_owned(),
            pools: PoolSelector {
                name: Some(regex::Regex::new("^prod-").expect("regex")),
                ..PoolSelector::default()
            },
            require: Requirement {
                source: Source::UserNotification,
                kind: Some(Kind::CloudwatchLogs),
                status_ok,
            },
        }
    }

    fn record(name: &str, statuses: Vec<DestinationStatus>, verdicts: Vec<Verdict>) -> PoolRecord {
        PoolRecord {
            id: Arc::from("eu-west-1_A"),
            name: Arc::from(name),
            delivery: Some(LogDelivery::new(vec![Destination {
                source: Source::UserNotification,
                level: Level::Error,
                kind: Kind::CloudwatchLogs,
                arn: ARN.to_owned(),
            }])),
            success: false,
            last_success: Some(1.0),
            features: None,
            log_changes: Some(0),
            last_change: None,
            statuses,
            verdicts,
        }
    }

    fn verdict(rule: &str, compliant: bool) -> Verdict {
        Verdict {
            rule: Arc::from(rule),
            compliant,
        }
    }

    #[test]
    fn a_rule_needing_a_check_not_made_keeps_its_verdict_or_has_none() {
        let id = TargetId::new("123456789012", "eu-west-1");
        let rules = [rule("plain", false), rule("delivered", true)];
        let judge = Judge {
            id: &id,
            rules: &rules,
            checks: true,
        };
        // Checked: both judged.
        let mut checked = record("prod-a", vec![DestinationStatus::NotFound], Vec::new());
        judge.complete(&mut checked);
        assert_eq!(
            checked.verdicts,
            [verdict("plain", true), verdict("delivered", false)]
        );
        // Not checked, with a verdict from before: kept, never guessed.
        let mut kept = record("prod-a", Vec::new(), vec![verdict("delivered", true)]);
        judge.complete(&mut kept);
        assert_eq!(
            kept.verdicts,
            [verdict("plain", true), verdict("delivered", true)]
        );
        // Not checked and nothing known: no verdict for that rule.
        let mut unknown = record("prod-a", Vec::new(), Vec::new());
        judge.complete(&mut unknown);
        assert_eq!(unknown.verdicts, [verdict("plain", true)]);
        // A pool the rules do not select keeps nothing from before.
        let mut other = record("dev-a", Vec::new(), vec![verdict("delivered", true)]);
        judge.complete(&mut other);
        assert!(other.verdicts.is_empty());
        // A stale pool: no verdicts.
        let mut stale = record("prod-a", Vec::new(), vec![verdict("plain", true)]);
        stale.delivery = None;
        judge.complete(&mut stale);
        assert!(stale.verdicts.is_empty());
    }

    #[test]
    fn checks_turned_off_drop_the_statuses() {
        let id = TargetId::new("123456789012", "eu-west-1");
        let judge = Judge {
            id: &id,
            rules: &[],
            checks: false,
        };
        let mut pool = record("prod-a", vec![DestinationStatus::Ok], Vec::new());
        judge.complete(&mut pool);
        assert!(pool.statuses.is_empty());
    }
}
