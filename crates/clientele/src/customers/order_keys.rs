//! Order keys and the counting of distinct orders per customer (see the accumulator's
//! module documentation): the owner of each order key, the `(customer, key)` pairs that are
//! counted at the end, and the `u64` keys of integer and text order ids.

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

const PAGE_BITS: u32 = 16;
const PAGE_KEYS: usize = 1 << PAGE_BITS;
const NO_OWNER: u32 = u32::MAX;

/// The first customer of each order key below 2³², in pages allocated on first use.
pub(super) struct Owners {
    pages: Vec<Option<Box<[u32]>>>,
    allocated: usize,
    claimed: usize,
    /// Set once pages held far more slots than claimed keys: no page is allocated after that,
    /// so a key's route (owned here, or a pair) never changes.
    frozen: bool,
}

/// What [`Owners::claim`] found.
pub(super) enum Claim {
    /// The customer is the order's first: count it.
    New,
    /// The customer already owns the order: counted before.
    Same,
    /// Another customer owns the order, or the key is not tracked here: store the pair.
    Pair,
}

impl Owners {
    pub(super) fn new() -> Self {
        Owners {
            pages: (0..1usize << (32 - PAGE_BITS)).map(|_| None).collect(),
            allocated: 0,
            claimed: 0,
            frozen: false,
        }
    }

    #[inline]
    pub(super) fn claim(&mut self, key: u64, customer: u32) -> Claim {
        if key >> 32 != 0 {
            return Claim::Pair;
        }
        let page = (key >> PAGE_BITS) as usize;
        if self.pages[page].is_none() && !self.allocate(page) {
            return Claim::Pair;
        }
        let owners = self.pages[page].as_deref_mut().expect("allocated above");
        let owner = &mut owners[key as usize & (PAGE_KEYS - 1)];
        if *owner == NO_OWNER {
            *owner = customer;
            self.claimed += 1;
            Claim::New
        } else if *owner == customer {
            Claim::Same
        } else {
            Claim::Pair
        }
    }

    /// [`Owners::claim`] for a key below 2³², without a branch on the owner found: `(1 when the
    /// customer is the key's first, whether the pair must be stored)`. Claiming again the key
    /// a customer owns is free, so callers need not skip repeated order lines.
    #[inline(always)]
    pub(super) fn claim_small(&mut self, key: u64, customer: u32) -> (u32, bool) {
        debug_assert!(key >> 32 == 0);
        let page = (key >> PAGE_BITS) as usize;
        let Some(owners) = self.pages[page].as_deref_mut() else {
            return match self.claim(key, customer) {
                Claim::New => (1, false),
                Claim::Same => (0, false),
                Claim::Pair => (0, true),
            };
        };
        let slot = &mut owners[key as usize & (PAGE_KEYS - 1)];
        let owner = *slot;
        let new = owner == NO_OWNER;
        *slot = if new { customer } else { owner };
        self.claimed += usize::from(new);
        (u32::from(new), !new && owner != customer)
    }

    /// The owner slot of `key` as a number, read only to bring its cache line in ahead of
    /// [`Owners::claim`] (0 when the key has no slot).
    #[inline(always)]
    pub(super) fn peek(&self, key: u64) -> u64 {
        if key >> 32 != 0 {
            return 0;
        }
        match &self.pages[(key >> PAGE_BITS) as usize] {
            Some(owners) => u64::from(owners[key as usize & (PAGE_KEYS - 1)]),
            None => 0,
        }
    }

    #[cold]
    fn allocate(&mut self, page: usize) -> bool {
        // Sparse keys would take a page each: stop once slots outnumber keys eightfold.
        if self.frozen || (self.allocated + 1) * PAGE_KEYS > 8 * self.claimed + (1 << 22) {
            self.frozen = true;
            return false;
        }
        self.pages[page] = Some(vec![NO_OWNER; PAGE_KEYS].into_boxed_slice());
        self.allocated += 1;
        true
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
    fn owners_count_each_order_once_and_stop_allocating_for_sparse_keys() {
        let mut owners = Owners::new();
        assert!(matches!(owners.claim(5, 0), Claim::New));
        assert!(matches!(owners.claim(5, 0), Claim::Same));
        assert!(
            matches!(owners.claim(5, 1), Claim::Pair),
            "another customer's order"
        );
        assert!(
            matches!(owners.claim(1 << 32, 0), Claim::Pair),
            "beyond the pages"
        );
        // Keys a page apart each: allocation stops after the slack and never resumes.
        let mut routes = Vec::new();
        for page in 1..200u64 {
            routes.push(matches!(owners.claim(page << PAGE_BITS, 2), Claim::New));
        }
        assert!(owners.frozen);
        let owned = routes.iter().filter(|r| **r).count();
        assert!(owned < 100, "{owned} pages allocated for single keys");
        assert!(routes[..owned].iter().all(|r| *r) && routes[owned..].iter().all(|r| !*r));
        // A key on an allocated page is still owned after freezing; others stay pairs.
        assert!(matches!(owners.claim(6, 3), Claim::New));
        assert!(matches!(owners.claim(199 << PAGE_BITS, 2), Claim::Pair));
    }
}
