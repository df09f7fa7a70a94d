//! Every cycle ends: a page token that never ends is cut off at `poll.cycle_timeout`,
//! one that comes back is refused at once, and either way the target is down for that
//! cycle while its pools keep their last known values.

use std::time::Duration;

use cognito_sim::{Fault, FaultRule};

use crate::harness::*;

const LIST: &str = "ListUserPools";

/// A quick poll whose cycles end after 2 s at the latest; at 20 calls per second an
/// endless listing makes a bounded number of calls before then.
fn bounded_poll() -> cognito_exporter::config::PollConfig {
    let mut poll = fast_poll();
    poll.requests_per_second = 20.0;
    poll.cycle_timeout = Duration::from_secs(2);
    poll
}

fn timeouts() -> String {
    target_series("cognito_exporter_poll_cycle_timeouts_total", "")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_listing_ends_at_the_cycle_timeout_and_the_exporter_gets_ready() {
    let sim = simulator().await;
    sim.state().create_pool(ACCOUNT, REGION, "prod-0");
    sim.state()
        .set_faults(fault_set(vec![FaultRule::new(Fault::EndlessToken)]))
        .expect("valid faults");
    let exporter = start(vec![target(&sim)], bounded_poll()).await;

    // The first cycle never finishes its listing, and still ends.
    wait_until("ready", Duration::from_secs(15), async || {
        match request(exporter.addr, "GET", "/-/ready", &[]).await.status {
            200 => Ok(()),
            status => Err(format!("/-/ready answered {status}")),
        }
    })
    .await;
    let text = scrape_until(exporter.addr, "the cut-short cycle counted", |t| {
        value(t, &timeouts()).is_some_and(|n| n >= 1.0)
    })
    .await;
    assert_eq!(
        value(&text, &target_series("cognito_exporter_target_up", "")),
        Some(0.0),
        "{text}"
    );
    let calls = sim.state().stats().operation(LIST).requests;
    let cycles = value(&scrape(exporter.addr).await, &timeouts()).unwrap_or(0.0);
    // 2 s at 20 calls per second, per cut-short cycle, and one cycle in progress.
    assert!(
        calls as f64 <= (cycles + 1.0) * 40.0 + 5.0,
        "{calls} ListUserPools calls in {cycles} cycles"
    );

    sim.state().clear_faults();
    scrape_until(exporter.addr, "the target back up", |t| {
        value(t, &target_series("cognito_exporter_target_up", "")) == Some(1.0)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_short_cycle_keeps_every_pool() {
    let sim = simulator().await;
    let pools: Vec<_> = (0..3)
        .map(|i| {
            sim.state()
                .create_pool(ACCOUNT, REGION, &format!("prod-{i}"))
        })
        .collect();
    let exporter = start(vec![target(&sim)], bounded_poll()).await;
    let count = target_series("cognito_exporter_pools", "");
    scrape_until(exporter.addr, "three pools", |t| {
        value(t, &count) == Some(3.0)
    })
    .await;

    sim.state()
        .set_faults(fault_set(vec![FaultRule::new(Fault::EndlessToken)]))
        .expect("valid faults");
    let text = scrape_until(exporter.addr, "a cut-short cycle", |t| {
        value(t, &timeouts()).is_some_and(|n| n >= 1.0)
    })
    .await;
    assert_eq!(
        value(&text, &target_series("cognito_exporter_target_up", "")),
        Some(0.0),
        "{text}"
    );
    assert_eq!(value(&text, &count), Some(3.0), "no pool vanishes\n{text}");
    for pool in &pools {
        let success = pool_series("cognito_pool_poll_success", &pool.id, "");
        assert_eq!(value(&text, &success), Some(0.0), "{text}");
        let cell = matrix_series(&pool.id, "userNotification", "ERROR", "cloudwatch_logs");
        assert_eq!(value(&text, &cell), Some(0.0), "the matrix stays\n{text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_token_that_comes_back_fails_the_listing_at_once() {
    let sim = simulator().await;
    let pool = sim.state().create_pool(ACCOUNT, REGION, "prod-0");
    let mut poll = fast_poll();
    poll.interval = Duration::from_secs(1);
    let exporter = start(vec![target(&sim)], poll).await;
    let cell = matrix_series(&pool.id, "userNotification", "ERROR", "cloudwatch_logs");
    scrape_until(exporter.addr, "the first cycle", |t| {
        value(t, &cell).is_some()
    })
    .await;

    sim.state()
        .set_faults(fault_set(vec![FaultRule::new(Fault::LoopingToken)]))
        .expect("valid faults");
    let up = target_series("cognito_exporter_target_up", "");
    let text = scrape_until(exporter.addr, "the listing refused", |t| {
        value(t, &up) == Some(0.0)
    })
    .await;
    let refused = errors(&text, LIST, "malformed_response");
    assert!(refused >= 1.0, "{text}");
    assert_eq!(value(&text, &cell), Some(0.0), "the pool stays\n{text}");
    assert!(
        value(&text, &timeouts()).is_none(),
        "refused, not timed out\n{text}"
    );
    // Each refused listing took two pages: the token, then the same token again. The
    // simulator may have seen the first page of a listing not yet refused.
    let calls = sim
        .state()
        .stats()
        .operation(LIST)
        .injected("looping_token");
    assert!(
        calls as f64 <= 2.0 * refused + 2.0,
        "{calls} looping pages for {refused} refused listings"
    );
}
