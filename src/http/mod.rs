//! The HTTP server (hyper 1, HTTP/1.1).
//!
//! Endpoints, GET and HEAD only (others answer 405 with `Allow`):
//! - the telemetry path (`/metrics` by default): the prepared exposition, OpenMetrics 1.0
//!   when the `Accept` header prefers it, else Prometheus text 0.0.4; gzip when accepted.
//! - `/`: a landing page naming the exporter and linking to the metrics.
//! - `/-/healthy`: 200 while the process runs.
//! - `/-/ready`: 200 once every target finished a first cycle; 503 before, and once
//!   shutdown begins.
//!
//! A scrape never calls AWS and never waits on a poller: it loads the current exposition
//! and sends its shared chunks.
//!
//! Here: the accept loop (connection cap, header-read timeout, TLS handshake, graceful
//! drain). `routes`: what each endpoint answers. `negotiate`: format and encoding of
//! a scrape. `body`: the response body.

mod body;
mod negotiate;
mod routes;

use std::convert::Infallible;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use web_config::WebSecurity;

pub(crate) use routes::App;

/// Server settings.
#[derive(Clone, Debug)]
pub struct ServerOptions {
    pub telemetry_path: String,
    /// Scrapes served at once; more answer 503. Zero means no limit.
    pub max_requests: usize,
    /// Open connections at once; more are closed on accept.
    pub max_connections: usize,
    /// Time a client has to send its request headers.
    pub header_read_timeout: Duration,
    /// Largest request head accepted; larger ones answer 431.
    pub max_header_bytes: usize,
    /// How long in-flight requests may take to finish at shutdown.
    pub shutdown_grace: Duration,
    /// Whether the data comes from the built-in simulator (`--demo`).
    pub demo: bool,
    /// TLS, basic auth and extra headers from `--web.config.file`.
    pub security: Option<WebSecurity>,
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            telemetry_path: "/metrics".into(),
            max_requests: 40,
            max_connections: 1024,
            header_read_timeout: Duration::from_secs(10),
            max_header_bytes: 16 * 1024,
            shutdown_grace: Duration::from_secs(10),
            demo: false,
            security: None,
        }
    }
}

/// Serves until `shutdown`, then stops accepting, lets in-flight requests finish within
/// the grace period, and returns.
pub(crate) async fn serve(
    listener: TcpListener,
    app: Arc<App>,
    shutdown: CancellationToken,
) -> io::Result<()> {
    let graceful = GracefulShutdown::new();
    let connections = Arc::new(Semaphore::new(app.options.max_connections.max(1)));
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(app.options.header_read_timeout)
        .max_buf_size(app.options.max_header_bytes.max(8192));
    loop {
        let (stream, peer) = tokio::select! {
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: back off rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Ok(permit) = connections.clone().try_acquire_owned() else {
            tracing::debug!(%peer, "connection limit reached; closing");
            continue;
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let http = http.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let _permit = permit;
            let service = {
                let app = app.clone();
                service_fn(move |req| {
                    let app = app.clone();
                    async move { Ok::<_, Infallible>(routes::handle(&app, &req).await) }
                })
            };
            let result = match app
                .options
                .security
                .as_ref()
                .and_then(WebSecurity::tls_acceptor)
            {
                None => {
                    let conn = http.serve_connection(TokioIo::new(stream), service);
                    watcher.watch(conn).await
                }
                Some(acceptor) => {
                    let handshake = tokio::time::timeout(
                        app.options.header_read_timeout,
                        acceptor.accept(stream),
                    );
                    match handshake.await {
                        Ok(Ok(tls)) => {
                            let conn = http.serve_connection(TokioIo::new(tls), service);
                            watcher.watch(conn).await
                        }
                        Ok(Err(e)) => {
                            tracing::debug!(%peer, error = %e, "TLS handshake failed");
                            return;
                        }
                        Err(_) => {
                            tracing::debug!(%peer, "TLS handshake timed out");
                            return;
                        }
                    }
                }
            };
            if let Err(e) = result {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
    app.stopping();
    drop(listener);
    if tokio::time::timeout(app.options.shutdown_grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("shutdown grace period over; closing the remaining connections");
    }
    Ok(())
}
