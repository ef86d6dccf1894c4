//! `clientele abc`: customers with their ABC class.

use std::process::ExitCode;

use crate::args::{GlobalArgs, InputArgs};
use crate::outputs::Outputs;

/// Runs the subcommand.
pub fn run(g: &GlobalArgs, a: &InputArgs) -> anyhow::Result<ExitCode> {
    let policy = super::row_policy(g)?;
    let mut outputs = Outputs::check(g, Some((&a.input, &super::ingest_options(g)?)), Vec::new())?;
    let params = super::abc_params(g)?.check()?;
    let (tx, table) = super::aggregate_customers(g, &a.input, &policy)?;
    let tiers = clientele::abc::classify(&table.frame, &params)?;
    super::note(
        g,
        clientele::report::abc_markdown(&tiers.summary, params.basis(), params.splits()).trim_end(),
    );
    outputs.table(&tiers.frame)?;
    outputs.rejects(&tx, &policy)?;
    outputs.commit()?;
    Ok(ExitCode::SUCCESS)
}
