//! One module per subcommand, and the glue they share: scanning the input, tables out to
//! files or stdout, notes and progress on stderr. Flags become settings in `crate::settings`.

pub mod abc;
pub mod cluster;
pub mod clv;
pub mod config;
pub mod customers;
pub mod generate;
pub mod report;
pub mod rfm;
pub mod rules;
pub mod run;
pub mod segment;
pub mod sql;
pub mod validate;

use std::io::IsTerminal;
use std::path::Path;
use std::time::Duration;

use clientele::ingest::{self, Transactions};
use clientele::settings::ValidSettings;
use clientele::{InputKind, Segmentation, Segmenter};

use crate::args::GlobalArgs;

/// A usage error found by the binary itself (exit code 2).
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

pub fn usage(message: impl Into<String>) -> anyhow::Error {
    UsageError(message.into()).into()
}

/// Scans the input (reads only its header and a timestamp sample): a transaction log, or with
/// `--input-kind customers` a customer table.
pub fn scan(job: &ValidSettings, input: &Path) -> anyhow::Result<Transactions> {
    Ok(match job.input_kind {
        InputKind::Transactions => ingest::scan(input, &job.ingest)?,
        InputKind::Customers => {
            clientele::customers::pre_aggregated::scan(&[input.to_path_buf()], &job.ingest)?
        }
    })
}

/// Parses a `YYYY-MM-DD` date argument.
pub fn parse_date(name: &'static str, text: &str) -> anyhow::Result<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| {
        clientele::ParamError::Date {
            name,
            value: text.to_string(),
        }
        .into()
    })
}

/// A spinner on stderr while the data is read, only when stderr is a terminal.
pub struct Progress(Option<indicatif::ProgressBar>);

impl Progress {
    /// Starts a spinner with a message (or nothing, when quiet or not on a terminal).
    pub fn start(g: &GlobalArgs, message: String) -> Progress {
        if g.quiet || !std::io::stderr().is_terminal() {
            return Progress(None);
        }
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_message(message);
        bar.enable_steady_tick(Duration::from_millis(120));
        Progress(Some(bar))
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

/// Prints a note on stderr: an info-level log line, silenced by --quiet or RUST_LOG=warn.
pub fn note(g: &GlobalArgs, text: &str) {
    if !g.quiet {
        log::info!("{text}");
    }
}

/// The one-line account of the input rows and customers, on stderr.
pub fn note_rows(g: &GlobalArgs, source: &str, table: &clientele::customers::CustomerTable) {
    let r = &table.reconciliation;
    let fmt = |n: u64| clientele::format::format_count(n);
    note(
        g,
        &format!(
            "{source}: {} rows = {} used + {} excluded + {} rejected; {} customers as of {}",
            fmt(r.input_rows),
            fmt(r.used_rows),
            fmt(r.excluded_rows()),
            fmt(r.rejected_rows()),
            fmt(table.len() as u64),
            table.as_of
        ),
    );
    let invalid = r.rejected_for(clientele::rows::RejectReason::InvalidUtf8);
    if invalid > 0 {
        note(
            g,
            &format!(
                "{source}: {} not valid UTF-8 (rejected as invalid_utf8); files from Windows \
                 programs are often windows-1252: read them with --encoding windows-1252 (or \
                 latin-1)",
                if invalid == 1 {
                    "1 row is".to_string()
                } else {
                    format!("{} rows are", fmt(invalid))
                }
            ),
        );
    }
}

/// Scans the input and runs the whole job under a spinner (collecting the rejected rows in the
/// same pass when `rejects`, and cohort retention when `cohorts`), then prints the row account, the cut points and the clusters on
/// stderr.
pub fn run_segmentation(
    g: &GlobalArgs,
    job: &ValidSettings,
    input: &Path,
    rejects: bool,
    cohorts: bool,
) -> anyhow::Result<(Segmenter, Transactions, Segmentation)> {
    run_segmentation_with(
        g,
        job,
        input,
        job.segmenter()
            .collect_rejects(rejects)
            .cohorts(cohorts.then_some(job.cohort_period)),
    )
}

/// [`run_segmentation`] with a segmenter of the caller's.
pub fn run_segmentation_with(
    g: &GlobalArgs,
    job: &ValidSettings,
    input: &Path,
    segmenter: Segmenter,
) -> anyhow::Result<(Segmenter, Transactions, Segmentation)> {
    let tx = scan(job, input)?;
    let result = {
        let _progress = Progress::start(g, format!("reading {}", tx.source_name()));
        match job.input_kind {
            InputKind::Transactions => segmenter.run(&tx)?,
            InputKind::Customers => segmenter.run_customer_table(&tx)?,
        }
    };
    note_rows(g, tx.source_name(), &result.customers);
    rfm::note_scoring(g, &result.rfm);
    if let Some(clusters) = &result.clusters {
        note(
            g,
            clientele::report::clusters_markdown(&clusters.summary()).trim_end(),
        );
    }
    if let Some(clv) = &result.clv {
        note_clv_diagnostics(g, clv);
    }
    Ok((segmenter, tx, result))
}

/// Prints the lifetime-value diagnostics and `auto`'s model choice on stderr (the `clv`
/// subcommand prints them within its whole summary).
fn note_clv_diagnostics(g: &GlobalArgs, clv: &clientele::clv::ClvResult) {
    if let Some(comparison) = &clv.model.comparison
        && let Some(chosen) = comparison.models.iter().find(|m| m.chosen)
    {
        note(
            g,
            &format!("lifetime value: --clv-model auto chose {}", chosen.model),
        );
    }
    for d in &clv.diagnostics {
        note(
            g,
            &format!("lifetime value, warning {}: {}", d.code.name(), d.message),
        );
    }
}

/// Scans the input and aggregates customers under a spinner, then prints the row account.
pub fn aggregate_customers(
    g: &GlobalArgs,
    job: &ValidSettings,
    input: &Path,
) -> anyhow::Result<(Transactions, clientele::customers::CustomerTable)> {
    let tx = scan(job, input)?;
    let table = {
        let _progress = Progress::start(g, format!("reading {}", tx.source_name()));
        match job.input_kind {
            InputKind::Transactions => clientele::customers::aggregate(&tx, &job.policy)?,
            InputKind::Customers => clientele::customers::pre_aggregated::read(&tx, &job.policy)?,
        }
    };
    note_rows(g, tx.source_name(), &table);
    Ok((tx, table))
}
