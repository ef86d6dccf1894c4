//! k-means customer clusters: scaled features, value-ordered labels, profiles, choosing k, and
//! saved models for assigning new customers.
//!
//! The features (default `recency_days`, `frequency`, `monetary`) are transformed (`log1p` by
//! default, extended to negative values as `sign(x)·ln(1 + |x|)`) and scaled (z-score by
//! default); k-means (`n_init` runs, each seeded by greedy k-means++ and iterated by Lloyd's
//! algorithm; the lowest inertia kept) runs on that matrix. Clusters are then renumbered so cluster 0 has the highest mean monetary value. With
//! [`ClusterCount::Auto`] every k of the range is fitted and scored, and the knee of the inertia
//! curve wins. See [`choose_k`] for the quality measures and the rule.
//!
//! ```
//! use clientele::cluster::{self, ClusterCount, ClusterParams};
//! use clientele::polars::prelude::*;
//!
//! let customers = df!(
//!     "customer_id" => (1..=8i64).collect::<Vec<_>>(),
//!     "recency_days" => [3i64, 5, 4, 200, 220, 210, 90, 100],
//!     "frequency" => [20i64, 25, 22, 1, 1, 2, 5, 6],
//!     "monetary" => [5000.0, 6200.0, 5800.0, 30.0, 45.0, 60.0, 700.0, 650.0],
//! )?;
//! let fitted = cluster::fit(&customers, &ClusterParams::new().k(ClusterCount::Fixed(3)).check()?)?;
//! assert_eq!(fitted.labels, [0, 0, 0, 2, 2, 2, 1, 1]); // cluster 0 spends the most
//! assert_eq!(fitted.profiles[0].description, "recent, frequent, high spend");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod choose_k;
pub mod estimator;
pub mod features;
mod kernel;
pub mod kmeans;
mod lloyd;
pub mod params;
pub mod profile;
mod seeding;

use ndarray::Array2;
use polars::prelude::*;
use serde::Serialize;

pub use self::choose_k::{KAlternatives, KScore};
pub use self::estimator::KMeansModel;
pub use self::features::FeatureTransform;
pub use self::kmeans::ClusterModel;
pub use self::params::{ClusterCount, ClusterParams, ClusterValidParams, Scale, Transform};
pub use self::profile::{ClusterProfile, FeatureProfile};
use crate::error::{PolarsContext, Result};

/// Name of the cluster column.
pub const CLUSTER: &str = "cluster";

/// How the number of clusters was settled.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KChosenBy {
    /// Given by the user.
    Given,
    /// The knee of the inertia curve over a range ([`choose_k::best_by_knee`]).
    InertiaKnee {
        /// Smallest k tried.
        min: usize,
        /// Largest k tried.
        max: usize,
    },
    /// A saved model.
    SavedModel,
}

/// Clusters of a customer table.
#[derive(Debug, Clone)]
pub struct Clustering {
    /// The model: transform, centroids, label order.
    pub model: ClusterModel,
    /// Each customer's cluster, in the table's row order.
    pub labels: Vec<u32>,
    /// Quality of the clustering used.
    pub quality: KScore,
    /// Quality of every k tried (only with [`ClusterCount::Auto`]).
    pub sweep: Vec<KScore>,
    /// How k was chosen.
    pub chosen_by: KChosenBy,
    /// What every rule would choose (only with [`ClusterCount::Auto`]).
    pub alternatives: Option<KAlternatives>,
    /// One profile per cluster.
    pub profiles: Vec<ClusterProfile>,
}

/// What a report says about clusters.
#[derive(Debug, Clone, Serialize)]
pub struct ClusterSummary {
    /// Number of clusters.
    pub k: usize,
    /// How k was chosen.
    pub chosen_by: KChosenBy,
    /// The fitted transform (to place new customers on the same scale).
    pub transform: FeatureTransform,
    /// Quality of the clustering.
    pub quality: KScore,
    /// Every k tried, with `--k auto`.
    pub sweep: Vec<KScore>,
    /// What every rule would choose, with `--k auto`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alternatives: Option<KAlternatives>,
    /// Per cluster.
    pub profiles: Vec<ClusterProfile>,
}

/// Fits clusters on a customer table (see the module documentation).
///
/// # Errors
///
/// [`crate::Error::Cluster`] for missing or non-finite features or fewer customers than k.
pub fn fit(customers: &DataFrame, params: &ClusterValidParams) -> Result<Clustering> {
    let (transform, matrix) =
        FeatureTransform::fit(customers, params.features(), params.transform(), params.scale())?;
    let (ks, chosen_by) = match params.k() {
        ClusterCount::Fixed(k) => (vec![k], KChosenBy::Given),
        ClusterCount::Auto { min, max } => ((min..=max).collect(), KChosenBy::InertiaKnee { min, max }),
    };
    let mut fits = Vec::with_capacity(ks.len());
    for k in ks {
        let solution = kmeans::run(matrix.view(), k, params)?;
        let solution = kmeans::order_by_value(solution, customers, &params.features()[0])?;
        let quality = score_of(&matrix, &solution, params);
        fits.push((quality, solution));
    }
    let sweep: Vec<KScore> = fits.iter().map(|(q, _)| q.clone()).collect();
    let best = choose_k::best_by_knee(&sweep).expect("at least one k");
    let alternatives = (chosen_by != KChosenBy::Given)
        .then(|| KAlternatives::of(&sweep))
        .flatten();
    let (quality, solution) = fits
        .into_iter()
        .find(|(q, _)| q.k == best)
        .expect("best k was fitted");
    let model = ClusterModel::new(transform, &solution.centroids, params);
    let profiles = profile::profiles(customers, &solution.labels, &model.transform, &solution.centroids)?;
    Ok(Clustering {
        model,
        labels: solution.labels,
        quality,
        sweep: if chosen_by == KChosenBy::Given {
            Vec::new()
        } else {
            sweep
        },
        chosen_by,
        alternatives,
        profiles,
    })
}

fn score_of(matrix: &Array2<f64>, solution: &kmeans::Solution, params: &ClusterValidParams) -> KScore {
    choose_k::score(
        matrix.view(),
        &solution.labels,
        solution.centroids.view(),
        solution.inertia,
        params.silhouette_sample(),
        params.seed(),
    )
}

/// Assigns a customer table to a saved model's clusters (nearest centroid on the model's scale).
///
/// # Errors
///
/// [`crate::Error::Cluster`] when the table lacks a model feature or has non-finite values.
pub fn apply(customers: &DataFrame, model: &ClusterModel) -> Result<Clustering> {
    let matrix = model.transform.apply(customers)?;
    let centroids = model.centroid_matrix();
    let (labels, inertia) = kmeans::assign(matrix.view(), centroids.view());
    let params = &model.fitted_with;
    let quality = choose_k::score(
        matrix.view(),
        &labels,
        centroids.view(),
        inertia,
        params.silhouette_sample(),
        params.seed(),
    );
    let profiles = profile::profiles(customers, &labels, &model.transform, &centroids)?;
    Ok(Clustering {
        model: model.clone(),
        labels,
        quality,
        sweep: Vec::new(),
        chosen_by: KChosenBy::SavedModel,
        alternatives: None,
        profiles,
    })
}

impl Clustering {
    /// Number of clusters.
    pub fn k(&self) -> usize {
        self.model.k()
    }

    /// Adds the `cluster` column (`UInt32`) to the table the clustering was computed on.
    ///
    /// # Errors
    ///
    /// When the frame's height differs from the number of labels.
    pub fn add_column(&self, frame: &mut DataFrame) -> Result<()> {
        frame
            .with_column(Column::new(CLUSTER.into(), &self.labels))
            .context(|| "adding cluster labels".into())?;
        Ok(())
    }

    /// The report section.
    pub fn summary(&self) -> ClusterSummary {
        ClusterSummary {
            k: self.k(),
            chosen_by: self.chosen_by.clone(),
            transform: self.model.transform.clone(),
            quality: self.quality.clone(),
            sweep: self.sweep.clone(),
            alternatives: self.alternatives.clone(),
            profiles: self.profiles.clone(),
        }
    }
}
