//! Cluster quality: inertia, silhouette, Calinski-Harabasz and Davies-Bouldin; choosing k.
//!
//! All are computed on the scaled feature matrix with Euclidean distances:
//! - **inertia**: the *sum* over customers of the squared distance to their centroid
//!   (linfa's `KMeans::inertia()` is the *mean*; clientele reports the sum, as scikit-learn);
//! - **silhouette**: the mean over customers of `(b − a) / max(a, b)`, `a` the mean distance to
//!   the other members of its cluster, `b` the smallest mean distance to another cluster's
//!   members (0 for a customer alone in its cluster); exact up to the sample size, above it
//!   computed on a seeded random sample of customers (among themselves), as scikit-learn's
//!   `silhouette_score(sample_size=...)`. Higher is better, at most 1;
//! - **Calinski-Harabasz**: `[B / (k − 1)] / [W / (n − k)]`, between- over within-cluster
//!   dispersion; higher is better;
//! - **Davies-Bouldin**: the mean over clusters of `max_j (s_i + s_j) / d(c_i, c_j)`, `s` the
//!   mean distance of members to their centroid; lower is better.

use ndarray::{Array2, ArrayView2};
use rand::SeedableRng;
use rand_pcg::Pcg64;
use rayon::prelude::*;
use serde::Serialize;

/// Quality figures of one clustering.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KScore {
    /// Number of clusters.
    pub k: usize,
    /// Sum of squared distances to the assigned centroid.
    pub inertia: f64,
    /// Mean silhouette.
    pub silhouette: f64,
    /// Customers the silhouette was computed on (all, or the sample size).
    pub silhouette_customers: usize,
    /// Calinski-Harabasz index.
    pub calinski_harabasz: f64,
    /// Davies-Bouldin index.
    pub davies_bouldin: f64,
}

/// Scores a labelled matrix.
pub fn score(
    matrix: ArrayView2<'_, f64>,
    labels: &[u32],
    centroids: ArrayView2<'_, f64>,
    inertia: f64,
    sample_limit: usize,
    seed: u64,
) -> KScore {
    let k = centroids.nrows();
    let (silhouette, silhouette_customers) = silhouette(matrix, labels, k, sample_limit, seed);
    KScore {
        k,
        inertia,
        silhouette,
        silhouette_customers,
        calinski_harabasz: calinski_harabasz(matrix, labels, centroids, inertia),
        davies_bouldin: davies_bouldin(matrix, labels, centroids),
    }
}

/// The k with the highest silhouette (the smaller k on a tie).
pub fn best_by_silhouette(scores: &[KScore]) -> Option<usize> {
    scores
        .iter()
        .fold(None::<&KScore>, |best, s| match best {
            Some(b) if b.silhouette >= s.silhouette => Some(b),
            _ => Some(s),
        })
        .map(|s| s.k)
}

fn distance(a: ndarray::ArrayView1<'_, f64>, b: ndarray::ArrayView1<'_, f64>) -> f64 {
    a.iter()
        .zip(b.iter())
        .map(|(x, y)| (x - y) * (x - y))
        .sum::<f64>()
        .sqrt()
}

/// Mean silhouette and the number of customers it was computed on.
pub fn silhouette(
    matrix: ArrayView2<'_, f64>,
    labels: &[u32],
    k: usize,
    limit: usize,
    seed: u64,
) -> (f64, usize) {
    let n = matrix.nrows();
    let rows: Vec<usize> = if n <= limit {
        (0..n).collect()
    } else {
        let mut rng = Pcg64::seed_from_u64(seed);
        let mut picked = rand::seq::index::sample(&mut rng, n, limit).into_vec();
        picked.sort_unstable();
        picked
    };
    let sample = matrix.select(ndarray::Axis(0), &rows);
    let sample_labels: Vec<usize> = rows.iter().map(|r| labels[*r] as usize).collect();
    let mut sizes = vec![0usize; k];
    for l in &sample_labels {
        sizes[*l] += 1;
    }
    // Each customer's value depends only on the data, so the parallel map is deterministic;
    // the mean is then taken sequentially, in customer order.
    let values: Vec<f64> = (0..rows.len())
        .into_par_iter()
        .map(|i| {
            let own = sample_labels[i];
            if sizes[own] <= 1 {
                return 0.0;
            }
            let mut sums = vec![0.0; k];
            let point = sample.row(i);
            for (j, other) in sample.rows().into_iter().enumerate() {
                if j != i {
                    sums[sample_labels[j]] += distance(point, other);
                }
            }
            let a = sums[own] / (sizes[own] - 1) as f64;
            let b = (0..k)
                .filter(|c| *c != own && sizes[*c] > 0)
                .map(|c| sums[c] / sizes[c] as f64)
                .fold(f64::INFINITY, f64::min);
            if !b.is_finite() {
                return 0.0;
            }
            let m = a.max(b);
            if m == 0.0 { 0.0 } else { (b - a) / m }
        })
        .collect();
    (
        values.iter().sum::<f64>() / values.len().max(1) as f64,
        rows.len(),
    )
}

/// Calinski-Harabasz index from the within-cluster sum of squares `within`.
pub fn calinski_harabasz(
    matrix: ArrayView2<'_, f64>,
    labels: &[u32],
    centroids: ArrayView2<'_, f64>,
    within: f64,
) -> f64 {
    let (n, k) = (matrix.nrows(), centroids.nrows());
    if k < 2 || n <= k || within == 0.0 {
        return 0.0;
    }
    let overall = matrix.mean_axis(ndarray::Axis(0)).expect("rows");
    let mut sizes = vec![0usize; k];
    for l in labels {
        sizes[*l as usize] += 1;
    }
    let between: f64 = centroids
        .rows()
        .into_iter()
        .zip(&sizes)
        .map(|(c, size)| *size as f64 * distance(c, overall.view()).powi(2))
        .sum();
    (between / (k - 1) as f64) / (within / (n - k) as f64)
}

/// Davies-Bouldin index.
pub fn davies_bouldin(matrix: ArrayView2<'_, f64>, labels: &[u32], centroids: ArrayView2<'_, f64>) -> f64 {
    let k = centroids.nrows();
    let mut spread = vec![0.0; k];
    let mut sizes = vec![0usize; k];
    for (row, label) in matrix.rows().into_iter().zip(labels) {
        let l = *label as usize;
        spread[l] += distance(row, centroids.row(l));
        sizes[l] += 1;
    }
    let present: Vec<usize> = (0..k).filter(|c| sizes[*c] > 0).collect();
    if present.len() < 2 {
        return 0.0;
    }
    for c in &present {
        spread[*c] /= sizes[*c] as f64;
    }
    let worst = |i: usize| {
        present
            .iter()
            .filter(|j| **j != i)
            .map(|j| {
                let d = distance(centroids.row(i), centroids.row(*j));
                if d == 0.0 {
                    f64::INFINITY
                } else {
                    (spread[i] + spread[*j]) / d
                }
            })
            .fold(0.0, f64::max)
    };
    present.iter().map(|i| worst(*i)).sum::<f64>() / present.len() as f64
}

/// The centroids (means) of labelled rows, for checking.
pub fn centroids_of(matrix: ArrayView2<'_, f64>, labels: &[u32], k: usize) -> Array2<f64> {
    let mut sums = Array2::<f64>::zeros((k, matrix.ncols()));
    let mut counts = vec![0usize; k];
    for (row, label) in matrix.rows().into_iter().zip(labels) {
        let mut target = sums.row_mut(*label as usize);
        target += &row;
        counts[*label as usize] += 1;
    }
    for (mut row, count) in sums.rows_mut().into_iter().zip(counts) {
        if count > 0 {
            row /= count as f64;
        }
    }
    sums
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn two_blobs() -> (Array2<f64>, Vec<u32>) {
        let m = array![
            [0.0, 0.0],
            [0.0, 1.0],
            [1.0, 0.0],
            [10.0, 10.0],
            [10.0, 11.0],
            [11.0, 10.0]
        ];
        (m, vec![0, 0, 0, 1, 1, 1])
    }

    #[test]
    fn metrics_match_hand_computed_values() {
        let (m, labels) = two_blobs();
        let c = centroids_of(m.view(), &labels, 2);
        assert_eq!(c.row(0).to_vec(), vec![1.0 / 3.0, 1.0 / 3.0]);
        // Within SS: each blob: (1/9+1/9) + (1/9+4/9) + (4/9+1/9) = 12/9.
        let within = 2.0 * 12.0 / 9.0;
        let s = score(m.view(), &labels, c.view(), within, 1000, 1);
        // scikit-learn 1.9.1: silhouette_score 0.9196222281154851, calinski_harabasz_score
        // 450.00000000000006, davies_bouldin_score 0.09249505911485191.
        assert!(
            (s.silhouette - 0.919_622_228_115_485_1).abs() < 1e-12,
            "{}",
            s.silhouette
        );
        assert!(
            (s.calinski_harabasz - 450.0).abs() < 1e-9,
            "{}",
            s.calinski_harabasz
        );
        assert!(
            (s.davies_bouldin - 0.092_495_059_114_851_91).abs() < 1e-12,
            "{}",
            s.davies_bouldin
        );
        assert_eq!(s.silhouette_customers, 6);
    }

    #[test]
    fn best_k_is_the_highest_silhouette_then_the_smaller_k() {
        let mk = |k, silhouette| KScore {
            k,
            inertia: 0.0,
            silhouette,
            silhouette_customers: 1,
            calinski_harabasz: 0.0,
            davies_bouldin: 0.0,
        };
        assert_eq!(best_by_silhouette(&[mk(2, 0.4), mk(3, 0.6), mk(4, 0.6)]), Some(3));
        assert_eq!(best_by_silhouette(&[]), None);
    }

    #[test]
    fn sampled_silhouette_is_seeded() {
        let (m, labels) = two_blobs();
        let big = ndarray::concatenate(ndarray::Axis(0), &[m.view(); 40]).unwrap();
        let labels: Vec<u32> = (0..40).flat_map(|_| labels.clone()).collect();
        let a = silhouette(big.view(), &labels, 2, 100, 7);
        let b = silhouette(big.view(), &labels, 2, 100, 7);
        assert_eq!(a, b);
        assert_eq!(a.1, 100);
    }
}
