//! `clientele report`: the segment table, its summaries and an HTML report in a directory.

use std::process::ExitCode;

use anyhow::Context;
use clientele::OutputFormat;

use crate::args::{GlobalArgs, ReportArgs};
use crate::outputs::{Outputs, files_in, format_of};

/// Runs the subcommand.
pub fn run(g: &GlobalArgs, a: &ReportArgs) -> anyhow::Result<ExitCode> {
    let format = g.format.map_or(OutputFormat::Csv, format_of);
    std::fs::create_dir_all(&a.out_dir).with_context(|| format!("cannot create {}", a.out_dir.display()))?;
    // Every file a report may write, checked before anything is read.
    let mut files = files_in(
        &a.out_dir,
        &clientele::run::report_file_names(format, true, true, true),
    );
    files.extend(Outputs::cluster_files(&a.cluster));
    let mut outputs = Outputs::check(g, Some((&a.input, &super::ingest_options(g)?)), files)?;
    let job = super::cluster_job(&a.cluster, a.clusters)?;
    let clv = a.clv.then(|| super::clv_params(&a.clv_options)).transpose()?;
    let (segmenter, tx, result) = super::run_segmentation(g, &a.input, job, clv, true)?;
    let mut summary = result.summary()?;
    let changes = match &a.previous {
        None => None,
        Some(path) => {
            let (previous, as_of) = clientele::migration::read_previous(path)?;
            let (mut migration, changes) =
                clientele::migration::compare(&previous, &result.frame, &path.display().to_string())?;
            migration.previous_as_of = as_of;
            summary.migration = Some(migration);
            Some(changes)
        }
    };
    let rejects = clientele::run::rejected_rows(&tx, segmenter.row_policy(), &result)?;
    let names = clientele::run::report_file_names(
        format,
        rejects.is_some(),
        changes.is_some(),
        result.clusters.is_some(),
    );
    clientele::run::stage_report_files(
        &a.out_dir,
        &result,
        &summary,
        format,
        rejects.as_ref(),
        changes.as_ref(),
        outputs.set(),
    )?;
    outputs.model(&a.cluster, result.clusters.as_ref())?;
    // The rejected rows were read once, in the pass, for rejects.csv: --rejects gets the same
    // frame (maybe empty).
    match rejects.as_ref().or(result.rejects.as_ref()) {
        Some(rejected) => outputs.rejected_frame(rejected)?,
        None => outputs.rejects(&tx, segmenter.row_policy())?,
    }
    outputs.commit()?;
    super::note(
        g,
        &format!("wrote {} into {}", names.join(", "), a.out_dir.display()),
    );
    Ok(ExitCode::SUCCESS)
}
