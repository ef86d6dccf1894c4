//! `clientele sql`: the customer aggregation, or the whole segmentation, as SQL for a warehouse
//! or Spark.

use std::io::Write;
use std::process::ExitCode;

use clientele::sql::{BtydSql, Dialect, Job, SegmentSql, SqlJob};

use crate::args::{GlobalArgs, SqlArgs};
use crate::settings::{self, Flags};

/// Runs the subcommand: prints the query on stdout.
pub fn run(g: &GlobalArgs, a: &SqlArgs) -> anyhow::Result<ExitCode> {
    let w = &a.window;
    if a.clv && a.job == Job::Segment {
        return Err(super::usage(
            "--clv adds the btyd_* columns to the customer table (--job customers); lifetime value \
             is then fitted by `clientele segment --input-kind customers --clv`",
        ));
    }
    if !a.clv && (w.calibration_end.is_some() || w.holdout_end.is_some() || w.period.is_some()) {
        return Err(super::usage(
            "--calibration-end, --holdout-end and --period belong to the btyd_* columns: add --clv",
        ));
    }
    let settings = settings::settings(
        g,
        Flags {
            clv_window: Some((w, a.clv)),
            ..Flags::default()
        },
    )?;
    let valid = settings.check()?;
    let dialect = a.dialect;
    let policy = valid.policy;
    let time_format = &settings.input.time_format;
    let settings_clv = valid.clv.clone();
    let mut job = match &a.sample {
        Some(sample) => {
            let tx = super::scan(&valid, sample)?;
            let table = match (&a.table, dialect) {
                (Some(table), _) => table.clone(),
                (None, Dialect::DuckDb) => clientele::sql::duckdb_source(sample, &tx)?,
                (None, _) => return Err(super::usage("--table names the table the query reads")),
            };
            SqlJob::for_sample(table, &tx)
        }
        None => {
            let table = a
                .table
                .clone()
                .ok_or_else(|| super::usage("name the table with --table (or give a sample export)"))?;
            SqlJob::for_named_columns(table, &valid.ingest.columns, time_format.clone()).ok_or_else(|| {
                super::usage(
                    "without a sample, name the columns: --customer, --time, and --amount or --quantity and --price",
                )
            })?
        }
    };
    job.as_of = policy.as_of.date();
    job.returns = policy.returns;
    if let Some(clv) = &settings_clv {
        job.btyd = Some(BtydSql {
            calibration_end: clv.calibration_end(),
            holdout_end: clv.holdout_end(),
            period: clv.period(),
        });
    }
    let query = match a.job {
        Job::Customers => job.query(dialect)?,
        Job::Segment => job.segment_query(
            dialect,
            &SegmentSql {
                rfm: &valid.rfm,
                rules: &valid.rules,
                abc: &valid.abc,
            },
        )?,
    };
    std::io::stdout().lock().write_all(query.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}
