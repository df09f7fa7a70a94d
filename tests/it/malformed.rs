//! Answers missing a member the exporter cannot do without, one member at a time: never
//! read as "nothing configured" or "no pools", always counted as `malformed_response`,
//! failing the pool (or the listing, or the identity) while the last known values stay.

use cognito_sim::{Fault, FaultRule, LogConfiguration};

use crate::harness::*;

const GET: &str = "GetLogDeliveryConfiguration";
const LIST: &str = "ListUserPools";

fn missing(field: &str, op: &str) -> FaultRule {
    FaultRule::new(Fault::MissingField {
        field: field.into(),
    })
    .operation(op)
}

fn configured_pool(sim: &cognito_sim::RunningSim, name: &str) -> String {
    let state = sim.state();
    let pool = state.create_pool(ACCOUNT, REGION, name);
    let arn = format!("arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/cognito/{name}");
    state
        .set_log_configurations(
            ACCOUNT,
            REGION,
            &pool.id,
            vec![LogConfiguration::user_notification(&arn)],
        )
        .expect("a valid configuration");
    pool.id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_delivery_answer_missing_a_member_fails_the_pool_and_keeps_its_matrix() {
    let sim = simulator().await;
    let pool = configured_pool(&sim, "prod-configured");
    let exporter = start(vec![target(&sim)], fast_poll()).await;
    let cell = matrix_series(&pool, "userNotification", "ERROR", "cloudwatch_logs");
    let success = pool_series("cognito_pool_poll_success", &pool, "");
    scrape_until(exporter.addr, "the configured destination", |t| {
        value(t, &cell) == Some(1.0)
    })
    .await;

    let state = sim.state();
    for field in [
        "LogDeliveryConfiguration",
        "LogConfigurations",
        "UserPoolId",
        "LogLevel",
        "EventSource",
    ] {
        let before = errors(&scrape(exporter.addr).await, GET, "malformed_response");
        state
            .set_faults(fault_set(vec![missing(field, GET)]))
            .expect("valid faults");
        let text = scrape_until(
            exporter.addr,
            &format!("the pool failing without {field}"),
            |t| value(t, &success) == Some(0.0),
        )
        .await;
        assert_eq!(
            value(&text, &cell),
            Some(1.0),
            "without {field}: the last known matrix stays, never a false 0\n{text}"
        );
        assert!(
            errors(&text, GET, "malformed_response") > before,
            "without {field}: counted as malformed_response\n{text}"
        );
        assert!(!text.contains(r#"exception="other""#), "{text}");
        state.clear_faults();
        scrape_until(exporter.addr, &format!("recovery after {field}"), |t| {
            value(t, &success) == Some(1.0)
        })
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listing_missing_its_pools_or_their_ids_fails_the_target_and_keeps_every_pool() {
    let sim = simulator().await;
    let pools: Vec<String> = (0..3)
        .map(|i| configured_pool(&sim, &format!("prod-{i}")))
        .collect();
    let exporter = start(vec![target(&sim)], fast_poll()).await;
    let up = target_series("cognito_exporter_target_up", "");
    let count = target_series("cognito_exporter_pools", "");
    scrape_until(exporter.addr, "three pools", |t| {
        value(t, &count) == Some(3.0)
    })
    .await;

    let state = sim.state();
    for field in ["UserPools", "Id"] {
        let before = errors(&scrape(exporter.addr).await, LIST, "malformed_response");
        state
            .set_faults(fault_set(vec![missing(field, LIST)]))
            .expect("valid faults");
        let text = scrape_until(
            exporter.addr,
            &format!("the target down without {field}"),
            |t| value(t, &up) == Some(0.0),
        )
        .await;
        assert_eq!(value(&text, &count), Some(3.0), "no pool vanishes\n{text}");
        for pool in &pools {
            let cell = matrix_series(pool, "userNotification", "ERROR", "cloudwatch_logs");
            assert_eq!(
                value(&text, &cell),
                Some(1.0),
                "{pool} keeps its matrix\n{text}"
            );
        }
        assert!(
            errors(&text, LIST, "malformed_response") > before,
            "without {field}: counted as malformed_response\n{text}"
        );
        state.clear_faults();
        scrape_until(exporter.addr, &format!("recovery after {field}"), |t| {
            value(t, &up) == Some(1.0)
        })
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_description_without_its_pool_is_malformed_and_asked_again() {
    let sim = simulator().await;
    let pool = configured_pool(&sim, "prod-named");
    sim.state()
        .set_faults(fault_set(vec![missing("UserPool", "DescribeUserPool")]))
        .expect("valid faults");
    let mut t = target(&sim);
    t.user_pools = Some(vec![pool.clone()]);
    let exporter = start(vec![t], fast_poll()).await;
    let text = scrape_until(exporter.addr, "the description counted as malformed", |t| {
        errors(t, "DescribeUserPool", "malformed_response") >= 1.0
    })
    .await;
    // Polled under its ID meanwhile, as any pool that cannot be described.
    let by_id = pool_series(
        "cognito_user_pool_info",
        &pool,
        &format!(r#"name="{pool}""#),
    );
    let text = if text.contains(&by_id) {
        text
    } else {
        scrape_until(exporter.addr, "the pool polled under its ID", |t| {
            t.contains(&by_id)
        })
        .await
    };
    assert!(!text.contains(r#"exception="other""#), "{text}");

    // Once it answers whole, the pool gets its name: a failed description is not
    // remembered as the name.
    sim.state().clear_faults();
    let named = pool_series("cognito_user_pool_info", &pool, r#"name="prod-named""#);
    scrape_until(exporter.addr, "the pool's real name", |t| {
        t.contains(&named)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_identity_without_its_account_is_malformed_and_no_account_is_made_up() {
    let sim = simulator().await;
    configured_pool(&sim, "prod-0");
    sim.state()
        .set_faults(fault_set(vec![missing("Account", "GetCallerIdentity")]))
        .expect("valid faults");
    let exporter = start(vec![target(&sim)], fast_poll()).await;
    let unknown_up =
        format!(r#"cognito_exporter_target_up{{aws_account_id="",aws_region="{REGION}"}}"#);
    let malformed = format!(
        r#"cognito_exporter_api_errors_total{{aws_account_id="",aws_region="{REGION}",operation="GetCallerIdentity",exception="malformed_response"}}"#
    );
    let text = scrape_until(exporter.addr, "the identity counted as malformed", |t| {
        value(t, &malformed).is_some_and(|n| n >= 1.0) && value(t, &unknown_up).is_some()
    })
    .await;
    assert_eq!(
        value(&text, &unknown_up),
        Some(0.0),
        "down, not polling\n{text}"
    );
    assert!(
        !text.contains("cognito_user_pool_info{"),
        "no pool under no account\n{text}"
    );
    assert!(
        sim.state().stats().operation(LIST).requests == 0,
        "nothing is polled without an account"
    );

    sim.state().clear_faults();
    scrape_until(exporter.addr, "the account known", |t| {
        value(t, &target_series("cognito_exporter_target_up", "")) == Some(1.0)
    })
    .await;
}
