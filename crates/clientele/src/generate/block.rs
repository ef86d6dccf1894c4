//! The rows of one block: orders, their lines and their returns.

use rand::Rng;
use rand_distr::{Distribution, Gamma};

use super::model::{Customer, Model, STREAM_ROWS, block_rng};
use super::{
    HOUR_WEIGHTS, LINE_WEIGHTS, MAX_RETURN_DAYS, MIN_SPAN_DAYS, MIN_SPEND_RATE, SECONDS_PER_DAY, SPEND_SCALE,
};

/// One generated order. `hi` is its time in seconds since the period start; `lo` packs the
/// customer's position in the block (24 bits), the customer's order sequence number (37 bits)
/// and the number of lines (3 bits), so sorting by `(hi, lo)` sorts by time, then customer,
/// then order. Its lines are `cents[first..first + lines]` of the block.
#[derive(Debug, Clone, Copy)]
pub(super) struct Order {
    pub(super) hi: u64,
    pub(super) lo: u64,
    pub(super) first: usize,
}

impl Order {
    pub(super) fn new(secs: i64, customer: usize, seq: u64, first: usize, lines: usize) -> Order {
        Order {
            hi: secs as u64,
            lo: ((customer as u64) << 40) | (seq << 3) | lines as u64,
            first,
        }
    }

    pub(super) fn customer(&self) -> u64 {
        self.lo >> 40
    }

    pub(super) fn lines(&self) -> usize {
        (self.lo & 7) as usize
    }
}

/// A block's rows: orders sorted chronologically and the amounts of their lines in cents.
#[derive(Debug)]
pub(super) struct BlockRows {
    pub(super) orders: Vec<Order>,
    pub(super) cents: Vec<i64>,
    pub(super) returns: u64,
    pub(super) cents_total: i64,
}

/// Distributions of the row pass.
pub(super) struct RowDists {
    pub(super) spend_customer: Gamma<f64>,
    pub(super) spend_order: Gamma<f64>,
}

pub(super) fn pick_weighted<R: Rng>(rng: &mut R, weights: &[u32], total: u32) -> usize {
    let mut v = rng.random_range(0..total);
    for (i, &w) in weights.iter().enumerate() {
        if v < w {
            return i;
        }
        v -= w;
    }
    weights.len() - 1
}

/// A second of the day, busier in daytime and evening.
pub(super) fn second_of_day<R: Rng>(rng: &mut R) -> i64 {
    const TOTAL: u32 = {
        let mut total = 0;
        let mut i = 0;
        while i < HOUR_WEIGHTS.len() {
            total += HOUR_WEIGHTS[i];
            i += 1;
        }
        total
    };
    let hour = pick_weighted(rng, &HOUR_WEIGHTS, TOTAL);
    hour as i64 * 3600 + rng.random_range(0..3600)
}

pub(super) fn generate_block(model: &Model, dists: &RowDists, block: usize) -> BlockRows {
    let plan = &model.blocks[block];
    let mut rng = block_rng(model.seed, block, STREAM_ROWS);
    let rows = usize::try_from(plan.rows).unwrap_or(0);
    let mut out = BlockRows {
        orders: Vec::with_capacity(rows / 2 + 1),
        cents: Vec::with_capacity(rows),
        returns: 0,
        cents_total: 0,
    };
    for (position, (customer, &n)) in plan.customers.iter().zip(&plan.lines).enumerate() {
        out.push_customer(model, dists, &mut rng, position, customer, n);
    }
    out.orders.sort_unstable_by_key(|o| (o.hi, o.lo));
    out
}

/// An order just placed: its day, its second of the day and its lines.
#[derive(Debug, Clone, Copy)]
struct Placed {
    day: i64,
    sod: i64,
    first: usize,
    count: usize,
}

impl BlockRows {
    /// Places the `n` rows of the customer at `position` in the block as orders spread over
    /// its active lifetime, some followed by a return.
    fn push_customer<R: Rng>(
        &mut self,
        model: &Model,
        dists: &RowDists,
        rng: &mut R,
        position: usize,
        customer: &Customer,
        n: u64,
    ) {
        const LINE_TOTAL: u32 = 100;
        let days = model.days;
        let spend_rate = dists.spend_customer.sample(rng).max(MIN_SPEND_RATE);
        let end = customer.lifetime_end(model.rate_scale, days);
        let span_end = end.max((customer.acq + MIN_SPAN_DAYS).min(days));
        let span = span_end - customer.acq;
        let mut remaining = n;
        let mut seq = 0u64;
        let mut placed = 0u64;
        while remaining > 0 {
            // The last purchase before dropping out takes the remaining lines it can.
            let wanted = if (placed + 1) as f64 >= customer.purchases {
                LINE_WEIGHTS.len()
            } else {
                1 + pick_weighted(rng, &LINE_WEIGHTS, LINE_TOTAL)
            };
            let count = wanted.min(usize::try_from(remaining).unwrap_or(usize::MAX));
            remaining -= count as u64;
            let day_f = if placed == 0 {
                customer.acq
            } else {
                customer.acq + rng.random::<f64>() * span
            };
            let day = (day_f.floor() as i64).clamp(0, model.last_day);
            let sod = second_of_day(rng);
            let value = SPEND_SCALE * dists.spend_order.sample(rng) / spend_rate;
            let first = self.push_lines(rng, value, count);
            self.orders.push(Order::new(
                day * SECONDS_PER_DAY + sod,
                position,
                seq,
                first,
                count,
            ));
            placed += 1;
            seq += 1;

            if remaining > 0 && rng.random::<f64>() < model.return_rate {
                remaining -= 1;
                let order = Placed {
                    day,
                    sod,
                    first,
                    count,
                };
                self.push_return(rng, model.last_day, order, position, seq);
                seq += 1;
            }
        }
    }

    /// Splits an order's `value` into `count` lines of at least one cent; returns the index of
    /// the first.
    fn push_lines<R: Rng>(&mut self, rng: &mut R, value: f64, count: usize) -> usize {
        let mut shares = [1.0f64; 5];
        if count > 1 {
            for share in &mut shares[..count] {
                *share = 0.3 + rng.random::<f64>();
            }
        }
        let share_total: f64 = shares[..count].iter().sum();
        let first = self.cents.len();
        for share in &shares[..count] {
            let line_cents = ((value * 100.0 * share / share_total).round() as i64).max(1);
            self.cents_total += line_cents;
            self.cents.push(line_cents);
        }
        first
    }

    /// A return of all or part of one line of `order`, 1 to `MAX_RETURN_DAYS` days later (on
    /// the last day at the latest, never before the order).
    fn push_return<R: Rng>(&mut self, rng: &mut R, last_day: i64, order: Placed, position: usize, seq: u64) {
        let full = self.cents[order.first + rng.random_range(0..order.count)];
        let refund = if rng.random::<bool>() {
            full
        } else {
            ((full as f64 * rng.random_range(0.1..0.9)).round() as i64).clamp(1, full)
        };
        let mut return_day = order.day + rng.random_range(1..=MAX_RETURN_DAYS);
        let mut return_sod = second_of_day(rng);
        if return_day > last_day {
            return_day = last_day;
            if return_day == order.day {
                return_sod = return_sod.max(order.sod);
            }
        }
        let return_secs = return_day * SECONDS_PER_DAY + return_sod;
        self.orders
            .push(Order::new(return_secs, position, seq, self.cents.len(), 1));
        self.cents.push(-refund);
        self.cents_total -= refund;
        self.returns += 1;
    }
}
