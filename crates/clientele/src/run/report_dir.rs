//! The files of a report directory (`segments.<ext>`, `summary.md`, `summary.json`,
//! `report.html`, and when there are any `rejects.csv`, `migration.csv` and
//! `cluster_model.json`): one writer for `clientele report` and for a run.

use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::error::{PolarsContext, Result};
use crate::ingest::{RejectedRows, Transactions};
use crate::migration::{self, Migration};
use crate::output::{OutputFormat, OutputSet, StagedFile, select_columns, stage_bytes, stage_frame};
use crate::rows::RowPolicy;
use crate::segmenter::Segmentation;
use crate::summary::Summary;

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
) -> Result<Option<RejectedRows>> {
    if result.customers.reconciliation.rejected_rows() == 0 {
        return Ok(None);
    }
    if let Some(rejects) = &result.rejects {
        return Ok(Some(rejects.clone()));
    }
    tx.rejected_rows(policy)?
        .collect_with_engine(Engine::Streaming)
        .map(|r| r.unwrap_single())
        .context(|| format!("collecting rejected rows of {}", tx.source_name()))
        .map(|frame| Some(frame.into()))
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

/// What a report directory holds beside a job's segment table: its summary (with the
/// migration since a previous run once compared), the rejected rows and the per-customer
/// changes. Built the same way by `clientele report` and by a run, and written by
/// [`ReportFiles::stage`] or [`ReportFiles::write`].
#[derive(Debug)]
pub struct ReportFiles {
    /// The segment table's format.
    pub format: OutputFormat,
    /// The segment table's columns, in order (`[output] columns`, `--columns`); all when `None`.
    pub columns: Option<Vec<String>>,
    /// The job's summary, rendered into `summary.md`, `summary.json` and `report.html`.
    pub summary: Summary,
    /// Rejected input rows with their reason (`rejects.csv`), when there are any.
    pub rejects: Option<RejectedRows>,
    /// Another CSV file the rejected rows go to beside `rejects.csv` (`--rejects R.csv`):
    /// encoded once and written with the directory's files, not copied after them.
    pub rejects_copy: Option<PathBuf>,
    /// One row per customer of either run (`migration.csv`): previous and current segment,
    /// ABC class, RFM score, monetary value and `movement` (up, down, same, new, gone).
    pub changes: Option<DataFrame>,
}

impl ReportFiles {
    /// The files of `result`, with its summary; no rejects or changes yet.
    ///
    /// # Errors
    ///
    /// The summary's errors (see [`Segmentation::summary`]).
    pub fn new(result: &Segmentation, format: OutputFormat) -> Result<ReportFiles> {
        Ok(ReportFiles {
            format,
            columns: None,
            summary: result.summary()?,
            rejects: None,
            rejects_copy: None,
            changes: None,
        })
    }

    /// Compares `result` with the previous segment table at `path` (a run directory or a
    /// table, see [`migration::read_previous`]): the summary gets the migration and the
    /// directory `migration.csv`. Returns the migration.
    ///
    /// # Errors
    ///
    /// Errors of reading the previous table (then nothing changes) and of comparing.
    pub fn compare_with(&mut self, path: &Path, result: &Segmentation) -> Result<&Migration> {
        let (previous, as_of) = migration::read_previous(path)?;
        let (mut moved, changes) = migration::compare(&previous, &result.frame, &path.display().to_string())?;
        moved.previous_as_of = as_of;
        self.changes = Some(changes);
        Ok(self.summary.migration.insert(moved))
    }

    /// The names of the files, in the order they are written (see [`report_file_names`]).
    pub fn names(&self, result: &Segmentation) -> Vec<String> {
        report_file_names(
            self.format,
            self.rejects.is_some(),
            self.changes.is_some(),
            result.clusters.is_some(),
        )
    }

    /// Stages the files for `dir` into `set`, committed by the caller with its other outputs;
    /// `cluster_model.json` is the fitted model of `result`, reusable with `--model`.
    ///
    /// # Errors
    ///
    /// I/O and encoding errors.
    pub fn stage(&self, dir: &Path, result: &Segmentation, set: &mut OutputSet) -> Result<()> {
        use rayon::prelude::*;
        // Each file is encoded on its own (the rejected rows can be most of the work).
        let staged: Vec<Result<Vec<StagedFile>>> = self
            .names(result)
            .par_iter()
            .map(|name| self.stage_file(dir, name, result))
            .collect();
        for files in staged {
            for file in files? {
                set.push(file);
            }
        }
        Ok(())
    }

    /// Stages the file `name` of the directory (and, for `rejects.csv`, its copy).
    fn stage_file(&self, dir: &Path, name: &str, result: &Segmentation) -> Result<Vec<StagedFile>> {
        let path = dir.join(name);
        if name == "rejects.csv" {
            return self.stage_rejects(&path);
        }
        Ok(vec![match name {
            "summary.md" => stage_bytes(&path, self.summary.to_markdown().as_bytes())?,
            "summary.json" => stage_bytes(&path, self.summary.to_json().as_bytes())?,
            "report.html" => stage_bytes(&path, self.summary.to_html().as_bytes())?,
            "migration.csv" => stage_frame(
                self.changes.as_ref().expect("named when present"),
                &path,
                OutputFormat::Csv,
            )?,
            "cluster_model.json" => {
                let model = &result.clusters.as_ref().expect("named when present").model;
                stage_bytes(&path, model.to_json().as_bytes())?
            }
            _ => match &self.columns {
                Some(names) => stage_frame(&select_columns(&result.frame, names)?, &path, self.format)?,
                None => stage_frame(&result.frame, &path, self.format)?,
            },
        }])
    }

    /// Stages `rejects.csv` at `path`, and the same bytes at [`ReportFiles::rejects_copy`].
    fn stage_rejects(&self, path: &Path) -> Result<Vec<StagedFile>> {
        let rejects = self.rejects.as_ref().expect("named when present");
        let Some(copy) = &self.rejects_copy else {
            return Ok(vec![rejects.stage(path, OutputFormat::Csv)?]);
        };
        let mut bytes = Vec::new();
        rejects.write_csv(&mut bytes)?;
        // Both files written (and synced) at once.
        let (file, copied) = rayon::join(|| stage_bytes(path, &bytes), || stage_bytes(copy, &bytes));
        Ok(vec![file?, copied?])
    }

    /// Writes the files into `dir` and puts them in place together (see
    /// [`ReportFiles::stage`]). Returns the paths written.
    ///
    /// # Errors
    ///
    /// I/O and encoding errors; then no file in `dir` has changed.
    pub fn write(&self, dir: &Path, result: &Segmentation) -> Result<Vec<PathBuf>> {
        let mut set = OutputSet::new();
        self.stage(dir, result, &mut set)?;
        let written = set.targets().into_iter().map(Path::to_path_buf).collect();
        set.commit()?;
        Ok(written)
    }
}
