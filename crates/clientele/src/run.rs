//! A whole job from a [`RunConfig`], written atomically into its output directory, with a
//! manifest: what `clientele run --config clientele.toml` does (e.g. nightly from cron).
//!
//! A run writes every file into a temporary directory beside the output directory
//! (`.NAME.tmp-PID`), then swaps it into place in one step (Linux `renameat2(RENAME_EXCHANGE)`;
//! elsewhere two renames). Readers see the previous run or the new one, never a mix; a run
//! killed midway leaves the previous output untouched, and its temporary directory is removed
//! by the next run. Concurrent runs on one directory are refused through a lock file
//! (`.NAME.lock`, held with `flock`, so it frees itself when a run dies).

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::NaiveDate;
use polars::prelude::*;
use rayon::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::config::{InputKindConfig, RunConfig};
use crate::error::{Error, PolarsContext, Result};
use crate::ingest::{self, Transactions};
use crate::migration;
use crate::output::{OutputFormat, OutputSet, stage_bytes, stage_frame, write_bytes};
use crate::report::Summary;
use crate::rows::{AsOf, RowPolicy, RowReconciliation};
use crate::segmenter::Segmentation;

/// Name of the manifest in a run directory.
pub const MANIFEST: &str = "manifest.json";

/// A callback told each finished stage's name and duration in seconds.
pub type StageHook = dyn Fn(&str, f64) + Send + Sync;

/// Options of a run that are not in its configuration.
#[derive(Default)]
pub struct RunOptions {
    /// Compare with this earlier run instead of the configuration's `previous`.
    pub previous: Option<PathBuf>,
    /// The configuration file's bytes, hashed into the manifest (the file's path is
    /// [`RunOptions::config_path`]).
    pub config_bytes: Option<Vec<u8>>,
    /// The configuration file, as named by the user.
    pub config_path: Option<PathBuf>,
    /// Called after each stage with its name and duration in seconds: for logs and progress,
    /// and for tests that interrupt a run at a given stage.
    pub on_stage: Option<Box<StageHook>>,
}

impl std::fmt::Debug for RunOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunOptions")
            .field("previous", &self.previous)
            .field("config_path", &self.config_path)
            .finish_non_exhaustive()
    }
}

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

/// What a run produced.
#[derive(Debug)]
pub struct RunOutcome {
    /// The output directory, now holding the run.
    pub dir: PathBuf,
    /// Its manifest.
    pub manifest: Manifest,
    /// The job's summary.
    pub summary: Summary,
}

struct Stages<'a> {
    start: Instant,
    last: Instant,
    done: Vec<StageTiming>,
    hook: Option<&'a StageHook>,
}

impl Stages<'_> {
    fn finish(&mut self, stage: &str) {
        let now = Instant::now();
        let seconds = (now - self.last).as_secs_f64();
        self.last = now;
        log::debug!("{stage}: {seconds:.3} s");
        self.done.push(StageTiming {
            stage: stage.to_string(),
            seconds,
        });
        if let Some(hook) = self.hook {
            hook(stage, seconds);
        }
    }
}

/// Runs the job of `config` and replaces its output directory with the result.
///
/// # Errors
///
/// Every error of reading, segmenting and writing; [`Error::Busy`] when another run holds the
/// output directory; [`Error::UnsupportedInput`] when the output directory exists but is not
/// a clientele run (it would be replaced as a whole). On error the previous output is intact.
pub fn execute(config: &RunConfig, options: &RunOptions) -> Result<RunOutcome> {
    let started_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let start = Instant::now();
    let mut stages = Stages {
        start,
        last: start,
        done: Vec::new(),
        hook: options.on_stage.as_deref(),
    };
    let out = config.output.dir.clone();
    let format = config.output_format()?;
    // The rejected rows come from the pass that reads the input (see `rejected_rows`).
    let segmenter = config.segmenter()?.collect_rejects(true);
    let ingest_options = config.ingest_options()?;
    let customer_table = config.input.kind == InputKindConfig::Customers;
    let files = ingest::input_files(&config.input.paths, &ingest_options)?;
    check_inputs_outside(&files.files, &out)?;
    let workspace = Workspace::open(&out)?;
    stages.finish("check");

    let inputs = hash_files(&files.files)?;
    stages.finish("hash-inputs");

    let (tx, result) = if customer_table {
        let table = crate::customers::pre_aggregated::scan(&config.input.paths, &ingest_options)?;
        let result = segmenter.run_customer_table(&table)?;
        (table, result)
    } else {
        let tx = ingest::scan_many(&config.input.paths, &ingest_options)?;
        let result = segmenter.run(&tx)?;
        (tx, result)
    };
    let mut summary = result.summary()?;
    log::info!(
        "{}: {}; {} customers as of {}",
        tx.source_name(),
        result.customers.reconciliation.one_line(),
        result.frame.height(),
        result.customers.as_of
    );
    stages.finish("segment");

    let previous_path = options.previous.as_ref().or(config.previous.as_ref());
    let mut changes = None;
    let mut previous = None;
    if let Some(path) = previous_path {
        match migration::read_previous(path) {
            Ok((table, as_of)) => {
                let name = path.display().to_string();
                let (mut m, per_customer) = migration::compare(&table, &result.frame, &name)?;
                m.previous_as_of = as_of.clone();
                log::info!(
                    "since {name}: {} up, {} down, {} new, {} gone",
                    m.moved_up,
                    m.moved_down,
                    m.new_customers,
                    m.gone_customers
                );
                summary.migration = Some(m);
                changes = Some(per_customer);
                previous = Some(PreviousRecord { path: name, as_of });
            }
            // The first run of a nightly job has nothing to compare with yet.
            Err(Error::Io { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound && path == &config.output.dir =>
            {
                log::info!("no previous run in {} yet: nothing to compare", path.display());
            }
            Err(e) => return Err(e),
        }
        stages.finish("compare");
    }

    let rejects = rejected_rows(&tx, segmenter.row_policy(), &result)?;
    let written = write_report_files(
        workspace.temp(),
        &result,
        &summary,
        format,
        rejects.as_ref(),
        changes.as_ref(),
    )?;
    stages.finish("write");

    let outputs = hash_files(&written)?
        .into_iter()
        .map(|mut record| {
            record.path = file_name(Path::new(&record.path));
            record
        })
        .collect();
    stages.finish("hash-outputs");
    let total_seconds = (Instant::now() - stages.start).as_secs_f64();
    let manifest = Manifest {
        clientele_version: env!("CARGO_PKG_VERSION"),
        config: ConfigRecord {
            path: options.config_path.as_ref().map(|p| p.display().to_string()),
            sha256: options.config_bytes.as_deref().map(sha256_hex),
            settings: config.clone(),
        },
        inputs,
        previous,
        as_of: result.customers.as_of,
        as_of_policy: result.customers.as_of_policy,
        rows: result.customers.reconciliation.clone(),
        customers: result.frame.height(),
        outputs,
        timings: Timings {
            started_at,
            stages: stages.done.clone(),
            total_seconds,
        },
    };
    let text = serde_json::to_string_pretty(&manifest).expect("the manifest serializes");
    write_bytes(workspace.temp().join(MANIFEST), text.as_bytes())?;
    stages.finish("manifest");
    workspace.commit()?;
    stages.finish("swap");
    log::info!("wrote the run into {}", out.display());
    Ok(RunOutcome {
        dir: out,
        manifest,
        summary,
    })
}

/// The rejected input rows of a job (see [`Transactions::rejected_rows`]): those its pass
/// collected (see [`crate::Segmenter::collect_rejects`]), else read by a second, streaming pass
/// over the input; `None` when the job rejected nothing.
///
/// # Errors
///
/// Read errors.
pub fn rejected_rows(
    tx: &Transactions,
    policy: &RowPolicy,
    result: &Segmentation,
) -> Result<Option<DataFrame>> {
    if result.customers.reconciliation.rejected_rows() == 0 {
        return Ok(None);
    }
    if let Some(rejects) = &result.rejects {
        return Ok(Some(rejects.clone()));
    }
    tx.rejected_rows(policy)
        .collect_with_engine(Engine::Streaming)
        .map(|r| r.unwrap_single())
        .context(|| format!("collecting rejected rows of {}", tx.source_name()))
        .map(Some)
}

/// Writes a job's files into `dir` and puts them in place together (see
/// [`stage_report_files`]). Returns the paths written.
///
/// # Errors
///
/// I/O and encoding errors; then no file in `dir` has changed.
pub fn write_report_files(
    dir: &Path,
    result: &Segmentation,
    summary: &Summary,
    format: OutputFormat,
    rejects: Option<&DataFrame>,
    changes: Option<&DataFrame>,
) -> Result<Vec<PathBuf>> {
    let mut set = OutputSet::new();
    stage_report_files(dir, result, summary, format, rejects, changes, &mut set)?;
    let written = set.targets().into_iter().map(Path::to_path_buf).collect();
    set.commit()?;
    Ok(written)
}

/// The names of the files a job writes into its directory, in the order they are written:
/// `segments.<ext>`, `summary.md`, `summary.json`, `report.html`, and when there are any
/// `rejects.csv`, `migration.csv` and `cluster_model.json`.
pub fn report_file_names(format: OutputFormat, rejects: bool, changes: bool, clusters: bool) -> Vec<String> {
    let mut names = vec![
        format!("segments.{}", format.extension()),
        "summary.md".into(),
        "summary.json".into(),
        "report.html".into(),
    ];
    names.extend(rejects.then(|| "rejects.csv".into()));
    names.extend(changes.then(|| "migration.csv".into()));
    names.extend(clusters.then(|| "cluster_model.json".into()));
    names
}

/// Stages a job's files for `dir` into `set` (committed by the caller with its other
/// outputs): `segments.<ext>`, `summary.md`, `summary.json`, `report.html`, and when there are
/// any `rejects.csv` (rejected input rows with their reason), `migration.csv` (one row per
/// customer of either run: previous and current segment, ABC class, RFM score, monetary value
/// and `movement`: up, down, same, new, gone) and `cluster_model.json` (a fitted model,
/// reusable with `--model`).
///
/// # Errors
///
/// I/O and encoding errors.
pub fn stage_report_files(
    dir: &Path,
    result: &Segmentation,
    summary: &Summary,
    format: OutputFormat,
    rejects: Option<&DataFrame>,
    changes: Option<&DataFrame>,
    set: &mut OutputSet,
) -> Result<()> {
    let names = report_file_names(
        format,
        rejects.is_some(),
        changes.is_some(),
        result.clusters.is_some(),
    );
    for name in names {
        let path = dir.join(&name);
        let staged = match name.as_str() {
            "summary.md" => stage_bytes(&path, summary.to_markdown().as_bytes())?,
            "summary.json" => stage_bytes(&path, summary.to_json().as_bytes())?,
            "report.html" => stage_bytes(&path, summary.to_html().as_bytes())?,
            "rejects.csv" => stage_frame(rejects.expect("named when present"), &path, OutputFormat::Csv)?,
            "migration.csv" => stage_frame(changes.expect("named when present"), &path, OutputFormat::Csv)?,
            "cluster_model.json" => {
                let model = &result.clusters.as_ref().expect("named when present").model;
                stage_bytes(&path, model.to_json().as_bytes())?
            }
            _ => stage_frame(&result.frame, &path, format)?,
        };
        set.push(staged);
    }
    Ok(())
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
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

/// The output directory's lock and the temporary directory a run writes into.
#[derive(Debug)]
struct Workspace {
    target: PathBuf,
    temp: PathBuf,
    // Held for the whole run; closing it releases the flock.
    _lock: File,
    committed: bool,
}

impl Workspace {
    fn open(target: &Path) -> Result<Workspace> {
        let parent = crate::output::parent_dir(target);
        let name = file_name(target);
        std::fs::create_dir_all(&parent).map_err(|e| Error::io("cannot create", &parent, e))?;
        if target.exists() {
            check_replaceable(target)?;
        }
        let lock_path = parent.join(format!(".{name}.lock"));
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| Error::io("cannot create", &lock_path, e))?;
        match rustix::fs::flock(&lock, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => {}
            Err(rustix::io::Errno::WOULDBLOCK) => {
                return Err(Error::Busy {
                    dir: target.to_path_buf(),
                    lock: lock_path,
                });
            }
            Err(e) => return Err(Error::io("cannot lock", &lock_path, e.into())),
        }
        // Leftovers of runs that died (we hold the lock: none of them is running).
        let prefixes = [format!(".{name}.tmp-"), format!(".{name}.old-")];
        let entries = std::fs::read_dir(&parent).map_err(|e| Error::io("cannot list", &parent, e))?;
        for entry in entries.flatten() {
            let entry_name = entry.file_name().to_string_lossy().into_owned();
            if prefixes.iter().any(|p| entry_name.starts_with(p.as_str())) {
                log::warn!("removing {}, left by an interrupted run", entry.path().display());
                std::fs::remove_dir_all(entry.path())
                    .map_err(|e| Error::io("cannot remove", entry.path(), e))?;
            }
        }
        let temp = parent.join(format!(".{name}.tmp-{}", std::process::id()));
        std::fs::create_dir(&temp).map_err(|e| Error::io("cannot create", &temp, e))?;
        Ok(Workspace {
            target: target.to_path_buf(),
            temp,
            _lock: lock,
            committed: false,
        })
    }

    fn temp(&self) -> &Path {
        &self.temp
    }

    /// Swaps the temporary directory into place and removes the previous run.
    fn commit(mut self) -> Result<()> {
        sync_dir(&self.temp)?;
        if self.target.exists() {
            check_replaceable(&self.target)?;
            if !exchange(&self.temp, &self.target)? {
                // No atomic exchange here: move the old run aside, then the new one in.
                let old = self.temp.with_file_name(format!(
                    ".{}.old-{}",
                    file_name(&self.target),
                    std::process::id()
                ));
                std::fs::rename(&self.target, &old)
                    .map_err(|e| Error::io("cannot move aside", &self.target, e))?;
                std::fs::rename(&self.temp, &self.target)
                    .map_err(|e| Error::io("cannot rename into", &self.target, e))?;
                std::fs::rename(&old, &self.temp).map_err(|e| Error::io("cannot rename", &old, e))?;
            }
            // `temp` now holds the previous run.
            std::fs::remove_dir_all(&self.temp).map_err(|e| Error::io("cannot remove", &self.temp, e))?;
        } else {
            std::fs::rename(&self.temp, &self.target)
                .map_err(|e| Error::io("cannot rename into", &self.target, e))?;
        }
        if let Some(parent) = self.target.parent().filter(|p| !p.as_os_str().is_empty()) {
            sync_dir(parent)?;
        }
        self.committed = true;
        Ok(())
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.temp);
        }
    }
}

/// A run replaces its output directory as a whole: an input inside it would be lost.
fn check_inputs_outside(inputs: &[PathBuf], out: &Path) -> Result<()> {
    let Ok(out_dir) = std::fs::canonicalize(out) else {
        return Ok(()); // not there yet: holds no input
    };
    for input in inputs {
        if std::fs::canonicalize(input).is_ok_and(|p| p.starts_with(&out_dir)) {
            return Err(Error::SameFile {
                output: out.to_path_buf(),
                output_role: "the run's output directory, replaced as a whole".into(),
                other: input.clone(),
                other_role: "input".into(),
            });
        }
    }
    Ok(())
}

/// An existing output directory is replaced as a whole, so it must be an earlier run (or
/// empty): never a directory of the user's own files.
fn check_replaceable(target: &Path) -> Result<()> {
    let not_a_run = |detail: &str| Error::UnsupportedInput {
        source_name: target.display().to_string(),
        detail: detail.to_string(),
    };
    if !target.is_dir() {
        return Err(not_a_run(
            "exists and is not a directory: a run's output must be a directory",
        ));
    }
    let empty = std::fs::read_dir(target)
        .map_err(|e| Error::io("cannot list", target, e))?
        .next()
        .is_none();
    if empty || target.join(MANIFEST).is_file() {
        Ok(())
    } else {
        Err(not_a_run(
            "exists but is not a clientele run (no manifest.json): a run replaces its output directory \
             as a whole, so choose a new or empty directory",
        ))
    }
}

#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> Result<bool> {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    match renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE) {
        Ok(()) => Ok(true),
        // File systems without RENAME_EXCHANGE.
        Err(rustix::io::Errno::INVAL | rustix::io::Errno::NOSYS | rustix::io::Errno::OPNOTSUPP) => Ok(false),
        Err(e) => Err(Error::io("cannot swap into", b, e.into())),
    }
}

#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> Result<bool> {
    Ok(false)
}

fn sync_dir(dir: &Path) -> Result<()> {
    let handle = File::open(dir).map_err(|e| Error::io("cannot open", dir, e))?;
    // Some file systems refuse fsync on directories; the data files are synced already.
    let _ = handle.sync_all();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workspace_swaps_and_cleans_up() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("latest");
        let ws = Workspace::open(&out).unwrap();
        std::fs::write(ws.temp().join(MANIFEST), "1").unwrap();
        ws.commit().unwrap();
        assert_eq!(std::fs::read_to_string(out.join(MANIFEST)).unwrap(), "1");

        // A second run replaces the first; an abandoned run changes nothing.
        let ws = Workspace::open(&out).unwrap();
        std::fs::write(ws.temp().join(MANIFEST), "2").unwrap();
        let busy = Workspace::open(&out).unwrap_err();
        assert!(matches!(busy, Error::Busy { .. }), "{busy}");
        ws.commit().unwrap();
        assert_eq!(std::fs::read_to_string(out.join(MANIFEST)).unwrap(), "2");
        let ws = Workspace::open(&out).unwrap();
        std::fs::write(ws.temp().join(MANIFEST), "3").unwrap();
        drop(ws);
        assert_eq!(std::fs::read_to_string(out.join(MANIFEST)).unwrap(), "2");
        let mut names: Vec<String> = std::fs::read_dir(root.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, [".latest.lock", "latest"]);
    }

    #[test]
    fn user_directories_are_never_replaced() {
        let root = tempfile::tempdir().unwrap();
        std::fs::write(root.path().join("thesis.docx"), "precious").unwrap();
        let err = Workspace::open(root.path()).unwrap_err();
        assert!(err.to_string().contains("not a clientele run"), "{err}");
        assert!(root.path().join("thesis.docx").exists());
    }

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
