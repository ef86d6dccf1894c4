//! `clientele segment`: the full per-customer table.

use std::process::ExitCode;

use crate::args::{GlobalArgs, InputArgs};

/// Runs the subcommand.
pub fn run(g: &GlobalArgs, a: &InputArgs) -> anyhow::Result<ExitCode> {
    let segmenter = super::checked_segmenter(g)?;
    let tx = super::scan(g, &a.input)?;
    let result = {
        let _progress = super::Progress::start(g, format!("reading {}", tx.source_name()));
        segmenter.run(&tx)?
    };
    super::note_rows(g, tx.source_name(), &result.customers);
    super::rfm::note_scoring(g, &result.rfm);
    super::write_table(g, &result.frame)?;
    super::write_rejects(g, &tx, segmenter.row_policy())?;
    Ok(ExitCode::SUCCESS)
}
