//! `clientele customers`: one row per customer.

use std::process::ExitCode;

use crate::args::{GlobalArgs, InputArgs};
use crate::outputs::Outputs;

/// Runs the subcommand.
pub fn run(g: &GlobalArgs, a: &InputArgs) -> anyhow::Result<ExitCode> {
    let policy = super::row_policy(g)?;
    let mut outputs = Outputs::check(g, Some((&a.input, &super::ingest_options(g)?)), Vec::new())?;
    let (tx, table) = super::aggregate_customers(g, &a.input, &policy)?;
    outputs.table(&table.frame)?;
    outputs.rejects(&tx, &policy)?;
    outputs.commit()?;
    Ok(ExitCode::SUCCESS)
}
