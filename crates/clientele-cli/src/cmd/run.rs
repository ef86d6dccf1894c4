//! `clientele run --config FILE`: a configured job, written atomically with a manifest.

use std::process::ExitCode;

use clientele::config::RunConfig;
use clientele::run::{self, RunOptions};

use crate::args::{GlobalArgs, RunArgs};

/// Environment variable naming a stage after which the process aborts, as if killed: the
/// fault-injection hook the tests use to show an interrupted run leaves the previous output
/// intact. Stages: check, hash-inputs, segment, compare, write, hash-outputs, manifest, swap.
pub const FAULT_INJECTION: &str = "CLIENTELE_FAULT_INJECTION";

/// Runs the subcommand.
pub fn run(g: &GlobalArgs, a: &RunArgs) -> anyhow::Result<ExitCode> {
    let Some(path) = &g.config else {
        return Err(super::usage("run needs --config FILE (see docs/runs.md)"));
    };
    let (mut config, bytes) = RunConfig::from_file(path)?;
    // Flags given beside --config override the file's settings, as for every other command
    // (over the settings read with the bytes the manifest hashes: the file is read once).
    crate::settings::apply_flags(&mut config.settings, g, crate::settings::Flags::default())?;
    let abort_after = std::env::var(FAULT_INJECTION).ok();
    let options = RunOptions {
        previous: a.previous.clone(),
        config_bytes: Some(bytes),
        config_path: Some(path.clone()),
        on_stage: Some(Box::new(move |stage: &str, seconds: f64| {
            log::debug!("stage {stage} done in {seconds:.3} s");
            if abort_after.as_deref() == Some(stage) {
                log::error!("{FAULT_INJECTION}={stage}: aborting");
                std::process::abort();
            }
        })),
    };
    let outcome = {
        let _progress = super::Progress::start(g, format!("running {}", path.display()));
        run::execute(&config, &options)?
    };
    let m = &outcome.manifest;
    super::note(
        g,
        &format!(
            "run of {} as of {}: {} customers, {}; {} files in {}",
            path.display(),
            m.as_of,
            clientele::format::format_count(m.customers as u64),
            m.rows.one_line(),
            m.outputs.len() + 1,
            outcome.dir.display()
        ),
    );
    Ok(ExitCode::SUCCESS)
}
