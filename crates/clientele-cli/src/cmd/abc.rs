//! `clientele abc`: customers with their ABC class.

use std::process::ExitCode;

use crate::args::{GlobalArgs, InputArgs};
use crate::outputs::Outputs;
use crate::settings::{self, Flags};

/// Runs the subcommand.
pub fn run(g: &GlobalArgs, a: &InputArgs) -> anyhow::Result<ExitCode> {
    let settings = settings::settings(g, Flags::default())?;
    let mut outputs = Outputs::check(g, Some(&settings), Some(&a.input), Vec::new())?;
    let job = settings.check()?;
    let (tx, table) = super::aggregate_customers(g, &job, &a.input)?;
    let params = &job.abc;
    let tiers = clientele::abc::classify(&table.frame, params)?;
    super::note(
        g,
        clientele::report::abc_markdown(&tiers.summary, params.basis(), params.splits()).trim_end(),
    );
    outputs.table(&tiers.frame)?;
    outputs.rejects(&tx, &job.policy)?;
    outputs.commit()?;
    Ok(ExitCode::SUCCESS)
}
