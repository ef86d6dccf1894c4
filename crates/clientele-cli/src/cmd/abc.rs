//! `clientele abc`: customers with their ABC class.

use std::process::ExitCode;

use crate::args::{GlobalArgs, InputArgs};

/// Runs the subcommand.
pub fn run(g: &GlobalArgs, a: &InputArgs) -> anyhow::Result<ExitCode> {
    let policy = super::row_policy(g)?;
    let params = super::abc_params(g)?.check()?;
    let (tx, table) = super::aggregate_customers(g, &a.input, &policy)?;
    let tiers = clientele::abc::classify(&table.frame, &params)?;
    super::note(
        g,
        clientele::report::abc_markdown(&tiers.summary, params.basis(), params.splits()).trim_end(),
    );
    super::write_table(g, &tiers.frame)?;
    super::write_rejects(g, &tx, &policy)?;
    Ok(ExitCode::SUCCESS)
}
