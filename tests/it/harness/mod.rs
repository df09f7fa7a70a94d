//! What the test modules share: the exporter and the simulator in-process, the real
//! binary as a child process, an HTTP client that scrapes like a user, certificates for
//! TLS, and bounded waits on a condition.

mod child;
mod http;
mod in_process;
mod scrape;
mod tls;

use std::time::Duration;

pub(crate) use child::{Running, binary, binary_with_open_files, rewrite, spawn_with_config};
pub(crate) use http::{read_until, request, stuck_scrape, try_request, was_reset};
pub(crate) use in_process::{
    ACCOUNT, Exporter, REGION, bulk_poll, config_from_yaml, create_pools, fast_poll, fault_set,
    simulator, simulator_with, start, start_config, start_with, start_with_small_buffers, target,
};
pub(crate) use scrape::{
    errors, matrix_series, pool_series, requests, scrape, scrape_between_cycles, scrape_until,
    target_series, value,
};
pub(crate) use tls::TlsFiles;

/// How often a wait looks again: quick enough not to slow a test, slow enough not to
/// load the machine.
const POLL_EVERY: Duration = Duration::from_millis(100);

/// Calls `probe` until it returns `Ok`, and returns that; panics naming `what`, with the
/// last `Err` (what was seen instead), if that takes longer than `within`.
pub(crate) async fn wait_until<T>(
    what: &str,
    within: Duration,
    mut probe: impl AsyncFnMut() -> Result<T, String>,
) -> T {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let seen = match probe().await {
            Ok(done) => return done,
            Err(seen) => seen,
        };
        if tokio::time::Instant::now() >= deadline {
            panic!("timed out after {within:?} waiting for {what}; last seen: {seen}");
        }
        tokio::time::sleep(POLL_EVERY).await;
    }
}
