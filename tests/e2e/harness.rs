//! Starts a simulator and an exporter in-process on loopback, and scrapes like a user.

use std::net::SocketAddr;
use std::time::Duration;

use cognito_exporter::aws::ClientOptions;
use cognito_exporter::config::{Config, PollConfig, TargetConfig};
use cognito_exporter::http::ServerOptions;
use cognito_sim::{self as sim, RunningSim, SimOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub(crate) const ACCOUNT: &str = "123456789012";
pub(crate) const REGION: &str = "eu-west-1";

pub(crate) struct Exporter {
    pub(crate) addr: SocketAddr,
    pub(crate) shutdown: CancellationToken,
    pub(crate) task: JoinHandle<Result<(), cognito_exporter::RunError>>,
}

pub(crate) fn credentials() -> ClientOptions {
    ClientOptions {
        credentials: Some(aws_credential_types::Credentials::new(
            "AKIDE2ETEST0000",
            "e2e-secret",
            None,
            None,
            "e2e",
        )),
    }
}

pub(crate) async fn simulator() -> RunningSim {
    sim::spawn(SimOptions {
        regions: vec![REGION.into()],
        ..SimOptions::default()
    })
    .await
    .expect("simulator starts")
}

/// A target polling `sim` in its region.
pub(crate) fn target(sim: &RunningSim) -> TargetConfig {
    TargetConfig {
        region: Some(REGION.into()),
        endpoint_url: Some(sim.endpoint_url()),
        ..TargetConfig::default()
    }
}

pub(crate) fn fast_poll() -> PollConfig {
    PollConfig {
        interval: Duration::from_millis(300),
        timeout: Duration::from_secs(5),
        requests_per_second: 500.0,
        concurrency: 4,
        max_staleness: Duration::from_secs(60),
    }
}

pub(crate) async fn start(targets: Vec<TargetConfig>, poll: PollConfig) -> Exporter {
    start_with(targets, poll, ServerOptions::default()).await
}

/// Logs of the code under test, shown with a failing test's output.
fn init_logs() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(cognito_exporter::logging::filter("debug"))
        .with_test_writer()
        .try_init();
}

pub(crate) async fn start_with(
    targets: Vec<TargetConfig>,
    poll: PollConfig,
    server: ServerOptions,
) -> Exporter {
    init_logs();
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let shutdown = CancellationToken::new();
    let config = Config {
        poll,
        targets,
        warnings: Vec::new(),
    };
    let task = tokio::spawn(cognito_exporter::run(
        config,
        listener,
        server,
        credentials(),
        shutdown.clone(),
    ));
    Exporter {
        addr,
        shutdown,
        task,
    }
}

/// A parsed HTTP/1.1 response.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Reply {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn text(&self) -> String {
        String::from_utf8(self.body.clone()).expect("UTF-8 body")
    }
}

/// Sends one request (with `Connection: close`) and reads the whole reply.
pub(crate) async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> Reply {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.expect("write");
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut raw))
        .await
        .expect("reply within 10 s")
        .expect("read");
    parse(&raw)
}

pub(crate) fn parse(raw: &[u8]) -> Reply {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete head");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    Reply {
        status,
        headers,
        body: raw[split + 4..].to_vec(),
    }
}

/// The classic text exposition.
pub(crate) async fn scrape(addr: SocketAddr) -> String {
    let reply = request(addr, "GET", "/metrics", &[]).await;
    assert_eq!(reply.status, 200);
    reply.text()
}

/// Scrapes until `check` passes (at most 15 s), returning the passing exposition.
pub(crate) async fn scrape_until(
    addr: SocketAddr,
    what: &str,
    check: impl Fn(&str) -> bool,
) -> String {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let text = scrape(addr).await;
        if check(&text) {
            return text;
        }
        if tokio::time::Instant::now() > deadline {
            panic!("timed out waiting for {what}; last scrape:\n{text}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The value of the sample whose line starts with `series` (name and labels).
pub(crate) fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.parse().ok())
}

/// `name{aws_account_id=…,aws_region=…,pool=…` plus `rest` labels.
pub(crate) fn pool_series(name: &str, pool: &str, rest: &str) -> String {
    let sep = if rest.is_empty() { "" } else { "," };
    format!(
        r#"{name}{{aws_account_id="{ACCOUNT}",aws_region="{REGION}",pool="{pool}"{sep}{rest}}}"#
    )
}

pub(crate) fn matrix_series(pool: &str, source: &str, level: &str, kind: &str) -> String {
    pool_series(
        "cognito_log_destination_configured",
        pool,
        &format!(r#"source="{source}",level="{level}",kind="{kind}""#),
    )
}

pub(crate) async fn simulator_with(options: SimOptions) -> RunningSim {
    sim::spawn(options).await.expect("simulator starts")
}

/// `name{aws_account_id=…,aws_region=…` plus `rest` labels, for target-level series.
pub(crate) fn target_series(name: &str, rest: &str) -> String {
    let sep = if rest.is_empty() { "" } else { "," };
    format!(r#"{name}{{aws_account_id="{ACCOUNT}",aws_region="{REGION}"{sep}{rest}}}"#)
}

/// The exporter's count of failed attempts of `op` labelled `exception` (0 when absent).
pub(crate) fn errors(text: &str, op: &str, exception: &str) -> f64 {
    value(
        text,
        &target_series(
            "cognito_exporter_api_errors_total",
            &format!(r#"operation="{op}",exception="{exception}""#),
        ),
    )
    .unwrap_or(0.0)
}

/// The exporter's count of attempts of `op`.
pub(crate) fn requests(text: &str, op: &str) -> f64 {
    value(
        text,
        &target_series(
            "cognito_exporter_api_requests_total",
            &format!(r#"operation="{op}""#),
        ),
    )
    .unwrap_or(0.0)
}

/// Waits for a cycle to end after now, and returns a scrape taken right after it, while
/// the next cycle has not begun (use an interval of a second or more).
pub(crate) async fn scrape_between_cycles(addr: SocketAddr) -> String {
    let last = target_series("cognito_exporter_last_poll_timestamp_seconds", "");
    let before = value(&scrape(addr).await, &last);
    scrape_until(addr, "the next cycle", |t| value(t, &last) != before).await
}
