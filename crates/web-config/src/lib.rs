//! The `--web.config.file`: TLS, basic authentication and extra response headers for
//! the exporter's HTTP server, in the Prometheus exporter-toolkit file format, so a file
//! written for any Go exporter works here.
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
//!   http2: true                    # accepted; the server speaks HTTP/1.1
//!   headers:
//!     Strict-Transport-Security: max-age=31536000
//! basic_auth_users:
//!   prometheus: $2y$10$...         # bcrypt hashes
//! ```
//!
//! Differences from the toolkit, each reported by name at load: TLS10/TLS11, cipher
//! suites and curves rustls does not implement (CBC, RC4, 3DES, static RSA, P-521), and
//! `rate_limit`, are rejected. An empty `tls_server_config` means plain HTTP; one with
//! any key must name a certificate and key (the toolkit quietly falls back to HTTP).
//!
//! Module map: [`load`] (parse.rs, parse_tls.rs) walks the YAML (yaml.rs) into a
//! [`WebConfig`] (config.rs), using names.rs for Go names, pem.rs and files.rs for the referenced files,
//! headers.rs for the header allowlist and tls.rs/verifier.rs for the rustls config.
//! [`WebSecurity`] (security.rs) serves it and reloads it; auth.rs checks passwords.

mod auth;
mod config;
mod error;
mod files;
mod headers;
mod names;
mod parse;
mod parse_tls;
mod pem;
mod security;
mod tls;
mod verifier;
mod yaml;

#[cfg(test)]
mod tests;

pub use auth::{AuthRejection, WWW_AUTHENTICATE_CHALLENGE};
pub use config::{BcryptHash, PemSource, TlsSettings, WebConfig};
pub use error::{Problem, WebConfigErrors};
pub use names::{ClientAuth, TlsVersion};
pub use parse::load;
pub use security::{Reload, WebSecurity};
