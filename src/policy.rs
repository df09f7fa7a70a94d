//! The declared logging policy, evaluated: whether a rule of `policy.rules` selects a
//! pool, and whether the pool complies with it. Pure: the facts come from the caller
//! (the pool's last known configuration, its plan, which of its destinations were
//! checked ok), and it knows nothing of AWS or of metrics, so any stage may call it.

use crate::config::{PolicyRule, PoolSelector, Requirement};
use crate::model::{Destination, LogDelivery};

/// What a rule looks at in one pool.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PoolFacts<'a> {
    pub(crate) account_id: &'a str,
    pub(crate) region: &'a str,
    /// The pool's name, which `pools.name` matches.
    pub(crate) name: &'a str,
    /// `UserPoolTier`, when the pool has been described.
    pub(crate) plan: Option<&'a str>,
    /// The pool's last known log-delivery configuration.
    pub(crate) delivery: &'a LogDelivery,
}

/// `None` when `rule` does not select the pool (it has no series for the rule), else
/// whether the pool complies. `checked_ok` says whether a destination's last check
/// said `ok`; with no check (checks off, or not checked yet) it says no, and a rule
/// with `status_ok` then finds no compliant destination.
pub(crate) fn evaluate(
    rule: &PolicyRule,
    pool: &PoolFacts<'_>,
    checked_ok: impl Fn(&Destination) -> bool,
) -> Option<bool> {
    selects(&rule.pools, pool).then(|| complies(&rule.require, pool.delivery, checked_ok))
}

/// Whether every field the selector gives matches the pool. A pool whose plan is not
/// known is not selected by a selector with `plans`: being wrong about a plan would put
/// the pool under a rule it may not be held to.
pub(crate) fn selects(selector: &PoolSelector, pool: &PoolFacts<'_>) -> bool {
    let listed = |list: &Option<Vec<String>>, value: &str| {
        list.as_ref()
            .is_none_or(|items| items.iter().any(|item| item == value))
    };
    selector
        .name
        .as_ref()
        .is_none_or(|re| re.is_match(pool.name))
        && listed(&selector.accounts, pool.account_id)
        && listed(&selector.regions, pool.region)
        && selector.plans.as_ref().is_none_or(|plans| {
            pool.plan
                .is_some_and(|plan| plans.iter().any(|p| p == plan))
        })
}

/// Whether some destination has the required source and kind, and, with `status_ok`,
/// a check that said ok.
pub(crate) fn complies(
    require: &Requirement,
    delivery: &LogDelivery,
    checked_ok: impl Fn(&Destination) -> bool,
) -> bool {
    delivery.destinations().iter().any(|d| {
        d.source == require.source
            && require.kind.is_none_or(|kind| d.kind == kind)
            && (!require.status_ok || checked_ok(d))
    })
}

#[cfg(test)]
mod tests;
