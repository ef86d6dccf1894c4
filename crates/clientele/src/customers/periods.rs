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

use polars::prelude::*;

use crate::error::{PolarsContext, Result};
use crate::rows::{ExclusionReason, RowStatus};

const MICROS_PER_DAY: i64 = 86_400_000_000;

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

/// The running state of the periods of one pass.
pub(crate) struct Periods {
    request: PeriodRequest,
    open: Vec<Open>,
    closed: Vec<Closed>,
    used: u64,
    after: u64,
}

impl Periods {
    pub(crate) fn new(request: PeriodRequest) -> Self {
        Periods {
            request,
            open: Vec::new(),
            closed: Vec::new(),
            used: 0,
            after: 0,
        }
    }

    /// One valid row: customer index, timestamp (microseconds), amount (micro-units).
    #[inline]
    pub(crate) fn add(&mut self, customer: u32, ts: i64, amount: i64) {
        let day = ts.div_euclid(MICROS_PER_DAY);
        if self.request.last_day.is_some_and(|last| day > last) {
            self.after += 1;
            return;
        }
        self.used += 1;
        // Weeks start on Monday: 1970-01-05 was a Monday, day 4 since the epoch. The division
        // truncates, as the polars expression of `clv::summary::summarize` does.
        let period = if self.request.weeks {
            (day - 4) / 7 * 7 + 4
        } else {
            day
        };
        let c = customer as usize;
        if c >= self.open.len() {
            self.open.resize((c + 1).max(self.open.len() * 3 / 2), NOT_OPEN);
        }
        let open = &mut self.open[c];
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

    /// The periods with a purchase, ids from `ids` (the customers' ids in id order, `order`
    /// the customer index at each position).
    pub(crate) fn finish(self, order: &[u32], ids: &Column) -> Result<DataFrame> {
        let Periods { open, mut closed, .. } = self;
        closed.extend(
            open.iter()
                .enumerate()
                .filter(|(_, o)| o.period != NOT_OPEN.period)
                .map(|(c, o)| (c as u32, o.period, o.value, o.purchase)),
        );
        drop(open);
        let mut position = vec![u32::MAX; order.len()];
        for (at, c) in order.iter().enumerate() {
            position[*c as usize] = at as u32;
        }
        for record in &mut closed {
            record.0 = position[record.0 as usize];
        }
        closed.sort_unstable_by_key(|r| (r.0, r.1));
        let (mut take, mut period, mut value) = (Vec::new(), Vec::new(), Vec::new());
        let mut records = closed.into_iter().peekable();
        while let Some((at, day, mut sum, mut purchase)) = records.next() {
            while let Some(next) = records.next_if(|r| r.0 == at && r.1 == day) {
                sum += next.2;
                purchase |= next.3;
            }
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
                Column::new("period".into(), period),
                Column::new("value".into(), value),
            ],
        )
        .context(|| "building the purchase periods".into())
    }
}
