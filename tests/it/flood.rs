//! A scraper against a flood of hostile sockets, all on loopback: a thousand idle
//! connections re-opened as soon as they are cut, and clients that ask for a large
//! uncompressed body and never read it. Bounded: the flood lasts as long as the 20
//! scrapes (about 20 s), and caps its reconnections.

use std::io::Read;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use cognito_exporter::http::ServerOptions;
use flate2::read::GzDecoder;
use tokio::io::{AsyncReadExt, Interest};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::harness::*;

/// Idle sockets: the default `--web.max-connections`.
const IDLE: usize = 1024;
/// Clients that never read: the default `--web.max-requests`.
const NON_READERS: usize = 40;
/// Pools: a body of about 13 MB uncompressed, far beyond what socket buffers hold.
const POOLS: usize = 10_000;
/// The scraper's scrapes, one a second.
const SCRAPES: u32 = 20;
/// A scrape gets this long, as Prometheus's default `scrape_timeout`.
const SCRAPE_TIMEOUT: Duration = Duration::from_secs(10);
/// The flood's connections in all, whatever the pace of the cuts.
const MAX_CONNECTS: u64 = 2_000_000;
/// Descriptors the test needs: both ends of every connection, and some.
const FDS_NEEDED: u64 = 4096;
/// Idle sockets connecting at once. A burst of a thousand overflows the listen backlog,
/// and the kernel then completes connections the server never learns of (SYN cookies):
/// they would hold nothing. Paced, every socket reaches the server.
const CONNECTING_AT_ONCE: usize = 32;

/// What the flood did.
#[derive(Default)]
struct Counts {
    connects: AtomicU64,
    idle_open: AtomicU64,
    idle_cut: AtomicU64,
    holding: AtomicU64,
    non_reader_requests: AtomicU64,
    non_readers_reset: AtomicU64,
    connect_errors: AtomicU64,
}

impl Counts {
    fn may_connect(&self) -> bool {
        self.connects.fetch_add(1, Ordering::Relaxed) < MAX_CONNECTS
    }
}

/// An idle socket: connects, says nothing, and connects again once the server cuts it.
async fn idle_socket(
    addr: SocketAddr,
    stop: CancellationToken,
    counts: Arc<Counts>,
    connecting: Arc<Semaphore>,
) {
    let mut buf = [0u8; 512];
    while !stop.is_cancelled() && counts.may_connect() {
        let connected = {
            let _turn = connecting.acquire().await.expect("never closed");
            TcpStream::connect(addr).await
        };
        let mut stream = match connected {
            Ok(stream) => stream,
            Err(_) => {
                counts.connect_errors.fetch_add(1, Ordering::Relaxed);
                return;
            }
        };
        counts.idle_open.fetch_add(1, Ordering::Relaxed);
        // Cut: closed (perhaps after a 408) or reset.
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                read = stream.read(&mut buf) => match read {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                },
            }
        }
        counts.idle_open.fetch_sub(1, Ordering::Relaxed);
        counts.idle_cut.fetch_add(1, Ordering::Relaxed);
    }
}

/// A client that asks for the whole exposition uncompressed and never reads it;
/// asks again once cut.
async fn non_reader(addr: SocketAddr, stop: CancellationToken, counts: Arc<Counts>) {
    while !stop.is_cancelled() && counts.may_connect() {
        counts.non_reader_requests.fetch_add(1, Ordering::Relaxed);
        let (stream, status) = stuck_scrape(addr, &[]).await;
        if !status.starts_with("HTTP/1.1 200 ") {
            continue;
        }
        counts.holding.fetch_add(1, Ordering::Relaxed);
        tokio::select! {
            () = stop.cancelled() => return,
            _ = stream.ready(Interest::ERROR) => {}
        }
        counts.holding.fetch_sub(1, Ordering::Relaxed);
        counts.non_readers_reset.fetch_add(1, Ordering::Relaxed);
    }
}

/// One scrape as Prometheus makes it: its `Accept` header, gzip, a timeout. `Ok` with
/// the time taken when the whole exposition arrived.
async fn prometheus_scrape(addr: SocketAddr, last_pool: &str) -> Result<Duration, String> {
    let started = Instant::now();
    let reply = tokio::time::timeout(
        SCRAPE_TIMEOUT,
        try_request(
            addr,
            "GET",
            "/metrics",
            &[
                (
                    "Accept",
                    "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
                ),
                ("Accept-Encoding", "gzip"),
            ],
        ),
    )
    .await
    .map_err(|_| format!("no reply within {SCRAPE_TIMEOUT:?}"))??;
    if reply.status != 200 {
        return Err(format!("status {}", reply.status));
    }
    let mut text = String::new();
    GzDecoder::new(reply.body.as_slice())
        .read_to_string(&mut text)
        .map_err(|e| format!("gzip: {e}"))?;
    if !text.contains(last_pool) || !text.ends_with("# EOF\n") {
        return Err(format!("incomplete exposition ({} bytes)", text.len()));
    }
    Ok(started.elapsed())
}

/// Raises this process's limit on open files to at least `needed`: the soft limit to the
/// hard one, and past it when privileged; `None` if neither reaches it.
fn raise_fd_limit(needed: u64) -> Option<u64> {
    let raised = rlimit::increase_nofile_limit(u64::MAX).ok()?;
    if raised >= needed {
        return Some(raised);
    }
    // Above the hard limit only a privileged process (CI runs as root) may go.
    rlimit::Resource::NOFILE.set(needed, needed).ok()?;
    Some(needed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scraper_gets_through_idle_sockets_and_clients_that_never_read() {
    // A skipped flood would pass without proving anything: fail and say what to raise.
    let Some(fds) = raise_fd_limit(FDS_NEEDED) else {
        panic!(
            "the flood needs {FDS_NEEDED} open files; the limits are {:?}: raise the hard \
             limit (ulimit -Hn) or run the tests as root",
            rlimit::Resource::NOFILE.get()
        );
    };
    let sim = simulator().await;
    let last_pool = create_pools(&sim, POOLS);
    // The defaults: 1024 connections, 40 scrapes, a 10 s header timeout.
    let exporter = start_with(vec![target(&sim)], bulk_poll(), ServerOptions::default()).await;
    let addr = exporter.addr;
    scrape_until(addr, "all pools", |t| t.contains(&last_pool)).await;

    let stop = CancellationToken::new();
    let counts = Arc::new(Counts::default());
    let mut flood = JoinSet::new();
    for _ in 0..NON_READERS {
        flood.spawn(non_reader(addr, stop.clone(), Arc::clone(&counts)));
    }
    wait_until(
        "every client that never reads to hold a scrape",
        Duration::from_secs(30),
        async || match counts.holding.load(Ordering::Relaxed) {
            n if n as usize >= NON_READERS => Ok(()),
            n => Err(format!("{n} holding")),
        },
    )
    .await;
    let connecting = Arc::new(Semaphore::new(CONNECTING_AT_ONCE));
    for _ in 0..IDLE {
        flood.spawn(idle_socket(
            addr,
            stop.clone(),
            Arc::clone(&counts),
            Arc::clone(&connecting),
        ));
    }
    // With the clients that never read, there are more sockets than places: once all
    // are in, the server cuts idle ones to make room, and they come back.
    wait_until(
        "the idle sockets to fill every place",
        Duration::from_secs(30),
        async || {
            let open = counts.idle_open.load(Ordering::Relaxed);
            let cut = counts.idle_cut.load(Ordering::Relaxed);
            if open as usize >= IDLE - NON_READERS && cut > 0 {
                Ok(())
            } else {
                Err(format!("{open} open, {cut} cut"))
            }
        },
    )
    .await;

    // The scraper's pace is the behaviour under test: one scrape a second, each waited
    // for (up to its timeout) before the next, as Prometheus scrapes a target.
    let start = Instant::now();
    let mut good = 0;
    let mut slowest = Duration::ZERO;
    let mut failures = Vec::new();
    for i in 1..=SCRAPES {
        tokio::time::sleep_until(start + Duration::from_secs(i.into())).await;
        match prometheus_scrape(addr, &last_pool).await {
            Ok(took) => {
                good += 1;
                slowest = slowest.max(took);
            }
            Err(why) => failures.push(format!("scrape {i}: {why}")),
        }
    }
    stop.cancel();
    while flood.join_next().await.is_some() {}

    let c = |n: &AtomicU64| n.load(Ordering::Relaxed);
    eprintln!(
        "flood: {good}/{SCRAPES} scrapes good (slowest {slowest:?}); {} connections, {} idle \
         sockets cut, {} requests from clients that never read ({} reset), {} connect \
         errors; open files allowed {fds}; failures: {failures:?}",
        c(&counts.connects),
        c(&counts.idle_cut),
        c(&counts.non_reader_requests),
        c(&counts.non_readers_reset),
        c(&counts.connect_errors),
    );
    assert!(
        good * 100 >= SCRAPES * 95,
        "{good} of {SCRAPES} scrapes got through: {failures:?}"
    );
}
