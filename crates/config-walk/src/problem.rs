//! What a walk found wrong: one [`Problem`] per mistake, and [`Problems`], the error
//! that carries them all and prints them one per line.

use std::fmt;

use figment::value::Tag;

/// One thing wrong in a configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    key: Option<String>,
    message: String,
    tag: Tag,
    origin: Option<String>,
}

impl Problem {
    pub(crate) fn new(key: Option<String>, message: String, tag: Tag) -> Self {
        Self {
            key,
            message,
            tag,
            origin: None,
        }
    }

    /// The key path (`poll.interval`, `targets[0].region`), or `None` when the problem
    /// concerns a whole file or source (unreadable, not YAML).
    pub fn key(&self) -> Option<&str> {
        self.key.as_deref()
    }

    /// What is wrong, for a person.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The figment tag of the value concerned; [`Tag::Default`] when the problem is
    /// about no particular value (a missing key, a whole file).
    pub fn tag(&self) -> Tag {
        self.tag
    }

    /// Where the value came from (a file's path, `environment`), when known.
    pub fn origin(&self) -> Option<&str> {
        self.origin.as_deref()
    }

    pub(crate) fn set_origin(&mut self, origin: Option<String>) {
        self.origin = origin;
    }
}

/// `origin: key: message`, leaving out the parts that are not known.
impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(origin) = &self.origin {
            write!(f, "{origin}: ")?;
        }
        if let Some(key) = &self.key {
            write!(f, "{key}: ")?;
        }
        f.write_str(&self.message)
    }
}

/// Every problem found in a configuration, in the order they were found, so that one
/// edit can fix them all.
///
/// `Display` prints one problem per line, each as `origin: key: message` (see
/// [`Problem`]'s `Display`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct Problems {
    problems: Vec<Problem>,
}

impl Problems {
    pub(crate) fn new(problems: Vec<Problem>) -> Self {
        Self { problems }
    }

    /// The problems, in the order they were found.
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }
}

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(key: Option<&str>, message: &str, origin: Option<&str>) -> Problem {
        let mut problem = Problem::new(key.map(str::to_owned), message.to_owned(), Tag::Default);
        problem.set_origin(origin.map(str::to_owned));
        problem
    }

    #[test]
    fn display_prints_one_problem_per_line_with_the_parts_known() {
        let problems = Problems::new(vec![
            problem(Some("tls.cert_file"), "missing", Some("/etc/web.yml")),
            problem(None, "not YAML", Some("/etc/web.yml")),
            problem(Some("poll.timeout"), "must be above zero", None),
            problem(None, "bare", None),
            problem(Some(""), "expected a mapping, found a list", Some("w.yml")),
        ]);
        assert_eq!(
            problems.to_string(),
            "/etc/web.yml: tls.cert_file: missing\n\
             /etc/web.yml: not YAML\n\
             poll.timeout: must be above zero\n\
             bare\n\
             w.yml: : expected a mapping, found a list"
        );
        assert_eq!(problems.problems().len(), 5);
        assert_eq!(problems.problems()[1].key(), None);
        assert_eq!(problems.problems()[1].origin(), Some("/etc/web.yml"));
        assert_eq!(problems.problems()[2].message(), "must be above zero");
    }
}
