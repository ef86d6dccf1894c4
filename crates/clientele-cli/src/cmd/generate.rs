//! `clientele generate`: a deterministic synthetic transaction log.

use std::process::ExitCode;

use crate::args::{GenerateArgs, GlobalArgs};

/// Runs the subcommand.
pub fn run(_g: &GlobalArgs, _a: &GenerateArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("generate is being wired up")
}
