//! `clientele sql`: the customer aggregation as SQL for a warehouse or Spark.

use std::io::Write;
use std::process::ExitCode;

use clientele::clv::Period;
use clientele::sql::{BtydSql, Dialect, SqlJob};

use crate::args::{DialectArg, GlobalArgs, PeriodArg, SqlArgs};

/// Runs the subcommand: prints the query on stdout.
pub fn run(g: &GlobalArgs, a: &SqlArgs) -> anyhow::Result<ExitCode> {
    let dialect = match a.dialect {
        DialectArg::Duckdb => Dialect::DuckDb,
        DialectArg::Spark => Dialect::Spark,
        DialectArg::Bigquery => Dialect::BigQuery,
        DialectArg::Postgres => Dialect::Postgres,
    };
    let policy = super::row_policy(g)?;
    let mut job = match &a.sample {
        Some(sample) => {
            let tx = super::scan(g, sample)?;
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
            let columns = super::ingest_options(g)?.columns;
            SqlJob::for_named_columns(table, &columns, g.time_format.clone()).ok_or_else(|| {
                super::usage(
                    "without a sample, name the columns: --customer, --time, and --amount or --quantity and --price",
                )
            })?
        }
    };
    job.as_of = policy.as_of.date();
    job.returns = policy.returns;
    if a.clv {
        let date = |flag: &'static str, value: &Option<String>| {
            value.as_deref().map(|d| super::parse_date(flag, d)).transpose()
        };
        job.btyd = Some(BtydSql {
            calibration_end: date("--calibration-end", &a.calibration_end)?,
            holdout_end: date("--holdout-end", &a.holdout_end)?,
            period: match a.period {
                PeriodArg::Day => Period::Day,
                PeriodArg::Week => Period::Week,
            },
        });
    }
    let query = job.query(dialect)?;
    std::io::stdout().lock().write_all(query.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}
