//! The job of a run: check, hash the inputs, segment, compare, write, hash the outputs, swap.

use std::path::{Path, PathBuf};
use std::time::Instant;

use super::manifest::{
    ConfigRecord, MANIFEST, Manifest, PreviousRecord, StageTiming, Timings, hash_files, hash_outputs,
    sha256_hex,
};
use super::report_dir::{ReportFiles, rejected_rows};
use super::workspace::{Workspace, check_inputs_outside};
use crate::config::RunConfig;
use crate::error::{Error, Result};
use crate::ingest::{self, Transactions};
use crate::output::OutputFormat;
use crate::output::write_bytes;
use crate::segmenter::{InputKind, Segmentation, Segmenter};
use crate::settings::ValidSettings;
use crate::summary::Summary;

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
    let out = config.dir.clone();
    let job = config.settings.check()?;
    let format = job.output_format.unwrap_or(OutputFormat::Parquet);
    // The rejected rows come from the pass that reads the input (see `rejected_rows`).
    let segmenter = job
        .segmenter()
        .collect_rejects(true)
        .cohorts(Some(job.cohort_period));
    let files = ingest::input_files(&config.paths, &job.ingest)?;
    check_inputs_outside(&files.files, &out)?;
    let workspace = Workspace::open(&out)?;
    stages.finish("check");

    let inputs = hash_files(&files.files)?;
    stages.finish("hash-inputs");

    let (tx, result) = segment(config, &job, &segmenter)?;
    let mut report = ReportFiles::new(&result, format)?;
    report.columns = job.output_columns.clone();
    stages.finish("segment");

    let mut previous = None;
    if let Some(path) = options.previous.as_ref().or(config.previous.as_ref()) {
        previous = compare_with_previous(&mut report, path, config, &result)?;
        stages.finish("compare");
    }

    report.rejects = rejected_rows(&tx, segmenter.row_policy(), &result)?;
    let written = report.write(workspace.temp(), &result)?;
    stages.finish("write");

    let outputs = hash_outputs(&written)?;
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
        summary: report.summary,
    })
}

/// Reads the input of `config` (a log, or a customer table aggregated elsewhere) and segments it.
fn segment(
    config: &RunConfig,
    job: &ValidSettings,
    segmenter: &Segmenter,
) -> Result<(Transactions, Segmentation)> {
    let (tx, result) = if job.input_kind == InputKind::Customers {
        let table = crate::customers::pre_aggregated::scan(&config.paths, &job.ingest)?;
        let result = segmenter.run_customer_table(&table)?;
        (table, result)
    } else {
        let tx = ingest::scan_many(&config.paths, &job.ingest)?;
        let result = segmenter.run(&tx)?;
        (tx, result)
    };
    log::info!(
        "{}: {}; {} customers as of {}",
        tx.source_name(),
        result.customers.reconciliation.one_line(),
        result.frame.height(),
        result.customers.as_of
    );
    Ok((tx, result))
}

/// Compares the run with the earlier one at `path`. The first run of a nightly job, whose
/// previous run is its own output directory, has nothing to compare with yet: `None`.
fn compare_with_previous(
    report: &mut ReportFiles,
    path: &Path,
    config: &RunConfig,
    result: &Segmentation,
) -> Result<Option<PreviousRecord>> {
    let name = path.display().to_string();
    match report.compare_with(path, result) {
        Ok(m) => {
            log::info!(
                "since {name}: {} up, {} down, {} new, {} gone",
                m.moved_up,
                m.moved_down,
                m.new_customers,
                m.gone_customers
            );
            let as_of = m.previous_as_of.clone();
            Ok(Some(PreviousRecord { path: name, as_of }))
        }
        Err(Error::Io { source, .. })
            if source.kind() == std::io::ErrorKind::NotFound && path == config.dir.as_path() =>
        {
            log::info!("no previous run in {} yet: nothing to compare", path.display());
            Ok(None)
        }
        Err(e) => Err(e),
    }
}
