//! Folding outcomes: staleness, gone pools, failed listings and the change audit.

use std::sync::LazyLock;

use super::*;
use crate::model::TargetId;

/// A judge with no rules and no checks.
fn judge() -> Judge<'static> {
    static ID: LazyLock<TargetId> = LazyLock::new(|| TargetId::new("123456789012", "eu-west-1"));
    Judge {
        id: &ID,
        rules: &[],
        checks: false,
    }
}

fn read() -> PoolOutcome {
    PoolOutcome::Read(LogDelivery::default(), Vec::new())
}

fn outcome(id: &str, o: PoolOutcome) -> (Arc<str>, Arc<str>, PoolOutcome) {
    (Arc::from(id), Arc::from(format!("name-{id}")), o)
}

fn failed() -> PoolOutcome {
    PoolOutcome::Failed(Failure::bare("GetLogDeliveryConfiguration", "timeout"))
}

#[tokio::test(start_paused = true)]
async fn failed_pools_keep_their_matrix_until_stale() {
    let mut state = TargetState::default();
    let staleness = Duration::from_secs(900);
    let _ = fold(
        &mut state,
        vec![outcome("a", read()), outcome("b", read())],
        staleness,
        &judge(),
    );

    tokio::time::advance(Duration::from_secs(600)).await;
    let _ = fold(
        &mut state,
        vec![outcome("a", failed()), outcome("b", read())],
        staleness,
        &judge(),
    );
    let a = &state.pools["a"].record;
    assert!(!a.success && a.delivery.is_some() && !a.is_stale());

    tokio::time::advance(Duration::from_secs(301)).await;
    let _ = fold(
        &mut state,
        vec![outcome("a", failed()), outcome("b", read())],
        staleness,
        &judge(),
    );
    let a = &state.pools["a"].record;
    assert!(a.is_stale(), "{a:?}");
    assert!(a.last_success.is_some(), "the last success time stays");
}

#[tokio::test(start_paused = true)]
async fn a_first_failure_keeps_the_matrix_even_past_max_staleness() {
    let mut state = TargetState::default();
    let staleness = Duration::from_secs(5);
    let _ = fold(&mut state, vec![outcome("a", read())], staleness, &judge());
    tokio::time::advance(Duration::from_secs(20)).await; // a slow cycle
    let _ = fold(
        &mut state,
        vec![outcome("a", failed())],
        staleness,
        &judge(),
    );
    assert!(!state.pools["a"].record.is_stale());
    let _ = fold(
        &mut state,
        vec![outcome("a", failed())],
        staleness,
        &judge(),
    );
    assert!(state.pools["a"].record.is_stale());
}

#[tokio::test(start_paused = true)]
async fn a_cycle_that_read_nothing_keeps_every_pool() {
    let mut state = TargetState::default();
    let staleness = Duration::from_secs(900);
    let _ = fold(
        &mut state,
        vec![outcome("a", read()), outcome("b", read())],
        staleness,
        &judge(),
    );
    fail_all(&mut state, "ListUserPools", "timeout", staleness, &judge());
    assert_eq!(state.pools.len(), 2);
    for record in state.pools.values().map(|m| &m.record) {
        assert!(!record.success && !record.is_stale(), "{record:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn gone_and_unlisted_pools_leave_at_once() {
    let mut state = TargetState::default();
    let staleness = Duration::from_secs(900);
    let _ = fold(
        &mut state,
        vec![
            outcome("a", read()),
            outcome("b", read()),
            outcome("c", read()),
        ],
        staleness,
        &judge(),
    );
    let _ = fold(
        &mut state,
        vec![outcome("a", read()), outcome("b", PoolOutcome::Gone)],
        staleness,
        &judge(),
    );
    assert_eq!(state.pools.keys().map(|k| &**k).collect::<Vec<_>>(), ["a"]);
}

fn configured(arn: &str) -> PoolOutcome {
    PoolOutcome::Read(
        LogDelivery::new(vec![crate::model::Destination {
            source: crate::model::Source::UserNotification,
            level: crate::model::Level::Error,
            kind: crate::model::Kind::CloudwatchLogs,
            arn: arn.into(),
        }]),
        Vec::new(),
    )
}

#[tokio::test(start_paused = true)]
async fn a_change_is_counted_once_and_never_at_the_first_read() {
    let mut state = TargetState::default();
    let staleness = Duration::from_secs(900);
    let changes = fold(
        &mut state,
        vec![outcome("a", configured("arn:1"))],
        staleness,
        &judge(),
    );
    assert!(changes.is_empty(), "the first read is no change");
    let a = &state.pools["a"].record;
    assert_eq!((a.log_changes, a.last_change), (Some(0), None));

    let changes = fold(
        &mut state,
        vec![outcome("a", configured("arn:1"))],
        staleness,
        &judge(),
    );
    assert!(changes.is_empty());
    let changes = fold(&mut state, vec![outcome("a", read())], staleness, &judge());
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].before, {
        let PoolOutcome::Read(d, _) = configured("arn:1") else {
            unreachable!()
        };
        d
    });
    assert_eq!(changes[0].after, LogDelivery::default());
    let a = &state.pools["a"].record;
    assert_eq!(a.log_changes, Some(1));
    let at = a.last_change.expect("a change seen");
    let changes = fold(&mut state, vec![outcome("a", read())], staleness, &judge());
    assert!(changes.is_empty(), "counted once");
    let a = &state.pools["a"].record;
    assert_eq!((a.log_changes, a.last_change), (Some(1), Some(at)));
}

#[tokio::test(start_paused = true)]
async fn a_read_after_failures_compares_with_the_last_successful_one_even_past_staleness() {
    let mut state = TargetState::default();
    let staleness = Duration::from_secs(5);
    let _ = fold(
        &mut state,
        vec![outcome("a", configured("arn:1"))],
        staleness,
        &judge(),
    );
    for _ in 0..3 {
        tokio::time::advance(Duration::from_secs(10)).await;
        let changes = fold(
            &mut state,
            vec![outcome("a", failed())],
            staleness,
            &judge(),
        );
        assert!(changes.is_empty());
    }
    let a = &state.pools["a"].record;
    assert!(a.is_stale());
    assert_eq!(a.log_changes, Some(0), "a stale pool keeps its counter");
    let changes = fold(
        &mut state,
        vec![outcome("a", configured("arn:2"))],
        staleness,
        &judge(),
    );
    assert_eq!(changes.len(), 1);
    assert_eq!(state.pools["a"].record.log_changes, Some(1));
    // Back to what it was before the failures: a change again.
    let _ = fold(
        &mut state,
        vec![outcome("a", failed())],
        staleness,
        &judge(),
    );
    let changes = fold(
        &mut state,
        vec![outcome("a", configured("arn:2"))],
        staleness,
        &judge(),
    );
    assert!(changes.is_empty(), "same as the last successful read");
}

#[tokio::test(start_paused = true)]
async fn features_show_while_the_pool_is_not_stale() {
    let mut state = TargetState::default();
    let staleness = Duration::from_secs(5);
    let features = crate::model::Features {
        plan: Some(crate::model::Plan::Plus),
        threat_protection: crate::model::ThreatProtection::Enforced,
    };
    state.described.insert(
        Arc::from("a"),
        super::super::describe::Described {
            features: Some(features.clone()),
            ..Default::default()
        },
    );
    let _ = fold(
        &mut state,
        vec![outcome("a", read()), outcome("b", read())],
        staleness,
        &judge(),
    );
    assert_eq!(state.pools["a"].record.features, Some(features.clone()));
    assert_eq!(state.pools["b"].record.features, None, "never described");
    tokio::time::advance(Duration::from_secs(10)).await;
    let _ = fold(
        &mut state,
        vec![outcome("a", failed())],
        staleness,
        &judge(),
    );
    assert_eq!(
        state.pools["a"].record.features,
        Some(features),
        "first failure"
    );
    let _ = fold(
        &mut state,
        vec![outcome("a", failed())],
        staleness,
        &judge(),
    );
    assert!(state.pools["a"].record.is_stale());
    assert_eq!(state.pools["a"].record.features, None, "stale");
}
