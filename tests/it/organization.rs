//! Targets that follow an AWS Organization, against the simulator's organization through
//! the real SDK: discovery with an OU and an account filter, accounts that join, leave
//! or refuse the role, the work split across shard processes, and the standard
//! `AWS_ENDPOINT_URL` variables.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::time::Duration;

use cognito_sim::{AccountInfo, RunningSim, SimOptions};

use crate::harness::{Running, binary, rewrite, scrape, scrape_until, spawn_with_config, value};

const REGIONS: [&str; 2] = ["eu-west-1", "us-east-1"];

async fn organization(accounts: usize, pools: usize) -> RunningSim {
    cognito_sim::spawn(SimOptions {
        accounts,
        pools_per_region: pools,
        regions: REGIONS.iter().map(ToString::to_string).collect(),
        ..SimOptions::default()
    })
    .await
    .expect("simulator starts")
}

/// A configuration discovering the organization at `endpoint`, with `extra` lines under
/// `discovery.organizations`.
fn discovery(endpoint: &str, extra: &str) -> String {
    format!(
        "poll:\n  interval: 2s\n  requests_per_second: 200\ndiscovery:\n  organizations:\n    \
         member_role_arn: \"arn:aws:iam::{{account_id}}:role/cognito-exporter\"\n    \
         regions: [{}]\n    refresh_interval: 1s\n    endpoint_url: {endpoint}\n{extra}",
        REGIONS.join(", ")
    )
}

/// Every (account, region) with a `cognito_exporter_target_up` sample, and its value.
fn targets(text: &str) -> BTreeMap<(String, String), f64> {
    per_target(text, "cognito_exporter_target_up", "")
}

/// The value of each (account, region) in `family`'s samples whose labels contain
/// `labels` (`""`: every sample).
fn per_target(text: &str, family: &str, labels: &str) -> BTreeMap<(String, String), f64> {
    text.lines()
        .filter_map(|l| l.strip_prefix(family)?.strip_prefix('{'))
        .filter(|l| l.contains(labels))
        .filter_map(|l| {
            let account = l.split("aws_account_id=\"").nth(1)?.split('"').next()?;
            let region = l.split("aws_region=\"").nth(1)?.split('"').next()?;
            let v = l.rsplit(' ').next()?.parse().ok()?;
            Some(((account.to_owned(), region.to_owned()), v))
        })
        .collect()
}

/// The pools of each (account, region) in the destination matrix.
fn pools(text: &str) -> BTreeMap<(String, String), BTreeSet<String>> {
    let mut found: BTreeMap<_, BTreeSet<String>> = BTreeMap::new();
    for l in text
        .lines()
        .filter_map(|l| l.strip_prefix("cognito_log_destination_configured{"))
    {
        let field = |name: &str| {
            l.split(&format!("{name}=\""))
                .nth(1)?
                .split('"')
                .next()
                .map(str::to_owned)
        };
        if let (Some(a), Some(r), Some(p)) =
            (field("aws_account_id"), field("aws_region"), field("pool"))
        {
            found.entry((a, r)).or_default().insert(p);
        }
    }
    found
}

/// The (account, region) pairs of `accounts` in every region.
fn expected(accounts: &[&AccountInfo]) -> BTreeSet<(String, String)> {
    accounts
        .iter()
        .flat_map(|a| REGIONS.iter().map(|r| (a.id.clone(), (*r).to_owned())))
        .collect()
}

fn ids(map: &BTreeMap<(String, String), f64>) -> BTreeSet<(String, String)> {
    map.keys().cloned().collect()
}

fn start(yaml: &str, args: &[&str]) -> (Running, SocketAddr, tempfile::NamedTempFile) {
    let (exporter, port, file) = tokio::task::block_in_place(|| spawn_with_config(yaml, args));
    (exporter, SocketAddr::from(([127, 0, 0, 1], port)), file)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_polls_the_selected_accounts_and_follows_the_organization() {
    let sim = organization(50, 2).await;
    let state = sim.state();
    let units = state.organizational_units();
    let production = units
        .iter()
        .find(|u| u.name == "Production")
        .expect("an OU");
    let payments = units
        .iter()
        .find(|u| u.name == "Payments")
        .expect("a nested OU");
    assert_eq!(
        payments.parent, production.id,
        "Payments is below Production"
    );
    let accounts = state.accounts();
    // One account of the OU refuses the member role from the start.
    let in_scope = |a: &&AccountInfo| {
        (a.parent == production.id || a.parent == payments.id)
            && a.name.starts_with("prod-")
            && !a.name.ends_with('7')
    };
    let selected: Vec<&AccountInfo> = accounts.iter().filter(in_scope).collect();
    assert!(
        selected.len() >= 10,
        "a fair share of 50: {}",
        selected.len()
    );
    assert!(selected.iter().any(|a| a.parent == payments.id));
    let refusing = selected[1].id.clone();
    state.refuse_assume_role(&refusing, true);

    let yaml = discovery(
        &sim.endpoint_url(),
        &format!(
            "    organizational_units: [{}]\n    accounts:\n      include: \"^prod-\"\n      exclude: \"7$\"\n",
            production.id
        ),
    );
    let (mut exporter, addr, _file) = start(&yaml, &[]);
    let want = expected(&selected);
    let text = scrape_until(addr, "every selected account in every region", |t| {
        ids(&targets(t)) == want
    })
    .await;
    let up = targets(&text);
    for (target, v) in &up {
        let expected = if target.0 == refusing { 0.0 } else { 1.0 };
        assert_eq!(*v, expected, "{target:?}");
    }
    // Each polled target shows its own pools, two per region.
    let seen = pools(&text);
    for target in want.iter().filter(|t| t.0 != refusing) {
        assert_eq!(seen.get(target).map(BTreeSet::len), Some(2), "{target:?}");
    }
    assert!(!seen.keys().any(|t| t.0 == refusing));
    let assume_errors = format!(
        r#"cognito_exporter_api_errors_total{{aws_account_id="{refusing}",aws_region="eu-west-1",operation="AssumeRole",exception="AccessDeniedException"}}"#
    );
    let text = scrape_until(addr, "the refused AssumeRole counted", |t| {
        value(t, &assume_errors).is_some_and(|n| n >= 1.0)
            && value(t, "cognito_exporter_targets") == Some(want.len() as f64)
    })
    .await;
    assert!(
        value(
            &text,
            "cognito_exporter_discovery_last_success_timestamp_seconds"
        )
        .is_some_and(|t| t > 1.7e9),
        "{text}"
    );
    assert!(
        text.contains(r#"operation="ListAccountsForParent""#),
        "{text}"
    );
    assert!(text.contains(r#"operation="ListOrganizationalUnitsForParent""#));

    // An account joins the nested OU, one leaves the organization.
    let joined = state
        .add_account("prod-joined", Some(&payments.id), 1)
        .expect("joins");
    let leaving = selected[0].id.clone();
    assert!(state.remove_account(&leaving));
    let mut now: Vec<&AccountInfo> = selected
        .iter()
        .copied()
        .filter(|a| a.id != leaving)
        .collect();
    now.push(&joined);
    let want = expected(&now);
    let text = scrape_until(addr, "the organization's change followed", |t| {
        ids(&targets(t)) == want
            && pools(t)
                .get(&(joined.id.clone(), "us-east-1".into()))
                .map(BTreeSet::len)
                == Some(1)
    })
    .await;
    assert!(
        !text.contains(&format!(r#"aws_account_id="{leaving}""#)),
        "every series of the account that left is gone:\n{text}"
    );
    tokio::task::block_in_place(|| exporter.wait_for("targets follow the organization"));
    let (status, _) = exporter.terminate();
    assert!(status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_listing_keeps_the_accounts_found_before() {
    let sim = organization(6, 1).await;
    let (mut exporter, addr, _file) = start(&discovery(&sim.endpoint_url(), ""), &[]);
    // Six members and the management account, in two regions.
    let found = ids(&targets(
        &scrape_until(addr, "the organization polled", |t| targets(t).len() == 14).await,
    ));
    sim.state()
        .set_faults(cognito_sim::FaultSet {
            rules: vec![
                cognito_sim::FaultRule::error(cognito_sim::ErrorCode::ServiceException)
                    .operation("ListAccounts"),
            ],
            ..cognito_sim::FaultSet::default()
        })
        .expect("a valid fault set");
    tokio::task::block_in_place(|| exporter.wait_for("cannot list the organization's accounts"));
    tokio::task::block_in_place(|| exporter.wait_for("cannot list the organization's accounts"));
    let text = scrape(addr).await;
    assert_eq!(ids(&targets(&text)), found, "no target dropped:\n{text}");
    // Counted under the account of the credentials listing (its own here, which
    // discovery does not look up) and the region Organizations lives in.
    let errors = r#"cognito_exporter_api_errors_total{aws_account_id="",aws_region="us-east-1",operation="ListAccounts",exception="ServiceException"}"#;
    scrape_until(addr, "the failed listing counted", |t| {
        value(t, errors).is_some_and(|n| n >= 1.0)
    })
    .await;
    let (status, _) = exporter.terminate();
    assert!(status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_shards_poll_every_target_once() {
    let sim = organization(50, 1).await;
    let yaml = discovery(&sim.endpoint_url(), "");
    let mut shards = Vec::new();
    for n in 0..4 {
        let shard = n.to_string();
        shards.push(start(&yaml, &["--shard", &shard, "--total-shards", "4"]));
    }
    // 50 members and the management account, in two regions.
    let all: BTreeSet<(String, String)> =
        expected(&sim.state().accounts().iter().collect::<Vec<_>>());
    assert_eq!(all.len(), 102);
    let mut union = BTreeSet::new();
    let mut sizes = Vec::new();
    for (n, (_, addr, _)) in shards.iter().enumerate() {
        let text = scrape_until(*addr, "the shard ready", |t| {
            let count = value(t, "cognito_exporter_targets");
            count.is_some_and(|c| c > 0.0) && targets(t).len() as f64 == count.unwrap_or(-1.0)
        })
        .await;
        assert_eq!(
            value(&text, "cognito_exporter_shard_ordinal"),
            Some(n as f64)
        );
        assert_eq!(value(&text, "cognito_exporter_total_shards"), Some(4.0));
        let mine = ids(&targets(&text));
        sizes.push(mine.len());
        for target in mine {
            assert!(
                union.insert(target.clone()),
                "{target:?} polled by two shards"
            );
        }
    }
    assert_eq!(union, all, "the shards together poll every target");
    // Jump hashing spreads 102 targets over 4 shards: none empty, none with half.
    assert!(sizes.iter().all(|&s| (10..=45).contains(&s)), "{sizes:?}");
    for (exporter, _, _) in shards {
        let (status, _) = exporter.terminate();
        assert!(status.success());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shard_auto_needs_an_ordinal_in_the_host_name() {
    let output = binary(&["--shard", "auto", "--total-shards", "3", "--config.check"])
        .env("HOSTNAME", "cognito-exporter")
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--shard auto") && stderr.contains("cognito-exporter"),
        "{stderr}"
    );
    let output = binary(&["--shard", "auto", "--total-shards", "3", "--config.check"])
        .env("HOSTNAME", "cognito-exporter-2")
        .output()
        .expect("runs");
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let output = binary(&["--shard", "3", "--total-shards", "3", "--config.check"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_standard_endpoint_variables_apply_below_the_configured_endpoint() {
    let sim = organization(0, 1).await;
    let management = sim.state().management_account().to_owned();
    let up = format!(
        r#"cognito_exporter_target_up{{aws_account_id="{management}",aws_region="eu-west-1"}}"#
    );
    // No endpoint_url: AWS_ENDPOINT_URL finds the simulator.
    let mut command = binary(&[
        "--web.listen-address",
        "127.0.0.1:0",
        "--log.format",
        "json",
    ]);
    command
        .env("AWS_ACCESS_KEY_ID", "AKIDE2ETEST0000")
        .env("AWS_SECRET_ACCESS_KEY", "e2e-secret")
        .env("AWS_REGION", "eu-west-1")
        .env("AWS_ENDPOINT_URL", sim.endpoint_url());
    let mut exporter = Running::spawn(command);
    let addr = SocketAddr::from((
        [127, 0, 0, 1],
        tokio::task::block_in_place(|| exporter.listening_port()),
    ));
    scrape_until(addr, "the target up through AWS_ENDPOINT_URL", |t| {
        value(t, &up) == Some(1.0)
    })
    .await;
    let (status, _) = exporter.terminate();
    assert!(status.success());

    // A service's own variable wins over the general one, and endpoint_url over both.
    let dead = "http://127.0.0.1:9";
    for (env, config) in [
        (
            vec![
                ("AWS_ENDPOINT_URL", dead.to_owned()),
                ("AWS_ENDPOINT_URL_STS", sim.endpoint_url()),
                (
                    "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER",
                    sim.endpoint_url(),
                ),
            ],
            "targets:\n  - region: eu-west-1\n".to_owned(),
        ),
        (
            vec![("AWS_ENDPOINT_URL", dead.to_owned())],
            format!(
                "targets:\n  - region: eu-west-1\n    endpoint_url: {}\n",
                sim.endpoint_url()
            ),
        ),
    ] {
        let file = tempfile::Builder::new()
            .suffix(".yml")
            .tempfile()
            .expect("temp file");
        std::fs::write(file.path(), config).expect("write config");
        let mut command = binary(&[
            "--config.file",
            file.path().to_str().expect("UTF-8"),
            "--web.listen-address",
            "127.0.0.1:0",
            "--log.format",
            "json",
        ]);
        command
            .env("AWS_ACCESS_KEY_ID", "AKIDE2ETEST0000")
            .env("AWS_SECRET_ACCESS_KEY", "e2e-secret");
        for (k, v) in &env {
            command.env(k, v);
        }
        let mut exporter = Running::spawn(command);
        let addr = SocketAddr::from((
            [127, 0, 0, 1],
            tokio::task::block_in_place(|| exporter.listening_port()),
        ));
        scrape_until(addr, &format!("the target up with {env:?}"), |t| {
            value(t, &up) == Some(1.0)
        })
        .await;
        let (status, _) = exporter.terminate();
        assert!(status.success());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_role_targets_in_a_region_each_assume_their_role_once() {
    // More role targets in each region than a shared credentials cache holds (64): each
    // keeps its own, so two cycles take one AssumeRole per target, not one per call.
    let sim = organization(80, 1).await;
    let (exporter, addr, _file) = start(&discovery(&sim.endpoint_url(), ""), &[]);
    let targets_expected = 81 * REGIONS.len();
    let text = scrape_until(addr, "two cycles of every target", |t| {
        let reads = per_target(
            t,
            "cognito_exporter_api_requests_total",
            "operation=\"GetLogDeliveryConfiguration\"",
        );
        reads.len() == targets_expected && reads.values().all(|&n| n >= 2.0)
    })
    .await;
    let assumed = per_target(
        &text,
        "cognito_exporter_api_requests_total",
        "operation=\"AssumeRole\"",
    );
    assert_eq!(assumed.len(), targets_expected, "{assumed:?}");
    let again: Vec<_> = assumed.iter().filter(|(_, n)| **n != 1.0).collect();
    assert!(again.is_empty(), "assumed more than once: {again:?}");
    let (status, _) = exporter.terminate();
    assert!(status.success());
}

/// The listing calls Organizations with the `poll` time limits in force: a reload that
/// changes them starts discovery again with them, as it hands them to the targets.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_applies_new_time_limits_to_the_listing() {
    let sim = organization(2, 1).await;
    // Every listing answers 1.5 s late: too late for a 1 s limit, in time for 9 s.
    sim.state()
        .set_faults(cognito_sim::FaultSet {
            rules: vec![
                cognito_sim::FaultRule::new(cognito_sim::Fault::Latency {
                    fixed: Duration::from_millis(1500),
                    jitter: Duration::ZERO,
                })
                .operation("ListAccounts"),
            ],
            ..cognito_sim::FaultSet::default()
        })
        .expect("a valid fault set");
    let with_timeout = |timeout: &str| {
        discovery(&sim.endpoint_url(), "").replace(
            "interval: 2s\n",
            &format!("interval: 2s\n  timeout: {timeout}\n"),
        )
    };
    let (mut exporter, addr, file) = start(&with_timeout("1s"), &[]);
    tokio::task::block_in_place(|| exporter.wait_for("cannot list the organization's accounts"));
    assert!(targets(&scrape(addr).await).is_empty(), "no listing yet");

    rewrite(file.path(), &with_timeout("9s"));
    exporter.signal("HUP");
    tokio::task::block_in_place(|| exporter.wait_for("configuration reloaded"));
    // Two members and the management account, in two regions.
    scrape_until(addr, "the organization listed within the new limit", |t| {
        targets(t).len() == 6
    })
    .await;
    let (status, _) = exporter.terminate();
    assert!(status.success());
}
