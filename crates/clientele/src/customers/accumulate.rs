//! One streaming pass from classified rows to per-customer accumulators.
//!
//! polars (or clientele's CSV reader) reads, parses and classifies the rows in parallel and
//! hands them over in batches; this accumulator keeps, per customer, the sums and extremes in
//! one 32-byte record (plus a few bytes of id index, and apart the money of return rows) and
//! counts row statuses.
//!
//! Customers are split into shards (`shard.rs`), one per thread up to [`MAX_SHARDS`]: integer
//! ids in `[0, 2³¹)` in blocks of 64 consecutive ids dealt in turn, other ids by a hash. Each
//! batch's rows are routed once, then every shard adds its own rows in parallel, in the
//! batch's order. A customer's rows always meet the same shard, and its record lives in that
//! shard's slots (`slots.rs`: an integer id is its own address, other ids go through a map), so
//! the shards share nothing but the order owners until they are merged at the end
//! (`merge.rs`), and the result is the same whatever the number of shards or threads.
//!
//! Distinct purchase orders are counted in two phases, because an order belongs to one
//! customer: the first customer seen with an order key *owns* it and counts it at once; a
//! later line of the same customer and order finds itself the owner and counts nothing. Owners
//! of integer order keys are kept in one table shared by the shards (`order_keys.rs`: an atomic
//! owner per key from the first batch's smallest key on, grown between batches while keys stay
//! dense, 4 bytes per key). The rare other pairs, an order key shared by several customers,
//! keys outside the table, text order ids, are stored per shard as `(customer, key)` pairs and
//! counted by an in-place sort at the end. A key always takes the same route, so every
//! distinct pair is counted exactly once. A row repeating its customer's current order does no
//! work at all. Until a customer's purchases come back after another's, a shard counts orders
//! by runs of one customer's purchase rows instead, without the owners (`runs.rs`): a log
//! grouped by customer never needs them.
//!
//! Order ids are compared exactly when they are integers (or days, without an order column),
//! text that is a canonical non-negative integer or a number behind a one-character prefix
//! (`O00012345`: consecutive keys, held by the owners like integers), or other text of at most
//! 7 bytes; longer text ids are compared by a 62-bit xxh3 hash, so two different long ids of
//! one customer could count as one order with a chance of about m²/2⁶³ for a customer with m
//! orders (below 10⁻⁹ for m < 100,000).
//!
//! Customer ids given as text are handled as integers while every id is a canonical integer
//! (the common case, e.g. in CSV files), and switch losslessly to text at the first id that is
//! not. When most of the first batch's first rows have ids of one prefix and width
//! (`C004572124`, see [`Numbering`]), the ids of that numbering are handled as their numbers,
//! and only other text goes through the shards' maps.

use std::sync::{Arc, Mutex};

use polars::prelude::*;
use rayon::prelude::*;
use xxhash_rust::xxh3::xxh3_64;

use super::merge::{StateFields, merge};
use super::order_keys::{Owners, order_keys};
use super::periods::PeriodRequest;
use super::shard::{CustomerIds, OrderKeys, RowView, Shard};
use super::slots::Blocks;
use super::valid_stats::{ValidRowStats, ValidStats};
use crate::cohorts::{CohortPeriod, CohortTable};
use crate::error::Result;
use crate::ingest::col_names::{AMOUNT_MICROS, CUSTOMER_ID, ORDER_KEY, STATUS, TS};
use crate::ingest::plain_csv::{ParsedRows, RowSink};
use crate::ingest::row_hash::{raw_column, row_hashes};
use crate::ingest::typed::{TypedIds, TypedOrders, TypedRows};
use crate::rows::ids::{Numbering, TextId};
use crate::rows::{RejectReason, RowStatus};

/// Most shards (each keeps its own id index and order owners).
pub(crate) const MAX_SHARDS: usize = 4;

/// Rows of the first batch whose ids choose the numbering of text ids.
const NUMBERING_SAMPLE: usize = 1024;

/// The first status code of an exclusion (see [`RowStatus::code`]): valid rows are used or
/// excluded.
const FIRST_EXCLUSION: u8 = 32;

/// Which shard a customer id belongs to: blocks of 64 consecutive ids in turn for integers
/// with an address (see `slots.rs`), a hash of the id otherwise; the same for an integer and
/// for the canonical text of that integer.
#[derive(Clone, Copy)]
struct Router {
    blocks: Blocks,
    /// The numbering of text ids, when the pass has one (see [`Numbering`]).
    numbering: Option<Numbering>,
}

impl Router {
    fn shards(self) -> usize {
        1 << self.blocks.log2
    }

    #[inline(always)]
    fn of_hash(self, hash: u64) -> u8 {
        ((hash >> 32) & ((1 << self.blocks.log2) - 1)) as u8
    }

    #[inline(always)]
    fn of_int(self, id: i64) -> u8 {
        match Blocks::addressable(id) {
            true => self.blocks.shard(id),
            false => self.of_hash((id as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)),
        }
    }

    /// A text id's: its number's when it is of the numbering, the integer's when it is a
    /// canonical integer, a hash's otherwise ([`TextId`]).
    #[inline(always)]
    fn of_text(self, id: &str) -> u8 {
        match TextId::of(id, self.numbering) {
            TextId::Numbered(value) | TextId::Integer(value) => self.of_int(value),
            TextId::Other => self.of_hash(xxh3_64(id.as_bytes())),
        }
    }

    /// The shard of every row, or none with a single shard.
    fn route(self, ids: &CustomerIds<'_>) -> Option<Vec<u8>> {
        if self.shards() == 1 {
            return None;
        }
        Some(match ids {
            CustomerIds::Int(ids) => ids.par_iter().map(|id| self.of_int(*id)).collect(),
            CustomerIds::Text(ids) => ids.par_iter().map(|id| self.of_text(id)).collect(),
            CustomerIds::Parsed { ints, texts } => {
                let mut route: Vec<u8> = ints.par_iter().map(|id| self.of_int(*id)).collect();
                for (row, text) in texts.iter() {
                    route[*row as usize] = self.of_text(text);
                }
                route
            }
        })
    }
}

/// The running state of one aggregation.
pub(crate) struct Accumulator {
    shards: Vec<Shard>,
    /// The first customer of each order key, shared by the shards.
    owners: Owners,
    router: Router,
    /// Whether the input's ids are text (kept as integers while all are canonical integers).
    text_input: bool,
    status_counts: [u64; 256],
    /// The data-quality statistics, when asked for.
    stats: Option<ValidStats>,
    /// Whether the purchase periods are asked for.
    periods: bool,
    /// Time spent adding rows, and the rows added (for the debug log).
    busy: (std::time::Duration, u64),
    /// Whether the first row was added (which chose the numbering of text ids, if any).
    started: bool,
    /// The measure columns the customer table is built with.
    fields: StateFields,
}

impl Accumulator {
    pub(crate) fn new(text_input: bool) -> Self {
        let shards = std::env::var("CLIENTELE_SHARDS")
            .ok()
            .and_then(|s| s.parse().ok());
        Self::with_shards(text_input, shards.unwrap_or(rayon::current_num_threads()))
    }

    /// An accumulator of `shards` shards, rounded down to a power of two, at most
    /// [`MAX_SHARDS`] (the result does not depend on it).
    pub(crate) fn with_shards(text_input: bool, shards: usize) -> Self {
        let log2 = shards.clamp(1, MAX_SHARDS).ilog2();
        let blocks = Blocks { log2 };
        Accumulator {
            shards: (0..1u8 << log2).map(|me| Shard::new(blocks, me)).collect(),
            owners: Owners::new(),
            router: Router {
                blocks,
                numbering: None,
            },
            text_input,
            status_counts: [0; 256],
            stats: None,
            periods: false,
            busy: Default::default(),
            started: false,
            fields: StateFields::ALL,
        }
    }

    /// Builds only the measure columns that the output columns `only` need (all without a
    /// list).
    pub(crate) fn for_columns(mut self, only: Option<&[String]>) -> Self {
        self.fields = StateFields::for_columns(only);
        self
    }

    /// At the first batch with rows (`rows` of them), numbers the text ids of the numbering
    /// most of its first [`NUMBERING_SAMPLE`] rows have, if any (`texts`: the text ids among
    /// those rows; canonical integers are not among them). See [`Numbering`].
    fn start<'a>(&mut self, rows: usize, texts: impl Iterator<Item = &'a str>) {
        if self.started || rows == 0 {
            return;
        }
        self.started = true;
        let mut counts: Vec<(Numbering, usize)> = Vec::new();
        for numbering in texts.take(NUMBERING_SAMPLE).filter_map(Numbering::of) {
            match counts.iter_mut().find(|(n, _)| *n == numbering) {
                Some((_, count)) => *count += 1,
                None => counts.push((numbering, 1)),
            }
        }
        // The most common, the first seen among equals; only when it is most of the rows.
        let best = counts.iter().rev().max_by_key(|(_, count)| *count);
        let sampled = rows.min(NUMBERING_SAMPLE);
        if let Some((numbering, _)) = best.filter(|(_, count)| 2 * count > sampled) {
            let numbering = *numbering;
            self.router.numbering = Some(numbering);
            for shard in &mut self.shards {
                shard.number_texts(numbering);
            }
        }
    }

    /// Collects the purchase periods too (see [`PeriodRequest`]).
    pub(crate) fn with_periods(self, request: Option<PeriodRequest>) -> Self {
        self.with_period_kinds(request, None)
    }

    /// Collects the periods of cohort retention too (see [`crate::cohorts`]).
    pub(crate) fn with_cohorts(self, period: Option<CohortPeriod>) -> Self {
        self.with_period_kinds(None, period)
    }

    fn with_period_kinds(mut self, request: Option<PeriodRequest>, cohorts: Option<CohortPeriod>) -> Self {
        self.periods |= request.is_some();
        self.shards = self
            .shards
            .into_iter()
            .map(|shard| shard.with_periods(request, cohorts))
            .collect();
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
        self.periods || self.stats.is_some()
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
        let amount = batch.column(AMOUNT_MICROS)?.i64()?.rechunk();
        let (customer, order) = (batch.column(CUSTOMER_ID)?, batch.column(ORDER_KEY)?);
        let text_input = self.text_input;
        let text_ids: Vec<&str>;
        let int_ids;
        let customers = if text_input {
            text_ids = customer
                .str()?
                .iter()
                .map(|id| {
                    id.ok_or_else(|| polars_err!(ComputeError: "used rows with a missing {CUSTOMER_ID}"))
                })
                .collect::<PolarsResult<_>>()?;
            self.start(text_ids.len(), text_ids.iter().copied());
            CustomerIds::Text(&text_ids)
        } else {
            int_ids = customer.cast(&DataType::Int64)?.i64()?.rechunk().into_owned();
            CustomerIds::Int(no_nulls(int_ids.cont_slice(), CUSTOMER_ID)?)
        };
        let int_orders;
        let keys;
        let orders = if order.dtype() == &DataType::Int64 {
            int_orders = order.i64()?.rechunk();
            OrderKeys::Int(no_nulls(int_orders.cont_slice(), ORDER_KEY)?)
        } else {
            keys = order_keys(order)?;
            OrderKeys::Keys(&keys)
        };
        let route = self.router.route(&customers);
        let rows = RowView {
            customers,
            ts: no_nulls(ts.cont_slice(), TS)?,
            amount: no_nulls(amount.cont_slice(), AMOUNT_MICROS)?,
            orders,
            used: used.as_deref(),
            route: route.as_deref(),
        };
        self.add_view(&rows)
    }

    /// Adds a batch's valid rows: every shard its own, in parallel, and the statistics.
    fn add_view(&mut self, rows: &RowView<'_>) -> PolarsResult<()> {
        let start = std::time::Instant::now();
        let added = self.add_to_shards(rows);
        self.busy.0 += start.elapsed();
        self.busy.1 += rows.ts.len() as u64;
        added
    }

    fn add_to_shards(&mut self, rows: &RowView<'_>) -> PolarsResult<()> {
        if let Some((min, max, numbering)) = owned_key_range(&rows.orders, self.owners.numbering()) {
            let claimed = self.shards.iter().map(Shard::claimed).sum();
            self.owners.prepare(min, max, claimed, numbering);
        }
        let Accumulator {
            shards,
            stats,
            owners,
            ..
        } = self;
        let owners = &*owners;
        let (added, ()) = rayon::join(
            || match shards.as_mut_slice() {
                [only] => only.add(rows, owners),
                shards => shards
                    .par_iter_mut()
                    .map(|shard| shard.add(rows, owners))
                    .collect::<PolarsResult<()>>(),
            },
            || {
                if let Some(stats) = stats {
                    for row in 0..rows.ts.len() {
                        stats.add(rows.ts[row], rows.amount[row], rows.orders.get(row));
                    }
                }
            },
        );
        added?;
        if self.shards.iter().any(Shard::runs_broken) {
            log::debug!(
                "{} of {} shard(s) count orders by their owners from the batch ending at valid row {}: a customer came back",
                self.shards.iter().filter(|s| s.runs_broken()).count(),
                self.shards.len(),
                self.busy.1 + rows.ts.len() as u64
            );
            self.owners.materialize();
            let owners = &self.owners;
            self.shards
                .par_iter_mut()
                .filter(|shard| shard.runs_broken())
                .map(|shard| shard.leave_runs(rows, owners))
                .collect::<PolarsResult<()>>()?;
        }
        Ok(())
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
        let sampled = rows
            .text_ids
            .iter()
            .take_while(|(row, _)| (*row as usize) < NUMBERING_SAMPLE);
        self.start(rows.ts.len(), sampled.map(|(_, id)| &**id));
        let customers = CustomerIds::Parsed {
            ints: &rows.ids,
            texts: &rows.text_ids,
        };
        let route = self.router.route(&customers);
        let view = RowView {
            customers,
            ts: &rows.ts,
            amount: &rows.amounts,
            orders: OrderKeys::Keys(&rows.orders),
            used: (!rows.used.is_empty()).then_some(rows.used.as_slice()),
            route: route.as_deref(),
        };
        self.add_view(&view)
    }

    /// Adds rows read by clientele's typed reader (see [`TypedRows`]).
    pub(crate) fn add_typed(&mut self, rows: &TypedRows<'_>) -> PolarsResult<()> {
        for (code, n) in &rows.status_counts {
            self.status_counts[*code as usize] += n;
        }
        let customers = match &rows.customers {
            TypedIds::Int(ids) => CustomerIds::Int(ids),
            TypedIds::Text(ids) => {
                self.start(ids.len(), ids.iter().copied());
                CustomerIds::Text(ids)
            }
        };
        let route = self.router.route(&customers);
        let view = RowView {
            customers,
            ts: &rows.ts,
            amount: rows.amounts,
            orders: match &rows.orders {
                TypedOrders::Int(orders) => OrderKeys::Int(orders),
                TypedOrders::Keys(keys) => OrderKeys::Keys(keys),
            },
            used: (!rows.used.is_empty()).then_some(rows.used),
            route: route.as_deref(),
        };
        self.add_view(&view)
    }

    /// Status code → rows.
    pub(crate) fn status_counts(&self) -> impl Iterator<Item = (u8, u64)> + '_ {
        self.status_counts
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(code, n)| (code as u8, *n))
    }

    /// The customer-level frame: `customer_id, first_ts, last_ts, frequency, net_micros,
    /// gross_micros, returned_micros, transactions`, as [`super::customer_level`] gives it, but
    /// already sorted by customer id, with text ids that are all canonical integers converted
    /// (see [`super::integer_ids_if_lossless`]); and the purchase periods (with their status
    /// counts), the cohorts and the statistics when collected.
    pub(crate) fn finish(self, id_dtype: &DataType) -> Result<Finished> {
        let (busy, rows) = self.busy;
        log::debug!(
            "{} shard(s) added {rows} valid rows in {:.3} s ({:.1} ns a row)",
            self.shards.len(),
            busy.as_secs_f64(),
            busy.as_nanos() as f64 / rows.max(1) as f64
        );
        let start = std::time::Instant::now();
        drop(self.owners);
        let customers_seen = self.shards.iter().map(Shard::len).sum();
        let stats = self.stats.map(|s| s.finish(customers_seen));
        // Each shard counts its distinct orders on its own: the shards in parallel.
        let parts = self.shards.into_par_iter().map(Shard::into_parts).collect();
        let merged = merge(parts, self.text_input, id_dtype, &self.fields)?;
        let pass_counts = self
            .status_counts
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(code, n)| (code as u8, *n));
        let period_status_counts = merged.periods.as_ref().map(|(p, _)| p.status_counts(pass_counts));
        let periods = merged
            .periods
            .map(|(records, ids)| records.finish(&ids))
            .transpose()?;
        log::debug!("customer table built in {:.3} s", start.elapsed().as_secs_f64());
        Ok(Finished {
            customers: merged.customers,
            periods,
            period_status_counts,
            cohorts: merged.cohorts,
            stats,
        })
    }
}

/// The smallest and largest order key of a batch in the owners' numbering (the first key's
/// with a numbering, when the owners have none yet), with that numbering. Ranges of keys in
/// parallel once the numbering is known: the shards wait for it.
fn owned_key_range(orders: &OrderKeys<'_>, numbering: Option<u64>) -> Option<(u64, u64, u64)> {
    match orders {
        OrderKeys::Int(keys) => key_range(keys, |k| *k as u64, numbering),
        OrderKeys::Keys(keys) => key_range(keys, |k| *k, numbering),
    }
}

/// [`owned_key_range`] of `keys` read as `key`: in order without a numbering, by ranges in
/// parallel with one.
fn key_range<T: Sync>(
    keys: &[T],
    key: impl Fn(&T) -> u64 + Sync,
    numbering: Option<u64>,
) -> Option<(u64, u64, u64)> {
    /// Keys per task.
    const KEYS: usize = 1 << 16;
    if numbering.is_none() {
        return range_in_order(keys.iter().map(&key), None);
    }
    let either = |a: Option<(u64, u64, u64)>, b: Option<(u64, u64, u64)>| match (a, b) {
        (Some((lo, hi, n)), Some((lo2, hi2, _))) => Some((lo.min(lo2), hi.max(hi2), n)),
        (a, b) => a.or(b),
    };
    keys.par_chunks(KEYS)
        .map(|keys| range_in_order(keys.iter().map(&key), numbering))
        .reduce(|| None, either)
}

/// [`owned_key_range`] of some keys, in order.
fn range_in_order(keys: impl Iterator<Item = u64>, numbering: Option<u64>) -> Option<(u64, u64, u64)> {
    let mut found: Option<(u64, u64, u64)> = None;
    for key in keys {
        let Some(of) = key_numbering(key) else { continue };
        match &mut found {
            None if numbering.is_none_or(|n| n == of) => found = Some((key, key, of)),
            Some((lo, hi, n)) if *n == of => (*lo, *hi) = ((*lo).min(key), (*hi).max(key)),
            _ => {}
        }
    }
    found
}

/// The numbering an order key belongs to, for the table of owners: integer keys below 2³²
/// (0), or the keys of one prefix and width ([`crate::rows::ids::prefixed_key`]: their top 14
/// bits); other keys (text, larger integers) have none and are never owned by the table.
fn key_numbering(key: u64) -> Option<u64> {
    match key >> 32 {
        0 => Some(0),
        _ if key >> 61 == 0b101 => Some(key >> 50),
        _ => None,
    }
}

/// What an accumulator gives when the input is read.
pub(crate) struct Finished {
    /// The customer-level frame.
    pub(crate) customers: DataFrame,
    /// The purchase periods, when asked for.
    pub(crate) periods: Option<DataFrame>,
    /// The purchase periods' status counts, when they are collected.
    pub(crate) period_status_counts: Option<Vec<(u8, u64)>>,
    /// The cohort matrix, when asked for.
    pub(crate) cohorts: Option<CohortTable>,
    /// The data-quality statistics, when asked for.
    pub(crate) stats: Option<ValidRowStats>,
}

/// A column's values when it has no nulls (used rows never do).
pub(super) fn no_nulls<'a, T>(values: PolarsResult<&'a [T]>, name: &str) -> PolarsResult<&'a [T]> {
    values.map_err(|_| polars_err!(ComputeError: "used rows with a missing {name}"))
}

/// The customer aggregation is where clientele's own CSV reader puts its rows.
impl RowSink for Accumulator {
    fn add_parsed(&mut self, rows: &ParsedRows) -> PolarsResult<()> {
        Accumulator::add_parsed(self, rows)
    }

    fn add_classified(&mut self, batch: &DataFrame) -> PolarsResult<()> {
        self.add(batch)
    }

    fn add_typed(&mut self, rows: &TypedRows<'_>) -> PolarsResult<()> {
        Accumulator::add_typed(self, rows)
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
