//! The listener: one hyper HTTP/1.1 task per connection, a graceful drain on shutdown.
//!
//! Endpoints:
//! - `POST /`: Cognito (AWS JSON 1.1, chosen by `X-Amz-Target`) and STS (AWS Query,
//!   a form body with `Action`), see [`super::api`].
//! - S3 (REST-XML): any method and path, when the request has no `X-Amz-Target` and is
//!   signed for the `s3` service, see [`super::s3`].
//! - `/_sim/...`: the control endpoint, see [`super::control`].
//!
//! Anything else is a 404; another method on `/` is a 405.

use std::convert::Infallible;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use http::header::ALLOW;
use http::{HeaderValue, Method, Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::body::{Body, text};
use super::state::SimState;
use super::{api, control, s3};

/// How long a client may take to send its headers; bounds idle sockets from scanners.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Accepts connections until `shutdown`, then lets every connection finish its current
/// request (held requests are cut short) and returns.
pub(crate) async fn serve(
    state: Arc<SimState>,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> io::Result<()> {
    // Each connection task holds a sender; `recv` returns `None` once all have ended.
    let (alive, mut all_done) = mpsc::channel::<Infallible>(1);
    loop {
        let stream = tokio::select! {
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => stream,
                Err(e) => {
                    // Out of file descriptors and the like: back off, keep serving.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let state = Arc::clone(&state);
        let shutdown = shutdown.clone();
        let alive = alive.clone();
        tokio::spawn(async move {
            let _alive = alive;
            let request_shutdown = shutdown.clone();
            let service = service_fn(move |req| {
                let state = Arc::clone(&state);
                let shutdown = request_shutdown.clone();
                async move { route(&state, &shutdown, req).await }
            });
            let conn = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_READ_TIMEOUT)
                .serve_connection(TokioIo::new(stream), service);
            let mut conn = std::pin::pin!(conn);
            let result = tokio::select! {
                r = conn.as_mut() => r,
                () = shutdown.cancelled() => {
                    conn.as_mut().graceful_shutdown();
                    conn.await
                }
            };
            if let Err(e) = result {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    drop(alive);
    let _ = all_done.recv().await;
    Ok(())
}

/// Returning `Err` makes hyper drop the connection without an answer.
async fn route(
    state: &SimState,
    shutdown: &CancellationToken,
    req: Request<Incoming>,
) -> Result<Response<Body>, io::Error> {
    let path = req.uri().path();
    if path == "/_sim" || path.starts_with("/_sim/") {
        return Ok(control::handle(state, req).await);
    }
    if s3::is_s3(req.headers()) {
        return api::handle(state, shutdown, req).await;
    }
    if path != "/" {
        return Ok(text(StatusCode::NOT_FOUND, "not found\n"));
    }
    if req.method() != Method::POST {
        let mut response = text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n");
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("POST"));
        return Ok(response);
    }
    api::handle(state, shutdown, req).await
}
