//! k-means runs (greedy k-means++ seeding, Lloyd iterations), value-ordered
//! labels, and the saved model.

use std::borrow::Cow;
use std::path::Path;

use ndarray::{Array2, ArrayView2, Axis};
use polars::prelude::*;
use serde::{Deserialize, Serialize};

use super::features::FeatureTransform;
use rayon::prelude::*;

use super::kernel::{Columns, Pass};
use super::lloyd::{self, PhaseTimes, clock, seconds};
use super::params::ClusterValidParams;
use super::seeding;
use crate::customers::col_names::MONETARY;
use crate::error::{Error, Result};
use crate::output::write_bytes;

/// One k-means solution on a scaled matrix.
#[derive(Debug, Clone)]
pub(crate) struct Solution {
    /// Centroids in scaled units, row = label.
    pub centroids: Array2<f64>,
    /// Each customer's label.
    pub labels: Vec<u32>,
    /// Sum over customers of the squared distance to their centroid.
    pub inertia: f64,
}

/// scikit-learn's tolerance rule: a run stops when the squared movement of the centroids
/// (summed over all their coordinates) is at most `tolerance` × the mean variance of the
/// features. This is that absolute bound for a given matrix.
pub(crate) fn absolute_tolerance(matrix: ArrayView2<'_, f64>, tolerance: f64) -> f64 {
    tolerance * matrix.var_axis(Axis(0), 0.0).mean().unwrap_or(1.0)
}

/// Whether to print where k-means' time goes (`CLIENTELE_KMEANS_TIMING` set): seeding,
/// assignment and update, summed over the runs. A debugging aid; results never depend on it.
pub(crate) fn timing_enabled() -> bool {
    std::env::var_os("CLIENTELE_KMEANS_TIMING").is_some()
}

/// Runs k-means: `n_init` runs, each seeded by greedy k-means++ ([`super::seeding`]) and
/// iterated by Lloyd's algorithm ([`super::lloyd`]); the run with the lowest inertia (then the
/// lowest run number) is kept. The runs go in parallel (each one also splits its passes over
/// the threads when some are idle); every run's arithmetic is fixed by its seed and the chunk
/// order, so the result never depends on the number of threads or on which run finishes first.
pub(crate) fn run(matrix: ArrayView2<'_, f64>, k: usize, params: &ClusterValidParams) -> Result<Solution> {
    if matrix.nrows() < k {
        return Err(Error::Cluster {
            detail: format!(
                "{k} clusters need at least {k} customers, there are {}",
                matrix.nrows()
            ),
        });
    }
    let tolerance = absolute_tolerance(matrix, params.tolerance());
    let columns = column_major(matrix);
    let d = matrix.ncols();
    let data = Columns::new(&columns, d);
    let timed = timing_enabled();
    let start = clock(timed);
    // Each run keeps its labels only while it runs: the winner's are computed again below.
    let runs: Vec<RunSummary> = (0..params.n_init())
        .into_par_iter()
        .map(|run| {
            let start = clock(timed);
            let init = seeding::kmeans_plus_plus(data, k, run_seed(params.seed(), k, run));
            let seeding = seconds(start);
            let mut labels = vec![0u32; data.n()];
            let fit = lloyd::lloyd(data, &init, &mut labels, params.max_iter(), tolerance, timed);
            RunSummary {
                centroids: fit.centroids,
                inertia: fit.inertia,
                iterations: fit.iterations,
                seeding,
                phases: fit.timing,
            }
        })
        .collect();
    let best = runs
        .iter()
        .enumerate()
        .min_by(|(a, x), (b, y)| x.inertia.total_cmp(&y.inertia).then(a.cmp(b)))
        .map(|(_, r)| r)
        .expect("n_init is at least 1");
    // The pass that ended the winning run, again: same centroids, same labels and inertia.
    let mut labels = vec![0u32; data.n()];
    let sums = lloyd::assign_all(data, &mut labels, &best.centroids, Pass::Full);
    debug_assert_eq!(sums.inertia.to_bits(), best.inertia.to_bits());
    if timed {
        report_timing(k, data.n(), &runs, seconds(start));
    }
    Ok(Solution {
        centroids: Array2::from_shape_vec((k, d), best.centroids.clone()).expect("k × d centroids"),
        labels,
        inertia: best.inertia,
    })
}

/// What a finished run leaves: enough to pick the best and to rebuild its labels.
struct RunSummary {
    centroids: Vec<f64>,
    inertia: f64,
    iterations: u64,
    seeding: f64,
    phases: PhaseTimes,
}

/// Prints where k-means' time went (`CLIENTELE_KMEANS_TIMING`): per phase, summed over the runs
/// (thread time, as runs overlap), and the wall time of all runs.
fn report_timing(k: usize, n: usize, runs: &[RunSummary], wall: f64) {
    let total = |f: fn(&RunSummary) -> f64| runs.iter().map(f).sum::<f64>();
    let iterations: Vec<u64> = runs.iter().map(|r| r.iterations).collect();
    let passes: u64 = iterations.iter().map(|i| i + 1).sum();
    let assignment = total(|r| r.phases.assignment);
    eprintln!(
        "k-means k = {k}, {n} customers, {} runs: wall {wall:.3} s; summed over runs: seeding {:.3} s, \
         assignment {assignment:.3} s ({passes} passes, {:.2} ns per customer per pass), update {:.6} s; \
         iterations per run {iterations:?}",
        runs.len(),
        total(|r| r.seeding),
        assignment / (passes as f64 * n as f64) * 1e9,
        total(|r| r.phases.update),
    );
}

/// The matrix as columns one after another (borrowed when it is stored that way already, as
/// [`super::features`] builds it).
fn column_major(matrix: ArrayView2<'_, f64>) -> Cow<'_, [f64]> {
    let t = matrix.reversed_axes();
    match t.to_slice() {
        Some(slice) => Cow::Borrowed(slice),
        None => Cow::Owned(t.iter().copied().collect()),
    }
}

/// The seed of one run: the user's seed, k and the run number, mixed (splitmix64).
fn run_seed(seed: u64, k: usize, run: usize) -> u64 {
    let mut z = seed ^ ((k as u64) << 32) ^ (run as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Nearest centroid of every row (ties to the lower label) and the total squared distance, with
/// the same kernel as the fit.
pub(crate) fn assign(matrix: ArrayView2<'_, f64>, centroids: ArrayView2<'_, f64>) -> (Vec<u32>, f64) {
    let columns = column_major(matrix);
    let data = Columns::new(&columns, matrix.ncols().max(1));
    let centroids: Vec<f64> = centroids.iter().copied().collect();
    let mut labels = vec![0u32; matrix.nrows()];
    let sums = lloyd::assign_all(data, &mut labels, &centroids, Pass::Full);
    (labels, sums.inertia)
}

/// Renumbers clusters by mean `monetary` (or, without it, the first feature) descending, so
/// cluster 0 is the most valuable; equal means keep the fit's order.
pub(crate) fn order_by_value(
    solution: Solution,
    customers: &DataFrame,
    first_feature: &str,
) -> Result<Solution> {
    let k = solution.centroids.nrows();
    let column = if customers.column(MONETARY).is_ok() {
        MONETARY
    } else {
        first_feature
    };
    let values = crate::frame::column_f64(customers, column)?;
    let mut sums = vec![0.0; k];
    let mut counts = vec![0usize; k];
    for (label, value) in solution.labels.iter().zip(&values) {
        sums[*label as usize] += value;
        counts[*label as usize] += 1;
    }
    let mean = |c: usize| {
        if counts[c] == 0 {
            f64::NEG_INFINITY
        } else {
            sums[c] / counts[c] as f64
        }
    };
    let mut order: Vec<usize> = (0..k).collect();
    order.sort_by(|a, b| mean(*b).total_cmp(&mean(*a)).then(a.cmp(b)));
    let mut new_label = vec![0u32; k];
    for (new, old) in order.iter().enumerate() {
        new_label[*old] = new as u32;
    }
    let centroids = solution.centroids.select(Axis(0), &order);
    let labels = solution.labels.iter().map(|l| new_label[*l as usize]).collect();
    Ok(Solution {
        centroids,
        labels,
        inertia: solution.inertia,
    })
}

/// What identifies a saved model file.
pub const MODEL_FORMAT: &str = "clientele-cluster-model";

/// A fitted clustering that can place new customers: the feature transform, the centroids in
/// label order and how the labels were ordered. Saved as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterModel {
    /// Always [`MODEL_FORMAT`].
    pub format: String,
    /// Model file version.
    pub version: u32,
    /// The clientele version that fitted it.
    pub clientele_version: String,
    /// The fitted feature transform.
    pub transform: FeatureTransform,
    /// Centroids in scaled units; row i is cluster i.
    pub centroids: Vec<Vec<f64>>,
    /// How cluster numbers were ordered.
    pub label_order: String,
    /// The parameters of the fit.
    pub fitted_with: ClusterValidParams,
}

impl ClusterModel {
    pub(crate) fn new(
        transform: FeatureTransform,
        centroids: &Array2<f64>,
        params: &ClusterValidParams,
    ) -> Self {
        ClusterModel {
            format: MODEL_FORMAT.into(),
            version: 1,
            clientele_version: env!("CARGO_PKG_VERSION").into(),
            transform,
            centroids: centroids.rows().into_iter().map(|r| r.to_vec()).collect(),
            label_order: "cluster 0 has the highest mean monetary value, then descending".into(),
            fitted_with: params.clone(),
        }
    }

    /// Number of clusters.
    pub fn k(&self) -> usize {
        self.centroids.len()
    }

    /// The centroids as a matrix.
    pub fn centroid_matrix(&self) -> Array2<f64> {
        let d = self.transform.features.len();
        Array2::from_shape_fn((self.k(), d), |(i, j)| self.centroids[i][j])
    }

    /// The nearest cluster of every customer in `customers`, on this model's scale.
    ///
    /// # Errors
    ///
    /// [`Error::Cluster`] when a feature is missing or not finite.
    pub fn assign(&self, customers: &DataFrame) -> Result<Vec<u32>> {
        let matrix = self.transform.apply(customers)?;
        Ok(assign(matrix.view(), self.centroid_matrix().view()).0)
    }

    /// The model as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a model serializes")
    }

    /// Writes the model as JSON (atomically).
    ///
    /// # Errors
    ///
    /// I/O errors.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        write_bytes(path, self.to_json().as_bytes())
    }

    /// Reads a model saved by [`ClusterModel::save`].
    ///
    /// # Errors
    ///
    /// I/O errors; [`Error::Cluster`] when the file is not a valid clientele model.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| Error::io("cannot read", path, e))?;
        let invalid = |detail: String| Error::Cluster {
            detail: format!("{}: {detail}", path.display()),
        };
        let model: ClusterModel = serde_json::from_str(&text)
            .map_err(|e| invalid(format!("not a clientele cluster model: {e}")))?;
        if model.format != MODEL_FORMAT || model.version != 1 {
            return Err(invalid(format!(
                "unsupported model format {:?} version {}",
                model.format, model.version
            )));
        }
        let d = model.transform.features.len();
        let consistent = model.k() >= 1
            && model
                .centroids
                .iter()
                .all(|c| c.len() == d && c.iter().all(|x| x.is_finite()))
            && model.transform.center.len() == d
            && model.transform.scale_by.len() == d;
        if !consistent {
            return Err(invalid(
                "centroids and transform do not match the features".into(),
            ));
        }
        Ok(model)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn the_same_fit_with_one_two_or_four_threads() {
        // Restarts run in parallel and passes split into chunks: neither may change a bit.
        let n = 3 * super::lloyd::CHUNK + 101;
        let matrix = Array2::from_shape_fn((n, 3), |(i, j)| {
            let h = (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (20 + 7 * j);
            (h % 1000) as f64 / 100.0 + (i % 4) as f64
        });
        let params = crate::cluster::ClusterParams::new()
            .k(crate::cluster::ClusterCount::Fixed(6))
            .n_init(5)
            .check()
            .unwrap();
        let with = |threads| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| run(matrix.view(), 6, &params).unwrap())
        };
        let one = with(1);
        for threads in [2, 4] {
            let other = with(threads);
            assert_eq!(one.labels, other.labels, "{threads} threads");
            assert_eq!(one.centroids, other.centroids, "{threads} threads");
            assert_eq!(
                one.inertia.to_bits(),
                other.inertia.to_bits(),
                "{threads} threads"
            );
        }
    }

    #[test]
    fn tolerance_is_relative_to_the_mean_variance() {
        let m = array![[0.0, 0.0], [2.0, 4.0]]; // variances 1 and 4, mean 2.5
        assert!((absolute_tolerance(m.view(), 1e-4) - 2.5e-4).abs() < 1e-18);
        assert_eq!(absolute_tolerance(m.view(), 0.0), 0.0);
    }
}
