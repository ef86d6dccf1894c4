//! Transactions into the buy-till-you-die summary per customer.
//!
//! Purchases are merged into periods (a calendar day by default): a *purchase period* is a
//! period with at least one used purchase line (amount ≥ 0); its value is the sum of the
//! period's used amounts (returns on that day net against it). With the customer's first
//! purchase period at day f, in the calibration window (up to and including the calibration
//! end day c):
//!
//! - `frequency` x = purchase periods − 1 (repeat purchases);
//! - `recency` t_x = (last purchase day − f) in the time unit (0 when x = 0);
//! - `T` = (c − f) in the time unit;
//! - `monetary_value` = mean value of the repeat purchase periods (0 when x = 0);
//! - `frequency_holdout` / `monetary_holdout`: purchase periods in (c, holdout end] and their
//!   mean value.
//!
//! Customers whose first purchase is after the calibration end are not in the summary; they
//! are counted.
//!
//! Under lifetimes' conventions ([`ClvConvention::Lifetimes`]), as its
//! `summary_data_from_transaction_data`: every period with a used row counts (one of refunds
//! only too), with weekly periods T runs to the Monday of the calibration end's week and every
//! row of that week counts, and a period's value is its rows' amounts summed as floats in the
//! order of timestamp and amount as pandas sums them ([`super::lifetimes::numpy_group_sum`]),
//! the mean over repeat periods as pandas' compensated mean ([`super::lifetimes::KahanSum`]).

use chrono::NaiveDate;
use polars::prelude::*;
use serde::Serialize;

use super::lifetimes::{KahanSum, numpy_group_sum};
use super::params::{ClvConvention, ClvValidParams, Period};
use crate::customers::{PeriodRequest, PurchasePeriods, integer_ids_if_lossless, sort_by_customer};
use crate::error::{Error, PolarsContext, Result};
use crate::frame::owned_column;
use crate::ingest::col_names::{AMOUNT_MICROS, CUSTOMER_ID, DAY, STATUS, TS};
use crate::ingest::time::epoch_days;
use crate::ingest::{MICROS_PER_UNIT, Transactions};
use crate::rows::rules::date_of_epoch_day;
use crate::rows::{AsOf, ReturnsPolicy, RowPolicy, RowReconciliation, RowStatus};

/// Output column names of the summary.
pub mod col_names {
    /// Repeat purchase periods in the calibration window.
    pub const FREQUENCY: &str = "frequency";
    /// Time from the first to the last purchase, in the time unit.
    pub const RECENCY: &str = "recency";
    /// Time from the first purchase to the calibration end.
    pub const T: &str = "T";
    /// Mean value of the repeat purchase periods.
    pub const MONETARY_VALUE: &str = "monetary_value";
    /// Purchase periods in the holdout window.
    pub const FREQUENCY_HOLDOUT: &str = "frequency_holdout";
    /// Mean value of the holdout purchase periods.
    pub const MONETARY_HOLDOUT: &str = "monetary_holdout";
}

/// The BTYD summary of a transaction log.
#[derive(Debug, Clone)]
pub struct BtydSummary {
    /// One row per customer with a purchase in the calibration window, sorted by id.
    pub frame: DataFrame,
    /// The last day of the calibration window.
    pub calibration_end: NaiveDate,
    /// The last day of the holdout window, if any.
    pub holdout_end: Option<NaiveDate>,
    /// Customers whose first purchase falls after the calibration end (not summarised).
    pub first_purchase_after_calibration: usize,
    /// Input rows by fate (rows after the holdout end, or the calibration end without a
    /// holdout, are excluded as `after_as_of`).
    pub reconciliation: RowReconciliation,
}

/// Facts about the summary, for reports.
#[derive(Debug, Clone, Serialize)]
pub struct SummaryFacts {
    /// Customers summarised.
    pub customers: usize,
    /// Customers with at least one repeat purchase.
    pub repeat_buyers: usize,
    /// Σ frequency.
    pub repeat_purchases: f64,
    /// The last calibration day.
    pub calibration_end: NaiveDate,
    /// The last holdout day.
    pub holdout_end: Option<NaiveDate>,
    /// Customers whose first purchase is after the calibration end.
    pub first_purchase_after_calibration: usize,
}

/// The summary from the `btyd_*` columns of a customer table aggregated elsewhere (see
/// [`crate::sql::BtydSql`]), with the same arithmetic as from transactions.
///
/// # Errors
///
/// [`Error::Clv`] when the table was aggregated with another period, calibration end or
/// holdout end than `params` ask for; [`Error::NoCustomers`] when nobody purchased in the
/// calibration window.
pub fn from_btyd_columns(
    source_name: &str,
    btyd: &DataFrame,
    params: &ClvValidParams,
    reconciliation: RowReconciliation,
) -> Result<BtydSummary> {
    use crate::columns::btyd_cols::*;
    if params.convention() == ClvConvention::Lifetimes {
        return Err(Error::Clv {
            detail: format!(
                "{source_name}: the btyd_* columns count purchase periods by clientele's conventions; \
                 lifetimes' (--preset lifetimes) need the transaction log"
            ),
        });
    }
    let days = |name: &str| -> Result<Vec<Option<i64>>> {
        let c = btyd
            .column(name)
            .context(|| name.to_string())?
            .cast(&DataType::Int64)
            .context(|| name.to_string())?;
        Ok(c.i64().context(|| name.to_string())?.iter().collect())
    };
    let (first, last, periods, repeat) = (
        days(FIRST_PERIOD)?,
        days(LAST_PERIOD)?,
        days(PERIODS)?,
        days(REPEAT_MICROS)?,
    );
    let (hold, hold_value) = (days(HOLDOUT_PERIODS)?, days(HOLDOUT_MICROS)?);
    let cal_ends = days(CALIBRATION_END)?;
    let holdout_ends = days(HOLDOUT_END)?;
    let (cal_end, calibration_end) = btyd_window(source_name, btyd, params, &cal_ends, &holdout_ends)?;
    let unit = params.time_unit().days();
    let mut columns = SummaryColumns::default();
    let mut after = 0usize;
    for row in 0..btyd.height() {
        let Some(f) = first[row] else { continue };
        let count = periods[row].unwrap_or(0);
        if count == 0 {
            after += 1;
            continue;
        }
        let periods = CustomerPeriods {
            first: f,
            last: last[row].unwrap_or(f),
            repeats: count - 1,
            repeat_value: repeat[row].unwrap_or(0),
            holdout: hold[row].unwrap_or(0),
            holdout_value: hold_value[row].unwrap_or(0),
            repeat_floats: None,
        };
        columns.push(row, periods, cal_end, unit);
    }
    let ids = btyd.column(CUSTOMER_ID).context(|| "customer ids".into())?;
    columns.finish(source_name, ids, params, calibration_end, after, reconciliation)
}

/// The calibration end of a table's `btyd_*` columns (days since the epoch, and as a date),
/// checked against the window and period `params` ask for.
fn btyd_window(
    source_name: &str,
    btyd: &DataFrame,
    params: &ClvValidParams,
    cal_ends: &[Option<i64>],
    holdout_ends: &[Option<i64>],
) -> Result<(i64, NaiveDate)> {
    use crate::columns::btyd_cols::PERIOD;
    let mismatch = |detail: String| Error::Clv {
        detail: format!("{source_name}: {detail}"),
    };
    let Some(cal_end) = cal_ends.iter().flatten().next().copied() else {
        return Err(Error::NoCustomers {
            source_name: source_name.to_string(),
            summary: "no customer has btyd purchase periods".into(),
        });
    };
    let calibration_end = date_of_epoch_day(cal_end);
    if params.calibration_end().is_some_and(|d| d != calibration_end) {
        return Err(mismatch(format!(
            "the table was aggregated with calibration end {calibration_end}; print the query again with --calibration-end"
        )));
    }
    let table_holdout = holdout_ends
        .iter()
        .flatten()
        .next()
        .map(|d| date_of_epoch_day(*d));
    if table_holdout != params.holdout_end() {
        return Err(mismatch(format!(
            "the table was aggregated with holdout end {}, not {}; print the query again with the same --holdout-end",
            table_holdout.map_or("none".into(), |d| d.to_string()),
            params.holdout_end().map_or("none".into(), |d| d.to_string())
        )));
    }
    let period = btyd
        .column(PERIOD)
        .context(|| PERIOD.into())?
        .str()
        .context(|| PERIOD.into())?
        .get(0)
        .unwrap_or("day")
        .to_string();
    let wanted = match params.period() {
        Period::Day => "day",
        Period::Week => "week",
    };
    if period != wanted {
        return Err(mismatch(format!(
            "the table counts purchases per {period}, the model asks per {wanted}"
        )));
    }
    Ok((cal_end, calibration_end))
}

/// Per-customer summary columns, filled customer by customer with one arithmetic for both
/// sources (transactions, or a customer table's btyd_* columns).
#[derive(Default)]
struct SummaryColumns {
    keep: Vec<IdxSize>,
    x: Vec<f64>,
    t_x: Vec<f64>,
    t: Vec<f64>,
    m: Vec<f64>,
    x_h: Vec<f64>,
    m_h: Vec<f64>,
}

/// One customer's purchase periods, in days since the epoch and micro-units.
struct CustomerPeriods {
    first: i64,
    last: i64,
    repeats: i64,
    repeat_value: i64,
    holdout: i64,
    holdout_value: i64,
    /// Under lifetimes' conventions, the repeat periods' values summed as pandas does.
    repeat_floats: Option<KahanSum>,
}

impl SummaryColumns {
    fn push(&mut self, row: usize, p: CustomerPeriods, cal_end: i64, unit: f64) {
        let mean = |value: i64, n: i64| {
            if n > 0 {
                value as f64 / MICROS_PER_UNIT / n as f64
            } else {
                0.0
            }
        };
        self.keep.push(row as IdxSize);
        self.x.push(p.repeats as f64);
        self.t_x.push((p.last - p.first) as f64 / unit);
        self.t.push((cal_end - p.first) as f64 / unit);
        self.m.push(match p.repeat_floats {
            Some(sum) if p.repeats > 0 => sum.sum() / p.repeats as f64,
            _ => mean(p.repeat_value, p.repeats),
        });
        self.x_h.push(p.holdout as f64);
        self.m_h.push(mean(p.holdout_value, p.holdout));
    }

    /// The summary of the kept rows of `ids` (sorted by customer id in the result).
    fn finish(
        self,
        source_name: &str,
        ids: &Column,
        params: &ClvValidParams,
        calibration_end: NaiveDate,
        first_purchase_after_calibration: usize,
        reconciliation: RowReconciliation,
    ) -> Result<BtydSummary> {
        if self.keep.is_empty() {
            return Err(Error::NoCustomers {
                source_name: source_name.to_string(),
                summary: format!("no purchase on or before the calibration end {calibration_end}"),
            });
        }
        let keep = IdxCa::from_vec("keep".into(), self.keep);
        let mut columns = vec![
            ids.take(&keep).context(|| "customer ids".into())?,
            owned_column(col_names::FREQUENCY, self.x),
            owned_column(col_names::RECENCY, self.t_x),
            owned_column(col_names::T, self.t),
            owned_column(col_names::MONETARY_VALUE, self.m),
        ];
        if params.holdout_end().is_some() {
            columns.push(owned_column(col_names::FREQUENCY_HOLDOUT, self.x_h));
            columns.push(owned_column(col_names::MONETARY_HOLDOUT, self.m_h));
        }
        let frame = DataFrame::new_infer_height(columns).context(|| "building the BTYD summary".into())?;
        let frame = sort_by_customer(integer_ids_if_lossless(frame)?)?;
        Ok(BtydSummary {
            frame,
            calibration_end,
            holdout_end: params.holdout_end(),
            first_purchase_after_calibration,
            reconciliation,
        })
    }
}

/// What the summary asks of a pass over the input (see
/// [`crate::customers::aggregate_with`]): the rows it uses end at the holdout end, else the
/// calibration end.
pub fn period_request(params: &ClvValidParams) -> PeriodRequest {
    PeriodRequest {
        last_day: last_day(params).map(epoch_days),
        weeks: params.period() == Period::Week,
    }
}

/// The last day of the rows the summary uses: the holdout end, else the calibration end (under
/// lifetimes' conventions with weekly periods, the last day of its week: lifetimes keeps every
/// row of the observation period's week).
fn last_day(params: &ClvValidParams) -> Option<NaiveDate> {
    if let Some(h) = params.holdout_end() {
        return Some(h);
    }
    let end = params.calibration_end()?;
    Some(match (params.convention(), params.period()) {
        (ClvConvention::Lifetimes, Period::Week) => {
            end + chrono::Duration::days(week_start(epoch_days(end)) + 6 - epoch_days(end))
        }
        _ => end,
    })
}

/// The first day (a Monday) of the week of `day` (days since the epoch). 1970-01-05 was a
/// Monday, day 4; the division truncates, as the period keys of the pass and of
/// [`summarize`] do.
fn week_start(day: i64) -> i64 {
    (day - 4) / 7 * 7 + 4
}

/// The summary from the purchase periods a pass collected with [`period_request`]: the same
/// as [`summarize`], without reading the input.
///
/// # Errors
///
/// [`Error::NoCustomers`] when nobody purchased in the calibration window; [`Error::Clv`]
/// under lifetimes' conventions, which need every row's amount ([`summarize`] reads them).
pub fn from_periods(
    source_name: &str,
    periods: &PurchasePeriods,
    params: &ClvValidParams,
) -> Result<BtydSummary> {
    if params.convention() == ClvConvention::Lifetimes {
        return Err(Error::Clv {
            detail: format!(
                "{source_name}: lifetimes' summary sums the rows' amounts as floats, in order: it is read by \
                 clv::summarize, not from a pass's purchase periods"
            ),
        });
    }
    let reconciliation = RowReconciliation::from_status_counts(periods.status_counts.iter().copied());
    build(source_name, &periods.frame, params, reconciliation)
}

/// Builds the summary (reads the input once).
///
/// # Errors
///
/// Read errors; [`Error::NoCustomers`] when nobody purchased in the calibration window.
pub fn summarize(tx: &Transactions, params: &ClvValidParams) -> Result<BtydSummary> {
    let last_day = last_day(params);
    let policy = RowPolicy {
        as_of: last_day.map_or(AsOf::DayAfterLatest, AsOf::Date),
        returns: ReturnsPolicy::Net,
    };
    let period_key = match params.period() {
        Period::Day => col(DAY).to_physical().cast(DataType::Int64),
        // Weeks start on Monday: 1970-01-05 was a Monday, day 4 since the epoch.
        Period::Week => {
            ((col(DAY).to_physical().cast(DataType::Int64) - lit(4i64)) / lit(7i64)) * lit(7i64) + lit(4i64)
        }
    };
    let classified = tx.classify(&policy)?;
    let lifetimes = params.convention() == ClvConvention::Lifetimes;
    let mut aggregates = vec![
        col(AMOUNT_MICROS).gt_eq(lit(0i64)).any(true).alias("purchase"),
        col(AMOUNT_MICROS).sum().alias("value"),
    ];
    let mut kept = vec![col(CUSTOMER_ID), col("period"), col("value")];
    if lifetimes {
        // lifetimes sorts the rows by customer, timestamp and amount, then sums each period.
        aggregates.push(
            col(AMOUNT_MICROS)
                .sort_by([col(TS), col(AMOUNT_MICROS)], SortMultipleOptions::default())
                .alias("amounts"),
        );
        kept.push(col("amounts"));
    }
    let periods = classified
        .clone()
        .filter(col(STATUS).eq(lit(RowStatus::Used.code())))
        .with_column(period_key.alias("period"))
        .group_by([col(CUSTOMER_ID), col("period")])
        .agg(aggregates)
        .filter(col("purchase").or(lit(lifetimes)))
        .select(kept)
        .sort(
            [CUSTOMER_ID, "period"],
            SortMultipleOptions::default().with_maintain_order(true),
        );
    let counts = crate::customers::status_counts(classified);
    let opt = periods.get_current_optimizations();
    let mut frames = LazyFrame::collect_all_with_engine(
        vec![periods.logical_plan, counts.logical_plan],
        Engine::Streaming,
        opt,
    )
    .context(|| format!("{}: cannot summarise purchases", tx.source_name()))?;
    let counts = frames.pop().expect("two plans");
    let periods = frames.pop().expect("two plans");
    let reconciliation = crate::customers::reconciliation_from(&counts)?;
    build(tx.source_name(), &periods, params, reconciliation)
}

fn build(
    source_name: &str,
    periods: &DataFrame,
    params: &ClvValidParams,
    reconciliation: RowReconciliation,
) -> Result<BtydSummary> {
    let unit = params.time_unit().days();
    let day = crate::frame::column_i64(periods, "period")?;
    let calibration_end = match params.calibration_end() {
        Some(date) => date,
        None => match day.iter().max() {
            Some(last) => date_of_epoch_day(*last),
            None => {
                return Err(Error::NoCustomers {
                    source_name: source_name.to_string(),
                    summary: reconciliation.one_line(),
                });
            }
        },
    };
    let cal_end = match (params.convention(), params.period()) {
        // lifetimes measures T to the start of the observation end's period.
        (ClvConvention::Lifetimes, Period::Week) => week_start(epoch_days(calibration_end)),
        _ => epoch_days(calibration_end),
    };
    let calibration_end = date_of_epoch_day(cal_end);
    let ids = periods.column(CUSTOMER_ID).context(|| "customer ids".into())?;
    let value = crate::frame::column_i64(periods, "value")?;
    let starts = customer_starts(ids)?;

    let floats = match params.convention() {
        ClvConvention::Lifetimes => Some(period_floats(periods)?),
        ClvConvention::Clientele => None,
    };
    let mut columns = SummaryColumns::default();
    let mut after = 0usize;
    for w in starts.windows(2) {
        let (lo, hi) = (w[0], w[1]);
        let first = day[lo];
        if first > cal_end {
            after += 1;
            continue;
        }
        let mut periods = CustomerPeriods {
            first,
            last: first,
            repeats: 0,
            repeat_value: 0,
            holdout: 0,
            holdout_value: 0,
            repeat_floats: floats.as_ref().map(|_| KahanSum::default()),
        };
        for i in lo + 1..hi {
            if day[i] <= cal_end {
                periods.repeats += 1;
                periods.last = day[i];
                periods.repeat_value += value[i];
                if let (Some(sum), Some(floats)) = (&mut periods.repeat_floats, &floats) {
                    sum.add(floats[i]);
                }
            } else {
                periods.holdout += 1;
                periods.holdout_value += value[i];
            }
        }
        columns.push(lo, periods, cal_end, unit);
    }
    columns.finish(source_name, ids, params, calibration_end, after, reconciliation)
}

/// Each period's value as lifetimes has it: its rows' amounts as floats, in the order of
/// timestamp and amount, summed as pandas does ([`numpy_group_sum`]).
fn period_floats(periods: &DataFrame) -> Result<Vec<f64>> {
    let amounts = periods
        .column("amounts")
        .context(|| "amounts".into())?
        .list()
        .context(|| "amounts".into())?
        .clone();
    let mut out = Vec::with_capacity(amounts.len());
    let mut values = Vec::new();
    for list in amounts.amortized_iter() {
        values.clear();
        if let Some(series) = list {
            let micros = series.as_ref().i64().context(|| "amounts".into())?.clone();
            values.extend(micros.iter().flatten().map(|m| m as f64 / MICROS_PER_UNIT));
        }
        out.push(numpy_group_sum(&values));
    }
    Ok(out)
}

/// The first row of each customer in rows sorted by customer, then the number of rows.
fn customer_starts(ids: &Column) -> Result<Vec<usize>> {
    let same = ids
        .as_materialized_series()
        .shift(1)
        .equal_missing(ids.as_materialized_series())
        .context(|| "customer boundaries".into())?;
    let mut starts: Vec<usize> = same
        .iter()
        .enumerate()
        .filter(|(_, s)| *s != Some(true))
        .map(|(i, _)| i)
        .collect();
    starts.push(ids.len());
    Ok(starts)
}

impl BtydSummary {
    /// A column as floats.
    pub(crate) fn values(&self, name: &str) -> Result<Vec<f64>> {
        crate::frame::column_f64(&self.frame, name)
    }

    /// Facts for reports.
    pub fn facts(&self) -> Result<SummaryFacts> {
        let x = self.values(col_names::FREQUENCY)?;
        Ok(SummaryFacts {
            customers: x.len(),
            repeat_buyers: x.iter().filter(|v| **v > 0.0).count(),
            repeat_purchases: x.iter().sum(),
            calibration_end: self.calibration_end,
            holdout_end: self.holdout_end,
            first_purchase_after_calibration: self.first_purchase_after_calibration,
        })
    }
}
