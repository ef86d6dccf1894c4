//! `clientele clv`: lifetime value from buy-till-you-die models.

use std::process::ExitCode;

use crate::args::{ClvArgs, GlobalArgs};

/// Runs the subcommand: writes the per-customer table, prints the models and the holdout check.
pub fn run(g: &GlobalArgs, a: &ClvArgs) -> anyhow::Result<ExitCode> {
    let params = super::clv_params(&a.clv)?;
    let tx = super::scan(g, &a.input)?;
    let result = {
        let _progress = super::Progress::start(
            g,
            format!("fitting lifetime-value models to {}", tx.source_name()),
        );
        clientele::clv::run(&tx, &params)?
    };
    super::note(g, clientele::report::clv_markdown(&result.summary()).trim_end());
    super::write_table(g, &result.frame)?;
    super::write_rejects(g, &tx, &clientele::RowPolicy::default())?;
    Ok(ExitCode::SUCCESS)
}
