//! `clientele generate`: a deterministic synthetic transaction log.

use std::process::ExitCode;

use clientele::OutputFormat;
use clientele::format::{format_count, format_money};
use clientele::generate::{self, GenerateParams, Layout};

use crate::args::{GenerateArgs, GlobalArgs};
use crate::outputs::Outputs;

/// Runs the subcommand: writes `-o PATH` (a file, or a directory with `--files N > 1`).
pub fn run(g: &GlobalArgs, a: &GenerateArgs) -> anyhow::Result<ExitCode> {
    let start = super::parse_date("--start", &a.start)?;
    let end = super::parse_date("--end", &a.end)?;
    if g.config.is_some() {
        return Err(super::usage(
            "generate takes no settings: --config is for the commands that read transactions",
        ));
    }
    let mut params = GenerateParams::new(a.customers, a.rows)
        .period(start, end)
        .return_rate(a.return_rate)
        .layout(Layout {
            order: a.row_order,
            ids: a.ids,
            codec: a.compression,
            row_group_rows: a.row_group_rows,
        });
    if let Some(seed) = a.seed {
        params = params.seed(seed);
    }
    let params = params.check()?;
    let Some(path) = g.output.as_deref().filter(|p| p.as_os_str() != "-") else {
        return Err(
            super::UsageError("generate needs -o FILE (or a directory with --files N)".into()).into(),
        );
    };
    if a.files <= 1 {
        // One file: not a directory, in a directory that exists.
        Outputs::check(g, None, None, Vec::new())?;
    }
    let format = match g.format {
        Some(f) => f,
        None if a.files > 1 => OutputFormat::Parquet,
        None => OutputFormat::from_path(path).ok_or_else(|| {
            super::UsageError(format!(
                "cannot tell the format of {} from its extension: use .csv, .parquet or .json, or --format",
                path.display()
            ))
        })?,
    };
    let log = {
        let _progress = super::Progress::start(g, format!("generating {} rows", format_count(a.rows)));
        generate::write(&params, path, format, a.files)?
    };
    super::note(
        g,
        &format!(
            "wrote {} ({} file{}): {} rows, {} customers, {} orders, {} return lines, total amount {}",
            path.display(),
            log.files.len(),
            if log.files.len() == 1 { "" } else { "s" },
            format_count(log.rows),
            format_count(log.customers),
            format_count(log.orders),
            format_count(log.return_rows),
            format_money(log.total_amount)
        ),
    );
    Ok(ExitCode::SUCCESS)
}
