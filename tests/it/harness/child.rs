//! The real `cognito-exporter` binary run as a child process, with a clean environment,
//! and its log read line by line as it is written.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_cognito-exporter");

/// How long the binary may take to log a line a test waits for, or to exit once told to:
/// a start, a first poll cycle of a few pools, or a drain, on a loaded machine.
const WITHIN: Duration = Duration::from_secs(20);

/// The binary with `args`, an environment holding only `PATH`, so no variable of the
/// machine running the tests (`AWS_*`, `RUST_LOG`, the flags' own) changes what it does.
pub(crate) fn binary(args: &[&str]) -> Command {
    let mut command = Command::new(BIN);
    command.args(args).env_clear().env("PATH", "/usr/bin:/bin");
    command
}

/// [`binary`], run by `sh` with at most `files` open files (`ulimit -n`).
pub(crate) fn binary_with_open_files(files: u32, args: &[&str]) -> Command {
    let mut command = Command::new("sh");
    command
        .args([
            "-c",
            &format!("ulimit -n {files} && exec \"$0\" \"$@\""),
            BIN,
        ])
        .args(args)
        .env_clear()
        .env("PATH", "/usr/bin:/bin");
    command
}

/// The binary polling with configuration file `yaml`, logging JSON, with static AWS keys
/// in its environment; returns it, the port it listens on, and the file (kept until the
/// test ends). Blocks until it listens: call it from `block_in_place` when the simulator
/// runs on the test's runtime.
pub(crate) fn spawn_with_config(
    yaml: &str,
    args: &[&str],
) -> (Running, u16, tempfile::NamedTempFile) {
    let config = tempfile::Builder::new()
        .suffix(".yml")
        .tempfile()
        .expect("temp file");
    std::fs::write(config.path(), yaml).expect("write config");
    let mut command = binary(&[
        "--config.file",
        config.path().to_str().expect("UTF-8 path"),
        "--web.listen-address",
        "127.0.0.1:0",
        "--log.format",
        "json",
    ]);
    command
        .args(args)
        .env("AWS_ACCESS_KEY_ID", "AKIDE2ETEST0000")
        .env("AWS_SECRET_ACCESS_KEY", "e2e-secret");
    let mut exporter = Running::spawn(command);
    let port = exporter.listening_port();
    (exporter, port, config)
}

/// Replaces the configuration file at `path` with `yaml`, written whole and renamed
/// into place as an editor or a ConfigMap update does, so a reload never reads half a
/// file.
pub(crate) fn rewrite(path: &Path, yaml: &str) {
    let next = path.with_extension("next.yml");
    std::fs::write(&next, yaml).expect("write config");
    std::fs::rename(&next, path).expect("replace config");
}

/// A running exporter; killed if the test ends without stopping it.
pub(crate) struct Running {
    child: Child,
    lines: mpsc::Receiver<String>,
    log: Vec<String>,
}

impl Running {
    /// Spawns `command`, reading its stderr (the log) on a thread of its own.
    pub(crate) fn spawn(mut command: Command) -> Self {
        let mut child = command
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the exporter starts");
        let stderr = child.stderr.take().expect("stderr is piped");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Self {
            child,
            lines,
            log: Vec::new(),
        }
    }

    /// Waits for a log line containing `needle` and returns it.
    pub(crate) fn wait_for(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + WITHIN;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.log.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(e) => {
                    let why = match e {
                        RecvTimeoutError::Timeout => format!("none within {WITHIN:?}"),
                        RecvTimeoutError::Disconnected => "the log ended".to_string(),
                    };
                    panic!(
                        "no log line with {needle:?} ({why}); log so far:\n{}",
                        self.log.join("\n")
                    );
                }
            }
        }
    }

    /// The log lines written within `window` from now that contain `needle`. A test
    /// uses it to show that something does not happen: the window only bounds the wait.
    pub(crate) fn lines_within(&mut self, window: Duration, needle: &str) -> Vec<String> {
        let deadline = Instant::now() + window;
        let mut found = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.log.push(line.clone());
                    if line.contains(needle) {
                        found.push(line);
                    }
                }
                Err(_) => return found,
            }
        }
    }

    /// Waits for the JSON line (`--log.format json`) saying where the binary listens, and
    /// returns the port.
    pub(crate) fn listening_port(&mut self) -> u16 {
        let line = self.wait_for("\"listening\"");
        line.split("\"address\":\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .and_then(|addr| addr.rsplit(':').next())
            .and_then(|port| port.parse().ok())
            .unwrap_or_else(|| panic!("no address:port in the listening line: {line}"))
    }

    /// Sends signal `name` (as `kill -NAME` spells it).
    pub(crate) fn signal(&self, name: &str) {
        let sent = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(sent.success(), "kill -{name} failed");
    }

    /// Sends SIGTERM, waits for the exit, and returns the exit status and the whole log.
    pub(crate) fn terminate(self) -> (ExitStatus, String) {
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(sent.success(), "kill -TERM failed");
        self.exit()
    }

    /// Waits for the process to exit by itself, and returns the exit status and the
    /// whole log.
    pub(crate) fn exit(mut self) -> (ExitStatus, String) {
        let deadline = Instant::now() + WITHIN;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "did not exit within {WITHIN:?}; log so far:\n{}",
                self.log.join("\n")
            );
            // std's `Child` has no wait with a timeout: look again shortly.
            std::thread::sleep(Duration::from_millis(50));
        };
        // The reader thread ends at the end of the log, once the process is gone.
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => self.log.push(line),
                Err(RecvTimeoutError::Disconnected) => break,
                Err(RecvTimeoutError::Timeout) => panic!("the log did not end after the exit"),
            }
        }
        (status, std::mem::take(&mut self.log).join("\n"))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // A failed test must not leave an exporter behind.
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
