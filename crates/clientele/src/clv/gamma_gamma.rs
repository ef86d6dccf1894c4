//! Gamma-Gamma spend model (Fader, Hardie & Lee 2005, "RFM and CLV: Using Iso-Value Curves for
//! Customer Base Analysis"; Fader & Hardie, "The Gamma-Gamma Model of Monetary Value").
//!
//! A customer's transaction values are Gamma(p, ν) with ν ~ Gamma(q, γ) across customers. For
//! a customer with x > 0 repeat transactions of mean value m, the likelihood of m is
//!
//! ```text
//! L = Γ(px+q) / (Γ(px) Γ(q)) · γ^q · m^(px−1) · x^(px) / (γ + m·x)^(px+q)
//! ```
//!
//! and the expected mean spend is E(M | m, x) = p(γ + m·x) / (px + q − 1).

use polars::prelude::PlHashMap;
use serde::Serialize;

use super::fit::Likelihood;
use super::special::{digamma, ln_gamma};

/// Gamma-Gamma parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GammaGamma {
    /// Shape of the transaction values.
    pub p: f64,
    /// Shape of the distribution of the value rate across customers.
    pub q: f64,
    /// Scale of the distribution of the value rate (γ; lifetimes calls it v).
    pub gamma: f64,
}

/// Repeat buyers' (x, mean repeat value), each x > 0 and value > 0. x takes few distinct
/// values, so the gamma-function terms of p·x are computed once per distinct x per evaluation.
#[derive(Debug, Clone, Default)]
pub struct Spends {
    x_values: Vec<f64>,
    x_index: Vec<u32>,
    /// m·x per customer.
    mx: Vec<f64>,
    /// (p·x − 1)·ln m + p·x·ln x = p·x·(ln m + ln x) − ln m: the per-customer constants.
    ln_m: Vec<f64>,
    ln_mx: Vec<f64>,
}

impl Spends {
    /// Collects repeat buyers. Rows with x = 0 or a mean value ≤ 0 are not part of the fit and
    /// must be filtered out by the caller (they are counted and reported there).
    pub fn new(x: Vec<f64>, m: Vec<f64>) -> Spends {
        debug_assert!(x.iter().zip(&m).all(|(x, m)| *x > 0.0 && *m > 0.0));
        let mut ids: PlHashMap<u64, u32> = PlHashMap::default();
        let mut x_values = Vec::new();
        let x_index = x
            .iter()
            .map(|v| {
                *ids.entry(v.to_bits()).or_insert_with(|| {
                    x_values.push(*v);
                    (x_values.len() - 1) as u32
                })
            })
            .collect();
        Spends {
            x_index,
            x_values,
            mx: x.iter().zip(&m).map(|(x, m)| x * m).collect(),
            ln_m: m.iter().map(|m| m.ln()).collect(),
            ln_mx: x.iter().zip(&m).map(|(x, m)| (x * m).ln()).collect(),
        }
    }
}

impl Likelihood for Spends {
    const PARAMETERS: usize = 3;

    fn names() -> &'static [&'static str] {
        &["p", "q", "gamma"]
    }

    fn len(&self) -> usize {
        self.mx.len()
    }

    fn weight(&self) -> f64 {
        self.mx.len() as f64
    }

    /// Per distinct x: lnΓ(px+q) − lnΓ(px) − lnΓ(q), ψ(px+q), ψ(px).
    type Prepared = Vec<[f64; 3]>;

    fn subsample(&self, step: usize) -> Option<Spends> {
        let keep: Vec<usize> = (0..self.mx.len()).step_by(step.max(1)).collect();
        Some(Spends {
            x_values: self.x_values.clone(),
            x_index: keep.iter().map(|i| self.x_index[*i]).collect(),
            mx: keep.iter().map(|i| self.mx[*i]).collect(),
            ln_m: keep.iter().map(|i| self.ln_m[*i]).collect(),
            ln_mx: keep.iter().map(|i| self.ln_mx[*i]).collect(),
        })
    }

    fn prepare(&self, params: &[f64]) -> Vec<[f64; 3]> {
        let (p, q) = (params[0], params[1]);
        let lg_q = ln_gamma(q);
        self.x_values
            .iter()
            .map(|x| {
                let px = p * x;
                [
                    ln_gamma(px + q) - ln_gamma(px) - lg_q,
                    digamma(px + q),
                    digamma(px),
                ]
            })
            .collect()
    }

    fn add_ll_grad(
        &self,
        params: &[f64],
        by_x: &Vec<[f64; 3]>,
        range: std::ops::Range<usize>,
        grad: &mut [f64],
    ) -> f64 {
        let (p, q, g) = (params[0], params[1], params[2]);
        let (dg_q, ln_g) = (digamma(q), g.ln());
        let mut total = 0.0;
        let mut gr = [0.0; 3];
        for i in range {
            let xi = self.x_index[i] as usize;
            let x = self.x_values[xi];
            let [gamma_part, dg_pxq, dg_px] = by_x[xi];
            let px = p * x;
            let ln_xm_g = (self.mx[i] + g).ln();
            // (px − 1) ln m + px ln x = px (ln m + ln x) − ln m, and ln m + ln x = ln(m·x).
            total += gamma_part + q * ln_g + px * self.ln_mx[i] - self.ln_m[i] - (px + q) * ln_xm_g;
            gr[0] += x * (dg_pxq - dg_px + self.ln_mx[i] - ln_xm_g);
            gr[1] += dg_pxq - dg_q + ln_g - ln_xm_g;
            gr[2] += q / g - (px + q) / (self.mx[i] + g);
        }
        for j in 0..3 {
            grad[j] += gr[j];
        }
        total
    }
}

impl GammaGamma {
    pub(crate) fn from_slice(p: &[f64]) -> GammaGamma {
        GammaGamma {
            p: p[0],
            q: p[1],
            gamma: p[2],
        }
    }

    /// Expected mean transaction value of a customer with x repeat transactions of mean value
    /// m; without repeat transactions (x = 0), the population mean p·γ/(q − 1) (for q > 1).
    pub fn expected_average_spend(&self, x: f64, m: f64) -> f64 {
        let GammaGamma { p, q, gamma } = *self;
        if x > 0.0 && m > 0.0 {
            p * (gamma + m * x) / (p * x + q - 1.0)
        } else {
            self.population_mean()
        }
    }

    /// The mean transaction value across customers, p·γ/(q − 1); infinite when q ≤ 1.
    pub fn population_mean(&self) -> f64 {
        if self.q > 1.0 {
            self.p * self.gamma / (self.q - 1.0)
        } else {
            f64::INFINITY
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clv::fit::ll_and_grad;

    #[test]
    fn analytic_gradient_matches_finite_differences() {
        let s = Spends::new(vec![1.0, 3.0, 7.0], vec![12.5, 40.0, 18.2]);
        let p = [6.0, 3.5, 15.0];
        let (_, g) = ll_and_grad(&s, &p);
        for j in 0..3 {
            let e = 1e-6 * p[j];
            let (mut up, mut down) = (p, p);
            up[j] += e;
            down[j] -= e;
            let numeric = (ll_and_grad(&s, &up).0 - ll_and_grad(&s, &down).0) / (2.0 * e);
            assert!(
                (g[j] - numeric).abs() < 1e-6 * numeric.abs().max(1.0),
                "∂{j}: {} vs {numeric}",
                g[j]
            );
        }
    }

    #[test]
    fn expected_spend_shrinks_towards_the_population_mean() {
        let m = GammaGamma {
            p: 6.25,
            q: 3.74,
            gamma: 15.44,
        };
        let population = m.population_mean();
        let one = m.expected_average_spend(1.0, 100.0);
        let many = m.expected_average_spend(20.0, 100.0);
        assert!(population < one && one < many && many < 100.0);
        assert_eq!(m.expected_average_spend(0.0, 0.0), population);
    }
}
