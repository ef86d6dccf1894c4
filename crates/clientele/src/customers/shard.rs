//! One shard of the accumulator: the customers whose id hashes to it, their running sums, the
//! owners of their order keys, and their purchase and cohort periods.
//!
//! Every customer belongs to exactly one shard (see `accumulate::Router`), so shards run in
//! parallel without sharing anything, and their states are merged once at the end
//! ([`Shard::merge`]); what a shard computes does not depend on how many shards there are.
//!
//! A batch's rows are taken [`LOOKAHEAD`] at a time: their customer indices first (the id
//! index is probed for all of them in one tight loop), then one load from each of their
//! records and order owners, and only then the rows' updates. On a log in time order, every
//! row of a large customer base is a cache miss on its record; loading a group's records
//! before any is needed lets the processor wait for all of those misses at once instead of one
//! after another.

use polars::prelude::*;
use rayon::prelude::*;

use super::order_keys::{Owners, Pairs};
use super::periods::{PeriodRequest, Periods};
use crate::cohorts::{CohortPeriod, CohortTable};
use crate::error::{PolarsContext, Result};
use crate::ingest::col_names::CUSTOMER_ID;

/// Rows whose records are loaded ahead of their updates.
const LOOKAHEAD: usize = 256;

/// Customer ids, mapped to dense indices in order of first appearance.
pub(super) enum Ids {
    Int(IntIds),
    Text(PlHashMap<Box<str>, u32>, Vec<Box<str>>),
}

/// Integer ids → indices. Small non-negative ids (the usual 1..n) index a vector directly,
/// which needs no hashing and a few bytes per id; the others go to a hash map. The vector may
/// cover up to four slots per customer seen (at least 2^20), so sparse ids cannot blow it up.
#[derive(Default)]
pub(super) struct IntIds {
    pub(super) direct: Vec<u32>,
    pub(super) map: PlHashMap<i64, u32>,
}

const ABSENT: u32 = u32::MAX;

impl IntIds {
    #[inline]
    pub(super) fn get(&self, id: i64) -> Option<u32> {
        match usize::try_from(id) {
            Ok(slot) if slot < self.direct.len() && self.direct[slot] != ABSENT => Some(self.direct[slot]),
            _ => self.map.get(&id).copied(),
        }
    }

    pub(super) fn insert(&mut self, id: i64, index: u32, customers: usize) {
        match usize::try_from(id) {
            Ok(slot) if slot < (4 * customers).max(1 << 20) => {
                if slot >= self.direct.len() {
                    self.grow((slot + 1).max(self.direct.len() * 3 / 2));
                }
                self.direct[slot] = index;
            }
            _ => {
                self.map.insert(id, index);
            }
        }
    }

    /// Grows the vector to `len` slots, and moves the ids of the map that now have a slot
    /// into it: ids met before the customers were many enough for their slot (a log in time
    /// order meets large ids early) do not stay in the map for good.
    #[cold]
    fn grow(&mut self, len: usize) {
        self.direct.resize(len, ABSENT);
        let direct = &mut self.direct;
        self.map.retain(|id, index| match usize::try_from(*id) {
            Ok(slot) if slot < len => {
                direct[slot] = *index;
                false
            }
            _ => true,
        });
    }

    /// The slot of `id` as a number, read only to bring its cache line in ahead of
    /// [`IntIds::get`].
    #[inline(always)]
    fn peek(&self, id: i64) -> u32 {
        usize::try_from(id)
            .ok()
            .and_then(|slot| self.direct.get(slot))
            .copied()
            .unwrap_or(0)
    }

    /// Moves the ids of the map into the vector when they all fit four slots per customer:
    /// the table then comes out in id order without a sort.
    fn settle(&mut self, customers: usize) {
        let limit = (4 * customers).max(1 << 20);
        let fits = |id: &i64| usize::try_from(*id).is_ok_and(|slot| slot < limit);
        if !self.map.is_empty() && self.map.keys().all(fits) {
            let len = self.map.keys().map(|id| *id as usize + 1).max().unwrap_or(0);
            self.grow(len.max(self.direct.len()));
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
    pub(super) fn direct_order(&self) -> Option<(Vec<u32>, Vec<i64>)> {
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

    /// Takes in `other`'s ids, their indices shifted by `offset` (the ids are disjoint).
    fn absorb(&mut self, other: IntIds, offset: u32) {
        if other.direct.len() > self.direct.len() {
            self.direct.resize(other.direct.len(), ABSENT);
        }
        for (mine, theirs) in self.direct.iter_mut().zip(&other.direct) {
            if *theirs != ABSENT {
                *mine = theirs + offset;
            }
        }
        self.map
            .extend(other.map.into_iter().map(|(id, index)| (id, index + offset)));
    }
}

/// One customer's running sums and extremes (48 bytes, one cache line's worth of work per
/// row).
#[derive(Clone, Copy)]
pub(super) struct CustomerState {
    pub(super) first_ts: i64,
    pub(super) last_ts: i64,
    pub(super) gross: i64,
    pub(super) returned: i64,
    /// The order key of the customer's latest pair (see `add_row`), to skip repeats cheaply.
    last_order: u64,
    pub(super) rows: u32,
    /// Orders counted through [`Owners`].
    pub(super) orders: u32,
}

/// No purchase line yet. A real key equal to it is never skipped as a repeat (see `add_row`).
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

/// The customer ids of a batch's valid rows, as the shards read them.
pub(super) enum CustomerIds<'a> {
    /// Integers.
    Int(&'a [i64]),
    /// Text (polars' path, ids read as text).
    Text(&'a [&'a str]),
    /// The plain CSV reader's: canonical integers, and the other ids' text by row (the
    /// integer is a placeholder there).
    Parsed {
        ints: &'a [i64],
        texts: &'a [(u32, Box<str>)],
    },
}

/// The order keys of a batch's valid rows.
pub(super) enum OrderKeys<'a> {
    /// Integer order ids, as keys (two's complement).
    Int(&'a [i64]),
    /// Keys already made (see `order_keys::order_keys`).
    Keys(&'a [u64]),
}

impl OrderKeys<'_> {
    #[inline(always)]
    pub(super) fn get(&self, row: usize) -> u64 {
        match self {
            OrderKeys::Int(keys) => keys[row] as u64,
            OrderKeys::Keys(keys) => keys[row],
        }
    }
}

/// A batch's valid rows, shared read-only by every shard.
pub(super) struct RowView<'a> {
    pub(super) customers: CustomerIds<'a>,
    pub(super) ts: &'a [i64],
    pub(super) amount: &'a [i64],
    pub(super) orders: OrderKeys<'a>,
    /// Which rows are used (the others are only for the purchase periods); all, when absent.
    pub(super) used: Option<&'a [bool]>,
    /// The shard of each row; every row is the shard's, when absent.
    pub(super) route: Option<&'a [u8]>,
}

/// The state of one shard (see the module documentation).
pub(super) struct Shard {
    ids: Ids,
    /// Whether the input's ids are text (kept as integers while all are canonical integers).
    text_input: bool,
    customers: Vec<CustomerState>,
    owners: Owners,
    pairs: Pairs,
    /// The purchase periods, when asked for.
    periods: Option<Periods>,
    /// The periods of cohort retention, when asked for.
    cohorts: Option<Periods>,
}

impl Shard {
    pub(super) fn new(text_input: bool) -> Self {
        Shard {
            ids: Ids::Int(IntIds::default()),
            text_input,
            customers: Vec::new(),
            owners: Owners::new(),
            pairs: Pairs::Packed(Vec::new()),
            periods: None,
            cohorts: None,
        }
    }

    /// Collects the purchase periods and the periods of cohort retention too, those asked for.
    pub(super) fn with_periods(
        mut self,
        request: Option<PeriodRequest>,
        cohorts: Option<CohortPeriod>,
    ) -> Self {
        if let Some(request) = request {
            self.periods = Some(Periods::new(request));
        }
        if let Some(period) = cohorts {
            self.cohorts = Some(Periods::cohorts(period));
        }
        self
    }

    /// Whether the input's ids are text.
    pub(super) fn text_input(&self) -> bool {
        self.text_input
    }

    /// Customers seen.
    pub(super) fn len(&self) -> usize {
        self.customers.len()
    }

    pub(super) fn periods(&self) -> Option<&Periods> {
        self.periods.as_ref()
    }

    /// Adds the rows of `rows` routed to shard `me`, in their order.
    pub(super) fn add(&mut self, rows: &RowView<'_>, me: u8) -> PolarsResult<()> {
        let n = rows.ts.len();
        let mut mine: Vec<u32> = Vec::with_capacity(LOOKAHEAD);
        let mut group: Vec<(u32, u32)> = Vec::with_capacity(LOOKAHEAD);
        let mut text_cursor = 0;
        let mut start = 0;
        while start < n {
            let end = (start + LOOKAHEAD).min(n);
            mine.clear();
            mine.extend(
                (start as u32..end as u32)
                    .filter(|r| rows.route.is_none_or(|route| route[*r as usize] == me)),
            );
            self.load_slots_ahead(&mine, &rows.customers);
            group.clear();
            for &row in &mine {
                let c = self.index_of(&rows.customers, row as usize, &mut text_cursor);
                group.push((row, c));
            }
            self.load_ahead(&group, &rows.orders);
            for &(row, c) in &group {
                let row = row as usize;
                let used = rows.used.is_none_or(|u| u[row]);
                self.add_valid(c, rows.ts[row], rows.amount[row], rows.orders.get(row), used)?;
            }
            start = end;
        }
        Ok(())
    }

    /// One load from the id slot of each of the rows, before their indices are looked up.
    #[inline(always)]
    fn load_slots_ahead(&self, rows: &[u32], customers: &CustomerIds<'_>) {
        if let (Ids::Int(ids), CustomerIds::Int(values) | CustomerIds::Parsed { ints: values, .. }) =
            (&self.ids, customers)
        {
            let mut loaded = 0u32;
            for &row in rows {
                loaded ^= ids.peek(values[row as usize]);
            }
            std::hint::black_box(loaded);
        }
    }

    /// One load from the record and the order owner of each row of a group, before any is
    /// updated (see the module documentation).
    #[inline(always)]
    fn load_ahead(&self, group: &[(u32, u32)], orders: &OrderKeys<'_>) {
        let mut loaded = 0u64;
        for &(row, c) in group {
            // A record may straddle two cache lines: both ends.
            let record = &self.customers[c as usize];
            loaded ^= record.first_ts as u64 ^ u64::from(record.rows);
            loaded ^= self.owners.peek(orders.get(row as usize));
        }
        std::hint::black_box(loaded);
    }

    #[inline(always)]
    fn index_of(&mut self, ids: &CustomerIds<'_>, row: usize, text_cursor: &mut usize) -> u32 {
        match ids {
            CustomerIds::Int(ids) => match self.text_input {
                false => self.int_index(ids[row]),
                true => self.text_index(&ids[row].to_string()),
            },
            CustomerIds::Text(ids) => self.text_index(ids[row]),
            CustomerIds::Parsed { ints, texts } => {
                while texts.get(*text_cursor).is_some_and(|(r, _)| (*r as usize) < row) {
                    *text_cursor += 1;
                }
                match texts.get(*text_cursor) {
                    Some((r, text)) if *r as usize == row => self.text_index(text),
                    _ => match self.ids {
                        Ids::Int(_) => self.int_index(ints[row]),
                        // After a switch to text, a canonical integer is its own text.
                        Ids::Text(..) => self.text_index(&ints[row].to_string()),
                    },
                }
            }
        }
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
        if let Some(periods) = &mut self.periods {
            periods.add(c, t, a);
        }
        Ok(())
    }

    /// One used row: customer index, timestamp, amount in micro-units, order key. Written
    /// for few unpredictable branches: on a large customer base each row waits for its
    /// record, and a mispredicted branch would stop the loads of the rows after it.
    #[inline(always)]
    fn add_row(&mut self, c: u32, t: i64, a: i64, o: u64) -> PolarsResult<()> {
        let state = &mut self.customers[c as usize];
        state.rows = state
            .rows
            .checked_add(1)
            .ok_or_else(|| polars_err!(ComputeError: "a customer has more than {} rows", u32::MAX))?;
        state.gross += a.max(0);
        state.returned += (-a).max(0);
        let purchase = a >= 0;
        state.first_ts = state.first_ts.min(if purchase { t } else { i64::MAX });
        state.last_ts = state.last_ts.max(if purchase { t } else { i64::MIN });
        if purchase {
            // Order keys below 2³²: the owner decides, and a repeat costs a load. Other keys,
            // and keys another customer owns, are pairs, pushed once per run of the same key
            // (`last_order` is the key of the customer's last pushed pair).
            let pair = match o >> 32 {
                0 => {
                    let (new, pair) = self.owners.claim_small(o, c);
                    state.orders += new;
                    pair
                }
                _ => true,
            };
            if pair && (state.last_order != o || o == NO_ORDER) {
                state.last_order = o;
                self.pairs.push(c, o);
            }
        }
        Ok(())
    }

    fn new_customer(&mut self) -> u32 {
        self.customers.push(NEW_CUSTOMER);
        (self.customers.len() - 1) as u32
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
        let list = self.text_list();
        let map = list
            .iter()
            .enumerate()
            .map(|(i, id)| (id.clone(), i as u32))
            .collect();
        self.ids = Ids::Text(map, list);
    }

    /// Every id's text, by index.
    fn text_list(&self) -> Vec<Box<str>> {
        text_list(&self.ids, self.customers.len())
    }

    /// The shards as one: indices of shard `s` follow those of the shards before it. Ids turn
    /// to text everywhere when one shard's did.
    pub(super) fn merge(shards: Vec<Shard>) -> Shard {
        let any_text = shards.iter().any(|s| matches!(s.ids, Ids::Text(..)));
        let mut shards = shards.into_iter();
        let mut merged = shards.next().expect("at least one shard");
        if any_text {
            let list = merged.text_list();
            merged.ids = Ids::Text(PlHashMap::default(), list);
        }
        for shard in shards {
            let offset = merged.customers.len() as u32;
            let Shard {
                ids,
                customers,
                pairs,
                periods,
                cohorts,
                ..
            } = shard;
            match (&mut merged.ids, ids) {
                (Ids::Int(mine), Ids::Int(theirs)) => mine.absorb(theirs, offset),
                (Ids::Text(_, mine), theirs) => mine.extend(text_list(&theirs, customers.len())),
                (Ids::Int(_), Ids::Text(..)) => unreachable!("every shard is text when one is"),
            }
            merged.customers.extend(customers);
            merged.pairs.absorb(pairs, offset);
            merge_periods(&mut merged.periods, periods, offset);
            merge_periods(&mut merged.cohorts, cohorts, offset);
        }
        merged
    }

    /// The customer-level frame: `customer_id, first_ts, last_ts, frequency, net_micros,
    /// gross_micros, returned_micros, transactions`, as [`super::customer_level`] gives it, but
    /// already sorted by customer id, with text ids that are all canonical integers converted
    /// (see [`super::integer_ids_if_lossless`]); and the purchase periods and the cohorts when
    /// collected. Built column by column in sorted order, without an intermediate frame.
    pub(super) fn finish(self, id_dtype: &DataType) -> Result<FinishedShard> {
        // Each state vector is released as soon as its column is built, and the id map and the
        // order pairs before any: peak memory stays near the state's own size.
        let Shard {
            ids,
            text_input,
            customers,
            owners,
            pairs,
            periods,
            cohorts,
        } = self;
        drop(owners);
        let cohorts = cohorts.map(Periods::finish_cohorts);
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
        Ok(FinishedShard {
            customers: frame,
            periods,
            cohorts,
        })
    }
}

/// The text of each of `customers` ids, by index.
fn text_list(ids: &Ids, customers: usize) -> Vec<Box<str>> {
    match ids {
        Ids::Int(ids) => ids
            .ids_by_index(customers)
            .iter()
            .map(|id| id.to_string().into_boxed_str())
            .collect(),
        Ids::Text(_, list) => list.clone(),
    }
}

fn merge_periods(mine: &mut Option<Periods>, theirs: Option<Periods>, offset: u32) {
    if let (Some(mine), Some(theirs)) = (mine.as_mut(), theirs) {
        mine.absorb(theirs, offset);
    }
}

/// What the merged shards give when the input is read.
pub(super) struct FinishedShard {
    pub(super) customers: DataFrame,
    pub(super) periods: Option<DataFrame>,
    pub(super) cohorts: Option<CohortTable>,
}

/// The customer indices in id order, and the sorted id column.
fn id_order(ids: Ids, text_input: bool, id_dtype: &DataType, n: usize) -> Result<(Vec<u32>, Column)> {
    Ok(match ids {
        Ids::Int(mut ids) => {
            ids.settle(n);
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

/// Indices that sort `values` ascending (ids are distinct, so unstable is exact).
fn sorted_order<T: Ord + Sync>(values: &[T]) -> Vec<u32> {
    let mut order: Vec<u32> = (0..values.len() as u32).collect();
    order.par_sort_unstable_by(|a, b| values[*a as usize].cmp(&values[*b as usize]));
    order
}
