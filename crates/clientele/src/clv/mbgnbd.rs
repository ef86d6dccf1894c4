//! MBG/NBD (Batislam, Denizel & Filiztekin 2007; Wagner & Hoppe 2008's erratum).
//!
//! As BG/NBD ([`super::bgnbd`]), a customer buys at rate λ ~ Gamma(r, α) while active and drops
//! out with probability p ~ Beta(a, b) at each dropout opportunity; but the opportunities are
//! the first purchase too, not only the repeat purchases, so a customer without repeat
//! purchases may already be gone. For a history (x, t_x, T):
//!
//! ```text
//! L = Γ(r+x) αʳ / Γ(r) · B(a, b+x+1) / B(a, b) · [ (α+T)^−(r+x) + a/(b+x) · (α+t_x)^−(r+x) ]
//! P(alive) = 1 / (1 + a/(b+x) · ((α+T)/(α+t_x))^(r+x))
//! E[X(t) | x, t_x, T] = P(alive) · (a+b+x)/(a−1) · [1 − ((α+T)/(α+T+t))^(r+x) ₂F₁(r+x, b+x+1; a+b+x; t/(α+T+t))]
//! ```
//!
//! The likelihood shares its tables and its stable evaluation with BG/NBD
//! (`Histories::tables`, with one extra dropout opportunity), and the expectation is the
//! series of positive terms of [`purchases_while_alive`] for a customer alive at T, whose
//! dropout probability then follows Beta(a, b+x+1).

use serde::Serialize;

use super::bgnbd::{BgNbdTables, Dropout, Histories, purchases_while_alive};
use super::fit::Likelihood;

/// MBG/NBD parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MbgNbd {
    /// Shape of the purchase-rate distribution.
    pub r: f64,
    /// Scale of the purchase-rate distribution (in the time unit).
    pub alpha: f64,
    /// Beta distribution of the dropout probability: a.
    pub a: f64,
    /// Beta distribution of the dropout probability: b.
    pub b: f64,
}

/// The MBG/NBD likelihood over the same histories as BG/NBD.
pub(crate) struct MbgHistories(pub Histories);

impl Likelihood for MbgHistories {
    const PARAMETERS: usize = 4;

    fn names() -> &'static [&'static str] {
        &["r", "alpha", "a", "b"]
    }

    fn len(&self) -> usize {
        self.0.distinct()
    }

    fn weight(&self) -> f64 {
        Likelihood::weight(&self.0)
    }

    type Prepared = BgNbdTables;

    fn subsample(&self, step: usize) -> Option<MbgHistories> {
        self.0.subsample(step).map(MbgHistories)
    }

    fn prepare(&self, p: &[f64]) -> BgNbdTables {
        self.0.tables(p, Dropout::AlsoAfterTheFirst)
    }

    fn add_ll_grad(
        &self,
        p: &[f64],
        tables: &BgNbdTables,
        range: std::ops::Range<usize>,
        grad: &mut [f64],
    ) -> f64 {
        self.0.mixture_ll_grad(p, tables, range, grad)
    }
}

impl MbgNbd {
    pub(crate) fn from_slice(p: &[f64]) -> MbgNbd {
        MbgNbd {
            r: p[0],
            alpha: p[1],
            a: p[2],
            b: p[3],
        }
    }

    /// Probability that a customer with history (x, t_x, T) is still active at T:
    /// 1 / (1 + a/(b+x) · ((α+T)/(α+t_x))^(r+x)), below 1 also for x = 0.
    ///
    /// ```
    /// use clientele::clv::MbgNbd;
    ///
    /// let m = MbgNbd { r: 0.5, alpha: 5.0, a: 1.0, b: 3.0 };
    /// // No repeat purchase in 20 weeks: 1 / (1 + 1/3 · (25/5)^0.5).
    /// let expected = 1.0 / (1.0 + 5f64.sqrt() / 3.0);
    /// assert!((m.p_alive(0.0, 0.0, 20.0) - expected).abs() < 1e-15);
    /// ```
    pub fn p_alive(&self, x: f64, t_x: f64, t: f64) -> f64 {
        let MbgNbd { r, alpha, a, b } = *self;
        // As BG/NBD's: the ratio (α+T)/(α+t_x) through ln_1p, so a large α keeps its digits.
        let ln_odds = a.ln() - (b + x).ln() + (r + x) * ((t - t_x) / (alpha + t_x)).ln_1p();
        1.0 / (1.0 + ln_odds.exp())
    }

    /// Expected purchases in (T, T + horizon] for a customer with history (x, t_x, T):
    /// P(alive) times the purchases of a customer alive at T whose dropout probability follows
    /// Beta(a, b+x+1); `None` when the series does not converge (see
    /// [`purchases_while_alive`]).
    pub fn expected_purchases(&self, x: f64, t_x: f64, t: f64, horizon: f64) -> Option<f64> {
        if horizon <= 0.0 {
            return Some(0.0);
        }
        let MbgNbd { r, alpha, a, b } = *self;
        let z = horizon / (alpha + t + horizon);
        Some(self.p_alive(x, t_x, t) * purchases_while_alive(r + x, a, b + x + 1.0, z)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clv::fit::ll_and_grad;
    use crate::clv::special::ln_gamma;

    fn histories() -> Histories {
        Histories::new(
            &[0.0, 1.0, 4.0, 2.0, 0.0],
            &[0.0, 3.5, 20.1, 30.0, 0.0],
            &[38.9, 30.0, 36.4, 31.3, 12.0],
        )
    }

    #[test]
    fn analytic_gradient_matches_finite_differences() {
        let h = MbgHistories(histories());
        for p in [
            [0.4, 5.0, 0.9, 2.1],
            [2.5, 11.0, 0.05, 7.0],
            [0.25, 4.4, 3.0, 0.4],
        ] {
            let (_, g) = ll_and_grad(&h, &p);
            for j in 0..4 {
                let e = 1e-6 * p[j];
                let (mut up, mut down) = (p, p);
                up[j] += e;
                down[j] -= e;
                let numeric = (ll_and_grad(&h, &up).0 - ll_and_grad(&h, &down).0) / (2.0 * e);
                assert!(
                    (g[j] - numeric).abs() < 1e-6 * numeric.abs().max(1.0),
                    "{p:?} ∂{j}: {} vs {numeric}",
                    g[j]
                );
            }
        }
    }

    #[test]
    fn the_likelihood_is_the_papers_closed_form() {
        let h = histories();
        let (r, alpha, a, b) = (0.4f64, 5.0f64, 0.9f64, 2.1f64);
        let ln_beta = |x: f64, y: f64| ln_gamma(x) + ln_gamma(y) - ln_gamma(x + y);
        let direct: f64 = (0..h.distinct())
            .map(|i| {
                let (x, t_x, t) = (h.x(i), h.t_x(i), h.t(i));
                let bracket = (alpha + t).powf(-(r + x)) + a / (b + x) * (alpha + t_x).powf(-(r + x));
                h.weight[i]
                    * (ln_gamma(r + x) - ln_gamma(r) + r * alpha.ln() + ln_beta(a, b + x + 1.0)
                        - ln_beta(a, b)
                        + bracket.ln())
            })
            .sum();
        let (ll, _) = ll_and_grad(&MbgHistories(h), &[r, alpha, a, b]);
        assert!((ll - direct).abs() < 1e-11 * direct.abs(), "{ll} vs {direct}");
    }

    #[test]
    fn predictions_behave() {
        let m = MbgNbd {
            r: 0.525,
            alpha: 6.183,
            a: 0.891,
            b: 1.614,
        };
        // Unlike BG/NBD, a customer without repeat purchases may be gone, the more so the longer ago.
        assert!(m.p_alive(0.0, 0.0, 38.0) < m.p_alive(0.0, 0.0, 2.0));
        assert!(m.p_alive(0.0, 0.0, 2.0) < 1.0);
        assert!(m.p_alive(3.0, 37.0, 38.0) > m.p_alive(3.0, 5.0, 38.0));
        let e = m.expected_purchases(2.0, 30.43, 38.86, 39.0).unwrap();
        assert!(e > 0.0 && m.expected_purchases(2.0, 30.43, 38.86, 78.0).unwrap() > e);
        assert_eq!(m.expected_purchases(2.0, 30.43, 38.86, 0.0), Some(0.0));
    }
}
