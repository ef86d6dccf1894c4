//! Purchase periods per customer for the buy-till-you-die summary, collected in the pass that
//! aggregates customers, so that lifetime value needs no second read of the input.
//!
//! The summary has a row policy of its own (`clv/summary.rs`): every valid row dated up to
//! its last day (the holdout end, else the calibration end, else the latest date) is used,
//! returns netted. A row's status under the segmentation's policy tells it apart: rejected
//! rows are rejected under both, and the only exclusions, `after_as_of` and `return`, are
//! policies the summary replaces by its own date limit. Rows are merged into `(customer,
//! period)` sums as they come: a customer's current period is kept open and closed when
//! another begins, so a log in time order stores each period once; the closed periods are
//! sorted and merged at the end.
//!
//! The same state collects the cohort periods of cohort retention (`cohorts`): the used rows
//! only, by week, month or quarter, returns kept (a cohort's revenue nets them).

use polars::prelude::*;
use rayon::prelude::*;

use super::slots::TAG;

use crate::cohorts::{CohortPeriod, CohortTable};
use crate::error::{PolarsContext, Result};
use crate::rows::rules::MICROS_PER_DAY;
use crate::rows::{ExclusionReason, RowStatus};

/// What the summary asks of the pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeriodRequest {
    /// Rows dated after this day (days since the epoch) are excluded (`after_as_of`).
    pub last_day: Option<i64>,
    /// Weeks starting on Monday instead of calendar days.
    pub weeks: bool,
}

/// The purchase periods a pass collected.
#[derive(Debug, Clone)]
pub struct PurchasePeriods {
    /// `customer_id, period, value`: each period (its first day, days since the epoch) with a
    /// used purchase line, the sum of its used amounts in micro-units; grouped by customer in
    /// id order, periods ascending.
    pub frame: DataFrame,
    /// Status code → rows under the summary's policy.
    pub status_counts: Vec<(u8, u64)>,
}

/// A customer's current period.
#[derive(Clone, Copy)]
struct Open {
    period: i64,
    value: i64,
    purchase: bool,
}

const NOT_OPEN: Open = Open {
    period: i64::MIN,
    value: 0,
    purchase: false,
};

/// A period closed by a later one: `(customer, period, value, purchase)`.
type Closed = (u32, i64, i64, bool);

/// What a row's day is grouped into.
#[derive(Clone, Copy)]
enum Bucket {
    /// The summary's periods: days, or weeks (their Monday, as days since the epoch).
    Summary { weeks: bool },
    /// A cohort period's index ([`CohortPeriod::index`]).
    Cohort(CohortPeriod),
}

/// The running state of the periods of one pass.
pub(crate) struct Periods {
    last_day: Option<i64>,
    bucket: Bucket,
    /// The open period of each customer by slot below [`TAG`], and of the tagged slots.
    open: Vec<Open>,
    open_tagged: Vec<Open>,
    closed: Vec<Closed>,
    used: u64,
    after: u64,
    /// The latest period of any row added.
    latest: i64,
}

impl Periods {
    /// The summary's purchase periods.
    pub(crate) fn new(request: PeriodRequest) -> Self {
        Self::with_bucket(request.last_day, Bucket::Summary { weeks: request.weeks })
    }

    /// The cohort periods: fed the used rows only.
    pub(crate) fn cohorts(period: CohortPeriod) -> Self {
        Self::with_bucket(None, Bucket::Cohort(period))
    }

    fn with_bucket(last_day: Option<i64>, bucket: Bucket) -> Self {
        Periods {
            last_day,
            bucket,
            open: Vec::new(),
            open_tagged: Vec::new(),
            closed: Vec::new(),
            used: 0,
            after: 0,
            latest: i64::MIN,
        }
    }

    /// One valid row: customer index, timestamp (microseconds), amount (micro-units).
    #[inline]
    pub(crate) fn add(&mut self, customer: u32, ts: i64, amount: i64) {
        let day = ts.div_euclid(MICROS_PER_DAY);
        if self.last_day.is_some_and(|last| day > last) {
            self.after += 1;
            return;
        }
        self.used += 1;
        let period = match self.bucket {
            // Weeks start on Monday: 1970-01-05 was a Monday, day 4 since the epoch. The
            // division truncates, as the polars expression of `clv::summary::summarize` does.
            Bucket::Summary { weeks: true } => (day - 4) / 7 * 7 + 4,
            Bucket::Summary { weeks: false } => day,
            Bucket::Cohort(cohort) => cohort.index(day),
        };
        self.latest = self.latest.max(period);
        let (open, c) = match customer < TAG {
            true => (&mut self.open, customer as usize),
            false => (&mut self.open_tagged, (customer - TAG) as usize),
        };
        if c >= open.len() {
            open.resize((c + 1).max(open.len() * 3 / 2), NOT_OPEN);
        }
        let open = &mut open[c];
        if open.period != period {
            if open.period != NOT_OPEN.period {
                self.closed
                    .push((customer, open.period, open.value, open.purchase));
            }
            *open = Open {
                period,
                value: 0,
                purchase: false,
            };
        }
        open.value += amount;
        open.purchase |= amount >= 0;
    }

    /// Every period of every customer, closed, the customers known by their position in the
    /// customer table (`position` of a slot).
    pub(crate) fn into_records(self, position: impl Fn(u32) -> u32) -> PeriodRecords {
        let Periods {
            bucket,
            open,
            open_tagged,
            mut closed,
            used,
            after,
            latest,
            ..
        } = self;
        let open_slots = |open: Vec<Open>, base: u32| {
            open.into_iter()
                .enumerate()
                .filter(|(_, o)| o.period != NOT_OPEN.period)
                .map(move |(c, o)| (c as u32 + base, o.period, o.value, o.purchase))
        };
        closed.extend(open_slots(open, 0));
        closed.extend(open_slots(open_tagged, TAG));
        for record in &mut closed {
            record.0 = position(record.0);
        }
        PeriodRecords {
            bucket,
            closed,
            used,
            after,
            latest,
        }
    }
}

/// The periods of every shard, customers known by their position in the customer table.
pub(crate) struct PeriodRecords {
    bucket: Bucket,
    closed: Vec<Closed>,
    used: u64,
    after: u64,
    latest: i64,
}

impl PeriodRecords {
    /// Takes in another shard's records of the same request.
    pub(crate) fn absorb(&mut self, other: PeriodRecords) {
        self.closed.extend(other.closed);
        self.used += other.used;
        self.after += other.after;
        self.latest = self.latest.max(other.latest);
    }

    /// The status counts under the summary's policy, from the pass's: rejected rows as
    /// counted there, valid rows used or dated after the last day.
    pub(crate) fn status_counts(&self, pass: impl Iterator<Item = (u8, u64)>) -> Vec<(u8, u64)> {
        let mut counts: Vec<(u8, u64)> = pass
            .filter(|(code, _)| matches!(RowStatus::from_code(*code), Some(RowStatus::Rejected(_))))
            .collect();
        counts.push((RowStatus::Used.code(), self.used));
        counts.push((RowStatus::Excluded(ExclusionReason::AfterAsOf).code(), self.after));
        counts.retain(|(_, n)| *n > 0);
        counts
    }

    /// The cohort matrix of the periods collected by [`Periods::cohorts`] (customer positions
    /// group the rows; the matrix does not depend on their order).
    pub(crate) fn finish_cohorts(self) -> CohortTable {
        let Bucket::Cohort(period) = self.bucket else {
            unreachable!("finish_cohorts is called on the periods of cohorts only")
        };
        let mut closed = self.closed;
        closed.par_sort_unstable_by_key(|r| (r.0, r.1));
        crate::cohorts::from_periods(merged(closed), self.latest, period)
    }

    /// The periods with a purchase, ids from `ids` (the customers' ids by position).
    pub(crate) fn finish(self, ids: &Column) -> Result<DataFrame> {
        let mut closed = self.closed;
        closed.par_sort_unstable_by_key(|r| (r.0, r.1));
        let (mut take, mut period, mut value) = (Vec::new(), Vec::new(), Vec::new());
        for (at, day, sum, purchase) in merged(closed) {
            if purchase {
                take.push(at as IdxSize);
                period.push(day);
                value.push(sum);
            }
        }
        let n = take.len();
        let ids = ids
            .take(&IdxCa::from_vec("take".into(), take))
            .context(|| "customer ids of purchase periods".into())?;
        DataFrame::new(
            n,
            vec![
                ids,
                crate::frame::owned_column("period", period),
                crate::frame::owned_column("value", value),
            ],
        )
        .context(|| "building the purchase periods".into())
    }
}

/// Sorted records with the records of one customer and period merged into one.
fn merged(sorted: Vec<Closed>) -> impl Iterator<Item = Closed> {
    let mut records = sorted.into_iter().peekable();
    std::iter::from_fn(move || {
        let (at, period, mut sum, mut purchase) = records.next()?;
        while let Some(next) = records.next_if(|r| r.0 == at && r.1 == period) {
            sum += next.2;
            purchase |= next.3;
        }
        Some((at, period, sum, purchase))
    })
}
