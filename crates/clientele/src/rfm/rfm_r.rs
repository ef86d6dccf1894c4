//! Scores as the R package rfm 0.3 computes them (`rfm_table_order`, `--preset rfm-r`).
//!
//! For `n` bins, rfm's `bins()` (R/utils.R) takes R's `quantile(x, probs = seq(0, 1,
//! length.out = n + 1))` (type 7), drops the first and last and **adds 1**: breaks
//! `b₁ … bₙ₋₁`. `rfm_prep_bins` (R/rfm-table-transaction.R) then gives class k to the values
//! with `lower[k] ≤ x < upper[k]`, lower bounds `min(x), b₁ … bₙ₋₁`, upper bounds
//! `b₁ … bₙ₋₁, max(x) + 1`; custom thresholds (a vector instead of a number of bins) are used
//! as breaks as they are. Frequency and monetary scores are the class, recency scores are
//! reversed (`rev(seq_len(n))`: class 1, the smallest recency, scores n).
//!
//! Every value of `[min(x), max(x) + 1)` falls in exactly one interval when the breaks
//! ascend, so the class is `1 + #{k : bₖ ≤ x}`; a property test compares this with a
//! transcription of R's loops.

/// R's `quantile(x, p, type = 7)` of ascending `sorted` values, as R's `quantile.default`
/// computes it: `index = 1 + (n − 1)·p`, `lo = floor(index)`, `h = index − lo`, then
/// `(1 − h)·x[lo] + h·x[hi]` where `index > lo` and `x[hi] ≠ x[lo]`, else `x[lo]` (1-based).
///
/// ```
/// use clientele::rfm::rfm_r::quantile_type7;
///
/// assert_eq!(quantile_type7(&[1.0, 2.0, 4.0, 8.0, 16.0], 0.2), 1.8);
/// assert_eq!(quantile_type7(&[3.0, 3.0, 7.0], 0.25), 3.0);
/// ```
///
/// # Panics
///
/// If `sorted` is empty.
pub fn quantile_type7(sorted: &[f64], p: f64) -> f64 {
    assert!(!sorted.is_empty(), "quantile of no values");
    let n = sorted.len() as f64;
    let p = p.clamp(0.0, 1.0);
    let index = 1.0 + (n - 1.0).max(0.0) * p;
    let lo = index.floor();
    let hi = index.ceil();
    let x_lo = sorted[lo as usize - 1];
    let x_hi = sorted[hi as usize - 1];
    if index > lo && x_hi != x_lo {
        let h = index - lo;
        (1.0 - h) * x_lo + h * x_hi
    } else {
        x_lo
    }
}

/// The inner probabilities of `seq(0, 1, length.out = bins + 1)`: `k · (1 / bins)` for
/// k = 1 … bins − 1, as R's `seq.default` computes them (`from + k · by`).
pub fn probabilities(bins: usize) -> Vec<f64> {
    let by = 1.0 / bins as f64;
    (1..bins).map(|k| 0.0 + k as f64 * by).collect()
}

/// rfm's breaks for `bins` bins: the type-7 quantiles at [`probabilities`] plus 1.
///
/// ```
/// use clientele::rfm::rfm_r::breaks;
///
/// // quantile(c(1, 2, 2, 3, 9), c(.25, .5, .75)) = 2 2 3 in R.
/// assert_eq!(breaks(&[1.0, 2.0, 2.0, 3.0, 9.0], 4), [3.0, 3.0, 4.0]);
/// ```
pub fn breaks(sorted: &[f64], bins: usize) -> Vec<f64> {
    probabilities(bins)
        .into_iter()
        .map(|p| quantile_type7(sorted, p) + 1.0)
        .collect()
}

/// The class of `x` (1-based): `1 + #{b in breaks : b ≤ x}`, i.e. the k with
/// `lower[k] ≤ x < upper[k]`.
pub fn class_of(x: f64, breaks: &[f64]) -> u8 {
    1 + breaks.iter().filter(|b| **b <= x).count() as u8
}

/// The classes of `values` under rfm's rule with `bins` bins: breaks from the values'
/// quantiles, then [`class_of`].
///
/// ```
/// use clientele::rfm::rfm_r::classes;
///
/// assert_eq!(classes(&[1.0, 2.0, 3.0, 4.0, 5.0], 5), [1, 1, 2, 3, 4]);
/// ```
pub fn classes(values: &[f64], bins: usize) -> Vec<u8> {
    let mut sorted = values.to_vec();
    sorted.sort_unstable_by(f64::total_cmp);
    let breaks = breaks(&sorted, bins);
    values.iter().map(|x| class_of(*x, &breaks)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probabilities_are_r_seq() {
        // seq(0, 1, length.out = 6)[2:5] in R: 0.2 0.4 0.6000000000000001 0.8
        assert_eq!(probabilities(5), [0.2, 0.4, 0.6000000000000001, 0.8]);
    }

    #[test]
    fn rfm_data_orders_thresholds_of_the_package_example() {
        // quantile(1:10, c(.2, .4, .6, .8)) = 2.8 4.6 6.4 8.2 in R.
        let v: Vec<f64> = (1..=10).map(f64::from).collect();
        let q: Vec<f64> = probabilities(5).iter().map(|p| quantile_type7(&v, *p)).collect();
        for (got, want) in q.iter().zip([2.8, 4.6, 6.4, 8.2]) {
            assert!((got - want).abs() < 1e-12, "{q:?}");
        }
    }
}
