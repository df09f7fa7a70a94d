//! Listening as the real binary does it: `:PORT` on IPv4 and IPv6, an address already
//! in use, and accepting while the process is out of file descriptors.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};

use crate::harness::*;

/// Logged by the exporter's accept loop (the simulator of `--demo` has its own).
const ACCEPT_FAILED: &str = r#""message":"accept failed""#;
const EXPORTER_ACCEPT: &str = r#""target":"cognito_exporter::http"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_port_alone_listens_on_ipv4_and_ipv6() {
    // `:0` listens on every interface, as the default `:9866` does; the test connects
    // over loopback only.
    let mut exporter = Running::spawn(binary(&[
        "--demo",
        "--web.listen-address",
        ":0",
        "--log.format",
        "json",
    ]));
    let port = exporter.listening_port();
    let v4 = request(
        SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
        "GET",
        "/-/healthy",
        &[],
    )
    .await;
    assert_eq!(v4.status, 200, "over IPv4");
    if TcpListener::bind((Ipv6Addr::LOCALHOST, 0)).await.is_err() {
        eprintln!("skipped the IPv6 half: this machine has no IPv6 loopback");
    } else {
        let v6 = request(
            SocketAddr::from((Ipv6Addr::LOCALHOST, port)),
            "GET",
            "/-/healthy",
            &[],
        )
        .await;
        assert_eq!(v6.status, 200, "over IPv6");
    }
    let (status, log) = exporter.terminate();
    assert_eq!(status.code(), Some(0), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_in_use_is_named_and_exits_2() {
    let taken = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = taken.local_addr().expect("addr").to_string();
    let exporter = Running::spawn(binary(&["--demo", "--web.listen-address", &addr]));
    let (status, log) = exporter.exit();
    assert_eq!(status.code(), Some(2), "{log}");
    assert!(
        log.contains("cannot listen") && log.contains(&format!("{addr}: ")),
        "the address is named:\n{log}"
    );
    assert!(log.contains("in use"), "{log}");
    drop(taken);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_file_descriptors_accept_backs_off_and_warns_once() {
    // The demo exporter holds about 15 descriptors; 64 runs out after some 50
    // connections.
    let mut exporter = Running::spawn(binary_with_open_files(
        64,
        &[
            "--demo",
            "--web.listen-address",
            "127.0.0.1:0",
            "--log.format",
            "json",
        ],
    ));
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, exporter.listening_port()));
    // The kernel completes every connection whether or not the exporter can accept it.
    let mut held = Vec::new();
    for _ in 0..100 {
        held.push(TcpStream::connect(addr).await.expect("connect"));
    }
    let first = exporter.wait_for(ACCEPT_FAILED);
    assert!(first.contains(EXPORTER_ACCEPT), "{first}");
    // Accepting keeps failing while the connections are held; the next warning is due
    // in a minute. (Before, one came every 50 ms.)
    let more: Vec<_> = exporter
        .lines_within(Duration::from_secs(2), ACCEPT_FAILED)
        .into_iter()
        .filter(|l| l.contains(EXPORTER_ACCEPT))
        .collect();
    assert!(more.is_empty(), "warned again within 2 s: {more:#?}");

    // Descriptors free again: accepting resumes.
    drop(held);
    wait_until(
        "the exporter to accept again",
        Duration::from_secs(15),
        async || match try_request(addr, "GET", "/-/healthy", &[]).await {
            Ok(reply) if reply.status == 200 => Ok(()),
            Ok(reply) => Err(format!("/-/healthy answered {}", reply.status)),
            Err(e) => Err(e),
        },
    )
    .await;
    let (status, log) = exporter.terminate();
    assert_eq!(status.code(), Some(0), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_listen_address_serves_the_same_endpoints_until_shutdown() {
    let mut exporter = Running::spawn(binary(&[
        "--demo",
        "--web.listen-address",
        "127.0.0.1:0",
        "--web.listen-address",
        "127.0.0.1:0",
        "--log.format",
        "json",
    ]));
    let ports = [exporter.listening_port(), exporter.listening_port()];
    assert_ne!(ports[0], ports[1], "two sockets");
    let addrs = ports.map(|port| SocketAddr::from((Ipv4Addr::LOCALHOST, port)));
    for addr in addrs {
        wait_until(
            "ready on every address",
            Duration::from_secs(30),
            async || match try_request(addr, "GET", "/-/ready", &[]).await {
                Ok(reply) if reply.status == 200 => Ok(()),
                Ok(reply) => Err(format!("{addr}/-/ready answered {}", reply.status)),
                Err(e) => Err(e),
            },
        )
        .await;
        let metrics = request(addr, "GET", "/metrics", &[]).await;
        assert_eq!(metrics.status, 200, "{addr}");
        let text = String::from_utf8_lossy(&metrics.body);
        assert!(
            text.contains("cognito_log_destination_configured{"),
            "{addr} serves the exposition"
        );
    }
    let (status, log) = exporter.terminate();
    assert_eq!(status.code(), Some(0), "{log}");
    for addr in addrs {
        assert!(
            TcpStream::connect(addr).await.is_err(),
            "{addr} closed with the process"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listen_address_given_twice_is_refused() {
    let exporter = Running::spawn(binary(&[
        "--demo",
        "--web.listen-address",
        "127.0.0.1:9",
        "--web.listen-address",
        "127.0.0.1:9",
    ]));
    let (status, log) = exporter.exit();
    assert_eq!(status.code(), Some(2), "{log}");
    assert!(
        log.contains("--web.listen-address") && log.contains("\"127.0.0.1:9\" is given twice"),
        "{log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disable_exporter_metrics_leaves_out_process_and_http_metrics() {
    let mut exporter = Running::spawn(binary(&[
        "--demo",
        "--web.listen-address",
        "127.0.0.1:0",
        "--web.disable-exporter-metrics",
        "--log.format",
        "json",
    ]));
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, exporter.listening_port()));
    let text = crate::harness::scrape_until(addr, "the demo's first cycle", |t| {
        t.contains("cognito_log_destination_configured{")
    })
    .await;
    assert!(text.contains("cognito_exporter_build_info{"), "{text}");
    assert!(
        !text
            .lines()
            .any(|l| l.starts_with("process_") || l.starts_with("cognito_exporter_http_")),
        "left out:\n{text}"
    );
    let (status, log) = exporter.terminate();
    assert_eq!(status.code(), Some(0), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_web_config_rate_limit_answers_429_past_its_burst_but_never_to_probes() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let web = dir.path().join("web.yml");
    std::fs::write(&web, "rate_limit:\n  interval: 1h\n  burst: 2\n").expect("write");
    let mut exporter = Running::spawn(binary(&[
        "--demo",
        "--web.listen-address",
        "127.0.0.1:0",
        "--web.config.file",
        web.to_str().expect("a UTF-8 path"),
        "--log.format",
        "json",
    ]));
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, exporter.listening_port()));
    let mut codes = Vec::new();
    for _ in 0..3 {
        codes.push(request(addr, "GET", "/metrics", &[]).await.status);
    }
    assert_eq!(codes, [200, 200, 429], "a burst of 2, then one an hour");
    assert_eq!(
        request(addr, "GET", "/", &[]).await.status,
        429,
        "across paths"
    );
    for probe in ["/-/healthy", "/-/ready"] {
        let status = request(addr, "GET", probe, &[]).await.status;
        assert!(
            status == 200 || status == 503,
            "{probe} is exempt: {status}"
        );
    }
    let (status, log) = exporter.terminate();
    assert_eq!(status.code(), Some(0), "{log}");
}
