//! Who a target is, as a scraper and an operator see it: nothing left under the
//! placeholder account once the account is known, and one target per account and region
//! (a second one that turns out to poll the same says so, and publishes nothing).

use std::net::SocketAddr;

use cognito_sim::{ErrorCode, FaultRule, SimOptions};

use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_series_stays_under_the_placeholder_account_once_the_account_is_known() {
    let sim = simulator().await;
    sim.state().create_pool(ACCOUNT, REGION, "prod-0");
    // The first two cycles cannot learn the account: they count under the placeholder.
    sim.state()
        .set_faults(fault_set(vec![
            FaultRule::error(ErrorCode::AccessDeniedException)
                .operation("GetCallerIdentity")
                .count(2),
        ]))
        .expect("valid faults");
    let exporter = start(vec![target(&sim)], fast_poll()).await;
    let up = target_series("cognito_exporter_target_up", "");
    let text = scrape_until(exporter.addr, "the account known", |t| {
        value(t, &up) == Some(1.0)
    })
    .await;
    let placeholder: Vec<&str> = text
        .lines()
        .filter(|l| l.contains(r#"aws_account_id="""#))
        .collect();
    assert!(placeholder.is_empty(), "left behind: {placeholder:#?}");
    // What was counted before is counted under the account now.
    let op = "GetCallerIdentity";
    assert_eq!(errors(&text, op, "AccessDeniedException"), 2.0, "{text}");
    assert_eq!(requests(&text, op), 3.0, "{text}");
    assert!(
        value(
            &text,
            &target_series("cognito_exporter_rate_limiter_wait_seconds_total", "")
        )
        .is_some(),
        "{text}"
    );
}

/// Scrapes `addr` `times` times, a cycle apart, and returns the pools each showed.
async fn pools_seen(addr: SocketAddr, times: usize) -> Vec<Vec<String>> {
    let mut seen = Vec::new();
    for _ in 0..times {
        seen.push(pools_seen_in(&scrape_between_cycles(addr).await));
    }
    seen
}

/// The names of the pools in scrape `text`, sorted.
fn pools_seen_in(text: &str) -> Vec<String> {
    let mut names: Vec<String> = text
        .lines()
        .filter(|l| l.starts_with("cognito_user_pool_info{"))
        .filter_map(|l| {
            l.split("name=\"")
                .nth(1)?
                .split('"')
                .next()
                .map(str::to_owned)
        })
        .collect();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_targets_of_one_account_and_region_publish_one_set_of_pools() {
    let sim = cognito_sim::spawn(SimOptions {
        regions: vec![REGION.into()],
        ..SimOptions::default()
    })
    .await
    .expect("simulator starts");
    for name in ["prod-a", "prod-b", "staging-a"] {
        sim.state().create_pool(ACCOUNT, REGION, name);
    }
    // One target with the exporter's own credentials, one through a role of that same
    // account, different filters: the configuration cannot tell they are one account
    // (a configuration that shows it is refused at --config.check), GetCallerIdentity
    // does.
    let endpoint = sim.endpoint_url();
    let role = format!("arn:aws:iam::{ACCOUNT}:role/exporter");
    let targets = [
        format!("  - region: {REGION}\n    endpoint_url: {endpoint}\n    include: \"^prod\"\n"),
        format!(
            "  - region: {REGION}\n    endpoint_url: {endpoint}\n    role_arn: {role}\n    \
             include: \"^staging\"\n"
        ),
    ];
    let poll = "poll:\n  interval: 1s\n  requests_per_second: 100\ntargets:\n";
    let yaml = format!("{poll}{}{}", targets[0], targets[1]);
    // The simulator runs on this test's runtime: blocking on the child must leave it a
    // worker.
    let (mut exporter, port, config) =
        tokio::task::block_in_place(|| spawn_with_config(&yaml, &[]));
    let conflict = tokio::task::block_in_place(|| exporter.wait_for("already polls"));
    let later = if conflict.contains("\"target_name\":\"targets[1]\"") {
        1
    } else {
        0
    };
    let earlier = 1 - later;
    assert!(
        conflict.contains(&format!("targets[{later}]"))
            && conflict.contains(&format!("targets[{earlier}]"))
            && conflict.contains("\"level\":\"ERROR\""),
        "an error naming both targets: {conflict}"
    );

    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let gauge = target_series("cognito_exporter_target_conflicts", "");
    let text = scrape_until(addr, "the conflict counted", |t| {
        value(t, &gauge) == Some(1.0)
    })
    .await;
    assert!(
        text.contains("# HELP cognito_exporter_target_conflicts "),
        "{text}"
    );
    // Over several cycles, always the earlier target's pools, never the other's.
    let expected: Vec<String> = if earlier == 0 {
        vec!["prod-a".into(), "prod-b".into()]
    } else {
        vec!["staging-a".into()]
    };
    for seen in pools_seen(addr, 4).await {
        assert_eq!(seen, expected);
    }
    assert_eq!(
        request(addr, "GET", "/-/ready", &[]).await.status,
        200,
        "the stopped target does not hold readiness"
    );

    // A reload removes the earlier target: the later one, still running (its key did
    // not change), polls the account from then on, without a restart of its own.
    rewrite(config.path(), &format!("{poll}{}", targets[later]));
    exporter.signal("HUP");
    let taken_over = tokio::task::block_in_place(|| exporter.wait_for("from now on"));
    assert!(
        taken_over.contains("no longer polls account") && taken_over.contains(ACCOUNT),
        "{taken_over}"
    );
    let expected: Vec<String> = if later == 0 {
        vec!["prod-a".into(), "prod-b".into()]
    } else {
        vec!["staging-a".into()]
    };
    let text = scrape_until(addr, "the later target's pools, no conflict", |t| {
        value(t, &gauge) == Some(0.0) && pools_seen_in(t) == expected
    })
    .await;
    assert_eq!(
        value(&text, &target_series("cognito_exporter_target_up", "")),
        Some(1.0),
        "{text}"
    );
    for seen in pools_seen(addr, 2).await {
        assert_eq!(seen, expected);
    }
    let (_, log) = tokio::task::block_in_place(|| exporter.terminate());
    assert_eq!(log.matches("already polls").count(), 1, "said once:\n{log}");
    assert_eq!(log.matches("from now on").count(), 1, "said once:\n{log}");
}
