//! `clientele sql`: the customer aggregation as SQL for a warehouse or Spark.

use std::io::Write;
use std::process::ExitCode;

use clientele::clv::Period;
use clientele::columns::{AmountColumns, ResolvedColumns};
use clientele::ingest::{InputFormat, TimeResolution};
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
                (None, Dialect::DuckDb) => {
                    let files = clientele::ingest::source::resolve_input(sample, None)?;
                    let path = sample.display().to_string().replace('\'', "''");
                    match files.format {
                        InputFormat::Parquet if sample.is_dir() => {
                            format!("read_parquet('{path}/*.parquet')")
                        }
                        InputFormat::Parquet => format!("read_parquet('{path}')"),
                        // Timestamps as text, parsed with the format clientele detected.
                        InputFormat::Csv => format!(
                            "read_csv('{path}', types = {{'{}': 'VARCHAR'}})",
                            tx.columns().time.replace('\'', "''")
                        ),
                    }
                }
                (None, _) => return Err(super::usage("--table names the table the query reads")),
            };
            let mut job = SqlJob::new(table, tx.columns().clone());
            let time = tx.time_parsing();
            job.resolution = time.resolution;
            // Text timestamps are parsed with the format detected (or given) for the sample.
            job.time_format = time.format.clone();
            job
        }
        None => {
            let table = a
                .table
                .clone()
                .ok_or_else(|| super::usage("name the table with --table (or give a sample export)"))?;
            let (Some(customer), Some(time)) = (&g.customer, &g.time) else {
                return Err(super::usage(
                    "without a sample, name the columns: --customer, --time, and --amount or --quantity and --price",
                ));
            };
            let amount = match (&g.amount, &g.quantity, &g.price) {
                (Some(amount), None, None) => AmountColumns::Amount(amount.clone()),
                (None, Some(quantity), Some(price)) => AmountColumns::QuantityTimesPrice {
                    quantity: quantity.clone(),
                    price: price.clone(),
                },
                _ => return Err(super::usage("give --amount, or --quantity and --price")),
            };
            let mut job = SqlJob::new(
                table,
                ResolvedColumns {
                    customer: customer.clone(),
                    time: time.clone(),
                    amount,
                    order: if g.no_order { None } else { g.order.clone() },
                },
            );
            job.time_format = g.time_format.clone();
            if g.time_format.as_deref().is_some_and(|f| !f.contains("%H")) {
                job.resolution = TimeResolution::Date;
            }
            job
        }
    };
    job.as_of = policy.as_of.date();
    job.returns = policy.returns;
    if a.clv {
        let calibration_end = a
            .calibration_end
            .as_deref()
            .map(|d| super::parse_date("--calibration-end", d))
            .transpose()?;
        let holdout_end = a
            .holdout_end
            .as_deref()
            .map(|d| super::parse_date("--holdout-end", d))
            .transpose()?;
        // The model's customers must all be in the table: none may start after the as-of date.
        if let (Some(as_of), Some(last)) = (job.as_of, holdout_end.or(calibration_end))
            && as_of < last
        {
            return Err(super::usage(format!(
                "--as-of {as_of} is before the lifetime-value window's end {last}: customers who start \
                 in between would be fitted but missing from the table"
            )));
        }
        job.btyd = Some(BtydSql {
            calibration_end,
            holdout_end,
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
