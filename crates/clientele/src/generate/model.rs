//! The plan: per-customer parameters and the exact row allocation.

use chrono::NaiveDate;
use rand::{Rng, SeedableRng};
use rand_distr::{Beta, Distribution, Gamma};
use rand_pcg::Pcg64;
use rayon::prelude::*;

use super::{
    ACQUISITION_SHARE, BLOCK_ROWS, DROPOUT_ALPHA, DROPOUT_BETA, GenerateValidParams, MAX_BLOCK_CUSTOMERS,
    MAX_CUSTOMER_ROWS, MAX_PURCHASES, MEAN_LINES, RATE_SHAPE, SECONDS_PER_DAY,
};
use crate::error::{ParamError, Result};

/// A customer's process parameters, drawn in the first pass.
#[derive(Debug, Clone, Copy)]
pub(super) struct Customer {
    /// Acquisition (first order), in days since the period start.
    pub(super) acq: f64,
    /// Relative purchase rate.
    pub(super) lam: f64,
    /// Purchases before dropping out, first included.
    pub(super) purchases: f64,
}

impl Customer {
    /// Expected orders in the period when a unit rate buys `scale` orders a day.
    pub(super) fn expected_orders(&self, scale: f64, days: f64) -> f64 {
        self.purchases.min(1.0 + scale * self.lam * (days - self.acq))
    }

    /// End of the active lifetime, in days since the period start (at most `days`).
    pub(super) fn lifetime_end(&self, scale: f64, days: f64) -> f64 {
        if self.purchases <= 1.0 {
            return self.acq;
        }
        let rate = scale * self.lam;
        if rate > 0.0 {
            let end = self.acq + (self.purchases - 1.0) / rate;
            if end < days {
                return end;
            }
        }
        days
    }
}

#[derive(Debug)]
pub(super) struct BlockPlan {
    /// Index of the block's first customer (its id is `first + 1`).
    pub(super) first: u64,
    pub(super) customers: Vec<Customer>,
    /// Rows of each customer.
    pub(super) lines: Vec<u64>,
    /// Sum of `lines`.
    pub(super) rows: u64,
}

#[derive(Debug)]
pub(super) struct Model {
    pub(super) seed: u64,
    pub(super) rows: u64,
    pub(super) customers: u64,
    pub(super) return_rate: f64,
    /// The period start, in seconds since the Unix epoch.
    pub(super) start_secs: i64,
    /// Days in the period.
    pub(super) days: f64,
    pub(super) last_day: i64,
    /// Orders a day bought at unit rate.
    pub(super) rate_scale: f64,
    pub(super) blocks: Vec<BlockPlan>,
    /// Global index of each block's first row.
    pub(super) row_offsets: Vec<u64>,
}

/// The random streams of a block: one for customer parameters, one for rows.
pub(super) const STREAM_CUSTOMERS: u64 = 0;
pub(super) const STREAM_ROWS: u64 = 1;

pub(super) fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

pub(super) fn block_rng(seed: u64, block: usize, stream: u64) -> Pcg64 {
    Pcg64::seed_from_u64(seed ^ splitmix64((block as u64).wrapping_mul(2).wrapping_add(stream)))
}

/// Customers per block: a power of two giving about `BLOCK_ROWS` rows per block.
pub(super) fn block_customers(customers: u64, rows: u64) -> u64 {
    let ideal = (u128::from(BLOCK_ROWS) * u128::from(customers) / u128::from(rows.max(1))) as u64;
    let ideal = ideal.clamp(1, MAX_BLOCK_CUSTOMERS);
    1 << (63 - ideal.leading_zeros())
}

/// Sums a per-block quantity in block order, so the result does not depend on threads.
pub(super) fn ordered_sum<F>(blocks: &[BlockPlan], f: F) -> f64
where
    F: Fn(&BlockPlan) -> f64 + Sync + Send,
{
    let parts: Vec<f64> = blocks.par_iter().map(f).collect();
    parts.iter().sum()
}

impl Model {
    pub(super) fn new(params: &GenerateValidParams) -> Result<Model> {
        let customers = params.customers();
        let rows = params.rows();
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
        let start_day = params.start().signed_duration_since(epoch).num_days();
        let period_days = params.end().signed_duration_since(params.start()).num_days() + 1;
        let days = period_days as f64;
        let per_block = block_customers(customers, rows);
        let n_blocks = usize::try_from(customers.div_ceil(per_block)).unwrap_or(usize::MAX);

        let rate = Gamma::new(RATE_SHAPE, 1.0).expect("valid gamma parameters");
        let dropout = Beta::new(DROPOUT_ALPHA, DROPOUT_BETA).expect("valid beta parameters");
        let seed = params.seed();
        let mut blocks: Vec<BlockPlan> = (0..n_blocks)
            .into_par_iter()
            .map(|b| {
                let first = b as u64 * per_block;
                let count = per_block.min(customers - first);
                let mut rng = block_rng(seed, b, STREAM_CUSTOMERS);
                let customers = (0..count)
                    .map(|_| {
                        let acq = rng.random::<f64>() * ACQUISITION_SHARE * days;
                        let lam = rate.sample(&mut rng);
                        let p: f64 = dropout.sample(&mut rng);
                        let u = 1.0 - rng.random::<f64>();
                        let more = (u.ln() / (-p).ln_1p()).floor();
                        let purchases = if more.is_finite() {
                            (1.0 + more.max(0.0)).min(MAX_PURCHASES)
                        } else {
                            MAX_PURCHASES
                        };
                        Customer { acq, lam, purchases }
                    })
                    .collect();
                BlockPlan {
                    first,
                    customers,
                    lines: Vec::new(),
                    rows: 0,
                }
            })
            .collect();

        let target_orders = rows as f64 / (MEAN_LINES * (1.0 + params.return_rate()));
        let rate_scale = solve_rate_scale(&blocks, days, target_orders);
        allocate(&mut blocks, rows, customers, per_block, rate_scale, days);

        let mut row_offsets = Vec::with_capacity(blocks.len());
        let mut offset = 0u64;
        for block in &blocks {
            row_offsets.push(offset);
            offset += block.rows;
        }
        debug_assert_eq!(offset, rows);
        if let Some(most) = blocks.iter().flat_map(|b| b.lines.iter().copied()).max()
            && most > MAX_CUSTOMER_ROWS
        {
            return Err(ParamError::OutOfRange {
                name: "rows",
                expected: "at most 2^31 rows for one customer (use more customers)",
                got: format!("{most} rows for one customer"),
            }
            .into());
        }
        Ok(Model {
            seed,
            rows,
            customers,
            return_rate: params.return_rate(),
            start_secs: start_day * SECONDS_PER_DAY,
            days,
            last_day: period_days - 1,
            rate_scale,
            blocks,
            row_offsets,
        })
    }
}

/// The rate scale at which the expected orders of all customers reach `target` (0 when one
/// order each already does).
pub(super) fn solve_rate_scale(blocks: &[BlockPlan], days: f64, target: f64) -> f64 {
    let total = |scale: f64| {
        ordered_sum(blocks, |b| {
            b.customers.iter().map(|c| c.expected_orders(scale, days)).sum()
        })
    };
    if total(0.0) >= target {
        return 0.0;
    }
    let mut lo = 0.0;
    let mut hi = 1.0 / days;
    let mut doublings = 0;
    while total(hi) < target {
        if doublings == 64 {
            // Every customer is capped by its dropout: the weights are the purchase counts.
            return hi;
        }
        lo = hi;
        hi *= 2.0;
        doublings += 1;
    }
    for _ in 0..48 {
        let mid = 0.5 * (lo + hi);
        if total(mid) < target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    hi
}

/// Allocates `rows` across customers: one each, the rest in proportion to the weights by the
/// largest remainder method (ties to the lower customer index).
pub(super) fn allocate(
    blocks: &mut [BlockPlan],
    rows: u64,
    customers: u64,
    per_block: u64,
    scale: f64,
    days: f64,
) {
    let extra = rows - customers;
    let expected_total = ordered_sum(blocks, |b| {
        b.customers.iter().map(|c| c.expected_orders(scale, days)).sum()
    });
    // A customer's expected rows beyond its guaranteed first one.
    let rows_per_order = rows as f64 / expected_total;
    let beyond_first = |c: &Customer| (c.expected_orders(scale, days) * rows_per_order - 1.0).max(0.0);
    let beyond_total = ordered_sum(blocks, |b| b.customers.iter().map(beyond_first).sum());
    let use_expected = !(beyond_total > 0.0 && beyond_total.is_finite());
    let weight = |c: &Customer| {
        if use_expected {
            c.expected_orders(scale, days)
        } else {
            beyond_first(c)
        }
    };
    let weight_total = if use_expected {
        expected_total
    } else {
        beyond_total
    };
    let quota = |c: &Customer| {
        if weight_total > 0.0 {
            extra as f64 * (weight(c) / weight_total)
        } else {
            0.0
        }
    };

    blocks.par_iter_mut().for_each(|b| {
        b.lines = b.customers.iter().map(|c| 1 + quota(c).floor() as u64).collect();
    });
    let assigned: u128 = blocks
        .iter()
        .flat_map(|b| b.lines.iter())
        .map(|&n| u128::from(n - 1))
        .sum();
    let diff = i128::from(extra) - assigned as i128;
    if diff != 0 {
        let remainders: Vec<(f64, u64)> = blocks
            .par_iter()
            .flat_map_iter(|b| {
                b.customers.iter().enumerate().map(move |(i, c)| {
                    let q = quota(c);
                    (q - q.floor(), b.first + i as u64)
                })
            })
            .collect();
        settle_rounding(blocks, remainders, diff, per_block);
    }
    for b in blocks.iter_mut() {
        b.rows = b.lines.iter().sum();
    }
}

/// Corrects the rounding of the row allocation: `diff` more rows (or fewer when negative) go
/// to the customers of the largest (smallest) `remainders`, pairs of a quota's fraction and a
/// global customer index, ties to the lower index. A customer keeps at least one row.
fn settle_rounding(
    blocks: &mut [BlockPlan],
    mut remainders: Vec<(f64, u64)>,
    mut diff: i128,
    per_block: u64,
) {
    let locate = |index: u64| ((index / per_block) as usize, (index % per_block) as usize);
    while diff > 0 {
        let k = usize::try_from(diff).unwrap_or(usize::MAX).min(remainders.len());
        if k == 0 {
            break;
        }
        let largest_first = |a: &(f64, u64), b: &(f64, u64)| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1));
        if k < remainders.len() {
            remainders.select_nth_unstable_by(k - 1, largest_first);
        }
        for &(_, index) in &remainders[..k] {
            let (b, i) = locate(index);
            blocks[b].lines[i] += 1;
        }
        diff -= k as i128;
    }
    while diff < 0 {
        // Rounding gave out too much: take rows back from the smallest remainders.
        let mut candidates: Vec<(f64, u64)> = remainders
            .iter()
            .copied()
            .filter(|&(_, index)| {
                let (b, i) = locate(index);
                blocks[b].lines[i] > 1
            })
            .collect();
        let k = usize::try_from(-diff).unwrap_or(usize::MAX).min(candidates.len());
        if k == 0 {
            break;
        }
        let smallest_first = |a: &(f64, u64), b: &(f64, u64)| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1));
        if k < candidates.len() {
            candidates.select_nth_unstable_by(k - 1, smallest_first);
        }
        for &(_, index) in &candidates[..k] {
            let (b, i) = locate(index);
            blocks[b].lines[i] -= 1;
        }
        diff += k as i128;
    }
}
