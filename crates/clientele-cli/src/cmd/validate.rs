//! `clientele validate`: the data-quality report, no tables written.

use std::io::Write;
use std::process::ExitCode;

use crate::args::{GlobalArgs, ValidateArgs};
use crate::outputs::Outputs;
use crate::settings::{self, Flags};

/// Runs the subcommand. Exits 1 when no row is usable.
pub fn run(g: &GlobalArgs, a: &ValidateArgs) -> anyhow::Result<ExitCode> {
    let settings = settings::settings(g, Flags::default())?;
    let mut outputs = Outputs::check(g, Some(&settings), Some(&a.input), Vec::new())?;
    let job = settings.check()?;
    let policy = job.policy;
    let tx = super::scan(&job, &a.input)?;
    let report = {
        let _progress = super::Progress::start(g, format!("checking {}", tx.source_name()));
        clientele::quality::assess(&tx, &policy)?
    };
    let text = if a.json {
        report.to_json() + "\n"
    } else {
        report.to_markdown()
    };
    outputs.rejects(&tx, &policy)?;
    outputs.commit()?;
    std::io::stdout().lock().write_all(text.as_bytes())?;
    Ok(if report.customers == 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
