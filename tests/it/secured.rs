//! The real binary behind `--web.config.file`: TLS and basic auth as curl and an
//! orchestrator's probes see them, no secret in its logs even at debug level, and a bad
//! web configuration refused by `--config.check`.

use std::process::Command;

use cognito_sim::{self as sim, SimOptions};

use crate::harness::{Running, TlsFiles, binary};

const SECRET_KEY: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzzSECRETKEY";
const SESSION_TOKEN: &str = "FwoGZXIvYXdzEXAMPLESESSIONTOKENzzTOKEN";
const PASSWORD: &str = "correct-horse-battery-staple";

/// Starts the binary polling `endpoint`, with AWS keys in its environment, and returns
/// it with the port it listens on.
fn start(args: &[&str], endpoint: &str, tls: &TlsFiles) -> (Running, u16) {
    let config = tls.path("exporter.yml");
    std::fs::write(
        &config,
        format!(
            "poll:\n  interval: 1s\ntargets:\n  - region: eu-west-1\n    endpoint_url: {endpoint}\n"
        ),
    )
    .expect("write config");
    let mut command = binary(&[
        "--config.file",
        config.to_str().expect("UTF-8 path"),
        "--web.listen-address",
        "127.0.0.1:0",
        "--log.format",
        "json",
    ]);
    command
        .args(args)
        .env("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEKEYID0001")
        .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
        .env("AWS_SESSION_TOKEN", SESSION_TOKEN);
    let mut exporter = Running::spawn(command);
    let port = exporter.listening_port();
    (exporter, port)
}

/// Runs curl against the exporter; returns (HTTP status, body).
fn curl(port: u16, tls: &TlsFiles, path: &str, extra: &[&str]) -> (u16, String) {
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "10", "-w", "\n%{http_code}"])
        .args(["--resolve", &format!("localhost:{port}:127.0.0.1")])
        .args(["--cacert", tls.path("ca.crt").to_str().expect("path")])
        .args(extra)
        .arg(format!("https://localhost:{port}{path}"))
        .output()
        .expect("curl runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", "0"));
    (code.trim().parse().unwrap_or(0), body.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_and_basic_auth_on_the_real_server_with_curl_and_no_secret_in_the_logs() {
    let sim = sim::spawn(SimOptions {
        regions: vec!["eu-west-1".into()],
        pools_per_region: 3,
        ..SimOptions::default()
    })
    .await
    .expect("simulator");
    let tls = TlsFiles::new();
    let hash = bcrypt::hash(PASSWORD, 4).expect("bcrypt");
    let web = tls.web_config(&format!(
        "basic_auth_users:\n  alice: {hash}\nhttp_server_config:\n  headers:\n    X-Content-Type-Options: nosniff\n"
    ));
    let args = [
        "--web.config.file",
        web.to_str().expect("path"),
        "--log.level",
        "debug",
    ];
    // The simulator runs on this test's runtime: blocking on the child process must leave
    // it a worker.
    let (mut exporter, port) =
        tokio::task::block_in_place(|| start(&args, &sim.endpoint_url(), &tls));

    let (status, body) = tokio::task::block_in_place(|| {
        // The first cycle has run once the log says so.
        exporter.wait_for("poll cycle finished");
        curl(
            port,
            &tls,
            "/metrics",
            &["-u", &format!("alice:{PASSWORD}")],
        )
    });
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("cognito_log_destination_configured{"),
        "{body}"
    );

    let (status, head) = tokio::task::block_in_place(|| curl(port, &tls, "/metrics", &["-i"]));
    assert_eq!(status, 401, "no credentials");
    assert!(
        head.to_ascii_lowercase()
            .contains("www-authenticate: basic realm=\"cognito-exporter\""),
        "the challenge names the exporter's realm:\n{head}"
    );
    let (status, _) =
        tokio::task::block_in_place(|| curl(port, &tls, "/metrics", &["-u", "alice:wrong"]));
    assert_eq!(status, 401, "a wrong password");
    let (status, _) = tokio::task::block_in_place(|| curl(port, &tls, "/-/healthy", &[]));
    assert_eq!(status, 200, "probes need no credentials");
    let (status, _) = tokio::task::block_in_place(|| curl(port, &tls, "/-/ready", &[]));
    assert_eq!(status, 200, "probes need no credentials");

    // Plain HTTP to the TLS port gets no HTTP answer.
    let plain = tokio::task::block_in_place(|| {
        Command::new("curl")
            .args([
                "-s",
                "--max-time",
                "5",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
            ])
            .arg(format!("http://127.0.0.1:{port}/metrics"))
            .output()
            .expect("curl runs")
    });
    assert_eq!(String::from_utf8_lossy(&plain.stdout), "000");

    let (_, log) = tokio::task::block_in_place(|| exporter.terminate());
    assert!(
        log.contains("\"level\":\"DEBUG\""),
        "debug logging was on:\n{log}"
    );
    for secret in [SECRET_KEY, SESSION_TOKEN, PASSWORD, &hash] {
        assert!(
            !log.contains(secret),
            "{secret} leaked into the log:\n{log}"
        );
    }
    assert!(
        !log.contains("different costs"),
        "one user, one cost: no warning:\n{log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_hashed_at_different_costs_are_warned_about_once_at_start() {
    let sim = sim::spawn(SimOptions {
        regions: vec!["eu-west-1".into()],
        pools_per_region: 1,
        ..SimOptions::default()
    })
    .await
    .expect("simulator");
    let tls = TlsFiles::new();
    let (cheap, dear) = (
        bcrypt::hash(PASSWORD, 4).expect("bcrypt"),
        bcrypt::hash(PASSWORD, 5).expect("bcrypt"),
    );
    let web = tls.web_config(&format!(
        "basic_auth_users:\n  alice: {cheap}\n  bob: {dear}\n"
    ));
    let args = ["--web.config.file", web.to_str().expect("path")];
    let (exporter, _port) = tokio::task::block_in_place(|| start(&args, &sim.endpoint_url(), &tls));
    let (_, log) = tokio::task::block_in_place(|| exporter.terminate());
    let warnings: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("different costs"))
        .collect();
    assert_eq!(warnings.len(), 1, "{log}");
    assert!(warnings[0].contains("\"level\":\"WARN\""), "{log}");
    assert!(warnings[0].contains("cost 4: alice; cost 5: bob"), "{log}");
    for hash in [&cheap, &dear] {
        assert!(
            !log.contains(&hash[7..]),
            "a hash leaked into the log:\n{log}"
        );
    }
}

#[test]
fn a_bad_web_config_fails_the_check_with_exit_2_naming_the_key() {
    let tls = TlsFiles::new();
    let web = tls.web_config("basic_auth_users:\n  bob: not-a-hash\n");
    let out = binary(&[
        "--config.check",
        "--web.config.file",
        web.to_str().expect("path"),
    ])
    .output()
    .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("basic_auth_users.bob"), "{err}");
    assert!(err.contains("web.yml"), "{err}");
}

#[test]
fn the_example_web_config_passes_the_check_beside_its_certificates() {
    let tls = TlsFiles::new();
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/config/web-config.example.yml");
    let text = std::fs::read_to_string(example).expect("the example exists");
    // Beside the certificate files it names, as an operator would place it.
    let web = tls.path("web.yml");
    std::fs::write(&web, text).expect("write web.yml");
    let out = binary(&[
        "--config.check",
        "--web.config.file",
        web.to_str().expect("path"),
    ])
    .output()
    .expect("runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{example} fails the check:\n{err}"
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with("configuration OK"),
        "{err}"
    );
}
