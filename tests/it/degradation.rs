//! What a scraper sees while parts of AWS fail and after: a failing pool's last data
//! kept until stale then dropped, a failing target down alone, a pool gone between list
//! and read, assumed-role credentials refreshed without a restart.

use std::time::Duration;

use cognito_sim::{ErrorCode, Fault, FaultRule, SimOptions};

use crate::harness::*;

const GET: &str = "GetLogDeliveryConfiguration";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_pools_keep_their_matrix_until_stale_then_lose_it() {
    let sim = simulator().await;
    let state = sim.state();
    let pool = state.create_pool(ACCOUNT, REGION, "prod-0");
    let mut poll = fast_poll();
    // Longer than a failing cycle with its SDK retries and back-off (a few seconds).
    poll.max_staleness = Duration::from_secs(8);
    let exporter = start(vec![target(&sim)], poll).await;
    let cell = matrix_series(&pool.id, "userNotification", "ERROR", "cloudwatch_logs");
    scrape_until(exporter.addr, "the first cycle", |t| {
        value(t, &cell).is_some()
    })
    .await;

    state
        .set_faults(fault_set(vec![
            FaultRule::error(ErrorCode::InternalErrorException).operation(GET),
        ]))
        .expect("valid faults");
    let success = pool_series("cognito_pool_poll_success", &pool.id, "");
    let text = scrape_until(exporter.addr, "the failure", |t| {
        value(t, &success) == Some(0.0)
    })
    .await;
    assert_eq!(
        value(&text, &cell),
        Some(0.0),
        "the last known matrix is kept\n{text}"
    );

    let stale = target_series("cognito_exporter_stale_pools", "");
    let text = scrape_until(exporter.addr, "staleness", |t| {
        value(t, &stale) == Some(1.0)
    })
    .await;
    assert!(
        value(&text, &cell).is_none(),
        "stale log series are dropped\n{text}"
    );
    assert!(
        value(
            &text,
            &pool_series("cognito_pool_last_success_timestamp_seconds", &pool.id, "")
        )
        .is_some()
    );
    assert!(text.contains(&pool_series(
        "cognito_user_pool_info",
        &pool.id,
        r#"name="prod-0""#
    )));

    state.clear_faults();
    let text = scrape_until(exporter.addr, "recovery", |t| value(t, &stale) == Some(0.0)).await;
    assert_eq!(value(&text, &cell), Some(0.0));
    assert_eq!(value(&text, &success), Some(1.0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_target_is_down_alone_and_readiness_stays() {
    let sim = simulator_with(SimOptions {
        regions: vec![REGION.into(), "us-east-1".into()],
        pools_per_region: 3,
        ..SimOptions::default()
    })
    .await;
    let other = cognito_exporter::config::TargetConfig {
        region: Some("us-east-1".into()),
        endpoint_url: Some(sim.endpoint_url()),
        ..cognito_exporter::config::TargetConfig::default()
    };
    let exporter = start(vec![target(&sim), other], fast_poll()).await;
    let up = |region: &str| {
        format!(r#"cognito_exporter_target_up{{aws_account_id="{ACCOUNT}",aws_region="{region}"}}"#)
    };
    scrape_until(exporter.addr, "both targets up", |t| {
        value(t, &up(REGION)) == Some(1.0) && value(t, &up("us-east-1")) == Some(1.0)
    })
    .await;
    assert_eq!(
        request(exporter.addr, "GET", "/-/ready", &[]).await.status,
        200
    );

    state_fault_region(&sim, "us-east-1");
    let text = scrape_until(exporter.addr, "us-east-1 down", |t| {
        value(t, &up("us-east-1")) == Some(0.0)
    })
    .await;
    assert_eq!(value(&text, &up(REGION)), Some(1.0), "{text}");
    assert_eq!(
        request(exporter.addr, "GET", "/-/ready", &[]).await.status,
        200,
        "readiness is kept"
    );
    assert!(
        text.contains(r#"aws_region="us-east-1",operation="ListUserPools",exception="UnrecognizedClientException"}"#),
        "{text}"
    );

    sim.state().clear_faults();
    scrape_until(exporter.addr, "us-east-1 back", |t| {
        value(t, &up("us-east-1")) == Some(1.0)
    })
    .await;
}

fn state_fault_region(sim: &cognito_sim::RunningSim, region: &str) {
    sim.state()
        .set_faults(fault_set(vec![
            FaultRule::error(ErrorCode::UnrecognizedClientException).region(region),
        ]))
        .expect("valid faults");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pool_deleted_between_list_and_read_vanishes_at_once() {
    let sim = simulator().await;
    let state = sim.state();
    for i in 0..3 {
        state.create_pool(ACCOUNT, REGION, &format!("prod-{i}"));
    }
    let exporter = start(vec![target(&sim)], fast_poll()).await;
    let pools = target_series("cognito_exporter_pools", "");
    scrape_until(exporter.addr, "three pools", |t| {
        value(t, &pools) == Some(3.0)
    })
    .await;
    state
        .set_faults(fault_set(vec![
            FaultRule::new(Fault::DeleteAfterList).count(1),
        ]))
        .expect("valid faults");
    let text = scrape_until(exporter.addr, "two pools", |t| {
        value(t, &pools) == Some(2.0)
    })
    .await;
    assert!(
        errors(&text, GET, "ResourceNotFoundException") >= 1.0,
        "{text}"
    );
    assert_eq!(state.pools(ACCOUNT, REGION).len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assumed_role_credentials_are_refreshed_without_a_restart() {
    let sim = simulator_with(SimOptions {
        regions: vec![],
        // Shorter than the SDK's refresh margin: every few calls need fresh credentials.
        assume_role_lifetime: Duration::from_secs(12),
        ..SimOptions::default()
    })
    .await;
    let role_account = "210987654321";
    sim.state()
        .create_pool(role_account, REGION, "prod-elsewhere");
    let mut t = target(&sim);
    t.role_arn = Some(format!("arn:aws:iam::{role_account}:role/cognito-exporter"));
    let exporter = start(vec![t], fast_poll()).await;

    let up = format!(
        r#"cognito_exporter_target_up{{aws_account_id="{role_account}",aws_region="{REGION}"}}"#
    );
    scrape_until(exporter.addr, "the role's account", |t| {
        value(t, &up) == Some(1.0)
    })
    .await;
    wait_until(
        "the credentials to be refreshed (a second AssumeRole)",
        Duration::from_secs(20),
        async || match sim.state().stats().operation("AssumeRole").requests {
            n if n >= 2 => Ok(()),
            n => Err(format!("{n} AssumeRole request(s)")),
        },
    )
    .await;
    // A cycle that started after the refresh still finds the target up.
    let last = format!(
        r#"cognito_exporter_last_poll_timestamp_seconds{{aws_account_id="{role_account}",aws_region="{REGION}"}}"#
    );
    let before = value(&scrape(exporter.addr).await, &last);
    let text = scrape_until(exporter.addr, "a cycle after the refresh", |t| {
        value(t, &last) != before
    })
    .await;
    assert_eq!(value(&text, &up), Some(1.0));
    assert!(!text.contains("ExpiredTokenException"), "{text}");
}
