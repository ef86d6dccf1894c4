//! Cluster profiles: size, value, typical feature values and a description in words.

use polars::prelude::*;
use serde::Serialize;

use super::features::FeatureTransform;
use crate::customers::col_names::MONETARY;
use crate::error::Result;
use crate::frame::{column_f64, ratio};
use crate::rfm::score::linear_quantile;

/// One feature of one cluster.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FeatureProfile {
    /// The feature column.
    pub feature: String,
    /// Mean over the cluster's customers, in the feature's units.
    pub mean: Option<f64>,
    /// Median over the cluster's customers.
    pub median: Option<f64>,
    /// The centroid coordinate back in the feature's units (for log1p features this is the
    /// geometric-style centre, not the mean).
    pub centroid: f64,
}

/// One cluster.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClusterProfile {
    /// Cluster number (0 = highest mean monetary value).
    pub cluster: u32,
    /// Customers in it.
    pub customers: usize,
    /// Share of all customers.
    pub customer_share: f64,
    /// Σ monetary, when the table has `monetary`.
    pub revenue: Option<f64>,
    /// Share of Σ monetary.
    pub revenue_share: Option<f64>,
    /// Per feature: mean, median and centroid.
    pub features: Vec<FeatureProfile>,
    /// The cluster in words, e.g. "recent, frequent, high spend".
    pub description: String,
}

/// Profiles of every cluster (empty clusters included, with no means).
pub(crate) fn profiles(
    customers: &DataFrame,
    labels: &[u32],
    transform: &FeatureTransform,
    centroids: &ndarray::Array2<f64>,
) -> Result<Vec<ClusterProfile>> {
    let k = centroids.nrows();
    let n = labels.len();
    let revenue = customers
        .column(MONETARY)
        .is_ok()
        .then(|| column_f64(customers, MONETARY))
        .transpose()?;
    let total_revenue: f64 = revenue.as_ref().map_or(0.0, |r| r.iter().sum());
    let features: Vec<Vec<f64>> = transform
        .features
        .iter()
        .map(|f| column_f64(customers, f))
        .collect::<Result<_>>()?;
    // Overall mean and deviation of each transformed feature, to describe clusters relative to
    // all customers whatever the scaling.
    let overall: Vec<(f64, f64)> = features
        .iter()
        .map(|values| {
            let t: Vec<f64> = values.iter().map(|x| transform.transform.apply(*x)).collect();
            let mean = t.iter().sum::<f64>() / t.len().max(1) as f64;
            let sd = (t.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / t.len().max(1) as f64).sqrt();
            (mean, sd)
        })
        .collect();
    let mut out = Vec::with_capacity(k);
    for c in 0..k {
        let members: Vec<usize> = (0..n).filter(|i| labels[*i] as usize == c).collect();
        let size = members.len();
        let revenue_c = revenue
            .as_ref()
            .map(|r| members.iter().map(|i| r[*i]).sum::<f64>());
        let mut words = Vec::new();
        let mut feature_profiles = Vec::with_capacity(features.len());
        for (j, values) in features.iter().enumerate() {
            let mut member_values: Vec<f64> = members.iter().map(|i| values[*i]).collect();
            member_values.sort_by(f64::total_cmp);
            let mean = (size > 0).then(|| member_values.iter().sum::<f64>() / size as f64);
            let median = (size > 0).then(|| linear_quantile(&member_values, 0.5));
            if size > 0 {
                let t_mean = member_values
                    .iter()
                    .map(|x| transform.transform.apply(*x))
                    .sum::<f64>()
                    / size as f64;
                let (m, sd) = overall[j];
                let z = if sd > 0.0 { (t_mean - m) / sd } else { 0.0 };
                words.push(describe(&transform.features[j], z));
            }
            feature_profiles.push(FeatureProfile {
                feature: transform.features[j].clone(),
                mean,
                median,
                centroid: transform.to_raw(j, centroids[[c, j]]),
            });
        }
        out.push(ClusterProfile {
            cluster: c as u32,
            customers: size,
            customer_share: ratio(size as f64, n as f64),
            revenue: revenue_c,
            revenue_share: revenue_c.map(|r| ratio(r, total_revenue)),
            features: feature_profiles,
            description: if size == 0 {
                "empty".into()
            } else {
                words.join(", ")
            },
        });
    }
    Ok(out)
}

/// A feature's level in words from its z-score against all customers (±0.5 standard deviations).
fn describe(feature: &str, z: f64) -> String {
    let level = if z >= 0.5 {
        2
    } else if z <= -0.5 {
        0
    } else {
        1
    };
    let words: [&str; 3] = match feature {
        "recency_days" => ["recent", "mid recency", "lapsed"],
        "frequency" => ["infrequent", "average frequency", "frequent"],
        "monetary" => ["low spend", "mid spend", "high spend"],
        "tenure_days" => ["new", "mid tenure", "long-standing"],
        "avg_order_value" => ["small orders", "mid-size orders", "large orders"],
        _ => return format!("{} {feature}", ["low", "average", "high"][level]),
    };
    words[level].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_follow_the_direction_of_each_measure() {
        assert_eq!(describe("recency_days", -1.0), "recent");
        assert_eq!(describe("recency_days", 1.0), "lapsed");
        assert_eq!(describe("frequency", 0.7), "frequent");
        assert_eq!(describe("monetary", 0.0), "mid spend");
        assert_eq!(describe("returns_value", 0.9), "high returns_value");
    }
}
