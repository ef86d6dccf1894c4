//! One streaming pass from classified rows to per-customer accumulators.
//!
//! polars reads, parses and classifies the rows in parallel and hands them over in batches;
//! this accumulator keeps, per customer, the sums and extremes in one 48-byte record (plus a
//! few bytes of id index) and counts row statuses.
//!
//! Distinct purchase orders are counted in two phases, because an order belongs to one
//! customer: the first customer seen with an order key *owns* it and counts it at once; a
//! later line of the same customer and order finds itself the owner and counts nothing. Owners
//! are kept for order keys below 2³² in pages of 65,536 keys allocated on first use (4 bytes
//! per key for the usual dense, increasing order numbers; allocation stops for good when keys
//! turn out sparse, so memory stays bounded by the keys seen). The rare other pairs, an order
//! key shared by several customers, keys beyond the pages, text order ids, are stored as
//! `(customer, key)` pairs and counted by an in-place sort at the end. A key always takes the
//! same route, so every distinct pair is counted exactly once. A row repeating its customer's
//! current order does no work at all.
//!
//! Order ids are compared exactly when they are integers (or days, without an order column),
//! text that is a canonical non-negative integer, or other text of at most 7 bytes; longer text
//! ids are compared by a 62-bit xxh3 hash, so two different long ids of one customer could
//! count as one order with a chance of about m²/2⁶³ for a customer with m orders (below
//! 10⁻⁹ for m < 100,000).
//!
//! Customer ids given as text are handled as integers while every id is a canonical integer
//! (the common case, e.g. in CSV files), and switch losslessly to text at the first id that is
//! not.

use std::sync::{Arc, Mutex};

use polars::prelude::*;
use rayon::prelude::*;

use super::order_keys::{Claim, Owners, Pairs, order_keys};
use super::periods::{PeriodRequest, Periods};
use super::valid_stats::{ValidRowStats, ValidStats};
use crate::cohorts::{CohortPeriod, CohortTable};
use crate::error::{PolarsContext, Result};
use crate::ingest::col_names::{AMOUNT_MICROS, CUSTOMER_ID, ORDER_KEY, STATUS, TS};
use crate::ingest::plain_csv::{ParsedRows, RowSink};
use crate::ingest::row_hash::{raw_column, row_hashes};
use crate::rows::{RejectReason, RowStatus};

/// Customer ids, mapped to dense indices in order of first appearance.
enum Ids {
    Int(IntIds),
    Text(PlHashMap<Box<str>, u32>, Vec<Box<str>>),
}

/// Integer ids → indices. Small non-negative ids (the usual 1..n) index a vector directly,
/// which needs no hashing and a few bytes per id; the others go to a hash map. The vector may
/// cover up to four slots per customer seen (at least 2^20), so sparse ids cannot blow it up.
#[derive(Default)]
struct IntIds {
    direct: Vec<u32>,
    map: PlHashMap<i64, u32>,
}

const ABSENT: u32 = u32::MAX;

impl IntIds {
    #[inline]
    fn get(&self, id: i64) -> Option<u32> {
        match usize::try_from(id) {
            Ok(slot) if slot < self.direct.len() && self.direct[slot] != ABSENT => Some(self.direct[slot]),
            _ => self.map.get(&id).copied(),
        }
    }

    fn insert(&mut self, id: i64, index: u32, customers: usize) {
        match usize::try_from(id) {
            Ok(slot) if slot < (4 * customers).max(1 << 20) => {
                if slot >= self.direct.len() {
                    let len = (slot + 1).max(self.direct.len() * 3 / 2);
                    self.direct.resize(len, ABSENT);
                }
                self.direct[slot] = index;
            }
            _ => {
                self.map.insert(id, index);
            }
        }
    }

    /// The id of each index, `0..customers`.
    fn ids_by_index(&self, customers: usize) -> Vec<i64> {
        let mut ids = vec![0i64; customers];
        for (slot, index) in self.direct.iter().enumerate() {
            if *index != ABSENT {
                ids[*index as usize] = slot as i64;
            }
        }
        for (id, index) in &self.map {
            ids[*index as usize] = *id;
        }
        ids
    }

    /// `(indices, ids)` in ascending id order, read off the vector without sorting, when every
    /// id is in it.
    fn direct_order(&self) -> Option<(Vec<u32>, Vec<i64>)> {
        if !self.map.is_empty() {
            return None;
        }
        let mut order = Vec::new();
        let mut ids = Vec::new();
        for (slot, index) in self.direct.iter().enumerate() {
            if *index != ABSENT {
                order.push(*index);
                ids.push(slot as i64);
            }
        }
        Some((order, ids))
    }
}

/// One customer's running sums and extremes (48 bytes, one cache line's worth of work per
/// row).
#[derive(Clone, Copy)]
struct CustomerState {
    first_ts: i64,
    last_ts: i64,
    gross: i64,
    returned: i64,
    /// The order key of the latest purchase line, to skip repeats cheaply.
    last_order: u64,
    rows: u32,
    /// Orders counted through [`Owners`].
    orders: u32,
}

/// No purchase line yet. A real key equal to it is never skipped as a repeat (see `add`).
pub(super) const NO_ORDER: u64 = u64::MAX;

const NEW_CUSTOMER: CustomerState = CustomerState {
    first_ts: i64::MAX,
    last_ts: i64::MIN,
    gross: 0,
    returned: 0,
    last_order: NO_ORDER,
    rows: 0,
    orders: 0,
};

/// The first status code of an exclusion (see [`RowStatus::code`]): valid rows are used or
/// excluded.
const FIRST_EXCLUSION: u8 = 32;

/// The running state of one aggregation.
pub(crate) struct Accumulator {
    ids: Ids,
    /// Whether the input's ids are text (kept as integers while all are canonical integers).
    text_input: bool,
    customers: Vec<CustomerState>,
    owners: Owners,
    pairs: Pairs,
    status_counts: [u64; 256],
    /// The purchase periods, when asked for.
    periods: Option<Periods>,
    /// The periods of cohort retention, when asked for.
    cohorts: Option<Periods>,
    /// The data-quality statistics, when asked for.
    stats: Option<ValidStats>,
}

impl Accumulator {
    pub(crate) fn new(text_input: bool) -> Self {
        Accumulator {
            ids: Ids::Int(IntIds::default()),
            text_input,
            customers: Vec::new(),
            owners: Owners::new(),
            pairs: Pairs::Packed(Vec::new()),
            status_counts: [0; 256],
            periods: None,
            cohorts: None,
            stats: None,
        }
    }

    /// Collects the purchase periods too (see [`PeriodRequest`]).
    pub(crate) fn with_periods(mut self, request: Option<PeriodRequest>) -> Self {
        self.periods = request.map(Periods::new);
        self
    }

    /// Collects the periods of cohort retention too (see [`crate::cohorts`]).
    pub(crate) fn with_cohorts(mut self, period: Option<CohortPeriod>) -> Self {
        self.cohorts = period.map(Periods::cohorts);
        self
    }

    /// Collects the data-quality statistics too (`Some(whether the input has an order
    /// column)`), from every valid row.
    pub(crate) fn with_stats(mut self, has_order: Option<bool>) -> Self {
        self.stats = has_order.map(ValidStats::new);
        self
    }

    /// Whether excluded rows are added too (for the periods or the statistics).
    fn takes_excluded(&self) -> bool {
        self.periods.is_some() || self.stats.is_some()
    }

    fn new_customer(&mut self) -> u32 {
        self.customers.push(NEW_CUSTOMER);
        (self.customers.len() - 1) as u32
    }

    /// Adds one batch of classified rows (`customer_id, ts, amount_micros, order_key, status`):
    /// the used rows to the customers, and with periods asked for, every valid row to them.
    pub(crate) fn add(&mut self, batch: &DataFrame) -> PolarsResult<()> {
        let status = batch.column(STATUS)?.u8()?;
        self.count_statuses(status);
        if self.stats.is_some() && batch.column(&raw_column(0)).is_ok() {
            self.add_row_hashes(batch, status)?;
        }
        let used_code = RowStatus::Used.code();
        let wanted = match self.takes_excluded() {
            false => status.equal(used_code),
            true => status.equal(used_code) | status.gt_eq(FIRST_EXCLUSION),
        };
        let wanted_rows = wanted.sum().unwrap_or(0) as usize;
        if wanted_rows == 0 {
            return Ok(());
        }
        let filtered;
        let batch = if wanted_rows == batch.height() {
            batch
        } else {
            filtered = batch.filter(&wanted)?;
            &filtered
        };
        // Which of the rows are used, when some are only for the periods.
        let used: Option<Vec<bool>> = match self.takes_excluded() {
            false => None,
            true => Some(
                batch
                    .column(STATUS)?
                    .u8()?
                    .iter()
                    .map(|code| code == Some(used_code))
                    .collect(),
            ),
        };
        // Valid rows have every value: the columns are read as plain slices.
        let ts = batch.column(TS)?.datetime()?.physical().rechunk();
        let ts = no_nulls(ts.cont_slice(), TS)?;
        let amount = batch.column(AMOUNT_MICROS)?.i64()?.rechunk();
        let amount = no_nulls(amount.cont_slice(), AMOUNT_MICROS)?;
        let (customer, order) = (batch.column(CUSTOMER_ID)?, batch.column(ORDER_KEY)?);
        if !self.text_input && customer.dtype() == &DataType::Int64 && order.dtype() == &DataType::Int64 {
            // The common Parquet case, in one pass without intermediate vectors.
            let (ids, orders) = (customer.i64()?.rechunk(), order.i64()?.rechunk());
            let ids = no_nulls(ids.cont_slice(), CUSTOMER_ID)?;
            let orders = no_nulls(orders.cont_slice(), ORDER_KEY)?;
            for (i, (((id, t), a), o)) in ids.iter().zip(ts).zip(amount).zip(orders).enumerate() {
                let c = self.int_index(*id);
                self.add_valid(c, *t, *a, *o as u64, used.as_ref().is_none_or(|u| u[i]))?;
            }
            return Ok(());
        }
        let orders = order_keys(order)?;
        let indices = self.indices(customer)?;
        self.add_rows(&indices, ts, amount, &orders, used.as_deref())
    }

    /// The hashes of the batch's rows from their raw columns (polars' path), but for the
    /// records that are not rows of the table.
    fn add_row_hashes(&mut self, batch: &DataFrame, status: &UInt8Chunked) -> PolarsResult<()> {
        let raw: Vec<&Column> = (0..).map_while(|i| batch.column(&raw_column(i)).ok()).collect();
        let unreadable = [RejectReason::MalformedRow, RejectReason::InvalidUtf8]
            .map(|r| Some(RowStatus::Rejected(r).code()));
        let status = status.rechunk();
        let hashes = row_hashes(&raw, |i| unreadable.contains(&status.get(i)))?;
        if let Some(stats) = &mut self.stats {
            stats.add_hashes(&hashes);
        }
        Ok(())
    }

    fn count_statuses(&mut self, status: &UInt8Chunked) {
        for chunk in status.downcast_iter() {
            if chunk.validity().is_none_or(|v| v.unset_bits() == 0) {
                for code in chunk.values().iter() {
                    self.status_counts[*code as usize] += 1;
                }
            } else {
                for code in chunk.iter() {
                    self.status_counts[code.copied().unwrap_or(u8::MAX) as usize] += 1;
                }
            }
        }
    }

    /// Adds rows parsed by a reader of its own (see [`ParsedRows`]).
    pub(crate) fn add_parsed(&mut self, rows: &ParsedRows) -> PolarsResult<()> {
        for (code, n) in &rows.status_counts {
            self.status_counts[*code as usize] += n;
        }
        if let Some(stats) = &mut self.stats {
            stats.add_hashes(&rows.row_hashes);
        }
        let mut text_ids = rows.text_ids.iter().peekable();
        let mut indices = Vec::with_capacity(rows.ids.len());
        for (row, id) in rows.ids.iter().enumerate() {
            let index = match text_ids.next_if(|(r, _)| *r as usize == row) {
                Some((_, text)) => self.text_index(text),
                None => match self.ids {
                    Ids::Int(_) => self.int_index(*id),
                    // After a switch to text, a canonical integer is its own text.
                    Ids::Text(..) => self.text_index(&id.to_string()),
                },
            };
            indices.push(index);
        }
        let used = (!rows.used.is_empty()).then_some(rows.used.as_slice());
        self.add_rows(&indices, &rows.ts, &rows.amounts, &rows.orders, used)
    }

    /// The per-row work on valid rows: customer index, timestamp, amount in micro-units and
    /// order key of each, and whether it is used (all are, without `used`).
    fn add_rows(
        &mut self,
        indices: &[u32],
        ts: &[i64],
        amount: &[i64],
        orders: &[u64],
        used: Option<&[bool]>,
    ) -> PolarsResult<()> {
        for (i, (((c, t), a), o)) in indices.iter().zip(ts).zip(amount).zip(orders).enumerate() {
            self.add_valid(*c, *t, *a, *o, used.is_none_or(|u| u[i]))?;
        }
        Ok(())
    }

    /// One valid row: to its customer when used, to the periods when they are asked for.
    #[inline(always)]
    fn add_valid(&mut self, c: u32, t: i64, a: i64, o: u64, used: bool) -> PolarsResult<()> {
        if used {
            self.add_row(c, t, a, o)?;
            if let Some(cohorts) = &mut self.cohorts {
                cohorts.add(c, t, a);
            }
        }
        if let Some(stats) = &mut self.stats {
            stats.add(t, a, o);
        }
        if let Some(periods) = &mut self.periods {
            periods.add(c, t, a);
        }
        Ok(())
    }

    /// One used row: customer index, timestamp, amount in micro-units, order key.
    #[inline(always)]
    fn add_row(&mut self, c: u32, t: i64, a: i64, o: u64) -> PolarsResult<()> {
        let state = &mut self.customers[c as usize];
        state.rows = state
            .rows
            .checked_add(1)
            .ok_or_else(|| polars_err!(ComputeError: "a customer has more than {} rows", u32::MAX))?;
        if a > 0 {
            state.gross += a;
        } else if a < 0 {
            state.returned -= a;
        }
        if a >= 0 {
            state.first_ts = state.first_ts.min(t);
            state.last_ts = state.last_ts.max(t);
            if state.last_order != o || o == NO_ORDER {
                state.last_order = o;
                match self.owners.claim(o, c) {
                    Claim::New => state.orders += 1,
                    Claim::Same => {}
                    Claim::Pair => self.pairs.push(c, o),
                }
            }
        }
        Ok(())
    }

    fn indices(&mut self, customer: &Column) -> PolarsResult<Vec<u32>> {
        let mut out = Vec::with_capacity(customer.len());
        if self.text_input {
            for id in customer.str()?.iter() {
                let id = id.expect("used rows have a customer id");
                out.push(self.text_index(id));
            }
        } else {
            let ids = customer.cast(&DataType::Int64)?;
            let ids = ids.i64()?.rechunk();
            for id in no_nulls(ids.cont_slice(), CUSTOMER_ID)? {
                out.push(self.int_index(*id));
            }
        }
        Ok(out)
    }

    #[inline]
    fn int_index(&mut self, id: i64) -> u32 {
        let Ids::Int(ids) = &mut self.ids else {
            unreachable!("integer ids stay integers");
        };
        if let Some(index) = ids.get(id) {
            return index;
        }
        let index = self.customers.len() as u32;
        ids.insert(id, index, self.customers.len() + 1);
        self.new_customer()
    }

    fn text_index(&mut self, id: &str) -> u32 {
        if let Ids::Int(..) = self.ids {
            match super::canonical_integer(id) {
                Some(value) => return self.int_index(value),
                None => self.switch_to_text(),
            }
        }
        let Ids::Text(map, list) = &mut self.ids else {
            unreachable!("switched to text above");
        };
        if let Some(index) = map.get(id) {
            return *index;
        }
        let index = list.len() as u32;
        map.insert(id.into(), index);
        list.push(id.into());
        self.new_customer()
    }

    /// The first id that is not a canonical integer: every id so far becomes its text, which
    /// is the text it was read from.
    #[cold]
    fn switch_to_text(&mut self) {
        let Ids::Int(ids) = &self.ids else { return };
        let list: Vec<Box<str>> = ids
            .ids_by_index(self.customers.len())
            .iter()
            .map(|id| id.to_string().into_boxed_str())
            .collect();
        let map = list
            .iter()
            .enumerate()
            .map(|(i, id)| (id.clone(), i as u32))
            .collect();
        self.ids = Ids::Text(map, list);
    }

    /// Status code → rows.
    pub(crate) fn status_counts(&self) -> impl Iterator<Item = (u8, u64)> + '_ {
        self.status_counts
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(code, n)| (code as u8, *n))
    }

    /// The purchase periods' status counts, when they are collected (before [`Self::finish`]).
    pub(crate) fn period_status_counts(&self) -> Option<Vec<(u8, u64)>> {
        let periods = self.periods.as_ref()?;
        Some(periods.status_counts(self.status_counts()))
    }

    /// The customer-level frame: `customer_id, first_ts, last_ts, frequency, net_micros,
    /// gross_micros, returned_micros, transactions`, as [`super::customer_level`] gives it, but
    /// already sorted by customer id, with text ids that are all canonical integers converted
    /// (see [`super::integer_ids_if_lossless`]); and the purchase periods and the cohorts when
    /// collected. Built column by column in sorted order, without an intermediate frame.
    pub(crate) fn finish(self, id_dtype: &DataType) -> Result<Finished> {
        // Each state vector is released as soon as its column is built, and the id map and the
        // order pairs before any: peak memory stays near the state's own size.
        let Accumulator {
            ids,
            text_input,
            customers,
            owners,
            pairs,
            status_counts: _,
            periods,
            cohorts,
            stats,
        } = self;
        drop(owners);
        let cohorts = cohorts.map(Periods::finish_cohorts);
        let stats = stats.map(|s| s.finish(customers.len()));
        let n = customers.len();
        let mut frequency: Vec<i64> = customers.iter().map(|c| c.orders as i64).collect();
        pairs.add_distinct(&mut frequency);
        let (order, id_column) = id_order(ids, text_input, id_dtype, n)?;
        debug_assert_eq!(order.len(), n);
        let periods = periods.map(|p| p.finish(&order, &id_column)).transpose()?;
        // Customers seen only in rows for the periods have no used row: not in the table.
        let period_only = customers.iter().any(|c| c.rows == 0);
        // One random-access pass puts the records in id order (in parallel); the columns then
        // read them in sequence, also in parallel (a gather per column was a cache miss per
        // customer per column).
        let by_index = customers;
        let (frequency, customers): (Vec<i64>, Vec<CustomerState>) = rayon::join(
            || order.par_iter().map(|i| frequency[*i as usize]).collect(),
            || order.par_iter().map(|i| by_index[*i as usize]).collect(),
        );
        drop((order, by_index));
        let mut built = state_columns(&customers)?;
        drop(customers);
        let transactions = built.pop().expect("six columns");
        let mut columns = vec![id_column];
        columns.extend(built.drain(..2));
        columns.push(Column::new(super::col_names::FREQUENCY.into(), frequency));
        columns.extend(built);
        columns.push(transactions);
        let frame = DataFrame::new(n, columns).context(|| "building the customer table".into())?;
        let frame = if period_only {
            without_period_only(frame, text_input)?
        } else {
            frame
        };
        Ok(Finished {
            customers: frame,
            periods,
            cohorts,
            stats,
        })
    }
}

/// What an accumulator gives when the input is read.
pub(crate) struct Finished {
    /// The customer-level frame.
    pub(crate) customers: DataFrame,
    /// The purchase periods, when asked for.
    pub(crate) periods: Option<DataFrame>,
    /// The cohort matrix, when asked for.
    pub(crate) cohorts: Option<CohortTable>,
    /// The data-quality statistics, when asked for.
    pub(crate) stats: Option<ValidRowStats>,
}

/// The customer indices in id order, and the sorted id column.
fn id_order(ids: Ids, text_input: bool, id_dtype: &DataType, n: usize) -> Result<(Vec<u32>, Column)> {
    Ok(match ids {
        Ids::Int(ids) => {
            let (order, sorted) = match ids.direct_order() {
                Some(direct) => direct,
                None => {
                    let by_index = ids.ids_by_index(n);
                    drop(ids);
                    let order = sorted_order(&by_index);
                    let sorted = order.iter().map(|i| by_index[*i as usize]).collect();
                    (order, sorted)
                }
            };
            let column = Column::new(CUSTOMER_ID.into(), sorted);
            // Text ids that are all canonical integers stay Int64 (see above).
            let column = if text_input {
                column
            } else {
                column.cast(id_dtype).context(|| "customer ids".into())?
            };
            (order, column)
        }
        Ids::Text(map, list) => {
            drop(map);
            let order = sorted_order(&list);
            let ids: Vec<&str> = order.iter().map(|i| list[*i as usize].as_ref()).collect();
            (order, Column::new(CUSTOMER_ID.into(), ids))
        }
    })
}

/// The six measure columns of the states (in id order): `first_ts, last_ts, net_micros,
/// gross_micros, returned_micros, transactions`.
fn state_columns(customers: &[CustomerState]) -> Result<Vec<Column>> {
    let value_of = |field: usize, c: &CustomerState| -> i64 {
        match field {
            0 => c.first_ts,
            1 => c.last_ts,
            2 => c.gross - c.returned,
            3 => c.gross,
            4 => c.returned,
            _ => c.rows as i64,
        }
    };
    (0..6usize)
        .into_par_iter()
        .map(|field| {
            let values: Vec<i64> = customers.iter().map(|c| value_of(field, c)).collect();
            let name = [
                "first_ts",
                "last_ts",
                "net_micros",
                "gross_micros",
                "returned_micros",
            ]
            .get(field)
            .copied()
            .unwrap_or(super::col_names::TRANSACTIONS);
            match field {
                // Customers with returns only have no purchase timestamps: nulls.
                0 | 1 => {
                    let none = if field == 0 { i64::MAX } else { i64::MIN };
                    let mut ca = Int64Chunked::from_vec(name.into(), values);
                    if ca.iter().any(|v| v == Some(none)) {
                        ca = ca.apply(|v| v.filter(|v| *v != none));
                    }
                    ca.into_series()
                        .cast(&DataType::Datetime(TimeUnit::Microseconds, None))
                        .map(Column::from)
                }
                _ => Ok(Column::new(name.into(), values)),
            }
        })
        .collect::<PolarsResult<_>>()
        .context(|| "purchase timestamps".into())
}

/// The table without the customers seen only in rows for the purchase periods: their ids
/// must not decide whether text ids read as integers (see [`super::integer_ids_if_lossless`]).
fn without_period_only(frame: DataFrame, text_input: bool) -> Result<DataFrame> {
    let rows = frame
        .column(super::col_names::TRANSACTIONS)
        .context(|| "transactions".into())?
        .i64()
        .context(|| "transactions".into())?
        .gt(0);
    let frame = frame
        .filter(&rows)
        .context(|| "customers with used rows".into())?;
    let text = frame
        .column(CUSTOMER_ID)
        .is_ok_and(|c| c.dtype() == &DataType::String);
    if text_input && text {
        super::sort_by_customer(super::integer_ids_if_lossless(frame)?)
    } else {
        Ok(frame)
    }
}

/// A column's values when it has no nulls (used rows never do).
pub(super) fn no_nulls<'a, T>(values: PolarsResult<&'a [T]>, name: &str) -> PolarsResult<&'a [T]> {
    values.map_err(|_| polars_err!(ComputeError: "used rows with a missing {name}"))
}

/// Indices that sort `values` ascending (ids are distinct, so unstable is exact).
fn sorted_order<T: Ord>(values: &[T]) -> Vec<u32> {
    let mut order: Vec<u32> = (0..values.len() as u32).collect();
    order.sort_unstable_by(|a, b| values[*a as usize].cmp(&values[*b as usize]));
    order
}

/// The customer aggregation is where clientele's own CSV reader puts its rows.
impl RowSink for Accumulator {
    fn add_parsed(&mut self, rows: &ParsedRows) -> PolarsResult<()> {
        Accumulator::add_parsed(self, rows)
    }

    fn add_classified(&mut self, batch: &DataFrame) -> PolarsResult<()> {
        self.add(batch)
    }

    fn classified_columns(&self) -> Vec<Expr> {
        added_columns().to_vec()
    }
}

/// The classified columns [`Accumulator::add`] reads.
pub(crate) fn added_columns() -> [Expr; 5] {
    [
        col(CUSTOMER_ID),
        col(TS),
        col(AMOUNT_MICROS),
        col(ORDER_KEY),
        col(STATUS),
    ]
}

/// Streams each of `parts` in turn through one accumulator with polars' streaming engine,
/// collecting the purchase periods too when asked.
/// With the statistics asked for, the parts carry `raw_columns` raw columns (see
/// `Transactions::classify_frame_with_raw`), for the duplicate rows.
pub(crate) fn accumulate(
    parts: Vec<LazyFrame>,
    accumulator: Accumulator,
    raw_columns: usize,
) -> PolarsResult<Accumulator> {
    let mut columns = added_columns().to_vec();
    if accumulator.stats.is_some() {
        columns.extend((0..raw_columns).map(|i| col(raw_column(i))));
    }
    let state = Arc::new(Mutex::new(accumulator));
    for classified in parts {
        let sink_state = Arc::clone(&state);
        let callback = PlanCallback::new(move |batch: DataFrame| {
            let mut acc = sink_state.lock().expect("the accumulator lock is never poisoned");
            acc.add(&batch)?;
            Ok(false)
        });
        classified
            .select(columns.clone())
            .sink_batches(callback, false, None)?
            .collect_with_engine(Engine::Streaming)?;
    }
    let state = Arc::try_unwrap(state)
        .map_err(|_| polars_err!(ComputeError: "the batch callback outlived the query"))?;
    Ok(state
        .into_inner()
        .expect("the accumulator lock is never poisoned"))
}

#[cfg(test)]
#[path = "accumulate_tests.rs"]
mod tests;
