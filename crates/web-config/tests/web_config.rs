//! `--web.config.file` end to end: real TLS handshakes (tokio-rustls client, and curl)
//! against a small hyper server that uses the `web_config` API the way an exporter's
//! server does: `tls_acceptor()` per connection, `authorize()` and `response_headers()`
//! per request. Certificates are made here with rcgen.

#[path = "support/mod.rs"]
mod support;

#[path = "web_config/basic_auth.rs"]
mod basic_auth;

#[path = "web_config/fixtures.rs"]
mod fixtures;

use std::path::Path;
use std::sync::Arc;

use rcgen::ExtendedKeyUsagePurpose;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use web_config::Reload;

use support::{Ca, PASSWORD, Setup, get, serial_and_sans};

fn basic_users_only() -> String {
    let hash = bcrypt::hash(PASSWORD, 4).expect("hash");
    format!("basic_auth_users:\n  alice: '{hash}'\n")
}

fn users_yaml() -> String {
    let hash = bcrypt::hash(PASSWORD, 4).expect("hash");
    format!(
        "http_server_config:\n  headers:\n    X-Content-Type-Options: nosniff\n\
         basic_auth_users:\n  alice: '{hash}'\n"
    )
}

#[tokio::test]
async fn basic_auth_over_tls() {
    let setup = Setup::new();
    let (security, server) = setup.serve(&users_yaml()).await;
    let client = setup.ca.client(None);

    let ok = get(server.addr, client.clone(), Some(("alice", PASSWORD)))
        .await
        .expect("request");
    assert_eq!(ok.status(), "200", "{ok:?}");
    assert_eq!(ok.body, "ok\n");
    assert_eq!(ok.header("x-content-type-options"), Some("nosniff"));

    for user in [None, Some(("alice", "wrong")), Some(("mallory", PASSWORD))] {
        let denied = get(server.addr, client.clone(), user)
            .await
            .expect("request");
        assert_eq!(denied.status(), "401", "{user:?}: {denied:?}");
        assert_eq!(
            denied.header("www-authenticate"),
            Some("Basic realm=\"demo-exporter\""),
            "{user:?}"
        );
        // Configured headers go on refusals too.
        assert_eq!(denied.header("x-content-type-options"), Some("nosniff"));
    }

    // One bcrypt for the first good login, one per refused password, none for a repeat.
    let before = security.bcrypt_verifications();
    let again = get(server.addr, client, Some(("alice", PASSWORD)))
        .await
        .expect("request");
    assert_eq!(again.status(), "200");
    assert_eq!(security.bcrypt_verifications(), before);
}

#[tokio::test]
async fn plain_http_to_the_tls_port_gets_no_http_answer() {
    let setup = Setup::new();
    let (_security, server) = setup.serve("").await;
    let mut tcp = TcpStream::connect(server.addr).await.expect("connect");
    tcp.write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .expect("write");
    let mut raw = Vec::new();
    let _ = tcp.read_to_end(&mut raw).await;
    assert!(
        !raw.starts_with(b"HTTP/"),
        "{:?}",
        String::from_utf8_lossy(&raw)
    );
}

#[tokio::test]
async fn client_certificate_policies() {
    let setup = Setup::new();
    let other_ca = Ca::new("other CA");
    let client_usage = || ExtendedKeyUsagePurpose::ClientAuth;
    let ours = setup.ca.issue(&["prometheus"], client_usage(), 10);
    let stranger = other_ca.issue(&["prometheus"], client_usage(), 11);
    let (no_cert, our_cert, foreign_cert) = (
        setup.ca.client(None),
        setup.ca.client(Some(&ours)),
        setup.ca.client(Some(&stranger)),
    );
    // (policy, accepts no certificate, accepts ours, accepts a foreign one)
    let cases = [
        ("NoClientCert", true, true, true),
        ("RequestClientCert", true, true, true),
        ("RequireAnyClientCert", false, true, true),
        ("VerifyClientCertIfGiven", true, true, false),
        ("RequireAndVerifyClientCert", false, true, false),
    ];
    for (policy, none_ok, ours_ok, foreign_ok) in cases {
        let extra = if policy == "NoClientCert" {
            String::new()
        } else {
            format!("  client_auth_type: {policy}\n  client_ca_file: ca.crt\n")
        };
        let (_security, server) = setup.serve(&extra).await;
        for (client, expected, who) in [
            (&no_cert, none_ok, "no certificate"),
            (&our_cert, ours_ok, "certificate from our CA"),
            (&foreign_cert, foreign_ok, "certificate from another CA"),
        ] {
            let result = get(server.addr, client.clone(), None).await;
            let served = result.as_ref().is_ok_and(|r| r.status() == "200");
            assert_eq!(served, expected, "{policy} with {who}: {result:?}");
        }
    }
}

#[tokio::test]
async fn client_allowed_sans_limit_verified_certificates() {
    let setup = Setup::new();
    let allowed = setup
        .ca
        .issue(&["prometheus"], ExtendedKeyUsagePurpose::ClientAuth, 20);
    let other = setup
        .ca
        .issue(&["intruder"], ExtendedKeyUsagePurpose::ClientAuth, 21);
    let (_security, server) = setup
        .serve(
            "  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.crt\n  \
             client_allowed_sans: [prometheus]\n",
        )
        .await;
    let ok = get(server.addr, setup.ca.client(Some(&allowed)), None).await;
    assert_eq!(ok.map(|r| r.status().to_owned()), Ok("200".to_owned()));
    let refused = get(server.addr, setup.ca.client(Some(&other)), None).await;
    assert!(refused.is_err(), "{refused:?}");
}

#[tokio::test]
async fn client_allowed_sans_require_a_certificate_even_if_given_is_the_policy() {
    let setup = Setup::new();
    let allowed = setup
        .ca
        .issue(&["prometheus"], ExtendedKeyUsagePurpose::ClientAuth, 22);
    let (_security, server) = setup
        .serve(
            "  client_auth_type: VerifyClientCertIfGiven\n  client_ca_file: ca.crt\n  \
             client_allowed_sans: [prometheus]\n",
        )
        .await;
    let ok = get(server.addr, setup.ca.client(Some(&allowed)), None).await;
    assert_eq!(ok.map(|r| r.status().to_owned()), Ok("200".to_owned()));
    // No certificate, so no allowed name: refused, as the toolkit refuses it.
    let refused = get(server.addr, setup.ca.client(None), None).await;
    assert!(refused.is_err(), "{refused:?}");
}

#[tokio::test]
async fn a_verifying_client_refuses_an_expired_server_certificate() {
    let setup = Setup::new();
    let (cert, key) = setup.ca.issue_with(
        &["localhost"],
        ExtendedKeyUsagePurpose::ServerAuth,
        30,
        |p| {
            p.not_before = rcgen::date_time_ymd(2000, 1, 1);
            p.not_after = rcgen::date_time_ymd(2001, 1, 1);
        },
    );
    setup.write("server.crt", &cert);
    setup.write("server.key", &key);
    // It loads (with a warning): refusing to start would turn a late renewal into an outage.
    let (_security, server) = setup.serve("").await;
    let err = get(server.addr, setup.ca.client(None), None)
        .await
        .expect_err("refused");
    assert!(err.to_lowercase().contains("expired"), "{err}");
}

#[tokio::test]
async fn rotated_certificates_are_served_without_restart() {
    let setup = Setup::new();
    let (security, server) = setup.serve("").await;
    let client = setup.ca.client(None);
    let first = get(server.addr, client.clone(), None)
        .await
        .expect("request");
    assert_eq!(
        serial_and_sans(first.peer_cert.as_ref().expect("TLS")),
        (1, vec!["localhost".to_owned()])
    );

    setup.server_cert(2, &["rotated.example"]);
    // What the reloader task does on its next tick (its timing is a unit test).
    assert_eq!(security.reload().expect("valid"), Reload::Applied);

    let second = get(server.addr, client, None).await.expect("request");
    assert_eq!(
        serial_and_sans(second.peer_cert.as_ref().expect("TLS")),
        (
            2,
            vec!["localhost".to_owned(), "rotated.example".to_owned()]
        )
    );
}

#[tokio::test]
async fn alpn_negotiates_h2_unless_the_file_says_http2_false() {
    let setup = Setup::new();
    let offering = |protocols: &[&[u8]]| {
        let mut client = (*setup.ca.client(None)).clone();
        client.alpn_protocols = protocols.iter().map(|p| p.to_vec()).collect();
        Arc::new(client)
    };
    let negotiated = |addr, client: Arc<rustls::ClientConfig>| async move {
        let tcp = TcpStream::connect(addr).await.expect("connect");
        let name = ServerName::try_from("localhost").expect("server name");
        let tls = TlsConnector::from(client)
            .connect(name, tcp)
            .await
            .expect("handshake");
        tls.get_ref().1.alpn_protocol().map(<[u8]>::to_vec)
    };
    let both: &[&[u8]] = &[b"h2", b"http/1.1"];

    let (security, server) = setup.serve("").await;
    assert!(security.offers_http2());
    assert_eq!(
        negotiated(server.addr, offering(both)).await.as_deref(),
        Some(&b"h2"[..])
    );
    // A client that speaks HTTP/1.1 only is served HTTP/1.1.
    let http1 = offering(&[b"http/1.1"]);
    assert_eq!(
        negotiated(server.addr, http1.clone()).await.as_deref(),
        Some(&b"http/1.1"[..])
    );
    let reply = get(server.addr, http1.clone(), None)
        .await
        .expect("request");
    assert_eq!(reply.status(), "200", "{reply:?}");
    drop(server);

    let (security, server) = setup.serve("http_server_config:\n  http2: false\n").await;
    assert!(!security.offers_http2());
    assert_eq!(
        negotiated(server.addr, offering(both)).await.as_deref(),
        Some(&b"http/1.1"[..])
    );
    // A client that insists on h2 finds no protocol in common.
    let tcp = TcpStream::connect(server.addr).await.expect("connect");
    let refused = TlsConnector::from(offering(&[b"h2"]))
        .connect(ServerName::try_from("localhost").expect("name"), tcp)
        .await
        .expect_err("no common protocol");
    assert!(
        refused.to_string().to_lowercase().contains("protocol"),
        "{refused}"
    );
}

/// Whether this curl can speak HTTP/2 (it then asks for h2 by ALPN on https URLs).
fn curl_speaks_http2() -> bool {
    std::process::Command::new("/usr/bin/curl")
        .arg("--version")
        .output()
        .map(|out| {
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .any(|l| l.starts_with("Features:") && l.split_whitespace().any(|f| f == "HTTP2"))
        })
        .unwrap_or(false)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_with_cacert_and_basic_auth() {
    if !Path::new("/usr/bin/curl").exists() {
        println!("skipping: /usr/bin/curl is not installed");
        return;
    }
    let setup = Setup::new();
    let ca = setup.path("ca.crt");
    let curl = move |port: u16, user: Option<&'static str>| {
        let ca = ca.clone();
        tokio::task::spawn_blocking(move || {
            let mut command = std::process::Command::new("/usr/bin/curl");
            command
                .args(["--silent", "--show-error", "--include", "--cacert"])
                .arg(&ca)
                .args(["--resolve", &format!("localhost:{port}:127.0.0.1")])
                .arg(format!("https://localhost:{port}/metrics"));
            if let Some(user) = user {
                command.args(["--user", user]);
            }
            let output = command.output().expect("curl runs");
            assert!(
                output.status.success(),
                "curl failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            String::from_utf8_lossy(&output.stdout).into_owned()
        })
    };
    // curl asks for h2 by ALPN when it can speak it, and gets it unless `http2: false`.
    let status_line = if curl_speaks_http2() {
        "HTTP/2 200"
    } else {
        "HTTP/1.1 200"
    };
    let (_security, server) = setup.serve(&users_yaml()).await;
    let port = server.addr.port();
    let ok = curl(port, Some("alice:correct horse"))
        .await
        .expect("curl task");
    assert!(ok.starts_with(status_line), "{ok}");
    assert!(ok.ends_with("ok\n"), "{ok}");
    let denied = curl(port, None).await.expect("curl task");
    assert!(denied.contains(" 401"), "{denied}");
    assert!(
        denied.contains("www-authenticate: Basic realm=\"demo-exporter\""),
        "{denied}"
    );
    drop(server);

    let (_security, server) = setup
        .serve(&format!(
            "{}http_server_config:\n  http2: false\n",
            basic_users_only()
        ))
        .await;
    let ok = curl(server.addr.port(), Some("alice:correct horse"))
        .await
        .expect("curl task");
    assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
}
