//! clientele's own k-means iterations: Lloyd's algorithm with Hamerly's bounds.
//!
//! Each run starts from greedy k-means++ seeds ([`super::seeding`]); from there this module iterates
//! exactly as scikit-learn's `KMeans(algorithm="lloyd")` does: assign every customer to its
//! nearest centroid, move every centroid to the mean of its customers, and stop when no customer
//! changed cluster or when the squared movement of the centroids (summed over all coordinates) is
//! at most the tolerance; a final assignment then matches the labels to the last centroids.
//!
//! What makes it fast on the few features of a customer table:
//! - **contiguous rows**: the scaled matrix is one row-major slice; with 1 to 4 features the row
//!   length is a compile-time constant (`D`), so a distance is a few register operations;
//! - **Hamerly's bounds** (G. Hamerly, "Making k-means even faster", SDM 2010): every customer
//!   keeps an upper bound on the distance to its centroid and a lower bound on the distance to
//!   any other; after the centroids move by `p_j` the bounds widen by those movements, and a
//!   customer whose upper bound is below `max(lower bound, half the distance from its centroid to
//!   the nearest other centroid)` cannot change cluster and is skipped without computing a
//!   distance. Late iterations compute almost no distances;
//! - **running sums**: the per-cluster sums of the update step change only by the customers that
//!   moved, so skipped customers are not read at all;
//! - **fixed chunks**: customers are processed in parallel in chunks of [`CHUNK`] rows; each chunk
//!   returns its changes and they are added in chunk order, so every sum is computed in the same
//!   order whatever the number of threads and the result is identical with 1 or 32 threads.
//!
//! The bounds skip only customers that provably keep their centroid, so the labels and centroids
//! are those of plain Lloyd iterations (up to exact ties between two centroids, which keep the
//! current cluster rather than going to the lower number).

use rayon::prelude::*;

/// Rows per parallel task. Fixed (not derived from the thread count) so that sums are always
/// added in the same order.
pub(crate) const CHUNK: usize = 1 << 14;

/// One run's result.
#[derive(Debug, Clone)]
pub(crate) struct LloydFit {
    /// Centroids, row-major, `k × d`.
    pub centroids: Vec<f64>,
    /// Each customer's centroid.
    pub labels: Vec<u32>,
    /// Sum of squared distances to the assigned centroid.
    pub inertia: f64,
    /// Assignment steps run (scikit-learn's `n_iter_`).
    pub iterations: u64,
    /// Seconds in assignment passes and in the rest (updates, bounds), for the timing report.
    pub timing: PhaseTimes,
}

/// Time spent per phase; only filled when [`super::kmeans::timing_enabled`].
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct PhaseTimes {
    /// Assignment passes (bounds, distances, running sums).
    pub assignment: f64,
    /// Centroid updates, centroid movements and half-distances.
    pub update: f64,
    /// The final exact inertia.
    pub inertia: f64,
}

/// Iterates from `init` (`k × d`, row-major) on `data` (`n × d`, row-major) until
/// convergence or `max_iter` assignment steps; `tolerance` is absolute (scikit-learn's `tol`
/// already multiplied by the mean feature variance).
pub(crate) fn lloyd(
    data: &[f64],
    d: usize,
    init: &[f64],
    max_iter: u64,
    tolerance: f64,
    timed: bool,
) -> LloydFit {
    match d {
        1 => Run::<1>::new(data, 1, init, timed).iterate(max_iter, tolerance),
        2 => Run::<2>::new(data, 2, init, timed).iterate(max_iter, tolerance),
        3 => Run::<3>::new(data, 3, init, timed).iterate(max_iter, tolerance),
        4 => Run::<4>::new(data, 4, init, timed).iterate(max_iter, tolerance),
        _ => Run::<0>::new(data, d, init, timed).iterate(max_iter, tolerance),
    }
}

/// Squared distance between a row and a centroid; `D > 0` fixes the length at compile time,
/// `D = 0` takes it from the slice. Both add the coordinates in the same order.
#[inline(always)]
fn sq_dist<const D: usize>(x: &[f64], c: &[f64]) -> f64 {
    if D > 0 {
        let x: &[f64; D] = x[..D].try_into().expect("row of D features");
        let c: &[f64; D] = c[..D].try_into().expect("centroid of D features");
        let mut s = 0.0;
        for j in 0..D {
            let t = x[j] - c[j];
            s += t * t;
        }
        s
    } else {
        let mut s = 0.0;
        for (a, b) in x.iter().zip(c) {
            let t = a - b;
            s += t * t;
        }
        s
    }
}

/// The nearest and second-nearest centroid of `x`: (label, squared distance, second squared
/// distance). Ties go to the lower label.
#[inline(always)]
fn nearest_two<const D: usize>(x: &[f64], centroids: &[f64], d: usize) -> (u32, f64, f64) {
    let (mut best, mut first, mut second) = (0u32, f64::INFINITY, f64::INFINITY);
    for (j, c) in centroids.chunks_exact(d).enumerate() {
        let s = sq_dist::<D>(x, c);
        if s < first {
            second = first;
            first = s;
            best = j as u32;
        } else if s < second {
            second = s;
        }
    }
    (best, first, second)
}

/// What one chunk changed in an assignment pass: per-cluster sums and counts of the customers
/// that arrived minus those that left.
struct ChunkDelta {
    sums: Vec<f64>,
    counts: Vec<i64>,
    moved: usize,
}

impl ChunkDelta {
    fn new(k: usize, d: usize) -> Self {
        ChunkDelta {
            sums: vec![0.0; k * d],
            counts: vec![0; k],
            moved: 0,
        }
    }

    fn add(&mut self, label: u32, x: &[f64], sign: f64) {
        let d = x.len();
        let target = &mut self.sums[label as usize * d..(label as usize + 1) * d];
        for (t, v) in target.iter_mut().zip(x) {
            *t += sign * v;
        }
        self.counts[label as usize] += sign as i64;
    }
}

/// Per-centroid movement of the last update, as the bounds need it.
struct Movement {
    /// Distance each centroid moved.
    shift: Vec<f64>,
    /// The largest movement and the centroid that made it; the second largest.
    max: (f64, usize, f64),
}

impl Movement {
    fn none(k: usize) -> Self {
        Movement::new(vec![0.0; k])
    }

    fn new(shift: Vec<f64>) -> Self {
        let mut max = (0.0, usize::MAX, 0.0);
        for (j, s) in shift.iter().enumerate() {
            if *s > max.0 {
                max = (*s, j, max.0);
            } else if *s > max.2 {
                max.2 = *s;
            }
        }
        Movement { shift, max }
    }

    /// How far the lower bound of a customer in cluster `label` can fall: the largest movement
    /// of any other centroid.
    #[inline(always)]
    fn others(&self, label: usize) -> f64 {
        if label == self.max.1 {
            self.max.2
        } else {
            self.max.0
        }
    }
}

struct Run<'a, const D: usize> {
    data: &'a [f64],
    d: usize,
    k: usize,
    centroids: Vec<f64>,
    labels: Vec<u32>,
    /// Per customer: [upper bound on the distance to its centroid, lower bound on the distance
    /// to any other centroid].
    bounds: Vec<[f64; 2]>,
    sums: Vec<f64>,
    counts: Vec<i64>,
    timing: PhaseTimes,
    timed: bool,
}

fn clock(timed: bool) -> Option<std::time::Instant> {
    timed.then(std::time::Instant::now)
}

fn seconds(start: Option<std::time::Instant>) -> f64 {
    start.map_or(0.0, |s| s.elapsed().as_secs_f64())
}

impl<'a, const D: usize> Run<'a, D> {
    fn new(data: &'a [f64], d: usize, init: &[f64], timed: bool) -> Self {
        let n = data.len() / d;
        let k = init.len() / d;
        Run {
            data,
            d,
            k,
            centroids: init.to_vec(),
            labels: vec![0; n],
            bounds: vec![[0.0; 2]; n],
            sums: vec![0.0; k * d],
            counts: vec![0; k],
            timing: PhaseTimes::default(),
            timed,
        }
    }

    /// The first assignment: every distance, exact bounds, full sums.
    fn assign_all(&mut self) {
        let (d, k, centroids) = (self.d, self.k, &self.centroids);
        let deltas: Vec<ChunkDelta> = self
            .data
            .par_chunks(CHUNK * d)
            .zip(self.labels.par_chunks_mut(CHUNK))
            .zip(self.bounds.par_chunks_mut(CHUNK))
            .map(|((rows, labels), bounds)| {
                let mut delta = ChunkDelta::new(k, d);
                for ((x, label), bound) in rows.chunks_exact(d).zip(labels).zip(bounds) {
                    let (best, first, second) = nearest_two::<D>(x, centroids, d);
                    *label = best;
                    *bound = [first.sqrt(), second.sqrt()];
                    delta.add(best, x, 1.0);
                }
                delta.moved = rows.len() / d;
                delta
            })
            .collect();
        self.sums.iter_mut().for_each(|s| *s = 0.0);
        self.counts.iter_mut().for_each(|c| *c = 0);
        self.apply(&deltas);
    }

    /// Adds the chunks' changes in chunk order; returns how many customers moved.
    fn apply(&mut self, deltas: &[ChunkDelta]) -> usize {
        let mut moved = 0;
        for delta in deltas {
            moved += delta.moved;
            if delta.moved == 0 {
                continue;
            }
            for (s, v) in self.sums.iter_mut().zip(&delta.sums) {
                *s += v;
            }
            for (c, v) in self.counts.iter_mut().zip(&delta.counts) {
                *c += v;
            }
        }
        moved
    }

    /// An assignment pass after the centroids moved by `movement`: widen the bounds, skip the
    /// customers that cannot move, recompute the others; returns how many moved.
    fn reassign(&mut self, movement: &Movement) -> usize {
        let (d, centroids) = (self.d, &self.centroids);
        let half = half_gaps::<D>(centroids, d);
        let k = self.k;
        let deltas: Vec<ChunkDelta> = self
            .data
            .par_chunks(CHUNK * d)
            .zip(self.labels.par_chunks_mut(CHUNK))
            .zip(self.bounds.par_chunks_mut(CHUNK))
            .map(|((rows, labels), bounds)| {
                let mut delta = ChunkDelta::new(k, d);
                for ((x, label), bound) in rows.chunks_exact(d).zip(labels).zip(bounds) {
                    let a = *label as usize;
                    let upper = bound[0] + movement.shift[a];
                    let lower = bound[1] - movement.others(a);
                    let limit = half[a].max(lower);
                    if upper <= limit {
                        *bound = [upper, lower];
                        continue;
                    }
                    let tight = sq_dist::<D>(x, &centroids[a * d..]).sqrt();
                    if tight <= limit {
                        *bound = [tight, lower];
                        continue;
                    }
                    let (best, first, second) = nearest_two::<D>(x, centroids, d);
                    *bound = [first.sqrt(), second.sqrt()];
                    if best != *label {
                        delta.add(*label, x, -1.0);
                        delta.add(best, x, 1.0);
                        delta.moved += 1;
                        *label = best;
                    }
                }
                delta
            })
            .collect();
        self.apply(&deltas)
    }

    /// Moves every centroid to the mean of its customers (an empty cluster keeps its centroid);
    /// returns the movement and its squared total.
    fn update(&mut self) -> (Movement, f64) {
        let d = self.d;
        let mut shift = vec![0.0; self.k];
        let mut total = 0.0;
        for (j, (c, s)) in self
            .centroids
            .chunks_exact_mut(d)
            .zip(self.sums.chunks_exact(d))
            .enumerate()
        {
            let count = self.counts[j];
            if count <= 0 {
                continue;
            }
            let mut moved = 0.0;
            for (cj, sj) in c.iter_mut().zip(s) {
                let new = sj / count as f64;
                moved += (new - *cj) * (new - *cj);
                *cj = new;
            }
            shift[j] = moved.sqrt();
            total += moved;
        }
        (Movement::new(shift), total)
    }

    fn iterate(mut self, max_iter: u64, tolerance: f64) -> LloydFit {
        let start = clock(self.timed);
        self.assign_all();
        self.timing.assignment += seconds(start);
        let mut iterations = 1;
        let mut strict = false;
        // Each turn: the labels match the centroids; update, test, reassign.
        let movement = loop {
            let start = clock(self.timed);
            let (movement, total) = self.update();
            self.timing.update += seconds(start);
            if total <= tolerance || iterations == max_iter {
                break movement;
            }
            let start = clock(self.timed);
            let moved = self.reassign(&movement);
            self.timing.assignment += seconds(start);
            iterations += 1;
            if moved == 0 {
                strict = true;
                break Movement::none(self.k);
            }
        };
        if !strict {
            // scikit-learn's last step: labels for the final centroids.
            let start = clock(self.timed);
            self.reassign(&movement);
            self.timing.assignment += seconds(start);
        }
        let start = clock(self.timed);
        let inertia = self.inertia();
        self.timing.inertia += seconds(start);
        LloydFit {
            centroids: self.centroids,
            labels: self.labels,
            inertia,
            iterations,
            timing: self.timing,
        }
    }

    /// Σ squared distance to the assigned centroid, per chunk then in chunk order.
    fn inertia(&self) -> f64 {
        let d = self.d;
        let parts: Vec<f64> = self
            .data
            .par_chunks(CHUNK * d)
            .zip(self.labels.par_chunks(CHUNK))
            .map(|(rows, labels)| {
                rows.chunks_exact(d)
                    .zip(labels)
                    .map(|(x, l)| sq_dist::<D>(x, &self.centroids[*l as usize * d..]))
                    .sum::<f64>()
            })
            .collect();
        parts.iter().sum()
    }
}

/// Half the distance from each centroid to its nearest other centroid: a customer nearer than
/// that to its own centroid cannot be nearer to another.
fn half_gaps<const D: usize>(centroids: &[f64], d: usize) -> Vec<f64> {
    let k = centroids.len() / d;
    (0..k)
        .map(|a| {
            let ca = &centroids[a * d..(a + 1) * d];
            (0..k)
                .filter(|b| *b != a)
                .map(|b| sq_dist::<D>(ca, &centroids[b * d..]))
                .fold(f64::INFINITY, f64::min)
                .sqrt()
                / 2.0
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Plain Lloyd iterations (every distance, every sum from scratch), scikit-learn's order.
    fn plain(
        data: &[f64],
        d: usize,
        init: &[f64],
        max_iter: u64,
        tolerance: f64,
    ) -> (Vec<f64>, Vec<u32>, u64) {
        let mut c = init.to_vec();
        let k = c.len() / d;
        let mut labels: Vec<u32> = vec![u32::MAX; data.len() / d];
        for it in 1..=max_iter {
            let new: Vec<u32> = data
                .chunks_exact(d)
                .map(|x| nearest_two::<0>(x, &c, d).0)
                .collect();
            let strict = new == labels;
            labels = new;
            let mut sums = vec![0.0; k * d];
            let mut counts = vec![0usize; k];
            for (x, l) in data.chunks_exact(d).zip(&labels) {
                counts[*l as usize] += 1;
                for j in 0..d {
                    sums[*l as usize * d + j] += x[j];
                }
            }
            let mut total = 0.0;
            for j in 0..k {
                if counts[j] > 0 {
                    for f in 0..d {
                        let new = sums[j * d + f] / counts[j] as f64;
                        total += (new - c[j * d + f]).powi(2);
                        c[j * d + f] = new;
                    }
                }
            }
            if strict {
                return (c, labels, it);
            }
            if total <= tolerance || it == max_iter {
                let last = data
                    .chunks_exact(d)
                    .map(|x| nearest_two::<0>(x, &c, d).0)
                    .collect();
                return (c, last, it);
            }
        }
        unreachable!()
    }

    fn cloud(n: usize, d: usize, seed: u64) -> Vec<f64> {
        // A deterministic, skewed cloud with a few clumps (xorshift, no dependency).
        let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        (0..n * d)
            .map(|i| {
                let clump = ((i / d) % 5) as f64;
                clump * 0.7 + next() * next() * 3.0
            })
            .collect()
    }

    #[test]
    fn hamerly_gives_plain_lloyds_labels_and_centroids() {
        for d in [1, 2, 3, 4, 6] {
            let data = cloud(3 * CHUNK + 123, d, d as u64);
            let init: Vec<f64> = data[..5 * d].to_vec();
            let fit = lloyd(&data, d, &init, 300, 1e-10, false);
            let (c, labels, iterations) = plain(&data, d, &init, 300, 1e-10);
            assert_eq!(fit.labels, labels, "d = {d}");
            assert_eq!(fit.iterations, iterations, "d = {d}");
            for (a, b) in fit.centroids.iter().zip(&c) {
                assert!((a - b).abs() < 1e-9, "d = {d}: {a} vs {b}");
            }
        }
    }

    #[test]
    fn the_iteration_limit_and_tolerance_stop_a_run() {
        let data = cloud(5_000, 3, 9);
        let init: Vec<f64> = data[..8 * 3].to_vec();
        assert_eq!(lloyd(&data, 3, &init, 1, 0.0, false).iterations, 1);
        let loose = lloyd(&data, 3, &init, 300, 1e3, false);
        assert_eq!(
            loose.iterations, 1,
            "a huge tolerance stops after the first update"
        );
        let (_, labels, _) = plain(&data, 3, &init, 1, 0.0);
        assert_eq!(lloyd(&data, 3, &init, 1, 0.0, false).labels, labels);
    }

    #[test]
    fn the_same_result_with_one_or_two_threads() {
        let data = cloud(4 * CHUNK + 7, 3, 3);
        let init: Vec<f64> = data[..8 * 3].to_vec();
        let with = |threads| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| lloyd(&data, 3, &init, 300, 1e-8, false))
        };
        let (one, two) = (with(1), with(2));
        assert_eq!(one.labels, two.labels);
        assert_eq!(one.centroids, two.centroids);
        assert_eq!(one.inertia.to_bits(), two.inertia.to_bits());
    }
}
