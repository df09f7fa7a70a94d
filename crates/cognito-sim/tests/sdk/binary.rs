//! The `cognito-sim` binary as a script runs it, its log redirected.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// How long the binary may take to start on a loaded machine.
const WITHIN: Duration = Duration::from_secs(30);

/// A log written to a pipe or a file holds no colour codes: they are for terminals.
#[test]
fn a_redirected_log_is_plain_text() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cognito-sim"))
        .args(["--listen", "127.0.0.1:0"])
        .env_clear()
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cognito-sim starts");
    let stderr = child.stderr.take().expect("stderr is piped");
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let started = lines.recv_timeout(WITHIN);
    let _ = child.kill();
    let _ = child.wait();
    let line = started.expect("a log line within the time limit");
    assert!(line.contains("cognito-sim started"), "{line:?}");
    assert!(!line.contains('\u{1b}'), "colour codes in {line:?}");
}
