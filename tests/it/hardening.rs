//! The HTTP edge under hostile or clumsy clients: slow headers, idle connections, too
//! many scrapes at once, too many connections at once, clients that do not read.

use std::net::SocketAddr;
use std::time::Duration;

use cognito_exporter::http::ServerOptions;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::harness::*;

/// How long the server may take to notice a closed connection and free its slot.
const FREED_WITHIN: Duration = Duration::from_secs(10);

/// Waits until `path` answers 200 again, once the server has freed what a test held.
async fn wait_for_200(addr: SocketAddr, path: &str, what: &str) {
    wait_until(what, FREED_WITHIN, async || {
        match try_request(addr, "GET", path, &[]).await {
            Ok(reply) if reply.status == 200 => Ok(()),
            Ok(reply) => Err(format!("{path} answered {}", reply.status)),
            Err(e) => Err(format!("{path}: {e}")),
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_and_slow_connections_do_not_delay_a_scrape_and_slow_headers_are_cut_off() {
    let sim = simulator().await;
    let pool = sim.state().create_pool(ACCOUNT, REGION, "prod-busy");
    let server = ServerOptions {
        header_read_timeout: Duration::from_secs(2),
        ..ServerOptions::default()
    };
    let exporter = start_with(vec![target(&sim)], fast_poll(), server).await;
    scrape_until(exporter.addr, "the first cycle", |t| t.contains(&*pool.id)).await;

    let mut idle = Vec::new();
    for _ in 0..100 {
        idle.push(TcpStream::connect(exporter.addr).await.expect("connect"));
    }
    let mut slow = Vec::new();
    for _ in 0..100 {
        let mut s = TcpStream::connect(exporter.addr).await.expect("connect");
        s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
            .await
            .expect("write");
        slow.push(s);
    }
    // The slow clients keep dribbling header bytes, one every 300 ms for 6 s. The pace
    // is the behaviour under test: each client is active all along, yet its head is not
    // complete within the 2 s header-read timeout.
    let dribble = tokio::spawn(async move {
        for _ in 0..20 {
            for s in &mut slow {
                let _ = s.write_all(b"X").await;
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        slow
    });

    // The 5 s bound is the behaviour under test: held connections must not queue a scrape.
    let reply = tokio::time::timeout(
        Duration::from_secs(5),
        request(exporter.addr, "GET", "/metrics", &[]),
    )
    .await
    .expect("a scrape is answered while 200 connections are held open");
    assert_eq!(reply.status, 200);
    assert!(reply.text().contains(&*pool.id));

    // Past the header-read timeout, the dribbling clients have been cut off.
    let mut slow = dribble.await.expect("dribble task");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let mut cut = 0;
    for s in &mut slow {
        let mut buf = [0u8; 512];
        match tokio::time::timeout_at(deadline, s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => cut += 1,
            // hyper may answer 408 before closing.
            Ok(Ok(n)) if String::from_utf8_lossy(&buf[..n]).contains(" 408 ") => cut += 1,
            _ => {}
        }
    }
    assert_eq!(cut, 100, "every slow client is disconnected");
    drop(idle);
}

/// An exporter over `pools` pools, serving with `server` and the smallest socket
/// buffers; returns once a scrape shows the last pool.
async fn exporter_with_pools(
    pools: usize,
    server: ServerOptions,
) -> (cognito_sim::RunningSim, Exporter) {
    let sim = simulator().await;
    let last = create_pools(&sim, pools);
    let exporter = start_with_small_buffers(vec![target(&sim)], bulk_poll(), server).await;
    scrape_until(exporter.addr, "all pools", |t| t.contains(&last)).await;
    (sim, exporter)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scrapes_beyond_max_requests_get_503() {
    let server = ServerOptions {
        max_requests: 1,
        // The scrape that does not read keeps counting however long it waits: this test
        // is about scrapes still being sent.
        stalled_after: Duration::from_secs(3600),
        ..ServerOptions::default()
    };
    let (_sim, exporter) = exporter_with_pools(300, server).await;

    // A scraper that asks and never reads keeps its scrape in flight: the ~400 kB body
    // cannot all leave the server.
    let (stuck, status) = stuck_scrape(exporter.addr, &[]).await;
    // The server takes the scrape's slot before it answers: once the status line is
    // here, the one slot is held.
    assert!(status.starts_with("HTTP/1.1 200 "), "{status:?}");
    let busy = request(exporter.addr, "GET", "/metrics", &[]).await;
    assert_eq!(busy.status, 503, "{}", busy.text());
    // Probes are not scrapes: they still answer.
    assert_eq!(
        request(exporter.addr, "GET", "/-/healthy", &[])
            .await
            .status,
        200
    );

    drop(stuck);
    wait_for_200(
        exporter.addr,
        "/metrics",
        "the abandoned scrape's slot to be freed",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_max_requests_a_scrape_stalled_on_its_client_gives_way() {
    let server = ServerOptions {
        max_requests: 1,
        ..ServerOptions::default()
    };
    let (_sim, exporter) = exporter_with_pools(300, server).await;
    let (stuck, status) = stuck_scrape(exporter.addr, &[]).await;
    assert!(status.starts_with("HTTP/1.1 200 "), "{status:?}");
    // Until the stuck client has taken nothing for half a second its scrape counts;
    // then a new scrape gets the slot.
    wait_for_200(
        exporter.addr,
        "/metrics",
        "the stalled scrape's slot to be given to a new scrape",
    )
    .await;
    // The stalled scrape only lost its place in the count: its connection stays.
    assert!(!was_reset(&stuck), "the stalled scrape was cut");
    let reply = request(
        exporter.addr,
        "GET",
        "/metrics",
        &[("Accept-Encoding", "gzip")],
    )
    .await;
    assert_eq!(reply.status, 200, "scrapes go on");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_does_not_take_its_response_is_reset_after_the_write_timeout() {
    let server = ServerOptions {
        max_requests: 1,
        write_timeout: Duration::from_secs(2),
        // Only the write timeout frees the slot here.
        stalled_after: Duration::from_secs(3600),
        ..ServerOptions::default()
    };
    let (_sim, exporter) = exporter_with_pools(300, server).await;
    let (stuck, status) = stuck_scrape(exporter.addr, &[]).await;
    assert!(status.starts_with("HTTP/1.1 200 "), "{status:?}");
    wait_until(
        "the stuck scrape to be reset",
        Duration::from_secs(15),
        async || {
            if was_reset(&stuck) {
                Ok(())
            } else {
                Err("still connected".into())
            }
        },
    )
    .await;
    // Its slot went with it.
    wait_for_200(
        exporter.addr,
        "/metrics",
        "the reset scrape's slot to be freed",
    )
    .await;
}

/// Sends a probe on `stream`, kept alive, and reads its answer: the server has
/// admitted the connection and served a request on it.
async fn probe_kept_alive(stream: &mut TcpStream) {
    stream
        .write_all(b"GET /-/healthy HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("write");
    read_until(stream, "Healthy\n").await;
}

/// The server marks a connection idle once the last byte of its answer has been
/// written, which the client can read a moment before the mark is made; nothing outside
/// shows the mark. A short pause between connections keeps the order the test means
/// the order the server records, even on a loaded machine.
async fn let_the_server_mark_it_idle() {
    tokio::time::sleep(Duration::from_millis(200)).await;
}

/// Whether the server closed `stream` within a few seconds without answering.
async fn closed_without_an_answer(stream: &mut TcpStream) -> bool {
    let mut buf = [0u8; 64];
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf)).await;
    matches!(read, Ok(Ok(0) | Err(_)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_max_connections_are_closed_on_accept_when_all_are_busy() {
    let server = ServerOptions {
        max_connections: 2,
        stalled_after: Duration::from_secs(3600),
        ..ServerOptions::default()
    };
    let (_sim, exporter) = exporter_with_pools(300, server).await;
    // Two scrapes in flight, their clients not reading: both connections are busy.
    let (held_a, status_a) = stuck_scrape(exporter.addr, &[]).await;
    let (held_b, status_b) = stuck_scrape(exporter.addr, &[]).await;
    assert!(status_a.starts_with("HTTP/1.1 200 ") && status_b.starts_with("HTTP/1.1 200 "));
    let mut extra = TcpStream::connect(exporter.addr)
        .await
        .expect("the kernel accepts");
    let _ = extra
        .write_all(b"GET /-/healthy HTTP/1.1\r\nHost: x\r\n\r\n")
        .await;
    assert!(
        closed_without_an_answer(&mut extra).await,
        "over the limit with every connection busy: closed without an answer"
    );

    drop((held_a, held_b));
    wait_for_200(
        exporter.addr,
        "/-/healthy",
        "the closed connections' slots to be freed",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_max_connections_the_connection_idle_longest_makes_room() {
    let sim = simulator().await;
    let server = ServerOptions {
        max_connections: 3,
        ..ServerOptions::default()
    };
    let exporter = start_with(vec![target(&sim)], fast_poll(), server).await;
    // Oldest: one that has sent half a request head (idle since it was accepted, which
    // is before the next connection is, so the order cannot race).
    let mut half = TcpStream::connect(exporter.addr).await.expect("connect");
    half.write_all(b"GET /metrics HTTP/1.1\r\n")
        .await
        .expect("write");
    // Then a kept-alive connection between two requests.
    let mut kept = TcpStream::connect(exporter.addr).await.expect("connect");
    probe_kept_alive(&mut kept).await;
    let_the_server_mark_it_idle().await;
    // Then one kept alive too, now the newest idle one.
    let mut newest = TcpStream::connect(exporter.addr).await.expect("connect");
    probe_kept_alive(&mut newest).await;
    let_the_server_mark_it_idle().await;

    // Every place is taken: each new connection is served, in place of the one idle
    // longest.
    let mut first = TcpStream::connect(exporter.addr).await.expect("connect");
    probe_kept_alive(&mut first).await;
    let_the_server_mark_it_idle().await;
    assert!(
        closed_without_an_answer(&mut half).await,
        "a connection that has not finished its request head is idle too, and the oldest"
    );
    let mut second = TcpStream::connect(exporter.addr).await.expect("connect");
    probe_kept_alive(&mut second).await;
    assert!(
        closed_without_an_answer(&mut kept).await,
        "then the connection idle longest"
    );
    probe_kept_alive(&mut newest).await;
}
