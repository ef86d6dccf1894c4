//! Pareto/NBD (Schmittlein, Morrison & Colombo 1987), in the formulation of Fader & Hardie,
//! "A Note on Deriving the Pareto/NBD Model and Related Expressions" (2005).
//!
//! While alive, a customer buys at rate λ ~ Gamma(r, α); its lifetime is exponential with rate
//! μ ~ Gamma(s, β). For a history (x, t_x, T), with R = r + s + x and M = max(α, β):
//!
//! ```text
//! L = Γ(r+x) αʳ βˢ / Γ(r) · [ 1 / ((α+T)^(r+x) (β+T)ˢ) + s/R · A₀ ]
//! A₀ = ₂F₁(R, b; R+1; |α−β| / (M+t_x)) / (M+t_x)^R − ₂F₁(R, b; R+1; |α−β| / (M+T)) / (M+T)^R
//! ```
//!
//! with b = s + 1 when α ≥ β and b = r + x otherwise, which keeps every ₂F₁ argument in [0, 1).
//! The gradient differentiates the ₂F₁ series term by term ([`super::special::hyp2f1_a_b_a1`]).

use serde::Serialize;

use super::fit::Likelihood;
use super::special::{digamma, hyp2f1_a_b_a1, ln_gamma, log_add_exp};
use crate::clv::bgnbd::Histories;

/// Pareto/NBD parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ParetoNbd {
    /// Shape of the purchase-rate distribution.
    pub r: f64,
    /// Scale of the purchase-rate distribution.
    pub alpha: f64,
    /// Shape of the dropout-rate distribution.
    pub s: f64,
    /// Scale of the dropout-rate distribution.
    pub beta: f64,
}

/// The Pareto/NBD likelihood over the same histories as BG/NBD.
pub(crate) struct ParetoHistories<'a>(pub &'a Histories);

/// ln A₀ and its gradient in (r, α, s, β); `None` when A₀ = 0 (last purchase at T).
fn ln_a0(p: &[f64; 4], x: f64, t_x: f64, t: f64) -> Option<(f64, [f64; 4])> {
    let [r, alpha, s, beta] = *p;
    let big_r = r + s + x;
    // (max, |α−β|, b, and the derivatives of each with respect to (r, α, s, β))
    let (m, d, b, dm, dd, db) = if alpha >= beta {
        (
            alpha,
            alpha - beta,
            s + 1.0,
            [0.0, 1.0, 0.0, 0.0],
            [0.0, 1.0, 0.0, -1.0],
            [0.0, 0.0, 1.0, 0.0],
        )
    } else {
        (
            beta,
            beta - alpha,
            r + x,
            [0.0, 0.0, 0.0, 1.0],
            [0.0, -1.0, 0.0, 1.0],
            [1.0, 0.0, 0.0, 0.0],
        )
    };
    let d_big_r = [1.0, 0.0, 1.0, 0.0];
    let part = |recency: f64| -> Option<(f64, [f64; 4])> {
        let q = m + recency;
        let z = d / q;
        let (h, h_a, h_b, h_z) = hyp2f1_a_b_a1(big_r, b, z)?;
        let ln_g = h.ln() - big_r * q.ln();
        let mut grad = [0.0; 4];
        for j in 0..4 {
            let dz = dd[j] / q - d * dm[j] / (q * q);
            grad[j] = (h_a / h - q.ln()) * d_big_r[j] + h_b / h * db[j] + h_z / h * dz - big_r / q * dm[j];
        }
        Some((ln_g, grad))
    };
    let (ln_g1, g1) = part(t_x)?;
    let (ln_g2, g2) = part(t)?;
    let delta = ln_g2 - ln_g1;
    if delta >= 0.0 {
        return None;
    }
    let e = delta.exp();
    let one_minus = -delta.exp_m1();
    let mut grad = [0.0; 4];
    for j in 0..4 {
        grad[j] = (g1[j] - e * g2[j]) / one_minus;
    }
    Some((ln_g1 + one_minus.ln(), grad))
}

/// Log-likelihood of one history and its gradient in (r, α, s, β).
pub(crate) fn ll_one(p: &[f64; 4], x: f64, t_x: f64, t: f64) -> Option<(f64, [f64; 4])> {
    let [r, alpha, s, beta] = *p;
    let rx = r + x;
    let big_r = r + s + x;
    let a1 = ln_gamma(rx) - ln_gamma(r) + r * alpha.ln() + s * beta.ln();
    let g1 = [
        digamma(rx) - digamma(r) + alpha.ln(),
        r / alpha,
        beta.ln(),
        s / beta,
    ];
    let b = -rx * (alpha + t).ln() - s * (beta + t).ln();
    let gb = [
        -(alpha + t).ln(),
        -rx / (alpha + t),
        -(beta + t).ln(),
        -s / (beta + t),
    ];
    let mut grad = [0.0; 4];
    let ll = match ln_a0(p, x, t_x, t) {
        Some((la0, ga0)) => {
            let c = s.ln() + la0 - big_r.ln();
            let gc = [
                ga0[0] - 1.0 / big_r,
                ga0[1],
                1.0 / s + ga0[2] - 1.0 / big_r,
                ga0[3],
            ];
            let l = log_add_exp(b, c);
            let (wb, wc) = ((b - l).exp(), (c - l).exp());
            for j in 0..4 {
                grad[j] = g1[j] + wb * gb[j] + wc * gc[j];
            }
            a1 + l
        }
        None if t_x >= t => {
            for j in 0..4 {
                grad[j] = g1[j] + gb[j];
            }
            a1 + b
        }
        None => return None,
    };
    Some((ll, grad))
}

impl Likelihood for ParetoHistories<'_> {
    const PARAMETERS: usize = 4;

    fn names() -> &'static [&'static str] {
        &["r", "alpha", "s", "beta"]
    }

    fn len(&self) -> usize {
        self.0.distinct()
    }

    fn weight(&self) -> f64 {
        Likelihood::weight(self.0)
    }

    type Prepared = ();

    fn prepare(&self, _: &[f64]) {}

    fn add_ll_grad(&self, params: &[f64], _: &(), range: std::ops::Range<usize>, grad: &mut [f64]) -> f64 {
        let p = [params[0], params[1], params[2], params[3]];
        let h = self.0;
        let mut total = 0.0;
        for i in range {
            match ll_one(&p, h.x(i), h.t_x(i), h.t(i)) {
                Some((ll, g)) => {
                    total += h.weight[i] * ll;
                    for j in 0..4 {
                        grad[j] += h.weight[i] * g[j];
                    }
                }
                // ₂F₁ out of reach at these parameters: an infinitely bad point, which the
                // line search steps back from.
                None => return f64::NEG_INFINITY,
            }
        }
        total
    }
}

impl ParetoNbd {
    pub(crate) fn from_slice(p: &[f64]) -> ParetoNbd {
        ParetoNbd {
            r: p[0],
            alpha: p[1],
            s: p[2],
            beta: p[3],
        }
    }

    fn array(&self) -> [f64; 4] {
        [self.r, self.alpha, self.s, self.beta]
    }

    /// Probability that a customer with history (x, t_x, T) is still alive at T.
    pub fn p_alive(&self, x: f64, t_x: f64, t: f64) -> Option<f64> {
        let ParetoNbd { r, alpha, s, beta } = *self;
        match ln_a0(&self.array(), x, t_x, t) {
            Some((la0, _)) => {
                let e = s.ln() - (r + s + x).ln() + (r + x) * (alpha + t).ln() + s * (beta + t).ln() + la0;
                Some(1.0 / (1.0 + e.exp()))
            }
            None if t_x >= t => Some(1.0),
            None => None,
        }
    }

    /// Expected purchases in (T, T + horizon] for a customer with history (x, t_x, T).
    pub fn expected_purchases(&self, x: f64, t_x: f64, t: f64, horizon: f64) -> Option<f64> {
        let ParetoNbd { r, alpha, s, beta } = *self;
        let alive = self.p_alive(x, t_x, t)?;
        // (1 − ((β+T)/(β+T+t))^(s−1)) / (s − 1), continuous at s = 1.
        let ln_u = ((beta + t) / (beta + t + horizon)).ln();
        let factor = if (s - 1.0).abs() < 1e-12 {
            -ln_u
        } else {
            -((s - 1.0) * ln_u).exp_m1() / (s - 1.0)
        };
        Some((r + x) * (beta + t) / (alpha + t) * factor * alive)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn analytic_gradient_matches_finite_differences_on_both_branches() {
        // α < β (the CDNOW case) and α > β.
        for p in [[0.55, 10.6, 0.61, 11.7], [0.8, 6.0, 0.4, 2.5]] {
            for (x, t_x, t) in [
                (0.0, 0.0, 38.9),
                (2.0, 30.43, 38.86),
                (7.0, 35.0, 36.0),
                (1.0, 20.0, 20.0),
            ] {
                let (_, g) = ll_one(&p, x, t_x, t).unwrap();
                for j in 0..4 {
                    let e = 1e-6 * p[j];
                    let (mut up, mut down) = (p, p);
                    up[j] += e;
                    down[j] -= e;
                    let numeric =
                        (ll_one(&up, x, t_x, t).unwrap().0 - ll_one(&down, x, t_x, t).unwrap().0) / (2.0 * e);
                    assert!(
                        (g[j] - numeric).abs() < 1e-5 * numeric.abs().max(1.0),
                        "p = {p:?}, (x, t_x, T) = ({x}, {t_x}, {t}), ∂{j}: {} vs {numeric}",
                        g[j]
                    );
                }
            }
        }
    }

    #[test]
    fn predictions_behave() {
        // Published CDNOW estimates (Fader, Hardie & Lee 2005, table 1).
        let m = ParetoNbd {
            r: 0.553,
            alpha: 10.578,
            s: 0.606,
            beta: 11.669,
        };
        let recent = m.p_alive(3.0, 37.0, 38.0).unwrap();
        let silent = m.p_alive(3.0, 5.0, 38.0).unwrap();
        assert!(recent > silent && recent <= 1.0 && silent > 0.0);
        assert_eq!(m.p_alive(2.0, 38.0, 38.0), Some(1.0));
        let e = m.expected_purchases(2.0, 30.43, 38.86, 39.0).unwrap();
        assert!(e > 0.0 && m.expected_purchases(2.0, 30.43, 38.86, 78.0).unwrap() > e);
    }
}
