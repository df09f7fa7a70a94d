//! Reloading the configuration without a restart: by SIGHUP and by `POST /-/reload`,
//! targets come and go while the others are never interrupted; a broken file changes
//! nothing and says why; without `--web.enable-lifecycle` the endpoint refuses.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use cognito_exporter::http::ServerOptions;
use cognito_sim::SimOptions;
use tokio_util::sync::CancellationToken;

use crate::harness::{
    REGION, fast_poll, request, rewrite, scrape, scrape_until, simulator, spawn_with_config,
    start_with, target, value,
};

const A: &str = "111111111111";
const B: &str = "222222222222";
const C: &str = "333333333333";

/// `cognito_exporter_target_up` of `account` in the test region.
fn up(text: &str, account: &str) -> Option<f64> {
    value(
        text,
        &format!(
            r#"cognito_exporter_target_up{{aws_account_id="{account}",aws_region="{REGION}"}}"#
        ),
    )
}

/// Whether any series names `account`.
fn mentions(text: &str, account: &str) -> bool {
    text.contains(&format!(r#"aws_account_id="{account}""#))
}

fn config(endpoint: &str, accounts: &[&str]) -> String {
    let mut yaml = "poll:\n  interval: 1s\n  requests_per_second: 100\ntargets:\n".to_owned();
    for account in accounts {
        yaml.push_str(&format!(
            "  - region: {REGION}\n    endpoint_url: {endpoint}\n    \
             role_arn: arn:aws:iam::{account}:role/exporter\n"
        ));
    }
    yaml
}

/// Scrapes until `stop`, checking in every scrape that account `A`'s series are all
/// there and its request count never goes back (its task was never restarted).
/// Returns how many scrapes it took.
async fn watch_untouched(addr: SocketAddr, pool: String, stop: CancellationToken) -> usize {
    let requests = format!(
        r#"cognito_exporter_api_requests_total{{aws_account_id="{A}",aws_region="{REGION}",operation="GetLogDeliveryConfiguration"}}"#
    );
    let pool = format!(r#"pool="{pool}""#);
    let mut last = 0.0;
    let mut scrapes = 0;
    while !stop.is_cancelled() {
        let text = scrape(addr).await;
        assert_eq!(up(&text, A), Some(1.0), "A went down or away:\n{text}");
        assert!(text.contains(&pool), "A's pool went away:\n{text}");
        let count = value(&text, &requests).expect("A's request counter");
        assert!(
            count >= last,
            "A's counter went back from {last} to {count}"
        );
        last = count;
        scrapes += 1;
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    scrapes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_and_post_reload_change_targets_and_leave_the_others_untouched() {
    let sim = cognito_sim::spawn(SimOptions {
        regions: vec![REGION.into()],
        ..SimOptions::default()
    })
    .await
    .expect("simulator starts");
    let pool_of_a = sim.state().create_pool(A, REGION, "prod-a").id;
    for account in [B, C] {
        sim.state()
            .create_pool(account, REGION, &format!("prod-{account}"));
    }
    let endpoint = sim.endpoint_url();
    let (mut exporter, port, file) = tokio::task::block_in_place(|| {
        spawn_with_config(&config(&endpoint, &[A, B]), &["--web.enable-lifecycle"])
    });
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    scrape_until(addr, "A and B up", |t| {
        up(t, A) == Some(1.0) && up(t, B) == Some(1.0)
    })
    .await;

    let stop = CancellationToken::new();
    let watcher = tokio::spawn(watch_untouched(addr, pool_of_a, stop.clone()));

    // SIGHUP: B leaves, C joins.
    rewrite(file.path(), &config(&endpoint, &[A, C]));
    exporter.signal("HUP");
    tokio::task::block_in_place(|| exporter.wait_for("configuration reloaded"));
    scrape_until(addr, "C in, B gone, 2 targets", |t| {
        up(t, C) == Some(1.0)
            && !mentions(t, B)
            && value(t, "cognito_exporter_targets") == Some(2.0)
            && value(t, "cognito_exporter_config_last_reload_successful") == Some(1.0)
    })
    .await;

    // POST /-/reload: back to A and B.
    rewrite(file.path(), &config(&endpoint, &[A, B]));
    let reply = request(addr, "POST", "/-/reload", &[]).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    // The reload is done when it answers: C's series are already gone.
    let text = scrape(addr).await;
    assert!(
        !mentions(&text, C),
        "C still there after the reload:\n{text}"
    );
    scrape_until(addr, "B back", |t| up(t, B) == Some(1.0)).await;

    // A broken file: 500 naming the key, nothing changes.
    let before = value(
        &scrape(addr).await,
        "cognito_exporter_config_last_reload_success_timestamp_seconds",
    )
    .expect("a success timestamp");
    rewrite(
        file.path(),
        &format!(
            "{}  - region: {REGION}\n    user_pools: [nope]\n",
            config(&endpoint, &[A])
        ),
    );
    let reply = request(addr, "PUT", "/-/reload", &[]).await;
    let body = reply.text();
    assert_eq!(reply.status, 500, "{body}");
    assert!(body.contains("targets[1].user_pools[0]"), "{body}");
    assert!(
        body.contains(file.path().to_str().expect("UTF-8")),
        "{body}"
    );
    tokio::task::block_in_place(|| exporter.wait_for("configuration not reloaded"));
    // The exporter's own metrics may be up to a second old in a scrape.
    let text = scrape_until(addr, "the failed reload in the metrics", |t| {
        value(t, "cognito_exporter_config_last_reload_successful") == Some(0.0)
    })
    .await;
    assert_eq!(
        value(
            &text,
            "cognito_exporter_config_last_reload_success_timestamp_seconds"
        ),
        Some(before)
    );
    assert_eq!(up(&text, B), Some(1.0), "B still polled:\n{text}");
    assert_eq!(value(&text, "cognito_exporter_targets"), Some(2.0));

    stop.cancel();
    let scrapes = watcher.await.expect("the watcher ran");
    assert!(scrapes >= 3, "only {scrapes} scrapes during the reloads");
    let (status, _) = exporter.terminate();
    assert!(status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reload_endpoint_needs_the_lifecycle_flag_and_post_or_put() {
    let sim = simulator().await;
    let exporter = start_with(vec![target(&sim)], fast_poll(), ServerOptions::default()).await;
    let reply = request(exporter.addr, "POST", "/-/reload", &[]).await;
    assert_eq!(reply.status, 403);
    let body = reply.text();
    assert_eq!(body.lines().count(), 1, "{body}");
    assert!(body.contains("--web.enable-lifecycle"), "{body}");
    let reply = request(exporter.addr, "GET", "/-/reload", &[]).await;
    assert_eq!(reply.status, 405);
    assert_eq!(reply.header("allow"), Some("POST, PUT"));
    exporter.shutdown.cancel();
    exporter.task.await.expect("joins").expect("runs");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighups_in_a_row_reload_each_time() {
    let sim = cognito_sim::spawn(SimOptions {
        regions: vec![REGION.into()],
        ..SimOptions::default()
    })
    .await
    .expect("simulator starts");
    let endpoint = sim.endpoint_url();
    let (mut exporter, _port, file) =
        tokio::task::block_in_place(|| spawn_with_config(&config(&endpoint, &[A]), &[]));
    let reloads = Arc::new(AtomicUsize::new(0));
    for accounts in [&[A, B][..], &[B], &[A, B, C]] {
        rewrite(file.path(), &config(&endpoint, accounts));
        exporter.signal("HUP");
        let line = tokio::task::block_in_place(|| exporter.wait_for("configuration reloaded"));
        assert!(
            line.contains(&format!("\"targets\":{}", accounts.len())),
            "{line}"
        );
        reloads.fetch_add(1, Ordering::Relaxed);
    }
    assert_eq!(reloads.load(Ordering::Relaxed), 3);
    let (status, _) = exporter.terminate();
    assert!(status.success());
}
