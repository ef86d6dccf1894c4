//! MBG/NBD, `--clv-model auto`, the diagnostics and the CLV convention, on CDNOW, against the
//! Python package lifetimes 0.11.3 run by the tests (`tests/support/lifetimes_reference.py`).

use std::process::Command;

use chrono::NaiveDate;
use clientele::clv::{self, ClvParams, ClvResult, DiagnosticCode, FittedTransactions, TransactionModel};
use clientele::ingest::{self, IngestOptions};
use clientele::polars::prelude::*;

use crate::support;

use crate::support::cdnow_sample;

fn params(model: TransactionModel) -> ClvParams {
    ClvParams::new()
        .calibration_end(NaiveDate::from_ymd_opt(1997, 9, 30).unwrap())
        .holdout_end(NaiveDate::from_ymd_opt(1998, 6, 30).unwrap())
        .model(model)
}

fn column(frame: &DataFrame, name: &str) -> Vec<f64> {
    let c = frame.column(name).unwrap().cast(&DataType::Float64).unwrap();
    c.f64().unwrap().iter().map(|v| v.unwrap()).collect()
}

/// Writes the summary columns lifetimes needs, runs the reference script in `mode` with
/// `numbers`, and returns its printed numbers and its output table.
fn lifetimes(python: &str, result: &ClvResult, mode: &str, numbers: &[f64]) -> (Vec<f64>, DataFrame) {
    let dir = tempfile::tempdir().unwrap();
    let (input, output) = (dir.path().join("summary.csv"), dir.path().join("out.csv"));
    let mut summary = result
        .frame
        .select(["frequency", "recency", "T", "monetary_value"])
        .unwrap();
    CsvWriter::new(std::fs::File::create(&input).unwrap())
        .finish(&mut summary)
        .unwrap();
    let run = Command::new(python)
        .arg(support::script("lifetimes_reference.py"))
        .args([&input, &output])
        .arg(mode)
        .args(numbers.iter().map(|v| format!("{v:e}")))
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "lifetimes_reference.py failed: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let printed = String::from_utf8(run.stdout)
        .unwrap()
        .split_whitespace()
        .map(|v| v.parse().unwrap())
        .collect();
    let table = CsvReadOptions::default()
        .try_into_reader_with_file_path(Some(output))
        .unwrap()
        .finish()
        .unwrap();
    (printed, table)
}

fn relative(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(1e-300)
}

#[test]
fn mbgnbd_matches_lifetimes_modified_beta_geo_fitter_on_cdnow() {
    let (Some(tx), Some(python)) = (cdnow_sample(), support::python_with("lifetimes")) else {
        return;
    };
    let result = clv::run(&tx, &params(TransactionModel::MbgNbd).check().unwrap()).unwrap();
    let FittedTransactions::MbgNbd(m) = result.model.transactions else {
        panic!("not MBG/NBD: {:?}", result.model.transactions)
    };
    let fit = &result.model.transaction_fit;
    assert!(fit.converged && fit.notes.is_empty(), "{fit:?}");
    assert!(
        fit.std_errors.iter().all(|se| se.is_some_and(|s| s > 0.0)),
        "{fit:?}"
    );
    let ours = [m.r, m.alpha, m.a, m.b];
    let (printed, table) = lifetimes(&python, &result, "mbgnbd", &ours);
    let (theirs, ll_theirs, ll_ours_by_lifetimes) = (&printed[..4], printed[4], printed[5]);
    // Two optimisers on one likelihood: the same maximum, ours at least as high.
    for j in 0..4 {
        assert!(
            relative(ours[j], theirs[j]) < 1e-5,
            "(r, α, a, b): ours {ours:?}, lifetimes {theirs:?}"
        );
    }
    assert!(
        relative(fit.log_likelihood, ll_ours_by_lifetimes) < 1e-12,
        "our log-likelihood {} vs lifetimes' formula at our estimates {ll_ours_by_lifetimes}",
        fit.log_likelihood
    );
    assert!(
        fit.log_likelihood >= ll_theirs - 1e-6,
        "ours {} below lifetimes' {ll_theirs}",
        fit.log_likelihood
    );
    // Per customer, at our estimates: lifetimes' closed forms against ours.
    let p_alive = column(&result.frame, "p_alive");
    let (x, t_x, t) = (
        column(&result.frame, "frequency"),
        column(&result.frame, "recency"),
        column(&result.frame, "T"),
    );
    let (lt_alive, lt_expected) = (column(&table, "p_alive"), column(&table, "expected_39"));
    assert_eq!(lt_alive.len(), 2_357);
    for i in 0..x.len() {
        assert!(
            relative(p_alive[i], lt_alive[i]) < 1e-12,
            "customer {i}: P(alive) {} vs {}",
            p_alive[i],
            lt_alive[i]
        );
        let e = m.expected_purchases(x[i], t_x[i], t[i], 39.0).unwrap();
        assert!(
            relative(e, lt_expected[i]) < 1e-10,
            "customer {i} ({}, {}, {}): E[X(39)] {e} vs {}",
            x[i],
            t_x[i],
            t[i],
            lt_expected[i]
        );
    }
    // The holdout column is the same conditional expectation over the 39-week holdout.
    let holdout = column(&result.frame, "expected_purchases_holdout");
    assert!(relative(holdout[0], lt_expected[0]) < 1e-10);
}

#[test]
fn clv_follows_lifetimes_when_the_conventions_are_aligned() {
    let (Some(tx), Some(python)) = (cdnow_sample(), support::python_with("lifetimes")) else {
        return;
    };
    // Twelve months of 365.25/12 days, in weeks: clientele's horizon for lifetimes' time=12.
    let month = clv::DAYS_PER_MONTH / 7.0;
    let horizon = 12.0 * month;
    assert_eq!((horizon / month).ceil(), 12.0);
    let p = params(TransactionModel::BgNbd)
        .horizon(horizon)
        .discount(0.01)
        .margin(1.0);
    let result = clv::run(&tx, &p.check().unwrap()).unwrap();
    let FittedTransactions::BgNbd(bg) = result.model.transactions else {
        panic!("not BG/NBD")
    };
    let gg = result.model.spend;
    let numbers = [bg.r, bg.alpha, bg.a, bg.b, gg.p, gg.q, gg.gamma, 12.0, 0.01];
    let (_, table) = lifetimes(&python, &result, "clv", &numbers);
    let theirs = column(&table, "clv");
    let ours = column(&result.frame, "clv");
    let (x, t_x, t, m) = (
        column(&result.frame, "frequency"),
        column(&result.frame, "recency"),
        column(&result.frame, "T"),
        column(&result.frame, "monetary_value"),
    );
    for i in 0..ours.len() {
        // lifetimes' convention (docs/clv.md): months of 4.345 weeks, month i discounted by
        // (1 + d)^i, the Gamma-Gamma expected spend, no margin. With clientele's models:
        let spend = if x[i] > 0.0 {
            gg.expected_average_spend(x[i], m[i])
        } else {
            gg.population_mean()
        };
        let cumulative = |k: f64| bg.expected_purchases(x[i], t_x[i], t[i], 4.345 * k).unwrap();
        let aligned: f64 = (1..=12)
            .map(|k| spend * (cumulative(k as f64) - cumulative(k as f64 - 1.0)) / 1.01f64.powi(k))
            .sum();
        assert!(
            relative(aligned, theirs[i]) < 1e-9,
            "customer {i}: lifetimes {} vs its convention with clientele's models {aligned}",
            theirs[i]
        );
        // clientele's months are 365.25/12 days = 4.3482 weeks, 0.08 % longer than 4.345:
        // slightly more purchases per month, so a CLV at least as high and at most 0.1 % higher.
        let ratio = ours[i] / theirs[i];
        assert!(
            (1.0..1.001).contains(&ratio),
            "customer {i}: clientele {} vs lifetimes {}",
            ours[i],
            theirs[i]
        );
    }
}

#[test]
fn auto_chooses_by_holdout_error_and_says_so() {
    let Some(tx) = cdnow_sample() else { return };
    let result = clv::run(&tx, &params(TransactionModel::Auto).check().unwrap()).unwrap();
    let comparison = result.model.comparison.as_ref().expect("auto compares");
    assert_eq!(comparison.criterion, clv::choose::Criterion::HoldoutRmse);
    let names: Vec<&str> = comparison.models.iter().map(|m| m.model).collect();
    assert_eq!(names, ["BG/NBD", "MBG/NBD", "Pareto/NBD"]);
    let chosen: Vec<_> = comparison.models.iter().filter(|m| m.chosen).collect();
    assert_eq!(chosen.len(), 1);
    let best = comparison
        .models
        .iter()
        .map(|m| m.holdout_rmse.unwrap())
        .fold(f64::INFINITY, f64::min);
    assert_eq!(chosen[0].holdout_rmse, Some(best));
    assert_eq!(result.model.transactions.label(), chosen[0].model);
    // Each row's RMSE is that of the model's per-customer holdout predictions.
    let single = clv::run(&tx, &params(TransactionModel::BgNbd).check().unwrap()).unwrap();
    let actual = column(&single.frame, "frequency_holdout");
    let predicted = column(&single.frame, "expected_purchases_holdout");
    let rmse = (actual
        .iter()
        .zip(&predicted)
        .map(|(a, p)| (a - p).powi(2))
        .sum::<f64>()
        / actual.len() as f64)
        .sqrt();
    assert!(relative(comparison.models[0].holdout_rmse.unwrap(), rmse) < 1e-12);
    assert_eq!(comparison.models[0].holdout_actual, Some(1_882.0));
    // The published fit: BG/NBD's log-likelihood, BIC = 4 ln 2357 − 2 ln L.
    let bg = &comparison.models[0];
    assert!((bg.log_likelihood.unwrap() - single.model.transaction_fit.log_likelihood).abs() < 1e-9);
    assert!(
        relative(
            bg.bic.unwrap(),
            4.0 * 2_357f64.ln() - 2.0 * bg.log_likelihood.unwrap()
        ) < 1e-15
    );

    // Without a holdout: by BIC.
    let no_holdout = ClvParams::new()
        .calibration_end(NaiveDate::from_ymd_opt(1997, 9, 30).unwrap())
        .model(TransactionModel::Auto);
    let result = clv::run(&tx, &no_holdout.check().unwrap()).unwrap();
    let comparison = result.model.comparison.unwrap();
    assert_eq!(comparison.criterion, clv::choose::Criterion::Bic);
    let best = comparison
        .models
        .iter()
        .map(|m| m.bic.unwrap())
        .fold(f64::INFINITY, f64::min);
    assert!(comparison.models.iter().any(|m| m.chosen && m.bic == Some(best)));
    assert!(comparison.models.iter().all(|m| m.holdout_rmse.is_none()));
}

#[test]
fn cdnow_fits_raise_no_diagnostic_and_the_correlation_is_pearsons() {
    let Some(tx) = cdnow_sample() else { return };
    let result = clv::run(&tx, &params(TransactionModel::BgNbd).check().unwrap()).unwrap();
    assert!(result.diagnostics.is_empty(), "{:?}", result.diagnostics);
    // Converged well within the tolerance of `not_converged` (1e-4): about 1e-8.
    for m in [
        TransactionModel::MbgNbd,
        TransactionModel::ParetoNbd,
        TransactionModel::BgNbd,
    ] {
        let r = clv::run(&tx, &params(m).check().unwrap()).unwrap();
        for fit in [&r.model.transaction_fit, &r.model.spend_fit] {
            assert!(fit.converged && fit.max_gradient < 1e-6, "{m:?}: {fit:?}");
        }
        assert!(r.diagnostics.is_empty(), "{m:?}: {:?}", r.diagnostics);
    }
    let (x, m) = (
        column(&result.frame, "frequency"),
        column(&result.frame, "monetary_value"),
    );
    let (rx, rm): (Vec<f64>, Vec<f64>) = x.iter().zip(&m).filter(|(x, m)| **x > 0.0 && **m > 0.0).unzip();
    let n = rx.len() as f64;
    let (mx, mm) = (rx.iter().sum::<f64>() / n, rm.iter().sum::<f64>() / n);
    let cov: f64 = rx.iter().zip(&rm).map(|(a, b)| (a - mx) * (b - mm)).sum();
    let sx: f64 = rx.iter().map(|a| (a - mx).powi(2)).sum::<f64>().sqrt();
    let sm: f64 = rm.iter().map(|b| (b - mm).powi(2)).sum::<f64>().sqrt();
    let rho = result.model.spend_frequency_correlation.unwrap();
    assert!((rho - cov / (sx * sm)).abs() < 1e-12, "{rho}");
    // lifetimes' documentation reports 0.113 for the same CDNOW summary.
    assert_eq!(format!("{rho:.2}"), "0.11");
}

#[test]
fn a_short_holdout_with_the_christmas_peak_is_flagged_on_online_retail() {
    let Some(datasets) = support::datasets() else {
        return;
    };
    let tx = ingest::scan(
        datasets.join("online_retail/online_retail.csv.gz"),
        &IngestOptions::default(),
    )
    .unwrap();
    let p = ClvParams::new()
        .calibration_end(NaiveDate::from_ymd_opt(2011, 9, 30).unwrap())
        .holdout_end(NaiveDate::from_ymd_opt(2011, 12, 9).unwrap());
    let result = clv::run(&tx, &p.check().unwrap()).unwrap();
    let codes: Vec<DiagnosticCode> = result.diagnostics.iter().map(|d| d.code).collect();
    assert!(
        codes.contains(&DiagnosticCode::NoDropout),
        "{:?}",
        result.diagnostics
    );
    assert!(
        codes.contains(&DiagnosticCode::HoldoutBias),
        "{:?}",
        result.diagnostics
    );
    let h = result.holdout.unwrap();
    assert!(h.predicted_total / h.actual_total < 0.8, "{h:?}");
}
