//! The validated, typed form of the web configuration file.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;

use http::HeaderMap;
use rustls::{CipherSuite, NamedGroup, ServerConfig};

use super::files::Sources;
use super::names::{ClientAuth, TlsVersion};
use super::server::ServerInfo;

/// A web configuration file, validated: every referenced file was read and parsed, the
/// TLS server configuration was built, every header and hash was checked.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// The file this was loaded from; relative paths in it were resolved against its
    /// directory.
    pub path: PathBuf,
    /// `tls_server_config`. `None` (key absent, null or `{}`) serves plain HTTP.
    pub tls: Option<TlsSettings>,
    /// `http_server_config.http2` (default `true`). With TLS, ALPN offers `h2` then
    /// `http/1.1`, or only `http/1.1` when `false` (see [`WebConfig::offers_http2`]).
    /// Without TLS it has no effect: as in the toolkit, HTTP/2 is only offered by TLS
    /// ALPN, never as cleartext `h2c`.
    pub http2: bool,
    /// `http_server_config.headers`: headers added to every response (including 401s).
    pub headers: HeaderMap,
    /// `basic_auth_users`: user name → bcrypt hash. Empty means no authentication.
    pub basic_auth_users: BTreeMap<String, BcryptHash>,
    /// `rate_limit`: requests across every client; `None` when absent or limiting
    /// nothing.
    pub rate_limit: Option<crate::RateLimit>,
    /// What loads but leaves out or weakens something (cipher suites or curves that
    /// cannot be offered, client certificates verified against the system's trust store,
    /// users' hashes of different costs), one message each, naming the file and key: for the serving program to log once at start (the
    /// reloader logs those of a reloaded file). No message contains a secret.
    pub warnings: Vec<String>,
    /// What was read, to tell on reload whether anything changed.
    pub(crate) sources: Sources,
    /// What the server decided; a reload loads with it again.
    pub(crate) server: ServerInfo,
}

impl WebConfig {
    /// Whether this configuration offers HTTP/2: `true` when TLS is configured and its
    /// ALPN offers `h2`, that is when `http_server_config.http2` is `true` or absent (and
    /// the [`ServerInfo`] did not take `h2` out); always `false` without TLS, whatever
    /// `http2` says, since HTTP/2 is only offered by TLS ALPN. The rustls config's
    /// `alpn_protocols` are then `h2`, `http/1.1`; otherwise `http/1.1` alone.
    pub fn offers_http2(&self) -> bool {
        self.tls.as_ref().is_some_and(|tls| {
            tls.server_config
                .alpn_protocols
                .iter()
                .any(|p| p.as_slice() == super::server::H2)
        })
    }
}

/// Where PEM data came from. Inline data is never shown (a key is a secret).
#[derive(Clone, PartialEq, Eq)]
pub enum PemSource {
    /// A `*_file` key, resolved to a path.
    File(PathBuf),
    /// The inline key (`cert`, `key`, `client_ca`).
    Inline,
}

impl fmt::Debug for PemSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PemSource::File(path) => write!(f, "File({})", path.display()),
            PemSource::Inline => f.write_str("Inline"),
        }
    }
}

/// `tls_server_config`, validated.
#[derive(Clone)]
pub struct TlsSettings {
    /// `cert_file` (or inline `cert`): the certificate chain, leaf first.
    pub cert: PemSource,
    /// `key_file` (or inline `key`): the private key of the leaf certificate.
    pub key: PemSource,
    /// `client_auth_type` (default `NoClientCert`).
    pub client_auth: ClientAuth,
    /// `client_ca_file` (or inline `client_ca`): trust anchors for client certificates;
    /// required by the verifying policies.
    pub client_ca: Option<PemSource>,
    /// `min_version` (default `TLS12`).
    pub min_version: TlsVersion,
    /// `max_version` (default `TLS13`).
    pub max_version: TlsVersion,
    /// `cipher_suites`: the TLS 1.2 suites offered, in order. `None` keeps rustls' list.
    /// TLS 1.3 suites are always all enabled, as in Go.
    pub cipher_suites: Option<Vec<CipherSuite>>,
    /// `curve_preferences`: key-exchange groups, in order. `None` keeps rustls' list.
    pub curve_preferences: Option<Vec<NamedGroup>>,
    /// `prefer_server_cipher_suites` (default `true`): choose the cipher suite by the
    /// server's order rather than the client's (rustls' `ignore_client_order`).
    pub prefer_server_cipher_suites: bool,
    /// `client_allowed_sans`: when non-empty, a client certificate must carry one of these
    /// DNS, email, IP or URI subject alternative names (exact match).
    pub client_allowed_sans: Vec<String>,
    /// The rustls configuration built from all of the above.
    pub(crate) server_config: Arc<ServerConfig>,
}

impl TlsSettings {
    /// The rustls server configuration (cheap: an `Arc`).
    pub fn server_config(&self) -> Arc<ServerConfig> {
        self.server_config.clone()
    }
}

impl fmt::Debug for TlsSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsSettings")
            .field("cert", &self.cert)
            .field("key", &self.key)
            .field("client_auth", &self.client_auth)
            .field("client_ca", &self.client_ca)
            .field("min_version", &self.min_version)
            .field("max_version", &self.max_version)
            .field("cipher_suites", &self.cipher_suites)
            .field("curve_preferences", &self.curve_preferences)
            .field(
                "prefer_server_cipher_suites",
                &self.prefer_server_cipher_suites,
            )
            .field("client_allowed_sans", &self.client_allowed_sans)
            .finish_non_exhaustive()
    }
}

/// A bcrypt password hash (`$2y$`, `$2b$`, `$2a$`), checked to be well formed.
/// `Debug` shows only the cost: hashes of weak passwords can be cracked offline.
#[derive(Clone, PartialEq, Eq)]
pub struct BcryptHash {
    hash: String,
    cost: u32,
}

impl BcryptHash {
    /// The work factor: verifying takes about 2^cost rounds.
    pub fn cost(&self) -> u32 {
        self.cost
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.hash
    }
}

impl FromStr for BcryptHash {
    type Err = String;

    fn from_str(hash: &str) -> Result<Self, String> {
        let parts = bcrypt::HashParts::from_str(hash).map_err(|e| {
            let reason = match e {
                bcrypt::BcryptError::InvalidHash(reason) => reason.to_string(),
                other => other.to_string(),
            };
            format!("not a bcrypt hash ({reason}); create one with `htpasswd -nBC 10 USER`")
        })?;
        let cost = parts.get_cost();
        if !(4..=31).contains(&cost) {
            return Err(format!("bcrypt cost {cost} is outside 4..=31"));
        }
        Ok(Self {
            hash: hash.to_owned(),
            cost,
        })
    }
}

impl fmt::Debug for BcryptHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BcryptHash(cost {})", self.cost)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bcrypt_hash_checks_form_and_hides_itself() {
        let hash = bcrypt::hash("pw", 4).expect("hash");
        let parsed: BcryptHash = hash.parse().expect("valid");
        assert_eq!(parsed.cost(), 4);
        assert_eq!(format!("{parsed:?}"), "BcryptHash(cost 4)");

        let err = "plaintext".parse::<BcryptHash>().expect_err("not a hash");
        assert!(err.starts_with("not a bcrypt hash"), "{err}");
        assert!(!err.contains("plaintext"), "{err}");
        let too_cheap = format!("$2y$03${}", &hash[7..]);
        let err = too_cheap.parse::<BcryptHash>().expect_err("cost 3");
        assert!(err.contains("outside 4..=31"), "{err}");
    }
}
