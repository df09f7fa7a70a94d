//! The HTTP edge under hostile or clumsy clients: slow headers, idle connections, too
//! many scrapes at once, too many connections at once.

use std::net::SocketAddr;
use std::time::Duration;

use cognito_exporter::http::ServerOptions;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::harness::*;

/// How long the server may take to notice a closed connection and free its slot.
const FREED_WITHIN: Duration = Duration::from_secs(10);

/// Reads from `stream` until what was read contains `needle`, and returns it.
async fn read_until(stream: &mut (impl AsyncRead + Unpin), needle: &str) -> String {
    let mut seen = Vec::new();
    let mut buf = [0u8; 1024];
    let read = tokio::time::timeout(Duration::from_secs(10), async {
        while !String::from_utf8_lossy(&seen).contains(needle) {
            match stream.read(&mut buf).await {
                Ok(0) => return Err("the server closed the connection".to_string()),
                Ok(n) => seen.extend_from_slice(&buf[..n]),
                Err(e) => return Err(format!("read: {e}")),
            }
        }
        Ok(())
    })
    .await;
    let text = String::from_utf8_lossy(&seen).into_owned();
    match read {
        Ok(Ok(())) => text,
        Ok(Err(why)) => panic!("no {needle:?} ({why}); read so far: {text:?}"),
        Err(_) => panic!("no {needle:?} within 10 s; read so far: {text:?}"),
    }
}

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scrapes_beyond_max_requests_get_503() {
    let sim = simulator().await;
    let state = sim.state();
    // A body large enough that an unread response holds its permit.
    for i in 0..6000 {
        state.create_pool(ACCOUNT, REGION, &format!("prod-pool-{i:05}"));
    }
    let server = ServerOptions {
        max_requests: 1,
        ..ServerOptions::default()
    };
    let mut poll = fast_poll();
    poll.requests_per_second = 10_000.0;
    poll.concurrency = 32;
    poll.interval = Duration::from_secs(60);
    let exporter = start_with(vec![target(&sim)], poll, server).await;
    scrape_until(exporter.addr, "all pools", |t| {
        t.contains("prod-pool-05999")
    })
    .await;

    // A scraper that asks and never reads keeps its scrape in flight: with a small
    // receive window, the ~7 MB body cannot all leave the server.
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("SO_RCVBUF");
    let mut stuck = socket.connect(exporter.addr).await.expect("connect");
    stuck
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("write");
    // The server takes the scrape's permit before it answers: once the status line is
    // here, the one slot is held (reading a line frees nothing like 7 MB of window).
    let head = read_until(&mut stuck, "\r\n").await;
    assert!(head.starts_with("HTTP/1.1 200 "), "{head:?}");
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
async fn connections_beyond_max_connections_are_closed_on_accept() {
    let sim = simulator().await;
    let server = ServerOptions {
        max_connections: 2,
        ..ServerOptions::default()
    };
    let exporter = start_with(vec![target(&sim)], fast_poll(), server).await;
    let mut held = [
        TcpStream::connect(exporter.addr).await.expect("connect"),
        TcpStream::connect(exporter.addr).await.expect("connect"),
    ];
    // An answer on a kept-alive connection shows the server accepted it and counts it
    // until it closes: both slots are taken.
    for stream in &mut held {
        stream
            .write_all(b"GET /-/healthy HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .expect("write");
        read_until(stream, "Healthy\n").await;
    }
    let mut extra = TcpStream::connect(exporter.addr)
        .await
        .expect("the kernel accepts");
    let _ = extra
        .write_all(b"GET /-/healthy HTTP/1.1\r\nHost: x\r\n\r\n")
        .await;
    let mut buf = [0u8; 64];
    let read = tokio::time::timeout(Duration::from_secs(5), extra.read(&mut buf))
        .await
        .expect("closed promptly");
    assert!(
        matches!(read, Ok(0) | Err(_)),
        "over the limit: closed without an answer"
    );

    drop(held);
    wait_for_200(
        exporter.addr,
        "/-/healthy",
        "the closed connections' slots to be freed",
    )
    .await;
}
