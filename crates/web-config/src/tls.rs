//! Building the rustls `ServerConfig` from validated TLS settings, with the *ring*
//! provider passed explicitly (the process installs no default provider).

use std::sync::Arc;

use rustls::crypto::SupportedKxGroup;
use rustls::crypto::ring::default_provider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::server::danger::ClientCertVerifier;
use rustls::{
    InconsistentKeys, RootCertStore, ServerConfig, SupportedCipherSuite, SupportedProtocolVersion,
};

use super::names::{ClientAuth, TlsVersion};
use super::verifier::{AcceptAnyClientCert, AllowedSans};

/// Everything the server config is built from, already validated one by one.
pub(crate) struct TlsParts {
    pub(crate) chain: Vec<CertificateDer<'static>>,
    pub(crate) key: PrivateKeyDer<'static>,
    pub(crate) client_auth: ClientAuth,
    pub(crate) client_cas: Option<RootCertStore>,
    /// Whether the handshake names the client CAs (not the system's whole trust store,
    /// which Go does not name either).
    pub(crate) hint_roots: bool,
    pub(crate) min_version: TlsVersion,
    pub(crate) max_version: TlsVersion,
    /// TLS 1.2 suites in preference order; `None` keeps rustls' list.
    pub(crate) tls12_suites: Option<Vec<SupportedCipherSuite>>,
    /// Key-exchange groups in preference order; `None` keeps rustls' list.
    pub(crate) kx_groups: Option<Vec<&'static dyn SupportedKxGroup>>,
    pub(crate) prefer_server_order: bool,
    pub(crate) allowed_sans: Vec<String>,
    /// The protocols offered by ALPN: what the server speaks (see `ServerInfo`).
    pub(crate) alpn: Vec<Vec<u8>>,
}

/// Why the parts did not make a server config.
#[derive(Debug)]
pub(crate) enum BuildError {
    /// The key is not the certificate's key (often: a rotation caught half-written).
    KeyMismatch,
    /// A verifying policy without CA certificates (parse checks this first).
    NoClientCas,
    Other(String),
}

pub(crate) fn server_config(parts: TlsParts) -> Result<Arc<ServerConfig>, BuildError> {
    let mut provider = default_provider();
    if let Some(suites) = parts.tls12_suites {
        // Go does not let TLS 1.3 suites be configured; keep them all, then the listed ones.
        provider
            .cipher_suites
            .retain(|s| matches!(s, SupportedCipherSuite::Tls13(_)));
        provider.cipher_suites.extend(suites);
    }
    if let Some(groups) = parts.kx_groups {
        provider.kx_groups = groups;
    }
    let algorithms = provider.signature_verification_algorithms;
    let provider = Arc::new(provider);

    let verifier: Arc<dyn ClientCertVerifier> = match parts.client_auth {
        ClientAuth::NoClientCert => WebPkiClientVerifier::no_client_auth(),
        ClientAuth::RequestClientCert | ClientAuth::RequireAnyClientCert => {
            Arc::new(AcceptAnyClientCert {
                mandatory: parts.client_auth == ClientAuth::RequireAnyClientCert,
                hints: parts
                    .client_cas
                    .as_ref()
                    .map(RootCertStore::subjects)
                    .unwrap_or_default(),
                algorithms,
            })
        }
        ClientAuth::VerifyClientCertIfGiven | ClientAuth::RequireAndVerifyClientCert => {
            let roots = parts.client_cas.ok_or(BuildError::NoClientCas)?;
            let builder =
                WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone());
            let builder = if parts.client_auth == ClientAuth::VerifyClientCertIfGiven {
                builder.allow_unauthenticated()
            } else {
                builder
            };
            let builder = if parts.hint_roots {
                builder
            } else {
                builder.clear_root_hint_subjects()
            };
            builder
                .build()
                .map_err(|e| BuildError::Other(format!("client certificate verifier: {e}")))?
        }
    };
    let verifier: Arc<dyn ClientCertVerifier> = if parts.allowed_sans.is_empty() {
        verifier
    } else {
        Arc::new(AllowedSans {
            inner: verifier,
            allowed: parts.allowed_sans,
        })
    };

    let versions: Vec<&'static SupportedProtocolVersion> = [
        (TlsVersion::Tls13, &rustls::version::TLS13),
        (TlsVersion::Tls12, &rustls::version::TLS12),
    ]
    .into_iter()
    .filter(|(v, _)| (parts.min_version..=parts.max_version).contains(v))
    .map(|(_, rustls_version)| rustls_version)
    .collect();

    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&versions)
        .map_err(|e| BuildError::Other(e.to_string()))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(parts.chain, parts.key)
        .map_err(|e| match e {
            rustls::Error::InconsistentKeys(InconsistentKeys::KeyMismatch) => {
                BuildError::KeyMismatch
            }
            other => BuildError::Other(other.to_string()),
        })?;
    config.ignore_client_order = parts.prefer_server_order;
    config.alpn_protocols = parts.alpn;
    Ok(Arc::new(config))
}
