//! Synthetic transaction logs: deterministic, heavy-tailed, fast.
//!
//! [`generate_frame`] builds a log in memory; [`write()`] streams one to CSV, Parquet or NDJSON
//! files, in bounded memory, for logs of any size (benchmarks use 100 million rows).
//!
//! # The model
//!
//! Customers follow a "buy till you die" process, so lifetime-value models have something real
//! to fit:
//!
//! - each customer is acquired at a time uniform in the first two thirds of the period, and
//!   places a first order then;
//! - a purchase rate `λ ~ Gamma(0.75)` (very unequal between customers);
//! - after each purchase, the customer drops out with probability `p ~ Beta(0.8, 2.5)`, which
//!   ends the active lifetime (about a quarter of the customers buy only once);
//! - order values follow the Gamma-Gamma spend model: a customer rate `ν ~ Gamma(3.5)` and
//!   order values `~ Gamma(shape 6, rate ν)`, scaled so typical orders are tens of currency
//!   units with a long tail into the thousands;
//! - an order has 1 to 5 lines (mostly 1 or 2) that split its value;
//! - a share `return_rate` of the orders get a return line: a new order id, 1 to 30 days later
//!   (never after the period's end), refunding all or part of one line.
//!
//! The process is scaled so the expected row count matches the requested one; then `rows` is
//! allocated exactly across customers, in proportion to their expected orders, by the largest
//! remainder method (every customer has at least one row). A customer's rows become orders
//! spread over its active lifetime.
//!
//! # Determinism
//!
//! Customers are cut into blocks of consecutive ids (the block size depends only on the
//! customer and row counts). Each block draws from its own random streams seeded from
//! `(seed, block)`, blocks are generated in parallel and written in block order, so the same
//! parameters give byte-identical files whatever the number of threads. Within a block, rows
//! are sorted by `(order_date, order_id, line)`, like a chronological export, and order ids
//! count up in that order.
//!
//! # Memory
//!
//! A first pass keeps a few numbers per customer (about 50 bytes at the peak, so 5 million
//! customers take 250 MB). Rows are then generated a window of blocks at a time (at most a few
//! million rows), so the size of a log is bounded by the disk, not by memory. Only one
//! customer's rows cannot be split across blocks, so a log of very few customers with very many
//! rows each needs memory for all the rows of a customer.
//!
//! ```
//! use clientele::generate::{GenerateParams, generate_frame};
//!
//! let params = GenerateParams::new(100, 1_000).seed(7).check()?;
//! let log = generate_frame(&params)?;
//! assert_eq!(log.height(), 1_000);
//! assert_eq!(log.column("customer_id")?.n_unique()?, 100);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, sync_channel};

use chrono::{Datelike, NaiveDate};
use polars::prelude::*;
use rand::{Rng, SeedableRng};
use rand_distr::{Beta, Distribution, Gamma};
use rand_pcg::Pcg64;
use rayon::prelude::*;
use serde::Serialize;

use crate::error::{Error, ParamError, PolarsContext, Result};
use crate::output::{AtomicFile, OutputFormat};

/// The columns of a generated log, in order: `customer_id` (Int64), `order_id` (Int64),
/// `order_date` (Datetime in microseconds, whole seconds, no time zone), `amount` (Float64,
/// rounded to cents, negative for returns).
pub const COLUMNS: [&str; 4] = [CUSTOMER_ID, ORDER_ID, ORDER_DATE, AMOUNT];

const CUSTOMER_ID: &str = "customer_id";
const ORDER_ID: &str = "order_id";
const ORDER_DATE: &str = "order_date";
const AMOUNT: &str = "amount";
const CSV_HEADER: &[u8] = b"customer_id,order_id,order_date,amount\n";

/// Rows a block aims at; the block size in customers follows from the rows per customer.
const BLOCK_ROWS: u64 = 1 << 16;
/// Most customers in a block (customer positions in a block take 24 bits of the sort key).
const MAX_BLOCK_CUSTOMERS: u64 = 1 << 14;
/// A window of blocks stops growing past this many rows.
const WINDOW_ROWS: u64 = 1 << 22;
/// Rows per Parquet row group (the last one of a file may be smaller).
const ROW_GROUP_ROWS: usize = 1 << 19;
/// Most rows one customer can get.
const MAX_CUSTOMER_ROWS: u64 = 1 << 31;

/// Customers are acquired in this leading share of the period.
const ACQUISITION_SHARE: f64 = 2.0 / 3.0;
const RATE_SHAPE: f64 = 0.75;
const DROPOUT_ALPHA: f64 = 0.8;
const DROPOUT_BETA: f64 = 2.5;
const MAX_PURCHASES: f64 = 1e12;
const SPEND_CUSTOMER_SHAPE: f64 = 3.5;
const SPEND_ORDER_SHAPE: f64 = 6.0;
const SPEND_SCALE: f64 = 25.0;
const MIN_SPEND_RATE: f64 = 0.02;
/// Later orders of a customer whose lifetime is shorter than this many days spread over it.
const MIN_SPAN_DAYS: f64 = 30.0;
/// Relative frequencies of 1..=5 lines per order.
const LINE_WEIGHTS: [u32; 5] = [45, 28, 14, 8, 5];
/// The mean of `LINE_WEIGHTS`, used to turn rows into expected orders.
const MEAN_LINES: f64 = 2.0;
const MAX_RETURN_DAYS: i64 = 30;
/// Relative order frequencies by hour of day.
const HOUR_WEIGHTS: [u32; 24] = [
    5, 3, 2, 1, 1, 2, 6, 15, 30, 45, 55, 62, 70, 66, 60, 58, 60, 66, 75, 82, 80, 65, 40, 18,
];
const SECONDS_PER_DAY: i64 = 86_400;

/// Unchecked parameters of a synthetic log; [`GenerateParams::check`] validates them.
///
/// ```
/// use chrono::NaiveDate;
/// use clientele::generate::GenerateParams;
///
/// let start = NaiveDate::from_ymd_opt(2023, 1, 1).ok_or("bad date")?;
/// let end = NaiveDate::from_ymd_opt(2023, 12, 31).ok_or("bad date")?;
/// let params = GenerateParams::new(1_000, 20_000).seed(1).period(start, end).check()?;
/// assert_eq!(params.rows(), 20_000);
/// assert!(GenerateParams::new(10, 5).check().is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct GenerateParams {
    customers: u64,
    rows: u64,
    seed: u64,
    start: NaiveDate,
    end: NaiveDate,
    return_rate: f64,
}

impl GenerateParams {
    /// `rows` rows (return lines included) over `customers` customers; seed 42, period
    /// 2022-01-01 to 2024-12-31, 3 % of the orders returned.
    pub fn new(customers: u64, rows: u64) -> Self {
        GenerateParams {
            customers,
            rows,
            seed: 42,
            start: NaiveDate::from_ymd_opt(2022, 1, 1).unwrap_or_default(),
            end: NaiveDate::from_ymd_opt(2024, 12, 31).unwrap_or_default(),
            return_rate: 0.03,
        }
    }

    /// Sets the random seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Sets the period, both days included.
    pub fn period(mut self, start: NaiveDate, end: NaiveDate) -> Self {
        self.start = start;
        self.end = end;
        self
    }

    /// Sets the share of orders that later get a return line.
    pub fn return_rate(mut self, rate: f64) -> Self {
        self.return_rate = rate;
        self
    }

    /// Validates the parameters.
    ///
    /// # Errors
    ///
    /// [`ParamError::OutOfRange`] naming `customers` when it is 0, `rows` when it is below the
    /// number of customers, `end` when the period does not end after it starts, and
    /// `return_rate` outside `0 <= rate < 0.5`.
    pub fn check(self) -> Result<GenerateValidParams, ParamError> {
        if self.customers == 0 {
            return Err(ParamError::OutOfRange {
                name: "customers",
                expected: "at least 1",
                got: self.customers.to_string(),
            });
        }
        if self.rows < self.customers {
            return Err(ParamError::OutOfRange {
                name: "rows",
                expected: "at least the number of customers (every customer has a row)",
                got: format!("{} for {} customers", self.rows, self.customers),
            });
        }
        if self.start >= self.end {
            return Err(ParamError::OutOfRange {
                name: "end",
                expected: "a date after the start date",
                got: format!("{} (start {})", self.end, self.start),
            });
        }
        if !(0.0..0.5).contains(&self.return_rate) {
            return Err(ParamError::OutOfRange {
                name: "return_rate",
                expected: "at least 0 and below 0.5",
                got: self.return_rate.to_string(),
            });
        }
        Ok(GenerateValidParams(self))
    }
}

/// Checked parameters of a synthetic log: only these can generate.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerateValidParams(GenerateParams);

impl GenerateValidParams {
    /// Number of distinct customers.
    pub fn customers(&self) -> u64 {
        self.0.customers
    }

    /// Number of rows, return lines included.
    pub fn rows(&self) -> u64 {
        self.0.rows
    }

    /// The random seed.
    pub fn seed(&self) -> u64 {
        self.0.seed
    }

    /// First day of the period.
    pub fn start(&self) -> NaiveDate {
        self.0.start
    }

    /// Last day of the period (included).
    pub fn end(&self) -> NaiveDate {
        self.0.end
    }

    /// Share of orders that get a return line.
    pub fn return_rate(&self) -> f64 {
        self.0.return_rate
    }
}

/// What [`write()`] produced.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GeneratedLog {
    /// Rows written, return lines included.
    pub rows: u64,
    /// Distinct customers.
    pub customers: u64,
    /// Distinct order ids, returns included (a return line has its own order id).
    pub orders: u64,
    /// Return lines (negative amounts).
    pub return_rows: u64,
    /// Sum of all amounts, returns subtracted.
    pub total_amount: f64,
    /// The files written, in row order.
    pub files: Vec<PathBuf>,
}

/// Generates the whole log in memory, in the row order [`write()`] uses.
///
/// Meant for small logs and tests; [`write()`] streams large ones to disk.
///
/// # Errors
///
/// [`Error::Param`] when a customer would get more than 2^31 rows; [`Error::Polars`] if the
/// frame cannot be built.
pub fn generate_frame(params: &GenerateValidParams) -> Result<DataFrame> {
    let model = Model::new(params)?;
    let bounds = [0, model.rows];
    let mut all = Columns::with_capacity(usize::try_from(model.rows).unwrap_or(0));
    produce(&model, Render::Columns, &bounds, |pieces| {
        for piece in pieces {
            if let PieceData::Columns(columns) = piece.data {
                all.append(columns);
            }
        }
        true
    });
    all.into_frame()
        .context(|| "cannot build the generated log".into())
}

/// Generates the log and writes it to `files` files in `format`.
///
/// With `files == 1`, `path` is the file. With more, `path` is a directory (created when
/// missing) that receives `part-00000.<ext>`, `part-00001.<ext>`, ..., the rows split in order
/// into nearly equal parts. Every file is written under a temporary name and renamed into place
/// when complete.
///
/// CSV files have a header, datetimes as `YYYY-MM-DD HH:MM:SS` and amounts with two decimals.
/// Parquet files are zstd-compressed, in row groups of 524,288 rows (the last one of a file
/// smaller). NDJSON files have one object per row, datetimes as strings. The rows are those of
/// [`generate_frame`], in the same order, and the bytes depend only on the parameters.
///
/// ```
/// use clientele::generate::{GenerateParams, write};
/// use clientele::output::OutputFormat;
///
/// let dir = tempfile::tempdir()?;
/// let params = GenerateParams::new(50, 400).check()?;
/// let log = write(&params, &dir.path().join("log.csv"), OutputFormat::Csv, 1)?;
/// assert_eq!(log.rows, 400);
/// assert_eq!(std::fs::read_to_string(&log.files[0])?.lines().count(), 401);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// [`Error::Param`] when `files` is 0 or more than the rows; [`Error::Io`] when a file or the
/// directory cannot be created or written; [`Error::Polars`] when Parquet or JSON encoding
/// fails.
pub fn write(
    params: &GenerateValidParams,
    path: &Path,
    format: OutputFormat,
    files: usize,
) -> Result<GeneratedLog> {
    if files == 0 || files as u64 > params.rows() {
        return Err(ParamError::OutOfRange {
            name: "files",
            expected: "between 1 and the number of rows",
            got: files.to_string(),
        }
        .into());
    }
    let targets: Vec<PathBuf> = if files == 1 {
        vec![path.to_path_buf()]
    } else {
        std::fs::create_dir_all(path).map_err(|e| Error::io("cannot create directory", path, e))?;
        (0..files)
            .map(|i| path.join(format!("part-{i:05}.{}", format.extension())))
            .collect()
    };
    let model = Model::new(params)?;
    let bounds: Vec<u64> = (0..=files)
        .map(|i| (u128::from(model.rows) * i as u128 / files as u128) as u64)
        .collect();
    let render = match format {
        OutputFormat::Csv => Render::Csv,
        OutputFormat::Parquet | OutputFormat::Ndjson => Render::Columns,
    };

    let (totals, written) = std::thread::scope(|scope| {
        // One window in the channel, one being written, one being generated.
        let (sender, receiver) = sync_channel::<Vec<Piece>>(1);
        let writer = scope.spawn(|| write_files(receiver, &targets, &bounds, format));
        let totals = produce(&model, render, &bounds, |pieces| sender.send(pieces).is_ok());
        drop(sender);
        let written = writer
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (totals, written)
    });
    written?;
    Ok(GeneratedLog {
        rows: model.rows,
        customers: model.customers,
        orders: totals.orders,
        return_rows: totals.returns,
        total_amount: totals.cents as f64 / 100.0,
        files: targets,
    })
}

// ---------------------------------------------------------------------------------------------
// The plan: per-customer parameters and the exact row allocation.
// ---------------------------------------------------------------------------------------------

/// A customer's process parameters, drawn in the first pass.
#[derive(Debug, Clone, Copy)]
struct Customer {
    /// Acquisition (first order), in days since the period start.
    acq: f64,
    /// Relative purchase rate.
    lam: f64,
    /// Purchases before dropping out, first included.
    purchases: f64,
}

impl Customer {
    /// Expected orders in the period when a unit rate buys `scale` orders a day.
    fn expected_orders(&self, scale: f64, days: f64) -> f64 {
        self.purchases.min(1.0 + scale * self.lam * (days - self.acq))
    }

    /// End of the active lifetime, in days since the period start (at most `days`).
    fn lifetime_end(&self, scale: f64, days: f64) -> f64 {
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
struct BlockPlan {
    /// Index of the block's first customer (its id is `first + 1`).
    first: u64,
    customers: Vec<Customer>,
    /// Rows of each customer.
    lines: Vec<u64>,
    /// Sum of `lines`.
    rows: u64,
}

#[derive(Debug)]
struct Model {
    seed: u64,
    rows: u64,
    customers: u64,
    return_rate: f64,
    /// The period start, in seconds since the Unix epoch.
    start_secs: i64,
    /// Days in the period.
    days: f64,
    last_day: i64,
    /// Orders a day bought at unit rate.
    rate_scale: f64,
    blocks: Vec<BlockPlan>,
    /// Global index of each block's first row.
    row_offsets: Vec<u64>,
}

/// The random streams of a block: one for customer parameters, one for rows.
const STREAM_CUSTOMERS: u64 = 0;
const STREAM_ROWS: u64 = 1;

fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn block_rng(seed: u64, block: usize, stream: u64) -> Pcg64 {
    Pcg64::seed_from_u64(seed ^ splitmix64((block as u64).wrapping_mul(2).wrapping_add(stream)))
}

/// Customers per block: a power of two giving about `BLOCK_ROWS` rows per block.
fn block_customers(customers: u64, rows: u64) -> u64 {
    let ideal = (u128::from(BLOCK_ROWS) * u128::from(customers) / u128::from(rows.max(1))) as u64;
    let ideal = ideal.clamp(1, MAX_BLOCK_CUSTOMERS);
    1 << (63 - ideal.leading_zeros())
}

/// Sums a per-block quantity in block order, so the result does not depend on threads.
fn ordered_sum<F>(blocks: &[BlockPlan], f: F) -> f64
where
    F: Fn(&BlockPlan) -> f64 + Sync + Send,
{
    let parts: Vec<f64> = blocks.par_iter().map(f).collect();
    parts.iter().sum()
}

impl Model {
    fn new(params: &GenerateValidParams) -> Result<Model> {
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
fn solve_rate_scale(blocks: &[BlockPlan], days: f64, target: f64) -> f64 {
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
fn allocate(blocks: &mut [BlockPlan], rows: u64, customers: u64, per_block: u64, scale: f64, days: f64) {
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
    let mut diff = i128::from(extra) - assigned as i128;
    if diff != 0 {
        let mut remainders: Vec<(f64, u64)> = blocks
            .par_iter()
            .flat_map_iter(|b| {
                b.customers.iter().enumerate().map(move |(i, c)| {
                    let q = quota(c);
                    (q - q.floor(), b.first + i as u64)
                })
            })
            .collect();
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
    for b in blocks.iter_mut() {
        b.rows = b.lines.iter().sum();
    }
}

// ---------------------------------------------------------------------------------------------
// Rows of a block.
// ---------------------------------------------------------------------------------------------

/// One generated order. `hi` is its time in seconds since the period start; `lo` packs the
/// customer's position in the block (24 bits), the customer's order sequence number (37 bits)
/// and the number of lines (3 bits), so sorting by `(hi, lo)` sorts by time, then customer,
/// then order. Its lines are `cents[first..first + lines]` of the block.
#[derive(Debug, Clone, Copy)]
struct Order {
    hi: u64,
    lo: u64,
    first: usize,
}

impl Order {
    fn new(secs: i64, customer: usize, seq: u64, first: usize, lines: usize) -> Order {
        Order {
            hi: secs as u64,
            lo: ((customer as u64) << 40) | (seq << 3) | lines as u64,
            first,
        }
    }

    fn customer(&self) -> u64 {
        self.lo >> 40
    }

    fn lines(&self) -> usize {
        (self.lo & 7) as usize
    }
}

/// A block's rows: orders sorted chronologically and the amounts of their lines in cents.
#[derive(Debug)]
struct BlockRows {
    orders: Vec<Order>,
    cents: Vec<i64>,
    returns: u64,
    cents_total: i64,
}

/// Distributions of the row pass.
struct RowDists {
    spend_customer: Gamma<f64>,
    spend_order: Gamma<f64>,
}

fn pick_weighted<R: Rng>(rng: &mut R, weights: &[u32], total: u32) -> usize {
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
fn second_of_day<R: Rng>(rng: &mut R) -> i64 {
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

fn generate_block(model: &Model, dists: &RowDists, block: usize) -> BlockRows {
    const LINE_TOTAL: u32 = 100;
    let plan = &model.blocks[block];
    let mut rng = block_rng(model.seed, block, STREAM_ROWS);
    let rows = usize::try_from(plan.rows).unwrap_or(0);
    let mut cents = Vec::with_capacity(rows);
    let mut orders = Vec::with_capacity(rows / 2 + 1);
    let (mut returns, mut cents_total) = (0u64, 0i64);
    let days = model.days;
    let last_day = model.last_day;

    for (position, (customer, &n)) in plan.customers.iter().zip(&plan.lines).enumerate() {
        let spend_rate = dists.spend_customer.sample(&mut rng).max(MIN_SPEND_RATE);
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
                1 + pick_weighted(&mut rng, &LINE_WEIGHTS, LINE_TOTAL)
            };
            let count = wanted.min(usize::try_from(remaining).unwrap_or(usize::MAX));
            remaining -= count as u64;
            let day_f = if placed == 0 {
                customer.acq
            } else {
                customer.acq + rng.random::<f64>() * span
            };
            let day = (day_f.floor() as i64).clamp(0, last_day);
            let sod = second_of_day(&mut rng);
            let secs = day * SECONDS_PER_DAY + sod;

            let value = SPEND_SCALE * dists.spend_order.sample(&mut rng) / spend_rate;
            let mut shares = [1.0f64; 5];
            if count > 1 {
                for share in &mut shares[..count] {
                    *share = 0.3 + rng.random::<f64>();
                }
            }
            let share_total: f64 = shares[..count].iter().sum();
            let first = cents.len();
            for share in &shares[..count] {
                let line_cents = ((value * 100.0 * share / share_total).round() as i64).max(1);
                cents_total += line_cents;
                cents.push(line_cents);
            }
            orders.push(Order::new(secs, position, seq, first, count));
            placed += 1;
            seq += 1;

            if remaining > 0 && rng.random::<f64>() < model.return_rate {
                remaining -= 1;
                let full = cents[first + rng.random_range(0..count)];
                let refund = if rng.random::<bool>() {
                    full
                } else {
                    ((full as f64 * rng.random_range(0.1..0.9)).round() as i64).clamp(1, full)
                };
                let mut return_day = day + rng.random_range(1..=MAX_RETURN_DAYS);
                let mut return_sod = second_of_day(&mut rng);
                if return_day > last_day {
                    return_day = last_day;
                    if return_day == day {
                        return_sod = return_sod.max(sod);
                    }
                }
                let return_secs = return_day * SECONDS_PER_DAY + return_sod;
                orders.push(Order::new(return_secs, position, seq, cents.len(), 1));
                cents.push(-refund);
                cents_total -= refund;
                returns += 1;
                seq += 1;
            }
        }
    }
    orders.sort_unstable_by_key(|o| (o.hi, o.lo));
    BlockRows {
        orders,
        cents,
        returns,
        cents_total,
    }
}

// ---------------------------------------------------------------------------------------------
// Rendering and writing.
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Render {
    Csv,
    Columns,
}

#[derive(Debug, Default)]
struct Columns {
    customer: Vec<i64>,
    order: Vec<i64>,
    micros: Vec<i64>,
    amount: Vec<f64>,
}

impl Columns {
    fn with_capacity(n: usize) -> Columns {
        Columns {
            customer: Vec::with_capacity(n),
            order: Vec::with_capacity(n),
            micros: Vec::with_capacity(n),
            amount: Vec::with_capacity(n),
        }
    }

    fn len(&self) -> usize {
        self.customer.len()
    }

    fn push(&mut self, row: Row) {
        self.customer.push(row.customer);
        self.order.push(row.order);
        self.micros.push(row.secs * 1_000_000);
        self.amount.push(row.cents as f64 / 100.0);
    }

    /// Keeps the first `at` rows and returns the others.
    fn split_off(&mut self, at: usize) -> Columns {
        Columns {
            customer: self.customer.split_off(at),
            order: self.order.split_off(at),
            micros: self.micros.split_off(at),
            amount: self.amount.split_off(at),
        }
    }

    fn append(&mut self, mut other: Columns) {
        self.customer.append(&mut other.customer);
        self.order.append(&mut other.order);
        self.micros.append(&mut other.micros);
        self.amount.append(&mut other.amount);
    }

    fn into_frame(self) -> PolarsResult<DataFrame> {
        let height = self.len();
        DataFrame::new(
            height,
            vec![
                Column::new(CUSTOMER_ID.into(), self.customer),
                Column::new(ORDER_ID.into(), self.order),
                Int64Chunked::from_vec(ORDER_DATE.into(), self.micros)
                    .into_datetime(TimeUnit::Microseconds, None)
                    .into_column(),
                Column::new(AMOUNT.into(), self.amount),
            ],
        )
    }
}

#[derive(Debug)]
enum PieceData {
    Csv(Vec<u8>),
    Columns(Columns),
}

/// Consecutive rows that all belong to one output file.
#[derive(Debug)]
struct Piece {
    file: usize,
    rows: u64,
    data: PieceData,
}

#[derive(Debug, Clone, Copy)]
struct Row {
    customer: i64,
    order: i64,
    secs: i64,
    cents: i64,
}

/// Turns a block's sorted orders into rows with global ids.
struct Rows<'a> {
    block: &'a BlockRows,
    /// The next order, and the next line within it.
    order: usize,
    line: usize,
    first_customer: u64,
    /// Global id of the block's first order, minus one.
    order_base: u64,
    start_secs: i64,
}

impl Iterator for Rows<'_> {
    type Item = Row;

    fn next(&mut self) -> Option<Row> {
        let order = self.block.orders.get(self.order)?;
        let row = Row {
            customer: (self.first_customer + order.customer() + 1) as i64,
            order: (self.order_base + self.order as u64 + 1) as i64,
            secs: self.start_secs + order.hi as i64,
            cents: self.block.cents[order.first + self.line],
        };
        self.line += 1;
        if self.line == order.lines() {
            self.line = 0;
            self.order += 1;
        }
        Some(row)
    }
}

#[derive(Debug, Default, Clone, Copy)]
struct Totals {
    orders: u64,
    returns: u64,
    cents: i64,
}

/// Generates every block, window by window, renders the rows into pieces that do not cross the
/// file `bounds` (global row indices, first 0, last the row count) and hands each window's
/// pieces to `consume` in order. Stops early when `consume` returns false.
fn produce<F>(model: &Model, render: Render, bounds: &[u64], mut consume: F) -> Totals
where
    F: FnMut(Vec<Piece>) -> bool,
{
    let dists = RowDists {
        spend_customer: Gamma::new(SPEND_CUSTOMER_SHAPE, 1.0).expect("valid gamma parameters"),
        spend_order: Gamma::new(SPEND_ORDER_SHAPE, 1.0).expect("valid gamma parameters"),
    };
    let max_blocks = 4 * rayon::current_num_threads().max(1);
    let n_blocks = model.blocks.len();
    let mut totals = Totals::default();
    let mut start = 0;
    while start < n_blocks {
        let mut end = start;
        let mut window_rows = 0;
        while end < n_blocks && (end == start || (end - start < max_blocks && window_rows < WINDOW_ROWS)) {
            window_rows += model.blocks[end].rows;
            end += 1;
        }
        let generated: Vec<BlockRows> = (start..end)
            .into_par_iter()
            .map(|b| generate_block(model, &dists, b))
            .collect();
        let mut bases = Vec::with_capacity(generated.len());
        for block in &generated {
            bases.push(totals.orders);
            totals.orders += block.orders.len() as u64;
            totals.returns += block.returns;
            totals.cents += block.cents_total;
        }
        let pieces: Vec<Piece> = generated
            .into_par_iter()
            .zip(bases)
            .enumerate()
            .flat_map_iter(|(i, (rows, base))| render_block(model, start + i, &rows, base, bounds, render))
            .collect();
        if !consume(pieces) {
            break;
        }
        start = end;
    }
    totals
}

fn render_block(
    model: &Model,
    block: usize,
    generated: &BlockRows,
    order_base: u64,
    bounds: &[u64],
    render: Render,
) -> Vec<Piece> {
    let offset = model.row_offsets[block];
    let len = generated.cents.len() as u64;
    let mut rows = Rows {
        block: generated,
        order: 0,
        line: 0,
        first_customer: model.blocks[block].first,
        order_base,
        start_secs: model.start_secs,
    };
    let mut pieces = Vec::new();
    let mut file = bounds.partition_point(|&b| b <= offset).saturating_sub(1);
    let mut done = 0u64;
    while done < len {
        let file_end = bounds.get(file + 1).copied().unwrap_or(u64::MAX);
        let n = (len - done).min(file_end - (offset + done));
        let take = usize::try_from(n).unwrap_or(usize::MAX);
        let data = match render {
            Render::Csv => PieceData::Csv(render_csv(rows.by_ref().take(take), take)),
            Render::Columns => {
                let mut columns = Columns::with_capacity(take);
                for row in rows.by_ref().take(take) {
                    columns.push(row);
                }
                PieceData::Columns(columns)
            }
        };
        pieces.push(Piece { file, rows: n, data });
        done += n;
        file += 1;
    }
    pieces
}

fn push_u64(buf: &mut Vec<u8>, mut v: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    buf.extend_from_slice(&digits[i..]);
}

fn push_two(buf: &mut Vec<u8>, v: u32) {
    buf.push(b'0' + (v / 10) as u8);
    buf.push(b'0' + (v % 10) as u8);
}

/// `YYYY-MM-DD` of a day number since the Unix epoch (years beyond 0..=9999 as chrono shows them).
fn format_day(day: i64, out: &mut Vec<u8>) {
    out.clear();
    let date = i32::try_from(day + 719_163)
        .ok()
        .and_then(NaiveDate::from_num_days_from_ce_opt)
        .unwrap_or_default();
    if (0..=9999).contains(&date.year()) {
        let year = date.year() as u32;
        push_two(out, year / 100);
        push_two(out, year % 100);
        out.push(b'-');
        push_two(out, date.month());
        out.push(b'-');
        push_two(out, date.day());
    } else {
        let _ = write!(out, "{date}");
    }
}

fn render_csv(rows: impl Iterator<Item = Row>, n: usize) -> Vec<u8> {
    let mut buf = Vec::with_capacity(n * 48);
    let mut current_day = i64::MIN;
    let mut day_text = Vec::with_capacity(16);
    // `customer_id,order_id,order_date,` is shared by the lines of an order.
    let mut current_order = i64::MIN;
    let mut prefix = Vec::with_capacity(64);
    for row in rows {
        if row.order != current_order {
            current_order = row.order;
            prefix.clear();
            push_u64(&mut prefix, row.customer as u64);
            prefix.push(b',');
            push_u64(&mut prefix, row.order as u64);
            prefix.push(b',');
            let day = row.secs.div_euclid(SECONDS_PER_DAY);
            if day != current_day {
                current_day = day;
                format_day(day, &mut day_text);
            }
            prefix.extend_from_slice(&day_text);
            prefix.push(b' ');
            let sod = row.secs.rem_euclid(SECONDS_PER_DAY) as u32;
            push_two(&mut prefix, sod / 3600);
            prefix.push(b':');
            push_two(&mut prefix, sod / 60 % 60);
            prefix.push(b':');
            push_two(&mut prefix, sod % 60);
            prefix.push(b',');
        }
        buf.extend_from_slice(&prefix);
        if row.cents < 0 {
            buf.push(b'-');
        }
        let cents = row.cents.unsigned_abs();
        push_u64(&mut buf, cents / 100);
        buf.push(b'.');
        push_two(&mut buf, (cents % 100) as u32);
        buf.push(b'\n');
    }
    buf
}

fn frame_schema() -> Schema {
    Schema::from_iter([
        Field::new(CUSTOMER_ID.into(), DataType::Int64),
        Field::new(ORDER_ID.into(), DataType::Int64),
        Field::new(
            ORDER_DATE.into(),
            DataType::Datetime(TimeUnit::Microseconds, None),
        ),
        Field::new(AMOUNT.into(), DataType::Float64),
    ])
}

/// Writes the pieces arriving on `receiver` to the `targets`, file `i` holding the rows
/// `bounds[i]..bounds[i + 1]`. A file is committed only once all its rows arrived.
fn write_files(
    receiver: Receiver<Vec<Piece>>,
    targets: &[PathBuf],
    bounds: &[u64],
    format: OutputFormat,
) -> Result<()> {
    let mut pieces = receiver.into_iter().flatten().peekable();
    for (index, target) in targets.iter().enumerate() {
        let expected = bounds[index + 1] - bounds[index];
        let mut file = AtomicFile::create(target)?;
        let io_error = |e: std::io::Error| Error::io("cannot write", target, e);
        let polars_context = || format!("cannot write {}", target.display());
        let mut received = 0u64;
        let mut next = |received: &mut u64| {
            let piece = pieces.next_if(|p| p.file == index)?;
            *received += piece.rows;
            Some(piece.data)
        };
        let writer = file.writer();
        match format {
            OutputFormat::Csv => {
                writer.write_all(CSV_HEADER).map_err(io_error)?;
                while let Some(data) = next(&mut received) {
                    if let PieceData::Csv(bytes) = data {
                        writer.write_all(&bytes).map_err(io_error)?;
                    }
                }
            }
            OutputFormat::Parquet => {
                let mut batched = ParquetWriter::new(&mut *writer)
                    .with_compression(ParquetCompression::Zstd(None))
                    .batched(&frame_schema())
                    .context(polars_context)?;
                let mut group = Columns::with_capacity(ROW_GROUP_ROWS);
                while let Some(data) = next(&mut received) {
                    if let PieceData::Columns(columns) = data {
                        group.append(columns);
                    }
                    while group.len() >= ROW_GROUP_ROWS {
                        let rest = group.split_off(ROW_GROUP_ROWS);
                        let full = std::mem::replace(&mut group, rest);
                        let frame = full.into_frame().context(polars_context)?;
                        batched.write_batch(&frame).context(polars_context)?;
                    }
                }
                if group.len() > 0 {
                    let frame = group.into_frame().context(polars_context)?;
                    batched.write_batch(&frame).context(polars_context)?;
                }
                batched.finish().context(polars_context)?;
            }
            OutputFormat::Ndjson => {
                while let Some(data) = next(&mut received) {
                    if let PieceData::Columns(columns) = data {
                        let mut frame = columns.into_frame().context(polars_context)?;
                        JsonWriter::new(&mut *writer)
                            .with_json_format(JsonFormat::JsonLines)
                            .finish(&mut frame)
                            .context(polars_context)?;
                    }
                }
            }
        }
        if received != expected {
            return Err(io_error(std::io::Error::other(format!(
                "generation stopped after {received} of {expected} rows"
            ))));
        }
        file.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn in_pool<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(f)
    }

    fn i64s(frame: &DataFrame, name: &str) -> Vec<i64> {
        frame
            .column(name)
            .unwrap()
            .as_materialized_series()
            .to_physical_repr()
            .i64()
            .unwrap()
            .into_no_null_iter()
            .collect()
    }

    fn f64s(frame: &DataFrame, name: &str) -> Vec<f64> {
        frame
            .column(name)
            .unwrap()
            .f64()
            .unwrap()
            .into_no_null_iter()
            .collect()
    }

    #[test]
    fn exact_rows_customers_and_orders() {
        let params = GenerateParams::new(2_000, 30_000).seed(3).check().unwrap();
        let frame = generate_frame(&params).unwrap();
        assert_eq!(frame.height(), 30_000);
        let names: Vec<&str> = frame.get_column_names().iter().map(|n| n.as_str()).collect();
        assert_eq!(names, COLUMNS);
        assert_eq!(
            frame.column(ORDER_DATE).unwrap().dtype(),
            &DataType::Datetime(TimeUnit::Microseconds, None)
        );

        let customers = i64s(&frame, CUSTOMER_ID);
        let mut seen = vec![false; 2_000];
        for &c in &customers {
            assert!((1..=2_000).contains(&c));
            seen[(c - 1) as usize] = true;
        }
        assert!(seen.iter().all(|&s| s), "every customer has a row");

        // An order id belongs to one customer and one timestamp, and ids are 1..=orders.
        let orders = i64s(&frame, ORDER_ID);
        let micros = i64s(&frame, ORDER_DATE);
        let amounts = f64s(&frame, AMOUNT);
        let mut by_order = std::collections::HashMap::new();
        for i in 0..frame.height() {
            let entry = by_order.entry(orders[i]).or_insert((customers[i], micros[i], 0));
            assert_eq!((entry.0, entry.1), (customers[i], micros[i]));
            entry.2 += 1;
        }
        let n_orders = by_order.len() as i64;
        assert!(by_order.keys().all(|&o| (1..=n_orders).contains(&o)));
        assert!(by_order.values().all(|&(_, _, lines)| lines <= 5));

        let start = date(2022, 1, 1)
            .and_hms_opt(0, 0, 0)
            .unwrap()
            .and_utc()
            .timestamp_micros();
        let end = date(2024, 12, 31)
            .and_hms_opt(23, 59, 59)
            .unwrap()
            .and_utc()
            .timestamp_micros();
        assert!(
            micros
                .iter()
                .all(|&t| (start..=end).contains(&t) && t % 1_000_000 == 0)
        );

        assert!(amounts.iter().all(|a| a.is_finite() && *a != 0.0));
        assert!(
            amounts
                .iter()
                .all(|a| ((a * 100.0).round() - a * 100.0).abs() < 1e-6)
        );
        let returns = amounts.iter().filter(|&&a| a < 0.0).count();
        assert!(returns > 100 && returns < 1_500, "{returns} return lines");
        // A return line is alone in its order.
        for i in 0..frame.height() {
            if amounts[i] < 0.0 {
                assert_eq!(by_order[&orders[i]].2, 1);
            }
        }

        // Rows are chronological within a block (2,000 customers fit one block here).
        assert!(micros.windows(2).all(|w| w[0] <= w[1]));
        assert!(orders.windows(2).all(|w| w[0] <= w[1]));

        let dir = tempfile::tempdir().unwrap();
        let log = write(&params, &dir.path().join("log.csv"), OutputFormat::Csv, 1).unwrap();
        assert_eq!(log.rows, 30_000);
        assert_eq!(log.customers, 2_000);
        assert_eq!(log.orders, n_orders as u64);
        assert_eq!(log.return_rows, returns as u64);
        let total: f64 = amounts.iter().sum();
        assert!((log.total_amount - total).abs() < 1e-6 * total.abs().max(1.0));
    }

    #[test]
    fn same_parameters_same_output_whatever_the_threads() {
        let params = GenerateParams::new(40_000, 70_000).seed(11).check().unwrap();
        // Several blocks, so threads really work in parallel.
        assert!(block_customers(40_000, 70_000) < 40_000);
        let one = in_pool(1, || generate_frame(&params).unwrap());
        let four = in_pool(4, || generate_frame(&params).unwrap());
        assert!(one.equals(&four));

        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.csv"), dir.path().join("b.csv"));
        in_pool(1, || write(&params, &a, OutputFormat::Csv, 1).unwrap());
        in_pool(3, || write(&params, &b, OutputFormat::Csv, 1).unwrap());
        assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());

        let other = generate_frame(&GenerateParams::new(40_000, 70_000).seed(12).check().unwrap()).unwrap();
        assert_eq!(other.height(), 70_000);
        assert!(!one.equals(&other));
    }

    #[test]
    fn revenue_is_heavy_tailed() {
        let params = GenerateParams::new(3_000, 40_000).check().unwrap();
        let frame = generate_frame(&params).unwrap();
        let mut revenue = vec![0.0; 3_000];
        for (c, a) in i64s(&frame, CUSTOMER_ID).into_iter().zip(f64s(&frame, AMOUNT)) {
            revenue[(c - 1) as usize] += a;
        }
        revenue.sort_by(|a, b| b.total_cmp(a));
        let total: f64 = revenue.iter().sum();
        let top: f64 = revenue[..600].iter().sum();
        assert!(top / total > 0.5, "top 20 % hold {:.1} %", 100.0 * top / total);
        let amounts = f64s(&frame, AMOUNT);
        let largest = amounts.iter().copied().fold(0.0, f64::max);
        let mut sorted = amounts.clone();
        sorted.sort_by(f64::total_cmp);
        let median = sorted[sorted.len() / 2];
        assert!((5.0..100.0).contains(&median), "median line {median}");
        assert!(largest > 20.0 * median, "largest line {largest}");
    }

    #[test]
    fn parquet_parts_concatenate_to_the_frame() {
        let params = GenerateParams::new(500, 9_001).seed(5).check().unwrap();
        let frame = generate_frame(&params).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("parts");
        let log = write(&params, &out, OutputFormat::Parquet, 3).unwrap();
        assert_eq!(log.files.len(), 3);
        let mut read: Option<DataFrame> = None;
        for (i, file) in log.files.iter().enumerate() {
            assert_eq!(file, &out.join(format!("part-{i:05}.parquet")));
            let part = ParquetReader::new(std::fs::File::open(file).unwrap())
                .finish()
                .unwrap();
            assert!(part.height() == 3_000 || part.height() == 3_001);
            read = Some(match read {
                None => part,
                Some(mut all) => {
                    all.vstack_mut(&part).unwrap();
                    all
                }
            });
        }
        assert!(read.unwrap().equals(&frame));
        // Nothing but the parts is left in the directory.
        assert_eq!(std::fs::read_dir(&out).unwrap().count(), 3);
    }

    #[test]
    fn csv_and_ndjson_round_trip() {
        let params = GenerateParams::new(300, 5_000)
            .seed(9)
            .period(date(2023, 6, 1), date(2023, 8, 31))
            .return_rate(0.2)
            .check()
            .unwrap();
        let frame = generate_frame(&params).unwrap();
        let dir = tempfile::tempdir().unwrap();

        let csv_dir = dir.path().join("csv");
        let log = write(&params, &csv_dir, OutputFormat::Csv, 2).unwrap();
        let mut text = String::new();
        for (i, file) in log.files.iter().enumerate() {
            let part = std::fs::read_to_string(file).unwrap();
            let mut lines = part.lines();
            assert_eq!(lines.next(), Some("customer_id,order_id,order_date,amount"));
            if i == 0 {
                text.push_str("customer_id,order_id,order_date,amount\n");
            }
            for line in lines {
                let fields: Vec<&str> = line.split(',').collect();
                assert_eq!(fields.len(), 4);
                assert_eq!(fields[2].len(), 19, "{line}");
                assert_eq!(fields[3].split('.').nth(1).map(str::len), Some(2), "{line}");
                text.push_str(line);
                text.push('\n');
            }
        }
        let schema = Schema::from_iter([Field::new(
            ORDER_DATE.into(),
            DataType::Datetime(TimeUnit::Microseconds, None),
        )]);
        let read = CsvReadOptions::default()
            .with_schema_overwrite(Some(Arc::new(schema)))
            .into_reader_with_file_handle(std::io::Cursor::new(text.into_bytes()))
            .finish()
            .unwrap();
        assert!(read.equals(&frame), "{read}\n{frame}");

        let json = dir.path().join("log.json");
        let log = write(&params, &json, OutputFormat::Ndjson, 1).unwrap();
        assert_eq!(log.files, vec![json.clone()]);
        let text = std::fs::read_to_string(&json).unwrap();
        assert_eq!(text.lines().count(), 5_000);
        assert!(text.starts_with("{\"customer_id\":"), "{}", &text[..80]);
    }

    #[test]
    fn invalid_parameters_are_named() {
        let err = GenerateParams::new(10, 9).check().unwrap_err();
        assert!(
            matches!(err, ParamError::OutOfRange { name: "rows", .. }),
            "{err}"
        );
        let err = GenerateParams::new(0, 9).check().unwrap_err();
        assert!(
            matches!(
                err,
                ParamError::OutOfRange {
                    name: "customers",
                    ..
                }
            ),
            "{err}"
        );
        let day = date(2023, 1, 1);
        let err = GenerateParams::new(1, 9).period(day, day).check().unwrap_err();
        assert!(matches!(err, ParamError::OutOfRange { name: "end", .. }), "{err}");
        let err = GenerateParams::new(1, 9)
            .period(day, date(2022, 1, 1))
            .check()
            .unwrap_err();
        assert!(matches!(err, ParamError::OutOfRange { name: "end", .. }), "{err}");
        for rate in [-0.1, 0.5, f64::NAN] {
            let err = GenerateParams::new(1, 9).return_rate(rate).check().unwrap_err();
            assert!(
                matches!(
                    err,
                    ParamError::OutOfRange {
                        name: "return_rate",
                        ..
                    }
                ),
                "{err}"
            );
        }
        let params = GenerateParams::new(5, 5).return_rate(0.0).check().unwrap();
        let frame = generate_frame(&params).unwrap();
        assert_eq!(frame.height(), 5);
        let dir = tempfile::tempdir().unwrap();
        assert!(write(&params, dir.path(), OutputFormat::Csv, 6).is_err());
        assert!(write(&params, dir.path(), OutputFormat::Csv, 0).is_err());
    }
}
