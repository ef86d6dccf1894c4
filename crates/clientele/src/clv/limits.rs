//! Fits whose likelihood is highest at a limit of the parameter space.
//!
//! Each mixing distribution of the models degenerates along a ray of its two parameters:
//! Gamma(r, α) becomes a single rate r/α as r, α → ∞; Beta(a, b) becomes a single dropout
//! probability as a, b → ∞, and two point masses at 0 and 1 as a, b → 0; in Gamma-Gamma, the
//! values of one customer stop varying as p → ∞, γ → 0 with p·γ fixed. Along such a ray only a
//! combination of the two parameters is identified, and with little data the likelihood may
//! keep rising towards the limit: the maximum then lies at the limit, a correct (degenerate)
//! answer that the fit must state, not hide behind the large or tiny numbers where the
//! optimiser stopped.
//!
//! Far out along a ray the likelihood is also nearly flat, so the optimiser's gradient test can
//! pass there although the maximum is inside: [`maximize`] then starts again from the ray's
//! moderate part and keeps the better fit. The notes it attaches say which limit a fit runs
//! towards, or along which ray the likelihood does not change at all.

use super::fit::{self, FitReport, Likelihood, ll_and_grad};
use crate::error::Result;

/// A parameter beyond 10⁴ (or below 10⁻⁴) in the direction of its ray's limit is far out: a
/// Gamma(10⁴, ·) has a coefficient of variation of 1 %, a Beta with a + b < 10⁻⁴ puts all but
/// 10⁻⁴ of its mass within 10⁻¹⁰⁰ of 0 and 1.
const FAR: f64 = 1e4;

/// A described quantity of the estimates.
type Describe = Box<dyn Fn(&[f64]) -> String>;

/// A ray along which a mixing distribution degenerates.
pub(crate) struct Ray {
    /// The two parameters, with the factor of one step outwards (10: towards ∞, 0.1: towards 0).
    steps: [(usize, f64); 2],
    /// Their names.
    names: [&'static str; 2],
    /// The combination that stays fixed along the ray, with its value ("r/alpha = 0.2180 per week").
    fixed: Describe,
    /// What the outward limit means, if it is a limit the likelihood may run towards.
    outward: Option<Describe>,
    /// What the inward limit (the steps reversed) means, if it is one.
    inward: Option<Describe>,
}

impl Ray {
    /// `p` moved `by` steps along the ray (fractional and negative steps allowed).
    fn moved(&self, p: &[f64], by: f64) -> Vec<f64> {
        let mut q = p.to_vec();
        for &(i, f) in &self.steps {
            q[i] *= f.powf(by);
        }
        q
    }

    /// How many steps `p` lies beyond [`FAR`] in the direction `sign` (1 outward, −1 inward):
    /// positive when both parameters are far out.
    fn beyond_far(&self, p: &[f64], sign: f64) -> f64 {
        self.steps
            .iter()
            .map(|&(i, f)| sign * p[i].log10() * f.log10().signum() - FAR.log10())
            .fold(f64::INFINITY, f64::min)
    }

    /// "r, alpha → ∞" or "p → ∞, gamma → 0" for `sign` 1, the reverse for −1.
    fn limit(&self, sign: f64) -> String {
        let [end0, end1] = self
            .steps
            .map(|(_, f)| if (f > 1.0) == (sign > 0.0) { "∞" } else { "0" });
        let [name0, name1] = self.names;
        if end0 == end1 {
            format!("{name0}, {name1} → {end0}")
        } else {
            format!("{name0} → {end0}, {name1} → {end1}")
        }
    }
}

/// The objective [`fit::maximize`] maximises, in log-likelihood units.
fn objective(fit: &FitReport) -> f64 {
    fit.log_likelihood - fit.penalty * fit.customers as f64 * fit.params.iter().map(|p| p * p).sum::<f64>()
}

/// [`fit::maximize`] from all parameters 1, restarted from the moderate part of any ray the fit
/// stopped far out on (keeping the better fit), with notes on the limits and flat rays.
///
/// # Errors
///
/// As [`fit::maximize`].
pub(crate) fn maximize<L: Likelihood>(
    model: &L,
    penalty: f64,
    what: &str,
    rays: &[Ray],
) -> Result<FitReport> {
    let mut best = fit::maximize(model, &vec![1.0; L::PARAMETERS], penalty, what)?;
    for ray in rays {
        for sign in [1.0, -1.0] {
            let beyond = ray.beyond_far(&best.params, sign);
            if beyond > 0.0 {
                // Back to where the nearer parameter of the pair is about 1.
                let start = ray.moved(&best.params, -sign * (beyond + FAR.log10()));
                if let Ok(refit) = fit::maximize(model, &start, penalty, what)
                    && objective(&refit) > objective(&best)
                {
                    best = refit;
                }
            }
        }
    }
    best.notes = notes(model, &best.params, rays);
    Ok(best)
}

/// Notes for the rays whose limit the likelihood is highest towards (the estimates far out and
/// a further step not lowering it), and for the rays along which it does not change at all.
fn notes<L: Likelihood>(model: &L, params: &[f64], rays: &[Ray]) -> Vec<String> {
    let (here, _) = ll_and_grad(model, params);
    // Rounding in a sum of log-likelihoods, with room for the asymptotically flat far end.
    let slack = 1e-10 * here.abs().max(1.0);
    let not_lower = |p: Vec<f64>| ll_and_grad(model, &p).0 >= here - slack;
    let mut notes = Vec::new();
    for ray in rays {
        let values = format!(
            "{} = {:.4e}, {} = {:.4e}",
            ray.names[0], params[ray.steps[0].0], ray.names[1], params[ray.steps[1].0]
        );
        let fixed = (ray.fixed)(params);
        let towards = |sign: f64, meaning: &Describe| {
            format!(
                "{values}: the likelihood is highest towards the limit {} with {fixed}, where {}; only that \
                 combination is estimated, the values of {} and {} (and their standard errors) are where the \
                 optimiser stopped on the way, and the predictions are those of the limit",
                ray.limit(sign),
                meaning(params),
                ray.names[0],
                ray.names[1]
            )
        };
        let ends = [(1.0, &ray.outward), (-1.0, &ray.inward)];
        if let Some((sign, Some(meaning))) = ends
            .iter()
            .find(|(sign, meaning)| meaning.is_some() && ray.beyond_far(params, *sign) > 0.0)
        {
            if not_lower(ray.moved(params, *sign)) {
                notes.push(towards(*sign, meaning));
            }
        } else if not_lower(ray.moved(params, 1.0)) && not_lower(ray.moved(params, -1.0)) {
            notes.push(format!(
                "{values}: the likelihood does not change when they are moved together with {fixed} (tenfold \
                 either way): these data identify only that combination, the values of {} and {} (and their \
                 standard errors) are arbitrary",
                ray.names[0], ray.names[1]
            ));
        }
    }
    notes
}

/// Gamma(shape, rate) of a rate: the same rate shape/rate for every customer as both → ∞.
fn same_rate(pair: (usize, usize), names: [&'static str; 2], what: &'static str, unit: &str) -> Ray {
    let unit = unit.to_string();
    Ray {
        steps: [(pair.0, 10.0), (pair.1, 10.0)],
        names,
        fixed: Box::new(move |p| {
            format!(
                "{}/{} = {:.4} per {unit}",
                names[0],
                names[1],
                p[pair.0] / p[pair.1]
            )
        }),
        outward: Some(Box::new(move |_| {
            format!("every customer has that same {what} (no heterogeneity)")
        })),
        inward: None,
    }
}

/// BG/NBD: purchase rates λ ~ Gamma(r, α), dropout probabilities p ~ Beta(a, b).
pub(crate) fn bgnbd(unit: &str) -> Vec<Ray> {
    vec![
        same_rate((0, 1), ["r", "alpha"], "purchase rate", unit),
        Ray {
            steps: [(2, 10.0), (3, 10.0)],
            names: ["a", "b"],
            fixed: Box::new(|p| format!("a/(a+b) = {:.4}", p[2] / (p[2] + p[3]))),
            outward: Some(Box::new(|_| {
                "every customer drops out after a purchase with that same probability".to_string()
            })),
            inward: Some(Box::new(|p| {
                format!(
                    "the dropout probability is 1 for {} of customers (gone at their first repeat purchase) and 0 \
                     for the rest",
                    crate::format::format_share(p[2] / (p[2] + p[3]))
                )
            })),
        },
    ]
}

/// Pareto/NBD: purchase rates λ ~ Gamma(r, α), dropout rates μ ~ Gamma(s, β).
pub(crate) fn pareto_nbd(unit: &str) -> Vec<Ray> {
    vec![
        same_rate((0, 1), ["r", "alpha"], "purchase rate", unit),
        same_rate((2, 3), ["s", "beta"], "dropout rate", unit),
    ]
}

/// Gamma-Gamma: a customer's values ~ Gamma(p, ν), ν ~ Gamma(q, γ).
pub(crate) fn gamma_gamma() -> Vec<Ray> {
    vec![
        Ray {
            steps: [(1, 10.0), (2, 10.0)],
            names: ["q", "gamma"],
            fixed: Box::new(|p| format!("gamma/q = {:.4}", p[2] / p[1])),
            outward: Some(Box::new(|p| {
                format!(
                    "every customer has the same mean spend p·gamma/q = {:.4} (no heterogeneity)",
                    p[0] * p[2] / p[1]
                )
            })),
            inward: None,
        },
        Ray {
            steps: [(0, 10.0), (2, 0.1)],
            names: ["p", "gamma"],
            fixed: Box::new(|p| format!("p·gamma = {:.4}", p[0] * p[2])),
            outward: Some(Box::new(|_| {
                "the values of one customer's purchases do not vary around the customer's mean".to_string()
            })),
            inward: None,
        },
    ]
}
