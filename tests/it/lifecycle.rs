//! Readiness, routing, request limits and shutdown, as an orchestrator and a scraper
//! see them.

use std::time::Duration;

use cognito_exporter::config::TargetConfig;
use tokio::net::TcpListener;

use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_only_after_every_target_finished_a_first_cycle() {
    // A target whose endpoint accepts connections and never answers: its first cycle
    // lasts until the operation timeout.
    let black_hole = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let hole = black_hole.local_addr().expect("addr");
    let holder = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = black_hole.accept().await {
            held.push(s);
        }
    });
    let sim = simulator().await;
    let mut poll = fast_poll();
    poll.timeout = Duration::from_secs(2);
    let stuck = TargetConfig {
        region: Some("us-east-1".into()),
        endpoint_url: Some(format!("http://{hole}")),
        ..TargetConfig::default()
    };
    let exporter = start(vec![target(&sim), stuck], poll).await;

    let healthy = request(exporter.addr, "GET", "/-/healthy", &[]).await;
    assert_eq!(healthy.status, 200);
    let early = request(exporter.addr, "GET", "/-/ready", &[]).await;
    assert_eq!(
        early.status, 503,
        "ready before the stuck target's first cycle"
    );

    wait_until("ready", Duration::from_secs(15), async || {
        match request(exporter.addr, "GET", "/-/ready", &[]).await.status {
            200 => Ok(()),
            status => Err(format!("/-/ready answered {status}")),
        }
    })
    .await;
    let text = scrape(exporter.addr).await;
    assert!(
        text.contains(r#"cognito_exporter_target_up{aws_account_id="",aws_region="us-east-1"} 0"#),
        "the failed target is down, under an unknown account:\n{text}"
    );
    holder.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routing_methods_and_landing_page() {
    let sim = simulator().await;
    let exporter = start(vec![target(&sim)], fast_poll()).await;

    let post = request(
        exporter.addr,
        "POST",
        "/metrics",
        &[("Content-Length", "0")],
    )
    .await;
    assert_eq!(post.status, 405);
    assert_eq!(post.header("allow"), Some("GET, HEAD"));
    assert_eq!(
        request(exporter.addr, "GET", "/nope", &[]).await.status,
        404
    );

    let head = request(exporter.addr, "HEAD", "/metrics", &[]).await;
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    assert!(head.header("content-length").is_some_and(|l| l != "0"));

    let landing = request(exporter.addr, "GET", "/", &[]).await;
    assert_eq!(landing.status, 200);
    let page = landing.text();
    assert!(
        page.contains("cognito-exporter") && page.contains(r#"href="/metrics""#),
        "{page}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversize_headers_are_rejected() {
    let sim = simulator().await;
    let exporter = start(vec![target(&sim)], fast_poll()).await;
    let big = "x".repeat(64 * 1024);
    let reply = request(exporter.addr, "GET", "/metrics", &[("X-Big", &big)]).await;
    assert_eq!(reply.status, 431);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_stops_accepting_and_returns_cleanly() {
    let sim = simulator().await;
    let exporter = start(vec![target(&sim)], fast_poll()).await;
    assert_eq!(
        request(exporter.addr, "GET", "/-/healthy", &[])
            .await
            .status,
        200
    );
    exporter.shutdown.cancel();
    let addr = exporter.addr;
    let result = tokio::time::timeout(Duration::from_secs(15), exporter.task)
        .await
        .expect("stops within the grace period")
        .expect("the task does not panic");
    assert!(result.is_ok(), "{result:?}");
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "still accepting"
    );
}
