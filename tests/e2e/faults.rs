//! The exporter against a faulting simulator: every failed attempt counted under its
//! exception, exactly as many as were injected; failures confined to what failed.

use std::time::Duration;

use cognito_sim::{EnumField, ErrorCode, Fault, FaultRule, FaultSet, RateLimit, SimOptions};

use crate::harness::*;

const GET: &str = "GetLogDeliveryConfiguration";

fn rules(rules: Vec<FaultRule>) -> FaultSet {
    FaultSet {
        rules,
        ..FaultSet::default()
    }
}

/// A poll slow enough that a scrape can land between two cycles.
fn calm_poll() -> cognito_exporter::config::PollConfig {
    let mut poll = fast_poll();
    poll.interval = Duration::from_secs(1);
    poll
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_injected_error_is_counted_once_under_its_code() {
    let sim = simulator().await;
    let state = sim.state();
    for i in 0..4 {
        state.create_pool(ACCOUNT, REGION, &format!("prod-{i}"));
    }
    let codes = [
        "InvalidParameterException",
        "InternalErrorException",
        "TooManyRequestsException",
        "NotAuthorizedException",
        "ResourceNotFoundException",
        "AccessDeniedException",
        "UnrecognizedClientException",
        "ExpiredTokenException",
        "ThrottlingException",
    ];
    let injected = codes
        .iter()
        .map(|c| {
            FaultRule::error(c.parse::<ErrorCode>().expect("a known code"))
                .operation(GET)
                .count(2)
        })
        .collect();
    state.set_faults(rules(injected)).expect("valid faults");
    let exporter = start(vec![target(&sim)], calm_poll()).await;

    // 18 faults over 4 pools per cycle: all are spent within a few cycles.
    let text = scrape_until(exporter.addr, "every fault counted", |t| {
        codes.iter().map(|c| errors(t, GET, c)).sum::<f64>() >= 18.0
    })
    .await;
    let stats = state.stats().operation(GET);
    for code in codes {
        assert_eq!(stats.injected(code), 2, "{code} injected");
        assert_eq!(errors(&text, GET, code), 2.0, "{code} counted\n{text}");
    }
    // Attempts, retries included, match what the simulator received.
    let text = scrape_between_cycles(exporter.addr).await;
    assert_eq!(
        requests(&text, GET) as u64,
        state.stats().operation(GET).requests
    );
    assert!(!text.contains(r#"exception="other""#), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_answers_are_counted_and_fail_only_their_pool() {
    let sim = simulator().await;
    let state = sim.state();
    let pools: Vec<_> = (0..5)
        .map(|i| state.create_pool(ACCOUNT, REGION, &format!("prod-{i}")))
        .collect();
    let exporter = start(vec![target(&sim)], calm_poll()).await;
    scrape_between_cycles(exporter.addr).await;

    let faults = vec![
        FaultRule::new(Fault::TruncatedJson).operation(GET).count(1),
        FaultRule::new(Fault::Html502).operation(GET).count(1),
        FaultRule::new(Fault::UnknownEnum {
            field: EnumField::LogLevel,
        })
        .operation(GET)
        .count(1),
        FaultRule::new(Fault::UnknownEnum {
            field: EnumField::EventSource,
        })
        .operation(GET)
        .count(1),
        FaultRule::new(Fault::MissingField {
            field: "LogLevel".into(),
        })
        .operation(GET)
        .count(1),
    ];
    state.set_faults(rules(faults)).expect("valid faults");
    let text = scrape_until(exporter.addr, "five malformed answers", |t| {
        errors(t, GET, "malformed_response") >= 5.0
    })
    .await;
    assert_eq!(errors(&text, GET, "malformed_response"), 5.0, "{text}");
    assert!(!text.contains(r#"exception="other""#), "{text}");

    // Once the faults are spent every pool reads again; nothing else was disturbed.
    scrape_between_cycles(exporter.addr).await;
    let text = scrape_between_cycles(exporter.addr).await;
    for pool in &pools {
        assert_eq!(
            value(
                &text,
                &pool_series("cognito_pool_poll_success", &pool.id, "")
            ),
            Some(1.0)
        );
    }
    assert_eq!(
        value(&text, &target_series("cognito_exporter_target_up", "")),
        Some(1.0)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resets_and_stalls_count_as_connection_and_timeout() {
    let sim = simulator().await;
    let state = sim.state();
    state.create_pool(ACCOUNT, REGION, "prod-0");
    let mut poll = calm_poll();
    poll.timeout = Duration::from_secs(3); // one attempt: 1 s
    let exporter = start(vec![target(&sim)], poll).await;
    scrape_between_cycles(exporter.addr).await;

    // One at a time: a stall delays the request a reset would have broken.
    let faults = [
        // Mid-response, so the attempt has certainly reached the server; a connection
        // found closed before the request was written is resent by the HTTP client on
        // its own, below the SDK, and is no attempt.
        (
            "reset",
            Fault::Reset {
                after_bytes: Some(10),
            },
            "connection",
        ),
        (
            "stall",
            Fault::Stall {
                duration: Duration::from_secs(2),
            },
            "timeout",
        ),
    ];
    for (kind, fault, label) in faults {
        state
            .set_faults(rules(vec![FaultRule::new(fault).operation(GET).count(1)]))
            .expect("valid faults");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        while state.stats().operation(GET).injected(kind) < 1 {
            assert!(tokio::time::Instant::now() < deadline, "no {kind} injected");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let text = scrape_between_cycles(exporter.addr).await;
        assert_eq!(state.stats().operation(GET).injected(kind), 1);
        assert_eq!(
            errors(&text, GET, label),
            1.0,
            "{kind} counted as {label}\n{text}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttled_below_the_configured_rate_every_pool_is_still_read() {
    let sim = simulator().await;
    let state = sim.state();
    for i in 0..40 {
        state.create_pool(ACCOUNT, REGION, &format!("prod-{i:02}"));
    }
    state
        .set_faults(FaultSet {
            rate_limit: Some(RateLimit {
                per_second: 20.0,
                burst: Some(1),
            }),
            ..FaultSet::default()
        })
        .expect("valid faults");
    let mut poll = fast_poll();
    poll.requests_per_second = 40.0; // twice what the server allows
    poll.interval = Duration::from_secs(30);
    poll.timeout = Duration::from_secs(20);
    let exporter = start(vec![target(&sim)], poll).await;

    let up = target_series("cognito_exporter_target_up", "");
    let text = scrape_until(exporter.addr, "the first cycle", |t| {
        value(t, &up).is_some()
    })
    .await;
    let read = text
        .lines()
        .filter(|l| l.starts_with("cognito_pool_poll_success{") && l.ends_with(" 1"))
        .count();
    assert_eq!(read, 40, "every pool read despite throttling\n{text}");
    let throttled = errors(&text, GET, "TooManyRequestsException")
        + errors(&text, "ListUserPools", "TooManyRequestsException");
    assert!(throttled > 0.0, "the server did throttle\n{text}");
    let sim_throttled: u64 = ["ListUserPools", GET]
        .iter()
        .map(|op| {
            state
                .stats()
                .operation(op)
                .errors("TooManyRequestsException")
        })
        .sum();
    assert_eq!(
        throttled as u64, sim_throttled,
        "every throttled attempt counted"
    );
    let waited = value(
        &text,
        &target_series("cognito_exporter_rate_limiter_wait_seconds_total", ""),
    )
    .expect("limiter wait is exported");
    assert!(waited > 0.0);
}

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
        .set_faults(rules(vec![
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
        .set_faults(rules(vec![
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
        .set_faults(rules(vec![FaultRule::new(Fault::DeleteAfterList).count(1)]))
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
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while sim.state().stats().operation("AssumeRole").requests < 2 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "credentials were never refreshed"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
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
