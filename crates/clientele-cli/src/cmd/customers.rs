//! `clientele customers`: one row per customer.

use std::process::ExitCode;

use crate::args::{GlobalArgs, InputArgs};

/// Runs the subcommand.
pub fn run(g: &GlobalArgs, a: &InputArgs) -> anyhow::Result<ExitCode> {
    let policy = super::row_policy(g)?;
    let (tx, table) = super::aggregate_customers(g, &a.input, &policy)?;
    super::write_table(g, &table.frame)?;
    super::write_rejects(g, &tx, &policy)?;
    Ok(ExitCode::SUCCESS)
}
