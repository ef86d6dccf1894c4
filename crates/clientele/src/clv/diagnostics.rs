//! What a user must know before trusting a lifetime-value fit: each diagnostic says what was
//! found, what it means and what to do. The thresholds are the constants of this module and are
//! listed in docs/clv.md.
//!
//! ```
//! use clientele::clv::diagnostics::pearson;
//!
//! assert_eq!(pearson(&[1.0, 2.0, 3.0], &[2.0, 4.0, 6.0]), Some(1.0));
//! assert_eq!(pearson(&[1.0, 1.0, 1.0], &[2.0, 4.0, 6.0]), None);
//! ```

use serde::Serialize;

use super::fit::{FitReport, GRADIENT_TOLERANCE};
use super::{ClvModel, FittedTransactions, HoldoutCheck, SummaryFacts, TimeUnit};
use crate::format::{format_count, format_share};

/// `no_dropout` below this: the mean dropout probability at a purchase, a/(a+b), of BG/NBD
/// and MBG/NBD, and the share of customers who drop out within a year of their first purchase,
/// 1 − (β/(β+1 year))ˢ, of Pareto/NBD.
pub const NO_DROPOUT_BELOW: f64 = 1e-3;

/// `few_repeat_buyers` below this many repeat buyers.
pub const FEW_REPEAT_BUYERS: usize = 100;

/// `spend_frequency_correlated` when |Pearson's r| of frequency and mean spend over the repeat
/// buyers exceeds this.
pub const SPEND_FREQUENCY_CORRELATION: f64 = 0.3;

/// `holdout_bias` when predicted / actual holdout purchases is outside 1 ± this.
pub const HOLDOUT_BIAS: f64 = 0.2;

/// What a diagnostic is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DiagnosticCode {
    /// The dropout parameters are at the limit where nobody drops out.
    NoDropout,
    /// An optimiser stopped before it reached a maximum.
    NotConverged,
    /// Too few repeat buyers for the models to estimate much.
    FewRepeatBuyers,
    /// Spend per purchase correlates with purchase frequency, which Gamma-Gamma assumes not.
    SpendFrequencyCorrelated,
    /// The holdout purchases are predicted more than 20 % too high or too low.
    HoldoutBias,
}

impl DiagnosticCode {
    /// The code as written in summary.json: `no_dropout`, `not_converged`, …
    pub fn name(self) -> &'static str {
        match self {
            DiagnosticCode::NoDropout => "no_dropout",
            DiagnosticCode::NotConverged => "not_converged",
            DiagnosticCode::FewRepeatBuyers => "few_repeat_buyers",
            DiagnosticCode::SpendFrequencyCorrelated => "spend_frequency_correlated",
            DiagnosticCode::HoldoutBias => "holdout_bias",
        }
    }
}

/// A finding about a fit: what it is, what it means and what to do, in one message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diagnostic {
    /// What it is about.
    pub code: DiagnosticCode,
    /// What was found, what it means, what to do.
    pub message: String,
}

/// Pearson's correlation coefficient; `None` for fewer than 2 pairs or a constant series.
pub fn pearson(x: &[f64], y: &[f64]) -> Option<f64> {
    let n = x.len().min(y.len());
    if n < 2 {
        return None;
    }
    let mean = |v: &[f64]| v[..n].iter().sum::<f64>() / n as f64;
    let (mx, my) = (mean(x), mean(y));
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for i in 0..n {
        let (dx, dy) = (x[i] - mx, y[i] - my);
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    (sxx > 0.0 && syy > 0.0).then(|| (sxy / (sxx * syy).sqrt()).clamp(-1.0, 1.0))
}

/// The diagnostics of fitted models, their summary facts and holdout check, in the order of
/// [`DiagnosticCode`].
pub fn diagnose(
    model: &ClvModel,
    facts: &SummaryFacts,
    holdout: Option<&HoldoutCheck>,
    unit: TimeUnit,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let mut push = |code, message: String| out.push(Diagnostic { code, message });
    if let Some(message) = no_dropout(&model.transactions, unit) {
        push(DiagnosticCode::NoDropout, message);
    }
    let label = model.transactions.label();
    for (what, fit) in [(label, &model.transaction_fit), ("Gamma-Gamma", &model.spend_fit)] {
        if let Some(message) = not_converged(what, fit) {
            push(DiagnosticCode::NotConverged, message);
        }
    }
    if facts.repeat_buyers < FEW_REPEAT_BUYERS {
        push(
            DiagnosticCode::FewRepeatBuyers,
            format!(
                "only {} of {} customers made a repeat purchase by {} (fewer than {FEW_REPEAT_BUYERS}): the \
                 dropout parameters and the whole spend model are estimated from repeat buyers alone, so their \
                 estimates are loose (see the standard errors) and may sit at a limit. Use a longer calibration \
                 period, more customers, or read CLV as a rough ranking only.",
                format_count(facts.repeat_buyers as u64),
                format_count(facts.customers as u64),
                facts.calibration_end
            ),
        );
    }
    if let Some(rho) = model.spend_frequency_correlation
        && rho.abs() > SPEND_FREQUENCY_CORRELATION
    {
        push(
            DiagnosticCode::SpendFrequencyCorrelated,
            format!(
                "Pearson's correlation of frequency and mean spend among the repeat buyers is {rho:.3} (|r| above \
                 {SPEND_FREQUENCY_CORRELATION}): Gamma-Gamma assumes a customer's spend per purchase does not \
                 depend on how often the customer buys, so the expected spends, and CLV, are biased for the most \
                 and the least frequent buyers. Read CLV with care, or segment customers by frequency before \
                 comparing values."
            ),
        );
    }
    if let Some(message) = holdout.and_then(holdout_bias) {
        push(DiagnosticCode::HoldoutBias, message);
    }
    out
}

/// The `no_dropout` message of a transaction model whose dropout is below [`NO_DROPOUT_BELOW`].
fn no_dropout(model: &FittedTransactions, unit: TimeUnit) -> Option<String> {
    let (what, value, params) = match model {
        FittedTransactions::BgNbd(m) => ("a/(a+b), the mean probability of dropping out at a purchase,", m.a / (m.a + m.b), (m.a, m.b, "a", "b")),
        FittedTransactions::MbgNbd(m) => ("a/(a+b), the mean probability of dropping out at a purchase,", m.a / (m.a + m.b), (m.a, m.b, "a", "b")),
        FittedTransactions::ParetoNbd(m) => {
            let year = 365.25 / unit.days();
            (
                "1 − (β/(β + 1 year))ˢ, the share of customers who drop out within a year,",
                -((m.beta / (m.beta + year)).ln() * m.s).exp_m1(),
                (m.s, m.beta, "s", "beta"),
            )
        }
    };
    (value < NO_DROPOUT_BELOW).then(|| {
        format!(
            "{} fit: {} = {:.4e}, {} = {:.4e}, so {what} is {value:.3e} (below {NO_DROPOUT_BELOW}): the model sees \
             almost no customer leaving, P(alive) is close to 1 for nearly everyone, the lifecycle stages \
             show few lapsing or lost customers and CLV assumes customers keep buying. This is where the \
             likelihood of these data is highest, not a numerical accident: the calibration window may be too \
             short for lapses to show. Compare the models (--clv-model auto), lengthen the calibration period, \
             and judge churn by recency (the RFM segments) rather than P(alive).",
            model.label(),
            params.2,
            params.0,
            params.3,
            params.1
        )
    })
}

/// The `not_converged` message of a fit that stopped before a maximum.
fn not_converged(what: &str, fit: &FitReport) -> Option<String> {
    (!fit.converged).then(|| {
        format!(
            "the {what} fit stopped after {} iterations ({}) with a gradient of {:.2e} (more than \
             {GRADIENT_TOLERANCE}): the estimates are not a maximum of the likelihood and the predictions may \
             change if it is fitted again. Try a small penalty (--penalty 0.001), a longer calibration period, \
             or another model (--clv-model auto).",
            fit.iterations, fit.termination, fit.max_gradient
        )
    })
}

/// The `holdout_bias` message when predicted / actual holdout purchases is outside 1 ± [`HOLDOUT_BIAS`].
fn holdout_bias(h: &HoldoutCheck) -> Option<String> {
    let ratio = h.predicted_total / h.actual_total;
    let biased = if h.actual_total > 0.0 {
        (ratio - 1.0).abs() > HOLDOUT_BIAS
    } else {
        h.predicted_total > 0.0
    };
    biased.then(|| {
        let direction = if h.predicted_total < h.actual_total { "under" } else { "over" };
        format!(
            "the model {direction}-predicts the holdout: {:.1} repeat purchases predicted against {} actual \
             ({} off, more than {}): predictions over the horizon are likely off in the same direction. A \
             holdout with a seasonal peak (or trough) that the calibration period does not contain is a common \
             cause; compare the models (--clv-model auto), move the calibration end so that both windows \
             cover comparable seasons, or scale expectations accordingly.",
            h.predicted_total,
            format_count(h.actual_total.round() as u64),
            if h.actual_total > 0.0 {
                format_share((ratio - 1.0).abs())
            } else {
                "all".to_string()
            },
            format_share(HOLDOUT_BIAS)
        )
    })
}
