//! `clientele sql`: the customer aggregation as SQL for a warehouse or Spark.

use std::io::Write;
use std::process::ExitCode;

use clientele::columns::{AmountColumns, ResolvedColumns};
use clientele::ingest::{InputFormat, TimeResolution};
use clientele::sql::{BtydSql, Dialect, SqlJob};

use crate::args::{GlobalArgs, SqlArgs};
use crate::settings::{self, Flags};

/// Runs the subcommand: prints the query on stdout.
pub fn run(g: &GlobalArgs, a: &SqlArgs) -> anyhow::Result<ExitCode> {
    let w = &a.window;
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
    let columns = &settings.columns;
    let time_format = &settings.input.time_format;
    let settings_clv = valid.clv.clone();
    let mut job = match &a.sample {
        Some(sample) => {
            let tx = super::scan(&valid, sample)?;
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
            let (Some(customer), Some(time)) = (&columns.customer, &columns.time) else {
                return Err(super::usage(
                    "without a sample, name the columns: --customer, --time, and --amount or --quantity and --price",
                ));
            };
            let amount = match (&columns.amount, &columns.quantity, &columns.price) {
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
                    order: if columns.no_order {
                        None
                    } else {
                        columns.order.clone()
                    },
                },
            );
            job.time_format = time_format.clone();
            if time_format.as_deref().is_some_and(|f| !f.contains("%H")) {
                job.resolution = TimeResolution::Date;
            }
            job
        }
    };
    job.as_of = policy.as_of.date();
    job.returns = policy.returns;
    if let Some(clv) = &settings_clv {
        let (calibration_end, holdout_end) = (clv.calibration_end(), clv.holdout_end());
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
            period: clv.period(),
        });
    }
    let query = job.query(dialect)?;
    std::io::stdout().lock().write_all(query.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}
