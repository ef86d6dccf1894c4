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
//!
//! The data may favour a boundary of the parameter space: r, α → ∞ (all customers buy at one
//! rate r/α) or a, b → 0 or ∞ (dropout probabilities 0 or 1, or one for all). The likelihood
//! is evaluated so that it keeps its digits there: αʳ (α+T)^−(r+x) as
//! (α+T)^−x · exp(−r ln(1 + T/α)) rather than a difference of two huge logarithms, and
//! Γ(r+x)/Γ(r) by [`ln_rising`] rather than a difference of two huge log-gammas.

use polars::prelude::PlHashMap;
use serde::Serialize;

use super::fit::Likelihood;
use super::special::{MAX_TERMS, TOLERANCE, digamma_rising, ln_rising};

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
    /// Per distinct x: ln Γ(r+x)/Γ(r) + ln B(a, b+x)/B(a, b), its ∂/∂(r, a, b),
    /// ln a − ln(b + x − 1) and −1/(b + x − 1).
    by_x: Vec<[f64; 6]>,
    /// Per distinct T: [`Elapsed`] at v = T.
    by_t: Vec<Elapsed>,
    /// Per distinct t_x: [`Elapsed`] at v = t_x.
    by_t_x: Vec<Elapsed>,
}

/// ln(α + v), ln(1 + v/α), v/(α(α + v)) and 1/(α + v) for a time v: with them,
/// ln[αʳ (α+v)^−(r+x)] = −x ln(α+v) − r ln(1 + v/α), and its ∂/∂α = r v/(α(α+v)) − x/(α+v),
/// both free of the cancellation between r ln α and (r+x) ln(α+v) when r and α are large.
type Elapsed = [f64; 4];

fn elapsed(alpha: f64, v: f64) -> Elapsed {
    [
        (alpha + v).ln(),
        (v / alpha).ln_1p(),
        v / (alpha * (alpha + v)),
        1.0 / (alpha + v),
    ]
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
        self.tables(p, Dropout::AfterRepeatPurchases)
    }

    fn add_ll_grad(
        &self,
        p: &[f64],
        tables: &BgNbdTables,
        range: std::ops::Range<usize>,
        grad: &mut [f64],
    ) -> f64 {
        self.mixture_ll_grad(p, tables, range, grad)
    }
}

/// When a customer may drop out: the one difference between BG/NBD and MBG/NBD.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dropout {
    /// After each repeat purchase (BG/NBD): a customer without repeat purchases is alive.
    AfterRepeatPurchases,
    /// Also right after the first purchase (MBG/NBD, Batislam, Denizel & Filiztekin 2007).
    AlsoAfterTheFirst,
}

impl Dropout {
    /// Dropout opportunities before a customer with x repeat purchases is still alive at T,
    /// beyond x: 0 (BG/NBD) or 1 (MBG/NBD, the first purchase is one too).
    pub(crate) fn extra(self) -> f64 {
        match self {
            Dropout::AfterRepeatPurchases => 0.0,
            Dropout::AlsoAfterTheFirst => 1.0,
        }
    }
}

impl Histories {
    /// The tables of the BG/NBD or MBG/NBD likelihood at p = (r, α, a, b). With e = 0 (BG/NBD)
    /// or 1 (MBG/NBD) extra dropout opportunities, the likelihood of a history is
    ///
    /// ```text
    /// Γ(r+x) αʳ / Γ(r) · B(a, b+x+e) / B(a, b) · [ (α+T)^−(r+x) + 1{x+e>0} · a/(b+x+e−1) · (α+t_x)^−(r+x) ]
    /// ```
    pub(crate) fn tables(&self, p: &[f64], dropout: Dropout) -> BgNbdTables {
        let (r, alpha, a, b) = (p[0], p[1], p[2], p[3]);
        let e = dropout.extra();
        let by_x = self
            .x_values
            .iter()
            .map(|&x| {
                // B(a, b+x+e)/B(a, b) = (b)ₓ₊ₑ / (a+b)ₓ₊ₑ.
                let d_ab = digamma_rising(a + b, x + e);
                let gamma_part = ln_rising(r, x) + ln_rising(b, x + e) - ln_rising(a + b, x + e);
                // b + (x + e − 1), not (b + x) − 1: exact in x, so a small b keeps its digits.
                let (ln_ratio, d_b4) = if x + e > 0.0 {
                    (a.ln() - (b + (x + e - 1.0)).ln(), -1.0 / (b + (x + e - 1.0)))
                } else {
                    (f64::NEG_INFINITY, 0.0)
                };
                [
                    gamma_part,
                    digamma_rising(r, x),
                    -d_ab,
                    digamma_rising(b, x + e) - d_ab,
                    ln_ratio,
                    d_b4,
                ]
            })
            .collect();
        let tables = |values: &[f64]| values.iter().map(|v| elapsed(alpha, *v)).collect();
        BgNbdTables {
            by_x,
            by_t: tables(&self.t_values),
            by_t_x: tables(&self.t_x_values),
        }
    }

    /// The weighted log-likelihood of histories `range` and its gradient (added to `grad`),
    /// from [`Histories::tables`]: a history whose dropout term is present (its `ln_ratio` is
    /// finite) mixes the alive and the dropped-out terms.
    pub(crate) fn mixture_ll_grad(
        &self,
        p: &[f64],
        tables: &BgNbdTables,
        range: std::ops::Range<usize>,
        grad: &mut [f64],
    ) -> f64 {
        let (r, a) = (p[0], p[2]);
        let mut total = 0.0;
        let mut g = [0.0; 4];
        // ln[αʳ (α+v)^−(r+x)] and its ∂/∂r, ∂/∂α (see [`Elapsed`]).
        let scaled = |x: f64, [ln_av, ln1p_v, q, inv_av]: Elapsed| {
            (-x * ln_av - r * ln1p_v, -ln1p_v, r * q - x * inv_av)
        };
        for i in range {
            let x = self.x_values[self.x_index[i] as usize];
            let [gamma_part, d_r, d_a, d_b, ln_ratio, d_b4] = tables.by_x[self.x_index[i] as usize];
            let w = self.weight[i];
            let (a3, dr3, dalpha3) = scaled(x, tables.by_t[self.t_index[i] as usize]);
            // ∂(A1 + A2) plus the derivative of the A3 / A4 mixture, with weights w3 + w4 = 1.
            let (ll, w4, dr4, dalpha4) = if ln_ratio > f64::NEG_INFINITY {
                let (a4, dr4, dalpha4) = scaled(x, tables.by_t_x[self.t_x_index[i] as usize]);
                let a4 = ln_ratio + a4;
                // ln(e^a3 + e^a4) and the share of the a4 term, with one exp and one ln_1p.
                let d = a4 - a3;
                let e = (-d.abs()).exp();
                let l = a3.max(a4) + e.ln_1p();
                let w4 = if d > 0.0 { 1.0 / (1.0 + e) } else { e / (1.0 + e) };
                (gamma_part + l, w4, dr4, dalpha4)
            } else {
                (gamma_part + a3, 0.0, 0.0, 0.0)
            };
            let w3 = 1.0 - w4;
            total += w * ll;
            g[0] += w * (d_r + w3 * dr3 + w4 * dr4);
            g[1] += w * (w3 * dalpha3 + w4 * dalpha4);
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

    /// Probability that a customer with history (x, t_x, T) is still active at T:
    /// 1 / (1 + a/(b+x−1) · ((α+T)/(α+t_x))^(r+x)) for x > 0, 1 for x = 0.
    pub fn p_alive(&self, x: f64, t_x: f64, t: f64) -> f64 {
        if x == 0.0 {
            return 1.0;
        }
        let BgNbd { r, alpha, a, b } = *self;
        // ((α+T)/(α+t_x))^(r+x) through ln(1 + (T − t_x)/(α + t_x)): the ratio itself rounds
        // to 1 ± ε, an error r+x times amplified, when α is large.
        let ln_odds = a.ln() - (b + (x - 1.0)).ln() + (r + x) * ((t - t_x) / (alpha + t_x)).ln_1p();
        1.0 / (1.0 + ln_odds.exp())
    }

    /// Expected purchases in (T, T + horizon] for a customer with history (x, t_x, T)
    /// (eq. 10 of the paper), evaluated as P(alive) · [`purchases_while_alive`]; `None` when its
    /// series does not converge within [`MAX_TERMS`] terms, whose number grows in proportion to
    /// horizon / (α + T).
    pub fn expected_purchases(&self, x: f64, t_x: f64, t: f64, horizon: f64) -> Option<f64> {
        if horizon <= 0.0 {
            return Some(0.0);
        }
        let BgNbd { r, alpha, a, b } = *self;
        let z = horizon / (alpha + t + horizon);
        Some(self.p_alive(x, t_x, t) * purchases_while_alive(r + x, a, b + x, z)?)
    }
}

/// Rescaling step of the running sum of [`purchases_while_alive`].
const RESCALE: f64 = 1.0e200_f64;

/// Expected purchases in a window of length t of a customer alive at its start, whose
/// posterior is λ ~ Gamma(k, α+T) (k = r + x) and p ~ Beta(a, b) (b = b₀ + x), with
/// z = t/(α+T+t).
///
/// Given λ and p, an active customer buys (1 − e^(−λpt))/p times in expectation; averaging
/// over λ gives g(p) = (1 − (1 + p·u)^−k)/p with u = t/(α+T) = z/(1 − z). The paper's eq. 10
/// averages g over p in closed form, (a+b−1)/(a−1) · [1 − (1−z)^k ₂F₁(k, b; a+b−1; z)]. That
/// form breaks down on valid parameters: ₂F₁ has poles at c = a+b−1 = 0, −1, …, so for x = 0
/// and a + b ≤ 1 its series is undefined or ruinously large, and at a = 1 both factors are
/// 0/0. (A fit with a, b → 0 reaches exactly that regime; see the module notes.)
///
/// Here the average is summed as a series of positive terms instead, valid for every a, b > 0:
/// with q = 1 − p, (1 + p·u)^−k = Σₙ cₙ qⁿ where cₙ = (1−z)^k (k)ₙ zⁿ / n! (negative
/// binomial probabilities, Σ cₙ = 1), so g(p) = Σₙ cₙ (1 − qⁿ)/(1 − q) = Σₙ cₙ Σ_{j<n} qʲ, and
/// E\[qʲ\] = (b)ⱼ/(a+b)ⱼ =: mⱼ gives
///
/// ```text
/// E[g(p)] = Σ_{n≥1} cₙ Mₙ,   Mₙ = Σ_{j<n} mⱼ.
/// ```
///
/// Every term is positive (no cancellation) and the terms fall geometrically once n passes
/// k·u, the expected number of purchases at rate λ̄ = k/(α+T) over t. cₙ is carried with a
/// running scale, so (1 − z)^k may underflow. `None` beyond [`MAX_TERMS`] terms.
pub fn purchases_while_alive(k: f64, a: f64, b: f64, z: f64) -> Option<f64> {
    let mut ln_scale = k * (-z).ln_1p(); // ln c₀; c holds cₙ / e^ln_scale
    let (mut c, mut m, mut big_m, mut sum) = (1.0f64, 1.0f64, 0.0f64, 0.0f64);
    for n in 1..MAX_TERMS {
        // j = n − 1 added last, exactly: (a + b + n) − 1 would cost a small a + b its digits.
        let (nf, j) = (n as f64, (n - 1) as f64);
        big_m += m; // M_n
        m *= (b + j) / (a + b + j); // m_n
        c *= (k + j) * z / nf; // c_n
        let term = c * big_m;
        sum += term;
        // Term ratios: c_{i+1}/c_i = (k+i)z/(i+1) moves monotonically towards z, and
        // M_{i+1}/M_i ≤ 1 + 1/i (mⱼ decreases), so every later ratio is at most q.
        let q = ((k + nf) * z / (nf + 1.0)).max(z) * (1.0 + 1.0 / nf);
        if q < 1.0 && term * q / (1.0 - q) <= TOLERANCE * sum {
            return Some((sum.ln() + ln_scale).exp());
        }
        if c > RESCALE {
            c /= RESCALE;
            sum /= RESCALE;
            ln_scale += RESCALE.ln();
        }
    }
    None
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
    fn the_likelihood_keeps_its_digits_towards_the_poisson_limit() {
        use crate::clv::special::log_add_exp;
        // As r, α → ∞ with r/α = λ, Γ(r+x)/Γ(r) αʳ (α+v)^−(r+x) → λˣ e^(−λv), within O(1/α).
        let h = Histories::new(
            &[0.0, 1.0, 4.0, 2.0],
            &[0.0, 3.5, 20.1, 30.0],
            &[38.9, 30.0, 36.4, 31.3],
        );
        let (lambda, a, b) = (0.2f64, 0.9f64, 2.1f64);
        let limit: f64 = (0..h.distinct())
            .map(|i| {
                let (x, t_x, t) = (h.x(i), h.t_x(i), h.t(i));
                let alive = x * lambda.ln() - lambda * t;
                let ll = if x > 0.0 {
                    log_add_exp(
                        alive,
                        a.ln() - (b + x - 1.0).ln() + x * lambda.ln() - lambda * t_x,
                    )
                } else {
                    alive
                };
                h.weight[i] * (ln_rising(b, x) - ln_rising(a + b, x) + ll)
            })
            .sum();
        for alpha in [1e12, 1e14, 1e16] {
            let (ll, grad) = ll_and_grad(&h, &[lambda * alpha, alpha, a, b]);
            assert!(
                (ll - limit).abs() < 1e-9,
                "α = {alpha}: {ll} vs the limit {limit}"
            );
            assert!(grad.iter().all(|g| g.is_finite()), "{grad:?}");
        }
    }

    #[test]
    fn only_a_horizon_far_beyond_alpha_plus_t_exhausts_the_series() {
        // The estimates on the first 300 lines of datasets/sample_transactions.csv.
        let m = BgNbd {
            r: 10.77,
            alpha: 48.89,
            a: 4.66e-9,
            b: 1.21e-8,
        };
        for horizon in [0.1, 52.0, 5_200.0] {
            let e = m.expected_purchases(0.0, 0.0, 2.0, horizon);
            assert!(e.is_some_and(|e| e.is_finite() && e > 0.0), "{horizon}: {e:?}");
        }
        // (r + x)·horizon/(α + T) = 2·10⁸ terms and more.
        assert_eq!(m.expected_purchases(0.0, 0.0, 2.0, 1e9), None);
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
