//! The status page at `/` against the simulator: it shows a target's pools after a
//! cycle, follows the next cycle that changes them, and sits behind basic auth like
//! `/metrics`.

use std::net::SocketAddr;
use std::time::Duration;

use cognito_exporter::http::ServerOptions;
use cognito_sim::LogConfiguration;
use web_config::WebSecurity;

use crate::harness::*;

const CW: &str = "arn:aws:logs:eu-west-1:123456789012:log-group:/cognito/errors";
/// `alice:status-page-secret`, as a browser sends it.
const ALICE: &str = "Basic YWxpY2U6c3RhdHVzLXBhZ2Utc2VjcmV0";
const PASSWORD: &str = "status-page-secret";

/// Waits until the status page, fetched with `headers`, satisfies `done`; returns it.
async fn page_until(
    addr: SocketAddr,
    headers: &[(&str, &str)],
    what: &str,
    done: impl Fn(&str) -> bool,
) -> String {
    wait_until(what, Duration::from_secs(20), async || {
        let reply = try_request(addr, "GET", "/", headers).await?;
        let text = String::from_utf8_lossy(&reply.body).into_owned();
        if reply.status == 200 && done(&text) {
            Ok(text)
        } else {
            Err(format!("{}: {text}", reply.status))
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_shows_the_pools_and_follows_the_cycles() {
    let sim = simulator().await;
    let state = sim.state();
    let covered = state.create_pool(ACCOUNT, REGION, "prod-covered");
    let bare = state.create_pool(ACCOUNT, REGION, "prod-bare");
    state
        .set_log_configurations(
            ACCOUNT,
            REGION,
            &covered.id,
            vec![LogConfiguration::user_notification(CW)],
        )
        .expect("valid");
    let exporter = start(vec![target(&sim)], fast_poll()).await;

    let page = page_until(exporter.addr, &[], "the first cycle on the page", |t| {
        t.contains(&*bare.id)
    })
    .await;
    assert!(
        page.contains(&format!("<td>{ACCOUNT}</td><td>{REGION}</td>")),
        "{page}"
    );
    assert!(page.contains("1 target: 1 up"), "{page}");
    assert!(page.contains("Pools with no log destination (1)"), "{page}");
    assert!(page.contains("<td>prod-bare</td>"), "{page}");
    assert!(
        page.contains("<b>1</b>with message-delivery error logs (userNotification)"),
        "{page}"
    );
    let reply = request(exporter.addr, "GET", "/", &[]).await;
    assert_eq!(
        reply.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(reply.header("content-encoding"), None);
    assert_eq!(reply.header("vary"), Some("Accept-Encoding"));
    // Compressed for a browser, which accepts gzip: the same page.
    let gz = request(
        exporter.addr,
        "GET",
        "/",
        &[("Accept-Encoding", "gzip, deflate, br")],
    )
    .await;
    assert_eq!(gz.header("content-encoding"), Some("gzip"));
    assert_eq!(gz.header("vary"), Some("Accept-Encoding"));
    assert_eq!(gz.header("content-type"), Some("text/html; charset=utf-8"));
    // (A cycle in between may have changed the times on it: whole page, same pools.)
    let inflated = gz.gunzipped();
    assert!(inflated.trim_end().ends_with("</html>"), "{inflated}");
    assert!(inflated.contains("<td>prod-bare</td>"), "{inflated}");
    assert!(gz.body.len() < reply.body.len(), "smaller");
    let head = request(exporter.addr, "HEAD", "/", &[]).await;
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    assert_eq!(
        head.header("content-type"),
        Some("text/html; charset=utf-8")
    );

    // The bare pool gets a destination: a later cycle takes it off the list.
    state
        .set_log_configurations(
            ACCOUNT,
            REGION,
            &bare.id,
            vec![LogConfiguration::user_notification(CW)],
        )
        .expect("valid");
    let page = page_until(exporter.addr, &[], "the change on the page", |t| {
        t.contains("Pools with no log destination (0)")
    })
    .await;
    assert!(!page.contains("<td>prod-bare</td>"), "{page}");
    assert!(
        page.contains("<b>2</b>with message-delivery error logs (userNotification)"),
        "{page}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_auth_protects_the_page() {
    let sim = simulator().await;
    let pool = sim.state().create_pool(ACCOUNT, REGION, "prod-secret");
    let dir = tempfile::tempdir().expect("temporary directory");
    let web = dir.path().join("web.yml");
    let hash = bcrypt::hash(PASSWORD, 4).expect("bcrypt");
    std::fs::write(&web, format!("basic_auth_users:\n  alice: {hash}\n")).expect("write");
    let security =
        WebSecurity::from_file(&web, &cognito_exporter::http::server_info()).expect("web config");
    let server = ServerOptions {
        security: Some(security),
        ..ServerOptions::default()
    };
    let exporter = start_with(vec![target(&sim)], fast_poll(), server).await;

    let page = page_until(
        exporter.addr,
        &[("Authorization", ALICE)],
        "the pool on the page",
        |t| t.contains(&*pool.id),
    )
    .await;
    assert!(page.contains("prod-secret"), "{page}");

    let anonymous = request(exporter.addr, "GET", "/", &[]).await;
    assert_eq!(anonymous.status, 401);
    assert!(!anonymous.text().contains(&*pool.id));
    let wrong = request(
        exporter.addr,
        "GET",
        "/",
        &[("Authorization", "Basic YWxpY2U6d3Jvbmc=")],
    )
    .await;
    assert_eq!(wrong.status, 401);
}
