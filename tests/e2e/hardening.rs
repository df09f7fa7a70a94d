//! The HTTP edge under hostile or clumsy clients: slow headers, idle connections, too
//! many scrapes at once.

use std::time::Duration;

use cognito_exporter::http::ServerOptions;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::harness::*;

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
    // The slow clients keep dribbling header bytes, one every 300 ms.
    let dribble = tokio::spawn(async move {
        for _ in 0..20 {
            for s in &mut slow {
                let _ = s.write_all(b"X").await;
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        slow
    });

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
    let mut cut = 0;
    for s in &mut slow {
        let mut buf = [0u8; 512];
        match tokio::time::timeout(Duration::from_secs(1), s.read(&mut buf)).await {
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
    tokio::time::sleep(Duration::from_millis(300)).await;
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
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        request(exporter.addr, "GET", "/metrics", &[]).await.status,
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_max_connections_are_closed_on_accept() {
    let sim = simulator().await;
    let server = ServerOptions {
        max_connections: 2,
        ..ServerOptions::default()
    };
    let exporter = start_with(vec![target(&sim)], fast_poll(), server).await;
    let held = [
        TcpStream::connect(exporter.addr).await.expect("connect"),
        TcpStream::connect(exporter.addr).await.expect("connect"),
    ];
    tokio::time::sleep(Duration::from_millis(200)).await;
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
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        request(exporter.addr, "GET", "/-/healthy", &[])
            .await
            .status,
        200
    );
}
