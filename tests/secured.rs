//! The real binary behind `--web.config.file`: TLS and basic auth as curl and an
//! orchestrator's probes see them, and no secret in its logs, even at debug level.

// Certificates and a web.yml; the stand-in server there is for tests/webconfig.rs.
#[allow(dead_code)]
#[path = "../crates/web-config/tests/support/mod.rs"]
mod webconfig_support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use cognito_sim::{self as sim, SimOptions};
use webconfig_support::Setup;

const BIN: &str = env!("CARGO_BIN_EXE_cognito-exporter");
const SECRET_KEY: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzzSECRETKEY";
const SESSION_TOKEN: &str = "FwoGZXIvYXdzEXAMPLESESSIONTOKENzzTOKEN";
const PASSWORD: &str = "correct-horse-battery-staple";

struct Exporter {
    child: Child,
    port: u16,
    lines: mpsc::Receiver<String>,
    log: Vec<String>,
}

impl Exporter {
    /// Starts the binary and waits for the line that says where it listens.
    fn start(args: &[&str], endpoint: &str, dir: &std::path::Path) -> Self {
        let config = dir.join("exporter.yml");
        std::fs::write(
            &config,
            format!("poll:\n  interval: 1s\ntargets:\n  - region: eu-west-1\n    endpoint_url: {endpoint}\n"),
        )
        .expect("write config");
        let mut child = Command::new(BIN)
            .args(["--config.file", config.to_str().expect("UTF-8 path")])
            .args([
                "--web.listen-address",
                "127.0.0.1:0",
                "--log.format",
                "json",
            ])
            .args(args)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEKEYID0001")
            .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
            .env("AWS_SESSION_TOKEN", SESSION_TOKEN)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the exporter starts");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut exporter = Self {
            child,
            port: 0,
            lines,
            log: Vec::new(),
        };
        let line = exporter.wait_for("\"listening\"");
        let addr = line
            .split("\"address\":\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("the listening line names the address");
        exporter.port = addr
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("a port");
        exporter
    }

    fn wait_for(&mut self, needle: &str) -> String {
        loop {
            let line = self
                .lines
                .recv_timeout(Duration::from_secs(20))
                .unwrap_or_else(|_| {
                    panic!(
                        "no log line with {needle}; log so far:\n{}",
                        self.log.join("\n")
                    )
                });
            self.log.push(line.clone());
            if line.contains(needle) {
                return line;
            }
        }
    }

    /// Stops the binary and returns its whole log.
    fn stop(mut self) -> String {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(2)) {
            self.log.push(line);
        }
        self.log.join("\n")
    }
}

/// Runs curl against the exporter; returns (HTTP status, body).
fn curl(port: u16, setup: &Setup, path: &str, extra: &[&str]) -> (u16, String) {
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "10", "-w", "\n%{http_code}"])
        .args(["--resolve", &format!("localhost:{port}:127.0.0.1")])
        .args(["--cacert", setup.path("ca.crt").to_str().expect("path")])
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
    let setup = Setup::new();
    let hash = bcrypt::hash(PASSWORD, 4).expect("bcrypt");
    let web = setup.config(&format!(
        "basic_auth_users:\n  alice: {hash}\nhttp_server_config:\n  headers:\n    X-Content-Type-Options: nosniff\n"
    ));
    let dir = setup.path("");
    let args = [
        "--web.config.file",
        web.to_str().expect("path"),
        "--log.level",
        "debug",
    ];
    let mut exporter =
        tokio::task::block_in_place(|| Exporter::start(&args, &sim.endpoint_url(), &dir));
    let port = exporter.port;

    let (status, body) = tokio::task::block_in_place(|| {
        // The first cycle has run once the log says so.
        exporter.wait_for("poll cycle finished");
        curl(
            port,
            &setup,
            "/metrics",
            &["-u", &format!("alice:{PASSWORD}")],
        )
    });
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("cognito_log_destination_configured{"),
        "{body}"
    );

    let (status, _) = tokio::task::block_in_place(|| curl(port, &setup, "/metrics", &[]));
    assert_eq!(status, 401, "no credentials");
    let (status, _) =
        tokio::task::block_in_place(|| curl(port, &setup, "/metrics", &["-u", "alice:wrong"]));
    assert_eq!(status, 401, "a wrong password");
    let (status, _) = tokio::task::block_in_place(|| curl(port, &setup, "/-/healthy", &[]));
    assert_eq!(status, 200, "probes need no credentials");
    let (status, _) = tokio::task::block_in_place(|| curl(port, &setup, "/-/ready", &[]));
    assert_eq!(status, 200, "probes need no credentials");

    // Plain HTTP to the TLS port gets no HTTP answer.
    let plain = Command::new("curl")
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
        .expect("curl runs");
    assert_eq!(String::from_utf8_lossy(&plain.stdout), "000");

    let log = tokio::task::block_in_place(|| exporter.stop());
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
}

#[test]
fn a_bad_web_config_fails_the_check_with_exit_2_naming_the_key() {
    let setup = Setup::new();
    let web = setup.config("basic_auth_users:\n  bob: not-a-hash\n");
    let out = Command::new(BIN)
        .args([
            "--config.check",
            "--web.config.file",
            web.to_str().expect("path"),
        ])
        .env_clear()
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("basic_auth_users.bob"), "{err}");
    assert!(err.contains("web.yml"), "{err}");
}
