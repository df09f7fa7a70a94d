//! Reading the configuration file and the files it names, and fingerprinting them so a
//! reload can tell, cheaply and exactly, whether anything changed.
//!
//! The fingerprint is a SHA-256 over every file's path and bytes, not mtimes: Kubernetes
//! updates Secret volumes by swapping a symlink, and a copied file can keep its old mtime.
//! The files are small (a YAML file and a few PEM files), so reading them on each check
//! costs microseconds.

use std::io::{self, Read};
use std::path::{Path, PathBuf};

use ring::digest::{Context, SHA256};

/// The most read of one file: far more than any configuration or PEM bundle (the system's
/// whole trust store is a few hundred KiB), and a bound when a key names a device or a
/// growing file (`/dev/zero`, a log) by mistake.
pub(crate) const MAX_FILE_BYTES: u64 = 4 << 20;

/// Reads all of `path`, refusing one over [`MAX_FILE_BYTES`].
fn read_bounded(path: &Path) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "larger than {} MiB: not a configuration or PEM file",
                MAX_FILE_BYTES >> 20
            ),
        ));
    }
    Ok(bytes)
}

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
        let result = read_bounded(path);
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
    fn a_device_or_an_oversized_file_is_refused_not_read_to_the_end() {
        let mut reader = Reader::default();
        let err = reader.read(Path::new("/dev/zero")).expect_err("unbounded");
        assert_eq!(err.kind(), io::ErrorKind::InvalidData, "{err}");
        assert!(err.to_string().contains("larger than 4 MiB"), "{err}");
        let dir = tempfile::tempdir().expect("tempdir");
        let exact = dir.path().join("exact.pem");
        let size = usize::try_from(MAX_FILE_BYTES).expect("fits");
        std::fs::write(&exact, vec![b'a'; size]).expect("write");
        assert_eq!(reader.read(&exact).expect("at the limit").len(), size);
    }

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
