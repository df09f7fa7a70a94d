//! `DescribeUserPool`: a pool's name, feature plan and threat protection, and when to ask
//! again. It counts against the same read quota as every other call, so a pool is
//! described when first seen, when `ListUserPools` shows its `LastModifiedDate` moved,
//! the cycle after a failed describe, and otherwise every `poll.describe_interval`; those
//! periodic describes are capped per cycle at the share of the pools one interval owes
//! (most overdue first), so that pools seen together are not all described again in one
//! cycle.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_cognitoidentityprovider::primitives::DateTime;
use futures_util::{StreamExt, stream};
use tokio::time::Instant;

use super::convert::{self, Description};
use super::discover::Listed;
use crate::aws::errors::Failure;
use crate::aws::{Cognito, Limiter};
use crate::model::Features;

const OPERATION: &str = "DescribeUserPool";

/// What the describes of one pool left.
#[derive(Debug, Default)]
pub(super) struct Described {
    /// `UserPoolType.Name` from the last successful describe.
    pub(super) name: Option<Arc<str>>,
    /// The plan and add-ons of the last successful describe, kept through failures.
    pub(super) features: Option<Features>,
    /// The `LastModifiedDate` the listing showed at the last successful describe.
    pub(super) modified: Option<DateTime>,
    /// When the last successful describe answered.
    pub(super) at: Option<Instant>,
    /// The last describe failed: the next cycle asks again.
    pub(super) failed: bool,
}

/// The pools of `pools` to describe this cycle, urgent ones (never described, changed
/// according to the listing, failed last time) first, then as many overdue ones as the
/// cap allows, most overdue first.
pub(super) fn due(
    memo: &HashMap<Arc<str>, Described>,
    pools: &[Listed],
    now: Instant,
    interval: Duration,
    describe_interval: Duration,
) -> Vec<(Arc<str>, Option<DateTime>)> {
    let mut urgent = Vec::new();
    let mut overdue = Vec::new();
    for pool in pools {
        let entry = (pool.id.clone(), pool.modified);
        let Some((d, at)) = memo.get(&pool.id).and_then(|d| Some((d, d.at?))) else {
            urgent.push(entry);
            continue;
        };
        if d.failed || pool.modified.is_some_and(|m| Some(m) != d.modified) {
            urgent.push(entry);
        } else if now.duration_since(at) >= describe_interval {
            overdue.push((at, entry));
        }
    }
    overdue.sort_by_key(|(at, _)| *at);
    overdue.truncate(periodic_cap(pools.len(), interval, describe_interval));
    urgent.extend(overdue.into_iter().map(|(_, entry)| entry));
    urgent
}

/// How many periodic describes one cycle may make: `pools` spread over the cycles of one
/// `describe_interval`, rounded up so they all fit.
pub(super) fn periodic_cap(pools: usize, interval: Duration, describe_interval: Duration) -> usize {
    let share = pools as f64 * interval.as_secs_f64() / describe_interval.as_secs_f64();
    // Bounded by `pools` (the quotient exceeds it only when describing each pool every
    // cycle and more), so the cast cannot overflow.
    share.ceil().min(pools as f64) as usize
}

/// Describes `pools`, at most `concurrency` at once.
pub(super) async fn describe(
    cognito: &Cognito,
    pace: &Limiter,
    pools: Vec<(Arc<str>, Option<DateTime>)>,
    concurrency: usize,
) -> Vec<(Arc<str>, Option<DateTime>, Result<Description, Failure>)> {
    stream::iter(pools)
        .map(|(id, modified)| async move {
            let _admitted = pace.admit().await;
            // Boxed once admitted: the slots still waiting for their turn stay small.
            let call = cognito
                .client()
                .describe_user_pool()
                .user_pool_id(&*id)
                .customize()
                .config_override(cognito.overrides())
                .send();
            let answer = Box::pin(call)
                .await
                .map(|out| convert::description(&out))
                .map_err(|e| Failure::of(OPERATION, &e));
            (id, modified, answer)
        })
        .buffer_unordered(concurrency)
        .collect()
        .await
}

/// Remembers what a describe of `pool` answered at `now`: an answer replaces what was
/// known, a failure keeps it and asks for the pool again next cycle.
pub(super) fn record(
    memo: &mut HashMap<Arc<str>, Described>,
    pool: &Arc<str>,
    modified: Option<DateTime>,
    answer: Result<&Description, &Failure>,
    now: Instant,
) {
    let entry = memo.entry(pool.clone()).or_default();
    match answer {
        Ok(description) => {
            *entry = Described {
                name: description.name.clone(),
                features: Some(description.features.clone()),
                modified,
                at: Some(now),
                failed: false,
            };
        }
        Err(_) => entry.failed = true,
    }
}

/// Forgets the pools no longer listed (or configured), so the memory follows the account.
pub(super) fn forget_unlisted(memo: &mut HashMap<Arc<str>, Described>, listed: &[Listed]) {
    let keep: HashSet<&Arc<str>> = listed.iter().map(|p| &p.id).collect();
    memo.retain(|k, _| keep.contains(k));
}

#[cfg(test)]
mod tests;
