//! `clientele clv`: lifetime value from buy-till-you-die models.

use std::process::ExitCode;

use crate::args::{ClvArgs, GlobalArgs};
use crate::outputs::Outputs;
use crate::settings::{self, Flags};

/// Runs the subcommand: writes the per-customer table, prints the models and the holdout check.
pub fn run(g: &GlobalArgs, a: &ClvArgs) -> anyhow::Result<ExitCode> {
    let settings = settings::settings(
        g,
        Flags {
            clv: Some((&a.clv, true)),
            ..Flags::default()
        },
    )?;
    let mut outputs = Outputs::check(g, Some(&settings), Some(&a.input), Vec::new())?;
    let job = settings.check()?;
    let params = job.clv.as_ref().expect("the clv subcommand always computes it");
    let tx = super::scan(&job, &a.input)?;
    let result = {
        let _progress = super::Progress::start(
            g,
            format!("fitting lifetime-value models to {}", tx.source_name()),
        );
        clientele::clv::run(&tx, params)?
    };
    super::note(g, clientele::report::clv_markdown(&result.summary()).trim_end());
    outputs.table(&result.frame)?;
    outputs.rejects(&tx, &clientele::RowPolicy::default())?;
    outputs.commit()?;
    Ok(ExitCode::SUCCESS)
}
