//! A whole job from a [`RunConfig`](crate::config::RunConfig), written atomically into its
//! output directory, with a manifest: what `clientele run --config clientele.toml` does (e.g.
//! nightly from cron).
//!
//! A run writes every file into a temporary directory beside the output directory
//! (`.NAME.tmp-PID`), then swaps it into place in one step (Linux `renameat2(RENAME_EXCHANGE)`;
//! elsewhere two renames). Readers see the previous run or the new one, never a mix; a run
//! killed midway leaves the previous output untouched, and its temporary directory is removed
//! by the next run. Concurrent runs on one directory are refused through a lock file
//! (`.NAME.lock`, held with `flock`, so it frees itself when a run dies).
//!
//! The job ([`execute`]) is in `job.rs`, the manifest and file hashes in `manifest.rs`, the
//! locked, swapped output directory in `workspace.rs`; the files of a report directory, written
//! alike by a run and by `clientele report`, in `report_dir.rs`.

use std::path::Path;

mod job;
mod manifest;
mod report_dir;
mod workspace;

pub use job::{RunOptions, RunOutcome, StageHook, execute};
pub use manifest::{
    ConfigRecord, FileRecord, MANIFEST, Manifest, PreviousRecord, StageTiming, Timings, hash_files,
    sha256_hex,
};
pub use report_dir::{ReportFiles, rejected_rows, report_file_names};

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}
