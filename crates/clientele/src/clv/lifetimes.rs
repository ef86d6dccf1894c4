//! Lifetime value under the conventions of the Python package lifetimes 0.11.3
//! (`--preset lifetimes`): `GammaGammaFitter.customer_lifetime_value(model, frequency, recency,
//! T, monetary_value, time, discount_rate, freq)`, transcribed step for step.
//!
//! With `time` months and a month of `factor` time units (30 for days, 4.345 for weeks: its
//! table `{"W": 4.345, "M": 1.0, "D": 30, "H": 720}`), for `i = k · factor`, k = 1 … ⌈time⌉
//! (`np.arange(1, time + 1)`):
//!
//! ```text
//! clv = Σₖ m̂ · (E[X(i)] − E[X(i − factor)]) / (1 + d)^(i / factor)
//! m̂   = (1 − w) · p·v/(q − 1) + w · m,   w = p·x / (p·x + q − 1)
//! ```
//!
//! where E[X(t)] is the transaction model's expected purchases in (T, T + t] and m̂ lifetimes'
//! `conditional_expected_average_profit` (its monetary value as given, not clipped at 0).

use super::gamma_gamma::GammaGamma;

/// A running sum as pandas' Cython grouped `mean` takes it (Kahan's compensated summation,
/// `group_mean` in pandas' `_libs/groupby.pyx`, used when a group holds NaN): lifetimes'
/// `monetary_value` is such a mean of the repeat periods' values, in period order (its first
/// periods are NaN).
#[derive(Debug, Clone, Copy, Default)]
pub struct KahanSum {
    sum: f64,
    compensation: f64,
}

impl KahanSum {
    /// Adds a value.
    pub fn add(&mut self, value: f64) {
        let y = value - self.compensation;
        let t = self.sum + y;
        self.compensation = t - self.sum - y;
        if self.compensation.is_nan() {
            // pandas GH#53606: an infinite value keeps the sum infinite.
            self.compensation = 0.0;
        }
        self.sum = t;
    }

    /// The sum so far.
    pub fn sum(&self) -> f64 {
        self.sum
    }
}

/// The sum of a group as pandas 3.1 takes it when groups are contiguous and hold no NaN
/// (`ops._reduceat_aggregate`): numpy's `np.add.reduceat`, i.e. the first value plus numpy's
/// pairwise sum of the others (`pairwise_sum` in numpy's `loops_utils.h`: below 8 values a
/// plain loop, up to 128 eight accumulators, above that halves). lifetimes' period values
/// are such sums; empty groups are 0.
///
/// ```
/// use clientele::clv::lifetimes::numpy_group_sum;
///
/// // pd.Series([19.99, 74.97, 159.31, 180.74, 199.9, 260.88, 289.94, 368.85]).groupby([0] * 8).sum()
/// let v = [19.99, 74.97, 159.31, 180.74, 199.9, 260.88, 289.94, 368.85];
/// assert_eq!(numpy_group_sum(&v), 1554.5800000000002);
/// ```
pub fn numpy_group_sum(values: &[f64]) -> f64 {
    match values.split_first() {
        None => 0.0,
        Some((first, [])) => *first,
        Some((first, rest)) => first + pairwise_sum(rest),
    }
}

fn pairwise_sum(a: &[f64]) -> f64 {
    let n = a.len();
    if n < 8 {
        a.iter().fold(0.0, |sum, v| sum + v)
    } else if n <= 128 {
        let mut r = [0.0; 8];
        r.copy_from_slice(&a[..8]);
        let whole = n - n % 8;
        for block in a[8..whole].chunks_exact(8) {
            for (acc, v) in r.iter_mut().zip(block) {
                *acc += v;
            }
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for v in &a[whole..] {
            res += v;
        }
        res
    } else {
        let half = n / 2;
        let half = half - half % 8;
        pairwise_sum(&a[..half]) + pairwise_sum(&a[half..])
    }
}

/// lifetimes' `conditional_expected_average_profit(frequency, monetary_value)`.
///
/// ```
/// use clientele::clv::{GammaGamma, lifetimes::expected_average_profit};
///
/// let gg = GammaGamma { p: 6.25, q: 3.74, gamma: 15.44 };
/// let population = 6.25 * 15.44 / (3.74 - 1.0);
/// assert_eq!(expected_average_profit(&gg, 0.0, 0.0), population);
/// assert!((expected_average_profit(&gg, 2.0, 22.35) - 6.25 * (15.44 + 44.7) / (12.5 + 2.74)).abs() < 1e-12);
/// ```
pub fn expected_average_profit(spend: &GammaGamma, frequency: f64, monetary_value: f64) -> f64 {
    let GammaGamma { p, q, gamma: v } = *spend;
    let individual_weight = p * frequency / (p * frequency + q - 1.0);
    let population_mean = v * p / (q - 1.0);
    (1.0 - individual_weight) * population_mean + individual_weight * monetary_value
}

/// The months lifetimes sums over a horizon of `months`: `len(np.arange(1, months + 1))`.
pub fn steps(months: f64) -> usize {
    if months > 0.0 { months.ceil() as usize } else { 0 }
}

/// lifetimes' discounted value of one customer: `spend` per purchase, `factor` time units a
/// month, `steps` months, monthly `discount`; `expected(t)` is E[X(t)], or why it has none.
pub fn customer_lifetime_value(
    spend: f64,
    factor: f64,
    steps: usize,
    discount: f64,
    expected: impl Fn(f64) -> Result<f64, String>,
) -> Result<f64, String> {
    let mut clv = 0.0;
    for k in 1..=steps {
        let i = k as f64 * factor;
        let purchases = expected(i)? - expected(i - factor)?;
        clv += (spend * purchases) / (1.0 + discount).powf(i / factor);
    }
    Ok(clv)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kahan_sums_as_pandas_does() {
        // pd.Series([32.99, 77.96, 59.30, 134.98, 91.92, 47.08, 71.96]).groupby([0] * 7).mean()
        let mut s = KahanSum::default();
        for v in [32.99, 77.96, 59.30, 134.98, 91.92, 47.08, 71.96] {
            s.add(v);
        }
        assert_eq!(s.sum() / 7.0, 73.74142857142856);
    }

    #[test]
    fn months_are_numpy_aranges() {
        assert_eq!(steps(12.0), 12);
        assert_eq!(steps(52.0 / 4.345), 12);
        assert_eq!(steps(0.5), 1);
    }

    #[test]
    fn a_constant_rate_discounts_each_month_end() {
        // One purchase a month at 10 each, 1 % a month: Σ 10 / 1.01^k over 3 months.
        let clv = customer_lifetime_value(10.0, 30.0, 3, 0.01, |t| Ok(t / 30.0)).unwrap();
        let want: f64 = (1..=3).map(|k| 10.0 / 1.01f64.powi(k)).sum();
        assert!((clv - want).abs() < 1e-12, "{clv} {want}");
    }
}
