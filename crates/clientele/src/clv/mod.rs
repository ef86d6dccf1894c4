//! Customer lifetime value from buy-till-you-die models: BG/NBD or Pareto/NBD for purchases
//! and dropout, Gamma-Gamma for spend; probability alive, expected purchases, CLV, customer
//! equity and lifecycle stages.
//!
//! ```no_run
//! use chrono::NaiveDate;
//! use clientele::clv::{self, ClvParams};
//! use clientele::ingest::{self, IngestOptions};
//!
//! let tx = ingest::scan("orders.csv", &IngestOptions::default())?;
//! let params = ClvParams::new()
//!     .calibration_end(NaiveDate::from_ymd_opt(1997, 9, 30).unwrap())
//!     .margin(0.3)
//!     .check()?;
//! let result = clv::run(&tx, &params)?;
//! println!("customer equity {:.2}", result.equity);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! **CLV** of a customer = margin × E(spend) × Σᵢ (E(X(tᵢ)) − E(X(tᵢ₋₁))) / (1 + d)ⁱ, where the
//! horizon is cut into months i = 1, 2, … (t₀ = 0, tᵢ = i months, the last step ending at the
//! horizon), E(X(t)) is the expected number of purchases in (T, T + t] given the customer's
//! history, d is the monthly discount rate and E(spend) the Gamma-Gamma expected mean spend.
//! Customer equity is the sum of all customers' CLV. Under lifetimes' conventions
//! ([`ClvConvention::Lifetimes`], `--preset lifetimes`) the summary and the CLV follow the
//! Python package lifetimes instead ([`lifetimes`], [`summary`]).

pub mod bgnbd;
pub mod choose;
pub mod churn;
pub mod diagnostics;
pub mod fit;
pub mod gamma_gamma;
pub mod lifecycle;
pub mod lifetimes;
mod limits;
pub mod mbgnbd;
pub mod params;
pub mod pareto_nbd;
pub mod special;
pub mod summary;

use polars::prelude::*;
use rayon::prelude::*;
use serde::Serialize;

pub use self::bgnbd::{BgNbd, Histories};
pub use self::choose::{ComparedModel, ModelComparison};
pub use self::diagnostics::{Diagnostic, DiagnosticCode};
pub use self::fit::FitReport;
pub use self::gamma_gamma::{GammaGamma, Spends};
pub use self::mbgnbd::MbgNbd;
pub use self::params::{
    ClvConvention, ClvParams, ClvValidParams, Horizon, HorizonUnit, Lifecycle, Period, TimeUnit,
    TransactionModel,
};
pub use self::pareto_nbd::ParetoNbd;
use self::summary::col_names as summary_cols;
pub use self::summary::{BtydSummary, SummaryFacts, summarize};
use crate::customers::col_names::CUSTOMER_ID;
use crate::error::{Error, PolarsContext, Result};
use crate::ingest::Transactions;

/// Output column names added to the summary.
pub mod col_names {
    pub use super::summary::col_names::*;
    /// Expected purchases over the horizon.
    pub const EXPECTED_PURCHASES: &str = "expected_purchases";
    /// Probability that the customer is still active at the calibration end.
    pub const P_ALIVE: &str = "p_alive";
    /// Expected mean spend per purchase.
    pub const EXPECTED_AVG_SPEND: &str = "expected_avg_spend";
    /// Discounted margin over the horizon.
    pub const CLV: &str = "clv";
    /// new / active / lapsing / lost.
    pub const LIFECYCLE_STAGE: &str = "lifecycle_stage";
    /// Expected purchases over the holdout window (with a holdout).
    pub const EXPECTED_PURCHASES_HOLDOUT: &str = "expected_purchases_holdout";
}

/// Days in a month, for monthly discounting.
pub const DAYS_PER_MONTH: f64 = 365.25 / 12.0;

/// A fitted transaction model.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "model", rename_all = "snake_case")]
pub enum FittedTransactions {
    /// BG/NBD.
    BgNbd(BgNbd),
    /// Pareto/NBD.
    ParetoNbd(ParetoNbd),
    /// MBG/NBD.
    MbgNbd(MbgNbd),
}

impl FittedTransactions {
    /// Probability alive at T.
    pub fn p_alive(&self, x: f64, t_x: f64, t: f64) -> Option<f64> {
        match self {
            FittedTransactions::BgNbd(m) => Some(m.p_alive(x, t_x, t)),
            FittedTransactions::ParetoNbd(m) => m.p_alive(x, t_x, t),
            FittedTransactions::MbgNbd(m) => Some(m.p_alive(x, t_x, t)),
        }
    }

    /// Expected purchases in (T, T + horizon].
    pub fn expected_purchases(&self, x: f64, t_x: f64, t: f64, horizon: f64) -> Option<f64> {
        match self {
            FittedTransactions::BgNbd(m) => m.expected_purchases(x, t_x, t, horizon),
            FittedTransactions::ParetoNbd(m) => m.expected_purchases(x, t_x, t, horizon),
            FittedTransactions::MbgNbd(m) => m.expected_purchases(x, t_x, t, horizon),
        }
    }

    /// The model's name: "BG/NBD", "Pareto/NBD" or "MBG/NBD".
    pub fn label(&self) -> &'static str {
        match self {
            FittedTransactions::BgNbd(_) => "BG/NBD",
            FittedTransactions::ParetoNbd(_) => "Pareto/NBD",
            FittedTransactions::MbgNbd(_) => "MBG/NBD",
        }
    }

    /// Why [`FittedTransactions::p_alive`] or [`FittedTransactions::expected_purchases`]
    /// over `horizon` time units returned `None`, for a message.
    fn why_not(&self, x: f64, t: f64, horizon: f64, unit: &str) -> String {
        let (r, alpha) = match self {
            FittedTransactions::BgNbd(m) => (m.r, m.alpha),
            FittedTransactions::MbgNbd(m) => (m.r, m.alpha),
            FittedTransactions::ParetoNbd(m) => (m.r, m.alpha),
        };
        match self {
            FittedTransactions::BgNbd(_) | FittedTransactions::MbgNbd(_) => format!(
                "the series of its expected purchases over {horizon} {unit}s did not converge within {} terms; \
                 their number grows in proportion to horizon/(alpha + T) = {:.4e} and to (r + x)·horizon/(alpha + T) \
                 = {:.4e}, so the horizon is too long for these parameters",
                crate::format::format_count(special::MAX_TERMS as u64),
                horizon / (alpha + t),
                (r + x) * horizon / (alpha + t),
            ),
            FittedTransactions::ParetoNbd(_) => {
                "its P(alive) cannot be evaluated at these parameters: a ₂F₁ series \
                 of A₀ does not converge, or A₀'s two terms cancel to rounding"
                    .to_string()
            }
        }
    }
}

/// The fitted models.
#[derive(Debug, Clone, Serialize)]
pub struct ClvModel {
    /// Purchase and dropout model.
    pub transactions: FittedTransactions,
    /// Its fit.
    pub transaction_fit: FitReport,
    /// Spend model.
    pub spend: GammaGamma,
    /// Its fit.
    pub spend_fit: FitReport,
    /// Repeat buyers left out of the spend fit because their repeat periods net to ≤ 0.
    pub spend_excluded: usize,
    /// Pearson's correlation of frequency and mean spend over the repeat buyers of the spend
    /// fit, which Gamma-Gamma assumes independent; `None` when either does not vary.
    pub spend_frequency_correlation: Option<f64>,
    /// With `--clv-model auto`: every model fitted and why this one was chosen.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comparison: Option<ModelComparison>,
}

/// Fits the transaction model and the spend model to a summary.
///
/// # Errors
///
/// [`Error::Clv`] when there is no repeat buyer, too few positive spends, or a fit fails.
pub fn fit(summary: &BtydSummary, params: &ClvValidParams) -> Result<ClvModel> {
    let x = summary.values(summary_cols::FREQUENCY)?;
    let t_x = summary.values(summary_cols::RECENCY)?;
    let t = summary.values(summary_cols::T)?;
    let m = summary.values(summary_cols::MONETARY_VALUE)?;
    if !x.iter().any(|v| *v > 0.0) {
        return Err(Error::Clv {
            detail: format!(
                "none of the {} customers made a repeat purchase by {}: the models cannot be fitted",
                x.len(),
                summary.calibration_end
            ),
        });
    }
    let histories = Histories::new(&x, &t_x, &t);
    let (transactions, transaction_fit, comparison) = match params.model() {
        TransactionModel::Auto => choose::choose(&histories, summary, params)?,
        model => {
            let (transactions, fit) = choose::fit_transactions(model, &histories, params)?;
            (transactions, fit, None)
        }
    };
    let (mut sx, mut sm) = (Vec::new(), Vec::new());
    let mut spend_excluded = 0;
    for (x, m) in x.iter().zip(&m) {
        if *x > 0.0 {
            if *m > 0.0 {
                sx.push(*x);
                sm.push(*m);
            } else {
                spend_excluded += 1;
            }
        }
    }
    if sx.len() < 3 {
        return Err(Error::Clv {
            detail: format!(
                "the spend model needs at least 3 repeat buyers with positive spend, there are {}",
                sx.len()
            ),
        });
    }
    let spend_frequency_correlation = diagnostics::pearson(&sx, &sm);
    let spends = Spends::new(sx, sm);
    let spend_fit = limits::maximize(&spends, params.penalty(), "Gamma-Gamma", &limits::gamma_gamma())?;
    let spend = GammaGamma::from_slice(&spend_fit.params);
    if !spend.population_mean().is_finite() {
        return Err(Error::Clv {
            detail: format!(
                "Gamma-Gamma: q = {:.4} ≤ 1, so the mean spend of customers without repeat purchases is undefined; \
                 try --penalty",
                spend.q
            ),
        });
    }
    Ok(ClvModel {
        transactions,
        transaction_fit,
        spend,
        spend_fit,
        spend_excluded,
        spend_frequency_correlation,
        comparison,
    })
}

/// Predicted against actual purchases in the holdout window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HoldoutCheck {
    /// Length of the holdout window, in the time unit.
    pub length: f64,
    /// Σ actual purchase periods in the holdout.
    pub actual_total: f64,
    /// Σ predicted.
    pub predicted_total: f64,
    /// Mean absolute error per customer.
    pub mean_absolute_error: f64,
    /// By calibration frequency: 0, 1, …, 6, 7+.
    pub by_frequency: Vec<FrequencyGroup>,
    /// Churn (no purchase in the holdout) against P(alive): AUC, gains and calibration.
    #[serde(flatten)]
    pub churn: churn::ChurnEvaluation,
}

/// One calibration-frequency group of the holdout check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FrequencyGroup {
    /// "0" … "6", "7+".
    pub frequency: String,
    /// Customers in the group.
    pub customers: usize,
    /// Mean actual holdout purchases.
    pub actual_mean: f64,
    /// Mean predicted holdout purchases.
    pub predicted_mean: f64,
}

/// Customers and value per lifecycle stage.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StageSummary {
    /// new, active, lapsing or lost.
    pub stage: &'static str,
    /// Customers.
    pub customers: usize,
    /// Σ CLV.
    pub clv: f64,
    /// Of `customers`, those first seen after the calibration end (`new`, without predictions).
    pub first_purchase_after_calibration: usize,
}

/// Per-customer predictions and the totals.
#[derive(Debug, Clone)]
pub struct ClvResult {
    /// The summary columns plus predictions, one row per customer, sorted by id.
    pub frame: DataFrame,
    /// The fitted models.
    pub model: ClvModel,
    /// Σ CLV.
    pub equity: f64,
    /// With a holdout window: predicted against actual.
    pub holdout: Option<HoldoutCheck>,
    /// Per lifecycle stage.
    pub stages: Vec<StageSummary>,
    /// Summary facts.
    pub facts: SummaryFacts,
    /// The parameters used.
    pub params: ClvValidParams,
    /// What to know before trusting the fit.
    pub diagnostics: Vec<Diagnostic>,
}

/// What a report says about lifetime value.
#[derive(Debug, Clone, Serialize)]
pub struct ClvSummary {
    /// Settings.
    pub params: ClvValidParams,
    /// Customers, repeat buyers, windows.
    pub facts: SummaryFacts,
    /// Fitted models with parameters, standard errors and log-likelihoods.
    pub model: ClvModel,
    /// Σ CLV.
    pub customer_equity: f64,
    /// Per lifecycle stage.
    pub stages: Vec<StageSummary>,
    /// Holdout check.
    pub holdout: Option<HoldoutCheck>,
    /// What to know before trusting the fit.
    pub diagnostics: Vec<Diagnostic>,
}

impl ClvResult {
    /// The report section.
    pub fn summary(&self) -> ClvSummary {
        ClvSummary {
            params: self.params.clone(),
            facts: self.facts.clone(),
            model: self.model.clone(),
            customer_equity: self.equity,
            stages: self.stages.clone(),
            holdout: self.holdout.clone(),
            diagnostics: self.diagnostics.clone(),
        }
    }
}

use self::lifecycle::STAGES;

struct Prediction {
    expected: f64,
    p_alive: f64,
    spend: f64,
    clv: f64,
    stage: usize,
    holdout: f64,
}

/// Predicts every customer of a summary with fitted models.
///
/// # Errors
///
/// [`Error::Clv`] when a prediction cannot be computed (named customer), never a NaN.
pub fn predict(summary: &BtydSummary, model: &ClvModel, params: &ClvValidParams) -> Result<ClvResult> {
    let x = summary.values(summary_cols::FREQUENCY)?;
    let t_x = summary.values(summary_cols::RECENCY)?;
    let t = summary.values(summary_cols::T)?;
    let m = summary.values(summary_cols::MONETARY_VALUE)?;
    let unit_days = params.time_unit().days();
    let month = params.month();
    let steps = match params.convention() {
        ClvConvention::Clientele => params.horizon_months().ceil() as usize,
        ClvConvention::Lifetimes => lifetimes::steps(params.horizon_months()),
    };
    let holdout_length = summary
        .holdout_end
        .map(|h| (h - summary.calibration_end).num_days() as f64 / unit_days);
    let horizons = Horizons {
        model,
        params,
        unit_days,
        month,
        steps,
        holdout_length,
        population_rhythm: lifecycle::population_rhythm(&x, &t_x).unwrap_or(0.0),
    };
    let predictions: Vec<std::result::Result<Prediction, String>> = (0..x.len())
        .into_par_iter()
        .map(|i| horizons.predict(x[i], t_x[i], t[i], m[i]))
        .collect();
    if let Some((bad, Err(reason))) = predictions.iter().enumerate().find(|(_, p)| p.is_err()) {
        let id = summary
            .frame
            .column(CUSTOMER_ID)
            .ok()
            .and_then(|c| c.get(bad).ok().map(|v| v.to_string()))
            .unwrap_or_default();
        return Err(Error::Clv {
            detail: format!(
                "cannot predict customer {id} (frequency {}, recency {}, T {}): {reason}",
                x[bad], t_x[bad], t[bad]
            ),
        });
    }
    let predictions: Vec<Prediction> = predictions.into_iter().flatten().collect();
    let (frame, holdout) = predictions_frame(summary, &predictions, holdout_length, &x)?;
    let equity = predictions.iter().map(|p| p.clv).sum();
    let stages = (0..STAGES.len())
        .map(|s| StageSummary {
            stage: STAGES[s],
            customers: predictions.iter().filter(|p| p.stage == s).count(),
            clv: predictions.iter().filter(|p| p.stage == s).map(|p| p.clv).sum(),
            first_purchase_after_calibration: 0,
        })
        .collect();
    let facts = summary.facts()?;
    let diagnostics = diagnostics::diagnose(model, &facts, holdout.as_ref(), params.time_unit());
    Ok(ClvResult {
        frame,
        model: model.clone(),
        equity,
        holdout,
        stages,
        facts,
        params: params.clone(),
        diagnostics,
    })
}

/// What the predictions of all customers share: the models, the parameters and the horizons
/// in the time unit.
struct Horizons<'a> {
    model: &'a ClvModel,
    params: &'a ClvValidParams,
    /// Days in the time unit.
    unit_days: f64,
    /// A month in the time unit.
    month: f64,
    /// Months in the horizon, rounded up: the discounting steps.
    steps: usize,
    /// The holdout window in the time unit, when there is one.
    holdout_length: Option<f64>,
    /// The median time between purchases of repeat buyers (see [`lifecycle`]).
    population_rhythm: f64,
}

impl Horizons<'_> {
    /// Σᵢ (E[X(tᵢ)] − E[X(tᵢ₋₁)]) / (1 + d)ⁱ over the months of the horizon, the last one
    /// ending at the horizon (clientele's convention).
    fn discounted(
        &self,
        expected_over: &impl Fn(f64) -> std::result::Result<f64, String>,
    ) -> std::result::Result<f64, String> {
        let params = self.params;
        let mut discounted = 0.0;
        let mut previous = 0.0;
        for step in 1..=self.steps {
            let until = (step as f64 * self.month).min(params.horizon());
            let cumulative = expected_over(until)?;
            discounted += (cumulative - previous) / (1.0 + params.discount()).powi(step as i32);
            previous = cumulative;
        }
        Ok(discounted)
    }

    /// The prediction of a customer with frequency `xi`, recency `txi`, age `ti` and mean
    /// repeat spend `mi`, or why there is none.
    fn predict(&self, xi: f64, txi: f64, ti: f64, mi: f64) -> std::result::Result<Prediction, String> {
        let (model, params, unit_days) = (self.model, self.params, self.unit_days);
        let (tm, lifecycle, unit) = (model.transactions, params.lifecycle(), params.time_unit().name());
        let expected_over = |horizon: f64| {
            tm.expected_purchases(xi, txi, ti, horizon)
                .ok_or_else(|| tm.why_not(xi, ti, horizon, unit))
        };
        let expected = expected_over(params.horizon())?;
        let p_alive = tm
            .p_alive(xi, txi, ti)
            .ok_or_else(|| tm.why_not(xi, ti, 0.0, unit))?;
        let (spend, clv) = match params.convention() {
            ClvConvention::Clientele => {
                let spend = if xi > 0.0 {
                    model.spend.expected_average_spend(xi, mi.max(0.0))
                } else {
                    model.spend.population_mean()
                };
                (spend, params.margin() * spend * self.discounted(&expected_over)?)
            }
            ClvConvention::Lifetimes => {
                let spend = lifetimes::expected_average_profit(&model.spend, xi, mi);
                let value = lifetimes::customer_lifetime_value(
                    spend,
                    self.month,
                    self.steps,
                    params.discount(),
                    expected_over,
                )?;
                (spend, params.margin() * value)
            }
        };
        let stage = lifecycle::stage(
            &lifecycle,
            unit_days,
            xi,
            txi,
            ti,
            p_alive,
            self.population_rhythm,
        );
        let holdout = match self.holdout_length {
            Some(length) => expected_over(length)?,
            None => 0.0,
        };
        let all = [expected, p_alive, spend, clv, holdout];
        if !all.iter().all(|v| v.is_finite()) {
            return Err(format!(
                "a prediction is not a finite number: expected purchases {expected}, P(alive) {p_alive}, \
                 expected spend {spend}, CLV {clv}, holdout purchases {holdout}"
            ));
        }
        Ok(Prediction {
            expected,
            p_alive,
            spend,
            clv,
            stage,
            holdout,
        })
    }
}

/// The summary's frame with the predictions (and the holdout predictions) as columns, and the
/// holdout check.
fn predictions_frame(
    summary: &BtydSummary,
    predictions: &[Prediction],
    holdout_length: Option<f64>,
    x: &[f64],
) -> Result<(DataFrame, Option<HoldoutCheck>)> {
    let mut frame = summary.frame.clone();
    let column = |name: &str, f: &dyn Fn(&Prediction) -> f64| {
        crate::frame::owned_column(name, predictions.iter().map(f).collect::<Vec<f64>>())
    };
    for c in [
        column(col_names::EXPECTED_PURCHASES, &|p| p.expected),
        column(col_names::P_ALIVE, &|p| p.p_alive),
        column(col_names::EXPECTED_AVG_SPEND, &|p| p.spend),
        column(col_names::CLV, &|p| p.clv),
    ] {
        frame.with_column(c).context(|| "adding predictions".into())?;
    }
    let stage_names: Vec<&str> = predictions.iter().map(|p| STAGES[p.stage]).collect();
    frame
        .with_column(Column::new(col_names::LIFECYCLE_STAGE.into(), stage_names))
        .context(|| "adding lifecycle stages".into())?;
    let holdout = match holdout_length {
        Some(length) => {
            frame
                .with_column(column(col_names::EXPECTED_PURCHASES_HOLDOUT, &|p| p.holdout))
                .context(|| "adding holdout predictions".into())?;
            let actual = summary.values(summary_cols::FREQUENCY_HOLDOUT)?;
            let (t_x, t) = (
                summary.values(summary_cols::RECENCY)?,
                summary.values(summary_cols::T)?,
            );
            let population = lifecycle::population_rhythm(x, &t_x).unwrap_or(0.0);
            let overdue: Vec<f64> = (0..x.len())
                .map(|i| lifecycle::overdue(x[i], t_x[i], t[i], population))
                .collect();
            Some(holdout_check(length, x, &actual, &overdue, predictions))
        }
        None => None,
    };
    Ok((frame, holdout))
}

fn holdout_check(
    length: f64,
    x: &[f64],
    actual: &[f64],
    overdue: &[f64],
    predictions: &[Prediction],
) -> HoldoutCheck {
    let n = x.len().max(1) as f64;
    let group_of = |x: f64| (x as usize).min(7);
    let by_frequency = (0..=7)
        .filter_map(|g| {
            let members: Vec<usize> = (0..x.len()).filter(|i| group_of(x[*i]) == g).collect();
            (!members.is_empty()).then(|| FrequencyGroup {
                frequency: if g == 7 { "7+".into() } else { g.to_string() },
                customers: members.len(),
                actual_mean: members.iter().map(|i| actual[*i]).sum::<f64>() / members.len() as f64,
                predicted_mean: members.iter().map(|i| predictions[*i].holdout).sum::<f64>()
                    / members.len() as f64,
            })
        })
        .collect();
    HoldoutCheck {
        length,
        actual_total: actual.iter().sum(),
        predicted_total: predictions.iter().map(|p| p.holdout).sum(),
        mean_absolute_error: actual
            .iter()
            .zip(predictions)
            .map(|(a, p)| (a - p.holdout).abs())
            .sum::<f64>()
            / n,
        by_frequency,
        churn: churn::evaluate(
            &predictions.iter().map(|p| p.p_alive).collect::<Vec<f64>>(),
            &predictions.iter().map(|p| p.holdout).collect::<Vec<f64>>(),
            overdue,
            actual,
        ),
    }
}

/// Summarises, fits and predicts in one call.
///
/// # Errors
///
/// As [`summarize`], [`fit()`] and [`predict`].
pub fn run(tx: &Transactions, params: &ClvValidParams) -> Result<ClvResult> {
    let summary = summarize(tx, params)?;
    let model = fit(&summary, params)?;
    predict(&summary, &model, params)
}
