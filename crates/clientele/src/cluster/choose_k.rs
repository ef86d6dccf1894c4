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
//!
//! `--k auto` takes the **knee of the inertia curve** ([`best_by_knee`]); what the other
//! measures would choose is reported beside it ([`KAlternatives`]).

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

/// The height of every k's inertia below the chord of the inertia curve, both axes scaled to
/// 0..1 (the "Kneedle" construction of Satopää, Albrecht, Irwin & Raghavan, 2011): with
/// `x = (k − k_min) / (k_max − k_min)` and `y = (I_k − I_min) / (I_max − I_min)`, the height is
/// `(1 − x) − y`, the vertical distance below the straight line from the first k's inertia to the
/// last k's. The ends of the range have height 0; a flat curve gives 0 everywhere.
pub fn knee_heights(scores: &[KScore]) -> Vec<f64> {
    let (Some(first), Some(last)) = (scores.first(), scores.last()) else {
        return Vec::new();
    };
    let span_k = (last.k - first.k) as f64;
    let (low, high) = scores
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), s| {
            (lo.min(s.inertia), hi.max(s.inertia))
        });
    if span_k == 0.0 || high <= low {
        return vec![0.0; scores.len()];
    }
    scores
        .iter()
        .map(|s| {
            let x = (s.k - first.k) as f64 / span_k;
            let y = (s.inertia - low) / (high - low);
            (1.0 - x) - y
        })
        .collect()
}

/// The knee of the inertia curve: the k whose inertia lies furthest below the chord
/// ([`knee_heights`]); the smaller k on a tie. Inertia always falls as k grows; the knee is where
/// it stops falling fast, so one more cluster buys less than the ones before. Never an end of the
/// range unless no k lies below the chord (then the smallest k).
pub fn best_by_knee(scores: &[KScore]) -> Option<usize> {
    let heights = knee_heights(scores);
    best_by(scores, |i| heights[i])
}

/// The k of the highest `value(i)` (index into `scores`), the smaller k on a tie.
fn best_by(scores: &[KScore], value: impl Fn(usize) -> f64) -> Option<usize> {
    let mut best: Option<(usize, f64)> = None;
    for (i, s) in scores.iter().enumerate() {
        let v = value(i);
        if best.is_none_or(|(_, b)| v > b) {
            best = Some((s.k, v));
        }
    }
    best.map(|(k, _)| k)
}

/// What each rule chooses over a sweep of k, printed beside the choice.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KAlternatives {
    /// Per k of the sweep (in order), the height below the chord of the inertia curve.
    pub knee_heights: Vec<f64>,
    /// The knee of the inertia curve (the rule `auto` applies).
    pub inertia_knee: usize,
    /// The highest silhouette.
    pub silhouette: usize,
    /// The highest Calinski-Harabasz index.
    pub calinski_harabasz: usize,
    /// The lowest Davies-Bouldin index.
    pub davies_bouldin: usize,
}

impl KAlternatives {
    /// Every rule's choice over `scores` (`None` when empty).
    pub fn of(scores: &[KScore]) -> Option<Self> {
        Some(KAlternatives {
            knee_heights: knee_heights(scores),
            inertia_knee: best_by_knee(scores)?,
            silhouette: best_by_silhouette(scores)?,
            calinski_harabasz: best_by(scores, |i| scores[i].calinski_harabasz)?,
            davies_bouldin: best_by(scores, |i| -scores[i].davies_bouldin)?,
        })
    }
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
    fn the_knee_is_the_k_furthest_below_the_chord() {
        let mk = |k, inertia| KScore {
            k,
            inertia,
            silhouette: 0.0,
            silhouette_customers: 1,
            calinski_harabasz: 0.0,
            davies_bouldin: 0.0,
        };
        // 1/k from 2 to 9: scaled, x = (k − 2)/7 and y = (1/k − 1/9)/(1/2 − 1/9); (1 − x) − y
        // is 0, 0.2857, 0.3571, 0.3429, 0.2857, 0.2041, 0.1071, 0 (numpy).
        let curve: Vec<KScore> = (2..=9).map(|k| mk(k, 1.0 / k as f64)).collect();
        let h = knee_heights(&curve);
        let expected = [0.0, 0.2857, 0.3571, 0.3429, 0.2857, 0.2041, 0.1071, 0.0];
        assert!(h.iter().zip(expected).all(|(a, b)| (a - b).abs() < 1e-4), "{h:?}");
        assert_eq!(best_by_knee(&curve), Some(4));
        // A sharp elbow at 5: heights 0, 0.268, 0.428, 0.478, 0.323, 0.161, 0.
        let elbow: Vec<KScore> = [100.0, 60.0, 30.0, 10.0, 9.0, 8.5, 8.0]
            .iter()
            .enumerate()
            .map(|(i, v)| mk(i + 2, *v))
            .collect();
        assert_eq!(best_by_knee(&elbow), Some(5));
        // A curve above its chord (falling faster and faster) has no knee: the smallest k.
        let concave: Vec<KScore> = [10.0, 9.5, 8.5, 4.0]
            .iter()
            .enumerate()
            .map(|(i, v)| mk(i + 3, *v))
            .collect();
        assert_eq!(best_by_knee(&concave), Some(3));
        assert_eq!(best_by_knee(&[]), None);
        let alt = KAlternatives::of(&elbow).unwrap();
        assert_eq!((alt.inertia_knee, alt.knee_heights.len()), (5, 7));
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
