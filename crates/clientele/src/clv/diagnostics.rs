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
    // With `auto` the models were compared already.
    let compare = if model.comparison.is_some() {
        ""
    } else {
        "compare the models (--clv-model auto), "
    };
    if let Some(message) = no_dropout(&model.transactions, unit, compare) {
        push(DiagnosticCode::NoDropout, message);
    }
    let label = model.transactions.label();
    for (what, fit) in [(label, &model.transaction_fit), ("Gamma-Gamma", &model.spend_fit)] {
        if let Some(message) = not_converged(what, fit, compare) {
            push(DiagnosticCode::NotConverged, message);
        }
    }
    if facts.repeat_buyers < FEW_REPEAT_BUYERS {
        push(
            DiagnosticCode::FewRepeatBuyers,
            format!(
                "only {} of {} customers made a repeat purchase by {} (fewer than {FEW_REPEAT_BUYERS}): the \
                 dropout parameters and the whole spend model are estimated from repeat buyers alone, so their \
                 estimates are loose (see the standard errors) and may sit at a limit. What to do: use a longer calibration \
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
                 and the least frequent buyers. What to do: read CLV with care, or segment customers by frequency before \
                 comparing values."
            ),
        );
    }
    if let Some(message) = holdout.and_then(|h| holdout_bias(h, compare)) {
        push(DiagnosticCode::HoldoutBias, message);
    }
    out
}

/// The `no_dropout` message of a transaction model whose dropout is below [`NO_DROPOUT_BELOW`].
fn no_dropout(model: &FittedTransactions, unit: TimeUnit, compare: &str) -> Option<String> {
    let (what, value, params) = match model {
        FittedTransactions::BgNbd(m) => (
            "a/(a+b), the mean probability of dropping out at a purchase,",
            m.a / (m.a + m.b),
            (m.a, m.b, "a", "b"),
        ),
        FittedTransactions::MbgNbd(m) => (
            "a/(a+b), the mean probability of dropping out at a purchase,",
            m.a / (m.a + m.b),
            (m.a, m.b, "a", "b"),
        ),
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
             almost no customer leaving, P(alive) is close to 1 for nearly everyone, lifecycle stages from P(alive) \
             show few lapsing or lost customers and CLV assumes customers keep buying. This is where the \
             likelihood of these data is highest, not a numerical accident: the calibration window may be too \
             short for lapses to show. What to do: {compare}lengthen the calibration period, and judge \
             churn by recency (the RFM segments) rather than P(alive).",
            model.label(),
            params.2,
            params.0,
            params.3,
            params.1
        )
    })
}

/// The `not_converged` message of a fit that stopped before a maximum.
fn not_converged(what: &str, fit: &FitReport, compare: &str) -> Option<String> {
    (!fit.converged).then(|| {
        format!(
            "the {what} fit stopped after {} iterations ({}) with a gradient of {:.2e} (more than \
             {GRADIENT_TOLERANCE}): the estimates are not a maximum of the likelihood and the predictions may \
             change if it is fitted again. What to do: {compare}try a small penalty (--penalty 0.001) or a longer \
             calibration period.",
            fit.iterations, fit.termination, fit.max_gradient
        )
    })
}

/// The `holdout_bias` message when predicted / actual holdout purchases is outside 1 ± [`HOLDOUT_BIAS`].
fn holdout_bias(h: &HoldoutCheck, compare: &str) -> Option<String> {
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
             cause. What to do: {compare}move the calibration end so that both windows cover comparable \
             seasons, or scale expectations accordingly.",
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

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::clv::{BgNbd, GammaGamma, MbgNbd, ParetoNbd};

    fn fit(converged: bool) -> FitReport {
        FitReport {
            names: vec!["r", "alpha", "a", "b"],
            params: vec![1.0; 4],
            std_errors: vec![None; 4],
            log_likelihood: -100.0,
            customers: 1_000,
            iterations: 1_000,
            penalty: 0.0,
            termination: "MaxItersReached".into(),
            notes: Vec::new(),
            converged,
            max_gradient: if converged { 1e-8 } else { 3e-3 },
        }
    }

    fn model(transactions: FittedTransactions) -> ClvModel {
        ClvModel {
            transactions,
            transaction_fit: fit(true),
            spend: GammaGamma {
                p: 6.25,
                q: 3.74,
                gamma: 15.44,
            },
            spend_fit: fit(true),
            spend_excluded: 0,
            spend_frequency_correlation: Some(0.11),
            comparison: None,
        }
    }

    fn facts(repeat_buyers: usize) -> SummaryFacts {
        SummaryFacts {
            customers: 2_357,
            repeat_buyers,
            repeat_purchases: 1_000.0,
            calibration_end: NaiveDate::from_ymd_opt(1997, 9, 30).unwrap(),
            holdout_end: None,
            first_purchase_after_calibration: 0,
        }
    }

    fn holdout(predicted_total: f64, actual_total: f64) -> HoldoutCheck {
        HoldoutCheck {
            length: 39.0,
            actual_total,
            predicted_total,
            mean_absolute_error: 0.5,
            by_frequency: Vec::new(),
            churn: crate::clv::churn::ChurnEvaluation {
                churned: 0,
                holdout_buyers: 0,
                auc: None,
                auc_expected_purchases: None,
                auc_rhythm: None,
                gains: Vec::new(),
                calibration: Vec::new(),
            },
        }
    }

    fn codes(model: &ClvModel, repeat: usize, h: Option<&HoldoutCheck>) -> Vec<DiagnosticCode> {
        diagnose(model, &facts(repeat), h, TimeUnit::Week)
            .iter()
            .map(|d| d.code)
            .collect()
    }

    const CDNOW_BG: BgNbd = BgNbd {
        r: 0.243,
        alpha: 4.414,
        a: 0.793,
        b: 2.426,
    };

    #[test]
    fn a_sound_fit_has_none() {
        let m = model(FittedTransactions::BgNbd(CDNOW_BG));
        assert_eq!(codes(&m, 946, Some(&holdout(1_653.4, 1_882.0))), []);
    }

    #[test]
    fn no_dropout_at_each_models_limit() {
        // Online Retail's BG/NBD (issue 14): a = 3.7e-7, b = 16,416.
        let bg = BgNbd {
            a: 3.7e-7,
            b: 16_416.0,
            ..CDNOW_BG
        };
        assert_eq!(
            codes(&model(FittedTransactions::BgNbd(bg)), 946, None),
            [DiagnosticCode::NoDropout]
        );
        let mbg = MbgNbd {
            r: 0.76,
            alpha: 9.77,
            a: 1e-3,
            b: 1.5,
        };
        // a/(a+b) = 6.7e-4 is below 1e-3; a = 2e-3 (1.3e-3) is not.
        assert_eq!(
            codes(&model(FittedTransactions::MbgNbd(mbg)), 946, None),
            [DiagnosticCode::NoDropout]
        );
        let mbg = MbgNbd { a: 2e-3, ..mbg };
        assert_eq!(codes(&model(FittedTransactions::MbgNbd(mbg)), 946, None), []);
        // Pareto/NBD: the share gone within a year (52.18 weeks), 1 − (β/(β+52.18))ˢ.
        let pareto = ParetoNbd {
            r: 0.76,
            alpha: 9.77,
            s: 5.4e-8,
            beta: 285.8,
        };
        let m = model(FittedTransactions::ParetoNbd(pareto));
        let d = diagnose(&m, &facts(946), None, TimeUnit::Week);
        assert_eq!(d[0].code, DiagnosticCode::NoDropout);
        assert!(
            d[0].message.contains("s = 5.4000e-8") && d[0].message.contains("is 9.055e-9"),
            "{}",
            d[0].message
        );
        let published = ParetoNbd {
            r: 0.553,
            alpha: 10.578,
            s: 0.606,
            beta: 11.669,
        };
        assert_eq!(
            codes(&model(FittedTransactions::ParetoNbd(published)), 946, None),
            []
        );
    }

    #[test]
    fn not_converged_names_the_fit() {
        let mut m = model(FittedTransactions::BgNbd(CDNOW_BG));
        m.spend_fit = fit(false);
        let d = diagnose(&m, &facts(946), None, TimeUnit::Week);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].code, DiagnosticCode::NotConverged);
        assert!(
            d[0].message
                .starts_with("the Gamma-Gamma fit stopped after 1000 iterations (MaxItersReached)")
        );
    }

    #[test]
    fn few_repeat_buyers_below_100() {
        let m = model(FittedTransactions::BgNbd(CDNOW_BG));
        assert_eq!(codes(&m, 99, None), [DiagnosticCode::FewRepeatBuyers]);
        assert_eq!(codes(&m, 100, None), []);
    }

    #[test]
    fn spend_frequency_correlation_above_0_3_either_sign() {
        let mut m = model(FittedTransactions::BgNbd(CDNOW_BG));
        for (rho, flagged) in [(0.3, false), (0.31, true), (-0.45, true), (-0.2, false)] {
            m.spend_frequency_correlation = Some(rho);
            let expected: &[DiagnosticCode] = if flagged {
                &[DiagnosticCode::SpendFrequencyCorrelated]
            } else {
                &[]
            };
            assert_eq!(codes(&m, 946, None), expected, "{rho}");
        }
    }

    #[test]
    fn holdout_bias_outside_20_percent() {
        let m = model(FittedTransactions::BgNbd(CDNOW_BG));
        for (predicted, actual, flagged) in [
            (2_813.6, 3_791.0, true),
            (80.0, 100.0, false),
            (79.9, 100.0, true),
            (120.0, 100.0, false),
            (120.1, 100.0, true),
            (1.0, 0.0, true),
            (0.0, 0.0, false),
        ] {
            let d = diagnose(&m, &facts(946), Some(&holdout(predicted, actual)), TimeUnit::Week);
            assert_eq!(!d.is_empty(), flagged, "{predicted} / {actual}: {d:?}");
        }
        let d = diagnose(&m, &facts(946), Some(&holdout(2_813.6, 3_791.0)), TimeUnit::Week);
        assert!(
            d[0].message.starts_with("the model under-predicts the holdout: 2813.6 repeat purchases predicted against 3,791 actual (25.8 % off"),
            "{}",
            d[0].message
        );
    }
}
