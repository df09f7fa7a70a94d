//! A minimal HTTP/1.1 client: one request per connection, the raw reply parsed, so tests
//! see exactly what the server sent.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// How long a reply may take; a scrape of the largest test exposition takes well under.
const REPLY_WITHIN: Duration = Duration::from_secs(10);

/// A parsed HTTP/1.1 response.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Reply {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn text(&self) -> String {
        String::from_utf8(self.body.clone()).expect("UTF-8 body")
    }

    /// The body inflated from gzip, as text.
    pub(crate) fn gunzipped(&self) -> String {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&self.body[..]), &mut text)
            .expect("valid gzip");
        text
    }
}

/// Sends one request (with `Connection: close`) and reads the whole reply.
pub(crate) async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> Reply {
    try_request(addr, method, path, headers)
        .await
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
}

/// [`request`], for a test waiting for the server to answer again: `Err` says what
/// happened instead of a reply (refused, closed, cut short).
pub(crate) async fn try_request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> Result<Reply, String> {
    let mut stream = TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream
        .write_all(head.as_bytes())
        .await
        .map_err(|e| format!("write: {e}"))?;
    let mut raw = Vec::new();
    tokio::time::timeout(REPLY_WITHIN, stream.read_to_end(&mut raw))
        .await
        .map_err(|_| format!("no reply within {REPLY_WITHIN:?}"))?
        .map_err(|e| format!("read: {e}"))?;
    parse(&raw)
}

/// Reads from `stream` until what was read contains `needle`, and returns it.
pub(crate) async fn read_until(stream: &mut (impl AsyncRead + Unpin), needle: &str) -> String {
    let mut seen = Vec::new();
    let mut buf = [0u8; 1024];
    let read = tokio::time::timeout(REPLY_WITHIN, async {
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
        Err(_) => panic!("no {needle:?} within {REPLY_WITHIN:?}; read so far: {text:?}"),
    }
}

/// A scraper that asks for `/metrics` (with `headers`), reads the status line and then
/// nothing more, with a receive window as small as the kernel allows. Returns the
/// connection and the status line.
pub(crate) async fn stuck_scrape(
    addr: SocketAddr,
    headers: &[(&str, &str)],
) -> (TcpStream, String) {
    let socket = TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("SO_RCVBUF");
    let mut stream = socket.connect(addr).await.expect("connect");
    let mut head = format!("GET /metrics HTTP/1.1\r\nHost: {addr}\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.expect("write");
    let read = read_until(&mut stream, "\r\n").await;
    let status = read.lines().next().unwrap_or_default().to_string();
    (stream, status)
}

/// Whether the server has reset `stream` (as opposed to closing it, or keeping it).
pub(crate) fn was_reset(stream: &TcpStream) -> bool {
    matches!(
        stream.take_error(),
        Ok(Some(e)) if e.kind() == std::io::ErrorKind::ConnectionReset
    )
}

fn parse(raw: &[u8]) -> Result<Reply, String> {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| format!("no complete head in {} bytes", raw.len()))?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("no status line in {head:?}"))?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    Ok(Reply {
        status,
        headers,
        body: raw[split + 4..].to_vec(),
    })
}
