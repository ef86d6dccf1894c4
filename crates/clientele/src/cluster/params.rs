//! Clustering parameters: unchecked [`ClusterParams`], checked [`ClusterValidParams`].

use serde::{Deserialize, Serialize};

use crate::error::ParamError;

/// The transform applied to each feature before scaling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transform {
    /// Features as they are.
    None,
    /// `sign(x) · ln(1 + |x|)`: `log1p` for the skewed, non-negative measures (recency,
    /// frequency, money), extended symmetrically to negative values, so a customer whose returns
    /// exceed its purchases (monetary < 0) maps to a negative value rather than NaN.
    #[default]
    Log1p,
}

/// How transformed features are scaled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scale {
    /// No scaling.
    None,
    /// z-score: `(x − mean) / standard deviation` (population deviation, as scikit-learn's
    /// `StandardScaler`); a constant feature gets scale 1.
    #[default]
    Standard,
    /// `(x − median) / interquartile range` (scikit-learn's `RobustScaler`); a zero range gets
    /// scale 1.
    Robust,
}

/// How many clusters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClusterCount {
    /// Exactly k.
    Fixed(usize),
    /// The k of `min..=max` at the knee of the inertia curve.
    Auto {
        /// Smallest k tried.
        min: usize,
        /// Largest k tried.
        max: usize,
    },
}

impl ClusterCount {
    /// The range of k that `auto` tries unless told otherwise: 2 to 10.
    pub const DEFAULT_AUTO_RANGE: (usize, usize) = (2, 10);
}

impl Default for ClusterCount {
    fn default() -> Self {
        ClusterCount::Fixed(4)
    }
}

/// The default features.
pub const DEFAULT_FEATURES: [&str; 3] = ["recency_days", "frequency", "monetary"];

/// Above this many customers the silhouette is computed on a seeded sample of this size.
pub const SILHOUETTE_EXACT_LIMIT: usize = 20_000;

/// Unchecked clustering parameters.
///
/// ```
/// use clientele::cluster::{ClusterCount, ClusterParams};
///
/// let params = ClusterParams::new().k(ClusterCount::Auto { min: 2, max: 8 }).seed(7).check()?;
/// assert_eq!(params.n_init(), 10);
/// assert!(ClusterParams::new().k(ClusterCount::Fixed(1)).check().is_err());
/// # Ok::<(), clientele::ParamError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterParams {
    features: Vec<String>,
    transform: Transform,
    scale: Scale,
    k: ClusterCount,
    n_init: usize,
    max_iter: u64,
    tolerance: f64,
    seed: u64,
    silhouette_sample: usize,
}

impl Default for ClusterParams {
    fn default() -> Self {
        Self::new()
    }
}

impl ClusterParams {
    /// Defaults: recency_days, frequency and monetary; log1p then z-score; k = 4; 10 runs of
    /// k-means++ and Lloyd iterations (at most 300, tolerance 1e-4); seed 42.
    pub fn new() -> Self {
        ClusterParams {
            features: DEFAULT_FEATURES.iter().map(|s| s.to_string()).collect(),
            transform: Transform::Log1p,
            scale: Scale::Standard,
            k: ClusterCount::Fixed(4),
            n_init: 10,
            max_iter: 300,
            tolerance: 1e-4,
            seed: 42,
            silhouette_sample: SILHOUETTE_EXACT_LIMIT,
        }
    }

    /// Sets the feature columns.
    pub fn features<S: Into<String>>(mut self, features: impl IntoIterator<Item = S>) -> Self {
        self.features = features.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the transform.
    pub fn transform(mut self, transform: Transform) -> Self {
        self.transform = transform;
        self
    }

    /// Sets the scaling.
    pub fn scale(mut self, scale: Scale) -> Self {
        self.scale = scale;
        self
    }

    /// Sets the number of clusters, or a range to choose from.
    pub fn k(mut self, k: ClusterCount) -> Self {
        self.k = k;
        self
    }

    /// Sets the number of k-means runs (different seeds); the best is kept.
    pub fn n_init(mut self, n_init: usize) -> Self {
        self.n_init = n_init;
        self
    }

    /// Sets the iteration limit of each run.
    pub fn max_iter(mut self, max_iter: u64) -> Self {
        self.max_iter = max_iter;
        self
    }

    /// Sets the convergence tolerance, as scikit-learn defines it: a run stops when the squared
    /// movement of the centroids (summed over all their coordinates) is at most
    /// `tolerance × the mean variance of the features`.
    pub fn tolerance(mut self, tolerance: f64) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// Sets the random seed (initialisation, silhouette sample).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Sets the silhouette sample size used above that many customers.
    pub fn silhouette_sample(mut self, size: usize) -> Self {
        self.silhouette_sample = size;
        self
    }

    /// Validates the parameters.
    ///
    /// # Errors
    ///
    /// [`ParamError::OutOfRange`] for k < 2, an empty or reversed k range, n_init or max_iter
    /// of 0, a negative or non-finite tolerance, a silhouette sample below 100;
    /// [`ParamError::Features`] for no or repeated features.
    pub fn check(self) -> Result<ClusterValidParams, ParamError> {
        let out_of_range = |name, expected, got: String| ParamError::OutOfRange { name, expected, got };
        match self.k {
            ClusterCount::Fixed(k) if k < 2 => return Err(out_of_range("k", "at least 2", k.to_string())),
            ClusterCount::Auto { min, max } if min < 2 || max < min => {
                return Err(out_of_range(
                    "k range",
                    "min ≥ 2 and max ≥ min",
                    format!("{min}..={max}"),
                ));
            }
            _ => {}
        }
        if self.n_init == 0 {
            return Err(out_of_range("n_init", "at least 1", "0".into()));
        }
        if self.max_iter == 0 {
            return Err(out_of_range("max_iter", "at least 1", "0".into()));
        }
        if !(self.tolerance.is_finite() && self.tolerance >= 0.0) {
            return Err(out_of_range(
                "tolerance",
                "a finite number ≥ 0",
                self.tolerance.to_string(),
            ));
        }
        if self.silhouette_sample < 100 {
            return Err(out_of_range(
                "silhouette sample",
                "at least 100",
                self.silhouette_sample.to_string(),
            ));
        }
        if self.features.is_empty() {
            return Err(ParamError::Features {
                detail: "give at least one feature column".into(),
            });
        }
        if let Some(dup) = self
            .features
            .iter()
            .enumerate()
            .find(|(i, f)| self.features[..*i].contains(f))
        {
            return Err(ParamError::Features {
                detail: format!("{:?} is given twice", dup.1),
            });
        }
        Ok(ClusterValidParams(self))
    }
}

/// Checked clustering parameters. Deserializing checks them again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(into = "ClusterParams", try_from = "ClusterParams")]
pub struct ClusterValidParams(ClusterParams);

impl From<ClusterValidParams> for ClusterParams {
    fn from(valid: ClusterValidParams) -> Self {
        valid.0
    }
}

impl TryFrom<ClusterParams> for ClusterValidParams {
    type Error = ParamError;

    fn try_from(params: ClusterParams) -> Result<Self, ParamError> {
        params.check()
    }
}

impl ClusterValidParams {
    /// Feature columns.
    pub fn features(&self) -> &[String] {
        &self.0.features
    }
    /// Transform.
    pub fn transform(&self) -> Transform {
        self.0.transform
    }
    /// Scaling.
    pub fn scale(&self) -> Scale {
        self.0.scale
    }
    /// Number of clusters or range.
    pub fn k(&self) -> ClusterCount {
        self.0.k
    }
    /// Runs per k.
    pub fn n_init(&self) -> usize {
        self.0.n_init
    }
    /// Iteration limit per run.
    pub fn max_iter(&self) -> u64 {
        self.0.max_iter
    }
    /// Convergence tolerance.
    pub fn tolerance(&self) -> f64 {
        self.0.tolerance
    }
    /// Seed.
    pub fn seed(&self) -> u64 {
        self.0.seed
    }
    /// Silhouette sample size.
    pub fn silhouette_sample(&self) -> usize {
        self.0.silhouette_sample
    }
}
