//! clientele's reader of typed columns: Parquet files and in-memory frames whose role columns
//! already have types (integer or text ids, dates or date-times, numeric amounts).
//!
//! polars decodes only the role columns (a projection and casts to one type per role, no
//! other expression); the rules of [`crate::rows::rules`] then run in Rust over the decoded
//! values, as they do for clientele's CSV reader, and the rows go to the sink as slices of
//! the batch. On polars' path the same rules are a dozen expressions, each a column of its
//! own per batch: for a 50M-row log that was more work than the aggregation.
//!
//! It reads a value exactly as the expressions of polars' path do (`ingest/mod.rs`,
//! `rows/ids.rs`): the same casts to `Int64`, `Datetime(μs)` and `Float64`, text ids through
//! [`crate::rows::ids::id_of_text`], amounts through [`micros_of`]. Inputs it does not read
//! (text timestamps or amounts, time zones, float or unsigned 64-bit ids, extra checks, records
//! that are not rows) stay with polars' path, and `--reader polars` sends everything there;
//! tests hold both paths to the same customers and row account.

use std::borrow::Cow;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender};

use polars::prelude::*;
use polars_arrow::array::Utf8ViewArray;
use polars_arrow::bitmap::Bitmap;
use rayon::prelude::*;

use super::Transactions;
use super::plain_csv::RowSink;
use crate::columns::AmountColumns;
use crate::error::{Error, Result};
use crate::rows::ids::order_key_of_text;
use crate::rows::rules::{MICROS_PER_DAY, Reading, RowFacts, RowRules, micros_of};
use crate::rows::{RowPolicy, RowStatus};

/// The first status code of an exclusion: valid rows are used or excluded.
const FIRST_EXCLUSION: u8 = 32;
/// Rows of a batch classified by one task, at least.
const CLASSIFIED_TOGETHER: usize = 1 << 16;

/// The batch columns the projection makes, one per role.
const CUSTOMER: &str = "__typed_customer";
const TIME: &str = "__typed_time";
const AMOUNT: &str = "__typed_amount";
const PRICE: &str = "__typed_price";
const ORDER: &str = "__typed_order";

/// Whether a role's ids are integers or text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IdType {
    /// Integers of at most 64 bits, signed, or unsigned of at most 32 (read as `Int64`).
    Int,
    /// Text.
    Text,
}

impl IdType {
    fn of(dtype: &DataType) -> Option<IdType> {
        match dtype {
            DataType::String => Some(IdType::Text),
            dt if dt.is_integer() && dt != &DataType::UInt64 => Some(IdType::Int),
            _ => None,
        }
    }

    fn cast(self) -> DataType {
        match self {
            IdType::Int => DataType::Int64,
            IdType::Text => DataType::String,
        }
    }
}

/// What the typed reader reads of an input (see [`Transactions::typed_roles`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TypedRoles {
    /// The customer ids.
    pub(crate) customer: IdType,
    /// The order ids, when there is an order column.
    pub(crate) order: Option<IdType>,
    /// Whether the amount is a quantity times a unit price.
    product: bool,
}

impl Transactions {
    /// The roles' types, when clientele's typed reader reads these rows: native date or
    /// date-time timestamps without a time zone, numeric amounts (or quantities and prices),
    /// integer or text ids, no extra check and no record that is not a row, with `--reader
    /// auto`. `None` leaves the rows to polars' path.
    pub(crate) fn typed_roles(&self) -> Option<TypedRoles> {
        if !self.own_readers || !self.checks.is_empty() || self.time.format.is_some() {
            return None;
        }
        let c = &self.columns;
        let numeric = |name: &str| self.dtype(name).is_primitive_numeric();
        let time_ok = matches!(self.dtype(&c.time), DataType::Date | DataType::Datetime(_, None));
        let (amount_ok, product) = match &c.amount {
            AmountColumns::Amount(a) => (numeric(a), false),
            AmountColumns::QuantityTimesPrice { quantity, price } => {
                (numeric(quantity) && numeric(price), true)
            }
        };
        let order = match &c.order {
            Some(order) => Some(IdType::of(self.dtype(order))?),
            None => None,
        };
        let customer = IdType::of(self.dtype(&c.customer))?;
        (time_ok && amount_ok && self.reading().ok()?.bad.is_none()).then_some(TypedRoles {
            customer,
            order,
            product,
        })
    }

    /// The role columns as the typed reader classifies them: one column per role, cast to its
    /// type.
    fn typed_projection(&self, roles: &TypedRoles) -> Vec<Expr> {
        let c = &self.columns;
        let float = |name: &str| col(name).cast(DataType::Float64);
        let mut columns = vec![
            col(c.customer.as_str())
                .cast(roles.customer.cast())
                .alias(CUSTOMER),
            col(c.time.as_str())
                .cast(DataType::Datetime(TimeUnit::Microseconds, None))
                .alias(TIME),
        ];
        match &c.amount {
            AmountColumns::Amount(a) => columns.push(float(a).alias(AMOUNT)),
            AmountColumns::QuantityTimesPrice { quantity, price } => {
                columns.push(float(quantity).alias(AMOUNT));
                columns.push(float(price).alias(PRICE));
            }
        }
        if let (Some(order), Some(kind)) = (&c.order, roles.order) {
            columns.push(col(order.as_str()).cast(kind.cast()).alias(ORDER));
        }
        columns
    }
}

/// The customer ids of a batch's valid rows.
pub(crate) enum TypedIds<'a> {
    /// Integer ids.
    Int(Cow<'a, [i64]>),
    /// Text ids, as [`crate::rows::ids::id_of_text`] reads them.
    Text(Vec<&'a str>),
}

/// The order keys of a batch's valid rows.
pub(crate) enum TypedOrders<'a> {
    /// Integer order ids.
    Int(Cow<'a, [i64]>),
    /// Keys of text order ids ([`order_key_of_text`]), or days without an order column.
    Keys(Vec<u64>),
}

/// A batch's valid rows, as the typed reader hands them on: every used row, and with excluded
/// rows asked for, those too (marked in `used`).
pub(crate) struct TypedRows<'a> {
    /// Customer ids.
    pub(crate) customers: TypedIds<'a>,
    /// Timestamps, microseconds since the epoch.
    pub(crate) ts: Cow<'a, [i64]>,
    /// Amounts in micro-units.
    pub(crate) amounts: &'a [i64],
    /// Order keys.
    pub(crate) orders: TypedOrders<'a>,
    /// Whether each row is used; empty when all are.
    pub(crate) used: &'a [bool],
    /// Status code → rows, for every row of the batch.
    pub(crate) status_counts: Vec<(u8, u64)>,
}

/// A primitive column of one chunk: its values and which are valid.
struct Values<'a, T> {
    values: &'a [T],
    validity: Option<&'a Bitmap>,
}

impl<'a, T: NumericNative> Values<'a, T> {
    fn of<P: PolarsNumericType<Native = T>>(ca: &'a ChunkedArray<P>) -> Values<'a, T> {
        let array = ca.downcast_as_array();
        Values {
            values: array.values().as_slice(),
            validity: array.validity().filter(|v| v.unset_bits() > 0),
        }
    }

    #[inline(always)]
    fn get(&self, i: usize) -> Option<T> {
        match self.validity {
            Some(valid) if !valid.get_bit(i) => None,
            _ => Some(self.values[i]),
        }
    }
}

/// A batch's role columns.
struct Columns<'a> {
    customer: IdColumn<'a>,
    time: Values<'a, i64>,
    amount: Values<'a, f64>,
    price: Option<Values<'a, f64>>,
    order: Option<IdColumn<'a>>,
}

enum IdColumn<'a> {
    Int(Values<'a, i64>),
    Text(&'a Utf8ViewArray),
}

impl<'a> IdColumn<'a> {
    fn of(column: &'a Column) -> PolarsResult<IdColumn<'a>> {
        Ok(match column.dtype() {
            DataType::String => IdColumn::Text(column.str()?.downcast_as_array()),
            _ => IdColumn::Int(Values::of(column.i64()?)),
        })
    }

    /// How row `i`'s id reads, and its text id.
    #[inline(always)]
    fn read(&self, i: usize) -> (Reading, Option<&'a str>) {
        match self {
            IdColumn::Int(ids) => match ids.get(i) {
                Some(_) => (Reading::Read, None),
                None => (Reading::Missing, None),
            },
            IdColumn::Text(ids) => match ids.get(i) {
                None => (Reading::Missing, None),
                Some(text) => Reading::with_text_id(text),
            },
        }
    }
}

/// What a batch's classification writes, kept from one batch to the next: buffers made
/// afresh for each batch were fresh pages each time, faulted in row by row.
#[derive(Default)]
struct Scratch {
    /// Positions of the kept rows in the batch.
    rows: Vec<u32>,
    /// Amounts of the kept rows in micro-units.
    micros: Vec<i64>,
    /// Whether each kept row is used (written only when excluded rows are kept).
    used: Vec<bool>,
}

/// What one range of a batch's rows gave beyond the scratch: how many it kept, its rows by
/// status code, and the texts of its kept rows' ids when they are text.
struct RangeKept<'a> {
    kept: usize,
    counts: [u64; 256],
    text_ids: Vec<&'a str>,
    text_orders: Vec<u64>,
}

impl<'a> Columns<'a> {
    fn of(batch: &'a DataFrame) -> PolarsResult<Self> {
        Ok(Columns {
            customer: IdColumn::of(batch.column(CUSTOMER)?)?,
            time: Values::of(batch.column(TIME)?.datetime()?.physical()),
            amount: Values::of(batch.column(AMOUNT)?.f64()?),
            price: batch
                .column(PRICE)
                .ok()
                .map(|c| c.f64().map(Values::of))
                .transpose()?,
            order: batch.column(ORDER).ok().map(IdColumn::of).transpose()?,
        })
    }

    /// Row `i` as the rules see it, with its texts when the ids are text.
    fn facts(&self, i: usize) -> (RowFacts, Option<&'a str>, Option<&'a str>) {
        let (customer, customer_text) = self.customer.read(i);
        let (order, order_text) = match &self.order {
            Some(order) => order.read(i),
            None => (Reading::Read, None),
        };
        let ts = self.time.get(i);
        let amount = match (self.amount.get(i), self.price.as_ref().map(|p| p.get(i))) {
            (Some(a), None) => Some(a),
            (Some(q), Some(Some(p))) => Some(q * p),
            _ => None,
        };
        let read = |present: bool| match present {
            true => Reading::Read,
            false => Reading::Missing,
        };
        let facts = RowFacts {
            customer,
            time: read(ts.is_some()),
            amount: read(amount.is_some()),
            micros: amount.and_then(micros_of),
            order,
            day: ts.map_or(0, |t| t.div_euclid(MICROS_PER_DAY)),
        };
        (facts, customer_text, order_text)
    }
}

/// Classifies one batch (the columns of [`Transactions::typed_projection`], rechunked) by the
/// rules, keeping the valid rows `keep_excluded` asks for: ranges of rows in parallel, each
/// writing its kept rows at the start of its own part of `scratch`, then put together in order.
fn classify<'a>(
    batch: &'a DataFrame,
    rules: &RowRules,
    keep_excluded: bool,
    scratch: &'a mut Scratch,
) -> PolarsResult<TypedRows<'a>> {
    let columns = Columns::of(batch)?;
    let n = batch.height();
    let tasks = rayon::current_num_threads()
        .min(n.div_ceil(CLASSIFIED_TOGETHER))
        .max(1);
    // Ranges of equal length (the last shorter), one per task, in each of the scratch's
    // buffers; `used` is as long as the others so that the ranges line up, written only when
    // excluded rows are kept.
    let chunk = n.div_ceil(tasks).max(1);
    scratch.rows.resize(n, 0);
    scratch.micros.resize(n, 0);
    scratch.used.resize(n, false);
    let parts: Vec<RangeKept<'a>> = scratch
        .rows
        .par_chunks_mut(chunk)
        .zip(scratch.micros.par_chunks_mut(chunk))
        .zip(scratch.used.par_chunks_mut(chunk))
        .enumerate()
        .map(|(t, ((rows, micros), used))| {
            let range = t * chunk..t * chunk + rows.len();
            classify_rows(&columns, rules, keep_excluded, range, Out { rows, micros, used })
        })
        .collect();
    // Each range's kept rows moved up behind those of the ranges before it.
    let mut counts = [0u64; 256];
    let (mut kept, mut text_ids, mut text_orders) = (0, Vec::new(), Vec::new());
    for (t, part) in parts.into_iter().enumerate() {
        let from = t * chunk;
        let moved = from..from + part.kept;
        if from != kept {
            scratch.rows.copy_within(moved.clone(), kept);
            scratch.micros.copy_within(moved.clone(), kept);
            if keep_excluded {
                scratch.used.copy_within(moved, kept);
            }
        }
        kept += part.kept;
        text_ids.extend(part.text_ids);
        text_orders.extend(part.text_orders);
        for (count, more) in counts.iter_mut().zip(part.counts) {
            *count += more;
        }
    }
    let scratch: &'a Scratch = scratch;
    let kept = Kept {
        rows: &scratch.rows[..kept],
        micros: &scratch.micros[..kept],
        used: &scratch.used[..if keep_excluded { kept } else { 0 }],
        text_ids,
        text_orders,
    };
    Ok(assemble(&columns, kept, n, &counts))
}

/// Where a range of rows writes its kept rows (its part of the scratch, from the start).
struct Out<'s> {
    rows: &'s mut [u32],
    micros: &'s mut [i64],
    used: &'s mut [bool],
}

/// Classifies the rows `range` of a batch into `out`: the kept rows and the rows by status
/// code.
fn classify_rows<'a>(
    columns: &Columns<'a>,
    rules: &RowRules,
    keep_excluded: bool,
    range: std::ops::Range<usize>,
    out: Out<'_>,
) -> RangeKept<'a> {
    let mut part = RangeKept {
        kept: 0,
        counts: [0u64; 256],
        text_ids: Vec::new(),
        text_orders: Vec::new(),
    };
    for i in range {
        let (facts, customer_text, order_text) = columns.facts(i);
        let code = rules.status(&facts).code();
        part.counts[code as usize] += 1;
        let is_used = code == RowStatus::Used.code();
        if !(is_used || keep_excluded && code >= FIRST_EXCLUSION) {
            continue;
        }
        out.rows[part.kept] = i as u32;
        out.micros[part.kept] = facts.micros.expect("valid rows have an amount");
        if keep_excluded {
            out.used[part.kept] = is_used;
        }
        part.kept += 1;
        if let Some(text) = customer_text {
            part.text_ids.push(text);
        }
        if let Some(text) = order_text {
            part.text_orders.push(order_key_of_text(text));
        }
    }
    part
}

/// The kept rows of a batch, put together.
struct Kept<'a> {
    rows: &'a [u32],
    micros: &'a [i64],
    /// Empty unless excluded rows are kept.
    used: &'a [bool],
    text_ids: Vec<&'a str>,
    text_orders: Vec<u64>,
}

/// The kept rows of a batch as the accumulator takes them.
fn assemble<'a>(columns: &Columns<'a>, kept: Kept<'a>, n: usize, counts: &[u64; 256]) -> TypedRows<'a> {
    let all = kept.rows.len() == n;
    let used = match kept.used.iter().all(|u| *u) {
        true => &[][..],
        false => kept.used,
    };
    let ts = gather(&columns.time, kept.rows, all);
    let customers = match &columns.customer {
        IdColumn::Int(ids) => TypedIds::Int(gather(ids, kept.rows, all)),
        IdColumn::Text(_) => TypedIds::Text(kept.text_ids),
    };
    let orders = match &columns.order {
        Some(IdColumn::Int(ids)) => TypedOrders::Int(gather(ids, kept.rows, all)),
        Some(IdColumn::Text(_)) => TypedOrders::Keys(kept.text_orders),
        // Without an order column, a customer's purchases on one day make one order.
        None => TypedOrders::Keys(ts.iter().map(|t| t.div_euclid(MICROS_PER_DAY) as u64).collect()),
    };
    TypedRows {
        customers,
        ts,
        amounts: kept.micros,
        orders,
        used,
        status_counts: counts
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(code, n)| (code as u8, *n))
            .collect(),
    }
}

/// The values of the kept rows (valid rows have every value): the column's own slice when
/// every row is kept.
fn gather<'a>(values: &Values<'a, i64>, keep: &[u32], all: bool) -> Cow<'a, [i64]> {
    match all {
        true => Cow::Borrowed(values.values),
        false => Cow::Owned(keep.iter().map(|i| values.values[*i as usize]).collect()),
    }
}

/// Batches decoded ahead of the one being added: polars decodes the next batch while the sink
/// adds this one, and at most this many wait, so memory stays a few batches.
const BATCHES_AHEAD: usize = 1;

/// Reads `parts` (raw scans of the input: windows of rows) with the typed reader into `sink`,
/// with the excluded rows too when `keep_excluded`.
///
/// polars decodes the windows one after another on a thread of its own and hands each batch
/// over a bounded channel; this thread classifies and adds them meanwhile. Decoding and
/// accumulating overlap, within a window and across windows. Batches come in the order polars
/// hands them over, as before; the sink's result does not depend on it.
pub(crate) fn accumulate<S: RowSink>(
    tx: &Transactions,
    roles: &TypedRoles,
    policy: &RowPolicy,
    parts: Vec<LazyFrame>,
    mut sink: S,
    keep_excluded: bool,
) -> Result<S> {
    let projection = tx.typed_projection(roles);
    let rules = RowRules::new(policy);
    let failed = |e| super::aggregate_error(tx.source_name(), e);
    let (sender, batches) = std::sync::mpsc::sync_channel::<DataFrame>(BATCHES_AHEAD);
    let (decoded, added) = std::thread::scope(|scope| {
        let decoder = scope.spawn(move || decode(parts, projection, sender));
        let added = add_batches(&batches, &rules, keep_excluded, &mut sink);
        // A failed sink stops the decoder: its next batch finds no receiver.
        drop(batches);
        (decoder.join(), added)
    });
    let decoded = decoded.map_err(|_| Error::Polars {
        context: format!("{}: reading", tx.source_name()),
        error: polars_err!(ComputeError: "the decoding thread panicked"),
    })?;
    added.map_err(failed)?;
    decoded.map_err(failed)?;
    Ok(sink)
}

/// Decodes the role columns of `parts`, in order, into `batches`; stops early, without an
/// error, when the receiver is gone.
fn decode(parts: Vec<LazyFrame>, projection: Vec<Expr>, batches: SyncSender<DataFrame>) -> PolarsResult<()> {
    let stopped = Arc::new(AtomicBool::new(false));
    for part in parts {
        let (batches, stopped_here) = (batches.clone(), Arc::clone(&stopped));
        let callback = PlanCallback::new(move |batch: DataFrame| {
            let gone = batches.send(batch).is_err();
            stopped_here.fetch_or(gone, Ordering::Relaxed);
            Ok(gone)
        });
        part.select(projection.clone())
            .sink_batches(callback, false, None)
            .and_then(|q| q.collect_with_engine(Engine::Streaming))?;
        if stopped.load(Ordering::Relaxed) {
            break;
        }
    }
    Ok(())
}

/// Classifies and adds every batch `batches` brings, until the decoder is done.
fn add_batches<S: RowSink>(
    batches: &Receiver<DataFrame>,
    rules: &RowRules,
    keep_excluded: bool,
    sink: &mut S,
) -> PolarsResult<()> {
    let mut scratch = Scratch::default();
    for mut batch in batches.iter() {
        batch.rechunk_mut();
        let rows = classify(&batch, rules, keep_excluded, &mut scratch)?;
        sink.add_typed(&rows)?;
    }
    Ok(())
}
