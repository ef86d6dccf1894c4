//! Fitting a transaction model, and `--clv-model auto`: every model fitted on the calibration
//! period, the one that predicts the holdout best chosen.
//!
//! **With a holdout** the criterion is the root mean squared error of the per-customer holdout
//! purchases, √(Σ (actualᵢ − E[Xᵢ(holdout)])² / n) over the n customers of the calibration
//! summary. Each model predicts a conditional mean, and the squared error is the loss whose
//! best prediction is the mean: the mean absolute error rewards the median instead, which for
//! these skewed counts (most customers buy nothing in a holdout) favours a model that predicts
//! too few purchases. The error of the total is reported beside it but not used: errors of
//! opposite sign across customers cancel in a total, so a model can get the total right and
//! every customer wrong.
//!
//! **Without a holdout** the criterion is the Bayesian information criterion,
//! BIC = k·ln n − 2·ln L (k parameters, n customers, L the maximised likelihood), lowest best.
//! The three models have 4 parameters each, so this is the highest likelihood.
//!
//! Scores within a relative [`TIE`] of the lowest count as equal, and the first model of
//! [`CANDIDATES`] among them wins: models that run to the same limit (BG/NBD, MBG/NBD and
//! Pareto/NBD all become the NBD model without dropout) differ only by rounding there.

use serde::Serialize;

use super::bgnbd::Histories;
use super::fit::FitReport;
use super::mbgnbd::{MbgHistories, MbgNbd};
use super::pareto_nbd::{ParetoHistories, ParetoNbd};
use super::summary::col_names as summary_cols;
use super::{BgNbd, BtydSummary, ClvValidParams, FittedTransactions, TransactionModel, limits};
use crate::error::{Error, Result};

/// The models `auto` compares, in the order of the table.
pub const CANDIDATES: [TransactionModel; 3] = [
    TransactionModel::BgNbd,
    TransactionModel::MbgNbd,
    TransactionModel::ParetoNbd,
];

/// Relative difference within which two scores are a tie.
pub const TIE: f64 = 1e-6;

/// How `auto` chose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Criterion {
    /// The lowest root mean squared error of the per-customer holdout purchases.
    HoldoutRmse,
    /// The lowest BIC (no holdout).
    Bic,
}

/// Every model fitted by `auto`, and the choice.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelComparison {
    /// What decided.
    pub criterion: Criterion,
    /// One row per model, in [`CANDIDATES`] order.
    pub models: Vec<ComparedModel>,
}

/// One model of the comparison.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ComparedModel {
    /// "BG/NBD", "MBG/NBD" or "Pareto/NBD".
    pub model: &'static str,
    /// Parameter names, in order.
    pub names: Vec<&'static str>,
    /// Estimates (empty when the fit failed).
    pub params: Vec<f64>,
    /// Maximised log-likelihood.
    pub log_likelihood: Option<f64>,
    /// k·ln n − 2·ln L.
    pub bic: Option<f64>,
    /// Root mean squared error of the per-customer holdout purchases.
    pub holdout_rmse: Option<f64>,
    /// Σ predicted holdout purchases.
    pub holdout_predicted: Option<f64>,
    /// Σ actual holdout purchases.
    pub holdout_actual: Option<f64>,
    /// Whether this model was chosen.
    pub chosen: bool,
    /// Why the model could not be fitted or could not predict the holdout.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl ComparedModel {
    /// "r 0.2426, alpha 4.4136, a 9.202e-8, b 4.101e4": each estimate with 4 decimals, or in
    /// scientific notation when it is below 0.001 or from 100,000 (a fit at a limit).
    pub fn described_params(&self) -> String {
        self.names
            .iter()
            .zip(&self.params)
            .map(|(name, v)| {
                if (1e-3..1e5).contains(&v.abs()) {
                    format!("{name} {v:.4}")
                } else {
                    format!("{name} {v:.3e}")
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Fits one transaction model (not [`TransactionModel::Auto`]) to the histories.
///
/// # Errors
///
/// [`Error::Clv`] when the fit fails.
pub(crate) fn fit_transactions(
    model: TransactionModel,
    histories: &Histories,
    params: &ClvValidParams,
) -> Result<(FittedTransactions, FitReport)> {
    let unit = params.time_unit().name();
    let penalty = params.penalty();
    Ok(match model {
        TransactionModel::BgNbd => {
            let fit = limits::maximize(histories, penalty, "BG/NBD", &limits::bgnbd(unit))?;
            (FittedTransactions::BgNbd(BgNbd::from_slice(&fit.params)), fit)
        }
        TransactionModel::MbgNbd => {
            let model = MbgHistories(histories.clone());
            let fit = limits::maximize(&model, penalty, "MBG/NBD", &limits::bgnbd(unit))?;
            (FittedTransactions::MbgNbd(MbgNbd::from_slice(&fit.params)), fit)
        }
        TransactionModel::ParetoNbd => {
            let model = ParetoHistories(histories);
            let fit = limits::maximize(&model, penalty, "Pareto/NBD", &limits::pareto_nbd(unit))?;
            (
                FittedTransactions::ParetoNbd(ParetoNbd::from_slice(&fit.params)),
                fit,
            )
        }
        TransactionModel::Auto => unreachable!("auto is resolved by choose()"),
    })
}

/// The calibration histories and the holdout's actual purchases and length, when there is one.
struct Holdout {
    x: Vec<f64>,
    t_x: Vec<f64>,
    t: Vec<f64>,
    actual: Vec<f64>,
    length: f64,
}

impl Holdout {
    /// (RMSE, Σ predicted) of a model's holdout predictions, or why there are none.
    fn errors(&self, model: &FittedTransactions) -> std::result::Result<(f64, f64), String> {
        let (mut squares, mut predicted) = (0.0, 0.0);
        for i in 0..self.x.len() {
            let e = model
                .expected_purchases(self.x[i], self.t_x[i], self.t[i], self.length)
                .filter(|e| e.is_finite())
                .ok_or_else(|| {
                    format!(
                        "no holdout prediction for frequency {}, recency {}, T {}",
                        self.x[i], self.t_x[i], self.t[i]
                    )
                })?;
            squares += (self.actual[i] - e).powi(2);
            predicted += e;
        }
        Ok(((squares / self.x.len().max(1) as f64).sqrt(), predicted))
    }
}

/// `auto`: fits every model of [`CANDIDATES`] and keeps the best by holdout RMSE (with a
/// holdout) or BIC.
///
/// # Errors
///
/// [`Error::Clv`] when no model could be fitted (the first model's error).
pub(crate) fn choose(
    histories: &Histories,
    summary: &BtydSummary,
    params: &ClvValidParams,
) -> Result<(FittedTransactions, FitReport, Option<ModelComparison>)> {
    let holdout = match summary.holdout_end {
        Some(end) => Some(Holdout {
            x: summary.values(summary_cols::FREQUENCY)?,
            t_x: summary.values(summary_cols::RECENCY)?,
            t: summary.values(summary_cols::T)?,
            actual: summary.values(summary_cols::FREQUENCY_HOLDOUT)?,
            length: (end - summary.calibration_end).num_days() as f64 / params.time_unit().days(),
        }),
        None => None,
    };
    let criterion = if holdout.is_some() {
        Criterion::HoldoutRmse
    } else {
        Criterion::Bic
    };
    let n = super::fit::Likelihood::weight(histories);
    let mut fits = Vec::new();
    let mut rows = Vec::new();
    let mut first_error = None;
    for candidate in CANDIDATES {
        let fitted = fit_transactions(candidate, histories, params);
        let row = compared(candidate, &fitted, holdout.as_ref(), n);
        match fitted {
            Ok(fit) if row.error.is_none() => fits.push(Some(fit)),
            Ok(_) => fits.push(None),
            Err(e) => {
                first_error.get_or_insert(e);
                fits.push(None);
            }
        }
        rows.push(row);
    }
    let score = |row: &ComparedModel| match criterion {
        Criterion::HoldoutRmse => row.holdout_rmse,
        Criterion::Bic => row.bic,
    };
    let scores: Vec<(usize, f64)> = (0..rows.len())
        .filter(|i| fits[*i].is_some())
        .filter_map(|i| score(&rows[i]).map(|s| (i, s)))
        .collect();
    let lowest = scores.iter().map(|(_, s)| *s).fold(f64::INFINITY, f64::min);
    // Scores within TIE of the lowest are equal (models at the same limit differ only by
    // rounding there): the first in CANDIDATES order wins.
    let best = scores.iter().find(|(_, s)| *s - lowest <= TIE * lowest.abs());
    let Some(&(best, _)) = best else {
        return Err(first_error.unwrap_or_else(|| Error::Clv {
            detail: format!(
                "no model could predict the holdout: {}",
                rows.iter()
                    .filter_map(|r| r.error.clone())
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        }));
    };
    rows[best].chosen = true;
    let (transactions, fit) = fits[best].take().expect("the best model was fitted");
    Ok((
        transactions,
        fit,
        Some(ModelComparison {
            criterion,
            models: rows,
        }),
    ))
}

/// The comparison row of a model's fit.
fn compared(
    candidate: TransactionModel,
    fitted: &Result<(FittedTransactions, FitReport)>,
    holdout: Option<&Holdout>,
    n: f64,
) -> ComparedModel {
    let label = match candidate {
        TransactionModel::BgNbd => "BG/NBD",
        TransactionModel::MbgNbd => "MBG/NBD",
        TransactionModel::ParetoNbd => "Pareto/NBD",
        TransactionModel::Auto => "auto",
    };
    let mut row = ComparedModel {
        model: label,
        names: Vec::new(),
        params: Vec::new(),
        log_likelihood: None,
        bic: None,
        holdout_rmse: None,
        holdout_predicted: None,
        holdout_actual: holdout.map(|h| h.actual.iter().sum()),
        chosen: false,
        error: None,
    };
    match fitted {
        Ok((model, fit)) => {
            row.names = fit.names.clone();
            row.params = fit.params.clone();
            row.log_likelihood = Some(fit.log_likelihood);
            row.bic = Some(fit.params.len() as f64 * n.ln() - 2.0 * fit.log_likelihood);
            if let Some(h) = holdout {
                match h.errors(model) {
                    Ok((rmse, predicted)) => {
                        row.holdout_rmse = Some(rmse);
                        row.holdout_predicted = Some(predicted);
                    }
                    Err(e) => row.error = Some(e),
                }
            }
        }
        Err(e) => row.error = Some(e.to_string()),
    }
    row
}
