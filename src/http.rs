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

use std::convert::Infallible;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Buf, Bytes};
use http::header::{self, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use hyper::body::{Frame, Incoming, SizeHint};
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;

use crate::exposition::{self, Exposition, Format};
use crate::poller::Readiness;
use web_config::WebSecurity;

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

/// What the request handlers share.
#[derive(Debug)]
pub struct App {
    pub exposition: Arc<Exposition>,
    pub readiness: Arc<Readiness>,
    pub options: ServerOptions,
    scrapes: Arc<Semaphore>,
    landing: Bytes,
}

impl App {
    pub fn new(
        exposition: Arc<Exposition>,
        readiness: Arc<Readiness>,
        options: ServerOptions,
    ) -> Self {
        let permits = if options.max_requests == 0 {
            Semaphore::MAX_PERMITS
        } else {
            options.max_requests
        };
        let landing = Bytes::from(landing_page(&options));
        Self {
            exposition,
            readiness,
            scrapes: Arc::new(Semaphore::new(permits)),
            landing,
            options,
        }
    }
}

/// Serves until `shutdown`, then stops accepting, lets in-flight requests finish within
/// the grace period, and returns.
pub async fn serve(
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
                    async move { Ok::<_, Infallible>(handle(&app, &req).await) }
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
    app.readiness.stopping();
    drop(listener);
    if tokio::time::timeout(app.options.shutdown_grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("shutdown grace period over; closing the remaining connections");
    }
    Ok(())
}

/// Routes a request.
pub async fn handle(app: &App, req: &Request<Incoming>) -> Response<Body> {
    let mut response = route(app, req).await;
    if let Some(security) = &app.options.security {
        response.headers_mut().extend(
            security
                .response_headers()
                .iter()
                .map(|(k, v)| (k.clone(), v.clone())),
        );
    }
    response
}

async fn route(app: &App, req: &Request<Incoming>) -> Response<Body> {
    let path = req.uri().path();
    let known =
        path == app.options.telemetry_path || matches!(path, "/" | "/-/healthy" | "/-/ready");
    if !known {
        return text(StatusCode::NOT_FOUND, "404 page not found\n");
    }
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        let mut r = text(StatusCode::METHOD_NOT_ALLOWED, "405 method not allowed\n");
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return r;
    }
    // Probes stay open under basic auth, so Kubernetes and load balancers keep working;
    // they say nothing about the pools.
    match path {
        "/-/healthy" => return text(StatusCode::OK, "Healthy\n"),
        "/-/ready" => {
            return if app.readiness.is_ready() {
                text(StatusCode::OK, "Ready\n")
            } else {
                text(StatusCode::SERVICE_UNAVAILABLE, "Not ready\n")
            };
        }
        _ => {}
    }
    if let Some(security) = &app.options.security
        && let Err(rejection) = security.authorize(req.headers()).await
    {
        return rejection.into_response(text(StatusCode::UNAUTHORIZED, "401 unauthorized\n"));
    }
    if path == "/" {
        let mut r = Response::new(Body::one(app.landing.clone()));
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        return r;
    }
    scrape(app, req)
}

fn scrape(app: &App, req: &Request<Incoming>) -> Response<Body> {
    let Ok(permit) = app.scrapes.clone().try_acquire_owned() else {
        return text(
            StatusCode::SERVICE_UNAVAILABLE,
            "503 too many concurrent scrapes (--web.max-requests)\n",
        );
    };
    let headers = req.headers();
    let format = negotiate(headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()));
    let gzip = accepts_gzip(
        headers
            .get(header::ACCEPT_ENCODING)
            .and_then(|v| v.to_str().ok()),
    );
    let body = match app.exposition.body(format, gzip) {
        Ok(body) => body,
        Err(e) => {
            tracing::error!(error = %e, "cannot build the scrape body");
            return text(
                StatusCode::INTERNAL_SERVER_ERROR,
                "500 cannot encode metrics\n",
            );
        }
    };
    let mut r = Response::new(Body {
        data: Some(Data::Scrape(body, permit)),
    });
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    if gzip {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    r
}

/// OpenMetrics when the client weighs it at least as high as the classic text format.
pub fn negotiate(accept: Option<&str>) -> Format {
    let Some(accept) = accept else {
        return Format::Classic;
    };
    let (mut openmetrics, mut classic) = (0.0_f32, 0.0_f32);
    for range in accept.split(',') {
        let mut parts = range.split(';').map(str::trim);
        let media = parts.next().unwrap_or("").to_ascii_lowercase();
        let q = parts
            .filter_map(|p| p.strip_prefix("q="))
            .find_map(|q| q.parse::<f32>().ok())
            .unwrap_or(1.0);
        match media.as_str() {
            "application/openmetrics-text" => openmetrics = openmetrics.max(q),
            "text/plain" | "text/*" | "*/*" => classic = classic.max(q),
            _ => {}
        }
    }
    if openmetrics > 0.0 && openmetrics >= classic {
        Format::OpenMetrics
    } else {
        Format::Classic
    }
}

/// Whether `Accept-Encoding` lists gzip with a non-zero weight.
pub fn accepts_gzip(accept_encoding: Option<&str>) -> bool {
    accept_encoding.is_some_and(|v| {
        v.split(',').any(|coding| {
            let mut parts = coding.split(';').map(str::trim);
            let name = parts.next().unwrap_or("");
            let q = parts
                .filter_map(|p| p.strip_prefix("q="))
                .find_map(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            name.eq_ignore_ascii_case("gzip") && q > 0.0
        })
    })
}

fn text(status: StatusCode, body: &'static str) -> Response<Body> {
    let mut r = Response::new(Body::one(Bytes::from_static(body.as_bytes())));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

fn landing_page(options: &ServerOptions) -> String {
    let version = env!("CARGO_PKG_VERSION");
    let path = html_escape(&options.telemetry_path);
    let demo = if options.demo {
        "<p><strong>Demo mode:</strong> the data below is simulated by the built-in Cognito \
         simulator; no AWS account is polled.</p>\n"
    } else {
        ""
    };
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>cognito-exporter</title></head>\n<body>\n\
         <h1>cognito-exporter {version}</h1>\n\
         <p>Prometheus exporter for the log-delivery configuration of Amazon Cognito user pools.</p>\n\
         {demo}<ul>\n<li><a href=\"{path}\">Metrics</a></li>\n<li><a href=\"/-/healthy\">Health</a></li>\n\
         <li><a href=\"/-/ready\">Readiness</a></li>\n</ul>\n</body>\n</html>\n"
    )
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A response body with an exact length, sent as one frame: a static page, or a scrape's
/// chunks (see [`crate::exposition::Body`]).
#[derive(Debug)]
pub struct Body {
    data: Option<Data>,
}

/// The one frame of a [`Body`].
#[derive(Debug)]
pub enum Data {
    Static(Bytes),
    /// A scrape holds its `--web.max-requests` permit until the writer has sent it all
    /// and dropped it.
    Scrape(exposition::Body, OwnedSemaphorePermit),
}

impl Body {
    fn one(bytes: Bytes) -> Self {
        Self {
            data: Some(Data::Static(bytes)),
        }
    }
}

impl hyper::body::Body for Body {
    type Data = Data;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Data>, Infallible>>> {
        // An empty frame would be sent as nothing; end the stream instead.
        let data = self.data.take().filter(Buf::has_remaining);
        Poll::Ready(data.map(|d| Ok(Frame::data(d))))
    }

    fn is_end_stream(&self) -> bool {
        self.data.as_ref().is_none_or(|d| !d.has_remaining())
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.data.as_ref().map_or(0, |d| d.remaining() as u64))
    }
}

impl Buf for Data {
    fn remaining(&self) -> usize {
        match self {
            Data::Static(b) => b.remaining(),
            Data::Scrape(b, _) => b.remaining(),
        }
    }

    fn chunk(&self) -> &[u8] {
        match self {
            Data::Static(b) => b.chunk(),
            Data::Scrape(b, _) => b.chunk(),
        }
    }

    fn advance(&mut self, cnt: usize) {
        match self {
            Data::Static(b) => b.advance(cnt),
            Data::Scrape(b, _) => b.advance(cnt),
        }
    }

    fn chunks_vectored<'a>(&'a self, dst: &mut [IoSlice<'a>]) -> usize {
        match self {
            Data::Static(b) => b.chunks_vectored(dst),
            Data::Scrape(b, _) => b.chunks_vectored(dst),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_accept_header_gets_openmetrics() {
        let prom2 = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
        assert_eq!(negotiate(Some(prom2)), Format::OpenMetrics);
        let prom3 = "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,text/plain;version=0.0.4;q=0.3,*/*;q=0.1";
        assert_eq!(negotiate(Some(prom3)), Format::OpenMetrics);
    }

    #[test]
    fn everything_else_gets_the_classic_format() {
        assert_eq!(negotiate(None), Format::Classic);
        assert_eq!(negotiate(Some("*/*")), Format::Classic);
        assert_eq!(negotiate(Some("text/plain;version=0.0.4")), Format::Classic);
        assert_eq!(
            negotiate(Some("text/plain,application/openmetrics-text;q=0.5")),
            Format::Classic
        );
        assert_eq!(
            negotiate(Some("application/openmetrics-text;q=0")),
            Format::Classic
        );
    }

    #[test]
    fn gzip_needs_a_positive_weight() {
        assert!(accepts_gzip(Some("gzip")));
        assert!(accepts_gzip(Some("deflate, GZIP;q=0.5")));
        assert!(!accepts_gzip(Some("gzip;q=0")));
        assert!(!accepts_gzip(Some("identity")));
        assert!(!accepts_gzip(None));
    }
}
