//! When pools are due for a describe: urgent ones always, periodic ones spread.

use super::*;
use crate::model::{Plan, ThreatProtection};

const INTERVAL: Duration = Duration::from_secs(60);
const DAY: Duration = Duration::from_secs(24 * 3600);

fn listed(n: usize, modified: i64) -> Vec<Listed> {
    (0..n)
        .map(|i| Listed {
            id: Arc::from(format!("eu-west-1_{i:05}")),
            name: Some(Arc::from(format!("pool-{i}"))),
            modified: Some(DateTime::from_secs(modified)),
        })
        .collect()
}

fn answer() -> Description {
    Description {
        name: Some(Arc::from("pool")),
        features: Features {
            plan: Some(Plan::Essentials),
            threat_protection: ThreatProtection::Off,
        },
    }
}

/// Describes what `due` says, every answer a success but those in `failing`.
fn run_cycle(
    memo: &mut HashMap<Arc<str>, Described>,
    pools: &[Listed],
    failing: &[&str],
) -> Vec<Arc<str>> {
    let now = Instant::now();
    let due = due(memo, pools, now, INTERVAL, DAY);
    let failure = Failure::bare(OPERATION, "timeout");
    let answer = answer();
    for (pool, modified) in &due {
        let result = if failing.contains(&&**pool) {
            Err(&failure)
        } else {
            Ok(&answer)
        };
        record(memo, pool, *modified, result, now);
    }
    due.into_iter().map(|(id, _)| id).collect()
}

#[tokio::test(start_paused = true)]
async fn first_seen_pools_are_all_described_then_none_until_due() {
    let mut memo = HashMap::new();
    let pools = listed(500, 1_700_000_000);
    assert_eq!(run_cycle(&mut memo, &pools, &[]).len(), 500, "uncapped");
    tokio::time::advance(INTERVAL).await;
    assert!(run_cycle(&mut memo, &pools, &[]).is_empty());
}

#[tokio::test(start_paused = true)]
async fn periodic_describes_are_spread_over_the_cycles_of_a_describe_interval() {
    let mut memo = HashMap::new();
    let pools = listed(2_000, 1_700_000_000);
    run_cycle(&mut memo, &pools, &[]);
    tokio::time::advance(DAY).await;
    // ceil(2000 × 60 s / 24 h) = 2 per cycle, most overdue first, every pool within
    // one describe interval (1,440 cycles) and none twice.
    let cap = periodic_cap(pools.len(), INTERVAL, DAY);
    assert_eq!(cap, 2);
    let mut seen = std::collections::HashSet::new();
    let mut cycles = 0;
    while seen.len() < pools.len() {
        let due = run_cycle(&mut memo, &pools, &[]);
        assert!(due.len() <= cap, "{} in one cycle", due.len());
        for pool in due {
            assert!(seen.insert(pool.clone()), "{pool} twice in a round");
        }
        cycles += 1;
        assert!(cycles <= 1_440, "not done within a describe interval");
        tokio::time::advance(INTERVAL).await;
    }
}

#[tokio::test(start_paused = true)]
async fn the_most_overdue_go_first() {
    let mut memo = HashMap::new();
    let pools = listed(3, 1_700_000_000);
    run_cycle(&mut memo, &pools[..1], &[]);
    tokio::time::advance(INTERVAL).await;
    run_cycle(&mut memo, &pools, &[]);
    tokio::time::advance(DAY).await;
    // A cap of one (ceil(3 × 60 s / 24 h)): the pool described first goes first.
    assert_eq!(run_cycle(&mut memo, &pools, &[]), [pools[0].id.clone()]);
}

#[tokio::test(start_paused = true)]
async fn a_changed_listing_or_a_failure_is_described_next_cycle_whatever_the_cap() {
    let mut memo = HashMap::new();
    let pools = listed(10, 1_700_000_000);
    run_cycle(&mut memo, &pools, &["eu-west-1_00003"]);
    tokio::time::advance(INTERVAL).await;
    let mut changed = pools.clone();
    for p in &mut changed[5..] {
        p.modified = Some(DateTime::from_secs(1_800_000_000));
    }
    let due = run_cycle(&mut memo, &changed, &[]);
    let ids: Vec<&str> = due.iter().map(|d| &**d).collect();
    assert_eq!(
        ids,
        [
            "eu-west-1_00003",
            "eu-west-1_00005",
            "eu-west-1_00006",
            "eu-west-1_00007",
            "eu-west-1_00008",
            "eu-west-1_00009"
        ]
    );
    tokio::time::advance(INTERVAL).await;
    assert!(run_cycle(&mut memo, &changed, &[]).is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_failure_keeps_what_was_known_and_unlisted_pools_are_forgotten() {
    let mut memo = HashMap::new();
    let pools = listed(2, 1_700_000_000);
    run_cycle(&mut memo, &pools, &[]);
    let mut changed = pools.clone();
    changed[0].modified = Some(DateTime::from_secs(1_800_000_000));
    run_cycle(&mut memo, &changed, &["eu-west-1_00000"]);
    assert!(
        memo[&pools[0].id].features.is_some(),
        "kept through a failure"
    );
    forget_unlisted(&mut memo, &pools[1..]);
    assert_eq!(memo.keys().collect::<Vec<_>>(), [&pools[1].id]);
}

#[test]
fn the_cap_covers_every_pool_within_the_interval_and_never_exceeds_them() {
    assert_eq!(periodic_cap(0, INTERVAL, DAY), 0);
    assert_eq!(periodic_cap(1, INTERVAL, DAY), 1);
    assert_eq!(periodic_cap(10_000, Duration::from_secs(300), DAY), 35);
    assert_eq!(periodic_cap(10, DAY, Duration::from_secs(60)), 10);
}
