//! Transaction ingest: CSV, Parquet and in-memory frames into validated transactions.
//!
//! [`scan`] (files) and [`from_frame`] (polars frames) resolve the column mapping, settle the
//! timestamp format, and return [`Transactions`]: a lazy description of the input that reads
//! nothing until a job collects it. [`Transactions::classify`] gives every row its
//! [`RowStatus`] as a polars expression, so the same checks drive the
//! customer aggregation, the row reconciliation and the rejects file.
//!
//! ```no_run
//! use clientele::ingest::{self, IngestOptions};
//!
//! let tx = ingest::scan("orders.csv.gz", &IngestOptions::default())?;
//! println!("customer id from {:?}, amount from {}", tx.columns().customer, tx.columns().amount);
//! # Ok::<(), clientele::Error>(())
//! ```

mod column_types;
mod open;
pub(crate) mod plain_csv;
mod reading;
mod rejected;
pub(crate) mod row_hash;
pub mod source;
pub(crate) mod structure;
pub mod time;
pub(crate) mod typed;

use std::sync::Arc;

use polars::prelude::*;
use serde::Serialize;

pub use self::open::{from_frame, input_files, scan, scan_many};
use self::reading::{PendingCheck, Reading};
pub use self::rejected::RejectedRows;
pub use self::source::{
    CsvOptions, CsvReaderChoice, DecimalSeparator, Delimiter, Encoding, Header, InputFiles, InputFormat,
};
pub use self::time::TimeResolution;
use crate::columns::{AmountColumns, Columns, ResolvedColumns};
use crate::error::{Error, PolarsContext, Result};
use crate::rows::ids::id_exprs;
pub(crate) use crate::rows::ids::id_of_text;
use crate::rows::rules::{RowRules, flags, micros_expr};
use crate::rows::{RejectReason, RowPolicy, RowStatus};

pub use crate::rows::rules::{MAX_ABS_AMOUNT, MICROS_PER_UNIT};

/// A polars error of reading and aggregating `source_name`: no data is an empty input.
pub(crate) fn aggregate_error(source_name: &str, e: PolarsError) -> Error {
    match e {
        PolarsError::NoData(_) => Error::EmptyInput {
            source_name: source_name.to_string(),
        },
        other => Error::Polars {
            context: format!("{source_name}: cannot aggregate transactions"),
            error: other,
        },
    }
}

/// Names of the standardized transaction columns produced by [`Transactions::classify`].
pub mod col_names {
    /// Customer id, with the input's type (text or integer).
    pub const CUSTOMER_ID: &str = "customer_id";
    /// Timestamp, `Datetime(µs)` without time zone.
    pub const TS: &str = "ts";
    /// Calendar date of the timestamp.
    pub const DAY: &str = "day";
    /// Amount in integer micro-units.
    pub const AMOUNT_MICROS: &str = "amount_micros";
    /// Order id, or the purchase day (as days since 1970-01-01) when there is no order column.
    pub const ORDER_KEY: &str = "order_key";
    /// Row status code, see [`RowStatus::code`](crate::RowStatus::code).
    pub const STATUS: &str = "status";
}

/// Options for reading transactions.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct IngestOptions {
    /// Column mapping; unnamed roles are detected.
    pub columns: Columns,
    /// Explicit timestamp format (strftime syntax) for text timestamps; detected when `None`.
    pub time_format: Option<String>,
    /// CSV reading options.
    pub csv: CsvOptions,
    /// Input format; told from the file extension and content when `None`.
    pub format: Option<InputFormat>,
}

/// How the timestamp column is turned into date-times.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TimeParsing {
    /// The format used for text timestamps, or `None` for a native date or date-time column.
    pub format: Option<String>,
    /// Whether the format was detected (`true`) or given.
    pub detected: bool,
    /// Whether timestamps carry a time of day.
    pub resolution: TimeResolution,
}

/// A lazily read set of transactions with a resolved column mapping.
#[derive(Clone)]
pub struct Transactions {
    source_name: String,
    /// How the rows are read as far as known when the input was opened (for a plain CSV input
    /// whose structure was checked at its head only, see `pending`).
    reading: Reading,
    /// The check of a plain CSV input's structure beyond its head, left to the plain reader.
    pending: Option<Arc<PendingCheck>>,
    schema: SchemaRef,
    columns: ResolvedColumns,
    time: TimeParsing,
    decimal: DecimalSeparator,
    checks: Vec<ExtraCheck>,
    /// The format of the files behind the rows, when they are a file scan.
    format: Option<InputFormat>,
    /// Whether clientele's own readers read the rows where they apply (`--reader auto`).
    own_readers: bool,
    /// The Parquet files behind the rows, in scan order, when they are a Parquet scan.
    parquet_files: Vec<std::path::PathBuf>,
}

/// A check beyond the transaction log's, with the reason and column a failing row is
/// rejected for (used by customer tables: purchase dates, frequency).
#[derive(Clone)]
pub struct ExtraCheck {
    /// True for a row that fails, over the raw columns.
    pub bad: Expr,
    /// Why it is rejected.
    pub reason: RejectReason,
    /// The column to blame.
    pub column: String,
}

impl std::fmt::Debug for Transactions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transactions")
            .field("source_name", &self.source_name)
            .field("columns", &self.columns)
            .field("time", &self.time)
            .finish_non_exhaustive()
    }
}

fn empty_input(source_name: &str) -> Error {
    Error::EmptyInput {
        source_name: source_name.to_string(),
    }
}

/// Turns polars' "no data" errors into [`Error::EmptyInput`].
fn read_error(source_name: &str, what: &str, e: PolarsError) -> Error {
    match e {
        PolarsError::NoData(_) => empty_input(source_name),
        other => Error::Polars {
            context: format!("{source_name}: cannot read {what}"),
            error: other,
        },
    }
}

impl Transactions {
    /// Rows rejected for their structure or encoding (`malformed_row`, `invalid_utf8`).
    ///
    /// # Errors
    ///
    /// As [`Transactions::raw`].
    pub fn unreadable_rows(&self) -> Result<u64> {
        Ok(self.reading()?.bad.as_ref().map_or(0, |bad| bad.len() as u64))
    }

    /// The raw rows that are rows of the table: without the empty rows that stand in for
    /// records rejected for their structure or encoding.
    pub(crate) fn readable_raw(&self) -> Result<LazyFrame> {
        let reading = self.reading()?;
        Ok(match &reading.bad {
            None => reading.raw.clone(),
            Some(_) => {
                let columns: Vec<Expr> = self.schema.iter_names().map(|n| col(n.clone())).collect();
                self.rows()?.filter(col(internal::BAD).is_null()).select(columns)
            }
        })
    }

    /// The raw rows with a `__bad` column (the status code of a record that is not a row, null
    /// otherwise), when the input has such records; the raw rows otherwise.
    pub(crate) fn rows(&self) -> Result<LazyFrame> {
        let reading = self.reading()?;
        let Some(bad) = &reading.bad else {
            return Ok(reading.raw.clone());
        };
        let rows_for = |reason: RejectReason| -> Series {
            let rows: Vec<IdxSize> = bad
                .iter()
                .filter(|b| b.reason == reason)
                .map(|b| b.row as IdxSize)
                .collect();
            Series::new("rows".into(), rows)
        };
        let row = || col("__row");
        let code = |reason: RejectReason| lit(RowStatus::Rejected(reason).code());
        let status = when(row().is_in(lit(rows_for(RejectReason::InvalidUtf8)).implode(false), false))
            .then(code(RejectReason::InvalidUtf8))
            .when(row().is_in(lit(rows_for(RejectReason::MalformedRow)).implode(false), false))
            .then(code(RejectReason::MalformedRow))
            .otherwise(lit(NULL).cast(DataType::UInt8));
        let mut columns: Vec<Expr> = self.schema.iter_names().map(|n| col(n.clone())).collect();
        columns.push(status.alias(internal::BAD));
        Ok(reading.raw.clone().with_row_index("__row", None).select(columns))
    }

    /// The number of rows, when the input is Parquet files (read from their metadata).
    pub(crate) fn parquet_rows(&self) -> Result<Option<u64>> {
        if self.format != Some(InputFormat::Parquet) {
            return Ok(None);
        }
        let counted = self
            .raw()?
            .select([len().cast(DataType::UInt64)])
            .collect()
            .map_err(|e| read_error(&self.source_name, "the row count", e))?;
        Ok(counted
            .column(counted.get_column_names()[0].as_str())
            .ok()
            .and_then(|c| c.u64().ok()?.get(0)))
    }

    /// The rows of each row group of the Parquet files behind the rows, in scan order, read
    /// from the files' footers; `None` for other inputs, or when a footer cannot be read (the
    /// scan then reports the error).
    pub(crate) fn parquet_row_groups(&self) -> Option<Vec<u64>> {
        if self.parquet_files.is_empty() {
            return None;
        }
        let mut groups = Vec::new();
        for path in &self.parquet_files {
            let mut file = std::fs::File::open(path).ok()?;
            let metadata = polars_parquet::parquet::read::read_metadata(&mut file).ok()?;
            groups.extend(metadata.row_groups.iter().map(|g| g.num_rows() as u64));
        }
        Some(groups)
    }

    /// Whether clientele's own reader of plain CSV files reads these rows (see
    /// `ingest/plain_csv/`): a CSV file whose records are all rows of the table, read with
    /// `--reader auto`. Otherwise polars' reader does (a file with records that are not rows,
    /// another encoding or a byte-order mark; Parquet; `--reader polars`). The reader may still
    /// hand a file to polars when it meets a shape it does not read (logged at debug level).
    pub fn uses_plain_csv_reader(&self) -> bool {
        self.delimited().is_some()
    }

    /// The plain CSV files behind the transactions, for a reader of their own, when every
    /// role column is read as text and no extra check applies.
    pub(crate) fn delimited(&self) -> Option<&source::DelimitedFiles> {
        let c = &self.columns;
        let text = |name: &String| self.dtype(name) == &DataType::String;
        let amounts_text = match &c.amount {
            AmountColumns::Amount(a) => text(a),
            AmountColumns::QuantityTimesPrice { quantity, price } => text(quantity) && text(price),
        };
        let all_text =
            text(&c.customer) && text(&c.time) && amounts_text && c.order.as_ref().is_none_or(text);
        self.current()
            .delimited
            .as_ref()
            .filter(|_| all_text && self.checks.is_empty())
    }

    /// The decimal separator of text amounts.
    pub(crate) fn decimal(&self) -> DecimalSeparator {
        self.decimal
    }

    /// The input's name as the user gave it.
    pub fn source_name(&self) -> &str {
        &self.source_name
    }

    /// The column chosen for each role.
    pub fn columns(&self) -> &ResolvedColumns {
        &self.columns
    }

    /// How timestamps are parsed.
    pub fn time_parsing(&self) -> &TimeParsing {
        &self.time
    }

    /// The input as read, every column, nothing parsed.
    ///
    /// # Errors
    ///
    /// For a plain CSV input whose structure only the plain reader has checked so far, the
    /// errors of checking it (see `ingest/reading.rs`): read errors, a quoted field that never
    /// closes, files with different headers.
    pub fn raw(&self) -> Result<LazyFrame> {
        Ok(self.reading()?.raw.clone())
    }

    /// The input's column names and types.
    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn dtype(&self, column: &str) -> &DataType {
        self.schema
            .get(column)
            .expect("resolved columns are in the schema")
    }

    /// As [`Transactions::classify`], with more columns computed from the raw ones.
    ///
    /// # Errors
    ///
    /// As [`Transactions::raw`].
    pub fn classify_with(&self, policy: &RowPolicy, extra: Vec<Expr>) -> Result<LazyFrame> {
        use col_names::*;
        let mut columns = vec![
            col(internal::CUSTOMER_ID).alias(CUSTOMER_ID),
            col(internal::TS).alias(TS),
            col(internal::AMOUNT_MICROS).alias(AMOUNT_MICROS),
            col(internal::STATUS).alias(STATUS),
        ];
        columns.extend(extra);
        Ok(self.flagged(self.rows()?, policy).select(columns))
    }

    /// Parsing expressions for every role, over the raw columns.
    fn parsed(&self) -> Parsed {
        let c = &self.columns;
        let (customer, customer_missing, customer_invalid) = id_exprs(&c.customer, self.dtype(&c.customer));
        let (ts, time_missing, time_bad) = self.time_exprs(&c.time);
        let (amount, amount_missing, amount_bad, amount_blame) = match &c.amount {
            AmountColumns::Amount(a) => {
                let n = number_exprs(a, self.dtype(a), self.decimal);
                (n.value, n.missing, n.bad, Blame::Single(a.clone()))
            }
            AmountColumns::QuantityTimesPrice { quantity, price } => {
                let q = number_exprs(quantity, self.dtype(quantity), self.decimal);
                let p = number_exprs(price, self.dtype(price), self.decimal);
                let blame = Blame::Product {
                    quantity: quantity.clone(),
                    price: price.clone(),
                    quantity_ok: q.missing.clone().or(q.bad.clone()).not(),
                };
                (q.value * p.value, q.missing.or(p.missing), q.bad.or(p.bad), blame)
            }
        };
        let (order, order_missing, order_invalid) = match &c.order {
            Some(order) => id_exprs(order, self.dtype(order)),
            None => (lit(NULL), lit(false), lit(false)),
        };
        Parsed {
            customer,
            customer_missing,
            customer_invalid,
            ts,
            time_missing,
            time_bad,
            amount,
            amount_missing,
            amount_bad,
            amount_blame,
            order,
            order_missing,
            order_invalid,
        }
    }

    /// Every row as standardized columns with its status: `customer_id, ts, day,
    /// amount_micros, order_key, status` (see [`col_names`]).
    ///
    /// The status is the first of these checks that applies: missing or invalid customer id,
    /// missing or unparsable timestamp, missing or unparsable amount, non-finite amount,
    /// missing or invalid order id; then the policies: dated after the as-of date, a return under
    /// [`ReturnsPolicy::Exclude`](crate::ReturnsPolicy::Exclude); otherwise used (the rules of
    /// [`crate::rows::rules`]).
    ///
    /// # Errors
    ///
    /// As [`Transactions::raw`].
    pub fn classify(&self, policy: &RowPolicy) -> Result<LazyFrame> {
        Ok(self.classify_frame(self.rows()?, policy))
    }

    /// [`Transactions::classify`] over other rows with the input's role columns (as the
    /// input's types), e.g. rows a fast reader left to polars. Rows of the input itself must
    /// come from [`Transactions::rows`] (which marks the records that are not rows).
    pub(crate) fn classify_frame(&self, raw: LazyFrame, policy: &RowPolicy) -> LazyFrame {
        self.classified_with(raw, policy, Vec::new())
    }

    /// [`Transactions::classify_frame`] with every raw column too, named by
    /// [`row_hash::raw_column`] (for the duplicate rows of the data-quality statistics).
    pub(crate) fn classify_frame_with_raw(&self, raw: LazyFrame, policy: &RowPolicy) -> LazyFrame {
        let raw_columns = self
            .schema
            .iter_names()
            .enumerate()
            .map(|(i, n)| col(n.clone()).alias(row_hash::raw_column(i)))
            .collect();
        self.classified_with(raw, policy, raw_columns)
    }

    /// The classified columns, then `extra` (expressions of the raw columns).
    fn classified_with(&self, raw: LazyFrame, policy: &RowPolicy, extra: Vec<Expr>) -> LazyFrame {
        use col_names::*;
        let order_key = if self.columns.order.is_some() {
            col(internal::ORDER_KEY)
        } else {
            col(internal::DAY).to_physical()
        };
        let mut columns = vec![
            col(internal::CUSTOMER_ID).alias(CUSTOMER_ID),
            col(internal::TS).alias(TS),
            col(internal::DAY).alias(DAY),
            col(internal::AMOUNT_MICROS).alias(AMOUNT_MICROS),
            order_key.alias(ORDER_KEY),
            col(internal::STATUS).alias(STATUS),
        ];
        columns.extend(extra);
        self.flagged(raw, policy).select(columns)
    }

    /// `frame` (the raw columns, maybe with more) plus the parsed values, check flags and
    /// status under `__`-prefixed names.
    fn flagged(&self, frame: LazyFrame, policy: &RowPolicy) -> LazyFrame {
        let frame = frame
            .with_columns(self.parsed().flag_columns())
            .with_columns([
                col(internal::TS).dt().date().alias(internal::DAY),
                micros_expr(col(internal::AMOUNT)).alias(internal::AMOUNT_MICROS),
            ])
            .with_column(RowRules::new(policy).status_expr().alias(internal::STATUS));
        // Records that are not rows come first: their fields are empty placeholders.
        let frame = match self.current().bad {
            Some(_) => frame.with_column(
                when(col(internal::BAD).is_not_null())
                    .then(col(internal::BAD))
                    .otherwise(col(internal::STATUS))
                    .alias(internal::STATUS),
            ),
            None => frame,
        };
        if self.checks.is_empty() {
            return frame;
        }
        // Extra checks reject rows the standard checks let through, before any policy.
        let status = || col(internal::STATUS);
        let passed = status()
            .eq(lit(RowStatus::Used.code()))
            .or(status().gt_eq(lit(32u8)));
        // Folded from the last check so that the first failing check names the reason.
        let checked = self.checks.iter().rev().fold(status(), |rest, check| {
            when(passed.clone().and(check.bad.clone()))
                .then(lit(RowStatus::Rejected(check.reason).code()))
                .otherwise(rest)
        });
        frame.with_column(checked.alias(internal::STATUS))
    }

    /// Adds checks that reject rows (see [`ExtraCheck`]).
    pub(crate) fn with_checks(mut self, checks: Vec<ExtraCheck>) -> Self {
        self.checks.extend(checks);
        self
    }

    /// The rejected rows with every input column, preceded by `reject_row` (1-based data row
    /// number, across files in order), `reject_reason`, `reject_column` and `reject_value`.
    ///
    /// # Errors
    ///
    /// As [`Transactions::raw`].
    pub fn rejected_rows(&self, policy: &RowPolicy) -> Result<LazyFrame> {
        let rows = self.rows()?.with_row_index("reject_row", Some(1));
        Ok(self.rejected_rows_in(rows, policy))
    }

    /// [`Transactions::rejected_rows`] of other rows with the input's columns and their
    /// `reject_row`, e.g. rows a fast reader left to polars.
    pub(crate) fn rejected_rows_in(&self, indexed: LazyFrame, policy: &RowPolicy) -> LazyFrame {
        let (mut column, mut value) = self.parsed().blame_exprs(&self.columns, &self.checks);
        let bad = &self.current().bad;
        if bad.is_some() {
            // A record that is not a row has no column to blame; its value is its text.
            let bad = col(internal::BAD).is_not_null();
            column = when(bad.clone())
                .then(lit(NULL).cast(DataType::String))
                .otherwise(column);
            value = when(bad).then(col(internal::BAD_VALUE)).otherwise(value);
        }
        let mut out = vec![
            col("reject_row"),
            reason_expr().alias("reject_reason"),
            column.alias("reject_column"),
            value.alias("reject_value"),
        ];
        out.extend(self.schema.iter_names().map(|n| col(n.clone())));
        let status = || col(internal::STATUS);
        let rejected = self
            .flagged(indexed, policy)
            .filter(status().gt_eq(lit(1u8)).and(status().lt(lit(32u8))));
        let rejected = match bad {
            None => rejected,
            Some(bad) => {
                let rows: Vec<IdxSize> = bad.iter().map(|b| b.row as IdxSize + 1).collect();
                let values: Vec<&str> = bad.iter().map(|b| b.value.as_str()).collect();
                let texts = DataFrame::new(
                    bad.len(),
                    vec![
                        Column::new("reject_row".into(), rows),
                        Column::new(internal::BAD_VALUE.into(), values),
                    ],
                )
                .expect("two columns of one length");
                rejected.join(
                    texts.lazy(),
                    [col("reject_row")],
                    [col("reject_row")],
                    JoinArgs {
                        maintain_order: MaintainOrderJoin::Left,
                        ..JoinArgs::new(JoinType::Left)
                    },
                )
            }
        };
        rejected.select(out)
    }

    /// The first used row dated at `ts` (microseconds since the epoch), a purchase line before
    /// a return, as `(row, timestamp as written)`: the row is 1-based and counted as
    /// `reject_row` counts. Reads the input; for messages about one date.
    pub(crate) fn used_row_at(&self, policy: &RowPolicy, ts: i64) -> Result<Option<(u64, String)>> {
        let at = lit(ts).cast(DataType::Datetime(TimeUnit::Microseconds, None));
        let found = self
            .flagged(self.raw()?.with_row_index(internal::ROW, Some(1)), policy)
            .filter(
                col(internal::STATUS)
                    .eq(lit(RowStatus::Used.code()))
                    .and(col(internal::TS).eq(at)),
            )
            .select([
                col(internal::ROW).cast(DataType::UInt64),
                col(internal::AMOUNT_MICROS).lt(lit(0i64)).alias("__return"),
                col(self.columns.time.as_str())
                    .cast(DataType::String)
                    .alias("__value"),
            ])
            .collect_with_engine(Engine::Streaming)
            .map(|r| r.unwrap_single())
            .map_err(|e| read_error(&self.source_name, "the row of a date", e))?;
        let column = |name: &str| found.column(name).context(|| name.to_string());
        let (rows, returns, values) = (column(internal::ROW)?, column("__return")?, column("__value")?);
        let (rows, returns, values) = (
            rows.u64().context(|| "rows".into())?,
            returns.bool().context(|| "returns".into())?,
            values.str().context(|| "values".into())?,
        );
        let best = (0..found.height())
            .filter_map(|i| Some((returns.get(i).unwrap_or(false), rows.get(i)?, i)))
            .min();
        Ok(best.map(|(_, row, i)| (row, values.get(i).unwrap_or_default().to_string())))
    }
}

/// Names of intermediate columns, prefixed so they cannot clash with the input's columns.
mod internal {
    use crate::rows::rules::flags;

    pub const ROW: &str = "__row";
    pub const CUSTOMER_ID: &str = "__customer_id";
    pub const TS: &str = "__ts";
    pub const DAY: &str = flags::DAY;
    pub const AMOUNT: &str = "__amount";
    pub const AMOUNT_MICROS: &str = flags::AMOUNT_MICROS;
    pub const ORDER_KEY: &str = "__order_key";
    pub const STATUS: &str = "__status";
    /// The status of a record that is not a row (see [`Transactions::rows`](super::Transactions)).
    pub const BAD: &str = "__bad";
    /// The text of such a record.
    pub const BAD_VALUE: &str = "__bad_value";
}

/// Whether a column type can hold ids (customer or order).
fn is_id_type(dtype: &DataType) -> bool {
    matches!(dtype, DataType::String | DataType::Categorical(..)) || dtype.is_primitive_numeric()
}

struct NumberExprs {
    value: Expr,
    missing: Expr,
    bad: Expr,
}

fn number_exprs(name: &str, dtype: &DataType, decimal: DecimalSeparator) -> NumberExprs {
    let c = col(name);
    if dtype == &DataType::String {
        let mut text = c.str().strip_chars(lit(NULL));
        if decimal == DecimalSeparator::Comma {
            // A point beside a decimal comma is ambiguous (thousands?), so it stays and the
            // value fails to parse, visibly, rather than being guessed.
            text = text.str().replace_all(lit(","), lit("."), true);
        }
        let missing = text.clone().is_null().or(text.clone().eq(lit("")));
        let value = text.cast(DataType::Float64);
        NumberExprs {
            bad: missing.clone().not().and(value.clone().is_null()),
            value,
            missing,
        }
    } else {
        NumberExprs {
            value: c.clone().cast(DataType::Float64),
            missing: c.is_null(),
            bad: lit(false),
        }
    }
}

/// Which input column (and value) a rejection is about.
enum Blame {
    Single(String),
    Product {
        quantity: String,
        price: String,
        quantity_ok: Expr,
    },
}

struct Parsed {
    customer: Expr,
    customer_missing: Expr,
    customer_invalid: Expr,
    ts: Expr,
    time_missing: Expr,
    time_bad: Expr,
    amount: Expr,
    amount_missing: Expr,
    amount_bad: Expr,
    amount_blame: Blame,
    order: Expr,
    order_missing: Expr,
    order_invalid: Expr,
}

impl Parsed {
    /// The parsed values and check flags as columns (`__`-prefixed flags).
    fn flag_columns(&self) -> Vec<Expr> {
        vec![
            self.customer.clone().alias(internal::CUSTOMER_ID),
            self.ts.clone().alias(internal::TS),
            self.amount.clone().alias(internal::AMOUNT),
            self.order.clone().alias(internal::ORDER_KEY),
            self.customer_missing.clone().alias(flags::CUSTOMER_MISSING),
            self.customer_invalid.clone().alias(flags::CUSTOMER_INVALID),
            self.time_missing.clone().alias(flags::TIME_MISSING),
            self.time_bad.clone().alias(flags::TIME_BAD),
            self.amount_missing.clone().alias(flags::AMOUNT_MISSING),
            self.amount_bad.clone().alias(flags::AMOUNT_BAD),
            self.order_missing.clone().alias(flags::ORDER_MISSING),
            self.order_invalid.clone().alias(flags::ORDER_INVALID),
        ]
    }

    /// `(column name, raw value as text)` for a rejected row, by its status.
    fn blame_exprs(&self, columns: &ResolvedColumns, checks: &[ExtraCheck]) -> (Expr, Expr) {
        let text = |name: &str| col(name).cast(DataType::String);
        let status = col(internal::STATUS);
        let is = |reasons: &[RejectReason]| {
            reasons
                .iter()
                .map(|r| status.clone().eq(lit(RowStatus::Rejected(*r).code())))
                .reduce(Expr::or)
                .expect("at least one reason")
        };
        let customer = [RejectReason::MissingCustomerId, RejectReason::InvalidCustomerId];
        let time = [RejectReason::MissingTimestamp, RejectReason::UnparsableTimestamp];
        let amount = [RejectReason::MissingAmount, RejectReason::UnparsableAmount];
        let (amount_name, amount_value, finite_name, finite_value) = match &self.amount_blame {
            Blame::Single(a) => (lit(a.clone()), text(a), lit(a.clone()), text(a)),
            Blame::Product {
                quantity,
                price,
                quantity_ok,
            } => (
                when(quantity_ok.clone())
                    .then(lit(price.clone()))
                    .otherwise(lit(quantity.clone())),
                when(quantity_ok.clone())
                    .then(text(price))
                    .otherwise(text(quantity)),
                lit(format!("{quantity} × {price}")),
                col(internal::AMOUNT).cast(DataType::String),
            ),
        };
        let order_name = columns.order.clone().unwrap_or_default();
        let order_value = match &columns.order {
            Some(o) => text(o),
            None => lit(NULL).cast(DataType::String),
        };
        let mut name = when(is(&customer))
            .then(lit(columns.customer.clone()))
            .when(is(&time))
            .then(lit(columns.time.clone()))
            .when(is(&amount))
            .then(amount_name)
            .when(is(&[RejectReason::NonFiniteAmount]))
            .then(finite_name)
            .otherwise(lit(order_name));
        let value = when(is(&customer))
            .then(text(&columns.customer))
            .when(is(&time))
            .then(text(&columns.time))
            .when(is(&amount))
            .then(amount_value)
            .when(is(&[RejectReason::NonFiniteAmount]))
            .then(finite_value)
            .otherwise(order_value);
        let mut value = value;
        for check in checks {
            let failed = status.clone().eq(lit(RowStatus::Rejected(check.reason).code()));
            name = when(failed.clone())
                .then(lit(check.column.clone()))
                .otherwise(name);
            value = when(failed).then(text(&check.column)).otherwise(value);
        }
        (name, value)
    }
}

/// The reason identifier of a rejected row's status.
fn reason_expr() -> Expr {
    let status = col(internal::STATUS);
    RejectReason::ALL
        .iter()
        .rev()
        .fold(lit(NULL).cast(DataType::String), |otherwise, reason| {
            when(status.clone().eq(lit(RowStatus::Rejected(*reason).code())))
                .then(lit(reason.as_str()))
                .otherwise(otherwise)
        })
}
