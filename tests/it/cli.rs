//! The `cognito-exporter` binary as an operator runs it: configuration checks and their
//! messages, exit codes, `--version`, and a drain on SIGTERM.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use cognito_sim::SimOptions;

use crate::harness::{Running, binary, simulator_with, wait_until};

/// How long a run that must end by itself (a check, a refused start) may take on a loaded
/// machine; one still running then is killed and the test fails. (A file that took 23 s
/// to refuse ends in milliseconds now.)
const ENDS_WITHIN: Duration = Duration::from_secs(20);

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/config")
        .join(name)
        .display()
        .to_string()
}

/// Runs `--config.check` with `args`; returns the exit code and everything printed.
fn check(args: &[&str]) -> (i32, String) {
    let mut command = binary(&["--config.check"]);
    command.args(args);
    run_to_end(command)
}

/// Runs `command` until it exits, within [`ENDS_WITHIN`]; returns the exit code (none
/// means a signal ended it, such as the abort of a panic) and stderr then stdout.
fn run_to_end(mut command: Command) -> (i32, String) {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    // Read on threads of their own, so a full pipe cannot stall the child.
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_string(&mut text);
            }
            text
        })
    };
    let stderr = drain(child.stderr.take().map(|p| Box::new(p) as _));
    let stdout = drain(child.stdout.take().map(|p| Box::new(p) as _));
    let deadline = Instant::now() + ENDS_WITHIN;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "still running after {ENDS_WITHIN:?}; it printed:\n{}",
                stderr.join().expect("reader")
            );
        }
        // std's `Child` has no wait with a timeout: look again shortly.
        std::thread::sleep(Duration::from_millis(50));
    };
    let text = stderr.join().expect("reader") + &stdout.join().expect("reader");
    (status.code().unwrap_or(-1), text)
}

#[test]
fn every_bad_configuration_exits_2_naming_the_key_and_file() {
    // (fixture, what the message must name)
    let cases: &[(&str, &[&str])] = &[
        (
            "syntax-error.yml",
            &["syntax-error.yml: syntax error", "line"],
        ),
        ("unknown-key.yml", &["poll.colour: unknown key"]),
        ("wrong-type.yml", &["poll.concurrency"]),
        ("wrong-type.toml", &["poll.interval", "expected a duration"]),
        ("bad-duration.yml", &["poll.timeout: invalid duration"]),
        ("zero-rate.yml", &["poll.requests_per_second"]),
        ("negative-rate.yml", &["poll.requests_per_second"]),
        ("bad-region.yml", &["targets[0].region"]),
        ("bad-pool-id.yml", &["targets[0].user_pools[0]"]),
        ("bad-role-arn.yml", &["targets[0].role_arn"]),
        (
            "bad-regex.yml",
            &["targets[0].include: invalid regular expression"],
        ),
        ("empty-target.yml", &["targets[0]: an empty target"]),
        (
            "bad-policy.yml",
            &[
                "policy.rules[0].pools.name: invalid regular expression",
                "policy.rules[0].require.kind: \"sqs\" is not a destination kind",
                "policy.rules[1].require.source: \"userSignups\" is not a log source",
                "policy.rules[1].require.status_ok: needs checks.destinations: true",
            ],
        ),
        (
            "duplicate-key.yml",
            &["poll.interval: duplicate key (lines 2 and 4)"],
        ),
        (
            "too-deep.yml",
            &["too-deep.yml: nested more than 64 levels deep (line 2)"],
        ),
        (
            "out-of-range.yml",
            &[
                "poll.interval: expected a duration from 1s to 24h, got \"25h\"",
                "poll.requests_per_second: expected a number from 0.01 to 10000",
                "poll.max_staleness: expected a duration from 1s to 30d, got \"1000000y\"",
            ],
        ),
        (
            "same-target.yml",
            &[
                "targets[1]: the same account and region as targets[0] (eu-west-1, account 123456789012)",
            ],
        ),
        (
            "many-problems.yml",
            &[
                "poll.interval",
                "poll.requests_per_second",
                "targets[0].region",
                "targets[0].exclude",
            ],
        ),
    ];
    for (name, needles) in cases {
        let path = fixture(name);
        let (code, text) = check(&["--config.file", &path]);
        assert_eq!(code, 2, "{name}: {text}");
        for needle in *needles {
            assert!(text.contains(needle), "{name}: no {needle:?} in:\n{text}");
        }
        if !name.starts_with("syntax") {
            assert!(
                text.contains(&format!("{path}: ")),
                "{name}: the file is not named:\n{text}"
            );
        }
    }
}

#[test]
fn all_problems_are_reported_at_once() {
    let (code, text) = check(&["--config.file", &fixture("many-problems.yml")]);
    assert_eq!(code, 2);
    assert_eq!(
        text.lines()
            .filter(|l| l.contains("invalid configuration"))
            .count(),
        4,
        "{text}"
    );
}

#[test]
fn a_good_configuration_checks_clean() {
    let (code, text) = check(&["--config.file", &fixture("good.yml")]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("configuration OK: 2 target(s)"), "{text}");
}

#[test]
fn bad_flags_exit_2() {
    let (code, _) = check(&["--poll.interval", "soon"]);
    assert_eq!(code, 2);
    let (code, text) = check(&["--web.listen-address", "not an address"]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("--web.listen-address"), "{text}");
    let (code, _) = check(&["--log.format", "xml"]);
    assert_eq!(code, 2);
}

#[test]
fn check_prints_the_warnings_a_start_would_log_and_passes() {
    let (code, text) = check(&["--poll.interval", "30s"]);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains(
            "cognito-exporter: warning: poll.interval is 30s: below 1m, polls spend Cognito's shared read quota fast\n"
        ),
        "{text}"
    );
    assert!(text.contains("configuration OK: 1 target(s)"), "{text}");
    let (code, text) = check(&["--poll.interval", "1m"]);
    assert_eq!(code, 0, "{text}");
    assert!(!text.contains("warning"), "{text}");
}

/// Each of these passed `--config.check` or panicked in it, and aborted the process at
/// start: now both refuse them with exit 2, naming the key and its range.
#[test]
fn extreme_values_are_refused_at_check_and_at_start_naming_the_key() {
    let cases = [
        (
            "--poll.requests-per-second",
            "1e-300",
            "poll.requests_per_second: expected a number from 0.01 to 10000",
        ),
        (
            "--poll.requests-per-second",
            "1e-19",
            "poll.requests_per_second: expected a number from 0.01 to 10000",
        ),
        (
            "--poll.interval",
            "200000000000y",
            "poll.interval: expected a duration from 1s to 24h, got \"200000000000y\"",
        ),
        (
            "--poll.timeout",
            "200000000000y",
            "poll.timeout: expected a duration from 1s to 1h",
        ),
        (
            "--poll.max-staleness",
            "200000000000y",
            "poll.max_staleness: expected a duration from 1s to 30d",
        ),
        (
            "--poll.cycle-timeout",
            "200000000000y",
            "poll.cycle_timeout: expected a duration from 1s to 30d",
        ),
        (
            "--poll.describe-interval",
            "31d",
            "poll.describe_interval: expected a duration from 1s to 30d",
        ),
    ];
    for (flag, value, needle) in cases {
        let (code, text) = check(&[flag, value]);
        assert_eq!(code, 2, "{flag} {value} checked: {text}");
        assert!(text.contains(needle), "{flag} {value} checked:\n{text}");
        let (code, text) = run_to_end(binary(&[
            flag,
            value,
            "--web.listen-address",
            "127.0.0.1:0",
        ]));
        assert_eq!(code, 2, "{flag} {value} at start: {text}");
        assert!(text.contains(needle), "{flag} {value} at start:\n{text}");
    }
}

/// The ends of every range, on a running exporter polling the simulator: the first
/// attempt sets the limiter's next slot 100 s on, and SIGTERM still drains and exits 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_widest_valid_values_run_and_stop_cleanly() {
    let sim = simulator_with(SimOptions {
        regions: vec!["eu-west-1".into()],
        pools_per_region: 2,
        ..SimOptions::default()
    })
    .await;
    let dir = tempfile::tempdir().expect("temporary directory");
    let config = dir.path().join("exporter.yml");
    std::fs::write(
        &config,
        format!(
            "targets:\n  - region: eu-west-1\n    endpoint_url: {}\n",
            sim.endpoint_url()
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
        "--poll.requests-per-second",
        "0.01",
        "--poll.interval",
        "24h",
        "--poll.timeout",
        "1h",
        "--poll.max-staleness",
        "30d",
        "--poll.cycle-timeout",
        "30d",
    ]);
    command
        .env("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEKEYID0001")
        .env("AWS_SECRET_ACCESS_KEY", "example-secret");
    // The simulator runs on this test's runtime: blocking on the child leaves it a worker.
    let exporter = tokio::task::block_in_place(|| {
        let mut exporter = Running::spawn(command);
        exporter.listening_port();
        exporter
    });
    wait_until("the first attempt answered", ENDS_WITHIN, async || {
        let ok = sim.state().stats().total.ok;
        if ok >= 1 {
            Ok(())
        } else {
            Err(format!("{ok} answers"))
        }
    })
    .await;
    let (status, log) = tokio::task::block_in_place(|| exporter.terminate());
    assert_eq!(status.code(), Some(0), "{log}");
    assert_eq!(
        sim.state().stats().total.requests,
        1,
        "the next attempt waits its slot"
    );
}

/// A file too large, one nested too deep (200 KB of brackets took 23 s to refuse) and a
/// regular expression too long, each refused at once naming the file or the key; and a
/// value of the environment nested too deep.
#[test]
fn oversized_input_is_refused_quickly_naming_the_file_or_key() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("write");
        path.display().to_string()
    };
    // A 20 MB regular expression took 7 s and 2 GB to refuse.
    let large = write(
        "large.yml",
        &format!(
            "targets:\n  - region: eu-west-1\n    include: '{}'\n",
            "ab|".repeat(7 << 20)
        ),
    );
    let deep = write(
        "deep.yml",
        &format!("poll: {}{}\n", "[".repeat(100_000), "]".repeat(100_000)),
    );
    let regex = write(
        "regex.yml",
        &format!(
            "targets:\n  - region: eu-west-1\n    exclude: '{}'\n",
            "a|".repeat(10_000)
        ),
    );
    for (path, needle) in [
        (
            &large,
            format!("{large}: the file is larger than the limit of 1 MiB"),
        ),
        (
            &deep,
            format!("{deep}: nested more than 64 levels deep (line 1)"),
        ),
        (
            &regex,
            format!(
                "{regex}: targets[0].exclude: the regular expression is longer than the limit of 4096 bytes"
            ),
        ),
    ] {
        let (code, text) = check(&["--config.file", path]);
        assert_eq!(code, 2, "{text}");
        assert!(text.contains(&needle), "no {needle:?} in:\n{text}");
    }
    // From the environment, where figment's own parser overflowed its stack.
    let mut command = binary(&["--config.check"]);
    command.env("COGNITO_EXPORTER_TARGETS", "[".repeat(100_000));
    let (code, text) = run_to_end(command);
    assert_eq!(code, 2, "{text}");
    assert!(
        text.contains("environment: targets: nested more than 64 levels deep"),
        "{text}"
    );
}

#[test]
fn version_names_the_exporter() {
    let out = binary(&["--version"]).output().expect("runs");
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("cognito-exporter "));
}

#[test]
fn sigterm_drains_and_exits_0() {
    let mut exporter = Running::spawn(binary(&[
        "--demo",
        "--web.listen-address",
        "127.0.0.1:0",
        "--log.format",
        "json",
    ]));
    exporter.listening_port();
    // The signal handler's task is spawned before the pollers: once a cycle has finished
    // it is listening, and SIGTERM reaches it rather than the default action (death).
    exporter.wait_for("poll cycle finished");
    let (status, log) = exporter.terminate();
    assert_eq!(status.code(), Some(0), "{log}");
    assert!(
        log.contains("simulated"),
        "the demo says its data is simulated:\n{log}"
    );
    assert!(
        log.lines().all(|l| l.starts_with('{')),
        "JSON lines only:\n{log}"
    );
}
