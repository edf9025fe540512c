//! `manifest.json`: what a backup holds (schema version, and per file its table, row count and
//! SHA-256), written last so a directory without one is an unfinished backup; and the hashing
//! reader and writer that compute the checksums while the files stream through.

use std::{
    io::{self, Read, Write},
    path::Path,
};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::BackupError;

/// The name of the manifest inside a backup directory.
pub const FILE_NAME: &str = "manifest.json";

/// The format of this manifest and its files; a later incompatible layout changes it.
pub const FORMAT: &str = "clientsync-backup/1";

/// What a backup directory holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Always [`FORMAT`]: says what kind of directory this is.
    pub format: String,
    /// The last migration applied to the store backed up.
    pub schema_version: String,
    /// The backend it was taken from (`postgres` or `sqlite`), for the record.
    pub backend: String,
    /// When the snapshot was taken.
    pub taken_at: DateTime<Utc>,
    /// One entry per table file, in restore order.
    pub files: Vec<FileEntry>,
}

/// One table file of a backup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// The table it holds.
    pub table: String,
    /// Its name inside the directory.
    pub file: String,
    /// How many rows it holds.
    pub rows: u64,
    /// Its size in bytes.
    pub bytes: u64,
    /// SHA-256 of its bytes, lowercase hex.
    pub sha256: String,
}

impl Manifest {
    /// Reads and parses the manifest in `dir`.
    pub fn read(dir: &Path) -> Result<Self, BackupError> {
        let path = dir.join(FILE_NAME);
        let text = std::fs::read_to_string(&path).map_err(|source| match source.kind() {
            std::io::ErrorKind::NotFound => BackupError::NoBackup {
                path: dir.display().to_string(),
            },
            _ => BackupError::Io {
                path: path.display().to_string(),
                source,
            },
        })?;
        let manifest: Manifest = serde_json::from_str(&text).map_err(|e| BackupError::BadManifest {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        if manifest.format != FORMAT {
            return Err(BackupError::BadManifest {
                path: path.display().to_string(),
                reason: format!("format is `{}`, this build reads `{FORMAT}`", manifest.format),
            });
        }
        Ok(manifest)
    }

    /// Writes the manifest into `dir`.
    pub fn write(&self, dir: &Path) -> Result<(), BackupError> {
        let path = dir.join(FILE_NAME);
        let mut text = serde_json::to_string_pretty(self).map_err(|e| BackupError::BadManifest {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        text.push('\n');
        std::fs::write(&path, text).map_err(|source| BackupError::Io {
            path: path.display().to_string(),
            source,
        })
    }
}

/// A writer that hashes and counts what passes through it.
pub struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W: Write> HashingWriter<W> {
    /// Wraps `inner`.
    pub fn new(inner: W) -> Self {
        Self {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
        }
    }

    /// The inner writer, the byte count and the hex SHA-256 of everything written.
    pub fn finish(self) -> (W, u64, String) {
        (self.inner, self.bytes, hex::encode(self.hasher.finalize()))
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A reader that hashes what is read through it.
pub struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
}

impl<R: Read> HashingReader<R> {
    /// Wraps `inner`.
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            hasher: Sha256::new(),
        }
    }

    /// Reads what is left to the end, and returns the hex SHA-256 of the whole stream.
    pub fn finish(mut self) -> io::Result<String> {
        io::copy(&mut self, &mut io::sink())?;
        Ok(hex::encode(self.hasher.finalize()))
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}
