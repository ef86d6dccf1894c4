//! k-means through linfa's traits, for code written against linfa: [`Fit`] for
//! [`ClusterValidParams`] on a matrix of features (already transformed and scaled), and
//! [`PredictInplace`] (hence linfa's `Predict`) for the fitted [`KMeansModel`] and for a
//! [`ClusterModel`] on its scaled features.
//!
//! The fit is clientele's own ([`super::kmeans`]: greedy k-means++, vectorised Lloyd passes,
//! restarts in parallel): the labels are exactly those of [`super::fit`] before clusters are
//! renumbered by value.
//!
//! ```
//! use clientele::cluster::{ClusterCount, ClusterParams};
//! use clientele::linfa::traits::{Fit, Predict};
//! use clientele::linfa::DatasetBase;
//! use clientele::ndarray::{array, Array1};
//!
//! let x = array![[0.0, 0.1], [0.2, 0.0], [5.0, 5.1], [5.2, 4.9], [0.1, 0.2], [4.9, 5.0]];
//! let params = ClusterParams::new().k(ClusterCount::Fixed(2)).check()?;
//! let model = params.fit(&DatasetBase::from(x.clone()))?;
//! let labels: Array1<usize> = model.predict(&x);
//! assert_eq!(labels[0], labels[1]);
//! assert_ne!(labels[0], labels[2]);
//! assert_eq!(labels[2], labels[5]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use linfa::DatasetBase;
use linfa::traits::{Fit, PredictInplace};
use ndarray::{Array1, Array2, ArrayBase, ArrayView2, Data, Ix2};

use super::kmeans::{self, ClusterModel};
use super::params::{ClusterCount, ClusterValidParams};
use crate::error::{Error, Result};

/// Centroids fitted by [`Fit::fit`] on a matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct KMeansModel {
    /// Centroids, row `j` is cluster `j`, in the matrix's units.
    pub centroids: Array2<f64>,
    /// Sum over the rows of the squared distance to their centroid.
    pub inertia: f64,
}

impl<D: Data<Elem = f64>, T> Fit<ArrayBase<D, Ix2>, T, Error> for ClusterValidParams {
    type Object = KMeansModel;

    /// k-means on the records as they are (no transform, no scaling), with these parameters'
    /// k, n_init, max_iter, tolerance and seed.
    ///
    /// # Errors
    ///
    /// [`Error::Cluster`] when k is a range (a fit takes one k) or exceeds the number of rows.
    fn fit(&self, dataset: &DatasetBase<ArrayBase<D, Ix2>, T>) -> Result<KMeansModel> {
        let ClusterCount::Fixed(k) = self.k() else {
            return Err(Error::Cluster {
                detail: "linfa's Fit fits one k: give ClusterCount::Fixed".into(),
            });
        };
        let solution = kmeans::run(dataset.records.view(), k, self)?;
        Ok(KMeansModel {
            centroids: solution.centroids,
            inertia: solution.inertia,
        })
    }
}

impl From<linfa::Error> for Error {
    fn from(error: linfa::Error) -> Self {
        Error::Cluster {
            detail: format!("linfa: {error}"),
        }
    }
}

/// Nearest centroid of every row into `y`; panics, as linfa's models do, when the shapes
/// disagree.
fn predict_into(x: ArrayView2<'_, f64>, centroids: ArrayView2<'_, f64>, y: &mut Array1<usize>) {
    assert_eq!(x.nrows(), y.len(), "one target per row");
    assert_eq!(x.ncols(), centroids.ncols(), "as many features as the centroids");
    let (labels, _) = kmeans::assign(x, centroids);
    for (target, label) in y.iter_mut().zip(labels) {
        *target = label as usize;
    }
}

impl<D: Data<Elem = f64>> PredictInplace<ArrayBase<D, Ix2>, Array1<usize>> for KMeansModel {
    /// Each row's nearest centroid (ties to the lower number).
    fn predict_inplace(&self, x: &ArrayBase<D, Ix2>, y: &mut Array1<usize>) {
        predict_into(x.view(), self.centroids.view(), y);
    }

    fn default_target(&self, x: &ArrayBase<D, Ix2>) -> Array1<usize> {
        Array1::zeros(x.nrows())
    }
}

impl<D: Data<Elem = f64>> PredictInplace<ArrayBase<D, Ix2>, Array1<usize>> for ClusterModel {
    /// Each row's cluster; the rows are features on this model's scale (as
    /// [`super::FeatureTransform::apply`] returns them).
    fn predict_inplace(&self, x: &ArrayBase<D, Ix2>, y: &mut Array1<usize>) {
        predict_into(x.view(), self.centroid_matrix().view(), y);
    }

    fn default_target(&self, x: &ArrayBase<D, Ix2>) -> Array1<usize> {
        Array1::zeros(x.nrows())
    }
}

#[cfg(test)]
mod tests {
    use linfa::traits::Predict;
    use polars::prelude::*;

    use super::*;
    use crate::cluster::{self, ClusterParams, FeatureTransform};

    fn customers() -> DataFrame {
        let n = 3_000i64;
        df!(
            "customer_id" => (0..n).collect::<Vec<_>>(),
            "recency_days" => (0..n).map(|i| (i * 37) % 400).collect::<Vec<_>>(),
            "frequency" => (0..n).map(|i| 1 + (i * 11) % 9 + i % 3).collect::<Vec<_>>(),
            "monetary" => (0..n).map(|i| 10.0 + ((i * 53) % 997) as f64 * 1.5).collect::<Vec<_>>(),
        )
        .unwrap()
    }

    #[test]
    fn linfa_fit_and_predict_give_clientele_s_labels() {
        let frame = customers();
        let params = ClusterParams::new().k(ClusterCount::Fixed(5)).check().unwrap();
        let (_, matrix) =
            FeatureTransform::fit(&frame, params.features(), params.transform(), params.scale()).unwrap();
        let own = kmeans::run(matrix.view(), 5, &params).unwrap();

        let model = params.fit(&DatasetBase::from(matrix.clone())).unwrap();
        assert_eq!(model.centroids, own.centroids);
        assert_eq!(model.inertia.to_bits(), own.inertia.to_bits());
        let labels: Array1<usize> = model.predict(&matrix);
        let own_labels: Vec<usize> = own.labels.iter().map(|l| *l as usize).collect();
        assert_eq!(labels.to_vec(), own_labels);

        // The saved model predicts the value-ordered clusters of `cluster::fit`.
        let fitted = cluster::fit(&frame, &params).unwrap();
        let labels: Array1<usize> = fitted.model.predict(&matrix);
        let fit_labels: Vec<usize> = fitted.labels.iter().map(|l| *l as usize).collect();
        assert_eq!(labels.to_vec(), fit_labels);
    }

    #[test]
    fn the_silhouette_agrees_with_linfa_s() {
        use linfa::prelude::SilhouetteScore;

        let frame = customers().head(Some(600));
        let params = ClusterParams::new().k(ClusterCount::Fixed(4)).check().unwrap();
        let (_, matrix) =
            FeatureTransform::fit(&frame, params.features(), params.transform(), params.scale()).unwrap();
        let fit = kmeans::run(matrix.view(), 4, &params).unwrap();
        let (ours, used) = cluster::choose_k::silhouette(matrix.view(), &fit.labels, 4, 1_000, 0);
        assert_eq!(used, 600);
        let labels: Array1<usize> = fit.labels.iter().map(|l| *l as usize).collect();
        let linfa = DatasetBase::new(matrix, labels).silhouette_score().unwrap();
        assert!((ours - linfa).abs() < 1e-12, "clientele {ours}, linfa {linfa}");
    }

    #[test]
    fn a_range_of_k_is_refused() {
        let params = ClusterParams::new()
            .k(ClusterCount::Auto { min: 2, max: 4 })
            .check()
            .unwrap();
        let x = ndarray::Array2::<f64>::zeros((10, 2));
        assert!(params.fit(&DatasetBase::from(x)).is_err());
    }
}
