//! `clientele customers`: one row per customer.

use std::process::ExitCode;

use crate::args::{GlobalArgs, InputArgs};

/// Runs the subcommand.
pub fn run(g: &GlobalArgs, a: &InputArgs) -> anyhow::Result<ExitCode> {
    let policy = super::row_policy(g)?;
    let tx = super::scan(g, &a.input)?;
    let table = {
        let _progress = super::Progress::start(g, format!("reading {}", tx.source_name()));
        clientele::customers::aggregate(&tx, &policy)?
    };
    super::note_rows(g, tx.source_name(), &table);
    super::write_table(g, &table.frame)?;
    super::write_rejects(g, &tx, &policy)?;
    Ok(ExitCode::SUCCESS)
}
