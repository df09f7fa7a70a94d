//! Why a TLS handshake failed, told so that an operator can act on it.
//!
//! Every failure is logged at debug with the peer and rustls' reason. The ones whose
//! fix is the operator's (a client certificate the exporter cannot accept, a scraper
//! that does not trust the exporter's certificate, settings with nothing in common) are
//! also logged at warn, at most once a minute per cause, so a scraper failing every
//! 15 s says so without flooding the log. A peer that leaves mid-handshake, or a
//! timeout, stays at debug: nothing to fix.

use std::io;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rustls::{AlertDescription, CertificateError};

/// At most one warning per cause in this long.
const WARN_EVERY: Duration = Duration::from_secs(60);

/// A handshake failure whose fix is the operator's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Cause {
    /// An X.509 version 1 client certificate: Go accepts it, rustls refuses it.
    ClientCertVersion1,
    /// A client certificate outside its validity period.
    ClientCertExpired,
    /// A client certificate not issued by a CA in `client_ca_file` (or the trust store).
    ClientCertUnknownIssuer,
    /// A client certificate refused for another reason.
    ClientCertRefused,
    /// No client certificate where `client_auth_type` requires one.
    NoClientCert,
    /// The client refused the exporter's certificate.
    ServerCertRefused,
    /// No TLS version, cipher suite, group or signature scheme in common.
    NothingInCommon,
    /// Plain HTTP sent to a TLS port.
    PlainHttp,
}

impl Cause {
    /// How many causes there are: one more than the last's discriminant.
    const COUNT: usize = Cause::PlainHttp as usize + 1;

    /// What happened and what to do, for the warning.
    pub(super) fn advice(self) -> &'static str {
        match self {
            Cause::ClientCertVersion1 => {
                "a client's certificate is X.509 version 1, which rustls refuses (Go accepts it): reissue it as version 3, giving `openssl x509 -req` an -extfile with its extensions (e.g. basicConstraints=CA:FALSE and extendedKeyUsage=clientAuth)"
            }
            Cause::ClientCertExpired => {
                "a client's certificate is expired or not yet valid: renew it (or check the clocks)"
            }
            Cause::ClientCertUnknownIssuer => {
                "a client's certificate is not issued by a CA in the web configuration's client_ca_file (or, without one, the system's trust store)"
            }
            Cause::ClientCertRefused => "a client's certificate was refused",
            Cause::NoClientCert => {
                "a client sent no certificate, which the web configuration's client_auth_type requires (kubelet probes send none)"
            }
            Cause::ServerCertRefused => {
                "a client refused the exporter's certificate: check that cert_file's chain and names match what the scraper trusts and asks for (tls_config.ca_file, server_name)"
            }
            Cause::NothingInCommon => {
                "a client has no TLS version, cipher suite or key-exchange group in common with the web configuration's tls_server_config"
            }
            Cause::PlainHttp => {
                "a client sent plain HTTP to a TLS port: scrape it with `scheme: https`"
            }
        }
    }
}

/// The operator's cause of a failed handshake, if it is one. `error` is what the TLS
/// acceptor returned: rustls' error inside an `io::Error`.
pub(super) fn cause(error: &io::Error) -> Option<Cause> {
    let error = error.get_ref()?.downcast_ref::<rustls::Error>()?;
    Some(match error {
        rustls::Error::InvalidCertificate(e) => match e {
            CertificateError::Expired
            | CertificateError::ExpiredContext { .. }
            | CertificateError::NotValidYet
            | CertificateError::NotValidYetContext { .. } => Cause::ClientCertExpired,
            CertificateError::UnknownIssuer => Cause::ClientCertUnknownIssuer,
            CertificateError::Other(other)
                if matches!(
                    other.0.downcast_ref::<webpki::Error>(),
                    Some(webpki::Error::UnsupportedCertVersion)
                ) =>
            {
                Cause::ClientCertVersion1
            }
            _ => Cause::ClientCertRefused,
        },
        rustls::Error::NoCertificatesPresented => Cause::NoClientCert,
        rustls::Error::AlertReceived(
            AlertDescription::BadCertificate
            | AlertDescription::UnsupportedCertificate
            | AlertDescription::CertificateExpired
            | AlertDescription::CertificateRevoked
            | AlertDescription::CertificateUnknown
            | AlertDescription::UnknownCA
            | AlertDescription::AccessDenied,
        ) => Cause::ServerCertRefused,
        rustls::Error::AlertReceived(
            AlertDescription::ProtocolVersion | AlertDescription::InsufficientSecurity,
        )
        | rustls::Error::PeerIncompatible(_)
        | rustls::Error::NoApplicationProtocol => Cause::NothingInCommon,
        rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType) => {
            Cause::PlainHttp
        }
        _ => return None,
    })
}

/// When each cause was last warned about.
#[derive(Debug, Default)]
pub(super) struct Warned {
    last: Mutex<[Option<Instant>; Cause::COUNT]>,
}

impl Warned {
    /// Whether `cause`, seen at `now`, is warned about: not within a minute before.
    pub(super) fn due(&self, cause: Cause, now: Instant) -> bool {
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        let slot = &mut last[cause as usize];
        match slot {
            Some(at) if now.saturating_duration_since(*at) < WARN_EVERY => false,
            _ => {
                *slot = Some(now);
                true
            }
        }
    }
}

/// The process's record of warnings given.
static WARNED: std::sync::LazyLock<Warned> = std::sync::LazyLock::new(Warned::default);

/// Logs a failed handshake: at debug always, at warn when the operator can fix it (at
/// most once a minute per cause).
pub(super) fn failed(peer: SocketAddr, error: &io::Error) {
    tracing::debug!(%peer, error = %error, "TLS handshake failed");
    if let Some(cause) = cause(error)
        && WARNED.due(cause, Instant::now())
    {
        tracing::warn!(%peer, error = %error, "TLS handshake failed: {} (said at most once a minute)", cause.advice());
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn io(e: rustls::Error) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, e)
    }

    #[test]
    fn the_operators_causes_are_told_apart() {
        let v1 = rustls::Error::InvalidCertificate(CertificateError::Other(rustls::OtherError(
            Arc::new(webpki::Error::UnsupportedCertVersion),
        )));
        assert_eq!(cause(&io(v1)), Some(Cause::ClientCertVersion1));
        let other = rustls::Error::InvalidCertificate(CertificateError::Other(rustls::OtherError(
            Arc::new(webpki::Error::BadDer),
        )));
        assert_eq!(cause(&io(other)), Some(Cause::ClientCertRefused));
        let expired = rustls::Error::InvalidCertificate(CertificateError::Expired);
        assert_eq!(cause(&io(expired)), Some(Cause::ClientCertExpired));
        let issuer = rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer);
        assert_eq!(cause(&io(issuer)), Some(Cause::ClientCertUnknownIssuer));
        assert_eq!(
            cause(&io(rustls::Error::NoCertificatesPresented)),
            Some(Cause::NoClientCert)
        );
        let unknown_ca = rustls::Error::AlertReceived(AlertDescription::UnknownCA);
        assert_eq!(cause(&io(unknown_ca)), Some(Cause::ServerCertRefused));
        let suites =
            rustls::Error::PeerIncompatible(rustls::PeerIncompatible::NoCipherSuitesInCommon);
        assert_eq!(cause(&io(suites)), Some(Cause::NothingInCommon));
        let http = rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType);
        assert_eq!(cause(&io(http)), Some(Cause::PlainHttp));
    }

    #[test]
    fn leaving_mid_handshake_is_nothing_to_fix() {
        let eof = io::Error::new(io::ErrorKind::UnexpectedEof, "tls handshake eof");
        assert_eq!(cause(&eof), None);
        let closed = rustls::Error::AlertReceived(AlertDescription::CloseNotify);
        assert_eq!(cause(&io(closed)), None);
    }

    #[test]
    fn a_cause_is_warned_about_once_a_minute_each() {
        let warned = Warned::default();
        let t0 = Instant::now();
        assert!(warned.due(Cause::ClientCertVersion1, t0));
        assert!(!warned.due(Cause::ClientCertVersion1, t0 + Duration::from_secs(59)));
        // Another cause is not held back by the first.
        assert!(warned.due(Cause::NoClientCert, t0 + Duration::from_secs(1)));
        assert!(warned.due(Cause::ClientCertVersion1, t0 + Duration::from_secs(60)));
        assert!(!warned.due(Cause::ClientCertVersion1, t0 + Duration::from_secs(61)));
    }
}
