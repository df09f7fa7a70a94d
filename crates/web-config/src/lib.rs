//! The web configuration file of Prometheus exporters (`--web.config.file`): TLS, client
//! certificates, basic authentication and extra response headers for a hyper + rustls
//! server, in the file format of the Prometheus exporter-toolkit, so that a file written
//! for a Go exporter works for a Rust one.
//!
//! ```yaml
//! tls_server_config:
//!   cert_file: server.crt          # or `cert:` with inline PEM; relative to this file
//!   key_file: server.key           # or `key:` with inline PEM
//!   client_auth_type: RequireAndVerifyClientCert
//!   client_ca_file: ca.crt         # or `client_ca:`
//!   min_version: TLS12             # TLS12 | TLS13
//!   max_version: TLS13
//!   cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256]   # TLS 1.2 suites, Go names
//!   curve_preferences: [X25519, CurveP256, CurveP384]
//!   prefer_server_cipher_suites: true
//!   client_allowed_sans: [prometheus.monitoring.svc]
//! http_server_config:
//!   http2: true                    # with TLS, ALPN offers h2 then http/1.1; false: http/1.1
//!   headers:
//!     Strict-Transport-Security: max-age=31536000
//! basic_auth_users:
//!   prometheus: $2y$10$...         # bcrypt hashes
//! rate_limit:
//!   interval: 1s                   # 0 or absent: no limit
//!   burst: 20
//! ```
//!
//! Differences from the toolkit, each reported by name at load: TLS10/TLS11 are
//! rejected; cipher suites rustls does not implement (CBC, RC4, 3DES, static RSA) and
//! the curve `CurveP521` are left out with a warning, and rejected only when nothing
//! listed can be offered. An empty `tls_server_config` means plain HTTP; one with any
//! key must name a certificate and key (the toolkit quietly falls back to HTTP).
//! `http2` matters only with TLS: [`WebSecurity::offers_http2`] says whether ALPN offers
//! `h2`, and a server serves HTTP/2 on the connections that negotiated it.
//!
//! The server says what the file does not, in a [`ServerInfo`]: its name (in messages),
//! the basic-auth realm and the protocols it offers by ALPN. [`load`] validates a file
//! into a [`WebConfig`], reporting every problem at once ([`WebConfigErrors`]);
//! [`WebSecurity`] serves one and reloads it when a file changes: take
//! [`WebSecurity::tls_acceptor`] per connection, call [`WebSecurity::authorize`] and add
//! [`WebSecurity::response_headers`] per request.
//!
//! Module map: parse.rs and parse_tls.rs walk the YAML (with `config_walk`) into a
//! [`WebConfig`] (config.rs), using names.rs for Go names, pem.rs and files.rs for the
//! referenced files, headers.rs for the header allowlist and tls.rs/verifier.rs for the
//! rustls config. security.rs serves it and reloads it; auth.rs checks passwords, gate.rs
//! bounds the bcrypt behind it (one at a time, a short wait, then 429) and rejection.rs
//! says what a refused request is answered; server.rs holds the server's own choices.

use std::path::Path;

use config_walk::Walk;

mod auth;
mod config;
mod files;
mod gate;
mod headers;
mod names;
mod parse;
mod parse_tls;
mod pem;
mod rate;
mod rejection;
mod security;
mod server;
mod tls;
mod verifier;

#[cfg(test)]
mod tests;

pub use config::{BcryptHash, PemSource, TlsSettings, WebConfig};
pub use config_walk::Problem;
pub use names::{ClientAuth, TlsVersion};
pub use parse::load;
pub use rate::RateLimit;
pub use rejection::{AuthFailure, AuthRejection};
pub use security::{Reload, WebSecurity};
pub use server::ServerInfo;

/// Every problem found in a web configuration file, so one edit can fix them all.
///
/// `Display` prints one problem per line, each prefixed by the file's path and the key
/// (`/etc/web.yml: tls_server_config.cert_file: required …`). No message contains a
/// secret: neither a password hash nor PEM data is ever quoted.
pub type WebConfigErrors = config_walk::Problems;

/// The problems of `walk`, each prefixed by `file`: every value comes from that file.
pub(crate) fn problems_in(file: &Path, walk: Walk) -> WebConfigErrors {
    walk.into_problems(|_| Some(file.display().to_string()))
}
