//! Order keys and the counting of distinct orders per customer (see the accumulator's
//! module documentation): the owner of each order key, the `(customer, key)` pairs that are
//! counted at the end, and the `u64` keys of integer and text order ids.

use std::sync::atomic::{AtomicU32, Ordering};

use polars::prelude::*;

use super::accumulate::no_nulls;
use crate::ingest::col_names::ORDER_KEY;
pub(crate) use crate::rows::ids::order_key_of_text;

/// `(customer index, order key)` pairs, packed into one `u64` while both fit 32 bits.
pub(super) enum Pairs {
    Packed(Vec<u64>),
    Wide(Vec<(u32, u64)>),
}

impl Pairs {
    pub(super) fn push(&mut self, customer: u32, order: u64) {
        match self {
            Pairs::Packed(v) if order <= u32::MAX as u64 => v.push(((customer as u64) << 32) | order),
            Pairs::Packed(v) => {
                let wide = v.iter().map(|p| ((p >> 32) as u32, p & 0xFFFF_FFFF)).collect();
                *self = Pairs::Wide(wide);
                self.push(customer, order);
            }
            Pairs::Wide(v) => v.push((customer, order)),
        }
    }

    /// Calls `counted` once per distinct `(customer, order)` pair, with the customer.
    pub(super) fn for_each_distinct(self, mut counted: impl FnMut(u32)) {
        match self {
            Pairs::Packed(mut v) => {
                v.sort_unstable();
                v.dedup();
                for p in v {
                    counted((p >> 32) as u32);
                }
            }
            Pairs::Wide(mut v) => {
                v.sort_unstable();
                v.dedup();
                for (c, _) in v {
                    counted(c);
                }
            }
        }
    }
}

const NO_OWNER: u32 = u32::MAX;
/// Keys the table may cover before its length is held to the keys claimed: 32M keys, 128 MB.
const FREE_KEYS: usize = 1 << 25;
/// Past [`FREE_KEYS`], at most this many keys per key claimed.
const KEYS_PER_CLAIM: usize = 8;

/// The first customer (its owner code, see `Shard::owner_code`) of each order key in
/// `base..base + len`, shared by the shards: a key belongs to one customer, hence to one
/// shard, but a key shared by customers of two shards is settled by the first to claim it.
///
/// The table grows between batches only (`prepare`), to the batch's largest key when the
/// table would not hold far more keys than were claimed; once that is refused, it never grows
/// again, so a key's route (owned here, or a pair) never changes. The table is only allocated
/// once a shard claims in it (`materialize`): shards counting by runs (`runs.rs`) do not, and
/// its extent grows all the same meanwhile, so a key's route does not depend on when the table
/// was allocated. The base is the smallest key
/// of the first batch, so order numbers that start far from 0 are tracked too; the keys
/// considered are those of one numbering, the first batch's (see `key_numbering` in
/// `accumulate.rs`: `536365` and `C536365` are two numberings).
pub(super) struct Owners {
    table: Vec<AtomicU32>,
    /// The keys the table covers (allocated, once `materialized`).
    len: usize,
    materialized: bool,
    base: Option<u64>,
    numbering: Option<u64>,
    frozen: bool,
}

impl Owners {
    pub(super) fn new() -> Self {
        Owners {
            table: Vec::new(),
            len: 0,
            materialized: false,
            base: None,
            numbering: None,
            frozen: false,
        }
    }

    /// The numbering of the keys the table holds, once the first batch set it.
    pub(super) fn numbering(&self) -> Option<u64> {
        self.numbering
    }

    /// Makes room for the keys `min..=max` (of `numbering`) of the next batch, when allowed
    /// (see above); `claimed` is the number of keys claimed so far.
    pub(super) fn prepare(&mut self, min: u64, max: u64, claimed: usize, numbering: u64) {
        self.numbering.get_or_insert(numbering);
        let base = *self.base.get_or_insert(min);
        if self.frozen || max < base {
            return;
        }
        let needed = usize::try_from(max - base + 1).unwrap_or(usize::MAX);
        if needed <= self.len {
            return;
        }
        let len = needed.max(self.len * 3 / 2);
        if len > FREE_KEYS.max(KEYS_PER_CLAIM * claimed) {
            self.frozen = true;
            return;
        }
        self.len = len;
        if self.materialized {
            self.materialize();
        }
    }

    /// Allocates the table to its extent, for shards that claim in it; from then on it grows
    /// with its extent.
    pub(super) fn materialize(&mut self) {
        self.materialized = true;
        self.table.resize_with(self.len, || AtomicU32::new(NO_OWNER));
    }

    /// The slot of a key, when the table covers it.
    #[inline(always)]
    fn slot(&self, key: u64) -> Option<&AtomicU32> {
        let offset = key.wrapping_sub(self.base?);
        self.table.get(usize::try_from(offset).ok()?)
    }

    /// Claims `key` for the customer `owner`: `(1 when it is the key's first, whether the
    /// `(customer, key)` pair must be stored)`. Claiming again a key the customer owns is
    /// free, so callers need not skip repeated order lines.
    #[inline(always)]
    pub(super) fn claim(&self, key: u64, owner: u32) -> (u32, bool) {
        let Some(slot) = self.slot(key) else {
            return (0, true);
        };
        match slot.load(Ordering::Relaxed) {
            current if current == owner => (0, false),
            NO_OWNER => match slot.compare_exchange(NO_OWNER, owner, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => (1, false),
                Err(current) => (0, current != owner),
            },
            _ => (0, true),
        }
    }

    /// The owner slot of `key` as a number, read only to bring its cache line in ahead of
    /// [`Owners::claim`] (0 when the key has no slot).
    #[inline(always)]
    pub(super) fn peek(&self, key: u64) -> u64 {
        self.slot(key).map_or(0, |s| u64::from(s.load(Ordering::Relaxed)))
    }
}

/// Order keys as `u64`: integers as they are (two's complement); text that is a canonical
/// non-negative integer as that integer, other text tagged with the top bit (see
/// [`text_key`]), so the two kinds never meet.
pub(super) fn order_keys(column: &Column) -> PolarsResult<Vec<u64>> {
    let series = column.as_materialized_series();
    match series.dtype() {
        DataType::String => Ok(series
            .str()?
            .iter()
            .map(|v| order_key_of_text(v.expect("used rows have an order id")))
            .collect()),
        _ => {
            let keys = series.cast(&DataType::Int64)?;
            let keys = keys.i64()?.rechunk();
            Ok(no_nulls(keys.cont_slice(), ORDER_KEY)?
                .iter()
                .map(|v| *v as u64)
                .collect())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::customers::shard::NO_ORDER;
    use crate::rows::ids::text_key;

    #[test]
    fn text_keys_are_exact_short_tagged_and_distinct() {
        assert_ne!(text_key("536365"), text_key("C536365"));
        assert_ne!(text_key("ab"), text_key("ba"));
        assert_eq!(text_key("1234567"), (1 << 63) | u64::from_le_bytes(*b"1234567\0"));
        assert_eq!(text_key("a-long-order-id-123"), text_key("a-long-order-id-123"));
        for text in ["", "ab", "1234567", "12345678", "a-long-order-id-123"] {
            let key = text_key(text);
            assert!(key >> 32 != 0 && key >= 1 << 63 && key != NO_ORDER, "{text}");
        }
    }

    #[test]
    fn pairs_widen_when_an_order_exceeds_32_bits_and_count_distinct() {
        let mut pairs = Pairs::Packed(Vec::new());
        pairs.push(0, 7);
        pairs.push(0, 7);
        pairs.push(1, 7);
        pairs.push(0, 9);
        assert!(matches!(pairs, Pairs::Packed(_)));
        pairs.push(1, 1 << 40);
        assert!(matches!(pairs, Pairs::Wide(_)));
        let mut counts = vec![10, 20];
        pairs.for_each_distinct(|c| counts[c as usize] += 1);
        assert_eq!(counts, vec![12, 22]);
    }

    #[test]
    fn owners_count_each_order_once_and_stop_growing_for_sparse_keys() {
        let mut owners = Owners::new();
        owners.prepare(100, 110, 0, 0);
        assert_eq!(owners.claim(105, 0), (0, true), "not allocated yet");
        owners.materialize();
        assert_eq!(owners.claim(105, 0), (1, false));
        assert_eq!(owners.claim(105, 0), (0, false), "a repeat");
        assert_eq!(owners.claim(105, 1), (0, true), "another customer's order");
        assert_eq!(owners.claim(99, 0), (0, true), "below the base");
        assert_eq!(owners.claim(111, 0), (0, true), "beyond the table");
        // Far more keys than claimed: the table stops growing, for good.
        owners.prepare(100, 100 + (FREE_KEYS as u64) * 2, 1, 0);
        assert!(owners.frozen);
        owners.prepare(100, 200, 1_000_000_000, 0);
        assert_eq!(
            owners.claim(150, 2),
            (0, true),
            "frozen: beyond the table stays a pair"
        );
        assert_eq!(owners.claim(106, 3), (1, false), "covered keys are still owned");
    }
}
