//! Certificates for the TLS tests, made fresh for each: a throwaway CA, a server
//! certificate it signed for `localhost`, and the web configuration file serving it.

use std::path::PathBuf;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
};

/// A temporary directory holding `ca.crt`, `server.crt`, `server.key` and, once written,
/// `web.yml`.
pub(crate) struct TlsFiles {
    dir: tempfile::TempDir,
}

impl TlsFiles {
    pub(crate) fn new() -> Self {
        let ca_key = KeyPair::generate().expect("CA key");
        let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(DnType::CommonName, "cognito-exporter test CA");
        let ca_cert = ca.self_signed(&ca_key).expect("CA certificate");
        let issuer = Issuer::new(ca, ca_key);

        let key = KeyPair::generate().expect("server key");
        let mut server =
            CertificateParams::new(vec!["localhost".to_string()]).expect("server parameters");
        server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let cert = server.signed_by(&key, &issuer).expect("server certificate");

        let files = Self {
            dir: tempfile::tempdir().expect("temporary directory"),
        };
        files.write("ca.crt", &ca_cert.pem());
        files.write("server.crt", &cert.pem());
        files.write("server.key", &key.serialize_pem());
        files
    }

    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes `web.yml`: TLS with the server certificate, then `extra` YAML.
    pub(crate) fn web_config(&self, extra: &str) -> PathBuf {
        self.write(
            "web.yml",
            &format!(
                "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n{extra}"
            ),
        );
        self.path("web.yml")
    }

    fn write(&self, name: &str, text: &str) {
        std::fs::write(self.path(name), text).expect("write a TLS file");
    }
}
