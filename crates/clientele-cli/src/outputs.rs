//! The outputs of one command, checked before any data is read and put in place together
//! after everything succeeded.
//!
//! A command names its outputs (`-o`, `--rejects`, `--save-model`, a report directory's files)
//! to [`Outputs::check`], which refuses an output that is an input or another output, a
//! directory, or in a directory that does not exist: before anything is read. The command then
//! stages each file (written and synced under a temporary name) and calls
//! [`Outputs::commit`], which renames them all into place, or none; a table for stdout is
//! written only after the files are in place.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clientele::cluster::Clustering;
use clientele::ingest::{RejectedRows, Transactions};
use clientele::output::{NamedFile, OutputSet, StagedFile};
use clientele::polars::prelude::{DataFrame, Engine};
use clientele::{OutputFormat, RowPolicy};

use crate::args::{ClusterOptions, GlobalArgs};
use crate::cmd::{note, usage};
use clientele::settings::Settings;

/// The files a command will write, staged until [`Outputs::commit`].
pub struct Outputs<'g> {
    g: &'g GlobalArgs,
    format: Option<OutputFormat>,
    columns: Option<Vec<String>>,
    set: OutputSet,
    notes: Vec<String>,
    stdout: Option<(DataFrame, OutputFormat)>,
}

/// `-o FILE`, unless absent or `-` (stdout).
fn table_path(g: &GlobalArgs) -> Option<&Path> {
    g.output.as_deref().filter(|p| p.as_os_str() != "-")
}

impl<'g> Outputs<'g> {
    /// Checks the outputs named by the global flags (`-o`, `--rejects`) and the `extra` files
    /// (from [`Outputs::cluster_files`] or [`files_in`]) against the input files (`input`
    /// resolved as the reader will, the rules file, the cluster model) and against each other.
    /// Nothing is read or written.
    ///
    /// # Errors
    ///
    /// A usage error when an output is an input or another output; an I/O error when an
    /// output is a directory or its directory is missing.
    pub fn check(
        g: &'g GlobalArgs,
        settings: Option<&Settings>,
        input: Option<&Path>,
        extra: Vec<NamedFile>,
    ) -> anyhow::Result<Outputs<'g>> {
        let mut inputs = Vec::new();
        if let Some(settings) = settings {
            if let Some(path) = input
                && let Ok(options) = settings.ingest_options()
                && let Ok(files) = clientele::ingest::input_files(&[path.to_path_buf()], &options)
            {
                // An input that cannot be resolved is reported by the reader, with its reason.
                inputs.extend(files.files.into_iter().map(|f| NamedFile::new(f, "input")));
            }
            inputs.extend(
                settings
                    .analysis
                    .rules
                    .iter()
                    .map(|p| NamedFile::new(p, "--rules")),
            );
            let model = settings.clusters.as_ref().and_then(|c| c.model.as_ref());
            inputs.extend(model.map(|p| NamedFile::new(p, "--model")));
        }
        let extra_outputs = extra;
        let mut outputs = Vec::new();
        if let Some(path) = table_path(g) {
            outputs.push(NamedFile::new(path, "-o"));
        }
        if let Some(path) = &g.rejects {
            outputs.push(NamedFile::new(path, "--rejects"));
        }
        outputs.extend(extra_outputs);
        clientele::output::check_outputs(&inputs, &outputs)?;
        Ok(Outputs {
            g,
            format: settings.and_then(|s| s.output.format),
            columns: settings.and_then(|s| s.output.columns.clone()),
            set: OutputSet::new(),
            notes: Vec::new(),
            stdout: None,
        })
    }

    /// The file of the clustering flags: `--save-model` writes one.
    pub fn cluster_files(options: &ClusterOptions) -> Vec<NamedFile> {
        options
            .save_model
            .iter()
            .map(|p| NamedFile::new(p, "--save-model"))
            .collect()
    }

    /// The file of `--cohorts`, when given.
    ///
    /// # Errors
    ///
    /// A usage error when the input is a customer table, which has no purchase dates.
    pub fn cohort_files(path: &Option<PathBuf>, settings: &Settings) -> anyhow::Result<Vec<NamedFile>> {
        if path.is_some() && settings.input.kind == clientele::InputKind::Customers {
            return Err(usage(
                "--cohorts needs a transaction log: a customer table (--input-kind customers) has no purchase dates",
            ));
        }
        Ok(path.iter().map(|p| NamedFile::new(p, "--cohorts")).collect())
    }

    /// The cohort retention table for `--cohorts FILE` (when given), in the format of its
    /// extension (CSV otherwise).
    ///
    /// # Errors
    ///
    /// A usage error when the table was not computed (a customer table as input has no
    /// purchase dates); write errors.
    pub fn cohorts(
        &mut self,
        path: Option<&Path>,
        table: Option<&clientele::cohorts::CohortTable>,
    ) -> anyhow::Result<()> {
        let Some(path) = path else { return Ok(()) };
        let table = table.ok_or_else(|| {
            usage("--cohorts needs a transaction log: a customer table has no purchase dates per period")
        })?;
        let frame = table.to_frame()?;
        let format = OutputFormat::from_path(path).unwrap_or(OutputFormat::Csv);
        let staged = clientele::output::stage_frame(&frame, path, format)?;
        let cohorts = clientele::format::format_count(table.cohorts.len() as u64);
        self.stage(
            staged,
            format!(
                "wrote {} ({cohorts} cohorts by {})",
                path.display(),
                clientele::settings::Choice::name(table.period)
            ),
        );
        Ok(())
    }

    /// Adds a staged file, with the note printed once it is in place.
    pub fn stage(&mut self, file: StagedFile, note: String) {
        self.set.push(file);
        self.notes.push(note);
    }

    /// The set itself, for library functions that stage several files.
    pub fn set(&mut self) -> &mut OutputSet {
        &mut self.set
    }

    /// The table for `-o FILE` (staged) or stdout (written after the files), with `--columns`.
    ///
    /// # Errors
    ///
    /// A usage error for an unknown `--columns` name or output extension; write errors.
    pub fn table(&mut self, frame: &DataFrame) -> anyhow::Result<()> {
        let frame = match &self.columns {
            Some(names) => clientele::output::select_columns(frame, names)?,
            None => frame.clone(),
        };
        let path = table_path(self.g);
        let format = output_format(self.format, path)?;
        match path {
            Some(path) => {
                let staged = clientele::output::stage_frame(&frame, path, format)?;
                let rows = clientele::format::format_count(frame.height() as u64);
                self.stage(staged, format!("wrote {} ({rows} rows)", path.display()));
            }
            None => self.stdout = Some((frame, format)),
        }
        Ok(())
    }

    /// The rejected rows for `--rejects FILE`, read by a pass over the input (when given).
    ///
    /// # Errors
    ///
    /// Read and write errors.
    pub fn rejects(&mut self, tx: &Transactions, policy: &RowPolicy) -> anyhow::Result<()> {
        if self.g.rejects.is_none() {
            return Ok(());
        }
        let rejected = tx
            .rejected_rows(policy)?
            .collect_with_engine(Engine::Streaming)
            .map(|r| r.unwrap_single())
            .with_context(|| format!("collecting rejected rows of {}", tx.source_name()))?;
        self.rejected(&rejected.into())
    }

    /// Rejected rows already collected, for `--rejects FILE` (when given).
    ///
    /// # Errors
    ///
    /// Write errors.
    pub fn rejected(&mut self, rejected: &RejectedRows) -> anyhow::Result<()> {
        let Some(path) = self.g.rejects.clone() else {
            return Ok(());
        };
        let format = OutputFormat::from_path(&path).unwrap_or(OutputFormat::Csv);
        let staged = rejected.stage(&path, format)?;
        self.set.push(staged);
        self.rejects_staged(rejected);
        Ok(())
    }

    /// `--rejects FILE` when it is a CSV file (written with a report directory's rejects.csv).
    pub fn rejects_csv_path(&self) -> Option<PathBuf> {
        let path = self.g.rejects.as_ref()?;
        let format = OutputFormat::from_path(path).unwrap_or(OutputFormat::Csv);
        (format == OutputFormat::Csv).then(|| path.clone())
    }

    /// Notes the `--rejects FILE` staged into [`Outputs::set`] by the report directory's writer.
    pub fn rejects_staged(&mut self, rejected: &RejectedRows) {
        if let Some(path) = &self.g.rejects {
            let rows = clientele::format::format_count(rejected.height() as u64);
            self.notes
                .push(format!("wrote {} ({rows} rejected rows)", path.display()));
        }
    }

    /// The fitted model for `--save-model FILE` (when given).
    ///
    /// # Errors
    ///
    /// Write errors.
    pub fn model(&mut self, options: &ClusterOptions, clustering: Option<&Clustering>) -> anyhow::Result<()> {
        if let (Some(path), Some(clustering)) = (&options.save_model, clustering) {
            let staged = clientele::output::stage_bytes(path, clustering.model.to_json().as_bytes())?;
            self.stage(staged, format!("saved the cluster model to {}", path.display()));
        }
        Ok(())
    }

    /// Puts every staged file in place (all or none), prints what was written, then writes
    /// the table to stdout if it goes there.
    ///
    /// # Errors
    ///
    /// Rename and write errors; on a failed rename no output has changed.
    pub fn commit(self) -> anyhow::Result<()> {
        self.set.commit()?;
        for text in &self.notes {
            note(self.g, text);
        }
        if let Some((frame, format)) = &self.stdout {
            let stdout = std::io::stdout();
            let mut lock = std::io::BufWriter::new(stdout.lock());
            clientele::output::write_frame_to(frame, &mut lock, *format)?;
            lock.flush().context("writing to stdout")?;
        }
        Ok(())
    }
}

/// The format of `-o`: `--format`, else the file's extension, else CSV for stdout.
fn output_format(given: Option<OutputFormat>, path: Option<&Path>) -> anyhow::Result<OutputFormat> {
    if let Some(f) = given {
        return Ok(f);
    }
    match path {
        None => Ok(OutputFormat::Csv),
        Some(p) => OutputFormat::from_path(p).ok_or_else(|| {
            usage(format!(
                "cannot tell the format of {} from its extension: use .csv, .parquet or .json, or --format",
                p.display()
            ))
        }),
    }
}

/// Files inside `dir` named `names`, as outputs.
pub fn files_in(dir: &Path, names: &[String]) -> Vec<NamedFile> {
    names
        .iter()
        .map(|name| NamedFile::new(dir.join(name), format!("--out-dir {}", dir.display())))
        .collect()
}
