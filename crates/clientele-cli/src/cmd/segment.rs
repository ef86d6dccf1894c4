//! `clientele segment`: the full per-customer table.

use std::process::ExitCode;

use crate::args::{GlobalArgs, SegmentArgs};

/// Runs the subcommand.
pub fn run(g: &GlobalArgs, a: &SegmentArgs) -> anyhow::Result<ExitCode> {
    let job = super::cluster_job(&a.cluster, a.clusters)?;
    let clv = a.clv.then(|| super::clv_params(&a.clv_options)).transpose()?;
    let (segmenter, tx, result) = super::run_segmentation(g, &a.input, job, clv)?;
    super::save_model(g, &a.cluster, result.clusters.as_ref())?;
    super::write_table(g, &result.frame)?;
    super::write_rejects(g, &tx, segmenter.row_policy())?;
    Ok(ExitCode::SUCCESS)
}
