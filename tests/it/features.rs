//! Feature plan, threat protection and the change audit, as a scraper and an operator
//! see them: `DescribeUserPool` read when a pool is first seen and again only when
//! `ListUserPools` shows it changed, and a log-delivery change logged and counted once.

use std::io::Write;
use std::process::{Command, Stdio};

use cognito_sim::LogConfiguration;

use crate::harness::*;

const DESCRIBE: &str = "DescribeUserPool";
const CW: &str = "arn:aws:logs:eu-west-1:123456789012:log-group:/cognito/errors";
const OTHER_CW: &str = "arn:aws:logs:eu-west-1:123456789012:log-group:/cognito/other";

fn plan(pool: &str, plan: &str) -> String {
    pool_series(
        "cognito_user_pool_feature_plan",
        pool,
        &format!(r#"plan="{plan}""#),
    )
}

fn mode(pool: &str, mode: &str) -> String {
    pool_series(
        "cognito_user_pool_threat_protection",
        pool,
        &format!(r#"mode="{mode}""#),
    )
}

/// The pool's plan and mode: the labels whose series are 1, each matrix checked whole.
fn features(text: &str, pool: &str) -> Option<(String, String)> {
    let one = |family: &str, label: &str, known: [&str; 3]| {
        let prefix = pool_series(family, pool, "");
        let prefix = prefix.strip_suffix('}').expect("labels");
        let mut on = Vec::new();
        let mut seen = 0;
        for line in text.lines().filter(|l| l.starts_with(prefix)) {
            seen += 1;
            let value = line
                .split(&format!(r#"{label}=""#))
                .nth(1)?
                .split('"')
                .next()?;
            if line.ends_with(" 1") {
                on.push(value.to_owned());
            } else if !known.contains(&value) {
                panic!("an unknown {label} exported as 0: {line}");
            }
        }
        assert!(
            seen == 0
                || known
                    .iter()
                    .all(|k| text.contains(&format!(r#"{prefix},{label}="{k}"}}"#))),
            "{family} of {pool} lacks a known value:\n{text}"
        );
        assert!(on.len() <= 1, "{family} of {pool}: {on:?}");
        on.pop()
    };
    Some((
        one(
            "cognito_user_pool_feature_plan",
            "plan",
            ["LITE", "ESSENTIALS", "PLUS"],
        )?,
        one(
            "cognito_user_pool_threat_protection",
            "mode",
            ["OFF", "AUDIT", "ENFORCED"],
        )?,
    ))
}

fn describes(sim: &cognito_sim::RunningSim) -> u64 {
    sim.state().stats().operation(DESCRIBE).requests
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_plan_and_mode_shows_as_its_matrix() {
    let sim = simulator().await;
    let state = sim.state();
    // Threat protection other than OFF needs PLUS, as AWS has it.
    let cases = [
        ("prod-lite", "LITE", None, "OFF"),
        ("prod-essentials", "ESSENTIALS", Some("OFF"), "OFF"),
        ("prod-plus", "PLUS", Some("ENFORCED"), "ENFORCED"),
        ("prod-plus-audit", "PLUS", Some("AUDIT"), "AUDIT"),
        ("prod-plus-off", "PLUS", Some("OFF"), "OFF"),
    ];
    let mut pools = Vec::new();
    for (name, tier, mode, _) in cases {
        let pool = state.create_pool(ACCOUNT, REGION, name);
        assert!(set_plan(&state, &pool.id, tier, mode));
        pools.push(pool.id);
    }
    let exporter = start(vec![target(&sim)], fast_poll()).await;
    let text = scrape_until(exporter.addr, "every pool's plan", |t| {
        pools.iter().all(|p| features(t, p).is_some())
    })
    .await;
    for (pool, (_, tier, _, mode)) in pools.iter().zip(cases) {
        assert_eq!(
            features(&text, pool),
            Some((tier.to_owned(), mode.to_owned())),
            "{pool}:\n{text}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_or_mode_aws_adds_later_is_exported_with_1() {
    for (field, known_plan, known_mode) in [
        (cognito_sim::EnumField::UserPoolTier, None, Some("OFF")),
        (
            cognito_sim::EnumField::AdvancedSecurityMode,
            Some("ESSENTIALS"),
            None,
        ),
    ] {
        let sim = simulator().await;
        let pool = sim.state().create_pool(ACCOUNT, REGION, "prod-future").id;
        sim.state()
            .set_faults(fault_set(vec![
                cognito_sim::FaultRule::new(cognito_sim::Fault::UnknownEnum { field })
                    .operation(DESCRIBE),
            ]))
            .expect("a valid fault set");
        let exporter = start(vec![target(&sim)], fast_poll()).await;
        let text = scrape_until(exporter.addr, "the pool's plan", |t| {
            features(t, &pool).is_some()
        })
        .await;
        // The unknown value comes after the known ones, with 1; the known ones are 0.
        match known_plan {
            None => {
                assert_eq!(value(&text, &plan(&pool, "PLATINUM")), Some(1.0), "{text}");
                assert_eq!(value(&text, &plan(&pool, "ESSENTIALS")), Some(0.0));
            }
            Some(p) => assert_eq!(value(&text, &plan(&pool, p)), Some(1.0)),
        }
        match known_mode {
            None => {
                assert_eq!(
                    value(&text, &mode(&pool, "QUARANTINE")),
                    Some(1.0),
                    "{text}"
                );
                assert_eq!(value(&text, &mode(&pool, "OFF")), Some(0.0));
            }
            Some(m) => assert_eq!(value(&text, &mode(&pool, m)), Some(1.0)),
        }
        exporter.shutdown.cancel();
        exporter.task.await.expect("joins").expect("runs");
    }
}

/// Sets `pool`'s plan and threat protection in the simulator (moving its
/// `LastModifiedDate`, as `UpdateUserPool` does).
fn set_plan(state: &cognito_sim::SimState, pool: &str, tier: &str, mode: Option<&str>) -> bool {
    use cognito_sim::{AdvancedSecurityMode, UserPoolTier};
    let tier = match tier {
        "LITE" => UserPoolTier::Lite,
        "ESSENTIALS" => UserPoolTier::Essentials,
        _ => UserPoolTier::Plus,
    };
    let mode = mode.map(|m| match m {
        "AUDIT" => AdvancedSecurityMode::Audit,
        "ENFORCED" => AdvancedSecurityMode::Enforced,
        _ => AdvancedSecurityMode::Off,
    });
    state
        .set_pool_plan(ACCOUNT, REGION, pool, tier, mode)
        .is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_change_is_seen_through_the_listing_without_describing_the_others() {
    let sim = simulator().await;
    let state = sim.state();
    let pools: Vec<_> = (0..5)
        .map(|i| state.create_pool(ACCOUNT, REGION, &format!("prod-{i}")).id)
        .collect();
    let exporter = start(vec![target(&sim)], fast_poll()).await;
    scrape_until(exporter.addr, "every pool's plan", |t| {
        pools.iter().all(|p| features(t, p).is_some())
    })
    .await;
    // Two whole cycles later, still one describe per pool.
    scrape_between_cycles(exporter.addr).await;
    scrape_between_cycles(exporter.addr).await;
    assert_eq!(describes(&sim), 5);

    assert!(set_plan(&state, &pools[2], "PLUS", Some("AUDIT")));
    scrape_until(exporter.addr, "the new plan", |t| {
        features(t, &pools[2]) == Some(("PLUS".into(), "AUDIT".into()))
    })
    .await;
    scrape_between_cycles(exporter.addr).await;
    scrape_between_cycles(exporter.addr).await;
    assert_eq!(describes(&sim), 6, "only the changed pool described again");
    let text = scrape(exporter.addr).await;
    assert_eq!(
        requests(&text, DESCRIBE),
        6.0,
        "the describes count in the API counters"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configured_pools_get_name_and_plan_from_one_describe() {
    let sim = simulator().await;
    let state = sim.state();
    let pool = state.create_pool(ACCOUNT, REGION, "prod-named");
    assert!(set_plan(&state, &pool.id, "LITE", None));
    let mut t = target(&sim);
    t.user_pools = Some(vec![pool.id.clone()]);
    let exporter = start(vec![t], fast_poll()).await;
    let text = scrape_until(exporter.addr, "the plan", |t| {
        features(t, &pool.id).is_some()
    })
    .await;
    assert_eq!(
        value(
            &text,
            &pool_series("cognito_user_pool_info", &pool.id, r#"name="prod-named""#)
        ),
        Some(1.0)
    );
    scrape_between_cycles(exporter.addr).await;
    scrape_between_cycles(exporter.addr).await;
    assert_eq!(describes(&sim), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pool_never_described_has_no_plan_and_a_failed_describe_keeps_it() {
    use cognito_sim::{ErrorCode, FaultRule};
    let sim = simulator().await;
    let state = sim.state();
    let pool = state.create_pool(ACCOUNT, REGION, "prod-undescribed");
    state
        .set_faults(fault_set(vec![
            FaultRule::error(ErrorCode::InternalErrorException).operation(DESCRIBE),
        ]))
        .expect("valid faults");
    let exporter = start(vec![target(&sim)], fast_poll()).await;
    let matrix = matrix_series(&pool.id, "userNotification", "ERROR", "cloudwatch_logs");
    scrape_until(exporter.addr, "the pool read", |t| {
        value(t, &matrix).is_some()
    })
    .await;
    // Failed describes are asked again every cycle, and no plan is made up meanwhile.
    let before = describes(&sim);
    let text = scrape_between_cycles(exporter.addr).await;
    assert!(describes(&sim) > before, "retried next cycle");
    assert!(!text.contains("cognito_user_pool_feature_plan{"), "{text}");
    assert!(
        !text.contains("cognito_user_pool_threat_protection{"),
        "{text}"
    );

    state.clear_faults();
    scrape_until(exporter.addr, "the plan", |t| {
        features(t, &pool.id) == Some(("ESSENTIALS".into(), "OFF".into()))
    })
    .await;
    // A later describe that fails keeps what the last one said.
    state
        .set_faults(fault_set(vec![
            FaultRule::error(ErrorCode::InternalErrorException).operation(DESCRIBE),
        ]))
        .expect("valid faults");
    assert!(set_plan(&state, &pool.id, "PLUS", None));
    let before = describes(&sim);
    scrape_until(exporter.addr, "a failed describe", |_| {
        describes(&sim) > before
    })
    .await;
    let text = scrape_between_cycles(exporter.addr).await;
    assert_eq!(
        features(&text, &pool.id),
        Some(("ESSENTIALS".into(), "OFF".into())),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_configuration_is_logged_and_counted_once() {
    let sim = simulator().await;
    let state = sim.state();
    let pool = state.create_pool(ACCOUNT, REGION, "prod-audited");
    state
        .set_log_configurations(
            ACCOUNT,
            REGION,
            &pool.id,
            vec![LogConfiguration::user_notification(CW)],
        )
        .expect("valid");
    let yaml = format!(
        "poll:\n  interval: 1s\n  requests_per_second: 200\ntargets:\n  - region: {REGION}\n    endpoint_url: {}\n",
        sim.endpoint_url()
    );
    let (mut exporter, port, _config) =
        tokio::task::block_in_place(|| spawn_with_config(&yaml, &[]));
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let changes = pool_series("cognito_log_configuration_changes_total", &pool.id, "");
    let last = pool_series(
        "cognito_log_configuration_last_change_timestamp_seconds",
        &pool.id,
        "",
    );
    // From the first read: a counter at 0, no change, no timestamp.
    let text = scrape_until(addr, "the first read", |t| value(t, &changes).is_some()).await;
    assert_eq!(value(&text, &changes), Some(0.0));
    assert_eq!(value(&text, &last), None);
    scrape_between_cycles(addr).await;

    state
        .set_log_configurations(
            ACCOUNT,
            REGION,
            &pool.id,
            vec![LogConfiguration::user_notification(OTHER_CW)],
        )
        .expect("valid");
    let line =
        tokio::task::block_in_place(|| exporter.wait_for("log delivery configuration changed"));
    for needle in [
        r#""level":"INFO""#,
        &format!(r#""account":"{ACCOUNT}""#),
        &format!(r#""region":"{REGION}""#),
        &format!(r#""pool":"{}""#, pool.id),
        r#""pool_name":"prod-audited""#,
        &format!(r#""before":"userNotification/ERROR→cloudwatch_logs:{CW}""#),
        &format!(r#""after":"userNotification/ERROR→cloudwatch_logs:{OTHER_CW}""#),
    ] {
        assert!(line.contains(needle), "{needle} in {line}");
    }
    let text = scrape_until(addr, "the change counted", |t| {
        value(t, &changes) == Some(1.0)
    })
    .await;
    assert!(value(&text, &last).is_some_and(|at| at > 1.7e9), "{text}");
    // Two whole cycles more: still one change, one line.
    scrape_between_cycles(addr).await;
    let text = scrape_between_cycles(addr).await;
    assert_eq!(value(&text, &changes), Some(1.0));
    let (_, log) = tokio::task::block_in_place(|| exporter.terminate());
    assert_eq!(
        log.matches("log delivery configuration changed").count(),
        1,
        "{log}"
    );
}

/// Checks an OpenMetrics exposition's family metadata: each family's HELP and TYPE name
/// it alike, once; each sample belongs to the family declared before it (a counter's
/// with `_total`); the body ends with `# EOF`.
fn check_openmetrics(text: &str) {
    let mut families = std::collections::HashSet::new();
    let mut current: Option<(String, String)> = None;
    let mut help: Option<String> = None;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let name = rest.split(' ').next().expect("a name");
            help = Some(name.to_owned());
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut parts = rest.split(' ');
            let (name, kind) = (parts.next().expect("name"), parts.next().expect("type"));
            assert_eq!(help.as_deref(), Some(name), "HELP and TYPE differ: {line}");
            assert!(families.insert(name.to_owned()), "{name} declared twice");
            assert!(
                kind != "counter" || !name.ends_with("_total"),
                "an OpenMetrics counter family named with _total: {line}"
            );
            current = Some((name.to_owned(), kind.to_owned()));
        } else if line == "# EOF" {
            continue;
        } else if !line.starts_with('#') {
            let sample = line.split(['{', ' ']).next().expect("a sample name");
            let (family, kind) = current.as_ref().expect("a sample before any TYPE");
            let ok = match kind.as_str() {
                "counter" => {
                    sample == format!("{family}_total") || sample == format!("{family}_created")
                }
                "info" => sample == format!("{family}_info"),
                _ => sample == family,
            };
            assert!(ok, "{sample} under {kind} family {family}");
        }
    }
    assert!(text.ends_with("# EOF\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_text_formats_declare_the_counter_as_each_requires() {
    let sim = simulator().await;
    let pool = sim.state().create_pool(ACCOUNT, REGION, "prod-formats");
    let exporter = start(vec![target(&sim)], fast_poll()).await;
    let changes = pool_series("cognito_log_configuration_changes_total", &pool.id, "");
    scrape_until(exporter.addr, "the first read", |t| {
        value(t, &changes).is_some()
    })
    .await;
    // Between cycles, so the four bodies show the same cycle.
    scrape_between_cycles(exporter.addr).await;
    const OM: &str = "application/openmetrics-text;version=1.0.0";
    let fetch = async |accept: Option<&str>, gzip: bool| {
        let mut headers = Vec::new();
        if let Some(accept) = accept {
            headers.push(("Accept", accept));
        }
        if gzip {
            headers.push(("Accept-Encoding", "gzip"));
        }
        let reply = request(exporter.addr, "GET", "/metrics", &headers).await;
        assert_eq!(reply.status, 200);
        if gzip {
            reply.gunzipped()
        } else {
            reply.text()
        }
    };
    let om = fetch(Some(OM), false).await;
    let om_gz = fetch(Some(OM), true).await;
    let classic = fetch(None, false).await;
    let classic_gz = fetch(None, true).await;

    let family = "cognito_log_configuration_changes";
    assert!(om.contains(&format!("# HELP {family} ")), "{om}");
    assert!(om.contains(&format!("# TYPE {family} counter\n")), "{om}");
    assert!(
        classic.contains(&format!("# HELP {family}_total ")),
        "{classic}"
    );
    assert!(
        classic.contains(&format!("# TYPE {family}_total counter\n")),
        "{classic}"
    );
    assert!(om.contains(&format!("{changes} 0\n")) && classic.contains(&format!("{changes} 0\n")));
    check_openmetrics(&om);
    // The gzip bodies inflate to the same text, up to the exporter's own metrics (which
    // may move between two scrapes).
    let upto = |t: &str| {
        t.split("# HELP cognito_exporter_api")
            .next()
            .map(str::to_owned)
    };
    assert_eq!(upto(&om_gz), upto(&om));
    assert_eq!(upto(&classic_gz), upto(&classic));
    check_openmetrics(&om_gz);

    match Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(mut promtool) => {
            promtool
                .stdin
                .take()
                .expect("stdin")
                .write_all(classic.as_bytes())
                .expect("write");
            let out = promtool.wait_with_output().expect("promtool runs");
            let said = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(out.status.success(), "promtool check metrics: {said}");
        }
        Err(e) => eprintln!("promtool not found ({e}): the classic format is checked above only"),
    }
}
