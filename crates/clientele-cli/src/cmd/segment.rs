//! `clientele segment`: the full per-customer table.

use std::process::ExitCode;

use crate::args::{GlobalArgs, SegmentArgs};
use crate::outputs::Outputs;

/// Runs the subcommand.
pub fn run(g: &GlobalArgs, a: &SegmentArgs) -> anyhow::Result<ExitCode> {
    let files = Outputs::cluster_files(&a.cluster);
    let mut outputs = Outputs::check(g, Some((&a.input, &super::ingest_options(g)?)), files)?;
    let job = super::cluster_job(&a.cluster, a.clusters)?;
    let clv = a.clv.then(|| super::clv_params(&a.clv_options)).transpose()?;
    let (segmenter, tx, result) = super::run_segmentation(g, &a.input, job, clv, g.rejects.is_some())?;
    outputs.model(&a.cluster, result.clusters.as_ref())?;
    outputs.table(&result.frame)?;
    // The rejected rows come from the pass that read the input.
    match &result.rejects {
        Some(rejected) => outputs.rejected_frame(rejected)?,
        None => outputs.rejects(&tx, segmenter.row_policy())?,
    }
    outputs.commit()?;
    Ok(ExitCode::SUCCESS)
}
