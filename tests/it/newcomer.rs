//! What a newcomer meets in the first hour, through the real binary: no credentials
//! told in one line, the revision in `--version`, the web configuration's warnings in
//! `--config.check`, and the demo's simulator open to the aws CLI and marked in
//! `/metrics`.

use std::net::SocketAddr;

use cognito_sim::SimOptions;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::harness::{Running, binary, request, scrape_until, simulator_with};

/// The fragments of the one line that says no credentials were found, and how to give
/// some.
const NO_CREDENTIALS: &[&str] = &[
    "error_code=credentials",
    "no AWS credentials found: tried environment variables (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)",
    "the shared config and credentials files (AWS_PROFILE)",
    "a web identity token (AWS_WEB_IDENTITY_TOKEN_FILE)",
    "ECS container credentials and EC2 instance metadata",
    "AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test",
];

/// With no credentials anywhere (a clean environment, no files in the home directory,
/// instance metadata off), each target says so in one line naming the chain and the fix,
/// a target assuming a role included; and the log, written to a pipe, has no colour
/// codes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_credentials_are_told_in_one_line_naming_the_chain() {
    told_in_one_line(&[("AWS_EC2_METADATA_DISABLED", "true")]).await;
}

/// The same off EC2 where something answers at the instance-metadata address, refusing
/// (as on many build machines): not the SDK's account of every provider, nor its
/// instance-metadata error, but the same one line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_credentials_are_told_in_one_line_when_instance_metadata_refuses() {
    let metadata = refusing_server().await;
    let endpoint = format!("http://{metadata}");
    told_in_one_line(&[("AWS_EC2_METADATA_SERVICE_ENDPOINT", &endpoint)]).await;
}

/// Runs the binary with two targets (one assuming a role), no credentials and `env`, and
/// checks each says so in the one line.
async fn told_in_one_line(env: &[(&str, &str)]) {
    let sim = simulator_with(SimOptions {
        regions: vec!["eu-west-1".into()],
        pools_per_region: 2,
        ..SimOptions::default()
    })
    .await;
    let home = tempfile::tempdir().expect("temporary directory");
    let config = home.path().join("exporter.yml");
    std::fs::write(
        &config,
        format!(
            "targets:\n  - region: eu-west-1\n    endpoint_url: {url}\n  \
             - region: eu-west-1\n    endpoint_url: {url}\n    \
             role_arn: arn:aws:iam::210987654321:role/reader\n",
            url = sim.endpoint_url()
        ),
    )
    .expect("write config");
    let mut command = binary(&[
        "--config.file",
        config.to_str().expect("UTF-8 path"),
        "--web.listen-address",
        "127.0.0.1:0",
    ]);
    command.env("HOME", home.path()).envs(env.iter().copied());
    let (status, log) = tokio::task::block_in_place(|| {
        let mut exporter = Running::spawn(command);
        for _ in 0..2 {
            let line = exporter.wait_for("cannot learn the target's account");
            for fragment in NO_CREDENTIALS {
                assert!(line.contains(fragment), "no {fragment:?} in:\n{line}");
            }
        }
        exporter.terminate()
    });
    assert_eq!(status.code(), Some(0), "{log}");
    assert!(
        !log.contains("IMDS") && !log.contains("target=aws_config"),
        "the SDK's account of each provider:\n{log}"
    );
    assert!(
        !log.contains('\u{1b}'),
        "colour codes in a redirected log:\n{log}"
    );
    assert_eq!(
        sim.state().stats().total.requests,
        0,
        "nothing was sent unsigned"
    );
}

/// A loopback server answering 403 to every request, as instance metadata does where it
/// is turned off; it serves until the test's runtime ends.
async fn refusing_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut head = [0_u8; 4096];
                let _ = stream.read(&mut head).await;
                let _ = stream
                    .write_all(
                        b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                    )
                    .await;
            });
        }
    });
    addr
}

#[test]
fn version_prints_the_revision_build_info_carries() {
    let out = binary(&["--version"]).output().expect("runs");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        text.trim_end(),
        format!(
            "cognito-exporter {} (revision {})",
            cognito_exporter::VERSION,
            cognito_exporter::REVISION
        )
    );
}

/// What a start would log about the web configuration, `--config.check` prints too:
/// here, users whose hashes have different costs (their response times differ).
#[test]
fn check_prints_the_web_configuration_warnings() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let web = dir.path().join("web.yml");
    let cheap = bcrypt::hash("one", 4).expect("hash");
    let dear = bcrypt::hash("two", 5).expect("hash");
    std::fs::write(
        &web,
        format!("basic_auth_users:\n  alice: '{cheap}'\n  bob: '{dear}'\n"),
    )
    .expect("write");
    let out = binary(&[
        "--config.check",
        "--web.config.file",
        web.to_str().expect("UTF-8 path"),
    ])
    .output()
    .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let warning = format!(
        "cognito-exporter: warning: {}: basic_auth_users: ",
        web.display()
    );
    assert!(stderr.contains(&warning), "no {warning:?} in:\n{stderr}");
    assert!(
        stderr.contains("alice") && stderr.contains("bob"),
        "{stderr}"
    );
}

#[test]
fn a_bad_simulator_address_exits_2_naming_the_flag() {
    let out = binary(&[
        "--demo",
        "--config.check",
        "--demo.simulator-address",
        "localhost",
    ])
    .output()
    .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(
            "invalid configuration: --demo.simulator-address: \"localhost\" is not an IP:PORT address"
        ),
        "{stderr}"
    );
}

/// An address taken is refused at start like a bad one, before anything listens.
#[test]
fn a_taken_simulator_address_exits_2_naming_the_flag() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("address").to_string();
    let out = binary(&[
        "--demo",
        "--web.listen-address",
        "127.0.0.1:0",
        "--demo.simulator-address",
        &addr,
    ])
    .output()
    .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--demo.simulator-address: cannot listen") && stderr.contains(&addr),
        "{stderr}"
    );
}

/// The demo's start-up line gives an aws CLI command for its simulator, which answers
/// there; `/metrics` says the data is simulated; and after a reload the demo still polls
/// its simulator.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_is_open_to_the_aws_cli_marked_simulated_and_survives_a_reload() {
    let mut exporter = Running::spawn(binary(&[
        "--demo",
        "--web.listen-address",
        "127.0.0.1:0",
        "--log.format",
        "json",
        "--web.enable-lifecycle",
        // Cycles close together, so one follows the reload soon.
        "--poll.interval",
        "2s",
    ]));
    let (started, port) = tokio::task::block_in_place(|| {
        (
            exporter.wait_for("demo simulator started"),
            exporter.listening_port(),
        )
    });
    let command = started
        .split("\"aws_cli\":\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no aws_cli in {started}"));
    assert!(
        command.starts_with(
            "AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test aws --endpoint-url http://127.0.0.1:"
        ) && command.ends_with(" --region eu-west-1 cognito-idp list-user-pools --max-results 10"),
        "{command}"
    );
    let simulator: SocketAddr = command
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|addr| addr.parse().ok())
        .unwrap_or_else(|| panic!("no address in {command}"));
    let health = request(simulator, "GET", "/_sim/health", &[]).await;
    assert_eq!(
        health.status, 200,
        "the simulator answers where the line says"
    );

    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    scrape_until(addr, "build_info marked demo", |text| {
        text.lines()
            .any(|l| l.starts_with("cognito_exporter_build_info{") && l.contains("demo=\"true\""))
    })
    .await;
    // Destination checks and the example policy, over destinations in every state.
    scrape_until(addr, "destination statuses and policy verdicts", |text| {
        [
            "ok",
            "not_found",
            "kms_encrypted",
            "other_account",
            "not_active",
        ]
        .iter()
        .all(|s| text.contains(&format!("status=\"{s}\"}} 1")))
            && text.contains("rule=\"errors-to-cloudwatch\"} 0")
            && text.contains("rule=\"errors-to-cloudwatch\"} 1")
            && text.contains("rule=\"plus-user-activity\"}")
    })
    .await;

    let reply = request(addr, "POST", "/-/reload", &[]).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let cycle = tokio::task::block_in_place(|| {
        exporter.wait_for("configuration reloaded");
        exporter.wait_for("poll cycle finished")
    });
    assert!(
        cycle.contains("\"up\":true") && cycle.contains("\"pools\":24"),
        "after the reload: {cycle}"
    );
    let (status, log) = tokio::task::block_in_place(|| exporter.terminate());
    assert_eq!(status.code(), Some(0), "{log}");
}
