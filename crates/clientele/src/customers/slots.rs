//! Where a shard keeps each customer's record: its *slot*.
//!
//! Customer ids are usually integers 1..n. An integer id in `[0, 2³¹)` is its own address:
//! the shard's slot of the id is computed from it ([`Blocks`]) and the record lives at that
//! slot of one vector grown to the largest slot given, so a row's record is one load away, with
//! no index to look up first. Ids are dealt to shards in blocks of 64 consecutive ids, so a
//! shard's slots are dense when the ids are.
//!
//! Every other id (negative, beyond 2³¹, text that is not a canonical integer) and, once the
//! vector would hold far more slots than customers (sparse ids), every id beyond it, gets a
//! *tagged* slot: `TAG + k` for the shard's k-th such customer, found through a hash map. An
//! id's slot never changes once given: the vector never grows after the first refusal, so an
//! id sent to the map keeps finding it there.
//!
//! Text ids that are canonical integers (`"42"`) take the integer's slot: they are the same
//! customer either way, and the table shows every id as text when some are not integers.
//!
//! Text ids of a [`Numbering`] (`C004572124`), when most of the pass's first rows have one, take
//! the slot of their number instead: the direct slots then hold the numbering's ids, and
//! canonical integers, which would meet them there, are tagged.

use std::hash::BuildHasher;

use bytemuck::Pod;
use hashbrown::HashTable;
use polars::prelude::{PlHashMap, PlRandomState};

use crate::rows::ids::{Numbering, TextId};

/// Slots from here on are tagged (found through the map).
pub(super) const TAG: u32 = 1 << 31;
/// Consecutive ids dealt to one shard.
const BLOCK_BITS: u32 = 6;
/// The direct vectors of all shards together may hold this many slots (8M customers, 400 MB
/// of records) before their length is held to the customers seen. A log in time order meets
/// its customers in random id order: early on, the largest id seen is far above the number of
/// customers seen, so no rule on the share of slots in use can tell dense ids from sparse ones
/// until the end. This
/// bound is what sparse ids can cost at most; dense ids up to it are all addressed.
const FREE_SLOTS: usize = 1 << 23;
/// Past [`FREE_SLOTS`], at most this many slots per customer seen.
const SLOTS_PER_CUSTOMER: usize = 8;

/// How integer ids in `[0, 2³¹)` are dealt to `2^log2` shards: blocks of 64 ids in turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Blocks {
    pub(super) log2: u32,
}

impl Blocks {
    /// Whether `id` has an address (see the module documentation).
    #[inline(always)]
    pub(super) fn addressable(id: i64) -> bool {
        (0..i64::from(TAG)).contains(&id)
    }

    /// The shard of an addressable id.
    #[inline(always)]
    pub(super) fn shard(self, id: i64) -> u8 {
        ((id >> BLOCK_BITS) & ((1 << self.log2) - 1)) as u8
    }

    /// The slot of an addressable id in its shard.
    #[inline(always)]
    pub(super) fn slot(self, id: i64) -> u32 {
        let block = (id >> BLOCK_BITS) >> self.log2;
        ((block << BLOCK_BITS) | (id & ((1 << BLOCK_BITS) - 1))) as u32
    }

    /// The id of slot `slot` (below [`TAG`]) of shard `shard`.
    #[inline(always)]
    pub(super) fn id(self, shard: u8, slot: u32) -> i64 {
        let slot = i64::from(slot);
        let block = ((slot >> BLOCK_BITS) << self.log2) | i64::from(shard);
        (block << BLOCK_BITS) | (slot & ((1 << BLOCK_BITS) - 1))
    }
}

/// Records by slot, in one allocation grown to the largest slot given (large enough that the
/// allocator maps it apart and gives it back whole when it is freed).
///
/// The records live in a buffer of 64-bit words, from the first word on a 64-byte boundary: a
/// record of 32 bytes then never straddles two cache lines, and a row's record is one line
/// away (a `Vec` of records starts 16 bytes into a line, and half of them would straddle).
pub(super) struct Direct<T> {
    words: Vec<u64>,
    /// Where slot 0 starts in `words`.
    offset: usize,
    len: usize,
    empty: T,
}

/// Words from a 64-bit word to the next 64-byte boundary, at most.
const ALIGN_WORDS: usize = 8;

impl<T: Pod> Direct<T> {
    /// 64-bit words per record.
    const WORDS: usize = {
        assert!(
            size_of::<T>().is_multiple_of(8) && align_of::<T>() <= 8,
            "records of whole words"
        );
        size_of::<T>() / 8
    };

    fn new(empty: T) -> Self {
        Direct {
            words: Vec::new(),
            offset: 0,
            len: 0,
            empty,
        }
    }

    #[inline(always)]
    pub(super) fn has(&self, slot: u32) -> bool {
        (slot as usize) < self.len
    }

    /// Slots held.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.len
    }

    #[inline(always)]
    fn get(&self, slot: u32) -> &T {
        let start = self.offset + slot as usize * Self::WORDS;
        bytemuck::from_bytes(bytemuck::cast_slice(&self.words[start..start + Self::WORDS]))
    }

    #[inline(always)]
    fn get_mut(&mut self, slot: u32) -> &mut T {
        let start = self.offset + slot as usize * Self::WORDS;
        bytemuck::from_bytes_mut(bytemuck::cast_slice_mut(
            &mut self.words[start..start + Self::WORDS],
        ))
    }

    fn grow(&mut self, len: usize) {
        let words = len * Self::WORDS + ALIGN_WORDS;
        if words > self.words.capacity() {
            let more = words.max(self.words.len() * 3 / 2) - self.words.len();
            self.words.reserve(more);
        }
        self.words.resize(words, 0);
        self.realign();
        let empty = self.empty;
        for slot in self.len..len {
            *self.get_mut(slot as u32) = empty;
        }
        self.len = len;
    }

    /// Moves the records to the first 64-byte boundary of the buffer, after it moved.
    fn realign(&mut self) {
        let offset = (64 - self.words.as_ptr() as usize % 64) % 64 / 8;
        if offset != self.offset {
            let records = self.len * Self::WORDS;
            self.words.copy_within(self.offset..self.offset + records, offset);
            self.offset = offset;
        }
    }

    /// Gives back the records from `slot` on.
    fn truncate(&mut self, slot: u32) {
        if (slot as usize) < self.len {
            self.len = slot as usize;
            self.words.truncate(self.len * Self::WORDS + ALIGN_WORDS);
            self.words.shrink_to_fit();
            self.realign();
        }
    }

    /// The records, slot 0 first.
    pub(super) fn records(&self) -> &[T] {
        bytemuck::cast_slice(&self.words[self.offset..self.offset + self.len * Self::WORDS])
    }
}

/// The id of a tagged slot: an integer, or a text kept in the shard's [`Texts`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TaggedId {
    Int(i64),
    Text { start: usize, len: usize },
}

/// The text ids of a shard, each stored once, one after another in one buffer, and found by
/// a table of their tagged slots (a map of boxed strings would allocate every id twice: on
/// 5M text ids, hundreds of MB).
#[derive(Default)]
pub(super) struct Texts {
    bytes: String,
    /// Tagged slots (`k` of `TAG + k`) of the text ids, by the ids' hashes.
    table: HashTable<u32>,
    hasher: PlRandomState,
}

impl Texts {
    /// The text of a [`TaggedId::Text`].
    pub(super) fn get(&self, start: usize, len: usize) -> &str {
        &self.bytes[start..start + len]
    }

    /// The tagged index (`k` of `TAG + k`) of the text id `id`, whose hash is `hash`, when it
    /// was seen; `tagged_ids` are the shard's.
    fn find(&self, hash: u64, id: &str, tagged_ids: &[TaggedId]) -> Option<u32> {
        self.table
            .find(hash, |k| match tagged_ids[*k as usize] {
                TaggedId::Text { start, len } => self.get(start, len) == id,
                TaggedId::Int(_) => false,
            })
            .copied()
    }

    /// Stores `id`'s text: the tagged id to push (then [`Texts::index`] it).
    fn store(&mut self, id: &str) -> TaggedId {
        let start = self.bytes.len();
        self.bytes.push_str(id);
        TaggedId::Text { start, len: id.len() }
    }

    /// Indexes the tagged index `k`, already stored and pushed to `tagged_ids`, by `hash`.
    fn index(&mut self, hash: u64, k: u32, tagged_ids: &[TaggedId]) {
        let Texts { bytes, table, hasher } = self;
        let rehash = |k: &u32| match tagged_ids[*k as usize] {
            TaggedId::Text { start, len } => hasher.hash_one(&bytes[start..start + len]),
            TaggedId::Int(_) => unreachable!("only text ids are in the table"),
        };
        table.insert_unique(hash, k, rehash);
    }
}

/// One shard's customer ids and records (see the module documentation).
pub(super) struct Slots<T> {
    blocks: Blocks,
    pub(super) direct: Direct<T>,
    pub(super) tagged: Vec<T>,
    /// The id of each tagged slot.
    pub(super) tagged_ids: Vec<TaggedId>,
    ints: PlHashMap<i64, u32>,
    pub(super) texts: Texts,
    /// Customers given a direct slot (tagged ones are `tagged.len()`).
    direct_customers: usize,
    /// Set once the direct vector was refused growth: it never grows after that.
    frozen: bool,
    /// The numbering of the text ids in the direct slots, when they are not integers.
    numbering: Option<Numbering>,
    empty: T,
}

impl<T: Pod> Slots<T> {
    pub(super) fn new(blocks: Blocks, empty: T) -> Self {
        Slots {
            blocks,
            direct: Direct::new(empty),
            tagged: Vec::new(),
            tagged_ids: Vec::new(),
            ints: PlHashMap::default(),
            texts: Texts::default(),
            direct_customers: 0,
            frozen: false,
            numbering: None,
            empty,
        }
    }

    pub(super) fn blocks(&self) -> Blocks {
        self.blocks
    }

    /// Gives the direct slots to the text ids of `numbering` (before any id has a slot).
    pub(super) fn number_texts(&mut self, numbering: Numbering) {
        assert_eq!(self.len(), 0, "a numbering is chosen before the first id");
        self.numbering = Some(numbering);
    }

    /// The numbering of the text ids in the direct slots, if any.
    pub(super) fn numbering(&self) -> Option<Numbering> {
        self.numbering
    }

    /// Customers seen.
    pub(super) fn len(&self) -> usize {
        self.direct_customers + self.tagged.len()
    }

    /// Counts a customer new to its direct slot (the caller tells, from the record).
    #[inline(always)]
    pub(super) fn count_direct(&mut self, new: bool) {
        self.direct_customers += usize::from(new);
    }

    #[inline(always)]
    pub(super) fn get(&self, slot: u32) -> &T {
        match slot < TAG {
            true => self.direct.get(slot),
            false => &self.tagged[(slot - TAG) as usize],
        }
    }

    #[inline(always)]
    pub(super) fn get_mut(&mut self, slot: u32) -> &mut T {
        match slot < TAG {
            true => self.direct.get_mut(slot),
            false => &mut self.tagged[(slot - TAG) as usize],
        }
    }

    /// The slot of an integer id (of this shard), given on first sight.
    #[inline(always)]
    pub(super) fn of_int(&mut self, id: i64) -> u32 {
        self.direct_slot(id).unwrap_or_else(|| self.tagged_int(id))
    }

    /// The direct slot of the number `id`, when it has one.
    #[inline(always)]
    fn direct_slot(&mut self, id: i64) -> Option<u32> {
        if Blocks::addressable(id) {
            let slot = self.blocks.slot(id);
            if self.direct.has(slot) || self.may_allocate(slot) {
                return Some(slot);
            }
        }
        None
    }

    /// The slot of a text id that is the canonical integer `id`: the integer's, unless the
    /// direct slots are a numbering's.
    #[inline(always)]
    pub(super) fn of_canonical(&mut self, id: i64) -> u32 {
        match self.numbering {
            None => self.of_int(id),
            Some(_) => self.tagged_int(id),
        }
    }

    /// The slot of a text id (of this shard): its number's in the numbering, a canonical
    /// integer's, or a tagged one.
    #[inline(always)]
    pub(super) fn of_text(&mut self, id: &str) -> u32 {
        match TextId::of(id, self.numbering) {
            TextId::Numbered(number) => self.direct_slot(number).unwrap_or_else(|| self.tagged_text(id)),
            TextId::Integer(value) => self.of_canonical(value),
            TextId::Other => self.tagged_text(id),
        }
    }

    /// The tagged slot of a text id.
    fn tagged_text(&mut self, id: &str) -> u32 {
        let hash = self.texts.hasher.hash_one(id);
        if let Some(k) = self.texts.find(hash, id, &self.tagged_ids) {
            return TAG + k;
        }
        let stored = self.texts.store(id);
        let slot = self.push_tagged(stored);
        self.texts.index(hash, slot - TAG, &self.tagged_ids);
        slot
    }

    #[cold]
    fn may_allocate(&mut self, slot: u32) -> bool {
        let limit = (FREE_SLOTS >> self.blocks.log2).max(SLOTS_PER_CUSTOMER * self.len());
        if self.frozen || slot as usize >= limit {
            self.frozen = true;
            return false;
        }
        self.direct.grow(slot as usize + 1);
        true
    }

    fn tagged_int(&mut self, id: i64) -> u32 {
        if let Some(slot) = self.ints.get(&id) {
            return *slot;
        }
        let slot = self.push_tagged(TaggedId::Int(id));
        self.ints.insert(id, slot);
        slot
    }

    fn push_tagged(&mut self, id: TaggedId) -> u32 {
        self.tagged.push(self.empty);
        self.tagged_ids.push(id);
        TAG + (self.tagged.len() - 1) as u32
    }

    /// Gives back the direct records from `slot` on, which are read no more (the merge).
    pub(super) fn release_direct_from(&mut self, slot: u32) {
        self.direct.truncate(slot);
    }

    /// Drops the maps from ids to tagged slots (the pass is over).
    pub(super) fn drop_maps(&mut self) {
        self.ints = PlHashMap::default();
        self.texts.table = HashTable::new();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_deal_ids_in_turn_and_map_back() {
        for log2 in 0..3 {
            let blocks = Blocks { log2 };
            let mut per_shard = vec![Vec::new(); 1 << log2];
            for id in (0..5_000i64).chain([i64::from(TAG) - 1]) {
                let (shard, slot) = (blocks.shard(id), blocks.slot(id));
                assert_eq!(blocks.id(shard, slot), id);
                per_shard[shard as usize].push(slot);
            }
            for mut slots in per_shard {
                slots.pop(); // the id 2^31 - 1
                let top = slots.iter().max().copied().unwrap_or(0) as usize;
                assert!(top < slots.len() + 64, "dense slots, log2 {log2}: {top}");
            }
        }
        assert!(!Blocks::addressable(-1) && !Blocks::addressable(i64::from(TAG)));
    }

    #[test]
    fn integer_text_and_sparse_ids_keep_their_slots() {
        let mut slots = Slots::new(Blocks { log2: 0 }, 0u64);
        let samples = [5i64, 0, -3, 1 << 40, 2, i64::MAX, 3_000_000, i64::MIN];
        let given: Vec<u32> = samples.iter().map(|id| slots.of_int(*id)).collect();
        assert_eq!(given[0], 5);
        assert_eq!(given[1], 0);
        assert!(
            given[2] >= TAG && given[3] >= TAG,
            "negative and huge ids are tagged"
        );
        for (id, slot) in samples.iter().zip(&given) {
            assert_eq!(slots.of_int(*id), *slot, "id {id}");
        }
        assert_eq!(slots.of_text("5"), 5, "a canonical integer is the integer");
        let text = slots.of_text("C-5");
        assert!(text >= TAG && slots.of_text("C-5") == text);
        let TaggedId::Text { start, len } = slots.tagged_ids[(text - TAG) as usize] else {
            panic!("a text id");
        };
        assert_eq!(slots.texts.get(start, len), "C-5");
        let other = slots.of_text("C-6");
        assert!(other == text + 1 && slots.of_text("C-5") == text && slots.of_text("C-6") == other);
    }

    #[test]
    fn sparse_ids_stop_the_vector_for_good() {
        let mut slots = Slots::new(Blocks { log2: 0 }, 0u64);
        // Ids 4096 apart: the vector stops once it would hold far more slots than customers.
        let ids: Vec<i64> = (0..3_000i64).map(|i| i * 4096).collect();
        assert!(ids.len() * 4096 > FREE_SLOTS);
        let given: Vec<u32> = ids.iter().map(|id| slots.of_int(*id)).collect();
        assert!(slots.direct.len() <= FREE_SLOTS);
        assert!(
            slots.direct.len() > FREE_SLOTS - 4096,
            "every free slot is used first"
        );
        let direct = given.iter().filter(|s| **s < TAG).count();
        assert!(direct < ids.len() && given[direct..].iter().all(|s| *s >= TAG));
        assert!(slots.frozen);
        for (id, slot) in ids.iter().zip(&given) {
            assert_eq!(slots.of_int(*id), *slot);
        }
    }
}
