//! `clientele report`: the segment table, its summaries and an HTML report in a directory.

use std::process::ExitCode;

use anyhow::Context;
use clientele::OutputFormat;

use crate::args::{GlobalArgs, ReportArgs};
use crate::outputs::{Outputs, files_in};
use crate::settings::{self, Flags};

/// Runs the subcommand.
pub fn run(g: &GlobalArgs, a: &ReportArgs) -> anyhow::Result<ExitCode> {
    let settings = settings::settings(
        g,
        Flags::segmentation(&a.cluster, a.clusters, &a.clv_options, a.clv),
    )?;
    let format = settings.output.format.unwrap_or(OutputFormat::Csv);
    std::fs::create_dir_all(&a.out_dir).with_context(|| format!("cannot create {}", a.out_dir.display()))?;
    // Every file a report may write, checked before anything is read.
    let mut files = files_in(
        &a.out_dir,
        &clientele::run::report_file_names(format, true, true, true),
    );
    files.extend(Outputs::cluster_files(&a.cluster));
    files.extend(Outputs::cohort_files(&a.cohorts, &settings)?);
    let mut outputs = Outputs::check(g, Some(&settings), Some(&a.input), files)?;
    let job = settings.check()?;
    let (segmenter, tx, result) = super::run_segmentation(g, &job, &a.input, true, true)?;
    let mut report = clientele::run::ReportFiles::new(&result, format)?;
    report.columns = job.output_columns.clone();
    if let Some(path) = &a.previous {
        report.compare_with(path, &result)?;
    }
    report.rejects = clientele::run::rejected_rows(&tx, segmenter.row_policy(), &result)?;
    // The rejected rows were read once, in the pass: a CSV `--rejects` file gets the bytes of
    // the directory's rejects.csv, written beside it.
    report.rejects_copy = outputs.rejects_csv_path().filter(|_| report.rejects.is_some());
    report.stage(&a.out_dir, &result, outputs.set())?;
    outputs.model(&a.cluster, result.clusters.as_ref())?;
    outputs.cohorts(a.cohorts.as_deref(), result.cohorts.as_ref())?;
    match (&report.rejects, &result.rejects) {
        (Some(rejected), _) if report.rejects_copy.is_some() => outputs.rejects_staged(rejected),
        (Some(rejected), _) | (None, Some(rejected)) => outputs.rejected(rejected)?,
        (None, None) => outputs.rejects(&tx, segmenter.row_policy())?,
    }
    outputs.commit()?;
    super::note(
        g,
        &format!(
            "wrote {} into {}",
            report.names(&result).join(", "),
            a.out_dir.display()
        ),
    );
    Ok(ExitCode::SUCCESS)
}
