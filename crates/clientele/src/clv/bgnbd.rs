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

use polars::prelude::PlHashMap;
use serde::Serialize;

use super::fit::Likelihood;
use super::special::{digamma, hyp2f1, ln_gamma};

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

/// Repeat-purchase histories, de-duplicated into weighted `(x, t_x, T)` triples, each stored
/// as indices into the sorted distinct values of x, t_x and T. Those take few values (x is a
/// count, t_x and T are whole days), so every term that depends on one variable only (the
/// log-gamma and digamma functions of x, the logarithms of α + T and α + t_x) is computed once
/// per distinct value and evaluation, not once per customer.
#[derive(Debug, Clone, Default)]
pub struct Histories {
    x_values: Vec<f64>,
    t_x_values: Vec<f64>,
    t_values: Vec<f64>,
    x_index: Vec<u32>,
    t_x_index: Vec<u32>,
    t_index: Vec<u32>,
    pub(crate) weight: Vec<f64>,
    customers: usize,
}

/// Dense indices of values in order of first appearance (deterministic for a given input order).
struct Dictionary {
    index: PlHashMap<u64, u32>,
    values: Vec<f64>,
}

impl Dictionary {
    fn new() -> Self {
        Dictionary {
            index: PlHashMap::default(),
            values: Vec::new(),
        }
    }

    fn id(&mut self, value: f64) -> u32 {
        let next = self.values.len() as u32;
        let id = *self.index.entry(value.to_bits()).or_insert(next);
        if id == next {
            self.values.push(value);
        }
        id
    }
}

impl Histories {
    /// Collects histories; identical ones are merged into one weighted row, in order of first
    /// appearance (so the summation order, and every bit of the result, follows the input).
    pub fn new(x: &[f64], t_x: &[f64], t: &[f64]) -> Histories {
        let (mut xs, mut txs, mut ts) = (Dictionary::new(), Dictionary::new(), Dictionary::new());
        let mut rows: PlHashMap<[u32; 3], u32> = PlHashMap::default();
        let mut out = Histories {
            customers: x.len(),
            ..Histories::default()
        };
        for ((x, t_x), t) in x.iter().zip(t_x).zip(t) {
            let key = [xs.id(*x), txs.id(*t_x), ts.id(*t)];
            let next = out.weight.len() as u32;
            let row = *rows.entry(key).or_insert(next);
            if row == next {
                out.x_index.push(key[0]);
                out.t_x_index.push(key[1]);
                out.t_index.push(key[2]);
                out.weight.push(1.0);
            } else {
                out.weight[row as usize] += 1.0;
            }
        }
        out.x_values = xs.values;
        out.t_x_values = txs.values;
        out.t_values = ts.values;
        out
    }

    /// Distinct histories.
    pub fn distinct(&self) -> usize {
        self.weight.len()
    }

    /// Repeat purchases of history `i`.
    pub fn x(&self, i: usize) -> f64 {
        self.x_values[self.x_index[i] as usize]
    }

    /// Recency of history `i`.
    pub fn t_x(&self, i: usize) -> f64 {
        self.t_x_values[self.t_x_index[i] as usize]
    }

    /// Age (T) of history `i`.
    pub fn t(&self, i: usize) -> f64 {
        self.t_values[self.t_index[i] as usize]
    }
}

/// Per-evaluation tables of the BG/NBD likelihood.
pub(crate) struct BgNbdTables {
    /// Per distinct x: A1 + A2 (the gamma-function part), ∂/∂(r, a, b), ln a − ln(b + x − 1)
    /// and −1/(b + x − 1).
    by_x: Vec<[f64; 6]>,
    /// Per distinct T: ln(α + T), 1/(α + T).
    by_t: Vec<[f64; 2]>,
    /// Per distinct t_x: ln(α + t_x), 1/(α + t_x).
    by_t_x: Vec<[f64; 2]>,
}

impl Likelihood for Histories {
    const PARAMETERS: usize = 4;

    fn names() -> &'static [&'static str] {
        &["r", "alpha", "a", "b"]
    }

    fn len(&self) -> usize {
        self.weight.len()
    }

    fn weight(&self) -> f64 {
        self.customers as f64
    }

    type Prepared = BgNbdTables;

    fn subsample(&self, step: usize) -> Option<Histories> {
        let keep: Vec<usize> = (0..self.weight.len()).step_by(step.max(1)).collect();
        let weight: Vec<f64> = keep.iter().map(|i| self.weight[*i]).collect();
        Some(Histories {
            x_values: self.x_values.clone(),
            t_x_values: self.t_x_values.clone(),
            t_values: self.t_values.clone(),
            x_index: keep.iter().map(|i| self.x_index[*i]).collect(),
            t_x_index: keep.iter().map(|i| self.t_x_index[*i]).collect(),
            t_index: keep.iter().map(|i| self.t_index[*i]).collect(),
            customers: weight.iter().sum::<f64>().round() as usize,
            weight,
        })
    }

    fn prepare(&self, p: &[f64]) -> BgNbdTables {
        let (r, alpha, a, b) = (p[0], p[1], p[2], p[3]);
        let (lg_r, dg_r, ln_alpha) = (ln_gamma(r), digamma(r), alpha.ln());
        let (lg_ab, dg_ab, lg_b, dg_b) = (ln_gamma(a + b), digamma(a + b), ln_gamma(b), digamma(b));
        let by_x = self
            .x_values
            .iter()
            .map(|&x| {
                let dg_abx = digamma(a + b + x);
                let gamma_part = ln_gamma(r + x) - lg_r + r * ln_alpha + lg_ab + ln_gamma(b + x)
                    - lg_b
                    - ln_gamma(a + b + x);
                let (ln_ratio, d_b4) = if x > 0.0 {
                    (a.ln() - (b + x - 1.0).ln(), -1.0 / (b + x - 1.0))
                } else {
                    (f64::NEG_INFINITY, 0.0)
                };
                [
                    gamma_part,
                    digamma(r + x) - dg_r + ln_alpha,
                    dg_ab - dg_abx,
                    dg_ab + digamma(b + x) - dg_b - dg_abx,
                    ln_ratio,
                    d_b4,
                ]
            })
            .collect();
        let logs = |values: &[f64]| {
            values
                .iter()
                .map(|v| [(alpha + v).ln(), 1.0 / (alpha + v)])
                .collect()
        };
        BgNbdTables {
            by_x,
            by_t: logs(&self.t_values),
            by_t_x: logs(&self.t_x_values),
        }
    }

    fn add_ll_grad(
        &self,
        p: &[f64],
        tables: &BgNbdTables,
        range: std::ops::Range<usize>,
        grad: &mut [f64],
    ) -> f64 {
        let (r, alpha, a) = (p[0], p[1], p[2]);
        let mut total = 0.0;
        let mut g = [0.0; 4];
        for i in range {
            let x = self.x_values[self.x_index[i] as usize];
            let [gamma_part, d_r, d_a, d_b, ln_ratio, d_b4] = tables.by_x[self.x_index[i] as usize];
            let [ln_at, inv_at] = tables.by_t[self.t_index[i] as usize];
            let w = self.weight[i];
            let rx = r + x;
            let a3 = -rx * ln_at;
            // ∂(A1 + A2) plus the derivative of the A3 / A4 mixture, with weights w3 + w4 = 1.
            let (ll, w4, ln_atx, inv_atx) = if x > 0.0 {
                let [ln_atx, inv_atx] = tables.by_t_x[self.t_x_index[i] as usize];
                let a4 = ln_ratio - rx * ln_atx;
                // ln(e^a3 + e^a4) and the share of the a4 term, with one exp and one ln_1p.
                let d = a4 - a3;
                let e = (-d.abs()).exp();
                let l = a3.max(a4) + e.ln_1p();
                let w4 = if d > 0.0 { 1.0 / (1.0 + e) } else { e / (1.0 + e) };
                (gamma_part + l, w4, ln_atx, inv_atx)
            } else {
                (gamma_part + a3, 0.0, 0.0, 0.0)
            };
            let w3 = 1.0 - w4;
            total += w * ll;
            g[0] += w * (d_r - w3 * ln_at - w4 * ln_atx);
            g[1] += w * (r / alpha - rx * (w3 * inv_at + w4 * inv_atx));
            g[2] += w * (d_a + w4 / a);
            g[3] += w * (d_b + w4 * d_b4);
        }
        for j in 0..4 {
            grad[j] += g[j];
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
        assert_eq!(h.weight, vec![2.0, 1.0], "first seen first");
        assert_eq!(Likelihood::weight(&h), 3.0);
        assert_eq!((h.x(0), h.t_x(0), h.t(0)), (1.0, 2.0, 10.0));
        assert_eq!((h.x(1), h.t_x(1), h.t(1)), (0.0, 0.0, 5.0));
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
