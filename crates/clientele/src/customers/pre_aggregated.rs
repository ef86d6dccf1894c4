//! A customer table aggregated elsewhere (a warehouse, Spark; `clientele sql` prints the
//! query) read as the [`CustomerTable`] that [`aggregate`](super::aggregate) would build from
//! the transactions.
//!
//! Columns, by these names: `customer_id`, `first_purchase`, `last_purchase` (dates or
//! date-times, native or text), `frequency` (whole number ≥ 1), `monetary`; optional
//! `gross_revenue`, `returns_value`, `transactions` (null when absent). Each row is a
//! customer: rows with a missing customer id, an unreadable purchase date, an unreadable
//! monetary value or an invalid frequency are rejected with that reason; with a given as-of
//! date, customers whose last purchase is after it are excluded (`after_as_of`: aggregate up
//! to the as-of date instead). A customer id that appears twice is an error.

use polars::prelude::*;

use super::col_names::*;
use super::{CustomerTable, integer_ids_if_lossless, sort_by_customer};
use crate::columns::Columns;
use crate::error::{Error, PolarsContext, Result};
use crate::ingest::col_names::{AMOUNT_MICROS, STATUS, TS};
use crate::ingest::{self, ExtraCheck, IngestOptions, Transactions};
use crate::rows::{RejectReason, ReturnsPolicy, RowPolicy, RowReconciliation, RowStatus};

/// Columns a customer table must have.
pub const REQUIRED: [&str; 5] = [CUSTOMER_ID, FIRST_PURCHASE, LAST_PURCHASE, FREQUENCY, MONETARY];

/// Columns a customer table may have.
pub const OPTIONAL: [&str; 3] = [GROSS_REVENUE, RETURNS_VALUE, TRANSACTIONS];

/// The ingest options that read a customer table: the roles of a transaction log mapped onto
/// its columns (customer id, `last_purchase` as the time, `monetary` as the amount), so ids,
/// dates and numbers go through the same checks and formats as transactions.
pub fn ingest_options(base: &IngestOptions) -> IngestOptions {
    IngestOptions {
        columns: Columns::default()
            .customer(CUSTOMER_ID)
            .time(LAST_PURCHASE)
            .amount(MONETARY)
            .without_order(),
        ..base.clone()
    }
}

/// Scans customer table files (see [`ingest::scan_many`]) with [`ingest_options`].
///
/// # Errors
///
/// As [`ingest::scan_many`], and [`Error::ColumnNotFound`] naming the first required column
/// the table lacks.
pub fn scan(paths: &[std::path::PathBuf], base: &IngestOptions) -> Result<Transactions> {
    with_checks(ingest::scan_many(paths, &ingest_options(base))?)
}

/// A customer table in memory (a frame with the columns of a scanned file), as [`scan`] reads
/// files: the Python module's `input_kind="customers"` over a data frame.
///
/// # Errors
///
/// As [`ingest::from_frame`], and [`Error::ColumnNotFound`] as [`scan`].
pub fn from_frame(name: &str, frame: LazyFrame, base: &IngestOptions) -> Result<Transactions> {
    with_checks(ingest::from_frame(name, frame, &ingest_options(base))?)
}

/// The required columns checked, and the row checks of a customer table added.
fn with_checks(table: Transactions) -> Result<Transactions> {
    check_columns(&table)?;
    let (first_ts, first_missing, first_bad) = table.time_exprs(FIRST_PURCHASE);
    let (last_ts, _, _) = table.time_exprs(LAST_PURCHASE);
    let checks = vec![
        ExtraCheck {
            bad: first_missing.or(first_bad).or(first_ts.gt(last_ts)),
            reason: RejectReason::InvalidFirstPurchase,
            column: FIRST_PURCHASE.into(),
        },
        ExtraCheck {
            bad: frequency_expr().is_null(),
            reason: RejectReason::InvalidFrequency,
            column: FREQUENCY.into(),
        },
    ];
    Ok(table.with_checks(checks))
}

/// `frequency` as a whole number ≥ 1, or null.
fn frequency_expr() -> Expr {
    let frequency = col(FREQUENCY).cast(DataType::Float64);
    let whole = frequency
        .clone()
        .is_finite()
        .and(frequency.clone().eq(frequency.clone().floor()));
    when(whole.and(frequency.clone().gt_eq(lit(1.0))))
        .then(frequency.cast(DataType::Int64))
        .otherwise(lit(NULL).cast(DataType::Int64))
}

fn check_columns(table: &Transactions) -> Result<()> {
    for name in REQUIRED {
        if table.schema().get(name).is_none() {
            return Err(Error::ColumnNotFound {
                source_name: table.source_name().to_string(),
                column: name.to_string(),
                role: "customer table's",
                available: table
                    .schema()
                    .iter_names()
                    .map(|n| n.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
    }
    Ok(())
}

/// Reads a customer table scanned by [`scan`] (whose checks reject bad rows) into the table [`aggregate`](super::aggregate)
/// builds from transactions: recency and tenure at the as-of date, average order value, sorted
/// by customer id. The returns policy is the aggregation's business: `monetary` is used as it
/// is.
///
/// # Errors
///
/// [`Error::ColumnType`] for a customer id that appears twice; [`Error::NoCustomers`] when no
/// row is usable; polars errors from reading.
pub fn read(table: &Transactions, policy: &RowPolicy) -> Result<CustomerTable> {
    check_columns(table)?;
    let (first_ts, _, _) = table.time_exprs(FIRST_PURCHASE);
    let mut extra = vec![first_ts.alias("first_ts"), frequency_expr().alias(FREQUENCY)];
    for (name, dtype) in [
        (GROSS_REVENUE, DataType::Float64),
        (RETURNS_VALUE, DataType::Float64),
        (TRANSACTIONS, DataType::Int64),
    ] {
        let value = if table.schema().get(name).is_some() {
            col(name).cast(dtype.clone())
        } else {
            lit(NULL).cast(dtype.clone())
        };
        extra.push(value.alias(name));
    }
    // The returns policy does not apply to aggregated monetary values.
    let row_policy = RowPolicy {
        returns: ReturnsPolicy::Net,
        ..*policy
    };
    let used = || col(STATUS).eq(lit(RowStatus::Used.code()));
    let classified = table
        .classify_with(&row_policy, extra)?
        .collect()
        .context(|| format!("{}: cannot read the customer table", table.source_name()))?;
    let statuses = classified
        .column(STATUS)
        .context(|| "status".into())?
        .u8()
        .context(|| "status".into())?;
    let mut counts = std::collections::BTreeMap::<u8, u64>::new();
    for status in statuses.iter().flatten() {
        *counts.entry(status).or_default() += 1;
    }
    let reconciliation = RowReconciliation::from_status_counts(counts);
    let customers = classified
        .lazy()
        .filter(used())
        .select([
            col(CUSTOMER_ID),
            col("first_ts"),
            col(TS).alias("last_ts"),
            col(FREQUENCY),
            col(AMOUNT_MICROS).alias("net_micros"),
            (col(GROSS_REVENUE) * lit(crate::ingest::MICROS_PER_UNIT))
                .round(0, RoundMode::HalfToEven)
                .cast(DataType::Int64)
                .alias("gross_micros"),
            (col(RETURNS_VALUE) * lit(crate::ingest::MICROS_PER_UNIT))
                .round(0, RoundMode::HalfToEven)
                .cast(DataType::Int64)
                .alias("returned_micros"),
            col(TRANSACTIONS),
        ])
        .collect()
        .context(|| format!("{}: cannot read the customer table", table.source_name()))?;
    // Ids as a transaction log's: all canonical integers in text become numbers (and sort so).
    let customers = sort_by_customer(integer_ids_if_lossless(customers)?)?;
    check_unique(table.source_name(), &customers)?;
    super::at_as_of(table, policy, customers, reconciliation, None)
}

/// Ids are sorted: a duplicate sits next to its twin.
fn check_unique(source_name: &str, customers: &DataFrame) -> Result<()> {
    let ids = customers.column(CUSTOMER_ID).context(|| "customer ids".into())?;
    for row in 1..ids.len() {
        let (a, b) = (ids.get(row - 1), ids.get(row));
        if let (Ok(a), Ok(b)) = (a, b)
            && a == b
        {
            return Err(Error::UnsupportedInput {
                source_name: source_name.to_string(),
                detail: format!(
                    "is not a customer table: customer_id {b} appears more than once (one row per customer)"
                ),
            });
        }
    }
    Ok(())
}

/// The `btyd_*` columns of a customer table (see [`crate::sql::BtydSql`]) for the rows
/// [`read`] uses, sorted by customer id; `None` when the table has none.
///
/// # Errors
///
/// Read errors.
pub fn btyd_columns(table: &Transactions, policy: &RowPolicy) -> Result<Option<DataFrame>> {
    use crate::columns::btyd_cols::*;
    if table.schema().get(PERIODS).is_none() {
        return Ok(None);
    }
    let date = |name: &str| col(name).cast(DataType::Date).alias(name);
    let int = |name: &str| col(name).cast(DataType::Int64).alias(name);
    let holdout_end = if table.schema().get(HOLDOUT_END).is_some() {
        date(HOLDOUT_END)
    } else {
        lit(NULL).cast(DataType::Date).alias(HOLDOUT_END)
    };
    let extra = vec![
        date(FIRST_PERIOD),
        date(LAST_PERIOD),
        int(PERIODS),
        int(REPEAT_MICROS),
        int(HOLDOUT_PERIODS),
        int(HOLDOUT_MICROS),
        date(CALIBRATION_END),
        holdout_end,
        col(PERIOD).cast(DataType::String).alias(PERIOD),
    ];
    let row_policy = RowPolicy {
        returns: ReturnsPolicy::Net,
        ..*policy
    };
    let frame = table
        .classify_with(&row_policy, extra)?
        .filter(col(STATUS).eq(lit(RowStatus::Used.code())))
        .select([
            col(CUSTOMER_ID),
            col(FIRST_PERIOD),
            col(LAST_PERIOD),
            col(PERIODS),
            col(REPEAT_MICROS),
            col(HOLDOUT_PERIODS),
            col(HOLDOUT_MICROS),
            col(CALIBRATION_END),
            col(HOLDOUT_END),
            col(PERIOD),
        ])
        .collect()
        .context(|| format!("{}: cannot read the btyd columns", table.source_name()))?;
    Ok(Some(sort_by_customer(integer_ids_if_lossless(frame)?)?))
}
