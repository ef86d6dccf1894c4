//! Greedy k-means++ initialisation, as scikit-learn's `KMeans(init="k-means++")`.
//!
//! The first centroid is a customer drawn uniformly; each next one is the best of
//! `2 + ⌊ln k⌋` candidates, each drawn with probability proportional to its squared distance to
//! the nearest centroid chosen so far: the candidate that leaves the smallest total squared
//! distance (potential) wins (Arthur & Vassilvitskii, 2007; the greedy variant of
//! scikit-learn). Candidates are evaluated in parallel over fixed chunks of customers whose
//! partial sums are added in chunk order, so the seeds do not depend on the number of threads.

use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64;
use rayon::prelude::*;

use super::kernel::{self, Columns};
use super::lloyd::CHUNK;

/// `k` initial centroids (row-major, `k × d`) for `data` (`n ≥ k` rows).
pub(crate) fn kmeans_plus_plus(data: Columns<'_>, k: usize, seed: u64) -> Vec<f64> {
    let (n, d) = (data.n(), data.d());
    let mut rng = Pcg64::seed_from_u64(seed);
    let trials = 2 + (k as f64).ln() as usize;
    let mut centroids = Vec::with_capacity(k * d);
    centroids.extend(data.row(rng.random_range(0..n)));
    // Squared distance of every customer to its nearest centroid, and its sum per chunk.
    let mut closest = vec![f64::INFINITY; n];
    let mut chunk_sums = lower_closest(data, &mut closest, &centroids);
    for _ in 1..k {
        let potential: f64 = chunk_sums.iter().sum();
        let candidates: Vec<f64> = (0..trials)
            .flat_map(|_| data.row(pick(&closest, &chunk_sums, rng.random::<f64>() * potential)))
            .collect();
        // Each candidate's potential: Σ min(closest, distance to the candidate)².
        let partial: Vec<Vec<f64>> = closest
            .par_chunks(CHUNK)
            .enumerate()
            .map(|(c, near)| kernel::potentials_chunk(data, c * CHUNK, near, &candidates))
            .collect();
        let totals: Vec<f64> = (0..trials).map(|t| partial.iter().map(|p| p[t]).sum()).collect();
        let best = (0..trials)
            .min_by(|a, b| totals[*a].total_cmp(&totals[*b]).then(a.cmp(b)))
            .expect("at least two trials");
        let chosen = &candidates[best * d..(best + 1) * d];
        chunk_sums = lower_closest(data, &mut closest, chosen);
        centroids.extend_from_slice(chosen);
    }
    centroids
}

/// Lowers every customer's `closest` to its squared distance to `chosen`; returns the new sums
/// per chunk.
fn lower_closest(data: Columns<'_>, closest: &mut [f64], chosen: &[f64]) -> Vec<f64> {
    closest
        .par_chunks_mut(CHUNK)
        .enumerate()
        .map(|(c, near)| kernel::lower_closest_chunk(data, c * CHUNK, near, chosen))
        .collect()
}

/// The customer at cumulative weight `target`: the first whose running sum of `weights` exceeds
/// it (chunk totals first, then within the chunk); the last customer if rounding leaves none.
fn pick(weights: &[f64], chunk_sums: &[f64], target: f64) -> usize {
    let mut before = 0.0;
    for (c, sum) in chunk_sums.iter().enumerate() {
        if before + sum > target {
            let start = c * CHUNK;
            let mut running = before;
            for (i, w) in weights[start..(start + CHUNK).min(weights.len())]
                .iter()
                .enumerate()
            {
                running += w;
                if running > target {
                    return start + i;
                }
            }
        }
        before += sum;
    }
    weights.len() - 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_are_distinct_customers_far_apart_and_seeded() {
        // Three tight groups far apart: k-means++ puts one seed in each.
        let mut data = Vec::new();
        for i in 0..3 * CHUNK {
            let group = (i % 3) as f64 * 100.0;
            data.extend_from_slice(&[group + (i % 7) as f64 * 0.01, group]);
        }
        let cols: Vec<f64> = (0..2)
            .flat_map(|f| data.iter().skip(f).step_by(2).copied())
            .collect();
        let data = Columns::new(&cols, 2);
        for seed in 0..5 {
            let c = kmeans_plus_plus(data, 3, seed);
            let mut groups: Vec<i64> = c.chunks(2).map(|p| (p[1] / 100.0).round() as i64).collect();
            groups.sort_unstable();
            assert_eq!(groups, [0, 1, 2], "seed {seed}: {c:?}");
            assert_eq!(c, kmeans_plus_plus(data, 3, seed));
        }
    }

    #[test]
    fn pick_follows_the_cumulative_weights() {
        let w = vec![1.0; CHUNK + 10];
        let sums: Vec<f64> = w.chunks(CHUNK).map(|c| c.iter().sum()).collect();
        assert_eq!(pick(&w, &sums, 0.5), 0);
        assert_eq!(pick(&w, &sums, CHUNK as f64 + 2.5), CHUNK + 2);
        assert_eq!(pick(&w, &sums, 1e9), CHUNK + 9);
    }
}
