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

use std::path::{Path, PathBuf};
use std::sync::mpsc::sync_channel;

use chrono::NaiveDate;
use polars::prelude::*;
use rayon::prelude::*;
use serde::Serialize;

use crate::error::{Error, ParamError, PolarsContext, Result};
use crate::output::OutputFormat;

mod block;
mod files;
mod layout;
mod model;
mod render;
#[cfg(test)]
mod tests;

use files::write_files;
pub use layout::{DEFAULT_ROW_GROUP_ROWS, IdKind, Layout, ParquetCodec, RowOrder};
use model::Model;
use render::{LogColumns, Piece, PieceData, Render, Row, produce};

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
    layout: Layout,
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
            layout: Layout::default(),
        }
    }

    /// Sets the layout: row order, id type, Parquet compression and row-group size
    /// ([`Layout`]; by default the generator's streaming block order, integer ids, zstd,
    /// [`DEFAULT_ROW_GROUP_ROWS`]). Orders other than [`RowOrder::Blocks`] hold the whole log
    /// in memory while it is reordered: about 32 bytes a row, twice that while sorting.
    pub fn layout(mut self, layout: Layout) -> Self {
        self.layout = layout;
        self
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
    /// `return_rate` outside `0 <= rate < 0.5`, and `row_group_rows` when it is 0.
    pub fn check(self) -> Result<GenerateValidParams, ParamError> {
        if self.layout.row_group_rows == 0 {
            return Err(ParamError::OutOfRange {
                name: "row_group_rows",
                expected: "at least 1",
                got: "0".into(),
            });
        }
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

    /// The layout of the log.
    pub fn layout(&self) -> &Layout {
        &self.0.layout
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
    let all = match params.layout().order {
        RowOrder::Blocks => {
            let bounds = [0, model.rows];
            let mut all = LogColumns::with_capacity(usize::try_from(model.rows).unwrap_or(0));
            produce(&model, Render::Columns, &bounds, |pieces| {
                for piece in pieces {
                    if let PieceData::Columns(columns) = piece.data {
                        all.append(columns);
                    }
                }
                true
            });
            all
        }
        _ => LogColumns::from_rows(&ordered_rows(&model, params).0),
    };
    all.into_frame(params.layout().ids)
        .context(|| "cannot build the generated log".into())
}

/// Every row of the log, in the layout's order (in memory), and the totals.
fn ordered_rows(model: &Model, params: &GenerateValidParams) -> (Vec<Row>, render::Totals) {
    let mut rows = Vec::with_capacity(usize::try_from(model.rows).unwrap_or(0));
    let totals = produce(model, Render::Rows, &[0, model.rows], |pieces| {
        for piece in pieces {
            if let PieceData::Rows(block) = piece.data {
                rows.extend(block);
            }
        }
        true
    });
    layout::reorder(&mut rows, params.layout().order, params.seed());
    (rows, totals)
}

/// Hands `rows` to `consume` as pieces of at most [`WINDOW_ROWS`] rows a window, cut at the
/// file `bounds` and rendered in parallel. Stops early when `consume` returns false.
fn render_rows(rows: &[Row], bounds: &[u64], render: Render, mut consume: impl FnMut(Vec<Piece>) -> bool) {
    const PIECE_ROWS: usize = 1 << 16;
    for (file, range) in bounds.windows(2).enumerate() {
        let file_rows = &rows[range[0] as usize..range[1] as usize];
        for window in file_rows.chunks(WINDOW_ROWS as usize) {
            let pieces = window
                .par_chunks(PIECE_ROWS)
                .map(|chunk| Piece {
                    file,
                    rows: chunk.len() as u64,
                    data: match render {
                        Render::Csv(ids) => {
                            PieceData::Csv(render::render_csv(chunk.iter().copied(), chunk.len(), ids))
                        }
                        Render::Columns => PieceData::Columns(LogColumns::from_rows(chunk)),
                        Render::Rows => PieceData::Rows(chunk.to_vec()),
                    },
                })
                .collect();
            if !consume(pieces) {
                return;
            }
        }
    }
}

/// Generates the log and writes it to `files` files in `format`.
///
/// With `files == 1`, `path` is the file. With more, `path` is a directory (created when
/// missing) that receives `part-00000.<ext>`, `part-00001.<ext>`, ..., the rows split in order
/// into nearly equal parts. Every file is written under a temporary name and renamed into place
/// when complete.
///
/// CSV files have a header, datetimes as `YYYY-MM-DD HH:MM:SS` and amounts with two decimals.
/// Parquet files are compressed and cut into row groups as the [`Layout`] says (zstd and
/// 524,288 rows by default; the last group of a file smaller). NDJSON files have one object per row, datetimes as strings. The rows are those of
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
    let layout = params.layout();
    let render = match format {
        OutputFormat::Csv => Render::Csv(layout.ids),
        OutputFormat::Parquet | OutputFormat::Ndjson => Render::Columns,
    };

    let (totals, written) = std::thread::scope(|scope| {
        // One window in the channel, one being written, one being generated.
        let (sender, receiver) = sync_channel::<Vec<Piece>>(1);
        let writer = scope.spawn(|| write_files(receiver, &targets, &bounds, format, layout));
        let send = |pieces| sender.send(pieces).is_ok();
        let totals = match layout.order {
            RowOrder::Blocks => produce(&model, render, &bounds, send),
            _ => {
                let (rows, totals) = ordered_rows(&model, params);
                render_rows(&rows, &bounds, render, send);
                totals
            }
        };
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
