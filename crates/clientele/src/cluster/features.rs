//! The feature matrix: customer columns → transform → scale, and back.

use ndarray::{Array2, ShapeBuilder};
use polars::prelude::*;
use serde::{Deserialize, Serialize};

use super::params::{Scale, Transform};
use crate::customers::col_names::CUSTOMER_ID;
use crate::error::{Error, PolarsContext, Result};
use crate::rfm::score::linear_quantile;

/// A fitted feature transform: `z = (t(x) − center) / scale` per feature, where `t` is the
/// [`Transform`]. Saved with a cluster model so new customers are placed on the same scale.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureTransform {
    /// Feature columns, in matrix column order.
    pub features: Vec<String>,
    /// The transform applied first.
    pub transform: Transform,
    /// The scaling applied next.
    pub scale: Scale,
    /// Per feature: the value subtracted after the transform (mean or median).
    pub center: Vec<f64>,
    /// Per feature: the divisor after centering (standard deviation or interquartile range).
    pub scale_by: Vec<f64>,
}

impl Transform {
    /// Applies the transform to one value.
    pub fn apply(self, x: f64) -> f64 {
        match self {
            Transform::None => x,
            Transform::Log1p => x.signum() * x.abs().ln_1p(),
        }
    }

    /// Inverts the transform.
    pub fn invert(self, t: f64) -> f64 {
        match self {
            Transform::None => t,
            Transform::Log1p => t.signum() * t.abs().exp_m1(),
        }
    }
}

/// The transformed (not yet scaled) matrix of `features`, `n_customers × n_features`, filled
/// straight from the column buffers: one copy, no intermediate frame.
///
/// # Errors
///
/// [`Error::Cluster`] when a feature is missing, not numeric, or has a null or non-finite
/// value (naming the customer).
pub fn transformed_matrix(
    frame: &DataFrame,
    features: &[String],
    transform: Transform,
) -> Result<Array2<f64>> {
    let n = frame.height();
    // Column-major: each feature is filled contiguously, and k-means reads columns.
    let mut matrix = Array2::<f64>::zeros((n, features.len()).f());
    for (j, name) in features.iter().enumerate() {
        let column = frame.column(name).map_err(|_| Error::Cluster {
            detail: format!(
                "feature {name:?} is not a customer column (available: {})",
                frame
                    .get_column_names()
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        })?;
        let mut target = matrix.column_mut(j);
        let bad = |row: usize, value: String| Error::Cluster {
            detail: format!(
                "feature {name:?} of customer {} is {value}; clustering needs a finite number for every customer",
                customer_at(frame, row)
            ),
        };
        match column.dtype() {
            DataType::Float64 => {
                for (row, v) in column.f64().context(|| name.clone())?.iter().enumerate() {
                    match v {
                        Some(x) if x.is_finite() => target[row] = transform.apply(x),
                        Some(x) => return Err(bad(row, x.to_string())),
                        None => return Err(bad(row, "missing".into())),
                    }
                }
            }
            DataType::Int64 => {
                for (row, v) in column.i64().context(|| name.clone())?.iter().enumerate() {
                    match v {
                        Some(x) => target[row] = transform.apply(x as f64),
                        None => return Err(bad(row, "missing".into())),
                    }
                }
            }
            dtype if dtype.is_primitive_numeric() => {
                let cast = column.cast(&DataType::Float64).context(|| name.clone())?;
                for (row, v) in cast.f64().context(|| name.clone())?.iter().enumerate() {
                    match v {
                        Some(x) if x.is_finite() => target[row] = transform.apply(x),
                        Some(x) => return Err(bad(row, x.to_string())),
                        None => return Err(bad(row, "missing".into())),
                    }
                }
            }
            dtype => {
                return Err(Error::Cluster {
                    detail: format!("feature {name:?} has type {dtype}, not a number"),
                });
            }
        }
    }
    Ok(matrix)
}

fn customer_at(frame: &DataFrame, row: usize) -> String {
    frame
        .column(CUSTOMER_ID)
        .ok()
        .and_then(|c| c.get(row).ok().map(|v| v.to_string()))
        .unwrap_or_else(|| format!("in row {}", row + 1))
}

impl FeatureTransform {
    /// Fits the scaling on `frame` and returns it with the scaled matrix.
    ///
    /// # Errors
    ///
    /// As [`transformed_matrix`].
    pub fn fit(
        frame: &DataFrame,
        features: &[String],
        transform: Transform,
        scale: Scale,
    ) -> Result<(FeatureTransform, Array2<f64>)> {
        let mut matrix = transformed_matrix(frame, features, transform)?;
        let n = matrix.nrows() as f64;
        let mut center = Vec::with_capacity(features.len());
        let mut scale_by = Vec::with_capacity(features.len());
        for column in matrix.columns() {
            let (c, s) = match scale {
                Scale::None => (0.0, 1.0),
                Scale::Standard => {
                    let mean = column.iter().sum::<f64>() / n;
                    let var = column.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n;
                    (mean, var.sqrt())
                }
                Scale::Robust => {
                    let mut sorted: Vec<f64> = column.to_vec();
                    sorted.sort_by(f64::total_cmp);
                    let median = linear_quantile(&sorted, 0.5);
                    (
                        median,
                        linear_quantile(&sorted, 0.75) - linear_quantile(&sorted, 0.25),
                    )
                }
            };
            center.push(c);
            scale_by.push(if s > 0.0 && s.is_finite() { s } else { 1.0 });
        }
        let fitted = FeatureTransform {
            features: features.to_vec(),
            transform,
            scale,
            center,
            scale_by,
        };
        fitted.scale_in_place(&mut matrix);
        Ok((fitted, matrix))
    }

    /// The scaled matrix of another customer table, with this fitted transform.
    ///
    /// # Errors
    ///
    /// As [`transformed_matrix`].
    pub fn apply(&self, frame: &DataFrame) -> Result<Array2<f64>> {
        let mut matrix = transformed_matrix(frame, &self.features, self.transform)?;
        self.scale_in_place(&mut matrix);
        Ok(matrix)
    }

    fn scale_in_place(&self, matrix: &mut Array2<f64>) {
        for (j, mut column) in matrix.columns_mut().into_iter().enumerate() {
            let (c, s) = (self.center[j], self.scale_by[j]);
            column.mapv_inplace(|x| (x - c) / s);
        }
    }

    /// A scaled coordinate of feature `j` back in the feature's own units.
    pub fn to_raw(&self, j: usize, z: f64) -> f64 {
        self.transform.invert(z * self.scale_by[j] + self.center[j])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_log1p_round_trips_and_handles_negatives() {
        for x in [-250.0, -1.0, 0.0, 0.5, 3.0, 77183.6] {
            let t = Transform::Log1p.apply(x);
            assert!(t.is_finite());
            assert!((Transform::Log1p.invert(t) - x).abs() < 1e-9 * x.abs().max(1.0));
        }
        assert!(Transform::Log1p.apply(-5.0) < 0.0);
    }

    #[test]
    fn standard_scaling_matches_the_definition() {
        let frame =
            df!("customer_id" => [1i64, 2, 3, 4], "f" => [1.0, 2.0, 3.0, 4.0], "c" => [7i64, 7, 7, 7])
                .unwrap();
        let features = vec!["f".to_string(), "c".to_string()];
        let (fitted, m) = FeatureTransform::fit(&frame, &features, Transform::None, Scale::Standard).unwrap();
        assert_eq!(fitted.center, vec![2.5, 7.0]);
        assert!((fitted.scale_by[0] - 1.25f64.sqrt()).abs() < 1e-12);
        assert_eq!(fitted.scale_by[1], 1.0, "a constant feature keeps scale 1");
        assert!((m[[0, 0]] + 1.5 / 1.25f64.sqrt()).abs() < 1e-12);
        assert!((fitted.to_raw(0, m[[3, 0]]) - 4.0).abs() < 1e-12);
        assert_eq!(fitted.apply(&frame).unwrap(), m);
    }

    #[test]
    fn missing_values_name_the_customer() {
        let frame = df!("customer_id" => ["a", "b"], "f" => [Some(1.0), None]).unwrap();
        let err = transformed_matrix(&frame, &["f".to_string()], Transform::None).unwrap_err();
        assert!(err.to_string().contains("customer \"b\""), "{err}");
        let err = transformed_matrix(&frame, &["g".to_string()], Transform::None).unwrap_err();
        assert!(
            err.to_string().contains("\"g\" is not a customer column"),
            "{err}"
        );
    }
}
