//! Every file of `tests/fixtures` (see its README): each one in `good/` must start a
//! server, each one in `bad/` must be refused with a problem naming the key its first
//! line states. A file in the wrong directory, or a `bad/` file without its key, fails.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use rcgen::ExtendedKeyUsagePurpose;
use web_config::{ServerInfo, WebConfigErrors, WebSecurity};

use crate::support::Ca;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

/// The key a refusal names when the problem is the file itself (not YAML, not a mapping).
const WHOLE_FILE: &str = "(file)";

/// The files the fixtures name, made fresh for each run.
struct Material {
    files: Vec<(&'static str, String)>,
}

impl Material {
    fn new() -> Self {
        let ca = Ca::new("fixtures CA");
        let (cert, key) = ca.issue(&["localhost"], ExtendedKeyUsagePurpose::ServerAuth, 1);
        let other_key = rcgen::KeyPair::generate().expect("key").serialize_pem();
        Self {
            files: vec![
                ("server.crt", cert),
                ("server.key", key),
                ("ca.crt", ca.cert.pem()),
                ("other.key", other_key),
            ],
        }
    }

    /// Writes the material and `name` (the fixture, placeholders filled) into `dir`.
    fn install(&self, dir: &Path, name: &str, text: &str) -> Result<PathBuf, String> {
        for (file, content) in &self.files {
            std::fs::write(dir.join(file), content).map_err(|e| e.to_string())?;
        }
        let path = dir.join(name);
        std::fs::write(&path, self.fill(text)?).map_err(|e| e.to_string())?;
        Ok(path)
    }

    /// Replaces each line `@file@` by the lines of that file, indented alike.
    fn fill(&self, text: &str) -> Result<String, String> {
        let mut out = String::new();
        for line in text.lines() {
            let trimmed = line.trim_start();
            let Some(file) = trimmed
                .strip_prefix('@')
                .and_then(|rest| rest.strip_suffix('@'))
            else {
                out.push_str(line);
                out.push('\n');
                continue;
            };
            let indent = &line[..line.len() - trimmed.len()];
            let (_, content) = self
                .files
                .iter()
                .find(|(name, _)| *name == file)
                .ok_or_else(|| format!("no material called {file}"))?;
            for content_line in content.lines() {
                let _ = writeln!(out, "{indent}{content_line}");
            }
        }
        Ok(out)
    }
}

/// What a fixture's leading comments say of it.
#[derive(Default)]
struct Header {
    /// `# refused: KEY`
    refused: Option<String>,
    /// `# warns: KEY`, once per expected warning.
    warns: Vec<String>,
    /// `# refused without system roots: KEY`
    refused_without_system_roots: Option<String>,
}

fn header(text: &str) -> Header {
    let mut header = Header::default();
    for line in text.lines().take_while(|l| l.starts_with('#')) {
        let line = line.trim_start_matches('#').trim();
        if let Some(key) = line.strip_prefix("refused without system roots:") {
            header.refused_without_system_roots = Some(key.trim().to_owned());
        } else if let Some(key) = line.strip_prefix("refused:") {
            header.refused = Some(key.trim().to_owned());
        } else if let Some(key) = line.strip_prefix("warns:") {
            header.warns.push(key.trim().to_owned());
        }
    }
    header
}

/// The `.yml` files of `fixtures/<kind>`, sorted.
fn fixtures(kind: &str) -> Vec<PathBuf> {
    let dir = Path::new(FIXTURES).join(kind);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "yml"))
        .collect();
    files.sort();
    files
}

/// Loads `path` as the server does: the file, the files it names, the rustls config.
fn start(path: &Path) -> Result<WebSecurity, WebConfigErrors> {
    WebSecurity::from_file(path, &ServerInfo::new("demo-exporter"))
}

/// Whether `errors` has a problem at `key` (`(file)`: one about the whole file).
fn names_key(errors: &WebConfigErrors, key: &str) -> bool {
    errors.problems().iter().any(|problem| match problem.key() {
        None | Some("") => key == WHOLE_FILE,
        Some(named) => named == key,
    })
}

/// Why a good fixture is wrong, if it is.
fn check_good(path: &Path, header: &Header, system_roots: bool) -> Result<(), String> {
    if header.refused.is_some() {
        return Err("in good/ but states `# refused:`".to_owned());
    }
    let expect_refusal = header
        .refused_without_system_roots
        .as_deref()
        .filter(|_| !system_roots);
    match (start(path), expect_refusal) {
        (Err(errors), Some(key)) if names_key(&errors, key) => {
            println!(
                "{}: refused as stated, the system's trust store being empty",
                path.display()
            );
            Ok(())
        }
        (Err(errors), _) => Err(format!("refused:\n{errors}")),
        (Ok(_), Some(key)) => Err(format!(
            "loaded although the system's trust store is empty (expected a refusal at {key})"
        )),
        (Ok(security), None) => {
            let prefix = format!("{}: ", path.display());
            let warnings = &security.config().warnings;
            let keys: Vec<&str> = warnings
                .iter()
                .map(|w| {
                    let w = w.strip_prefix(&prefix).unwrap_or(w);
                    w.split_once(": ").map_or(w, |(key, _)| key)
                })
                .collect();
            let mut want: Vec<&str> = header.warns.iter().map(String::as_str).collect();
            let mut got = keys.clone();
            want.sort_unstable();
            got.sort_unstable();
            if got == want {
                Ok(())
            } else {
                Err(format!(
                    "warnings at {got:?}, the file states {want:?}:\n{}",
                    warnings.join("\n")
                ))
            }
        }
    }
}

/// Why a bad fixture is wrong, if it is.
fn check_bad(path: &Path, header: &Header) -> Result<(), String> {
    let Some(key) = &header.refused else {
        return Err("in bad/ without a first line `# refused: KEY`".to_owned());
    };
    match start(path) {
        Ok(_) => Err(format!("loaded, but should be refused naming {key}")),
        Err(errors) if names_key(&errors, key) => {
            // The message printed to the operator names the key too.
            let text = errors.to_string();
            if key == WHOLE_FILE || text.contains(&format!(": {key}: ")) {
                println!("{text}");
                Ok(())
            } else {
                Err(format!("the message does not show {key}:\n{text}"))
            }
        }
        Err(errors) => Err(format!("refused, but not naming {key}:\n{errors}")),
    }
}

#[test]
fn every_fixture_is_accepted_or_refused_as_its_directory_and_header_say() {
    let material = Material::new();
    let system_roots = !rustls_native_certs::load_native_certs().certs.is_empty();
    let (good, bad) = (fixtures("good"), fixtures("bad"));
    assert!(!good.is_empty() && !bad.is_empty(), "no fixtures found");

    let mut failures = Vec::new();
    for (kind, files) in [("good", &good), ("bad", &bad)] {
        for fixture in files {
            let name = fixture
                .file_name()
                .and_then(|n| n.to_str())
                .expect("a UTF-8 file name");
            let text = std::fs::read_to_string(fixture).expect("fixture readable");
            let header = header(&text);
            // Each fixture in a directory of its own, beside fresh material.
            let dir = tempfile::tempdir().expect("tempdir");
            let outcome = material
                .install(dir.path(), name, &text)
                .and_then(|path| match kind {
                    "good" => check_good(&path, &header, system_roots),
                    _ => check_bad(&path, &header),
                });
            if let Err(why) = outcome {
                failures.push(format!("{kind}/{name}: {why}"));
            }
        }
    }
    println!("{} good and {} bad fixtures", good.len(), bad.len());
    assert!(
        failures.is_empty(),
        "{} fixture(s) misclassified:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
