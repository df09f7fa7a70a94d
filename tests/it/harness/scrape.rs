//! Scraping like Prometheus, and reading samples out of the text exposition.

use std::net::SocketAddr;
use std::time::Duration;

use super::http::request;
use super::in_process::{ACCOUNT, REGION};
use super::wait_until;

/// How long a test waits for the exposition to show what it expects: several cycles of
/// the slowest poll the tests configure, SDK retries included.
const SHOWS_WITHIN: Duration = Duration::from_secs(15);

/// The classic text exposition.
pub(crate) async fn scrape(addr: SocketAddr) -> String {
    let reply = request(addr, "GET", "/metrics", &[]).await;
    assert_eq!(reply.status, 200);
    reply.text()
}

/// Scrapes until `check` passes, returning the passing exposition.
pub(crate) async fn scrape_until(
    addr: SocketAddr,
    what: &str,
    check: impl Fn(&str) -> bool,
) -> String {
    wait_until(what, SHOWS_WITHIN, async || {
        let text = scrape(addr).await;
        if check(&text) {
            Ok(text)
        } else {
            Err(format!("this scrape:\n{text}"))
        }
    })
    .await
}

/// Waits for a cycle to end after now, and returns a scrape taken right after it, while
/// the next cycle has not begun (use an interval of a second or more).
pub(crate) async fn scrape_between_cycles(addr: SocketAddr) -> String {
    let last = target_series("cognito_exporter_last_poll_timestamp_seconds", "");
    let before = value(&scrape(addr).await, &last);
    scrape_until(addr, "the next cycle", |t| value(t, &last) != before).await
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

/// One cell of a pool's log-destination matrix.
pub(crate) fn matrix_series(pool: &str, source: &str, level: &str, kind: &str) -> String {
    pool_series(
        "cognito_log_destination_configured",
        pool,
        &format!(r#"source="{source}",level="{level}",kind="{kind}""#),
    )
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
