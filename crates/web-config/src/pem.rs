//! Parsing the certificate, key and CA PEM data, and reading what the TLS checks need
//! from a certificate (validity, subject alternative names).
//!
//! Messages never quote PEM content: a key file's bytes are a secret.

use std::net::IpAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use rustls::RootCertStore;
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{FromDer, X509Certificate};

/// A PEM error in words, without echoing any of the input.
fn pem_problem(e: &pem::Error) -> String {
    match e {
        pem::Error::MissingSectionEnd { .. } => "a PEM section has no END line".into(),
        pem::Error::IllegalSectionStart { .. } => "a PEM BEGIN line is malformed".into(),
        pem::Error::Base64Decode(_) => "a PEM section is not valid base64".into(),
        pem::Error::Io(e) => format!("read error: {e}"),
        pem::Error::SectionTooLarge => "a PEM section is too large".into(),
        _ => "invalid PEM".into(),
    }
}

/// A certificate chain (leaf first), each certificate checked to be X.509.
pub(crate) fn cert_chain(data: &[u8]) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_slice_iter(data)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem_problem(&e))?;
    if certs.is_empty() {
        return Err("no certificate found (expected a PEM \"CERTIFICATE\" block)".into());
    }
    for (i, cert) in certs.iter().enumerate() {
        X509Certificate::from_der(cert)
            .map_err(|e| format!("certificate #{} is not valid X.509: {e}", i + 1))?;
    }
    Ok(certs)
}

/// The first private key (PKCS#8, PKCS#1 RSA or SEC1 EC), checked to be usable.
pub(crate) fn private_key(data: &[u8]) -> Result<PrivateKeyDer<'static>, String> {
    let key = PrivateKeyDer::from_pem_slice(data).map_err(|e| match e {
        pem::Error::NoItemsFound => "no private key found (expected a PEM \"PRIVATE KEY\", \
                                     \"RSA PRIVATE KEY\" or \"EC PRIVATE KEY\" block)"
            .to_string(),
        other => pem_problem(&other),
    })?;
    rustls::crypto::ring::default_provider()
        .key_provider
        .load_private_key(key.clone_key())
        .map_err(|_| {
            "unsupported or malformed private key (RSA, ECDSA P-256/P-384 and Ed25519 are supported)"
                .to_string()
        })?;
    Ok(key)
}

/// The trust anchors for client certificates.
pub(crate) fn ca_bundle(data: &[u8]) -> Result<RootCertStore, String> {
    let mut roots = RootCertStore::empty();
    for (i, cert) in cert_chain(data)?.into_iter().enumerate() {
        roots
            .add(cert)
            .map_err(|e| format!("certificate #{} cannot be a trust anchor: {e}", i + 1))?;
    }
    Ok(roots)
}

/// Warns when a server certificate is outside its validity period: clients will refuse
/// it, but refusing to start would turn a renewal delay into an outage of the metrics.
pub(crate) fn warn_if_not_current(cert: &CertificateDer<'_>, key: &str) {
    let Ok((_, parsed)) = X509Certificate::from_der(cert) else {
        return;
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    let validity = parsed.validity();
    if validity.not_after.timestamp() < now {
        tracing::warn!(key, not_after = %validity.not_after, "the server certificate has expired; TLS clients will refuse it");
    } else if validity.not_before.timestamp() > now {
        tracing::warn!(key, not_before = %validity.not_before, "the server certificate is not valid yet; TLS clients will refuse it");
    }
}

/// The certificate's DNS, email, IP and URI subject alternative names as text, the set
/// the toolkit compares `client_allowed_sans` against.
pub(crate) fn subject_alt_names(cert: &CertificateDer<'_>) -> Result<Vec<String>, String> {
    let (_, parsed) = X509Certificate::from_der(cert).map_err(|e| e.to_string())?;
    let Some(san) = parsed
        .subject_alternative_name()
        .map_err(|e| e.to_string())?
    else {
        return Ok(Vec::new());
    };
    Ok(san
        .value
        .general_names
        .iter()
        .filter_map(|name| match name {
            GeneralName::DNSName(s) | GeneralName::RFC822Name(s) | GeneralName::URI(s) => {
                Some((*s).to_string())
            }
            GeneralName::IPAddress(bytes) => ip_text(bytes),
            _ => None,
        })
        .collect())
}

/// Go's `net.IP.String()`: an IPv4-mapped IPv6 address prints as IPv4.
fn ip_text(bytes: &[u8]) -> Option<String> {
    let ip = match bytes.len() {
        4 => IpAddr::from(<[u8; 4]>::try_from(bytes).ok()?),
        16 => {
            let v6 = std::net::Ipv6Addr::from(<[u8; 16]>::try_from(bytes).ok()?);
            v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4)
        }
        _ => return None,
    };
    Some(ip.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn self_signed(sans: Vec<String>) -> rcgen::CertifiedKey<rcgen::KeyPair> {
        rcgen::generate_simple_self_signed(sans).expect("rcgen")
    }

    #[test]
    fn parses_chain_key_and_bundle() {
        let ck = self_signed(vec!["localhost".into()]);
        let cert_pem = ck.cert.pem();
        assert_eq!(cert_chain(cert_pem.as_bytes()).map(|c| c.len()), Ok(1));
        assert!(private_key(ck.signing_key.serialize_pem().as_bytes()).is_ok());
        assert!(ca_bundle(cert_pem.as_bytes()).is_ok());
    }

    #[test]
    fn errors_say_what_is_missing_without_quoting_input() {
        let ck = self_signed(vec!["localhost".into()]);
        let key_pem = ck.signing_key.serialize_pem();
        let err = cert_chain(key_pem.as_bytes()).expect_err("a key is not a certificate");
        assert!(err.starts_with("no certificate found"), "{err}");
        let err = private_key(ck.cert.pem().as_bytes()).expect_err("a cert is not a key");
        assert!(err.starts_with("no private key found"), "{err}");
        let truncated = &key_pem[..key_pem.len() / 2];
        let err = private_key(truncated.as_bytes()).expect_err("truncated");
        assert!(!err.contains(&key_pem[40..60]), "{err}");
        let garbage = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        let err = cert_chain(garbage.as_bytes()).expect_err("not X.509");
        assert!(
            err.starts_with("certificate #1 is not valid X.509"),
            "{err}"
        );
    }

    #[test]
    fn subject_alt_names_cover_dns_email_ip_uri() {
        let mut params =
            rcgen::CertificateParams::new(vec!["client.example".to_string()]).expect("params");
        params.subject_alt_names.extend([
            rcgen::SanType::Rfc822Name("ops@example.com".try_into().expect("ia5")),
            rcgen::SanType::IpAddress("10.1.2.3".parse().expect("ip")),
            rcgen::SanType::IpAddress("::1".parse().expect("ip")),
            rcgen::SanType::URI("spiffe://example/prom".try_into().expect("ia5")),
        ]);
        let key = rcgen::KeyPair::generate().expect("key");
        let cert = params.self_signed(&key).expect("cert");
        let sans = subject_alt_names(cert.der()).expect("parses");
        assert_eq!(
            sans,
            [
                "client.example",
                "ops@example.com",
                "10.1.2.3",
                "::1",
                "spiffe://example/prom"
            ]
        );
    }
}
