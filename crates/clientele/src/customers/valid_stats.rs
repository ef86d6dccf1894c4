//! The data-quality statistics collected in the pass (see `quality`): the valid rows' amounts
//! by sign, their first and last timestamps and distinct order ids, and the hashes of whole
//! rows for the duplicate count. Distinct customer ids are the accumulator's own customers
//! (it is fed every valid row when these are asked for).

use polars::prelude::PlHashSet;

/// Rows and the exact sum (micro-units) of a class of amounts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SignedAmounts {
    /// Rows.
    pub rows: u64,
    /// Σ amount in micro-units.
    pub micros: i128,
}

/// What the pass gives the data-quality report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValidRowStats {
    /// Distinct customer ids among valid rows.
    pub distinct_customer_ids: u64,
    /// Distinct order keys among valid rows (when the input has an order column).
    pub distinct_orders: Option<u64>,
    /// Readable rows (records that are rows of the table) identical in every field to an
    /// earlier one.
    pub duplicate_rows: u64,
    /// Valid rows with a negative amount.
    pub negative: SignedAmounts,
    /// Valid rows with a zero amount.
    pub zero: SignedAmounts,
    /// Valid rows with a positive amount.
    pub positive: SignedAmounts,
    /// Earliest and latest valid timestamps (microseconds), when there is a valid row.
    pub first_ts: Option<i64>,
    /// See `first_ts`.
    pub last_ts: Option<i64>,
}

/// The running state.
pub(crate) struct ValidStats {
    stats: ValidRowStats,
    orders: Option<PlHashSet<u64>>,
    hashes: PlHashSet<u128>,
    hashed: u64,
}

impl ValidStats {
    pub(crate) fn new(has_order: bool) -> Self {
        ValidStats {
            stats: ValidRowStats::default(),
            orders: has_order.then(PlHashSet::default),
            hashes: PlHashSet::default(),
            hashed: 0,
        }
    }

    /// One valid row: timestamp, amount in micro-units, order key.
    #[inline]
    pub(crate) fn add(&mut self, ts: i64, amount: i64, order: u64) {
        let s = &mut self.stats;
        let class = match amount.signum() {
            -1 => &mut s.negative,
            0 => &mut s.zero,
            _ => &mut s.positive,
        };
        class.rows += 1;
        class.micros += amount as i128;
        s.first_ts = Some(s.first_ts.map_or(ts, |f| f.min(ts)));
        s.last_ts = Some(s.last_ts.map_or(ts, |l| l.max(ts)));
        if let Some(orders) = &mut self.orders {
            orders.insert(order);
        }
    }

    /// The hashes of readable rows (see `ingest::row_hash`).
    pub(crate) fn add_hashes(&mut self, hashes: &[u128]) {
        self.hashed += hashes.len() as u64;
        self.hashes.extend(hashes.iter().copied());
    }

    /// The statistics, with the number of distinct customers among valid rows.
    pub(crate) fn finish(self, customers: usize) -> ValidRowStats {
        ValidRowStats {
            distinct_customer_ids: customers as u64,
            distinct_orders: self.orders.map(|o| o.len() as u64),
            duplicate_rows: self.hashed - self.hashes.len() as u64,
            ..self.stats
        }
    }
}
