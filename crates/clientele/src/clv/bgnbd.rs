//! BG/NBD (Fader, Hardie & Lee 2005, "Counting Your Customers the Easy Way").
//!
//! While active, a customer buys at rate λ ~ Gamma(r, α); after each purchase it becomes
//! inactive with probability p ~ Beta(a, b). For a customer with x repeat purchases, the last
//! at t_x, observed for T, the likelihood is
//!
//! ```text
//! L = Γ(r+x) αʳ / Γ(r) · B(a, b+x) / B(a, b) · [ (α+T)^−(r+x) + 1{x>0} · a/(b+x−1) · (α+t_x)^−(r+x) ]
//! ```
//!
//! (eq. 6 of the paper), maximised over (r, α, a, b) with its analytic gradient.

use serde::Serialize;

use super::fit::Likelihood;
use super::special::{digamma, hyp2f1, ln_gamma, log_add_exp};

/// BG/NBD parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BgNbd {
    /// Shape of the purchase-rate distribution.
    pub r: f64,
    /// Scale of the purchase-rate distribution (in the time unit).
    pub alpha: f64,
    /// Beta distribution of the dropout probability: a.
    pub a: f64,
    /// Beta distribution of the dropout probability: b.
    pub b: f64,
}

/// Repeat-purchase histories, de-duplicated into weighted `(x, t_x, T)` triples.
#[derive(Debug, Clone, Default)]
pub struct Histories {
    pub(crate) x: Vec<f64>,
    pub(crate) t_x: Vec<f64>,
    pub(crate) t: Vec<f64>,
    pub(crate) weight: Vec<f64>,
    customers: usize,
}

impl Histories {
    /// Collects histories; identical ones are merged into one weighted row (many customers
    /// share a history, which makes fitting much faster).
    pub fn new(x: &[f64], t_x: &[f64], t: &[f64]) -> Histories {
        let mut rows: Vec<(f64, f64, f64)> =
            x.iter().zip(t_x).zip(t).map(|((a, b), c)| (*a, *b, *c)).collect();
        rows.sort_by(|p, q| {
            p.0.total_cmp(&q.0)
                .then(p.1.total_cmp(&q.1))
                .then(p.2.total_cmp(&q.2))
        });
        let mut out = Histories {
            customers: rows.len(),
            ..Histories::default()
        };
        for row in rows {
            match (out.x.last(), out.t_x.last(), out.t.last()) {
                (Some(&a), Some(&b), Some(&c)) if (a, b, c) == row => {
                    *out.weight.last_mut().expect("weights follow rows") += 1.0;
                }
                _ => {
                    out.x.push(row.0);
                    out.t_x.push(row.1);
                    out.t.push(row.2);
                    out.weight.push(1.0);
                }
            }
        }
        out
    }

    /// Distinct histories.
    pub fn distinct(&self) -> usize {
        self.x.len()
    }
}

impl Likelihood for Histories {
    const PARAMETERS: usize = 4;

    fn names() -> &'static [&'static str] {
        &["r", "alpha", "a", "b"]
    }

    fn len(&self) -> usize {
        self.x.len()
    }

    fn weight(&self) -> f64 {
        self.customers as f64
    }

    fn add_ll_grad(&self, p: &[f64], range: std::ops::Range<usize>, grad: &mut [f64]) -> f64 {
        let (r, alpha, a, b) = (p[0], p[1], p[2], p[3]);
        let (lg_r, dg_r, ln_alpha) = (ln_gamma(r), digamma(r), alpha.ln());
        let (lg_ab, dg_ab, lg_b, dg_b) = (ln_gamma(a + b), digamma(a + b), ln_gamma(b), digamma(b));
        let mut total = 0.0;
        for i in range {
            let (x, t_x, t, w) = (self.x[i], self.t_x[i], self.t[i], self.weight[i]);
            let rx = r + x;
            let a1 = ln_gamma(rx) - lg_r + r * ln_alpha;
            let a2 = lg_ab + ln_gamma(b + x) - lg_b - ln_gamma(a + b + x);
            let a3 = -rx * (alpha + t).ln();
            let dg_rx = digamma(rx);
            let dg_abx = digamma(a + b + x);
            // ∂(a1 + a2) / ∂(r, α, a, b)
            let mut g = [
                dg_rx - dg_r + ln_alpha,
                r / alpha,
                dg_ab - dg_abx,
                dg_ab + digamma(b + x) - dg_b - dg_abx,
            ];
            let g3 = [-(alpha + t).ln(), -rx / (alpha + t), 0.0, 0.0];
            let ll = if x > 0.0 {
                let a4 = a.ln() - (b + x - 1.0).ln() - rx * (alpha + t_x).ln();
                let g4 = [
                    -(alpha + t_x).ln(),
                    -rx / (alpha + t_x),
                    1.0 / a,
                    -1.0 / (b + x - 1.0),
                ];
                let l = log_add_exp(a3, a4);
                let (w3, w4) = ((a3 - l).exp(), (a4 - l).exp());
                for j in 0..4 {
                    g[j] += w3 * g3[j] + w4 * g4[j];
                }
                a1 + a2 + l
            } else {
                for j in 0..4 {
                    g[j] += g3[j];
                }
                a1 + a2 + a3
            };
            total += w * ll;
            for j in 0..4 {
                grad[j] += w * g[j];
            }
        }
        total
    }
}

impl BgNbd {
    pub(crate) fn from_slice(p: &[f64]) -> BgNbd {
        BgNbd {
            r: p[0],
            alpha: p[1],
            a: p[2],
            b: p[3],
        }
    }

    /// Probability that a customer with history (x, t_x, T) is still active at T.
    pub fn p_alive(&self, x: f64, t_x: f64, t: f64) -> f64 {
        if x == 0.0 {
            return 1.0;
        }
        let ratio = self.a / (self.b + x - 1.0) * ((self.alpha + t) / (self.alpha + t_x)).powf(self.r + x);
        1.0 / (1.0 + ratio)
    }

    /// Expected purchases in (T, T + horizon] for a customer with history (x, t_x, T)
    /// (eq. 10 of the paper). `None` when ₂F₁ cannot be evaluated (horizon ≫ α + T).
    pub fn expected_purchases(&self, x: f64, t_x: f64, t: f64, horizon: f64) -> Option<f64> {
        if horizon <= 0.0 {
            return Some(0.0);
        }
        let BgNbd { r, alpha, a, b } = *self;
        let z = horizon / (alpha + t + horizon);
        let f = hyp2f1(r + x, b + x, a + b + x - 1.0, z)?;
        let numerator =
            (a + b + x - 1.0) / (a - 1.0) * (1.0 - ((alpha + t) / (alpha + t + horizon)).powf(r + x) * f);
        let denominator = if x > 0.0 {
            1.0 + a / (b + x - 1.0) * ((alpha + t) / (alpha + t_x)).powf(r + x)
        } else {
            1.0
        };
        Some(numerator / denominator)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clv::fit::ll_and_grad;

    #[test]
    fn analytic_gradient_matches_finite_differences() {
        let h = Histories::new(
            &[0.0, 1.0, 4.0, 2.0],
            &[0.0, 3.5, 20.1, 30.0],
            &[38.9, 30.0, 36.4, 31.3],
        );
        let p = [0.4, 5.0, 0.9, 2.1];
        let (_, g) = ll_and_grad(&h, &p);
        for j in 0..4 {
            let e = 1e-6 * p[j];
            let mut up = p;
            let mut down = p;
            up[j] += e;
            down[j] -= e;
            let numeric = (ll_and_grad(&h, &up).0 - ll_and_grad(&h, &down).0) / (2.0 * e);
            assert!(
                (g[j] - numeric).abs() < 1e-6 * numeric.abs().max(1.0),
                "∂{j}: {} vs {numeric}",
                g[j]
            );
        }
    }

    #[test]
    fn identical_histories_merge_into_weights() {
        let h = Histories::new(&[1.0, 0.0, 1.0], &[2.0, 0.0, 2.0], &[10.0, 5.0, 10.0]);
        assert_eq!(h.distinct(), 2);
        assert_eq!(h.weight, vec![1.0, 2.0]);
        assert_eq!(Likelihood::weight(&h), 3.0);
    }

    #[test]
    fn predictions_behave() {
        // The paper's CDNOW estimates.
        let m = BgNbd {
            r: 0.243,
            alpha: 4.414,
            a: 0.793,
            b: 2.426,
        };
        assert_eq!(m.p_alive(0.0, 0.0, 38.0), 1.0);
        // A recent repeat buyer is more likely alive than one silent for long.
        assert!(m.p_alive(3.0, 37.0, 38.0) > m.p_alive(3.0, 5.0, 38.0));
        let e = m.expected_purchases(2.0, 30.43, 38.86, 39.0).unwrap();
        assert!(e > 0.0 && e.is_finite());
        assert!(m.expected_purchases(2.0, 30.43, 38.86, 78.0).unwrap() > e);
    }
}
