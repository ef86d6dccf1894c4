//! Cohort retention: customers grouped by the period (week, month or quarter) of their first
//! purchase; per cohort and period offset, the share of the cohort that bought in that period
//! and the revenue per cohort customer.
//!
//! The rows are those the customer table uses (the same row policy: as-of date and returns):
//!
//! - a customer's **cohort** is the period holding the date of its first purchase line (a used
//!   row with amount ≥ 0, as `first_purchase`); customers without one (only returns) are in no
//!   cohort, as they are in no customer table;
//! - **offset** k of a period is the number of whole periods from the cohort's period to it
//!   (0 = the cohort's own period);
//! - **active** customers at offset k: the cohort's customers with a purchase line in that
//!   period; **retention** = active / cohort customers (1 at offset 0 by definition);
//! - **revenue** at offset k: the sum of the cohort's used amounts dated in that period (returns
//!   net in, under `--returns net`); a return dated before the customer's first purchase counts
//!   at offset 0, so the revenues of all cells add up to the customers' total monetary value;
//!   **revenue per customer** = revenue / cohort customers;
//! - the cells of a cohort run from offset 0 to the period of the latest used row (that last
//!   period may be partly covered by the data); later cells are not in the table.
//!
//! Weeks run Monday to Sunday; months and quarters are calendar ones.
//!
//! ```
//! use clientele::cohorts::{self, CohortPeriod};
//! use clientele::ingest::{self, IngestOptions};
//! use clientele::polars::prelude::*;
//! use clientele::RowPolicy;
//!
//! let orders = df!(
//!     "customer_id" => ["a", "a", "b", "c"],
//!     "order_date" => ["2024-01-05", "2024-03-01", "2024-01-20", "2024-02-02"],
//!     "amount" => [10.0, 25.0, 7.5, 100.0],
//! )?;
//! let tx = ingest::from_frame("orders", orders.lazy(), &IngestOptions::default())?;
//! let table = cohorts::compute(&tx, &RowPolicy::default(), CohortPeriod::Month)?;
//! let january = &table.cohorts[0];
//! assert_eq!((january.cohort.as_str(), january.customers), ("2024-01", 2));
//! assert_eq!(january.retention, vec![1.0, 0.0, 0.5]); // a bought again in March
//! assert_eq!(table.cohorts[1].revenue_per_customer, vec![100.0, 0.0]); // c, February
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use chrono::{Datelike, NaiveDate};
use polars::prelude::*;
use serde::Serialize;

use crate::error::{PolarsContext, Result};
use crate::ingest::col_names::{AMOUNT_MICROS, CUSTOMER_ID, DAY, STATUS};
use crate::ingest::{MICROS_PER_UNIT, Transactions};
use crate::rows::rules::{date_of_epoch_day, epoch_days};
use crate::rows::{RowPolicy, RowStatus};

/// The period customers are grouped by and retention is measured in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CohortPeriod {
    /// Monday-to-Sunday weeks.
    Week,
    /// Calendar months.
    #[default]
    Month,
    /// Calendar quarters.
    Quarter,
}

impl CohortPeriod {
    /// The period index of a day (days since the epoch): weeks since the Monday 1970-01-05,
    /// months or quarters since January 1970.
    pub fn index(self, day: i64) -> i64 {
        match self {
            // 1970-01-05 was a Monday, day 4 since the epoch.
            CohortPeriod::Week => (day - 4).div_euclid(7),
            CohortPeriod::Month => month_index(day),
            CohortPeriod::Quarter => month_index(day).div_euclid(3),
        }
    }

    /// The first day of the period with this index.
    pub fn start(self, index: i64) -> NaiveDate {
        let month = |m: i64| {
            NaiveDate::from_ymd_opt(m.div_euclid(12) as i32, m.rem_euclid(12) as u32 + 1, 1)
                .expect("a valid month")
        };
        match self {
            CohortPeriod::Week => date_of_epoch_day(index * 7 + 4),
            CohortPeriod::Month => month(index),
            CohortPeriod::Quarter => month(index * 3),
        }
    }

    /// The period's label: the Monday of a week (`2011-01-03`), `2011-01`, `2011-Q1`.
    pub fn label(self, index: i64) -> String {
        let start = self.start(index);
        match self {
            CohortPeriod::Week => start.format("%Y-%m-%d").to_string(),
            CohortPeriod::Month => start.format("%Y-%m").to_string(),
            CohortPeriod::Quarter => format!("{}-Q{}", start.year(), start.month0() / 3 + 1),
        }
    }
}

/// Months since January of year 0 (year × 12 + month − 1) of a day since the epoch, in
/// integer arithmetic (Howard Hinnant's `civil_from_days`): the pass calls it on every row.
fn month_index(day: i64) -> i64 {
    let z = day + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    // mp counts months from March: January and February belong to the next year.
    let (year, month0) = if mp < 10 {
        (yoe + era * 400, mp + 2)
    } else {
        (yoe + era * 400 + 1, mp - 10)
    };
    year * 12 + month0
}

/// One cohort's row of the retention matrix; the vectors are indexed by period offset.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cohort {
    /// The label of the cohort's period.
    pub cohort: String,
    /// The first day of the cohort's period.
    pub start: NaiveDate,
    /// Customers whose first purchase is in the period.
    pub customers: usize,
    /// Customers of the cohort with a purchase in each period.
    pub active: Vec<usize>,
    /// active / customers.
    pub retention: Vec<f64>,
    /// Revenue of the cohort's customers in each period.
    pub revenue: Vec<f64>,
    /// revenue / customers.
    pub revenue_per_customer: Vec<f64>,
}

/// The retention matrix.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CohortTable {
    /// The period of cohorts and offsets.
    pub period: CohortPeriod,
    /// The label of the last period in the data (the latest used row's).
    pub last_period: String,
    /// The cohorts, oldest first.
    pub cohorts: Vec<Cohort>,
}

/// The cohort matrix of a transaction log under a row policy (one query over the used rows).
///
/// # Errors
///
/// Read errors.
pub fn compute(tx: &Transactions, policy: &RowPolicy, period: CohortPeriod) -> Result<CohortTable> {
    let days = tx
        .classify(policy)?
        .filter(col(STATUS).eq(lit(RowStatus::Used.code())))
        .select([
            col(CUSTOMER_ID),
            col(DAY).to_physical().cast(DataType::Int64).alias("day"),
            col(AMOUNT_MICROS),
        ])
        .group_by([col(CUSTOMER_ID), col("day")])
        .agg([
            col(AMOUNT_MICROS).sum().alias("value"),
            col(AMOUNT_MICROS).gt_eq(lit(0i64)).any(true).alias("purchase"),
        ])
        .select([col(CUSTOMER_ID), col("day"), col("value"), col("purchase")])
        .collect_with_engine(Engine::Streaming)
        .map(|r| r.unwrap_single())
        .context(|| format!("{}: cannot collect the purchases of cohorts", tx.source_name()))?;
    from_days(&days, period)
}

/// The matrix from `customer_id, day, value, purchase` (one row per customer and day).
fn from_days(days: &DataFrame, period: CohortPeriod) -> Result<CohortTable> {
    let sorted = days
        .sort(
            [CUSTOMER_ID, "day"],
            SortMultipleOptions::default().with_maintain_order(true),
        )
        .context(|| "sorting the purchases of cohorts".into())?;
    let ints = |name: &str| crate::frame::column_i64(&sorted, name);
    let (day, value) = (ints("day")?, ints("value")?);
    let purchase: Vec<bool> = sorted
        .column("purchase")
        .context(|| "purchase".into())?
        .bool()
        .context(|| "purchase".into())?
        .iter()
        .map(|v| v.unwrap_or(false))
        .collect();
    let ids = sorted.column(CUSTOMER_ID).context(|| "customer ids".into())?;
    let same = ids
        .as_materialized_series()
        .shift(1)
        .equal_missing(ids.as_materialized_series())
        .context(|| "customer boundaries".into())?;
    let mut customer = 0u32;
    let records = (0..sorted.height()).map(|i| {
        if i > 0 && same.get(i) != Some(true) {
            customer += 1;
        }
        (customer, period.index(day[i]), value[i], purchase[i])
    });
    let last = day.iter().max().map_or(0, |d| period.index(*d));
    Ok(from_periods(records, last, period))
}

/// The matrix from `(customer, period index, value, purchase)` records: grouped by customer
/// (any number), periods ascending within a customer, maybe several records per period;
/// `last` is the index of the latest used row's period.
pub(crate) fn from_periods(
    records: impl Iterator<Item = (u32, i64, i64, bool)>,
    last: i64,
    period: CohortPeriod,
) -> CohortTable {
    let mut cells = Cells::default();
    let mut records = records.peekable();
    let mut rows = Vec::new();
    while let Some(first) = records.next() {
        rows.clear();
        rows.push(first);
        while let Some(next) = records.next_if(|r| r.0 == first.0) {
            rows.push(next);
        }
        let Some(cohort) = rows.iter().find(|r| r.3).map(|r| r.1) else {
            continue; // only returns: in no customer table, in no cohort
        };
        let mut last_active = None;
        for &(_, index, value, purchase) in &rows {
            let offset = (index - cohort).max(0) as usize;
            cells.add(cohort, offset, value, purchase && last_active != Some(offset));
            if purchase {
                last_active = Some(offset);
            }
        }
        cells.customer(cohort);
    }
    let last = if last == i64::MIN { 0 } else { last };
    cells.table(period, last)
}

/// Sums per (cohort, offset) as customers are read.
#[derive(Default)]
struct Cells {
    /// cohort index → (customers, active per offset, revenue micros per offset).
    by_cohort: std::collections::BTreeMap<i64, (usize, Vec<usize>, Vec<i64>)>,
}

impl Cells {
    fn add(&mut self, cohort: i64, offset: usize, value: i64, newly_active: bool) {
        let entry = self.by_cohort.entry(cohort).or_default();
        if entry.1.len() <= offset {
            entry.1.resize(offset + 1, 0);
            entry.2.resize(offset + 1, 0);
        }
        entry.2[offset] += value;
        if newly_active {
            entry.1[offset] += 1;
        }
    }

    fn customer(&mut self, cohort: i64) {
        self.by_cohort.entry(cohort).or_default().0 += 1;
    }

    fn table(self, period: CohortPeriod, last: i64) -> CohortTable {
        let cohorts = self
            .by_cohort
            .into_iter()
            .map(|(index, (customers, mut active, mut revenue))| {
                let cells = (last - index + 1).max(1) as usize;
                active.resize(cells, 0);
                revenue.resize(cells, 0);
                let n = customers as f64;
                let revenue: Vec<f64> = revenue.iter().map(|v| *v as f64 / MICROS_PER_UNIT).collect();
                Cohort {
                    cohort: period.label(index),
                    start: period.start(index),
                    customers,
                    retention: active.iter().map(|a| *a as f64 / n).collect(),
                    revenue_per_customer: revenue.iter().map(|r| r / n).collect(),
                    active,
                    revenue,
                }
            })
            .collect();
        CohortTable {
            period,
            last_period: period.label(last),
            cohorts,
        }
    }
}

impl CohortTable {
    /// The matrix as a long table, one row per cohort and offset: `cohort, cohort_start,
    /// customers, offset, period_start, active_customers, retention, revenue,
    /// revenue_per_customer`.
    ///
    /// # Errors
    ///
    /// Only if polars fails building the frame.
    pub fn to_frame(&self) -> Result<DataFrame> {
        let mut t = LongTable::default();
        for c in &self.cohorts {
            let index = self.period.index(epoch_days(c.start));
            for offset in 0..c.active.len() {
                t.cohort.push(c.cohort.clone());
                t.cohort_start.push(c.start);
                t.customers.push(c.customers as u64);
                t.offset.push(offset as u32);
                t.period_start.push(self.period.start(index + offset as i64));
                t.active.push(c.active[offset] as u64);
                t.retention.push(c.retention[offset]);
                t.revenue.push(c.revenue[offset]);
                t.per_customer.push(c.revenue_per_customer[offset]);
            }
        }
        let height = t.cohort.len();
        DataFrame::new(
            height,
            vec![
                Column::new("cohort".into(), t.cohort),
                Column::new("cohort_start".into(), t.cohort_start),
                Column::new("customers".into(), t.customers),
                Column::new("offset".into(), t.offset),
                Column::new("period_start".into(), t.period_start),
                Column::new("active_customers".into(), t.active),
                Column::new("retention".into(), t.retention),
                Column::new("revenue".into(), t.revenue),
                Column::new("revenue_per_customer".into(), t.per_customer),
            ],
        )
        .context(|| "building the cohort table".into())
    }
}

#[derive(Default)]
struct LongTable {
    cohort: Vec<String>,
    cohort_start: Vec<NaiveDate>,
    customers: Vec<u64>,
    offset: Vec<u32>,
    period_start: Vec<NaiveDate>,
    active: Vec<u64>,
    retention: Vec<f64>,
    revenue: Vec<f64>,
    per_customer: Vec<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> i64 {
        epoch_days(NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap())
    }

    #[test]
    fn month_index_is_the_calendar_s() {
        for d in (-800_000..800_000).step_by(7).chain(-1_000..1_000) {
            let date = date_of_epoch_day(d);
            assert_eq!(
                month_index(d),
                date.year() as i64 * 12 + date.month0() as i64,
                "{date}"
            );
        }
    }

    #[test]
    fn periods_index_label_and_start_agree() {
        for p in [CohortPeriod::Week, CohortPeriod::Month, CohortPeriod::Quarter] {
            for d in [
                "1969-12-31",
                "2010-12-01",
                "2011-01-02",
                "2011-12-09",
                "2024-02-29",
            ] {
                let i = p.index(day(d));
                assert!(p.start(i) <= NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap());
                assert_eq!(p.index(day(&p.start(i).to_string())), i, "{p:?} {d}");
                assert_eq!(p.index(day(&p.start(i + 1).to_string())), i + 1, "{p:?} {d}");
            }
        }
        assert_eq!(
            CohortPeriod::Week.label(CohortPeriod::Week.index(day("2011-01-02"))),
            "2010-12-27"
        );
        assert_eq!(
            CohortPeriod::Month.label(CohortPeriod::Month.index(day("2011-01-02"))),
            "2011-01"
        );
        assert_eq!(
            CohortPeriod::Quarter.label(CohortPeriod::Quarter.index(day("2011-12-09"))),
            "2011-Q4"
        );
    }

    #[test]
    fn a_customer_counts_once_per_period_and_early_returns_count_at_offset_zero() {
        let days = df!(
            CUSTOMER_ID => ["a", "a", "a", "a", "b", "c"],
            "day" => [day("2024-01-03"), day("2024-01-05"), day("2024-02-01"), day("2024-02-09"), day("2024-02-10"), day("2024-03-01")],
            "value" => [-5_000_000i64, 10_000_000, 20_000_000, 1_000_000, 8_000_000, -3_000_000],
            "purchase" => [false, true, true, true, true, false],
        )
        .unwrap();
        let t = from_days(&days, CohortPeriod::Month).unwrap();
        assert_eq!(t.cohorts.len(), 2, "c has only a return: no cohort");
        let (jan, feb) = (&t.cohorts[0], &t.cohorts[1]);
        assert_eq!((jan.cohort.as_str(), jan.customers), ("2024-01", 1));
        assert_eq!(jan.active, vec![1, 1, 0]);
        assert_eq!(jan.revenue, vec![5.0, 21.0, 0.0]);
        assert_eq!(
            (feb.active.clone(), feb.revenue.clone()),
            (vec![1, 0], vec![8.0, 0.0])
        );
        assert_eq!(t.last_period, "2024-03");
        let frame = t.to_frame().unwrap();
        assert_eq!(frame.height(), 5);
    }
}
