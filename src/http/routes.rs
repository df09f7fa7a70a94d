//! The endpoints: what each path answers, with the checks every request passes (method,
//! basic auth, the cap on concurrent scrapes). The status page at `/` is `status`'s.

use std::sync::Arc;

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use hyper::body::Incoming;

use super::ServerOptions;
use super::body::Body;
use super::limits::{Handle, Limits};
use super::negotiate::{accepts_gzip, negotiate};
use super::status::StatusPage;
use crate::exposition::Exposition;
use crate::health::Readiness;
use crate::lifecycle::{self, Reloads};
use crate::metrics::http::{Handler, HttpMetrics};
use crate::shard::Shard;

/// What the request handlers share.
#[derive(Debug)]
pub(crate) struct App {
    exposition: Arc<Exposition>,
    readiness: Arc<Readiness>,
    pub(super) options: ServerOptions,
    /// The caps on connections and scrapes.
    pub(super) limits: Arc<Limits>,
    /// The status page at `/`.
    status: StatusPage,
    /// Where `/-/reload` sends its requests.
    reloads: Reloads,
    /// The server's own metrics, unless `--web.disable-exporter-metrics`.
    metrics: Option<HttpMetrics>,
}

impl App {
    pub(crate) fn new(
        exposition: Arc<Exposition>,
        readiness: Arc<Readiness>,
        options: ServerOptions,
        reloads: Reloads,
        shard: Shard,
        metrics: Option<HttpMetrics>,
    ) -> Self {
        Self {
            exposition,
            readiness,
            reloads,
            metrics,
            limits: Arc::new(Limits::new(&options)),
            status: StatusPage::new(&options, shard),
            options,
        }
    }
}

impl App {
    /// Shutdown began: readiness probes fail from now on.
    pub(super) fn stopping(&self) {
        self.readiness.stopping();
    }
}

/// Routes a request that arrived on `conn`.
pub(super) async fn handle(app: &App, conn: &Handle, req: &Request<Incoming>) -> Response<Body> {
    let in_flight = app.metrics.as_ref().map(HttpMetrics::begin);
    let mut response = route(app, conn, req).await;
    if let Some(metrics) = &app.metrics {
        let bytes = if req.method() == Method::HEAD {
            0
        } else {
            hyper::body::Body::size_hint(response.body())
                .exact()
                .unwrap_or(0)
        };
        metrics.answered(
            handler(app, req.uri().path()),
            response.status().as_u16(),
            bytes,
        );
    }
    drop(in_flight);
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

/// The fixed name of what serves `path`.
fn handler(app: &App, path: &str) -> Handler {
    match path {
        p if p == app.options.telemetry_path => Handler::Metrics,
        "/" => Handler::Landing,
        "/-/healthy" => Handler::Healthy,
        "/-/ready" => Handler::Ready,
        RELOAD => Handler::Reload,
        _ => Handler::Other,
    }
}

async fn route(app: &App, conn: &Handle, req: &Request<Incoming>) -> Response<Body> {
    let path = req.uri().path();
    let known = path == app.options.telemetry_path
        || matches!(path, "/" | "/-/healthy" | "/-/ready" | RELOAD);
    if !known {
        return text(StatusCode::NOT_FOUND, "404 page not found\n");
    }
    if path == RELOAD {
        if !matches!(*req.method(), Method::POST | Method::PUT) {
            let mut r = text(StatusCode::METHOD_NOT_ALLOWED, "405 method not allowed\n");
            r.headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("POST, PUT"));
            return r;
        }
    } else if !matches!(*req.method(), Method::GET | Method::HEAD) {
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
    // `rate_limit` of the web configuration, across every client; the probes above are
    // exempt, as from `--web.max-requests`.
    if let Some(security) = &app.options.security
        && !security.admit_request()
    {
        return text(
            StatusCode::TOO_MANY_REQUESTS,
            "429 too many requests (rate_limit in --web.config.file)\n",
        );
    }
    if let Some(security) = &app.options.security
        && let Err(rejection) = security.authorize(req.headers()).await
    {
        let status = rejection.status();
        let body = if status == StatusCode::TOO_MANY_REQUESTS {
            "429 too many logins at once; retry\n"
        } else {
            "401 unauthorized\n"
        };
        return rejection.into_response(text(status, body));
    }
    if path == RELOAD {
        return reload(app).await;
    }
    if path == "/" {
        let gzip = wants_gzip(req.headers());
        let page = app.status.body(app.exposition.status(), gzip);
        let mut r = Response::new(Body::one(page));
        let h = r.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        encoded(h, gzip);
        return r;
    }
    scrape(app, conn, req)
}

/// The lifecycle endpoint, as Prometheus names it.
const RELOAD: &str = "/-/reload";

/// Reads the configuration again and applies it: 200, or 500 with every problem (the
/// running targets go on); 403 unless `--web.enable-lifecycle` allows it.
async fn reload(app: &App) -> Response<Body> {
    if !app.options.enable_lifecycle {
        return text(
            StatusCode::FORBIDDEN,
            "403 the lifecycle API is off: start the exporter with --web.enable-lifecycle\n",
        );
    }
    match lifecycle::reload(&app.reloads).await {
        Ok(()) => text(StatusCode::OK, "configuration reloaded\n"),
        Err(problems) => {
            let mut body = String::from("configuration not reloaded: the running targets go on\n");
            for problem in problems {
                body.push_str(&problem);
                body.push('\n');
            }
            let mut r = text(StatusCode::INTERNAL_SERVER_ERROR, "");
            *r.body_mut() = Body::one(Bytes::from(body));
            r
        }
    }
}

fn scrape(app: &App, conn: &Handle, req: &Request<Incoming>) -> Response<Body> {
    let Some(slot) = conn.scrape() else {
        return text(
            StatusCode::SERVICE_UNAVAILABLE,
            "503 too many concurrent scrapes (--web.max-requests)\n",
        );
    };
    let headers = req.headers();
    let format = negotiate(headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()));
    let gzip = wants_gzip(headers);
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
    let mut r = Response::new(Body::scrape(body, slot));
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    encoded(h, gzip);
    r
}

/// Whether the request's `Accept-Encoding` takes gzip.
fn wants_gzip(headers: &HeaderMap) -> bool {
    accepts_gzip(
        headers
            .get(header::ACCEPT_ENCODING)
            .and_then(|v| v.to_str().ok()),
    )
}

/// The headers of a body that depends on `Accept-Encoding`, in gzip if `gzip`.
fn encoded(h: &mut HeaderMap, gzip: bool) {
    h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    if gzip {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
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
