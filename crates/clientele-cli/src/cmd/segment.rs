//! `clientele segment`: the full per-customer table.

use std::process::ExitCode;

use crate::args::{GlobalArgs, SegmentArgs};
use crate::outputs::Outputs;
use crate::settings::{self, Flags};

/// Runs the subcommand.
pub fn run(g: &GlobalArgs, a: &SegmentArgs) -> anyhow::Result<ExitCode> {
    let settings = settings::settings(
        g,
        Flags::segmentation(&a.cluster, a.clusters, &a.clv_options, a.clv),
    )?;
    let mut files = Outputs::cluster_files(&a.cluster);
    files.extend(Outputs::cohort_files(&a.cohorts, &settings)?);
    let mut outputs = Outputs::check(g, Some(&settings), Some(&a.input), files)?;
    let job = settings.check()?;
    // The table is all this command writes: with --columns, only those columns are made.
    let segmenter = job
        .segmenter()
        .collect_rejects(g.rejects.is_some())
        .cohorts(a.cohorts.is_some().then_some(job.cohort_period))
        .only_columns(job.output_columns.clone());
    let (segmenter, tx, result) = super::run_segmentation_with(g, &job, &a.input, segmenter)?;
    outputs.model(&a.cluster, result.clusters.as_ref())?;
    outputs.cohorts(a.cohorts.as_deref(), result.cohorts.as_ref())?;
    outputs.table(&result.frame)?;
    log::debug!("table encoded");
    // The rejected rows come from the pass that read the input.
    match &result.rejects {
        Some(rejected) => outputs.rejected(rejected)?,
        None => outputs.rejects(&tx, segmenter.row_policy())?,
    }
    outputs.commit()?;
    Ok(ExitCode::SUCCESS)
}
