//! Destination checks and the declared policy, end to end: each status value produced
//! by a real check of the simulator's CloudWatch Logs, S3 and Firehose through the SDK
//! crates, results kept by ARN (one call for a destination pools share, none again
//! within `checks.interval`), and policy verdicts for selected and unselected pools,
//! with and without `status_ok`.

use cognito_sim::{
    AdvancedSecurityMode, DeliveryStreamStatus, Destination, ErrorCode, FaultRule,
    LogConfiguration, UserPoolTier,
};

use crate::harness::*;

const OTHER_ACCOUNT: &str = "999999999999";

fn log_group(account: &str, name: &str) -> String {
    format!("arn:aws:logs:{REGION}:{account}:log-group:{name}")
}

fn bucket(name: &str) -> String {
    format!("arn:aws:s3:::{name}")
}

fn stream(region: &str, name: &str) -> String {
    format!("arn:aws:firehose:{region}:{ACCOUNT}:deliverystream/{name}")
}

/// The region of the stream whose checks fail: a fault there breaks them alone.
const BROKEN_REGION: &str = "us-east-1";

/// A PLUS pool named `name` with these log configurations; its ID.
fn pool(sim: &cognito_sim::RunningSim, name: &str, configs: Vec<LogConfiguration>) -> String {
    let state = sim.state();
    let pool = state.create_pool(ACCOUNT, REGION, name);
    state
        .set_pool_plan(
            ACCOUNT,
            REGION,
            &pool.id,
            UserPoolTier::Plus,
            Some(AdvancedSecurityMode::Audit),
        )
        .expect("PLUS");
    state
        .set_log_configurations(ACCOUNT, REGION, &pool.id, configs)
        .expect("a valid configuration");
    pool.id
}

fn errors_to(arn: &str) -> Vec<LogConfiguration> {
    vec![LogConfiguration::user_notification(arn)]
}

fn activity_to(destination: Destination) -> Vec<LogConfiguration> {
    vec![LogConfiguration::user_auth_events(destination)]
}

/// The `status` whose series is 1 for the pool's destination of this source and kind,
/// once the seven series are all there with exactly one at 1.
fn status(text: &str, pool: &str, source: &str, kind: &str) -> Option<String> {
    let level = if source == "userNotification" {
        "ERROR"
    } else {
        "INFO"
    };
    let prefix = pool_series(
        "cognito_log_destination_status",
        pool,
        &format!(r#"source="{source}",level="{level}",kind="{kind}",status=""#),
    );
    let prefix = prefix.strip_suffix('}').expect("labels");
    let lines: Vec<&str> = text.lines().filter(|l| l.starts_with(prefix)).collect();
    if lines.is_empty() {
        return None;
    }
    assert_eq!(lines.len(), 7, "{pool} {source} {kind}:\n{text}");
    let on: Vec<&str> = lines
        .iter()
        .filter(|l| l.ends_with(" 1"))
        .map(|l| l[prefix.len()..].split('"').next().expect("status"))
        .collect();
    assert_eq!(on.len(), 1, "{pool} {source} {kind}: {lines:?}");
    Some(on[0].to_owned())
}

fn verdict(text: &str, pool: &str, rule: &str) -> Option<f64> {
    value(
        text,
        &pool_series(
            "cognito_pool_policy_compliant",
            pool,
            &format!(r#"rule="{rule}""#),
        ),
    )
}

fn calls(sim: &cognito_sim::RunningSim, operation: &str) -> u64 {
    sim.state().stats().operation(operation).requests
}

fn yaml(sim: &cognito_sim::RunningSim, checks: bool, policy: &str) -> String {
    format!(
        "poll:\n  interval: 1s\n  requests_per_second: 500\n  concurrency: 4\n  max_staleness: 5s\n\
         checks:\n  destinations: {checks}\n  interval: 1h\n\
         targets:\n  - region: {REGION}\n    endpoint_url: {}\n{policy}",
        sim.endpoint_url()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_status_comes_from_a_real_check_and_is_kept_by_arn() {
    let sim = simulator().await;
    let state = sim.state();
    state.create_log_group(ACCOUNT, REGION, "/cognito/ok", None);
    state.create_log_group(ACCOUNT, REGION, "/cognito/kms", Some("alias/logs"));
    state.create_log_group(ACCOUNT, REGION, "/cognito/refused", None);
    state.refuse_destination(&log_group(ACCOUNT, "/cognito/refused"), true);
    state
        .create_bucket(ACCOUNT, REGION, "activity-ok")
        .expect("bucket");
    state.create_delivery_stream(ACCOUNT, REGION, "creating");
    state.set_delivery_stream_status(ACCOUNT, REGION, "creating", DeliveryStreamStatus::Creating);
    state.create_delivery_stream(ACCOUNT, BROKEN_REGION, "broken");
    state
        .set_faults(fault_set(vec![
            FaultRule::error(ErrorCode::InternalErrorException)
                .operation("DescribeDeliveryStream")
                .account(ACCOUNT)
                .region(BROKEN_REGION),
        ]))
        .expect("faults");
    let ok = log_group(ACCOUNT, "/cognito/ok");
    // (pool, source, kind, status): every value the family has.
    let cases = [
        (
            pool(&sim, "ok", errors_to(&ok)),
            "userNotification",
            "cloudwatch_logs",
            "ok",
        ),
        // A second pool on the same group: one check for both.
        (
            pool(&sim, "ok-shared", errors_to(&ok)),
            "userNotification",
            "cloudwatch_logs",
            "ok",
        ),
        (
            pool(
                &sim,
                "missing",
                errors_to(&log_group(ACCOUNT, "/cognito/none")),
            ),
            "userNotification",
            "cloudwatch_logs",
            "not_found",
        ),
        (
            pool(&sim, "kms", errors_to(&log_group(ACCOUNT, "/cognito/kms"))),
            "userNotification",
            "cloudwatch_logs",
            "kms_encrypted",
        ),
        (
            pool(
                &sim,
                "other",
                errors_to(&log_group(OTHER_ACCOUNT, "/cognito/ok")),
            ),
            "userNotification",
            "cloudwatch_logs",
            "other_account",
        ),
        (
            pool(
                &sim,
                "refused",
                errors_to(&log_group(ACCOUNT, "/cognito/refused")),
            ),
            "userNotification",
            "cloudwatch_logs",
            "access_denied",
        ),
        (
            pool(
                &sim,
                "bucket",
                activity_to(Destination::S3(bucket("activity-ok"))),
            ),
            "userAuthEvents",
            "s3",
            "ok",
        ),
        (
            pool(
                &sim,
                "no-bucket",
                activity_to(Destination::S3(bucket("activity-gone"))),
            ),
            "userAuthEvents",
            "s3",
            "not_found",
        ),
        (
            pool(
                &sim,
                "creating",
                activity_to(Destination::Firehose(stream(REGION, "creating"))),
            ),
            "userAuthEvents",
            "firehose",
            "not_active",
        ),
        (
            pool(
                &sim,
                "broken",
                activity_to(Destination::Firehose(stream(BROKEN_REGION, "broken"))),
            ),
            "userAuthEvents",
            "firehose",
            "check_failed",
        ),
    ];
    // A pool with no configuration has no status series.
    let bare = state.create_pool(ACCOUNT, REGION, "bare").id;

    let exporter = start_config(config_from_yaml(&yaml(&sim, true, ""))).await;
    let text = scrape_until(exporter.addr, "every destination checked", |t| {
        cases
            .iter()
            .all(|(pool, source, kind, _)| status(t, pool, source, kind).is_some())
    })
    .await;
    for (pool, source, kind, expected) in &cases {
        assert_eq!(
            status(&text, pool, source, kind).as_deref(),
            Some(*expected),
            "{pool}:\n{text}"
        );
    }
    assert!(
        !text.contains(&format!(r#"cognito_log_destination_status{{aws_account_id="{ACCOUNT}",aws_region="{REGION}",pool="{bare}""#)),
        "{text}"
    );
    // The checks' calls are counted under the target, like every call.
    assert!(requests(&text, "DescribeLogGroups") >= 4.0, "{text}");
    assert!(
        errors(&text, "DescribeLogGroups", "AccessDeniedException") >= 1.0,
        "{text}"
    );
    assert!(requests(&text, "HeadBucket") >= 2.0, "{text}");
    assert!(requests(&text, "DescribeDeliveryStream") >= 2.0, "{text}");

    // Kept by ARN for checks.interval: two more cycles call nothing again. Four log
    // groups checked once each (the shared one once, the other account's never).
    let before = [
        calls(&sim, "DescribeLogGroups"),
        calls(&sim, "HeadBucket"),
        calls(&sim, "DescribeDeliveryStream"),
    ];
    assert_eq!(before[0], 4, "one DescribeLogGroups per group");
    let cycles = |t: &str| {
        value(
            t,
            &target_series("cognito_exporter_last_poll_timestamp_seconds", ""),
        )
    };
    let first = cycles(&text);
    scrape_until(exporter.addr, "two more cycles", |t| {
        cycles(t)
            .zip(first)
            .is_some_and(|(now, then)| now >= then + 1.5)
    })
    .await;
    let after = [
        calls(&sim, "DescribeLogGroups"),
        calls(&sim, "HeadBucket"),
        calls(&sim, "DescribeDeliveryStream"),
    ];
    assert_eq!(before, after, "checks repeated within checks.interval");
    exporter.shutdown.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_targets_checks_call_as_its_role_in_its_account() {
    // The check clients are the region's, shared by its targets; each call brings the
    // target's credentials. Called as the default account instead, the member's log
    // group would not be found.
    let sim = simulator().await;
    let state = sim.state();
    let member = state
        .add_account("prod-checks", None, 0)
        .expect("account")
        .id;
    state.create_log_group(&member, REGION, "/cognito/member", None);
    let pool = state.create_pool(&member, REGION, "member-pool");
    state
        .set_log_configurations(
            &member,
            REGION,
            &pool.id,
            errors_to(&log_group(&member, "/cognito/member")),
        )
        .expect("a valid configuration");
    let config = format!(
        "poll:\n  interval: 1s\n  requests_per_second: 500\n\
         checks:\n  destinations: true\n  interval: 1h\n\
         targets:\n  - region: {REGION}\n    endpoint_url: {}\n    \
         role_arn: arn:aws:iam::{member}:role/cognito-exporter\n",
        sim.endpoint_url()
    );
    let exporter = start_config(config_from_yaml(&config)).await;
    let prefix = format!(
        r#"cognito_log_destination_status{{aws_account_id="{member}",aws_region="{REGION}",pool="{}",source="userNotification",level="ERROR",kind="cloudwatch_logs",status="ok"}}"#,
        pool.id
    );
    let text = scrape_until(exporter.addr, "the member's destination checked", |t| {
        t.lines().any(|l| l.starts_with(&prefix))
    })
    .await;
    assert!(
        text.lines().any(|l| l == format!("{prefix} 1")),
        "{prefix}:\n{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checks_off_make_no_calls_and_show_no_status() {
    let sim = simulator().await;
    let p = pool(
        &sim,
        "prod-a",
        errors_to(&log_group(ACCOUNT, "/cognito/none")),
    );
    let exporter = start_config(config_from_yaml(&yaml(&sim, false, ""))).await;
    let text = scrape_until(exporter.addr, "the pool read twice", |t| {
        value(t, &pool_series("cognito_pool_poll_success", &p, "")) == Some(1.0)
            && requests(t, "GetLogDeliveryConfiguration") >= 2.0
    })
    .await;
    assert!(!text.contains("cognito_log_destination_status{"), "{text}");
    for operation in ["DescribeLogGroups", "HeadBucket", "DescribeDeliveryStream"] {
        assert_eq!(calls(&sim, operation), 0, "{operation}");
    }
    exporter.shutdown.cancel();
}

const POLICY: &str = r#"policy:
  rules:
    - name: prod-errors
      pools:
        name: "^prod-"
      require:
        source: userNotification
        kind: cloudwatch_logs
    - name: prod-errors-delivered
      pools:
        name: "^prod-"
      require:
        source: userNotification
        status_ok: true
    - name: plus-activity
      pools:
        plans: [PLUS]
      require:
        source: userAuthEvents
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policy_verdicts_follow_selection_configuration_and_checks() {
    let sim = simulator().await;
    let state = sim.state();
    state.create_log_group(ACCOUNT, REGION, "/cognito/ok", None);
    state
        .create_bucket(ACCOUNT, REGION, "activity")
        .expect("bucket");
    let ok = log_group(ACCOUNT, "/cognito/ok");
    let mut full = errors_to(&ok);
    full.extend(activity_to(Destination::S3(bucket("activity"))));
    let good = pool(&sim, "prod-good", full);
    let missing = pool(
        &sim,
        "prod-missing",
        errors_to(&log_group(ACCOUNT, "/cognito/gone")),
    );
    let none = pool(&sim, "prod-none", Vec::new());
    let dev = pool(&sim, "dev-tools", errors_to(&ok));
    // Not PLUS: plus-activity does not select it.
    let essentials = state.create_pool(ACCOUNT, REGION, "dev-essentials").id;

    let exporter = start_config(config_from_yaml(&yaml(&sim, true, POLICY))).await;
    let text = scrape_until(exporter.addr, "every verdict", |t| {
        verdict(t, &missing, "prod-errors-delivered").is_some()
            && verdict(t, &dev, "plus-activity").is_some()
    })
    .await;
    let expected = [
        (&good, "prod-errors", Some(1.0)),
        (&good, "prod-errors-delivered", Some(1.0)),
        (&good, "plus-activity", Some(1.0)),
        // Configured, so compliant where the check is not asked for; not where it is.
        (&missing, "prod-errors", Some(1.0)),
        (&missing, "prod-errors-delivered", Some(0.0)),
        (&missing, "plus-activity", Some(0.0)),
        (&none, "prod-errors", Some(0.0)),
        (&none, "prod-errors-delivered", Some(0.0)),
        // Not selected by name: no series, rather than a 0 or a 1.
        (&dev, "prod-errors", None),
        (&dev, "prod-errors-delivered", None),
        (&dev, "plus-activity", Some(0.0)),
        (&essentials, "plus-activity", None),
    ];
    for (pool, rule, want) in expected {
        assert_eq!(verdict(&text, pool, rule), want, "{pool} {rule}:\n{text}");
    }

    // Pointed at a group that checks ok: compliant from the next cycle.
    state
        .set_log_configurations(ACCOUNT, REGION, &missing, errors_to(&ok))
        .expect("valid");
    scrape_until(exporter.addr, "prod-missing fixed", |t| {
        verdict(t, &missing, "prod-errors-delivered") == Some(1.0)
    })
    .await;

    // Reads failing: the last verdicts stay, until the pool is stale (5s), when they go.
    state
        .set_faults(fault_set(vec![
            FaultRule::error(ErrorCode::InternalErrorException)
                .operation("GetLogDeliveryConfiguration"),
        ]))
        .expect("faults");
    let text = scrape_until(exporter.addr, "prod-good failing", |t| {
        value(t, &pool_series("cognito_pool_poll_success", &good, "")) == Some(0.0)
    })
    .await;
    // The first failure never makes a pool stale.
    assert_eq!(
        verdict(&text, &good, "prod-errors-delivered"),
        Some(1.0),
        "{text}"
    );
    assert_eq!(verdict(&text, &none, "prod-errors"), Some(0.0), "{text}");
    scrape_until(exporter.addr, "prod-good stale, its verdicts gone", |t| {
        value(t, &pool_series("cognito_pool_poll_success", &good, "")) == Some(0.0)
            && !t
                .contains(&pool_series("cognito_pool_policy_compliant", &good, "").replace('}', ""))
    })
    .await;
    exporter.shutdown.cancel();
}
