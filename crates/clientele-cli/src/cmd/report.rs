//! `clientele report`: the segment table and its summaries in a directory.

use std::process::ExitCode;

use anyhow::Context;
use clientele::OutputFormat;
use clientele::output::{write_bytes, write_frame};

use crate::args::{FormatArg, GlobalArgs, ReportArgs};

/// Runs the subcommand.
pub fn run(g: &GlobalArgs, a: &ReportArgs) -> anyhow::Result<ExitCode> {
    let format = match g.format {
        None | Some(FormatArg::Csv) => OutputFormat::Csv,
        Some(FormatArg::Parquet) => OutputFormat::Parquet,
        Some(FormatArg::Json) => OutputFormat::Ndjson,
    };
    let job = super::cluster_job(&a.cluster, a.clusters)?;
    let clv = a.clv.then(|| super::clv_params(&a.clv_options)).transpose()?;
    let (segmenter, tx, result) = super::run_segmentation(g, &a.input, job, clv)?;
    super::save_model(g, &a.cluster, result.clusters.as_ref())?;
    let summary = result.summary()?;
    std::fs::create_dir_all(&a.out_dir).with_context(|| format!("cannot create {}", a.out_dir.display()))?;
    let table = a.out_dir.join(format!("segments.{}", format.extension()));
    write_frame(&result.frame, &table, format)?;
    write_bytes(a.out_dir.join("summary.md"), summary.to_markdown().as_bytes())?;
    write_bytes(a.out_dir.join("summary.json"), summary.to_json().as_bytes())?;
    let mut written = vec![
        table.display().to_string(),
        "summary.md".into(),
        "summary.json".into(),
    ];
    if result.customers.reconciliation.rejected_rows() > 0 {
        let rejected = tx
            .rejected_rows(segmenter.row_policy())
            .collect()
            .with_context(|| format!("collecting rejected rows of {}", tx.source_name()))?;
        write_frame(&rejected, a.out_dir.join("rejects.csv"), OutputFormat::Csv)?;
        written.push("rejects.csv".into());
    }
    super::write_rejects(g, &tx, segmenter.row_policy())?;
    super::note(
        g,
        &format!("wrote {} into {}", written.join(", "), a.out_dir.display()),
    );
    Ok(ExitCode::SUCCESS)
}
