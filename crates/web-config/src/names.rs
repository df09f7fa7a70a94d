//! The Go names the exporter-toolkit file uses (TLS versions, client auth policies,
//! cipher suites, curves), mapped onto what rustls with its *ring* provider implements.
//! A name Go knows but rustls does not implement is rejected by name, with the list
//! of what is supported: a config that silently did less than it says would be worse.

use rustls::SupportedCipherSuite;
use rustls::crypto::SupportedKxGroup;
use rustls::crypto::ring::{cipher_suite as cs, kx_group};

/// A TLS protocol version rustls implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TlsVersion {
    /// `TLS12`.
    Tls12,
    /// `TLS13`.
    Tls13,
}

impl TlsVersion {
    /// The name used in the file.
    pub fn name(self) -> &'static str {
        match self {
            TlsVersion::Tls12 => "TLS12",
            TlsVersion::Tls13 => "TLS13",
        }
    }

    pub(crate) fn parse(name: &str) -> Result<Self, String> {
        match name {
            "TLS12" => Ok(TlsVersion::Tls12),
            "TLS13" => Ok(TlsVersion::Tls13),
            "TLS10" | "TLS11" => Err(format!(
                "{name} is not supported: rustls implements TLS12 and TLS13 only"
            )),
            other => Err(format!(
                "unknown value {other:?} (expected one of: TLS12, TLS13)"
            )),
        }
    }
}

/// Whether and how the server asks for client certificates (`client_auth_type`),
/// with the meaning of Go's `tls.ClientAuthType` of the same name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClientAuth {
    /// No client certificate is requested (the default).
    #[default]
    NoClientCert,
    /// A certificate is requested; none is required and any one sent is not verified.
    RequestClientCert,
    /// A certificate is required; it is not verified against a CA.
    RequireAnyClientCert,
    /// A certificate is optional; one that is sent must verify against `client_ca_file`.
    VerifyClientCertIfGiven,
    /// A certificate is required and must verify against `client_ca_file`.
    RequireAndVerifyClientCert,
}

impl ClientAuth {
    const ALL: [ClientAuth; 5] = [
        ClientAuth::NoClientCert,
        ClientAuth::RequestClientCert,
        ClientAuth::RequireAnyClientCert,
        ClientAuth::VerifyClientCertIfGiven,
        ClientAuth::RequireAndVerifyClientCert,
    ];

    /// The name used in the file.
    pub fn name(self) -> &'static str {
        match self {
            ClientAuth::NoClientCert => "NoClientCert",
            ClientAuth::RequestClientCert => "RequestClientCert",
            ClientAuth::RequireAnyClientCert => "RequireAnyClientCert",
            ClientAuth::VerifyClientCertIfGiven => "VerifyClientCertIfGiven",
            ClientAuth::RequireAndVerifyClientCert => "RequireAndVerifyClientCert",
        }
    }

    /// Whether client certificates are checked against `client_ca_file`.
    pub fn verifies(self) -> bool {
        matches!(
            self,
            ClientAuth::VerifyClientCertIfGiven | ClientAuth::RequireAndVerifyClientCert
        )
    }

    pub(crate) fn parse(name: &str) -> Result<Self, String> {
        // The toolkit reads an empty value as the default.
        if name.is_empty() {
            return Ok(ClientAuth::NoClientCert);
        }
        if name == "RequireClientCert" {
            return Err(
                "RequireClientCert, an old name the toolkit still reads, is not \
                        accepted: write RequireAnyClientCert, which it means"
                    .to_string(),
            );
        }
        Self::ALL
            .into_iter()
            .find(|c| c.name() == name)
            .ok_or_else(|| {
                let names: Vec<_> = Self::ALL.iter().map(|c| c.name()).collect();
                format!(
                    "unknown value {name:?} (expected one of: {})",
                    names.join(", ")
                )
            })
    }
}

/// What a `cipher_suites` entry means here.
#[derive(Debug, Clone, Copy)]
pub(crate) enum CipherChoice {
    /// A TLS 1.2 suite to offer.
    Tls12(SupportedCipherSuite),
    /// A TLS 1.3 suite. Go does not let TLS 1.3 suites be configured (all are always
    /// on) and the toolkit accepts their names; so do we, with the same (no) effect.
    Tls13,
}

/// The TLS 1.2 suites rustls implements, under their Go names, in rustls' preference order.
fn tls12_suites() -> [(&'static str, SupportedCipherSuite); 6] {
    [
        (
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            cs::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        ),
        (
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            cs::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        ),
        (
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
            cs::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        ),
        (
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            cs::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        ),
        (
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            cs::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        ),
        (
            "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
            cs::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
        ),
    ]
}

const TLS13_SUITES: [&str; 3] = [
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
];

/// Suites Go knows (`tls.CipherSuites()` and `tls.InsecureCipherSuites()`) that rustls
/// deliberately does not implement: CBC, RC4, 3DES and static-RSA key exchange.
const GO_ONLY_SUITES: [&str; 16] = [
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
    "TLS_RSA_WITH_RC4_128_SHA",
    "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
    "TLS_RSA_WITH_AES_128_CBC_SHA",
    "TLS_RSA_WITH_AES_256_CBC_SHA",
    "TLS_RSA_WITH_AES_128_CBC_SHA256",
    "TLS_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA",
    "TLS_ECDHE_RSA_WITH_RC4_128_SHA",
    "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
];

/// Whether `name` is a suite Go offers and rustls does not implement.
pub(crate) fn go_only_suite(name: &str) -> bool {
    GO_ONLY_SUITES.contains(&name)
}

pub(crate) fn cipher_suite(name: &str) -> Result<CipherChoice, String> {
    if let Some((_, suite)) = tls12_suites().into_iter().find(|(n, _)| *n == name) {
        return Ok(CipherChoice::Tls12(suite));
    }
    if TLS13_SUITES.contains(&name) {
        return Ok(CipherChoice::Tls13);
    }
    let supported: Vec<&str> = tls12_suites().iter().map(|(n, _)| *n).collect();
    let supported = supported.join(", ");
    if GO_ONLY_SUITES.contains(&name) {
        Err(format!(
            "{name} is not supported by rustls (supported: {supported})"
        ))
    } else {
        Err(format!(
            "unknown cipher suite {name:?} (supported: {supported})"
        ))
    }
}

fn curves() -> [(&'static str, &'static dyn SupportedKxGroup); 3] {
    [
        ("X25519", kx_group::X25519),
        ("CurveP256", kx_group::SECP256R1),
        ("CurveP384", kx_group::SECP384R1),
    ]
}

/// The curve the toolkit names that rustls' *ring* provider does not implement.
const GO_ONLY_CURVE: &str = "CurveP521";

/// Whether `name` is a curve the toolkit accepts and the *ring* provider cannot offer,
/// so that a file shared with Go exporters may list it beside curves both offer.
pub(crate) fn go_only_curve(name: &str) -> bool {
    name == GO_ONLY_CURVE
}

pub(crate) fn curve(name: &str) -> Result<&'static dyn SupportedKxGroup, String> {
    if let Some((_, group)) = curves().into_iter().find(|(n, _)| *n == name) {
        return Ok(group);
    }
    let supported: Vec<&str> = curves().iter().map(|(n, _)| *n).collect();
    let supported = supported.join(", ");
    match name {
        GO_ONLY_CURVE | "X25519MLKEM768" => Err(format!(
            "{name} is not supported by rustls' ring provider (supported: {supported})"
        )),
        other => Err(format!("unknown curve {other:?} (supported: {supported})")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert_eq!(TlsVersion::parse("TLS13"), Ok(TlsVersion::Tls13));
        assert!(TlsVersion::Tls12 < TlsVersion::Tls13);
        let err = TlsVersion::parse("TLS10").expect_err("TLS10 rejected");
        assert!(
            err.contains("rustls implements TLS12 and TLS13 only"),
            "{err}"
        );
        let err = TlsVersion::parse("SSL3").expect_err("unknown rejected");
        assert!(err.starts_with("unknown value \"SSL3\""), "{err}");
    }

    #[test]
    fn client_auth_names_round_trip_and_empty_is_default() {
        for c in ClientAuth::ALL {
            assert_eq!(ClientAuth::parse(c.name()), Ok(c));
        }
        assert_eq!(ClientAuth::parse(""), Ok(ClientAuth::NoClientCert));
        let err = ClientAuth::parse("Foo").expect_err("unknown rejected");
        assert!(err.contains("RequireAndVerifyClientCert"), "{err}");
        let err = ClientAuth::parse("RequireClientCert").expect_err("old alias rejected");
        assert!(err.contains("write RequireAnyClientCert"), "{err}");
    }

    #[test]
    fn cipher_suites_map_by_go_name() {
        assert!(matches!(
            cipher_suite("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"),
            Ok(CipherChoice::Tls12(s)) if s.suite() == rustls::CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
        ));
        assert!(matches!(
            cipher_suite("TLS_AES_128_GCM_SHA256"),
            Ok(CipherChoice::Tls13)
        ));
        let err = cipher_suite("TLS_RSA_WITH_AES_128_CBC_SHA").expect_err("CBC rejected");
        assert!(err.contains("not supported by rustls"), "{err}");
        let err = cipher_suite("TLS_NOPE").expect_err("unknown rejected");
        assert!(err.starts_with("unknown cipher suite"), "{err}");
    }

    #[test]
    fn curves_map_by_go_name() {
        assert_eq!(
            curve("CurveP384").map(|g| g.name()).ok(),
            Some(rustls::NamedGroup::secp384r1)
        );
        let err = curve("CurveP521").err().unwrap_or_default();
        assert!(err.contains("not supported"), "{err}");
        assert!(go_only_curve("CurveP521"));
        assert!(!go_only_curve("X25519MLKEM768") && !go_only_curve("CurveP256"));
        let err = curve("P-256").err().unwrap_or_default();
        assert!(err.starts_with("unknown curve"), "{err}");
    }
}
