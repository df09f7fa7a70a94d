//! The error type of the web configuration file: every problem found, each naming its key.

use std::fmt;
use std::path::{Path, PathBuf};

/// One problem in the web configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The dotted key path (`tls_server_config.cert_file`, `basic_auth_users.alice`), or
    /// `None` when the problem concerns the whole file (unreadable, not YAML).
    pub key: Option<String>,
    /// What is wrong, for a person. Never contains a secret (password hash, private key).
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.key {
            Some(key) => write!(f, "{key}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// Every problem found in a web configuration file, so one edit can fix them all.
///
/// `Display` prints one problem per line, each prefixed by the file and the key.
#[derive(Debug, Clone, thiserror::Error)]
pub struct WebConfigErrors {
    file: PathBuf,
    problems: Vec<Problem>,
}

impl WebConfigErrors {
    pub(crate) fn new(file: &Path, problems: Vec<Problem>) -> Self {
        Self {
            file: file.to_path_buf(),
            problems,
        }
    }

    /// The configuration file these problems were found in.
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// The problems, in the order they were found (document order, roughly).
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }
}

impl fmt::Display for WebConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{}: {problem}", self.file.display())?;
        }
        Ok(())
    }
}

/// Collects problems while the file is walked; validation never stops at the first one.
#[derive(Debug, Default)]
pub(crate) struct Problems(Vec<Problem>);

impl Problems {
    pub(crate) fn at(&mut self, key: impl Into<String>, message: impl Into<String>) {
        self.0.push(Problem {
            key: Some(key.into()),
            message: message.into(),
        });
    }

    pub(crate) fn file(&mut self, message: impl Into<String>) {
        self.0.push(Problem {
            key: None,
            message: message.into(),
        });
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many problems so far; lets a section tell whether it added any.
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    pub(crate) fn into_errors(self, file: &Path) -> WebConfigErrors {
        WebConfigErrors::new(file, self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_prints_one_problem_per_line_with_file_and_key() {
        let mut problems = Problems::default();
        problems.at("tls_server_config.cert_file", "missing");
        problems.file("not YAML");
        let errors = problems.into_errors(Path::new("/etc/web.yml"));
        assert_eq!(
            errors.to_string(),
            "/etc/web.yml: tls_server_config.cert_file: missing\n/etc/web.yml: not YAML"
        );
        assert_eq!(errors.problems().len(), 2);
    }
}
