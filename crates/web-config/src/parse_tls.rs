//! Reading `tls_server_config`: the certificate, key and CA files, the client
//! authentication policy and the protocol settings, then building the rustls config.

use config_walk::child;
use figment::value::{Dict, Value};
use rustls::crypto::SupportedKxGroup;

use super::config::{PemSource, TlsSettings};
use super::files;
use super::names::{self, CipherChoice, ClientAuth, TlsVersion};
use super::parse::Context;
use super::pem;
use super::tls::{self, BuildError, TlsParts};

const TLS_KEYS: [&str; 13] = [
    "cert",
    "cert_file",
    "key",
    "key_file",
    "client_ca",
    "client_ca_file",
    "client_auth_type",
    "min_version",
    "max_version",
    "cipher_suites",
    "curve_preferences",
    "prefer_server_cipher_suites",
    "client_allowed_sans",
];

/// PEM data from either an inline key or a `*_file` key, with the key path to blame.
struct Pem {
    source: PemSource,
    key: String,
    data: Vec<u8>,
}

impl Context<'_> {
    /// Reads `inline` or `file` (an empty string counts as unset, as in Go). `None` when
    /// neither is set (reported if `required`) or on error (reported).
    fn pem(
        &mut self,
        dict: &Dict,
        path: &str,
        inline: &str,
        file: &str,
        required: bool,
    ) -> Option<Pem> {
        let inline_text = self.text(dict, path, inline).filter(|s| !s.is_empty());
        let file_text = self.text(dict, path, file).filter(|s| !s.is_empty());
        match (inline_text, file_text) {
            (Some(_), Some(_)) => {
                self.walk.report(
                    child(path, inline),
                    format!("set only one of {inline} and {file}"),
                );
                None
            }
            (Some(text), None) => Some(Pem {
                source: PemSource::Inline,
                key: child(path, inline),
                data: text.into_bytes(),
            }),
            (None, Some(name)) => {
                let key = child(path, file);
                let resolved = files::resolve(self.base_dir, &name);
                match self.reader.read(&resolved) {
                    Ok(data) => Some(Pem {
                        source: PemSource::File(resolved),
                        key,
                        data,
                    }),
                    Err(e) => {
                        self.walk
                            .report(key, format!("cannot read {}: {e}", resolved.display()));
                        None
                    }
                }
            }
            (None, None) => {
                if required {
                    self.walk.report(
                        child(path, file),
                        format!("required (or {inline} with inline PEM)"),
                    );
                }
                None
            }
        }
    }

    pub(crate) fn tls_section(&mut self, value: &Value, path: &str) -> Option<TlsSettings> {
        let dict = self.walk.mapping(path, value, &TLS_KEYS)?;
        if dict.is_empty() {
            return None;
        }
        let before = self.walk.len();
        let key_path = |key: &str| child(path, key);

        let cert = self.pem(dict, path, "cert", "cert_file", true);
        let chain = cert.as_ref().and_then(|p| {
            pem::cert_chain(&p.data)
                .map_err(|e| self.walk.report(p.key.as_str(), e))
                .ok()
        });
        if let (Some(cert), Some(chain)) = (&cert, &chain) {
            pem::warn_if_not_current(&chain[0], &cert.key);
        }
        let key = self.pem(dict, path, "key", "key_file", true);
        let private_key = key.as_ref().and_then(|p| {
            pem::private_key(&p.data)
                .map_err(|e| self.walk.report(p.key.as_str(), e))
                .ok()
        });
        let ca = self.pem(dict, path, "client_ca", "client_ca_file", false);
        let client_auth = match self.text(dict, path, "client_auth_type") {
            None => Some(ClientAuth::default()),
            Some(name) => ClientAuth::parse(&name)
                .map_err(|e| self.walk.report(key_path("client_auth_type"), e))
                .ok(),
        };
        let client_cas = match (&ca, client_auth) {
            (Some(p), _) => pem::ca_bundle(&p.data)
                .map_err(|e| self.walk.report(p.key.as_str(), e))
                .ok(),
            // As Go does: verified against the system's trust store.
            (None, Some(policy)) if policy.verifies() => {
                self.system_roots(&key_path("client_auth_type"), policy)
            }
            _ => None,
        };
        let system_roots = ca.is_none() && client_cas.is_some();
        if client_auth == Some(ClientAuth::NoClientCert) && ca.is_some() {
            self.walk.report(
                key_path("client_auth_type"),
                "client CAs are configured but client_auth_type is NoClientCert, so no \
                 client certificate would be asked for; set a client_auth_type",
            );
        }

        let mut version = |key: &str, default: TlsVersion| {
            self.text(dict, path, key)
                .map_or(Ok(default), |name| TlsVersion::parse(&name))
                .map_err(|e| self.walk.report(key_path(key), e))
                .ok()
        };
        let min_version = version("min_version", TlsVersion::Tls12);
        let max_version = version("max_version", TlsVersion::Tls13);
        if let (Some(min), Some(max)) = (min_version, max_version)
            && min > max
        {
            self.walk.report(
                key_path("max_version"),
                format!("{} is below min_version {}", max.name(), min.name()),
            );
        }

        let tls12_suites = self.cipher_suites(dict, path, max_version);
        let kx_groups = self.curve_preferences(dict, path);
        let prefer_server_order = self.flag(dict, path, "prefer_server_cipher_suites", true);
        let allowed_sans: Vec<String> = self
            .list(dict, path, "client_allowed_sans")
            .unwrap_or_default()
            .into_iter()
            .map(|(_, san)| san)
            .collect();
        if !allowed_sans.is_empty() && client_auth.is_some_and(|c| !c.verifies()) {
            self.walk.report(
                key_path("client_allowed_sans"),
                "needs client_auth_type VerifyClientCertIfGiven or RequireAndVerifyClientCert: \
                 the names in an unverified certificate prove nothing",
            );
        }

        if self.walk.len() != before {
            return None;
        }
        let (
            Some(cert),
            Some(chain),
            Some(key),
            Some(private_key),
            Some(client_auth),
            Some(min_version),
            Some(max_version),
        ) = (
            cert,
            chain,
            key,
            private_key,
            client_auth,
            min_version,
            max_version,
        )
        else {
            return None;
        };
        let cipher_suites = tls12_suites
            .as_ref()
            .map(|s| s.iter().map(|s| s.suite()).collect());
        let curve_preferences = kx_groups
            .as_ref()
            .map(|g| g.iter().map(|g| g.name()).collect());
        let parts = TlsParts {
            chain,
            key: private_key,
            client_auth,
            client_cas,
            min_version,
            max_version,
            tls12_suites,
            kx_groups,
            prefer_server_order,
            allowed_sans: allowed_sans.clone(),
            alpn: self.alpn.clone(),
            hint_roots: !system_roots,
        };
        match tls::server_config(parts) {
            Ok(server_config) => Some(TlsSettings {
                cert: cert.source,
                key: key.source,
                client_auth,
                client_ca: ca.map(|p| p.source),
                min_version,
                max_version,
                cipher_suites,
                curve_preferences,
                prefer_server_cipher_suites: prefer_server_order,
                client_allowed_sans: allowed_sans,
                server_config,
            }),
            Err(BuildError::KeyMismatch) => {
                self.walk.report(
                    key.key,
                    format!(
                        "the private key does not match the certificate in {}",
                        cert.key
                    ),
                );
                None
            }
            // Reported above, with the key to fix.
            Err(BuildError::NoClientCas) => None,
            Err(BuildError::Other(e)) => {
                self.walk.report(path, e);
                None
            }
        }
    }

    /// The system's trust store, for a verifying `policy` without `client_ca_file`, with
    /// a warning at `key` that any publicly trusted certificate passes; `None` (and a
    /// problem) when the store holds no certificate.
    fn system_roots(&mut self, key: &str, policy: ClientAuth) -> Option<rustls::RootCertStore> {
        let found = rustls_native_certs::load_native_certs();
        let mut roots = rustls::RootCertStore::empty();
        let (added, _) = roots.add_parsable_certificates(found.certs);
        if added == 0 {
            let why = found
                .errors
                .first()
                .map(|e| format!(" ({e})"))
                .unwrap_or_default();
            self.walk.report(
                key.replace("client_auth_type", "client_ca_file"),
                format!(
                    "not given, and the system's trust store, which client_auth_type {} then \
                     verifies client certificates against, has no certificate{why}",
                    policy.name()
                ),
            );
            return None;
        }
        self.warnings.push(format!(
            "{key}: {} without client_ca_file: client certificates are verified against \
             the system's trust store ({added} certificates), as Go does, so a certificate \
             any public CA issued passes; set client_ca_file to the CA of your clients",
            policy.name()
        ));
        Some(roots)
    }

    /// The key-exchange groups listed, in order; `None` when the key is absent or empty
    /// (rustls' defaults, as Go keeps its own). `CurveP521`, which the toolkit accepts and
    /// the *ring* provider does not implement, is left out with a warning when the list
    /// names a curve that can be offered, and refused when it names none.
    fn curve_preferences(
        &mut self,
        dict: &Dict,
        path: &str,
    ) -> Option<Vec<&'static dyn SupportedKxGroup>> {
        let names = self.list(dict, path, "curve_preferences")?;
        if names.is_empty() {
            return None;
        }
        let mut groups: Vec<&'static dyn SupportedKxGroup> = Vec::new();
        let mut go_only: Vec<(String, String)> = Vec::new();
        for (key, name) in names {
            match names::curve(&name) {
                Ok(g) if groups.iter().any(|have| have.name() == g.name()) => {}
                Ok(g) => groups.push(g),
                Err(_) if names::go_only_curve(&name) => go_only.push((key, name)),
                Err(e) => self.walk.report(key, e),
            }
        }
        if go_only.is_empty() {
            return Some(groups);
        }
        if groups.is_empty() {
            // Nothing listed can be offered: refused, naming each.
            for (key, name) in go_only {
                self.walk
                    .report(key, names::curve(&name).err().unwrap_or_default());
            }
        } else {
            let mut listed: Vec<&str> = go_only.iter().map(|(_, n)| n.as_str()).collect();
            listed.dedup();
            self.warnings.push(format!(
                "{}: {} cannot be offered (rustls' ring provider does not implement it); \
                 the others listed are, in the order given",
                child(path, "curve_preferences"),
                listed.join(", ")
            ));
        }
        Some(groups)
    }

    /// The TLS 1.2 suites listed, in order; `None` when the key is absent or empty.
    fn cipher_suites(
        &mut self,
        dict: &Dict,
        path: &str,
        max_version: Option<TlsVersion>,
    ) -> Option<Vec<rustls::SupportedCipherSuite>> {
        let names = self.list(dict, path, "cipher_suites")?;
        if names.is_empty() {
            return None;
        }
        let mut suites = Vec::new();
        let mut failed = false;
        // Suites Go offers and rustls never will (CBC, RC4, 3DES, static RSA): a file
        // shared with Go exporters may list them beside ones both offer.
        let mut go_only = Vec::new();
        let mut tls13 = false;
        for (key, name) in names {
            match names::cipher_suite(&name) {
                Ok(CipherChoice::Tls12(s)) if !suites.contains(&s) => suites.push(s),
                Ok(CipherChoice::Tls12(_)) => {}
                Ok(CipherChoice::Tls13) => tls13 = true,
                Err(_) if names::go_only_suite(&name) => go_only.push((key, name)),
                Err(e) => {
                    failed = true;
                    self.walk.report(key, e);
                }
            }
        }
        if !go_only.is_empty() {
            if suites.is_empty() && !tls13 {
                // Nothing listed can be offered: refused, naming each.
                failed = true;
                for (key, name) in go_only {
                    self.walk
                        .report(key, names::cipher_suite(&name).err().unwrap_or_default());
                }
            } else {
                let listed: Vec<&str> = go_only.iter().map(|(_, n)| n.as_str()).collect();
                self.warnings.push(format!(
                    "{}: {} cannot be offered (rustls implements no CBC, RC4, 3DES or \
                     static-RSA suite); the others listed are",
                    child(path, "cipher_suites"),
                    listed.join(", ")
                ));
            }
        }
        if !failed && suites.is_empty() && max_version == Some(TlsVersion::Tls12) {
            self.walk.report(
                child(path, "cipher_suites"),
                "lists no TLS 1.2 suite, and max_version TLS12 disables TLS 1.3: no \
                 connection could be made",
            );
        }
        Some(suites)
    }
}
