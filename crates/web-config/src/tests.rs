//! Loading whole files: the typed result, every validation error at once, reloads.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::*;

/// A CA and a server certificate it signed, written as PEM files into a directory.
struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let ca_key = rcgen::KeyPair::generate().expect("key");
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let ca = ca_params.self_signed(&ca_key).expect("ca");
        let issuer = rcgen::Issuer::new(ca_params, &ca_key);
        let key = rcgen::KeyPair::generate().expect("key");
        let cert = rcgen::CertificateParams::new(vec!["localhost".to_string()])
            .expect("params")
            .signed_by(&key, &issuer)
            .expect("cert");
        let pki = Self { dir };
        pki.write("ca.crt", &ca.pem());
        pki.write("tls/server.crt", &cert.pem());
        pki.write("tls/server.key", &key.serialize_pem());
        pki
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(&path, text).expect("write");
        path
    }

    fn config(&self, yaml: &str) -> PathBuf {
        self.write("web.yml", yaml)
    }
}

/// The server of these tests: not named after any real one, to show the name is ours.
fn server() -> ServerInfo {
    ServerInfo::new("demo-exporter")
}

fn load(path: &Path) -> Result<WebConfig, WebConfigErrors> {
    super::load(path, &server())
}

fn errors_of(path: &Path) -> Vec<String> {
    let errors = load(path).expect_err("the file is invalid");
    let prefix = format!("{}: ", path.display());
    errors
        .to_string()
        .lines()
        .map(|l| l.strip_prefix(&prefix).unwrap_or(l).to_owned())
        .collect()
}

#[test]
fn a_complete_file_loads_into_the_typed_config() {
    let pki = Pki::new();
    let hash = bcrypt::hash("pw", 4).expect("hash");
    let path = pki.config(&format!(
        "tls_server_config:\n\
         \x20 cert_file: tls/server.crt\n\
         \x20 key_file: tls/server.key\n\
         \x20 client_auth_type: RequireAndVerifyClientCert\n\
         \x20 client_ca_file: ca.crt\n\
         \x20 min_version: TLS12\n\
         \x20 max_version: TLS13\n\
         \x20 cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_AES_128_GCM_SHA256]\n\
         \x20 curve_preferences: [CurveP256, X25519]\n\
         \x20 prefer_server_cipher_suites: false\n\
         \x20 client_allowed_sans: [prometheus]\n\
         http_server_config:\n\
         \x20 http2: false\n\
         \x20 headers:\n\
         \x20   X-Frame-Options: deny\n\
         basic_auth_users:\n\
         \x20 alice: '{hash}'\n"
    ));
    let config = load(&path).expect("valid");
    let tls = config.tls.as_ref().expect("TLS configured");
    assert_eq!(tls.cert, PemSource::File(pki.path("tls/server.crt")));
    assert_eq!(tls.client_auth, ClientAuth::RequireAndVerifyClientCert);
    assert_eq!(tls.client_ca, Some(PemSource::File(pki.path("ca.crt"))));
    assert_eq!(
        tls.cipher_suites,
        Some(vec![
            rustls::CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
        ])
    );
    assert_eq!(
        tls.curve_preferences,
        Some(vec![
            rustls::NamedGroup::secp256r1,
            rustls::NamedGroup::X25519
        ])
    );
    assert!(!tls.prefer_server_cipher_suites);
    assert!(!tls.server_config().ignore_client_order);
    assert_eq!(tls.client_allowed_sans, ["prometheus"]);
    assert!(!config.http2);
    assert_eq!(config.headers["x-frame-options"], "deny");
    assert_eq!(config.basic_auth_users["alice"].cost(), 4);
    // Debug output must not leak the hash.
    assert!(!format!("{config:?}").contains(&hash[7..]));
}

#[test]
fn alpn_offers_h2_then_http1_unless_http2_is_false() {
    let pki = Pki::new();
    let tls = "tls_server_config:\n  cert_file: tls/server.crt\n  key_file: tls/server.key\n";
    let both = [b"h2".to_vec(), b"http/1.1".to_vec()];
    let http1 = [b"http/1.1".to_vec()];
    let cases: [(&str, &[Vec<u8>], bool); 4] = [
        ("", &both, true),
        ("http_server_config:\n  headers: {}\n", &both, true),
        ("http_server_config:\n  http2: true\n", &both, true),
        ("http_server_config:\n  http2: false\n", &http1, false),
    ];
    for (extra, alpn, offers) in cases {
        let config = load(&pki.config(&format!("{tls}{extra}"))).expect(extra);
        let server_config = config.tls.as_ref().expect("TLS").server_config();
        assert_eq!(server_config.alpn_protocols, alpn, "{extra:?}");
        assert_eq!(config.offers_http2(), offers, "{extra:?}");
        assert_eq!(WebSecurity::from_config(config).offers_http2(), offers);
    }

    // A server that speaks HTTP/1.1 only says so; `http2: true` does not add h2.
    let only_http1 = server().with_alpn_protocols(http1.to_vec());
    let yes = format!("{tls}http_server_config:\n  http2: true\n");
    let config = super::load(&pki.config(&yes), &only_http1).expect("valid");
    assert_eq!(
        config
            .tls
            .as_ref()
            .expect("TLS")
            .server_config()
            .alpn_protocols,
        http1
    );
    assert!(!config.offers_http2());

    // Without TLS, http2 has no effect: HTTP/2 is offered only by TLS ALPN.
    for yaml in ["", "http_server_config:\n  http2: true\n"] {
        let security = WebSecurity::from_file(&pki.config(yaml), &server()).expect(yaml);
        assert!(security.config().http2, "{yaml:?}");
        assert!(!security.offers_http2(), "{yaml:?}");
    }
}

#[test]
fn a_reload_that_changes_http2_changes_what_alpn_offers() {
    let pki = Pki::new();
    let tls = "tls_server_config:\n  cert_file: tls/server.crt\n  key_file: tls/server.key\n";
    let security = WebSecurity::from_file(&pki.config(tls), &server()).expect("valid");
    assert!(security.offers_http2());
    pki.config(&format!("{tls}http_server_config:\n  http2: false\n"));
    assert_eq!(security.reload().expect("applied"), Reload::Applied);
    assert!(!security.offers_http2());
}

#[test]
fn empty_files_and_sections_mean_plain_http_without_auth() {
    let pki = Pki::new();
    for yaml in [
        "",
        "# only a comment\n",
        "tls_server_config:\nhttp_server_config:\nbasic_auth_users:\n",
        "tls_server_config: {}\nbasic_auth_users: {}\n",
    ] {
        let config = load(&pki.config(yaml)).expect(yaml);
        assert!(config.tls.is_none(), "{yaml:?}");
        assert!(config.basic_auth_users.is_empty(), "{yaml:?}");
        assert!(config.http2, "{yaml:?}");
        assert!(config.headers.is_empty(), "{yaml:?}");
    }
}

#[test]
fn every_problem_is_reported_at_once_each_naming_its_key() {
    let pki = Pki::new();
    let path = pki.config(
        "tls_server_config:\n\
         \x20 cert_file: missing.crt\n\
         \x20 key: inline\n\
         \x20 key_file: tls/server.key\n\
         \x20 client_auth_type: Foo\n\
         \x20 min_version: TLS10\n\
         \x20 max_version: TLS14\n\
         \x20 cipher_suites: [TLS_RSA_WITH_AES_128_CBC_SHA, TLS_NOPE]\n\
         \x20 curve_preferences: [CurveP521]\n\
         \x20 prefer_server_cipher_suites: yes\n\
         \x20 colour: blue\n\
         http_server_config:\n\
         \x20 http2: 1\n\
         \x20 headers:\n\
         \x20   Server: cognito\n\
         \x20   X-Content-Type-Options: sniff\n\
         basic_auth_users:\n\
         \x20 bob: hunter2\n\
         \x20 'eve:x': $2y$04$abcdefghijklmnopqrstuu5Zc0bM8V9yCwsxtnOMRA1mlz6Kn0Kgu\n\
         rate_limit:\n\
         \x20 interval: soon\n\
         \x20 burst: -1\n\
         extra: true\n",
    );
    let missing = pki.path("missing.crt");
    let expected = [
        "extra: unknown key (expected one of: tls_server_config, http_server_config, basic_auth_users, rate_limit)".to_string(),
        "rate_limit.burst: \"-1\": expected a whole number of requests, 0 or more".to_string(),
        "rate_limit.interval: \"soon\" is not a duration such as 1s, 500ms or 1m30s".to_string(),
        "tls_server_config.colour: unknown key (expected one of: cert, cert_file, key, key_file, client_ca, client_ca_file, client_auth_type, min_version, max_version, cipher_suites, curve_preferences, prefer_server_cipher_suites, client_allowed_sans)".to_string(),
        format!("tls_server_config.cert_file: cannot read {}: No such file or directory (os error 2)", missing.display()),
        "tls_server_config.key: set only one of key and key_file".to_string(),
        "tls_server_config.client_auth_type: unknown value \"Foo\" (expected one of: NoClientCert, RequestClientCert, RequireAnyClientCert, VerifyClientCertIfGiven, RequireAndVerifyClientCert)".to_string(),
        "tls_server_config.min_version: TLS10 is not supported: rustls implements TLS12 and TLS13 only".to_string(),
        "tls_server_config.max_version: unknown value \"TLS14\" (expected one of: TLS12, TLS13)".to_string(),
        "tls_server_config.cipher_suites[0]: TLS_RSA_WITH_AES_128_CBC_SHA is not supported by rustls (supported: TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256)".to_string(),
        "tls_server_config.cipher_suites[1]: unknown cipher suite \"TLS_NOPE\" (supported: TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256)".to_string(),
        "tls_server_config.curve_preferences[0]: CurveP521 is not supported by rustls' ring provider (supported: X25519, CurveP256, CurveP384)".to_string(),
        "tls_server_config.prefer_server_cipher_suites: expected true or false, found a string".to_string(),
        "http_server_config.http2: expected true or false, found a number".to_string(),
        "http_server_config.headers.Server: header cannot be configured (allowed: Strict-Transport-Security, X-Content-Type-Options, X-Frame-Options, X-XSS-Protection, Content-Security-Policy)".to_string(),
        "http_server_config.headers.X-Content-Type-Options: invalid value \"sniff\" (expected one of: nosniff)".to_string(),
        "basic_auth_users.bob: not a bcrypt hash (the hash format is malformed; expected 60 ASCII bytes); create one with `htpasswd -nBC 10 USER`".to_string(),
        "basic_auth_users.eve:x: a user name cannot contain ':'".to_string(),
    ];
    let mut got = errors_of(&path);
    let mut want = expected.to_vec();
    got.sort();
    want.sort();
    assert_eq!(got, want);
}

#[test]
fn tls_section_requires_cert_and_key_and_consistent_client_auth() {
    let pki = Pki::new();
    let got = errors_of(
        &pki.config("tls_server_config:\n  client_auth_type: RequireAndVerifyClientCert\n"),
    );
    // Without client_ca_file the system's trust store verifies (see
    // `a_verifying_mode_without_client_cas_uses_the_system_trust_store`).
    assert_eq!(
        &got[..2],
        [
            "tls_server_config.cert_file: required (or cert with inline PEM)",
            "tls_server_config.key_file: required (or key with inline PEM)",
        ]
    );
    let got = errors_of(&pki.config(
        "tls_server_config:\n  cert_file: tls/server.crt\n  key_file: tls/server.key\n  \
         client_ca_file: ca.crt\n  client_allowed_sans: [x]\n",
    ));
    assert_eq!(
        got,
        [
            "tls_server_config.client_auth_type: client CAs are configured but client_auth_type is NoClientCert, so no client certificate would be asked for; set a client_auth_type",
            "tls_server_config.client_allowed_sans: needs client_auth_type VerifyClientCertIfGiven or RequireAndVerifyClientCert: the names in an unverified certificate prove nothing",
        ]
    );
    let got = errors_of(&pki.config(
        "tls_server_config:\n  cert_file: tls/server.crt\n  key_file: tls/server.key\n  \
         min_version: TLS13\n  max_version: TLS12\n",
    ));
    assert_eq!(
        got,
        ["tls_server_config.max_version: TLS12 is below min_version TLS13"]
    );
    let got = errors_of(&pki.config(
        "tls_server_config:\n  cert_file: tls/server.crt\n  key_file: tls/server.key\n  \
         max_version: TLS12\n  cipher_suites: [TLS_AES_128_GCM_SHA256]\n",
    ));
    assert_eq!(got.len(), 1);
    assert!(got[0].starts_with("tls_server_config.cipher_suites: lists no TLS 1.2 suite"));
}

#[test]
fn referenced_files_must_parse_and_match() {
    let pki = Pki::new();
    let other_key = rcgen::KeyPair::generate().expect("key").serialize_pem();
    pki.write("other.key", &other_key);
    pki.write("not-a-cert.pem", "hello\n");
    let got = errors_of(
        &pki.config("tls_server_config:\n  cert_file: tls/server.crt\n  key_file: other.key\n"),
    );
    assert_eq!(
        got,
        [
            "tls_server_config.key_file: the private key does not match the certificate in tls_server_config.cert_file"
        ]
    );
    let got = errors_of(&pki.config(
        "tls_server_config:\n  cert_file: not-a-cert.pem\n  key_file: tls/server.crt\n  \
         client_auth_type: VerifyClientCertIfGiven\n  client_ca_file: tls/server.key\n",
    ));
    assert_eq!(got.len(), 3, "{got:?}");
    assert!(got[0].starts_with("tls_server_config.cert_file: no certificate found"));
    assert!(got[1].starts_with("tls_server_config.key_file: no private key found"));
    assert!(got[2].starts_with("tls_server_config.client_ca_file: no certificate found"));
    // No problem message quotes the key.
    assert!(got.iter().all(|l| !l.contains("PRIVATE KEY-----")));
}

#[test]
fn inline_pem_is_accepted_and_not_shown() {
    let pki = Pki::new();
    let indent = |pem: String| {
        pem.lines()
            .map(|l| format!("    {l}\n"))
            .collect::<String>()
    };
    let cert = std::fs::read_to_string(pki.path("tls/server.crt")).expect("read");
    let key = std::fs::read_to_string(pki.path("tls/server.key")).expect("read");
    let path = pki.config(&format!(
        "tls_server_config:\n  cert: |\n{}  key: |\n{}",
        indent(cert),
        indent(key.clone())
    ));
    let config = load(&path).expect("inline PEM loads");
    let tls = config.tls.as_ref().expect("TLS");
    assert_eq!(tls.key, PemSource::Inline);
    assert!(!format!("{config:?}").contains(&key[40..80]));
}

#[test]
fn unreadable_and_non_yaml_files_are_reported_against_the_file() {
    let pki = Pki::new();
    let missing = pki.path("absent.yml");
    let errors = load(&missing).expect_err("missing");
    assert!(
        errors.to_string().contains("cannot read the file"),
        "{errors}"
    );
    assert!(errors.problems()[0].key().is_none());
    let errors = load(&pki.config("tls_server_config: [\n")).expect_err("bad YAML");
    assert!(errors.to_string().contains("not valid YAML"), "{errors}");
    let got = errors_of(&pki.config("- a list\n"));
    assert_eq!(got, [": expected a mapping, found a list"]);
}

#[test]
fn reload_applies_changes_keeps_the_last_good_config_and_refuses_a_protocol_switch() {
    let pki = Pki::new();
    let tls = "tls_server_config:\n  cert_file: tls/server.crt\n  key_file: tls/server.key\n";
    let path = pki.config(&format!(
        "{tls}http_server_config:\n  headers:\n    X-Frame-Options: deny\n"
    ));
    let security = WebSecurity::from_file(&path, &server()).expect("valid");
    assert_eq!(security.reload().expect("unchanged"), Reload::Unchanged);

    pki.config(&format!(
        "{tls}http_server_config:\n  headers:\n    X-Frame-Options: sameorigin\n"
    ));
    assert_eq!(security.reload().expect("applied"), Reload::Applied);
    assert_eq!(security.response_headers()["x-frame-options"], "sameorigin");

    pki.config(&format!(
        "{tls}http_server_config:\n  headers:\n    Server: x\n"
    ));
    let errors = security.reload().expect_err("invalid");
    assert!(errors.to_string().contains("headers.Server"), "{errors}");
    assert_eq!(security.response_headers()["x-frame-options"], "sameorigin");

    pki.config("basic_auth_users: {}\n");
    let errors = security.reload().expect_err("TLS removal refused");
    assert!(
        errors
            .to_string()
            .contains("tls_server_config: cannot be added or removed"),
        "{errors}"
    );
    assert!(security.tls_acceptor().is_some());

    // A certificate file change alone is a change.
    pki.config(tls);
    assert_eq!(security.reload().expect("applied"), Reload::Applied);
    let key = std::fs::read_to_string(pki.path("tls/server.key")).expect("read");
    pki.write("tls/server.key", &format!("# rotated\n{key}"));
    assert_eq!(security.reload().expect("applied"), Reload::Applied);
}

#[tokio::test(start_paused = true)]
async fn the_reloader_picks_up_a_change_within_one_period() {
    let pki = Pki::new();
    let path = pki.config("http_server_config:\n  headers:\n    X-Frame-Options: deny\n");
    let security = WebSecurity::from_file(&path, &server()).expect("valid");
    let shutdown = CancellationToken::new();
    let reloader = security.spawn_reloader(Duration::from_secs(30), shutdown.clone());

    pki.config("http_server_config:\n  headers:\n    X-Frame-Options: sameorigin\n");
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert_eq!(security.response_headers()["x-frame-options"], "deny");
    tokio::time::sleep(Duration::from_secs(25)).await;
    assert_eq!(security.response_headers()["x-frame-options"], "sameorigin");

    shutdown.cancel();
    reloader.await.expect("reloader ends on shutdown");
}

#[test]
fn hashes_of_different_costs_load_with_a_warning_naming_costs_not_hashes() {
    let pki = Pki::new();
    let hash = |cost| bcrypt::hash("pw", cost).expect("hash");
    let (alice, bob, carol) = (hash(4), hash(4), hash(5));
    let users = |carol: &str| {
        format!("basic_auth_users:\n  alice: '{alice}'\n  bob: '{bob}'\n  carol: '{carol}'\n")
    };
    let path = pki.config(&users(&hash(4)));
    let security = WebSecurity::from_file(&path, &server()).expect("valid");
    assert_eq!(
        security.config().warnings,
        Vec::<String>::new(),
        "equal costs"
    );

    pki.config(&users(&carol));
    assert_eq!(security.reload().expect("applied"), Reload::Applied);
    let warnings = &security.config().warnings;
    assert_eq!(
        warnings,
        &[format!(
            "{}: basic_auth_users: the bcrypt hashes have different costs (cost 4: alice, bob; \
             cost 5: carol): a wrong password is refused sooner for a cheaper hash, so response \
             times tell those users from the others and from unknown user names; hash every \
             password with the same cost",
            path.display()
        )]
    );
    for hash in [&alice, &bob, &carol] {
        // Past `$2b$04$`: the salt and the digest.
        assert!(!warnings[0].contains(&hash[7..]), "{warnings:?}");
    }
}

#[tokio::test]
async fn authorize_is_open_without_users() {
    let pki = Pki::new();
    let security = WebSecurity::from_file(&pki.config(""), &server()).expect("valid");
    assert_eq!(security.authorize(&http::HeaderMap::new()).await, Ok(()));
    assert!(security.tls_acceptor().is_none());
}

#[test]
fn suites_rustls_cannot_offer_are_named_in_a_warning_and_refused_only_when_alone() {
    let pki = Pki::new();
    let tls = |suites: &str| {
        format!(
            "tls_server_config:\n  cert_file: tls/server.crt\n  key_file: tls/server.key\n  \
             cipher_suites: [{suites}]\n"
        )
    };
    // A file shared with Go exporters: CBC beside a suite both offer.
    let path = pki.config(&tls(
        "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, \
         TLS_RSA_WITH_AES_256_CBC_SHA",
    ));
    let config = load(&path).expect("starts with the suites it can offer");
    assert_eq!(
        config
            .tls
            .as_ref()
            .and_then(|t| t.cipher_suites.as_ref())
            .map(Vec::len),
        Some(1),
        "offers the GCM suite alone"
    );
    assert_eq!(config.warnings.len(), 1, "{:?}", config.warnings);
    let warning = &config.warnings[0];
    assert!(
        warning.contains("tls_server_config.cipher_suites")
            && warning.contains("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, TLS_RSA_WITH_AES_256_CBC_SHA")
            && warning.contains("cannot be offered"),
        "{warning}"
    );

    // Nothing listed can be offered: refused, each suite named.
    let path = pki.config(&tls(
        "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, TLS_RSA_WITH_AES_256_CBC_SHA",
    ));
    let errors = errors_of(&path);
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(errors[0].starts_with("tls_server_config.cipher_suites[0]: TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA is not supported"), "{errors:?}");
    assert!(
        errors[1].starts_with(
            "tls_server_config.cipher_suites[1]: TLS_RSA_WITH_AES_256_CBC_SHA is not supported"
        ),
        "{errors:?}"
    );
}

#[test]
fn curve_p521_beside_offerable_curves_is_left_out_with_a_warning_and_refused_alone() {
    let pki = Pki::new();
    let tls = |curves: &str| {
        format!(
            "tls_server_config:\n  cert_file: tls/server.crt\n  key_file: tls/server.key\n  \
             curve_preferences: [{curves}]\n"
        )
    };
    // A file shared with Go exporters: P-521 among curves both offer, order kept.
    let config = load(&pki.config(&tls("CurveP384, CurveP521, X25519, CurveP521")))
        .expect("starts with the curves it can offer");
    let tls_settings = config.tls.as_ref().expect("TLS");
    let offered = vec![rustls::NamedGroup::secp384r1, rustls::NamedGroup::X25519];
    assert_eq!(tls_settings.curve_preferences, Some(offered.clone()));
    let in_rustls: Vec<rustls::NamedGroup> = tls_settings
        .server_config()
        .crypto_provider()
        .kx_groups
        .iter()
        .map(|g| g.name())
        .collect();
    assert_eq!(in_rustls, offered);
    assert_eq!(
        config.warnings,
        [format!(
            "{}: tls_server_config.curve_preferences: CurveP521 cannot be offered (rustls' \
             ring provider does not implement it); the others listed are, in the order given",
            config.path.display()
        )]
    );

    // Nothing listed can be offered: refused, naming curve_preferences.
    assert_eq!(
        errors_of(&pki.config(&tls("CurveP521"))),
        [
            "tls_server_config.curve_preferences[0]: CurveP521 is not supported by rustls' ring \
          provider (supported: X25519, CurveP256, CurveP384)"
        ]
    );
    // An unknown name is an error even beside offerable curves.
    let errors = errors_of(&pki.config(&tls("X25519, CurveP521, Curve25519")));
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with("tls_server_config.curve_preferences[2]: unknown curve"),
        "{errors:?}"
    );

    // An empty list keeps rustls' defaults, as Go keeps its own.
    let config = load(&pki.config(&tls(""))).expect("empty list");
    assert_eq!(config.tls.as_ref().expect("TLS").curve_preferences, None);
    assert!(config.warnings.is_empty(), "{:?}", config.warnings);
}

#[test]
fn rate_limit_reads_go_durations_and_warns_of_a_burst_that_lets_nothing_through() {
    let pki = Pki::new();
    let limit = |yaml: &str| load(&pki.config(yaml)).expect(yaml).rate_limit;
    assert_eq!(
        limit("rate_limit:\n  interval: 1m30s\n  burst: 3\n"),
        Some(RateLimit {
            interval: Duration::from_secs(90),
            burst: 3
        })
    );
    assert_eq!(
        limit("rate_limit:\n  interval: 1.5s\n  burst: 1\n").map(|l| l.interval),
        Some(Duration::from_millis(1500))
    );
    // Off: the toolkit's documented `interval: 0` (a number), "0", or no interval.
    for yaml in [
        "rate_limit:\n  interval: 0\n  burst: 0\n",
        "rate_limit:\n  interval: \"0\"\n  burst: 5\n",
        "rate_limit:\n  burst: 5\n",
        "rate_limit: {}\n",
    ] {
        assert_eq!(limit(yaml), None, "{yaml:?}");
    }

    assert_eq!(
        errors_of(&pki.config("rate_limit:\n  interval: 5\n  burst: 1\n")),
        [
            "rate_limit.interval: a number without a unit (the toolkit would read nanoseconds): \
          write a duration such as 1s, 500ms or 1m30s, or 0 to turn the limit off"
        ]
    );
    // As in the toolkit, a limit with no burst lets nothing through; said at start.
    for yaml in [
        "rate_limit:\n  interval: 1s\n",
        "rate_limit:\n  interval: 1s\n  burst: 0\n",
    ] {
        let config = load(&pki.config(yaml)).expect(yaml);
        assert_eq!(
            config.rate_limit,
            Some(RateLimit {
                interval: Duration::from_secs(1),
                burst: 0
            })
        );
        assert_eq!(config.warnings.len(), 1, "{:?}", config.warnings);
        assert!(
            config.warnings[0].contains("rate_limit.burst: 0 or absent while interval is set"),
            "{:?}",
            config.warnings
        );
    }
}

#[test]
fn the_old_client_auth_alias_is_refused_with_its_replacement() {
    let pki = Pki::new();
    let errors = errors_of(&pki.config(
        "tls_server_config:\n  cert_file: tls/server.crt\n  key_file: tls/server.key\n  \
         client_auth_type: RequireClientCert\n",
    ));
    assert_eq!(
        errors,
        [
            "tls_server_config.client_auth_type: RequireClientCert, an old name the toolkit \
          still reads, is not accepted: write RequireAnyClientCert, which it means"
        ]
    );
}

#[test]
fn a_verifying_mode_without_client_cas_uses_the_system_trust_store() {
    let pki = Pki::new();
    let path = pki.config(
        "tls_server_config:\n  cert_file: tls/server.crt\n  key_file: tls/server.key\n  \
         client_auth_type: VerifyClientCertIfGiven\n",
    );
    // What the machine's store holds decides which of the two outcomes is right.
    let system = rustls_native_certs::load_native_certs().certs.len();
    match load(&path) {
        Ok(config) => {
            assert!(system > 0, "loaded without a CA while the store is empty");
            assert_eq!(config.warnings.len(), 1, "{:?}", config.warnings);
            let warning = &config.warnings[0];
            assert!(
                warning.contains("tls_server_config.client_auth_type: VerifyClientCertIfGiven without client_ca_file")
                    && warning.contains("system's trust store")
                    && warning.contains("any public CA"),
                "{warning}"
            );
        }
        Err(errors) => {
            assert_eq!(
                system, 0,
                "refused with {system} certificates in the store: {errors}"
            );
            let text = errors.to_string();
            assert!(
                text.contains(
                    "tls_server_config.client_ca_file: not given, and the system's trust store"
                ),
                "{text}"
            );
        }
    }
}
