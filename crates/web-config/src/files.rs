//! Reading the configuration file and the files it names, and fingerprinting them so a
//! reload can tell, cheaply and exactly, whether anything changed.
//!
//! The fingerprint is a SHA-256 over every file's path and bytes, not mtimes: Kubernetes
//! updates Secret volumes by swapping a symlink, and a copied file can keep its old mtime.
//! The files are small (a YAML file and a few PEM files), so reading them on each check
//! costs microseconds.

use std::io;
use std::path::{Path, PathBuf};

use ring::digest::{Context, SHA256};

/// The files a configuration was built from, and the digest of what they held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Sources {
    paths: Vec<PathBuf>,
    digest: Vec<u8>,
}

impl Sources {
    /// The digest the same files have now. A file that cannot be read counts as a
    /// change (its error is hashed), so the next reload reports it.
    pub(crate) fn current_digest(&self) -> Vec<u8> {
        let mut reader = Reader::default();
        for path in &self.paths {
            // Errors are already folded into the digest by `read`.
            let _ = reader.read(path);
        }
        reader.finish().digest
    }

    pub(crate) fn digest(&self) -> &[u8] {
        &self.digest
    }
}

/// Reads files while accumulating their fingerprint.
pub(crate) struct Reader {
    paths: Vec<PathBuf>,
    context: Context,
}

impl Default for Reader {
    fn default() -> Self {
        Self {
            paths: Vec::new(),
            context: Context::new(&SHA256),
        }
    }
}

impl Reader {
    pub(crate) fn read(&mut self, path: &Path) -> io::Result<Vec<u8>> {
        self.paths.push(path.to_path_buf());
        let path_bytes = path.as_os_str().as_encoded_bytes();
        self.context
            .update(&(path_bytes.len() as u64).to_be_bytes());
        self.context.update(path_bytes);
        let result = std::fs::read(path);
        match &result {
            Ok(bytes) => {
                self.context.update(&[1]);
                self.context.update(&(bytes.len() as u64).to_be_bytes());
                self.context.update(bytes);
            }
            Err(e) => {
                self.context.update(&[0]);
                self.context.update(format!("{:?}", e.kind()).as_bytes());
            }
        }
        result
    }

    pub(crate) fn finish(self) -> Sources {
        Sources {
            paths: self.paths,
            digest: self.context.finish().as_ref().to_vec(),
        }
    }
}

/// Resolves a path from the file against the file's directory, as the toolkit does.
pub(crate) fn resolve(base_dir: &Path, path: &str) -> PathBuf {
    let path = Path::new(path);
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        base_dir.join(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_changes_with_content_and_with_a_missing_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = dir.path().join("a.pem");
        std::fs::write(&a, "one").expect("write");
        let mut reader = Reader::default();
        assert_eq!(reader.read(&a).expect("readable"), b"one");
        let sources = reader.finish();
        assert_eq!(sources.current_digest(), sources.digest());

        std::fs::write(&a, "two").expect("write");
        let changed = sources.current_digest();
        assert_ne!(changed, sources.digest());

        std::fs::remove_file(&a).expect("remove");
        let missing = sources.current_digest();
        assert_ne!(missing, changed);
        assert_ne!(missing, sources.digest());
    }

    #[test]
    fn relative_paths_resolve_against_the_config_directory() {
        assert_eq!(
            resolve(Path::new("/etc/exporter"), "tls/server.crt"),
            Path::new("/etc/exporter/tls/server.crt")
        );
        assert_eq!(
            resolve(Path::new("/etc/exporter"), "/srv/server.crt"),
            Path::new("/srv/server.crt")
        );
    }
}
