//! `clientele config show`: the effective settings of a command line, as TOML.

use std::io::Write;
use std::process::ExitCode;

use crate::args::{ConfigCommand, GlobalArgs};
use crate::settings::{self, Flags};

/// Runs the subcommand: prints the checked settings as a configuration file.
pub fn run(g: &GlobalArgs, command: &ConfigCommand) -> anyhow::Result<ExitCode> {
    let ConfigCommand::Show(a) = command;
    let settings = settings::settings(
        g,
        Flags::segmentation(&a.cluster, a.clusters, &a.clv_options, a.clv),
    )?;
    settings.check()?;
    let text = format!(
        "# clientele {} settings: `clientele segment INPUT --config FILE` runs with them;\n\
         # add [input] paths and [output] dir for `clientele run --config FILE`.\n{}",
        env!("CARGO_PKG_VERSION"),
        settings.to_toml()
    );
    std::io::stdout().lock().write_all(text.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}
