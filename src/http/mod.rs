//! The HTTP server (hyper 1, HTTP/1.1).
//!
//! Endpoints, GET and HEAD only (others answer 405 with `Allow`):
//! - the telemetry path (`/metrics` by default): the prepared exposition, OpenMetrics 1.0
//!   when the `Accept` header prefers it, else Prometheus text 0.0.4; gzip when accepted.
//! - `/`: the status page: every target, its last cycle and its pools' log coverage,
//!   from the same snapshots as the metrics, behind the same TLS and basic auth.
//! - `/-/healthy`: 200 while the process runs.
//! - `/-/ready`: 200 once every target finished a first cycle; 503 before, and once
//!   shutdown begins.
//!
//! A scrape never calls AWS and never waits on a poller: it loads the current exposition
//! and sends its shared chunks.
//!
//! Here: the accept loop (graceful drain). `listen`: the listening socket. `accept`:
//! pacing failed accepts. `limits`: the caps on connections and scrapes, and who makes
//! room at them. `connection`: one connection (TLS handshake, write timeout).
//! `routes`: what each endpoint answers. `status`: the status page. `negotiate`: format
//! and encoding of a scrape. `body`: the response body.

mod accept;
mod body;
mod connection;
mod handshake;
mod limits;
mod listen;
mod negotiate;
mod routes;
mod status;

use std::io;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use web_config::WebSecurity;

pub use listen::{ListenAddress, ListenError, listen, systemd_sockets};
pub(crate) use routes::App;

/// Server settings.
#[derive(Clone, Debug)]
pub struct ServerOptions {
    pub telemetry_path: String,
    /// Scrapes served at once; more answer 503. Zero means no limit.
    pub max_requests: usize,
    /// Open connections at once. At the cap a new connection takes the place of the
    /// one idle longest; when none is idle it is closed on accept.
    pub max_connections: usize,
    /// Time a client has to send its request headers.
    pub header_read_timeout: Duration,
    /// Time a client has to take a response, from its request on; then the connection
    /// is reset.
    pub write_timeout: Duration,
    /// At the `max_requests` cap, a scrape whose client has taken none of its response
    /// for this long stops counting toward it.
    pub stalled_after: Duration,
    /// Largest request head accepted; larger ones answer 431.
    pub max_header_bytes: usize,
    /// How long in-flight requests may take to finish at shutdown.
    pub shutdown_grace: Duration,
    /// Whether the data comes from the built-in simulator (`--demo`).
    pub demo: bool,
    /// TLS, basic auth and extra headers from `--web.config.file`.
    pub security: Option<WebSecurity>,
    /// Whether `/-/reload` may reload the configuration (`--web.enable-lifecycle`).
    pub enable_lifecycle: bool,
    /// Whether the process and HTTP metrics are exported (off with
    /// `--web.disable-exporter-metrics`).
    pub exporter_metrics: bool,
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            telemetry_path: "/metrics".into(),
            max_requests: 40,
            max_connections: 1024,
            header_read_timeout: Duration::from_secs(10),
            // A minute: longer than any scrape timeout in common use (Prometheus keeps
            // scrape_timeout within the scrape interval, 10 s by default), so only a
            // client no scraper is waiting for is cut.
            write_timeout: Duration::from_secs(60),
            // Half a second: a reading client reopens its window within a round trip;
            // the stalled scrape loses nothing but its place in the count.
            stalled_after: Duration::from_millis(500),
            max_header_bytes: 16 * 1024,
            shutdown_grace: Duration::from_secs(10),
            demo: false,
            security: None,
            enable_lifecycle: false,
            exporter_metrics: true,
        }
    }
}

/// What the server says of itself to the web configuration file: its name, which is
/// also the basic-auth realm, and the protocols it offers by ALPN on TLS: HTTP/2 first
/// (unless the file's `http2` is false), then HTTP/1.1.
pub fn server_info() -> web_config::ServerInfo {
    web_config::ServerInfo::new("cognito-exporter")
        .with_alpn_protocols(vec![b"h2".to_vec(), b"http/1.1".to_vec()])
}

/// Serves on every one of `listeners` until `shutdown`, then stops accepting, lets
/// in-flight requests finish within the grace period, and returns. Every listener serves
/// the same endpoints, with the same limits, TLS and auth.
pub(crate) async fn serve(
    listeners: Vec<TcpListener>,
    app: Arc<App>,
    shutdown: CancellationToken,
) -> io::Result<()> {
    let graceful = GracefulShutdown::new();
    let http = connection::builders(
        app.options.header_read_timeout,
        app.options.max_header_bytes,
    );
    // One accept loop per listener, each pacing its own failures; the connections they
    // accept are served here, under one count and one graceful shutdown. Dropping the
    // set stops them and closes their sockets.
    let (accepted, mut incoming) = tokio::sync::mpsc::channel(listeners.len().max(1));
    let mut loops = tokio::task::JoinSet::new();
    for listener in listeners {
        let accepted = accepted.clone();
        loops.spawn(async move {
            let mut pacing = accept::Pacing::default();
            loop {
                let connection = accept::next(|| listener.accept(), &mut pacing).await;
                if accepted.send(connection).await.is_err() {
                    return;
                }
            }
        });
    }
    drop(accepted);
    loop {
        let (stream, peer) = tokio::select! {
            () = shutdown.cancelled() => break,
            connection = incoming.recv() => match connection {
                Some(connection) => connection,
                // No listener at all: nothing to serve until shutdown.
                None => {
                    shutdown.cancelled().await;
                    break;
                }
            },
        };
        let Some(admitted) = app.limits.admit() else {
            // Every connection has a request in flight.
            tracing::debug!(%peer, "connection limit reached; closing");
            continue;
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(connection::serve(
            stream,
            peer,
            Arc::clone(&app),
            http.clone(),
            graceful.watcher(),
            admitted,
        ));
    }
    app.stopping();
    loops.shutdown().await;
    if tokio::time::timeout(app.options.shutdown_grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("shutdown grace period over; closing the remaining connections");
    }
    Ok(())
}
