//! One connection, from accept to close: the TLS handshake, hyper serving it, and the
//! ends it can come to besides the client leaving: closed to make room for a new one
//! (see `limits`), or reset when its client does not take a response within the write
//! timeout.

use std::convert::Infallible;
use std::future::{Future, poll_fn};
use std::io::{self, IoSlice};
use std::net::SocketAddr;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::server::conn::{http1, http2};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::graceful::Watcher;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use web_config::WebSecurity;

use super::handshake;
use super::limits::{Admitted, Shared};
use super::routes::{self, App};

/// Serves one accepted connection until it ends, one way or another.
pub(super) async fn serve(
    stream: TcpStream,
    peer: SocketAddr,
    app: Arc<App>,
    http: Builders,
    watcher: Watcher,
    admitted: Admitted,
) {
    let handle = admitted.handle().clone();
    let shared = Arc::clone(handle.shared());
    let io = Metered {
        stream,
        shared: Arc::clone(&shared),
    };
    let service = {
        let app = Arc::clone(&app);
        service_fn(move |req| {
            let app = Arc::clone(&app);
            let handle = handle.clone();
            // Busy from the moment the request head is read.
            let in_flight = handle.request();
            async move {
                let mut response = routes::handle(&app, &handle, &req).await;
                response.body_mut().hold(in_flight);
                Ok::<_, Infallible>(response)
            }
        })
    };
    let write_timeout = app.options.write_timeout;
    let ended = match app
        .options
        .security
        .as_ref()
        .and_then(WebSecurity::tls_acceptor)
    {
        None => {
            let conn = http.http1.serve_connection(TokioIo::new(io), service);
            drive(watcher.watch(conn), &shared, write_timeout).await
        }
        Some(acceptor) => {
            let handshake =
                tokio::time::timeout(app.options.header_read_timeout, acceptor.accept(io));
            let tls = tokio::select! {
                () = shared.cut().cancelled() => {
                    tracing::debug!(%peer, "connection limit reached; closed a connection still in its TLS handshake");
                    return;
                }
                done = handshake => match done {
                    Ok(Ok(tls)) => tls,
                    Ok(Err(e)) => {
                        handshake::failed(peer, &e);
                        return;
                    }
                    Err(_) => {
                        tracing::debug!(%peer, "TLS handshake timed out");
                        return;
                    }
                },
            };
            // HTTP/2 only when the client asked for it by ALPN, which the web
            // configuration offers unless its `http2` says false.
            if tls.get_ref().1.alpn_protocol() == Some(b"h2") {
                let conn = http.http2.serve_connection(TokioIo::new(tls), service);
                drive(watcher.watch(conn), &shared, write_timeout).await
            } else {
                let conn = http.http1.serve_connection(TokioIo::new(tls), service);
                drive(watcher.watch(conn), &shared, write_timeout).await
            }
        }
    };
    match ended {
        Ended::Served(Ok(())) => {}
        Ended::Served(Err(e)) => {
            tracing::debug!(%peer, error = %e, "connection ended with an error");
        }
        Ended::Cut => {
            tracing::debug!(%peer, "connection limit reached; closed the connection idle longest");
        }
        Ended::WriteTimeout => {
            tracing::debug!(%peer, timeout = ?write_timeout, "the client did not take its response in time; connection reset");
        }
    }
    // The connection (and with it the socket) is gone; now its place under the cap.
    drop(admitted);
}

/// How a connection ended.
enum Ended {
    /// hyper finished with it: the client left, or an error.
    Served(Result<(), hyper::Error>),
    /// Closed to make room for a new connection.
    Cut,
    /// A response was not taken within the write timeout.
    WriteTimeout,
}

/// Runs `conn` until it ends, it is cut, or a response has been in flight for longer
/// than `write_timeout`; dropping `conn` closes the socket.
async fn drive(
    conn: impl Future<Output = Result<(), hyper::Error>>,
    shared: &Shared,
    write_timeout: Duration,
) -> Ended {
    let mut conn = pin!(conn);
    let mut cut = pin!(shared.cut().cancelled());
    let mut deadline = pin!(tokio::time::sleep(write_timeout));
    poll_fn(|cx| {
        if cut.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Ended::Cut);
        }
        if let Poll::Ready(result) = conn.as_mut().poll(cx) {
            return Poll::Ready(Ended::Served(result));
        }
        // Read after polling `conn`: a request may have arrived, or a response ended.
        if let Some(since) = shared.busy_since() {
            let at = since + write_timeout;
            if deadline.deadline() != at {
                deadline.as_mut().reset(at);
            }
            if deadline.as_mut().poll(cx).is_ready() {
                shared.abandon();
                return Poll::Ready(Ended::WriteTimeout);
            }
        }
        Poll::Pending
    })
    .await
}

/// The accepted socket, noting in [`Shared`] whether writes make progress or wait on
/// the client, and reset rather than closed when the connection is abandoned.
struct Metered {
    stream: TcpStream,
    shared: Arc<Shared>,
}

impl Metered {
    fn note(&self, written: Poll<io::Result<usize>>) -> Poll<io::Result<usize>> {
        match &written {
            Poll::Ready(Ok(n)) if *n > 0 => self.shared.wrote(true),
            Poll::Pending => self.shared.wrote(false),
            _ => {}
        }
        written
    }
}

impl AsyncRead for Metered {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Metered {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let written = Pin::new(&mut self.stream).poll_write(cx, buf);
        self.note(written)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let written = Pin::new(&mut self.stream).poll_write_vectored(cx, bufs);
        self.note(written)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

impl Drop for Metered {
    fn drop(&mut self) {
        // A response left unsent would otherwise linger in the kernel, retried for
        // minutes to a client that does not read: reset the connection instead.
        if self.shared.abandoned()
            && let Err(e) = self.stream.set_zero_linger()
        {
            tracing::debug!(error = %e, "cannot reset an abandoned connection");
        }
    }
}

/// Requests one HTTP/2 connection may have under way at once. A scraper sends one at a
/// time; the bound keeps one client from taking every `--web.max-requests` place.
const MAX_STREAMS: u32 = 8;

/// The servers a connection may speak: HTTP/1.1, or HTTP/2 when TLS negotiated it.
#[derive(Clone)]
pub(super) struct Builders {
    http1: http1::Builder,
    http2: http2::Builder<TokioExecutor>,
}

/// The options a connection's HTTP servers need.
pub(super) fn builders(header_read_timeout: Duration, max_header_bytes: usize) -> Builders {
    let mut http1 = http1::Builder::new();
    http1
        .timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout)
        .max_buf_size(max_header_bytes.max(8192));
    let mut http2 = http2::Builder::new(TokioExecutor::new());
    http2
        .timer(TokioTimer::new())
        .max_concurrent_streams(MAX_STREAMS)
        .max_header_list_size(u32::try_from(max_header_bytes).unwrap_or(u32::MAX));
    Builders { http1, http2 }
}
