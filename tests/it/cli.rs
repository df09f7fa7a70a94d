//! The `cognito-exporter` binary as an operator runs it: configuration checks and their
//! messages, exit codes, `--version`, and a drain on SIGTERM.

use std::path::Path;

use crate::harness::{Running, binary};

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/config")
        .join(name)
        .display()
        .to_string()
}

/// Runs `--config.check` with `args`; returns the exit code and everything printed.
fn check(args: &[&str]) -> (i32, String) {
    let out = binary(&["--config.check"])
        .args(args)
        .output()
        .expect("the binary runs");
    let text =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    (out.status.code().expect("an exit code"), text)
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
