//! Distinct orders counted by runs, for logs grouped by customer.
//!
//! A shard's *run* is a sequence of purchase rows of one customer with no other customer's
//! purchase row between them (in the shard's rows, in the order they come). While every
//! customer's purchases form a single run, a customer's distinct orders are the distinct keys
//! of its run: a shard counts them from the run alone, and the order owners (`order_keys.rs`),
//! whose table is a cache miss per order when the rows are not in order-key order, are not
//! touched. A run's keys that ascend (the lines of each order together, orders in time order)
//! are distinct once repeats are skipped; other runs are sorted when they end.
//!
//! A customer may still *come back*: its purchase rows form several runs. A few may (polars
//! hands batches over out of order, which splits the run of a customer at a batch's edge in
//! two): their runs' keys are counted as `(customer, key)` pairs at the end, with the other
//! pairs. More comebacks than [`COMEBACKS_FREE`] and one per [`RUNS_PER_COMEBACK`] runs, and
//! the log is not grouped by customer: the runs *break*. The shard stops at that row, claims
//! every kept key in the owners, run after run, as if it had claimed them row by row, and
//! claims in the owners from then on. Counting by runs until then, or by the owners from the
//! start, gives the same counts: a key is claimed or paired by the same rule either way (its
//! route depends only on the table's extent, which grows the same in both cases).
//!
//! A log in time order or shuffled breaks the runs within its first few hundred thousand rows.
//! A log grouped by customer keeps 12 bytes per distinct order (about the owners' table for
//! dense order ids) and never builds the table.

/// Keys per chunk of kept keys: chunks are not moved as they grow (a `Vec` of all the keys
/// would copy them at each doubling, and hold both copies meanwhile).
const CHUNK: usize = 1 << 20;
/// Comebacks allowed whatever the number of runs (see the module documentation).
const COMEBACKS_FREE: usize = 16;
/// Runs per comeback allowed beyond [`COMEBACKS_FREE`].
const RUNS_PER_COMEBACK: usize = 64;

/// The runs of one shard (see the module documentation).
#[derive(Default)]
pub(super) struct Runs {
    /// The distinct keys of each run, run after run; a run lies within one chunk.
    chunks: Vec<Vec<u64>>,
    /// Each closed run: its customer's slot and its number of distinct keys.
    closed: Vec<(u32, u32)>,
    open: Option<Open>,
    /// Runs of customers that had purchases in another run.
    comebacks: usize,
    /// Set once the comebacks are too many (see the module documentation).
    broken: bool,
}

/// The run being added to.
struct Open {
    slot: u32,
    /// Where its keys start in the last chunk.
    start: usize,
    last: u64,
    /// Whether its keys ascend so far (then they are distinct).
    ascending: bool,
}

impl Runs {
    /// A purchase row of the customer in `slot`, of order `key`; `returning` tells that the
    /// customer had a purchase row before this one. Whether the key was kept (an estimate of
    /// the keys claimed, for the owners' growth), and whether the customer came back.
    #[inline(always)]
    pub(super) fn add(&mut self, slot: u32, key: u64, returning: bool) -> (bool, bool) {
        let came_back = match &mut self.open {
            Some(open) if open.slot == slot => {
                if key == open.last {
                    return (false, false);
                }
                open.ascending &= key > open.last;
                open.last = key;
                false
            }
            _ => {
                self.close();
                if returning {
                    self.comebacks += 1;
                    self.broken |= self.comebacks > COMEBACKS_FREE + self.closed.len() / RUNS_PER_COMEBACK;
                }
                let start = self.room();
                self.open = Some(Open {
                    slot,
                    start,
                    last: key,
                    ascending: true,
                });
                returning
            }
        };
        self.push(key);
        (true, came_back)
    }

    /// Whether the comebacks are too many (see the module documentation).
    pub(super) fn broken(&self) -> bool {
        self.broken
    }

    #[inline(always)]
    fn push(&mut self, key: u64) {
        let chunk = self.chunks.last_mut().expect("a run has a chunk");
        if chunk.len() < chunk.capacity() {
            chunk.push(key);
        } else {
            self.grow();
            self.push(key);
        }
    }

    /// Where a new run starts in the last chunk (a new chunk, when the last is full).
    fn room(&mut self) -> usize {
        match self.chunks.last() {
            Some(chunk) if chunk.len() < chunk.capacity() => chunk.len(),
            _ => {
                self.chunks.push(Vec::with_capacity(CHUNK));
                0
            }
        }
    }

    /// A new chunk for the open run, which moves to it whole.
    #[cold]
    fn grow(&mut self) {
        let open = self.open.as_mut().expect("keys are pushed to an open run");
        let full = self.chunks.last_mut().expect("a run has a chunk");
        let mut chunk = Vec::with_capacity(CHUNK.max(2 * (full.len() - open.start)));
        chunk.extend(full.drain(open.start..));
        open.start = 0;
        self.chunks.push(chunk);
    }

    /// Closes the open run: its keys made distinct, and counted.
    fn close(&mut self) {
        let Some(open) = self.open.take() else {
            return;
        };
        let chunk = self.chunks.last_mut().expect("a run has a chunk");
        if !open.ascending {
            let run = &mut chunk[open.start..];
            run.sort_unstable();
            let mut distinct = 0;
            for i in 0..run.len() {
                if i == 0 || run[i] != run[distinct - 1] {
                    run[distinct] = run[i];
                    distinct += 1;
                }
            }
            chunk.truncate(open.start + distinct);
        }
        let keys = chunk.len() - open.start;
        let keys = u32::try_from(keys).expect("a run has fewer keys than a customer's rows");
        self.closed.push((open.slot, keys));
    }

    /// Every run's slot and distinct keys, run after run, once the runs are over.
    pub(super) fn finish(mut self, mut each: impl FnMut(u32, &[u64])) {
        self.close();
        let mut runs = self.closed.into_iter();
        for chunk in &self.chunks {
            let mut at = 0;
            while at < chunk.len() {
                let (slot, keys) = runs.next().expect("every kept key belongs to a run");
                each(slot, &chunk[at..at + keys as usize]);
                at += keys as usize;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runs_of(rows: &[(u32, u64)]) -> (Vec<(u32, Vec<u64>)>, bool) {
        let mut runs = Runs::default();
        let mut seen = std::collections::HashSet::new();
        for (slot, key) in rows {
            runs.add(*slot, *key, !seen.insert(*slot));
        }
        let broken = runs.broken();
        let mut out = Vec::new();
        runs.finish(|slot, keys| out.push((slot, keys.to_vec())));
        (out, broken)
    }

    #[test]
    fn runs_keep_each_customers_distinct_keys() {
        let rows = [
            (3, 10),
            (3, 10),
            (3, 12),
            (3, 11),
            (3, 12),
            (5, 1),
            (5, 1),
            (7, 4),
        ];
        let (runs, broken) = runs_of(&rows);
        assert_eq!(runs, vec![(3, vec![10, 11, 12]), (5, vec![1]), (7, vec![4])]);
        assert!(!broken);
        let (runs, broken) = runs_of(&[(3, 10), (5, 1), (3, 10)]);
        assert_eq!(runs, vec![(3, vec![10]), (5, vec![1]), (3, vec![10])]);
        assert!(!broken, "customer 3 came back, once");
    }

    #[test]
    fn many_comebacks_break_the_runs() {
        let mut runs = Runs::default();
        let mut comebacks = 0;
        for i in 0..(COMEBACKS_FREE as u32 + 2) * 2 {
            let (_, came_back) = runs.add(i % 2, u64::from(i), i >= 2);
            comebacks += usize::from(came_back);
            assert_eq!(runs.broken(), comebacks > COMEBACKS_FREE, "row {i}");
        }
        assert!(runs.broken());
    }

    #[test]
    fn a_run_moves_whole_to_a_new_chunk() {
        let mut rows: Vec<(u32, u64)> = (0..CHUNK as u64 - 2).map(|k| (1, k)).collect();
        // The second run starts two keys before the chunk's end and goes on past it, keys
        // descending (sorted when it ends).
        rows.extend((0..5).rev().map(|k| (2, k)));
        rows.push((4, 9));
        let (runs, broken) = runs_of(&rows);
        assert!(!broken);
        assert_eq!(runs.len(), 3);
        assert_eq!(runs[0].1.len(), CHUNK - 2);
        assert_eq!(runs[1], (2, vec![0, 1, 2, 3, 4]));
        assert_eq!(runs[2], (4, vec![9]));
    }
}
