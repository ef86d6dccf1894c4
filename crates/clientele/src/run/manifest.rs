//! A run's manifest: what it read, wrote and took, with sizes and SHA-256 hashes.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use rayon::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::file_name;
use crate::config::RunConfig;
use crate::error::{Error, Result};
use crate::rows::{AsOf, RowReconciliation};

/// Name of the manifest in a run directory.
pub const MANIFEST: &str = "manifest.json";

/// What a run wrote and why: `manifest.json` in the run directory.
#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    /// The clientele version.
    pub clientele_version: &'static str,
    /// The configuration file and its hash, and the settings as read (paths resolved).
    pub config: ConfigRecord,
    /// Every input file with its size and content hash.
    pub inputs: Vec<FileRecord>,
    /// The earlier run compared with, if any.
    pub previous: Option<PreviousRecord>,
    /// The as-of date used.
    pub as_of: NaiveDate,
    /// How it was chosen.
    pub as_of_policy: AsOf,
    /// Input rows by fate.
    pub rows: RowReconciliation,
    /// Customers in the segment table.
    pub customers: usize,
    /// Every file of the run directory (but the manifest) with its size and hash.
    pub outputs: Vec<FileRecord>,
    /// When the run started and how long each stage took: the only part that differs
    /// between two runs of the same inputs and configuration.
    pub timings: Timings,
}

/// The configuration of a run.
#[derive(Debug, Clone, Serialize)]
pub struct ConfigRecord {
    /// The file as named by the user.
    pub path: Option<String>,
    /// SHA-256 of its bytes.
    pub sha256: Option<String>,
    /// The settings as read.
    pub settings: RunConfig,
}

/// A file with its size and SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileRecord {
    /// Path (inputs) or file name (outputs).
    pub path: String,
    /// Size in bytes.
    pub bytes: u64,
    /// SHA-256, hex.
    pub sha256: String,
}

/// The earlier run a run compared with.
#[derive(Debug, Clone, Serialize)]
pub struct PreviousRecord {
    /// Its directory or table.
    pub path: String,
    /// Its as-of date, when its manifest or summary says.
    pub as_of: Option<String>,
}

/// Wall-clock facts of a run.
#[derive(Debug, Clone, Serialize)]
pub struct Timings {
    /// Start, UTC, RFC 3339.
    pub started_at: String,
    /// Seconds per stage, in order.
    pub stages: Vec<StageTiming>,
    /// Seconds from start to the manifest.
    pub total_seconds: f64,
}

/// One stage's duration.
#[derive(Debug, Clone, Serialize)]
pub struct StageTiming {
    /// `hash-inputs`, `segment`, `compare`, `write`, ...
    pub stage: String,
    /// Seconds.
    pub seconds: f64,
}

/// SHA-256 of bytes, lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Sizes and SHA-256 of files, hashed in parallel, in the order given.
///
/// # Errors
///
/// [`Error::Io`] when a file cannot be read.
pub fn hash_files(files: &[PathBuf]) -> Result<Vec<FileRecord>> {
    files
        .par_iter()
        .map(|path| {
            let mut file = File::open(path).map_err(|e| Error::io("cannot read", path, e))?;
            let mut hasher = Sha256::new();
            let mut buffer = vec![0u8; 1 << 20];
            let mut bytes = 0u64;
            loop {
                let n = file
                    .read(&mut buffer)
                    .map_err(|e| Error::io("cannot read", path, e))?;
                if n == 0 {
                    break;
                }
                bytes += n as u64;
                hasher.update(&buffer[..n]);
            }
            Ok(FileRecord {
                path: path.display().to_string(),
                bytes,
                sha256: hex(&hasher.finalize()),
            })
        })
        .collect()
}

/// Hashes of the files a run wrote, named by file name (they all are in the run directory).
///
/// # Errors
///
/// [`Error::Io`] when a file cannot be read.
pub(super) fn hash_outputs(files: &[PathBuf]) -> Result<Vec<FileRecord>> {
    Ok(hash_files(files)?
        .into_iter()
        .map(|mut record| {
            record.path = file_name(Path::new(&record.path));
            record
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_sha256() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("abc.txt");
        std::fs::write(&path, "abc").unwrap();
        let records = hash_files(&[path]).unwrap();
        assert_eq!(records[0].bytes, 3);
        assert_eq!(
            records[0].sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
