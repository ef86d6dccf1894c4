//! One pass over the input: the customer table and the row reconciliation, and as asked the
//! purchase periods of the lifetime-value summary, cohort retention and the rejected rows.
//!
//! Plain CSV files go through clientele's own reader (`ingest/plain_csv/`), anything else
//! through polars' streaming engine; both feed the same accumulator, which collects the
//! purchase periods from the same rows. The plain reader also keeps the rejected rows it
//! meets; on polars' path they are one more query, which reads the input again only when the
//! pass found rejected rows (an input read into memory, such as a compressed or repaired CSV
//! file, is not read again).

use polars::prelude::*;

use super::accumulate::{self, Accumulator};
use super::periods::{PeriodRequest, PurchasePeriods};
use super::valid_stats::ValidRowStats;
use super::{CustomerTable, aggregate_error, finish_table};
use crate::cohorts::{CohortPeriod, CohortTable};
use crate::error::{PolarsContext, Result};
use crate::ingest::col_names::CUSTOMER_ID;
use crate::ingest::plain_csv::{self, Outcome, ReadOptions};
use crate::ingest::typed;
use crate::ingest::{RejectedRows, Transactions};
use crate::rows::{RowPolicy, RowReconciliation};

/// What one pass over the input collects besides the customer table and the reconciliation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Collect {
    /// The purchase periods of the lifetime-value summary (see
    /// [`crate::clv::summary::period_request`]).
    pub periods: Option<PeriodRequest>,
    /// The rejected rows, as [`Transactions::rejected_rows`] gives them.
    pub rejects: bool,
    /// Cohort retention by this period (see [`crate::cohorts`]).
    pub cohorts: Option<CohortPeriod>,
    /// The data-quality statistics (see [`crate::quality`]).
    pub quality: bool,
    /// The only columns of the customer table that will be read, when known (`None`: all):
    /// the others are not computed.
    pub only_columns: Option<Vec<String>>,
}

/// What one pass collected.
#[derive(Debug, Clone)]
pub struct Pass {
    /// The customer table, with the row reconciliation.
    pub table: CustomerTable,
    /// The purchase periods, when asked for.
    pub periods: Option<PurchasePeriods>,
    /// The rejected rows (maybe none), when asked for.
    pub rejects: Option<RejectedRows>,
    /// Cohort retention, when asked for.
    pub cohorts: Option<CohortTable>,
    /// The data-quality statistics, when asked for.
    pub quality: Option<ValidRowStats>,
}

/// What one pass collected, with or without customers.
pub(crate) struct Parts {
    /// The customer table: [`crate::Error::NoCustomers`] when no customer has a used purchase.
    pub(crate) table: Result<CustomerTable>,
    /// The row reconciliation (in the table too, when there is one).
    pub(crate) reconciliation: RowReconciliation,
    pub(crate) periods: Option<PurchasePeriods>,
    pub(crate) rejects: Option<RejectedRows>,
    pub(crate) cohorts: Option<CohortTable>,
    pub(crate) quality: Option<ValidRowStats>,
}

impl Parts {
    fn into_pass(self) -> Result<Pass> {
        Ok(Pass {
            table: self.table?,
            periods: self.periods,
            rejects: self.rejects,
            cohorts: self.cohorts,
            quality: self.quality,
        })
    }
}

/// Rows per scan of Parquet input, at least (a window ends with a row group): about 70 MB of a
/// typical file. Larger windows are faster (each scan has its start-up) and hold more of the
/// file mapped and decoded. At 50M rows and 5M customers, 4M-row windows took 0.15-0.35 s less
/// than 2M-row ones and 50-80 MB more; the merge, no longer the peak of memory, left room
/// (docs/benchmarks.md).
const PARQUET_WINDOW_ROWS: u64 = 4_000_000;

/// Aggregates transactions into the customer table, reading the input once.
///
/// # Errors
///
/// [`crate::Error::NoCustomers`] when no customer has a used purchase; polars errors from
/// reading.
pub fn aggregate(tx: &Transactions, policy: &RowPolicy) -> Result<CustomerTable> {
    Ok(aggregate_with(tx, policy, &Collect::default())?.table)
}

/// Aggregates transactions into the customer table and collects what `collect` asks for, in
/// one read of the input.
///
/// # Errors
///
/// As [`aggregate`].
pub fn aggregate_with(tx: &Transactions, policy: &RowPolicy, collect: &Collect) -> Result<Pass> {
    read_in_windows(tx, policy, collect, PARQUET_WINDOW_ROWS)?.into_pass()
}

/// [`aggregate_with`], keeping what the pass collected when no customer has a used purchase.
pub(crate) fn read_once(tx: &Transactions, policy: &RowPolicy, collect: &Collect) -> Result<Parts> {
    read_in_windows(tx, policy, collect, PARQUET_WINDOW_ROWS)
}

/// [`aggregate_with`] with Parquet input scanned `window_rows` rows at a time.
#[cfg(test)]
pub(super) fn aggregate_in_windows(
    tx: &Transactions,
    policy: &RowPolicy,
    collect: &Collect,
    window_rows: u64,
) -> Result<Pass> {
    read_in_windows(tx, policy, collect, window_rows)?.into_pass()
}

fn read_in_windows(
    tx: &Transactions,
    policy: &RowPolicy,
    collect: &Collect,
    window_rows: u64,
) -> Result<Parts> {
    let has_order = tx.columns().order.is_some();
    let accumulator = |text_ids| {
        Accumulator::new(text_ids)
            .for_columns(collect.only_columns.as_deref())
            .with_periods(collect.periods)
            .with_cohorts(collect.cohorts)
            .with_stats(collect.quality.then_some(has_order))
    };
    let read = ReadOptions {
        keep_excluded: collect.periods.is_some() || collect.quality,
        rejects: collect.rejects,
        hash_rows: collect.quality,
    };
    if let Some(outcome) = plain_csv::accumulate(tx, policy, accumulator(true), read) {
        match outcome? {
            Outcome::Done(accumulator, rejects) => {
                tx.structure_is_clean();
                let only = collect.only_columns.as_deref();
                return finish_pass(tx, policy, *accumulator, &DataType::String, rejects, only);
            }
            Outcome::NotPlain(why) => {
                log::debug!("{}: read by polars' CSV reader: {why}", tx.source_name());
            }
        }
    }
    if !collect.quality
        && let Some(roles) = tx.typed_roles()
    {
        let sink = accumulator(roles.customer != typed::IdType::Int);
        return read_typed(tx, policy, collect, window_rows, &roles, sink);
    }
    let sink = |integer_ids: bool| accumulator(!integer_ids);
    read_with_polars(tx, policy, collect, window_rows, sink)
}

/// clientele's typed reader: polars decodes the role columns, the rules run in Rust.
fn read_typed(
    tx: &Transactions,
    policy: &RowPolicy,
    collect: &Collect,
    window_rows: u64,
    roles: &typed::TypedRoles,
    sink: Accumulator,
) -> Result<Parts> {
    let integer_ids = roles.customer == typed::IdType::Int;
    let parts = windows(tx, window_rows, |raw| raw)?;
    let keep_excluded = collect.periods.is_some();
    let accumulator = typed::accumulate(tx, roles, policy, parts, sink, keep_excluded)?;
    let id_dtype = match integer_ids {
        true => tx
            .schema()
            .get(&tx.columns().customer)
            .cloned()
            .unwrap_or(DataType::Int64),
        false => DataType::String,
    };
    let rejects = match collect.rejects {
        true => Some(polars_rejects(tx, policy, &accumulator)?.into()),
        false => None,
    };
    let only = collect.only_columns.as_deref();
    finish_pass(tx, policy, accumulator, &id_dtype, rejects, only)
}

/// Rows classified by the row rules' polars expressions, then accumulated.
fn read_with_polars(
    tx: &Transactions,
    policy: &RowPolicy,
    collect: &Collect,
    window_rows: u64,
    sink: impl Fn(bool) -> Accumulator,
) -> Result<Parts> {
    let id_dtype = tx
        .classify(policy)?
        .select([col(CUSTOMER_ID)])
        .collect_schema()
        .context(|| format!("{}: cannot read the schema", tx.source_name()))?
        .get(CUSTOMER_ID)
        .cloned()
        .unwrap_or(DataType::String);
    let integer_ids = id_dtype.is_integer() && id_dtype != DataType::UInt64;
    let parts = scans(tx, policy, integer_ids, window_rows, collect.quality)?;
    let raw_columns = tx.schema().len();
    let accumulator = accumulate::accumulate(parts, sink(integer_ids), raw_columns)
        .map_err(|e| aggregate_error(tx.source_name(), e))?;
    let rejects = match collect.rejects {
        true => Some(polars_rejects(tx, policy, &accumulator)?.into()),
        false => None,
    };
    let id_dtype = if integer_ids { &id_dtype } else { &DataType::String };
    let only = collect.only_columns.as_deref();
    finish_pass(tx, policy, accumulator, id_dtype, rejects, only)
}

/// The input in windows of rows for large Parquet input (polars maps each Parquet file whole
/// while it scans, so the pages read stay resident until the scan ends: windows of rows, one
/// scan each, keep that memory bounded, and peak memory a matter of customers, not rows), or
/// whole; each part made from the raw rows by `part`.
fn windows(
    tx: &Transactions,
    window_rows: u64,
    part: impl Fn(LazyFrame) -> LazyFrame,
) -> Result<Vec<LazyFrame>> {
    let Some(rows) = tx.parquet_rows()?.filter(|rows| *rows > window_rows) else {
        return Ok(vec![part(tx.rows()?)]);
    };
    // Windows end where row groups end, so that no row group is decoded twice (once for the
    // end of a window, once for the start of the next); fixed steps when the groups are not
    // known.
    let groups = tx
        .parquet_row_groups()
        .filter(|groups| groups.iter().sum::<u64>() == rows)
        .unwrap_or_else(|| vec![window_rows; rows.div_ceil(window_rows) as usize]);
    let mut bounds = vec![0u64];
    let mut end = 0u64;
    for group in groups {
        end = (end + group).min(rows);
        if end - bounds.last().copied().unwrap_or(0) >= window_rows {
            bounds.push(end);
        }
    }
    if bounds.last() != Some(&rows) {
        bounds.push(rows);
    }
    bounds
        .windows(2)
        .map(|w| Ok(part(tx.raw()?.slice(w[0] as i64, (w[1] - w[0]) as IdxSize))))
        .collect()
}

/// The classified scans of polars' path: windows of rows for large Parquet input.
fn scans(
    tx: &Transactions,
    policy: &RowPolicy,
    integer_ids: bool,
    window_rows: u64,
    with_raw: bool,
) -> Result<Vec<LazyFrame>> {
    let classified = |raw: LazyFrame| {
        let classified = match with_raw {
            true => tx.classify_frame_with_raw(raw, policy),
            false => tx.classify_frame(raw, policy),
        };
        if integer_ids {
            classified
        } else {
            classified.with_column(col(CUSTOMER_ID).cast(DataType::String))
        }
    };
    let parts = windows(tx, window_rows, classified)?;
    if log::log_enabled!(log::Level::Debug)
        && let Some(first) = parts.first()
    {
        match first.clone().select(accumulate::added_columns()).explain(true) {
            Ok(plan) => log::debug!(
                "{}: {} scan(s) into the accumulator, each with the plan\n{plan}",
                tx.source_name(),
                parts.len()
            ),
            Err(e) => log::debug!("{}: no plan to show: {e}", tx.source_name()),
        }
    }
    Ok(parts)
}

/// The rejected rows on polars' path: a query of their own when the pass found any, an empty
/// frame of the same columns otherwise (no read).
fn polars_rejects(tx: &Transactions, policy: &RowPolicy, accumulator: &Accumulator) -> Result<DataFrame> {
    let counts = RowReconciliation::from_status_counts(accumulator.status_counts());
    let query = tx.rejected_rows(policy)?;
    if counts.rejected_rows() == 0 {
        let mut query = query;
        let schema = query
            .collect_schema()
            .context(|| format!("{}: the columns of rejected rows", tx.source_name()))?;
        return Ok(DataFrame::empty_with_schema(&schema));
    }
    query
        .collect_with_engine(Engine::Streaming)
        .map(|r| r.unwrap_single())
        .context(|| format!("collecting rejected rows of {}", tx.source_name()))
}

fn finish_pass(
    tx: &Transactions,
    policy: &RowPolicy,
    accumulator: Accumulator,
    id_dtype: &DataType,
    rejects: Option<RejectedRows>,
    only_columns: Option<&[String]>,
) -> Result<Parts> {
    let reconciliation = RowReconciliation::from_status_counts(accumulator.status_counts());
    let finished = accumulator.finish(id_dtype)?;
    let periods = match (finished.periods, finished.period_status_counts) {
        (Some(frame), Some(status_counts)) => Some(PurchasePeriods { frame, status_counts }),
        _ => None,
    };
    Ok(Parts {
        table: finish_table(
            tx,
            policy,
            finished.customers,
            reconciliation.clone(),
            only_columns,
        ),
        reconciliation,
        periods,
        rejects,
        cohorts: finished.cohorts,
        quality: finished.stats,
    })
}
