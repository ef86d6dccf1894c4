//! `clientele report`: the segment table, its summaries and an HTML report in a directory.

use std::process::ExitCode;

use anyhow::Context;
use clientele::OutputFormat;

use crate::args::{FormatArg, GlobalArgs, ReportArgs};

/// Runs the subcommand.
pub fn run(g: &GlobalArgs, a: &ReportArgs) -> anyhow::Result<ExitCode> {
    let format = match g.format {
        None | Some(FormatArg::Csv) => OutputFormat::Csv,
        Some(FormatArg::Parquet) => OutputFormat::Parquet,
        Some(FormatArg::Json) => OutputFormat::Ndjson,
    };
    let job = super::cluster_job(&a.cluster, a.clusters)?;
    let clv = a.clv.then(|| super::clv_params(&a.clv_options)).transpose()?;
    let (segmenter, tx, result) = super::run_segmentation(g, &a.input, job, clv)?;
    super::save_model(g, &a.cluster, result.clusters.as_ref())?;
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
    std::fs::create_dir_all(&a.out_dir).with_context(|| format!("cannot create {}", a.out_dir.display()))?;
    let written = clientele::run::write_report_files(
        &a.out_dir,
        &result,
        &summary,
        format,
        rejects.as_ref(),
        changes.as_ref(),
    )?;
    // The rejected rows were read once for rejects.csv: --rejects gets the same frame.
    match (&g.rejects, &rejects) {
        (Some(path), Some(rejected)) => super::write_rejected_frame(g, path, rejected)?,
        _ => super::write_rejects(g, &tx, segmenter.row_policy())?,
    }
    let names: Vec<String> = written
        .iter()
        .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    super::note(
        g,
        &format!("wrote {} into {}", names.join(", "), a.out_dir.display()),
    );
    Ok(ExitCode::SUCCESS)
}
