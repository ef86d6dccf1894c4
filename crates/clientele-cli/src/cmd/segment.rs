//! `clientele segment`: the full per-customer table.

use std::process::ExitCode;

use crate::args::{GlobalArgs, InputArgs};

/// Runs the subcommand.
pub fn run(g: &GlobalArgs, a: &InputArgs) -> anyhow::Result<ExitCode> {
    let (segmenter, tx, result) = super::run_segmentation(g, &a.input)?;
    super::write_table(g, &result.frame)?;
    super::write_rejects(g, &tx, segmenter.row_policy())?;
    Ok(ExitCode::SUCCESS)
}
