//! `--web.listen-address`: what it means, and the listening socket made from it.
//!
//! `:PORT` means every interface, IPv4 and IPv6: one IPv6 socket that also takes IPv4
//! connections (`IPV6_V6ONLY` off), or an IPv4 one on a host without IPv6.
//! `HOST:PORT` listens on the first address `HOST` resolves to.

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};

use tokio::net::{TcpListener, TcpSocket};

/// Connections the kernel queues before they are accepted, as `TcpListener::bind` has it.
const BACKLOG: u32 = 1024;

/// Where to listen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListenAddress {
    /// `:PORT`: every interface, IPv4 and IPv6.
    EveryInterface(u16),
    /// `HOST:PORT`, resolved.
    Address(SocketAddr),
}

impl ListenAddress {
    /// The port listened on (0: one the kernel picks).
    pub fn port(&self) -> u16 {
        match self {
            Self::EveryInterface(port) => *port,
            Self::Address(addr) => addr.port(),
        }
    }

    /// `:PORT` listens on every interface; otherwise `HOST:PORT`. The error says what
    /// is wrong with `addr`, quoting it.
    pub fn parse(addr: &str) -> Result<Self, String> {
        let every = addr.starts_with(':');
        let full = if every {
            format!("0.0.0.0{addr}")
        } else {
            addr.to_string()
        };
        let resolved = full
            .to_socket_addrs()
            .map_err(|e| format!("{addr:?}: {e}"))?
            .next()
            .ok_or_else(|| format!("{addr:?} resolves to no address"))?;
        Ok(if every {
            Self::EveryInterface(resolved.port())
        } else {
            Self::Address(resolved)
        })
    }
}

/// Listening failed; names the address.
#[derive(Debug, thiserror::Error)]
#[error("{address}: {source}")]
pub struct ListenError {
    /// The socket address the exporter tried to listen on.
    pub address: SocketAddr,
    /// Why.
    pub source: io::Error,
}

/// Listens on `address`.
pub async fn listen(address: ListenAddress) -> Result<TcpListener, ListenError> {
    match address {
        ListenAddress::Address(addr) => {
            TcpListener::bind(addr).await.map_err(|source| ListenError {
                address: addr,
                source,
            })
        }
        ListenAddress::EveryInterface(port) => {
            let v6 = SocketAddr::from((Ipv6Addr::UNSPECIFIED, port));
            match dual_stack(v6) {
                Ok(listener) => Ok(listener),
                // Taken or forbidden: so would the IPv4 address be; say what failed.
                Err(source)
                    if matches!(
                        source.kind(),
                        io::ErrorKind::AddrInUse | io::ErrorKind::PermissionDenied
                    ) =>
                {
                    Err(ListenError {
                        address: v6,
                        source,
                    })
                }
                Err(e) => {
                    let v4 = SocketAddr::from((Ipv4Addr::UNSPECIFIED, port));
                    tracing::info!(error = %e, address = %v4, "no IPv6 on this host; listening on IPv4 only");
                    TcpListener::bind(v4).await.map_err(|source| ListenError {
                        address: v4,
                        source,
                    })
                }
            }
        }
    }
}

/// The TCP sockets systemd passed to this process (socket activation, for
/// `--web.systemd-socket`): every descriptor `LISTEN_FDS` counts, when `LISTEN_PID` is
/// this process (or unset). Reading them unsets both variables, so that nothing this
/// process starts takes them for its own: call it before any other thread runs.
///
/// The error says what is missing or which descriptor is not a listening TCP socket.
pub fn systemd_sockets() -> Result<Vec<std::net::TcpListener>, String> {
    let passed = std::env::var_os("LISTEN_FDS").is_some();
    let mut fds = listenfd::ListenFd::from_env();
    if fds.len() == 0 {
        return Err(if passed {
            "systemd passed no socket to this process (LISTEN_FDS is 0, or LISTEN_PID names another process)".to_string()
        } else {
            "no socket passed by systemd (LISTEN_FDS is unset): start the exporter from a .socket unit, or drop the flag".to_string()
        });
    }
    (0..fds.len())
        .map(|i| {
            let listener = fds
                .take_tcp_listener(i)
                .map_err(|e| format!("socket {i} passed by systemd: {e}"))?
                .ok_or_else(|| format!("socket {i} passed by systemd was taken already"))?;
            // Tokio needs it non-blocking; systemd passes sockets blocking.
            listener
                .set_nonblocking(true)
                .map_err(|e| format!("socket {i} passed by systemd: {e}"))?;
            Ok(listener)
        })
        .collect()
}

/// An IPv6 socket on `addr` that takes IPv4 connections too, whatever the host's
/// default (`net.ipv6.bindv6only`).
fn dual_stack(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = TcpSocket::new_v6()?;
    socket2::SockRef::from(&socket).set_only_v6(false)?;
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(BACKLOG)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_port_alone_means_every_interface() {
        assert_eq!(
            ListenAddress::parse(":9866"),
            Ok(ListenAddress::EveryInterface(9866))
        );
        assert_eq!(
            ListenAddress::parse("127.0.0.1:9866"),
            Ok(ListenAddress::Address(SocketAddr::from((
                Ipv4Addr::LOCALHOST,
                9866
            ))))
        );
        assert_eq!(
            ListenAddress::parse("[::1]:0"),
            Ok(ListenAddress::Address(SocketAddr::from((
                Ipv6Addr::LOCALHOST,
                0
            ))))
        );
        let bad = ListenAddress::parse(":http").expect_err("not a port");
        assert!(bad.starts_with("\":http\": "), "{bad}");
        assert!(ListenAddress::parse("not an address").is_err());
    }

    #[tokio::test]
    async fn an_address_in_use_is_named() {
        let taken = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = taken.local_addr().expect("addr");
        let e = listen(ListenAddress::Address(addr))
            .await
            .expect_err("in use");
        assert_eq!(e.source.kind(), io::ErrorKind::AddrInUse);
        assert!(e.to_string().starts_with(&format!("{addr}: ")), "{e}");
    }
}
