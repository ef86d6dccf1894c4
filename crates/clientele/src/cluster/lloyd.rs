//! clientele's own k-means iterations: Lloyd's algorithm, as scikit-learn runs it.
//!
//! Each run starts from greedy k-means++ seeds ([`super::seeding`]); from there this module iterates
//! exactly as scikit-learn's `KMeans(algorithm="lloyd")` does: assign every customer to its
//! nearest centroid, move every centroid to the mean of its customers, and stop when no customer
//! changed cluster or when the squared movement of the centroids (summed over all coordinates) is
//! at most the tolerance; a final assignment then matches the labels to the last centroids.
//!
//! Every pass computes every distance ([`super::kernel`]: branch-free, vectorised, a few
//! nanoseconds per customer for a customer table's 3 features and 8 clusters) and the
//! per-cluster sums of the update step in the same sweep; the sweep also yields the inertia, so
//! the pass after the last update is the final assignment and the inertia at once. Bounds that
//! skip distances (Hamerly's, which this module used before) were slower on RFM data: clusters
//! there touch, few customers are skipped, and the per-customer branches mispredict.
//!
//! Customers are processed in fixed chunks of [`CHUNK`] rows, in parallel; each chunk returns
//! its sums and they are added in chunk order, so every sum is computed in the same order
//! whatever the number of threads and the result is identical with 1 or 32 threads.

use rayon::prelude::*;

use super::kernel::{self, ChunkSums, Columns, Pass};

/// Rows per parallel task. Fixed (not derived from the thread count) so that sums are always
/// added in the same order.
pub(crate) const CHUNK: usize = 1 << 14;

/// One run's result.
#[derive(Debug, Clone)]
pub(crate) struct LloydFit {
    /// Centroids, row-major, `k × d`.
    pub centroids: Vec<f64>,
    /// Sum of squared distances to the assigned centroid.
    pub inertia: f64,
    /// Assignment steps run (scikit-learn's `n_iter_`).
    pub iterations: u64,
    /// Seconds in assignment passes and in updates, for the timing report.
    pub timing: PhaseTimes,
}

/// Time spent per phase; only filled when [`super::kmeans::timing_enabled`].
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct PhaseTimes {
    /// Assignment passes (distances, labels, per-cluster sums, inertia).
    pub assignment: f64,
    /// Centroid updates from the sums.
    pub update: f64,
}

pub(crate) fn clock(timed: bool) -> Option<std::time::Instant> {
    timed.then(std::time::Instant::now)
}

pub(crate) fn seconds(start: Option<std::time::Instant>) -> f64 {
    start.map_or(0.0, |s| s.elapsed().as_secs_f64())
}

/// One assignment pass: every customer's nearest centroid (`centroids`: `k × d`, row-major;
/// ties to the lower number) into `labels`, with the per-cluster sums (or their changes, see
/// [`Pass`]), the number of changed labels and the inertia, chunk by chunk in parallel and
/// added in chunk order.
pub(crate) fn assign_all(data: Columns<'_>, labels: &mut [u32], centroids: &[f64], pass: Pass) -> ChunkSums {
    let parts: Vec<ChunkSums> = labels
        .par_chunks_mut(CHUNK)
        .enumerate()
        .map(|(c, labels)| kernel::assign_chunk(data, c * CHUNK, labels, centroids, pass))
        .collect();
    let mut total = ChunkSums::zero(centroids.len() / data.d(), data.d());
    for part in &parts {
        total.add(part);
    }
    total
}

/// Iterates from `init` (`k × d`, row-major) on `data` until convergence or `max_iter`
/// assignment steps, leaving each customer's centroid in `labels` (`n` long); `tolerance` is
/// absolute (scikit-learn's `tol` already multiplied by the mean feature variance).
pub(crate) fn lloyd(
    data: Columns<'_>,
    init: &[f64],
    labels: &mut [u32],
    max_iter: u64,
    tolerance: f64,
    timed: bool,
) -> LloydFit {
    let mut centroids = init.to_vec();
    let mut timing = PhaseTimes::default();
    let start = clock(timed);
    let mut sums = assign_all(data, labels, &centroids, Pass::Full);
    timing.assignment += seconds(start);
    let mut iterations = 1;
    // Each turn: the labels and sums match the centroids; update, test, reassign.
    let inertia = loop {
        let start = clock(timed);
        let shift = update(&mut centroids, &sums, data.d());
        timing.update += seconds(start);
        let converged = shift <= tolerance || iterations == max_iter;
        // When converged, this is scikit-learn's last step: labels for the final centroids.
        let start = clock(timed);
        let moves = assign_all(data, labels, &centroids, Pass::Moves);
        timing.assignment += seconds(start);
        if converged {
            break moves.inertia;
        }
        iterations += 1;
        if moves.changed == 0 {
            // Strict convergence: the same labels give the same centroids.
            break moves.inertia;
        }
        sums.add(&moves);
    };
    LloydFit {
        centroids,
        inertia,
        iterations,
        timing,
    }
}

/// Moves every centroid to the mean of its customers (an empty cluster keeps its centroid);
/// returns the squared movement summed over all coordinates.
fn update(centroids: &mut [f64], sums: &ChunkSums, d: usize) -> f64 {
    let mut total = 0.0;
    for ((c, s), count) in centroids
        .chunks_exact_mut(d)
        .zip(sums.sums.chunks_exact(d))
        .zip(&sums.counts)
    {
        if *count <= 0 {
            continue;
        }
        for (cj, sj) in c.iter_mut().zip(s) {
            let new = sj / *count as f64;
            total += (new - *cj) * (new - *cj);
            *cj = new;
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::kernel::sq_dist;

    /// The nearest centroid, ties to the lower number.
    fn nearest(x: &[f64], c: &[f64], d: usize) -> u32 {
        let mut best = (0, f64::INFINITY);
        for (j, c) in c.chunks_exact(d).enumerate() {
            let s = sq_dist(x, c);
            if s < best.1 {
                best = (j as u32, s);
            }
        }
        best.0
    }

    /// Column-major copy of a row-major matrix.
    fn columns(data: &[f64], d: usize) -> Vec<f64> {
        (0..d)
            .flat_map(|f| data.iter().skip(f).step_by(d).copied())
            .collect()
    }

    struct Fit {
        centroids: Vec<f64>,
        labels: Vec<u32>,
        inertia: f64,
        iterations: u64,
    }

    fn fit(data: &[f64], d: usize, init: &[f64], max_iter: u64, tolerance: f64) -> Fit {
        let cols = columns(data, d);
        let mut labels = vec![0; data.len() / d];
        let fit = lloyd(
            Columns::new(&cols, d),
            init,
            &mut labels,
            max_iter,
            tolerance,
            false,
        );
        Fit {
            centroids: fit.centroids,
            labels,
            inertia: fit.inertia,
            iterations: fit.iterations,
        }
    }

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
            let new: Vec<u32> = data.chunks_exact(d).map(|x| nearest(x, &c, d)).collect();
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
                let last = data.chunks_exact(d).map(|x| nearest(x, &c, d)).collect();
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
    fn runs_give_plain_lloyds_labels_centroids_and_inertia() {
        for d in [1, 2, 3, 4, 6] {
            let data = cloud(3 * CHUNK + 123, d, d as u64);
            let init: Vec<f64> = data[..5 * d].to_vec();
            let fit = fit(&data, d, &init, 300, 1e-10);
            let (c, labels, iterations) = plain(&data, d, &init, 300, 1e-10);
            let inertia: f64 = data
                .chunks_exact(d)
                .zip(&labels)
                .map(|(x, l)| sq_dist(x, &c[*l as usize * d..(*l as usize + 1) * d]))
                .sum();
            assert!((fit.inertia - inertia).abs() < 1e-9 * inertia, "d = {d}");
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
        assert_eq!(fit(&data, 3, &init, 1, 0.0).iterations, 1);
        let loose = fit(&data, 3, &init, 300, 1e3);
        assert_eq!(
            loose.iterations, 1,
            "a huge tolerance stops after the first update"
        );
        let (_, labels, _) = plain(&data, 3, &init, 1, 0.0);
        assert_eq!(fit(&data, 3, &init, 1, 0.0).labels, labels);
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
                .install(|| fit(&data, 3, &init, 300, 1e-8))
        };
        let (one, two) = (with(1), with(2));
        assert_eq!(one.labels, two.labels);
        assert_eq!(one.centroids, two.centroids);
        assert_eq!(one.inertia.to_bits(), two.inertia.to_bits());
    }
}
