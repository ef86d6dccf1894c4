//! One shard of the accumulator: the customers whose id is dealt to it, their running sums,
//! and their purchase and cohort periods; the owners of order keys are shared (`order_keys.rs`).
//!
//! Every customer belongs to exactly one shard (see `accumulate::Router`), so shards run in
//! parallel sharing only the order owners (whose atomic claims count each order once whichever
//! shard claims first), and their records are put together once at the end (`merge.rs`); what
//! the shards compute together does not depend on how many shards there are.
//!
//! A customer's record is found from its id alone when the id is an integer (`slots.rs`). A
//! batch's rows are taken [`LOOKAHEAD`] at a time: their slots first, then one load from each
//! of their records and order owners, and only then the rows' updates. On a log in time order
//! every row of a large customer base is a cache miss on its record; loading a group's records
//! before any is needed lets the processor wait for all of those misses at once instead of one
//! after another, and the update itself has few branches that depend on the data.

use polars::prelude::*;

use super::order_keys::{Owners, Pairs};
use super::periods::{PeriodRequest, Periods};
use super::runs::Runs;
use super::slots::{Blocks, Slots, TAG};
use crate::cohorts::CohortPeriod;
use crate::rows::ids::Numbering;

/// Rows whose records are loaded ahead of their updates.
const LOOKAHEAD: usize = 256;

/// One customer's running sums and extremes (32 bytes: one per cache line's half, see
/// `slots::Direct`); what few rows write is kept apart ([`Rare`]).
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(C)]
pub(super) struct CustomerState {
    pub(super) first_ts: i64,
    pub(super) last_ts: i64,
    pub(super) gross: i64,
    /// Used rows, [`SEEN`] once any valid row of the customer was added, [`RETURNED`] once a
    /// return row was, and [`PURCHASED`] once a purchase row was.
    rows: u32,
    /// Distinct orders (after [`Shard::into_parts`], pairs included).
    pub(super) orders: u32,
}

/// The bit of [`CustomerState::rows`] that tells a customer was seen.
const SEEN: u32 = 1 << 31;
/// The bit of [`CustomerState::rows`] that tells the customer has money in [`Rare`].
const RETURNED: u32 = 1 << 30;
/// The bit of [`CustomerState::rows`] that tells the customer has a purchase row (for
/// [`Runs`]: a customer coming back).
const PURCHASED: u32 = 1 << 29;
/// Most used rows of one customer.
const MAX_ROWS: u32 = PURCHASED - 1;

impl CustomerState {
    /// Used rows.
    #[inline(always)]
    pub(super) fn rows(&self) -> u32 {
        self.rows & MAX_ROWS
    }

    /// Whether the customer has a return row (its money is in [`Rare`]).
    #[inline(always)]
    pub(super) fn returned(&self) -> bool {
        self.rows & RETURNED != 0
    }

    /// Whether any valid row of the customer was added.
    #[inline(always)]
    pub(super) fn seen(&self) -> bool {
        self.rows & SEEN != 0
    }
}

/// The `orders` of a customer that came back, while its shard counts by runs (when every
/// other customer's is 0): its runs' keys are counted as pairs at the end (see `runs.rs`).
const CAME_BACK: u32 = u32::MAX;

/// No pair pushed yet. A real key equal to it is never skipped as a repeat (see `add_row`).
pub(super) const NO_ORDER: u64 = u64::MAX;

const NEW_CUSTOMER: CustomerState = CustomerState {
    first_ts: i64::MAX,
    last_ts: i64::MIN,
    gross: 0,
    rows: 0,
    orders: 0,
};

/// What few rows write, apart from the records: the money customers returned (return rows), and
/// the order key of each customer's last pushed pair (see `Shard::add_row`, rows whose order the
/// owners do not hold).
pub(super) struct Rare {
    returned: BySlot<i64>,
    last_order: BySlot<u64>,
}

impl Default for Rare {
    fn default() -> Self {
        Rare {
            returned: BySlot::new(0),
            last_order: BySlot::new(NO_ORDER),
        }
    }
}

impl Rare {
    /// Money the customer in `slot` returned (see [`CustomerState::returned`]).
    pub(super) fn returned(&self, slot: u32) -> i64 {
        self.returned.get(slot)
    }

    #[inline]
    fn add_returned(&mut self, slot: u32, money: i64) {
        *self.returned.get_mut(slot) += money;
    }

    /// Drops the last pushed pairs' keys (the pass is over).
    fn drop_last_orders(&mut self) {
        self.last_order = BySlot::new(NO_ORDER);
    }

    /// The key of the last pair pushed for `slot`, made `key`; whether it was another.
    #[inline]
    fn replace_last_order(&mut self, slot: u32, key: u64) -> bool {
        std::mem::replace(self.last_order.get_mut(slot), key) != key
    }
}

/// A value per slot, for what few rows write: two vectors (direct and tagged slots), grown to
/// the largest slot written; a slot never written reads `empty`. Denser and faster than a map
/// once a fair share of the customers write (return rows: a few percent of a log's rows).
struct BySlot<T> {
    direct: Vec<T>,
    /// By tagged slot (`slot - TAG`).
    tagged: Vec<T>,
    empty: T,
}

impl<T: Copy> BySlot<T> {
    fn new(empty: T) -> Self {
        BySlot {
            direct: Vec::new(),
            tagged: Vec::new(),
            empty,
        }
    }

    fn get(&self, slot: u32) -> T {
        let (values, i) = match slot < TAG {
            true => (&self.direct, slot as usize),
            false => (&self.tagged, (slot - TAG) as usize),
        };
        values.get(i).copied().unwrap_or(self.empty)
    }

    #[inline]
    fn get_mut(&mut self, slot: u32) -> &mut T {
        let (values, i) = match slot < TAG {
            true => (&mut self.direct, slot as usize),
            false => (&mut self.tagged, (slot - TAG) as usize),
        };
        if i >= values.len() {
            values.resize(i + 1, self.empty);
        }
        &mut values[i]
    }
}

/// The customer ids of a batch's valid rows, as the shards read them.
pub(super) enum CustomerIds<'a> {
    /// Integers.
    Int(&'a [i64]),
    /// Text (ids read as text).
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
    slots: Slots<CustomerState>,
    rare: Rare,
    /// This shard's number (in the owner codes of its customers).
    me: u8,
    /// Order keys this shard's customers claimed first.
    claimed: usize,
    pairs: Pairs,
    /// Distinct orders counted by runs, until a customer comes back (`runs.rs`); then by the
    /// shared owners.
    runs: Option<Runs>,
    /// The row of the batch after the one that broke the runs (see [`Shard::add`]).
    resume: Option<usize>,
    /// The purchase periods, when asked for.
    periods: Option<Periods>,
    /// The periods of cohort retention, when asked for.
    cohorts: Option<Periods>,
}

/// What a shard hands to the merge: its records (distinct orders counted), and its periods.
pub(super) struct ShardParts {
    pub(super) slots: Slots<CustomerState>,
    pub(super) rare: Rare,
    pub(super) periods: Option<Periods>,
    pub(super) cohorts: Option<Periods>,
}

impl Shard {
    pub(super) fn new(blocks: Blocks, me: u8) -> Self {
        Shard {
            slots: Slots::new(blocks, NEW_CUSTOMER),
            rare: Rare::default(),
            me,
            claimed: 0,
            pairs: Pairs::Packed(Vec::new()),
            runs: Some(Runs::default()),
            resume: None,
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

    /// Customers seen.
    pub(super) fn len(&self) -> usize {
        self.slots.len()
    }

    /// Gives the direct slots to the text ids of `numbering` (before the first row).
    pub(super) fn number_texts(&mut self, numbering: Numbering) {
        self.slots.number_texts(numbering);
    }

    /// Order keys this shard claimed first.
    pub(super) fn claimed(&self) -> usize {
        self.claimed
    }

    /// A customer's code in the shared order owners: its slot and shard, unique across shards
    /// (direct slots are below 2³¹ shifted by the shard bits, tagged ones keep the tag).
    #[inline(always)]
    fn owner_code(&self, slot: u32) -> u32 {
        let log2 = self.slots.blocks().log2;
        match slot < TAG {
            true => (slot << log2) | u32::from(self.me),
            false => TAG | (((slot - TAG) << log2) | u32::from(self.me)),
        }
    }

    /// Adds the rows of `rows` routed to this shard, in their order, counting orders by runs or
    /// claiming order keys in `owners` (the way is chosen once per batch).
    /// When the runs break (a customer comes back), the shard stops at that row: the caller
    /// then allocates the owners and calls [`Shard::leave_runs`], which adds the batch's other
    /// rows.
    pub(super) fn add(&mut self, rows: &RowView<'_>, owners: &Owners) -> PolarsResult<()> {
        match self.runs.is_some() {
            true => self.add_rows::<true>(rows, owners, 0),
            false => self.add_rows::<false>(rows, owners, 0),
        }
    }

    /// [`Shard::add`] from row `from` on, by runs when `RUNS`.
    fn add_rows<const RUNS: bool>(
        &mut self,
        rows: &RowView<'_>,
        owners: &Owners,
        from: usize,
    ) -> PolarsResult<()> {
        let me = self.me;
        let n = rows.ts.len();
        let mut text_cursor = 0;
        if RUNS {
            // A grouped log's rows meet their records one after another: nothing to load ahead.
            for row in from..n {
                if rows.route.is_none_or(|route| route[row] == me) {
                    let slot = self.slot_of(&rows.customers, row, &mut text_cursor);
                    self.add_valid::<RUNS>(rows, row, slot, owners)?;
                    if self.runs_broken() {
                        self.resume = Some(row + 1);
                        return Ok(());
                    }
                }
            }
            return Ok(());
        }
        let mut group: Vec<(u32, u32)> = Vec::with_capacity(LOOKAHEAD);
        let mut start = from;
        while start < n {
            let end = (start + LOOKAHEAD).min(n);
            group.clear();
            for row in start..end {
                if rows.route.is_none_or(|route| route[row] == me) {
                    let slot = self.slot_of(&rows.customers, row, &mut text_cursor);
                    group.push((row as u32, slot));
                }
            }
            self.load_ahead(&group, &rows.orders, owners);
            for &(row, slot) in &group {
                self.add_valid::<RUNS>(rows, row as usize, slot, owners)?;
            }
            start = end;
        }
        Ok(())
    }

    /// One load from the record and the order owner of each row of a group, before any is
    /// updated (see the module documentation).
    #[inline(always)]
    fn load_ahead(&self, group: &[(u32, u32)], orders: &OrderKeys<'_>, owners: &Owners) {
        let mut loaded = 0u64;
        for &(row, slot) in group {
            // A record is within one cache line (`slots::Direct`; tagged ones may straddle two).
            loaded ^= u64::from(self.slots.get(slot).rows);
            loaded ^= owners.peek(orders.get(row as usize));
        }
        std::hint::black_box(loaded);
    }

    #[inline(always)]
    fn slot_of(&mut self, ids: &CustomerIds<'_>, row: usize, text_cursor: &mut usize) -> u32 {
        match ids {
            CustomerIds::Int(ids) => self.slots.of_int(ids[row]),
            CustomerIds::Text(ids) => self.slots.of_text(ids[row]),
            CustomerIds::Parsed { ints, texts } => {
                while texts.get(*text_cursor).is_some_and(|(r, _)| (*r as usize) < row) {
                    *text_cursor += 1;
                }
                match texts.get(*text_cursor) {
                    Some((r, text)) if *r as usize == row => self.slots.of_text(text),
                    _ => self.slots.of_canonical(ints[row]),
                }
            }
        }
    }

    /// Valid row `row` of `rows`, of the customer in `slot`: to its customer when used, to the
    /// periods when they are asked for.
    #[inline(always)]
    fn add_valid<const RUNS: bool>(
        &mut self,
        rows: &RowView<'_>,
        row: usize,
        slot: u32,
        owners: &Owners,
    ) -> PolarsResult<()> {
        let (t, a, o) = (rows.ts[row], rows.amount[row], rows.orders.get(row));
        let used = rows.used.is_none_or(|u| u[row]);
        let state = self.slots.get_mut(slot);
        let new = !state.seen();
        state.rows |= SEEN;
        self.slots.count_direct(new && slot < TAG);
        if used {
            self.add_row::<RUNS>(slot, t, a, o, owners)?;
            if let Some(cohorts) = &mut self.cohorts {
                cohorts.add(slot, t, a);
            }
        }
        if let Some(periods) = &mut self.periods {
            periods.add(slot, t, a);
        }
        Ok(())
    }

    /// One used row: slot, timestamp, amount in micro-units, order key. Written for few
    /// unpredictable branches: on a large customer base each row waits for its record, and a
    /// mispredicted branch would stop the loads of the rows after it.
    #[inline(always)]
    fn add_row<const RUNS: bool>(
        &mut self,
        slot: u32,
        t: i64,
        a: i64,
        o: u64,
        owners: &Owners,
    ) -> PolarsResult<()> {
        let code = self.owner_code(slot);
        let state = self.slots.get_mut(slot);
        if state.rows() == MAX_ROWS {
            return Err(polars_err!(ComputeError: "a customer has more than {MAX_ROWS} rows"));
        }
        state.rows += 1;
        state.gross += a.max(0);
        let purchase = a >= 0;
        state.first_ts = state.first_ts.min(if purchase { t } else { i64::MAX });
        state.last_ts = state.last_ts.max(if purchase { t } else { i64::MIN });
        if purchase && RUNS {
            let returning = state.rows & PURCHASED != 0;
            state.rows |= PURCHASED;
            let runs = self.runs.as_mut().expect("a shard counting by runs has them");
            let (kept, came_back) = runs.add(slot, o, returning);
            self.claimed += usize::from(kept);
            if came_back {
                state.orders = CAME_BACK;
            }
        } else if purchase {
            let (new, pair) = owners.claim(o, code);
            state.orders += new;
            self.claimed_as(slot, o, new, pair);
        } else {
            state.rows |= RETURNED;
            self.rare.add_returned(slot, -a);
        }
        Ok(())
    }

    /// Notes the claim of the order key `o` for the customer in `slot` (`Owners::claim` gave
    /// `new, pair`; the caller counted `new` in the record). Keys the owners cover: the owner
    /// decides, and a repeat costs a load. Other keys, and keys another customer owns, are
    /// pairs, pushed once per run of the same key (`last_order` is the key of the customer's
    /// last pushed pair).
    #[inline(always)]
    fn claimed_as(&mut self, slot: u32, o: u64, new: u32, pair: bool) {
        self.claimed += new as usize;
        if pair && (self.rare.replace_last_order(slot, o) || o == NO_ORDER) {
            self.pairs.push(slot, o);
        }
    }

    /// Whether this shard still counts by runs.
    #[cfg(test)]
    pub(super) fn counts_by_runs(&self) -> bool {
        self.runs.is_some()
    }

    /// Whether this shard counts by runs and a customer came back (see `runs.rs`): then the
    /// owners must be allocated, and [`Shard::leave_runs`] called, before the next batch.
    pub(super) fn runs_broken(&self) -> bool {
        self.runs.as_ref().is_some_and(Runs::broken)
    }

    /// Claims the keys of every run in the owners, run after run, and claims there from now on,
    /// starting with the rows of `rows` after the one that broke the runs.
    pub(super) fn leave_runs(&mut self, rows: &RowView<'_>, owners: &Owners) -> PolarsResult<()> {
        if let Some(runs) = self.runs.take() {
            // Nothing was claimed in the owners yet; the claims are counted now.
            self.claimed = 0;
            runs.finish(|slot, keys| {
                let code = self.owner_code(slot);
                let state = self.slots.get_mut(slot);
                if state.orders == CAME_BACK {
                    state.orders = 0;
                }
                for key in keys {
                    let (new, pair) = owners.claim(*key, code);
                    self.slots.get_mut(slot).orders += new;
                    self.claimed_as(slot, *key, new, pair);
                }
            });
        }
        match self.resume.take() {
            Some(from) => self.add_rows::<false>(rows, owners, from),
            None => Ok(()),
        }
    }

    /// The shard's records with their distinct orders counted (pairs included), for the merge.
    pub(super) fn into_parts(self) -> ShardParts {
        let Shard {
            mut slots,
            mut rare,
            mut pairs,
            runs,
            periods,
            cohorts,
            ..
        } = self;
        slots.drop_maps();
        rare.drop_last_orders();
        if let Some(runs) = runs {
            // The distinct keys of a customer's only run are its orders; the keys of customers
            // that came back are pairs.
            let mut came_back = Vec::new();
            runs.finish(|slot, keys| match slots.get(slot).orders {
                CAME_BACK => {
                    came_back.push(slot);
                    keys.iter().for_each(|key| pairs.push(slot, *key));
                }
                _ => slots.get_mut(slot).orders += keys.len() as u32,
            });
            for slot in came_back {
                slots.get_mut(slot).orders = 0;
            }
        }
        pairs.for_each_distinct(|slot| slots.get_mut(slot).orders += 1);
        ShardParts {
            slots,
            rare,
            periods,
            cohorts,
        }
    }
}
