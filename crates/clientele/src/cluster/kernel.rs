//! The inner loops of k-means: nearest centroids and k-means++ potentials over one chunk of
//! customers, written so that the compiler vectorises them on any x86-64 (SSE2) without
//! `unsafe`.
//!
//! The data is column-major ([`Columns`]): feature `f` of customers `i..i + LANES` is one
//! contiguous load, so each step of the loop works on [`LANES`] customers at once, one per vector
//! lane. For a block of customers every centroid's squared distance is computed
//! (`((0 + t₀²) + t₁²) + …`, the same order as a scalar loop over the features) and the running
//! minimum and its centroid number are kept by compare-and-select, with no branch: brute force,
//! but a few nanoseconds per customer per pass for the 3 features and 8 clusters of a customer
//! table, faster than bounds that skip distances (their per-customer branches mispredict on RFM
//! data, where clusters touch). The number of features (1 to 4) and of centroids (rounded up to
//! 4, 8, 12 or 16, the extra ones at infinity) are compile-time constants, so the loops unroll
//! and the selection stays branch-free (with a loop bound known only at run time the compiler
//! turns it into branches); other shapes take a plain loop with the same arithmetic and the
//! same labels.
//!
//! Ties go to the lower centroid number (a centroid replaces the best so far only when strictly
//! nearer), so the labels are those of a scalar loop over the centroids in order.

// Index loops over the fixed-size lanes, features and centroids are what the vectoriser reads
// best; iterator chains over three nested arrays hide the shapes.
#![allow(clippy::needless_range_loop)]

/// Customers per block (one per vector lane).
pub(crate) const LANES: usize = 2;

/// A column-major matrix: `d` columns of `n` values, one after another.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Columns<'a> {
    data: &'a [f64],
    n: usize,
    d: usize,
}

impl<'a> Columns<'a> {
    /// `data` holds `d` columns of equal length, one after another.
    pub(crate) fn new(data: &'a [f64], d: usize) -> Self {
        assert!(
            d > 0 && data.len().is_multiple_of(d),
            "{} values are not {d} columns",
            data.len()
        );
        Columns {
            data,
            n: data.len() / d,
            d,
        }
    }

    /// Rows (customers).
    pub(crate) fn n(&self) -> usize {
        self.n
    }

    /// Columns (features).
    pub(crate) fn d(&self) -> usize {
        self.d
    }

    /// Column `f`, rows `range`.
    fn column(&self, f: usize, range: std::ops::Range<usize>) -> &'a [f64] {
        &self.data[f * self.n..(f + 1) * self.n][range]
    }

    /// Row `i` as a vector of `d` values.
    pub(crate) fn row(&self, i: usize) -> Vec<f64> {
        (0..self.d).map(|f| self.data[f * self.n + i]).collect()
    }
}

/// What an assignment pass over one chunk found: per-cluster sums (`k × d`, row-major) and
/// counts of its customers (after a [`Pass::Full`]) or their changes (after a [`Pass::Moves`]),
/// how many customers changed cluster, and their total squared distance to their centroid.
#[derive(Debug, Clone)]
pub(crate) struct ChunkSums {
    pub sums: Vec<f64>,
    pub counts: Vec<i64>,
    pub changed: u64,
    pub inertia: f64,
}

impl ChunkSums {
    /// Zero sums for `k` clusters of `d` features.
    pub(crate) fn zero(k: usize, d: usize) -> Self {
        ChunkSums {
            sums: vec![0.0; k * d],
            counts: vec![0; k],
            changed: 0,
            inertia: 0.0,
        }
    }

    /// Adds another chunk's sums (callers add chunks in chunk order, so the totals do not depend
    /// on how the chunks were scheduled).
    pub(crate) fn add(&mut self, other: &ChunkSums) {
        for (s, o) in self.sums.iter_mut().zip(&other.sums) {
            *s += o;
        }
        for (c, o) in self.counts.iter_mut().zip(&other.counts) {
            *c += o;
        }
        self.changed += other.changed;
        self.inertia += other.inertia;
    }
}

/// What an assignment pass sums.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pass {
    /// Every customer's row, into its new cluster (the labels before the pass are ignored).
    Full,
    /// Only the customers that changed cluster: their row out of the old cluster and into the
    /// new one. Added to the previous pass's totals, this gives the new totals without reading
    /// the sums of the customers that stayed, which late in a run is nearly all of them: a
    /// rarely taken branch instead of a store-to-load chain per customer.
    Moves,
}

/// Assigns rows `start..start + labels.len()` of `data` to their nearest centroid
/// (`centroids`: `k × d`, row-major), writing `labels` and returning the chunk's sums.
pub(crate) fn assign_chunk(
    data: Columns<'_>,
    start: usize,
    labels: &mut [u32],
    centroids: &[f64],
    pass: Pass,
) -> ChunkSums {
    let range = start..start + labels.len();
    let k = centroids.len() / data.d();
    macro_rules! fixed {
        ($(($d:literal, $k:literal)),*) => {
            match (data.d(), k.next_multiple_of(4)) {
                $(($d, $k) => assign_fixed::<$d, $k>(
                    std::array::from_fn(|f| data.column(f, range.clone())),
                    labels,
                    centroids,
                    pass,
                ),)*
                _ => assign_dyn(data, range, labels, centroids, pass),
            }
        };
    }
    fixed!(
        (1, 4),
        (1, 8),
        (1, 12),
        (1, 16),
        (2, 4),
        (2, 8),
        (2, 12),
        (2, 16),
        (3, 4),
        (3, 8),
        (3, 12),
        (3, 16),
        (4, 4),
        (4, 8),
        (4, 12),
        (4, 16)
    )
}

/// `K` centroids (padded with centroids at infinity, never nearest) repeated across the lanes,
/// with their numbers: the loop loads them, never shuffles them.
struct Splat<const D: usize, const K: usize> {
    coords: [[[f64; LANES]; D]; K],
    // 64-bit, as wide as the distances, so that one comparison mask selects both.
    labels: [[u64; LANES]; K],
}

impl<const D: usize, const K: usize> Splat<D, K> {
    fn new(centroids: &[f64]) -> Self {
        let k = centroids.len() / D;
        Splat {
            coords: std::array::from_fn(|j| {
                std::array::from_fn(|f| {
                    [if j < k {
                        centroids[j * D + f]
                    } else {
                        f64::INFINITY
                    }; LANES]
                })
            }),
            labels: std::array::from_fn(|j| [j as u64; LANES]),
        }
    }

    /// The nearest centroid of each lane of a block and its squared distance. The loop over
    /// the centroids is unrolled (`K` is a constant), which keeps the selection branch-free.
    #[inline(always)]
    fn nearest(&self, x: &[[f64; LANES]; D]) -> ([u64; LANES], [f64; LANES]) {
        let mut best = [f64::INFINITY; LANES];
        let mut label = [0u64; LANES];
        for j in 0..K {
            let mut dist = [0.0f64; LANES];
            for f in 0..D {
                for l in 0..LANES {
                    let t = x[f][l] - self.coords[j][f][l];
                    dist[l] += t * t;
                }
            }
            for l in 0..LANES {
                let nearer = dist[l] < best[l];
                best[l] = if nearer { dist[l] } else { best[l] };
                label[l] = if nearer { self.labels[j][l] } else { label[l] };
            }
        }
        (label, best)
    }
}

/// Block `i` (rows `i·LANES..(i + 1)·LANES`) of the chunk's columns.
#[inline(always)]
fn full_block<const D: usize>(columns: &[&[f64]; D], i: usize) -> [[f64; LANES]; D] {
    std::array::from_fn(|f| {
        columns[f][i * LANES..(i + 1) * LANES]
            .try_into()
            .expect("a full block")
    })
}

/// The last, partial block starting at row `i·LANES`: `valid` rows, the last one repeated.
fn padded_block<const D: usize>(columns: &[&[f64]; D], i: usize, valid: usize) -> [[f64; LANES]; D] {
    std::array::from_fn(|f| std::array::from_fn(|l| columns[f][i * LANES + l.min(valid - 1)]))
}

/// Per-cluster sums of one chunk, one set per lane so that consecutive customers of one cluster
/// do not wait on each other's additions; the sets are added at the end, in lane order.
struct Accumulator<const D: usize, const K: usize> {
    sums: [[[f64; D]; LANES]; K],
    counts: [[i64; LANES]; K],
    changed: u64,
    inertia: [f64; LANES],
}

impl<const D: usize, const K: usize> Accumulator<D, K> {
    fn new() -> Self {
        Accumulator {
            sums: [[[0.0; D]; LANES]; K],
            counts: [[0; LANES]; K],
            changed: 0,
            inertia: [0.0; LANES],
        }
    }

    /// Labels the block's customers (`out`, at most [`LANES`]) and adds them to their clusters
    /// (all of them, or with `MOVES` only those that changed cluster, also taken out of the old
    /// one).
    #[inline(always)]
    fn add_block<const MOVES: bool>(
        &mut self,
        x: &[[f64; LANES]; D],
        centroids: &Splat<D, K>,
        out: &mut [u32],
    ) {
        let (label, dist) = centroids.nearest(x);
        for (l, out) in out.iter_mut().enumerate() {
            let j = label[l] as usize % K;
            let old = *out as usize;
            *out = j as u32;
            self.inertia[l] += dist[l];
            if !MOVES {
                self.changed += u64::from(old != j);
                self.add(j, x, l, 1.0);
            } else if old != j {
                self.changed += 1;
                self.add(j, x, l, 1.0);
                self.add(old % K, x, l, -1.0);
            }
        }
    }

    #[inline(always)]
    fn add(&mut self, j: usize, x: &[[f64; LANES]; D], l: usize, sign: f64) {
        for f in 0..D {
            self.sums[j][l][f] += sign * x[f][l];
        }
        self.counts[j][l] += sign as i64;
    }

    fn finish(self, k: usize) -> ChunkSums {
        let mut total = ChunkSums::zero(k, D);
        for j in 0..k {
            for l in 0..LANES {
                for f in 0..D {
                    total.sums[j * D + f] += self.sums[j][l][f];
                }
                total.counts[j] += self.counts[j][l];
            }
        }
        total.changed = self.changed;
        total.inertia = self.inertia.iter().sum();
        total
    }
}

fn assign_fixed<const D: usize, const K: usize>(
    columns: [&[f64]; D],
    labels: &mut [u32],
    centroids: &[f64],
    pass: Pass,
) -> ChunkSums {
    match pass {
        Pass::Full => assign_blocks::<D, K, false>(columns, labels, centroids),
        Pass::Moves => assign_blocks::<D, K, true>(columns, labels, centroids),
    }
}

#[inline(never)]
fn assign_blocks<const D: usize, const K: usize, const MOVES: bool>(
    columns: [&[f64]; D],
    labels: &mut [u32],
    centroids: &[f64],
) -> ChunkSums {
    let splat = Splat::<D, K>::new(centroids);
    let mut acc = Accumulator::<D, K>::new();
    let (body, tail) = labels.split_at_mut(labels.len() / LANES * LANES);
    let full = body.len() / LANES;
    for (i, out) in body.chunks_exact_mut(LANES).enumerate() {
        acc.add_block::<MOVES>(&full_block(&columns, i), &splat, out);
    }
    if !tail.is_empty() {
        acc.add_block::<MOVES>(&padded_block(&columns, full, tail.len()), &splat, tail);
    }
    acc.finish(centroids.len() / D)
}

/// Squared distance between two rows, features in order.
#[inline(always)]
pub(crate) fn sq_dist(a: &[f64], b: &[f64]) -> f64 {
    let mut s = 0.0;
    for (x, y) in a.iter().zip(b) {
        let t = x - y;
        s += t * t;
    }
    s
}

fn assign_dyn(
    data: Columns<'_>,
    range: std::ops::Range<usize>,
    labels: &mut [u32],
    centroids: &[f64],
    pass: Pass,
) -> ChunkSums {
    let d = data.d();
    let mut total = ChunkSums::zero(centroids.len() / d, d);
    let add = |total: &mut ChunkSums, j: u32, x: &[f64], sign: f64| {
        for (s, v) in total.sums[j as usize * d..].iter_mut().zip(x) {
            *s += sign * v;
        }
        total.counts[j as usize] += sign as i64;
    };
    let mut inertia = [0.0f64; LANES];
    for (offset, (i, out)) in range.zip(labels.iter_mut()).enumerate() {
        let x = data.row(i);
        let (mut label, mut best) = (0u32, f64::INFINITY);
        for (j, c) in centroids.chunks_exact(d).enumerate() {
            let dist = sq_dist(&x, c);
            if dist < best {
                (label, best) = (j as u32, dist);
            }
        }
        let old = *out;
        *out = label;
        inertia[offset % LANES] += best;
        total.changed += u64::from(old != label);
        if pass == Pass::Full {
            add(&mut total, label, &x, 1.0);
        } else if old != label {
            add(&mut total, label, &x, 1.0);
            add(&mut total, old, &x, -1.0);
        }
    }
    total.inertia = inertia.iter().sum();
    total
}

/// Candidates evaluated together in one pass of [`potentials_chunk`].
const GROUP: usize = 4;

/// k-means++ potentials over rows `start..start + closest.len()`: for each candidate (`t × d`,
/// row-major), `Σ min(closest, squared distance to the candidate)`. Up to [`GROUP`] candidates
/// share one pass over the rows.
pub(crate) fn potentials_chunk(
    data: Columns<'_>,
    start: usize,
    closest: &[f64],
    candidates: &[f64],
) -> Vec<f64> {
    let d = data.d();
    let range = start..start + closest.len();
    let mut potentials = Vec::with_capacity(candidates.len() / d);
    for group in candidates.chunks(GROUP * d) {
        let t = group.len() / d;
        // A short group repeats its last candidate; the repeats' sums are dropped.
        let padded: Vec<f64> = (0..GROUP)
            .flat_map(|i| group[i.min(t - 1) * d..(i.min(t - 1) + 1) * d].iter().copied())
            .collect();
        macro_rules! fixed {
            ($($d:literal)*) => {
                match d {
                    $($d => potentials_fixed::<$d>(
                        std::array::from_fn(|f| data.column(f, range.clone())),
                        closest,
                        &padded,
                    ),)*
                    _ => std::array::from_fn(|i| {
                        let candidate = &padded[i * d..(i + 1) * d];
                        let mut sums = [0.0f64; LANES];
                        for_each_distance(data, range.clone(), candidate, |o, dist| {
                            let m = closest[o];
                            sums[o % LANES] += if dist < m { dist } else { m };
                        });
                        sums.iter().sum()
                    }),
                }
            };
        }
        let sums: [f64; GROUP] = fixed!(1 2 3 4);
        potentials.extend_from_slice(&sums[..t]);
    }
    potentials
}

#[inline(never)]
fn potentials_fixed<const D: usize>(
    columns: [&[f64]; D],
    closest: &[f64],
    candidates: &[f64],
) -> [f64; GROUP] {
    let candidates: [[[f64; LANES]; D]; GROUP] =
        std::array::from_fn(|t| std::array::from_fn(|f| [candidates[t * D + f]; LANES]));
    let mut sums = [[0.0f64; LANES]; GROUP];
    let n = closest.len();
    for i in 0..n.div_ceil(LANES) {
        let valid = (n - i * LANES).min(LANES);
        let (x, near): (_, [f64; LANES]) = if valid == LANES {
            (
                full_block(&columns, i),
                closest[i * LANES..(i + 1) * LANES]
                    .try_into()
                    .expect("a full block"),
            )
        } else {
            // Lanes past the end see a closest distance of 0, so they add exactly 0.
            (
                padded_block(&columns, i, valid),
                std::array::from_fn(|l| if l < valid { closest[i * LANES + l] } else { 0.0 }),
            )
        };
        for t in 0..GROUP {
            let mut dist = [0.0f64; LANES];
            for f in 0..D {
                for l in 0..LANES {
                    let u = x[f][l] - candidates[t][f][l];
                    dist[l] += u * u;
                }
            }
            for l in 0..LANES {
                sums[t][l] += if dist[l] < near[l] { dist[l] } else { near[l] };
            }
        }
    }
    std::array::from_fn(|t| sums[t].iter().sum())
}

/// Lowers `closest` (rows `start..start + closest.len()`) to the squared distance to `chosen`
/// where that is smaller; returns the chunk's new sum.
pub(crate) fn lower_closest_chunk(
    data: Columns<'_>,
    start: usize,
    closest: &mut [f64],
    chosen: &[f64],
) -> f64 {
    let range = start..start + closest.len();
    let mut sums = [0.0f64; LANES];
    for_each_distance(data, range, chosen, |i, dist| {
        let m = &mut closest[i];
        *m = if dist < *m { dist } else { *m };
        sums[i % LANES] += *m;
    });
    sums.iter().sum()
}

/// Calls `visit(offset in the range, squared distance to point)` for every row of `range`, in
/// order.
#[inline(always)]
fn for_each_distance(
    data: Columns<'_>,
    range: std::ops::Range<usize>,
    point: &[f64],
    visit: impl FnMut(usize, f64),
) {
    macro_rules! fixed {
        ($($d:literal)*) => {
            match data.d() {
                $($d => distances_fixed::<$d>(
                    std::array::from_fn(|f| data.column(f, range.clone())),
                    point.try_into().expect("a point of d features"),
                    visit,
                ),)*
                _ => {
                    let mut visit = visit;
                    for (offset, i) in range.enumerate() {
                        visit(offset, sq_dist(&data.row(i), point));
                    }
                }
            }
        };
    }
    fixed!(1 2 3 4)
}

#[inline(always)]
fn distances_fixed<const D: usize>(
    columns: [&[f64]; D],
    point: &[f64; D],
    mut visit: impl FnMut(usize, f64),
) {
    let n = columns[0].len();
    for i in 0..n.div_ceil(LANES) {
        let valid = (n - i * LANES).min(LANES);
        let x = if valid == LANES {
            full_block(&columns, i)
        } else {
            padded_block(&columns, i, valid)
        };
        let mut dist = [0.0f64; LANES];
        for f in 0..D {
            for l in 0..LANES {
                let t = x[f][l] - point[f];
                dist[l] += t * t;
            }
        }
        for (l, dist) in dist.iter().enumerate().take(valid) {
            visit(i * LANES + l, *dist);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn columns_of(rows: &[Vec<f64>]) -> Vec<f64> {
        let d = rows[0].len();
        (0..d).flat_map(|f| rows.iter().map(move |r| r[f])).collect()
    }

    fn rows(n: usize, d: usize) -> Vec<Vec<f64>> {
        (0..n)
            .map(|i| {
                (0..d)
                    .map(|f| ((i * 7 + f * 13) % 11) as f64 * 0.5 - (f as f64))
                    .collect()
            })
            .collect()
    }

    #[test]
    fn every_width_finds_the_first_nearest_centroid() {
        for d in [1, 2, 3, 5, 8, 9] {
            let rows = rows(37, d);
            let data = columns_of(&rows);
            let cols = Columns::new(&data, d);
            // Centroids 0 and 2 are equal: ties must go to 0.
            let centroids: Vec<f64> = [&rows[3], &rows[5], &rows[3], &rows[20]]
                .iter()
                .flat_map(|r| r.iter().copied())
                .collect();
            let mut labels = vec![9u32; 37];
            let sums = assign_chunk(cols, 0, &mut labels, &centroids, Pass::Full);
            let mut inertia = 0.0;
            for (i, row) in rows.iter().enumerate() {
                let dists: Vec<f64> = centroids.chunks(d).map(|c| sq_dist(row, c)).collect();
                let min = dists.iter().copied().fold(f64::INFINITY, f64::min);
                assert_eq!(
                    labels[i] as usize,
                    dists.iter().position(|x| *x == min).unwrap(),
                    "d = {d}, row {i}"
                );
                inertia += min;
            }
            assert!((sums.inertia - inertia).abs() < 1e-9, "d = {d}");
            assert_eq!(sums.counts.iter().sum::<i64>(), 37);
            assert_eq!(sums.counts[2], 0);
            assert_eq!(sums.changed, 37);
            let again = assign_chunk(cols, 0, &mut labels, &centroids, Pass::Moves);
            assert_eq!(again.changed, 0);
            assert!(again.sums.iter().all(|s| *s == 0.0) && again.counts.iter().all(|c| *c == 0));
            // Moving every customer to centroid 3 moves exactly the sums of the others.
            let far: Vec<f64> = centroids
                .iter()
                .enumerate()
                .map(|(i, c)| if i / d == 3 { *c } else { 1e9 })
                .collect();
            let moved = assign_chunk(cols, 0, &mut labels, &far, Pass::Moves);
            let full = assign_chunk(cols, 0, &mut [0; 37], &far, Pass::Full);
            assert_eq!(moved.counts[3], 37 - sums.counts[3]);
            for f in 0..d {
                let delta = full.sums[3 * d + f] - sums.sums[3 * d + f];
                assert!((moved.sums[3 * d + f] - delta).abs() < 1e-9, "d = {d}");
            }
        }
    }

    #[test]
    fn potentials_take_the_smaller_distance() {
        for d in [2, 9] {
            let rows = rows(11, d);
            let data = columns_of(&rows);
            let cols = Columns::new(&data, d);
            let mut closest = vec![f64::INFINITY; 11];
            let total = lower_closest_chunk(cols, 0, &mut closest, &rows[0]);
            let expect: Vec<f64> = rows.iter().map(|r| sq_dist(r, &rows[0])).collect();
            assert_eq!(closest, expect);
            assert!((total - expect.iter().sum::<f64>()).abs() < 1e-12);
            let candidates: Vec<f64> = rows[4].iter().chain(&rows[0]).copied().collect();
            let pot = potentials_chunk(cols, 0, &closest, &candidates);
            let by_hand: f64 = rows
                .iter()
                .zip(&closest)
                .map(|(r, m)| sq_dist(r, &rows[4]).min(*m))
                .sum();
            assert!((pot[0] - by_hand).abs() < 1e-12);
            assert!((pot[1] - total).abs() < 1e-12);
        }
    }
}
