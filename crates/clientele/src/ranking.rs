//! Places in a total order without sorting: scores and ABC classes only need to know, for each
//! customer, which of a few cut places its place reaches, and a selection finds the element at
//! each cut in linear time, where a full sort of millions of customers took seconds.
//!
//! Rows are ordered by `(key, tie)` ascending, where `key` is an order-preserving `u64` of the
//! value ([`ascending_key`], [`descending_key`]) and `tie` breaks equal keys (the row's
//! position in customer-id order). The order is total, so "place" is exact.

use rayon::prelude::*;

/// An order-preserving key of a float: `a.total_cmp(b)` equals the comparison of the keys.
#[inline]
pub(crate) fn ascending_key(value: f64) -> u64 {
    let bits = value.to_bits();
    if bits >> 63 == 1 { !bits } else { bits | (1 << 63) }
}

/// A key ordering floats from the largest down.
#[inline]
pub(crate) fn descending_key(value: f64) -> u64 {
    !ascending_key(value)
}

/// For each of `n` rows, how many of `places` (0-based, ascending) its place in the
/// `(key(row), tie)` order reaches: `#{k : place(row) ≥ places[k]}`. `ties` gives each row's
/// tie-breaker; `None` breaks ties by row index. Places at or beyond `n` are never reached.
/// Keys are computed on the fly: only one copy of them is held, for the selection.
pub(crate) fn places_reached(
    n: usize,
    key: impl Fn(usize) -> u64 + Sync,
    ties: Option<&[u32]>,
    places: &[usize],
) -> Vec<u8> {
    debug_assert!(places.windows(2).all(|w| w[0] <= w[1]), "places ascend");
    let places: Vec<usize> = places.iter().copied().filter(|place| *place < n).collect();
    // The key at each place, by selection.
    let cut_keys: Vec<u64> = {
        let mut scratch: Vec<u64> = (0..n).into_par_iter().map(&key).collect();
        let mut from = 0;
        places
            .iter()
            .map(|place| {
                // Everything before `from` is ≤ everything after: select within the rest.
                scratch[from..].select_nth_unstable(place - from);
                from = *place;
                scratch[*place]
            })
            .collect()
    };
    // Per range of rows and cut: rows with a smaller key, rows with the same key.
    let counts: Vec<Vec<(usize, usize)>> = (0..n.div_ceil(RANGE))
        .into_par_iter()
        .map(|r| {
            let mut counts = vec![(0usize, 0usize); cut_keys.len()];
            for row in r * RANGE..((r + 1) * RANGE).min(n) {
                let own = key(row);
                for (count, cut) in counts.iter_mut().zip(&cut_keys) {
                    count.0 += usize::from(own < *cut);
                    count.1 += usize::from(own == *cut);
                }
            }
            counts
        })
        .collect();
    let cuts: Vec<(u64, u32)> = cut_keys
        .iter()
        .zip(&places)
        .enumerate()
        .map(|(c, (cut, place))| {
            let below: usize = counts.iter().map(|range| range[c].0).sum();
            // The place among rows with this key, in tie order.
            let among = place - below;
            let cut_tie = match ties {
                None => nth_with_key(&key, *cut, among, &counts, c, n),
                Some(ties) => {
                    let mut tied: Vec<u32> = (0..n)
                        .filter(|row| key(*row) == *cut)
                        .map(|row| ties[row])
                        .collect();
                    *tied.select_nth_unstable(among).1
                }
            };
            (*cut, cut_tie)
        })
        .collect();
    (0..n)
        .into_par_iter()
        .map(|row| {
            let own = (key(row), ties.map_or(row as u32, |t| t[row]));
            cuts.iter().filter(|cut| own >= **cut).count() as u8
        })
        .collect()
}

/// [`places_reached`] of whole numbers in ascending order, ties by row index, when they span
/// fewer than [`SMALL_SPAN`] values (recency in days, frequencies): the rows with each value are
/// counted, which places the cuts, and one more pass reads each row's place. No keys are copied
/// and nothing is selected. `None` when the values span more, or lie beyond ±2⁵³ (where
/// [`ascending_key`] of their `f64` would tie distinct values).
pub(crate) fn places_reached_in_span(values: &[i64], places: &[usize]) -> Option<Vec<u8>> {
    const EXACT: i64 = 1 << 53;
    let n = values.len();
    let (min, max) = values
        .par_iter()
        .fold(|| (i64::MAX, i64::MIN), |(lo, hi), v| (lo.min(*v), hi.max(*v)))
        .reduce(|| (i64::MAX, i64::MIN), |a, b| (a.0.min(b.0), a.1.max(b.1)));
    if n == 0 || min < -EXACT || max > EXACT || (max - min) as u64 >= SMALL_SPAN as u64 {
        return None;
    }
    let span = (max - min) as usize + 1;
    let counts: Vec<Vec<u32>> = values
        .par_chunks(SPAN_RANGE)
        .map(|range| {
            let mut counts = vec![0u32; span];
            for v in range {
                counts[(v - min) as usize] += 1;
            }
            counts
        })
        .collect();
    let mut below = vec![0usize; span];
    let mut running = 0;
    for (value, below) in below.iter_mut().enumerate() {
        *below = running;
        running += counts.iter().map(|range| range[value] as usize).sum::<usize>();
    }
    // Each cut as (value, row): the value whose rows hold the place, and the row among them.
    let cut_at = |place: usize| -> (usize, usize) {
        let value = below.partition_point(|b| *b <= place) - 1;
        let mut among = place - below[value];
        for (r, range) in counts.iter().enumerate() {
            let here = range[value] as usize;
            if among < here {
                let start = r * SPAN_RANGE;
                let rows = &values[start..(start + SPAN_RANGE).min(n)];
                let at = rows
                    .iter()
                    .enumerate()
                    .filter(|(_, v)| (**v - min) as usize == value);
                return (value, start + at.map(|(row, _)| row).nth(among).expect("counted"));
            }
            among -= here;
        }
        unreachable!("the value's rows hold the place")
    };
    let cuts: Vec<(usize, usize)> = places.iter().filter(|p| **p < n).map(|p| cut_at(*p)).collect();
    Some(
        values
            .par_iter()
            .enumerate()
            .map(|(row, v)| {
                let own = ((v - min) as usize, row);
                cuts.iter().filter(|cut| own >= **cut).count() as u8
            })
            .collect(),
    )
}

/// Values spanned at most by [`places_reached_in_span`].
const SMALL_SPAN: usize = 1 << 16;
/// Rows counted together in [`places_reached_in_span`].
const SPAN_RANGE: usize = 1 << 18;

/// Rows counted together in [`places_reached`].
const RANGE: usize = 1 << 16;

/// The row of the `nth` (0-based) row with key `cut`, in row order, found through the rows
/// with that key in each range (`counts[range][c].1`).
fn nth_with_key(
    key: &impl Fn(usize) -> u64,
    cut: u64,
    nth: usize,
    counts: &[Vec<(usize, usize)>],
    c: usize,
    n: usize,
) -> u32 {
    let mut before = 0;
    for (r, range) in counts.iter().enumerate() {
        if before + range[c].1 > nth {
            let mut seen = before;
            for row in r * RANGE..((r + 1) * RANGE).min(n) {
                if key(row) == cut {
                    if seen == nth {
                        return row as u32;
                    }
                    seen += 1;
                }
            }
        }
        before += range[c].1;
    }
    unreachable!("the cut's key is held by more rows than its place among them")
}

/// Row indices in `(key, tie)` order (a full sort, for when every place matters).
pub(crate) fn order_by(keys: &[u64], ties: Option<&[u32]>) -> Vec<usize> {
    let mut packed: Vec<(u64, u32, u32)> = keys
        .iter()
        .enumerate()
        .map(|(row, key)| (*key, ties.map_or(row as u32, |t| t[row]), row as u32))
        .collect();
    packed.par_sort_unstable();
    packed.into_iter().map(|(_, _, row)| row as usize).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn keys_order_floats_like_total_cmp() {
        let values = [f64::NEG_INFINITY, -3.5, -0.0, 0.0, 1e-300, 2.0, f64::INFINITY];
        for w in values.windows(2) {
            assert!(ascending_key(w[0]) < ascending_key(w[1]), "{w:?}");
            assert!(descending_key(w[0]) > descending_key(w[1]), "{w:?}");
        }
    }

    /// The places by a full sort, for comparison.
    fn reached_by_sort(keys: &[u64], ties: Option<&[u32]>, places: &[usize]) -> Vec<u8> {
        let mut reached = vec![0u8; keys.len()];
        for (place, row) in order_by(keys, ties).into_iter().enumerate() {
            reached[row] = places.iter().filter(|p| place >= **p).count() as u8;
        }
        reached
    }

    #[test]
    fn ties_spread_over_many_ranges_agree_with_a_full_sort() {
        // Few keys over several ranges of rows: every cut falls among thousands of ties.
        let n = 3 * RANGE + 12_345;
        let keys: Vec<u64> = (0..n as u64).map(|i| (i * 2_654_435_761) % 7).collect();
        let places = [0, 1, RANGE - 1, RANGE, n / 3, n / 2, n - 1, n];
        let ties: Vec<u32> = (0..n as u32).rev().collect();
        for ties in [None, Some(ties.as_slice())] {
            assert_eq!(
                places_reached(n, |row| keys[row], ties, &places),
                reached_by_sort(&keys, ties, &places)
            );
        }
    }

    /// [`places_reached`] of whole numbers as `f64` keys, as scores rank them.
    fn reached_as_floats(values: &[i64], places: &[usize]) -> Vec<u8> {
        places_reached(
            values.len(),
            |row| ascending_key(values[row] as f64),
            None,
            places,
        )
    }

    #[test]
    fn counting_a_span_agrees_with_selection_over_several_ranges() {
        // Few values over several ranges of rows: every cut falls among thousands of ties.
        let n = 3 * SPAN_RANGE + 12_345;
        let values: Vec<i64> = (0..n as i64).map(|i| (i * 2_654_435_761) % 7 - 3).collect();
        let places = [0, 1, SPAN_RANGE - 1, SPAN_RANGE, n / 3, n / 2, n - 1, n];
        let counted = places_reached_in_span(&values, &places).expect("a span of 7");
        assert_eq!(counted, reached_as_floats(&values, &places));
    }

    #[test]
    fn wide_or_inexact_spans_are_left_to_selection() {
        let wide = [0, SMALL_SPAN as i64];
        assert!(places_reached_in_span(&wide, &[1]).is_none());
        assert!(places_reached_in_span(&[0, SMALL_SPAN as i64 - 1], &[1]).is_some());
        assert!(places_reached_in_span(&[(1 << 53) + 1, (1 << 53) + 2], &[1]).is_none());
        assert!(places_reached_in_span(&[], &[0]).is_none());
    }

    proptest! {
        #[test]
        fn counting_a_span_agrees_with_selection(
            values in prop::collection::vec(-4i64..6, 1..300),
            raw_places in prop::collection::vec(0usize..320, 0..6),
        ) {
            let mut places = raw_places;
            places.sort_unstable();
            let counted = places_reached_in_span(&values, &places).expect("a span of 10");
            prop_assert_eq!(counted, reached_as_floats(&values, &places));
        }

        #[test]
        fn selection_agrees_with_a_full_sort(
            values in prop::collection::vec(0u64..6, 1..300),
            raw_places in prop::collection::vec(0usize..320, 0..6),
            shuffle_ties in any::<bool>(),
        ) {
            let mut places = raw_places;
            places.sort_unstable();
            let n = values.len() as u32;
            // A tie order that is a permutation of the rows (customer-id positions).
            let ties: Vec<u32> = (0..n).map(|i| (i * 7919) % n).collect();
            let distinct = {
                let mut t = ties.clone();
                t.sort_unstable();
                t.dedup();
                t.len() == n as usize
            };
            let ties = (shuffle_ties && distinct).then_some(ties.as_slice());
            prop_assert_eq!(
                places_reached(values.len(), |row| values[row], ties, &places),
                reached_by_sort(&values, ties, &places)
            );
        }
    }
}
