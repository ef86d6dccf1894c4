//! Lifetime-value models on CDNOW against the published estimates (Fader, Hardie & Lee 2005).

use chrono::NaiveDate;
use clientele::clv::{self, BgNbd, ClvParams, ClvResult, Period, TimeUnit, TransactionModel};
use clientele::ingest::{self, IngestOptions, Transactions};

use crate::support::cdnow_sample;

fn run(tx: &Transactions, model: TransactionModel) -> ClvResult {
    let params = ClvParams::new()
        .calibration_end(NaiveDate::from_ymd_opt(1997, 9, 30).unwrap())
        .holdout_end(NaiveDate::from_ymd_opt(1998, 6, 30).unwrap())
        .model(model)
        .check()
        .unwrap();
    clv::run(tx, &params).unwrap()
}

fn printed(x: f64, decimals: usize) -> String {
    format!("{x:.decimals$}")
}

#[test]
fn bgnbd_and_gamma_gamma_reproduce_the_paper_on_cdnow() {
    let Some(tx) = cdnow_sample() else { return };
    let result = run(&tx, TransactionModel::BgNbd);
    assert_eq!(result.facts.customers, 2_357);
    assert_eq!(result.facts.repeat_buyers, 946);

    let bg = &result.model.transaction_fit;
    let got: Vec<String> = bg.params.iter().map(|p| printed(*p, 3)).collect();
    assert_eq!(
        got,
        ["0.243", "4.414", "0.793", "2.426"],
        "BG/NBD (r, α, a, b): {:?}",
        bg.params
    );
    assert_eq!(printed(bg.log_likelihood, 1), "-9582.4", "{}", bg.log_likelihood);
    assert!(
        bg.std_errors.iter().all(|se| se.is_some_and(|s| s > 0.0)),
        "{:?}",
        bg.std_errors
    );
    // An interior maximum: no limit of the parameter space is reported.
    assert!(bg.notes.is_empty(), "{:?}", bg.notes);
    assert!(
        result.model.spend_fit.notes.is_empty(),
        "{:?}",
        result.model.spend_fit.notes
    );

    let gg = &result.model.spend_fit;
    assert_eq!(gg.customers, 946);
    let got: Vec<String> = gg.params.iter().map(|p| printed(*p, 2)).collect();
    assert_eq!(
        got,
        ["6.25", "3.74", "15.44"],
        "Gamma-Gamma (p, q, γ): {:?}",
        gg.params
    );

    // Holdout: the summary counts what happened, the model's prediction is of the same order.
    let holdout = result.holdout.as_ref().unwrap();
    assert_eq!(holdout.length, 39.0);
    assert_eq!(holdout.actual_total, 1_882.0);
    let ratio = holdout.predicted_total / holdout.actual_total;
    assert!(
        (0.8..1.05).contains(&ratio),
        "predicted {} vs actual 1,882",
        holdout.predicted_total
    );
    // No NaN anywhere; equity is the sum of CLVs.
    let clvs: Vec<f64> = result
        .frame
        .column("clv")
        .unwrap()
        .f64()
        .unwrap()
        .iter()
        .map(|v| v.unwrap())
        .collect();
    assert!(clvs.iter().all(|v| v.is_finite() && *v >= 0.0));
    assert!((clvs.iter().sum::<f64>() - result.equity).abs() < 1e-6 * result.equity);
}

#[test]
fn pareto_nbd_reproduces_the_published_estimates() {
    let Some(tx) = cdnow_sample() else { return };
    let result = run(&tx, TransactionModel::ParetoNbd);
    let fit = &result.model.transaction_fit;
    let got: Vec<String> = fit.params.iter().map(|p| printed(*p, 3)).collect();
    assert_eq!(
        got,
        ["0.553", "10.578", "0.606", "11.669"],
        "Pareto/NBD (r, α, s, β): {:?}",
        fit.params
    );
    assert_eq!(
        printed(fit.log_likelihood, 1),
        "-9595.0",
        "{}",
        fit.log_likelihood
    );
}

#[test]
fn conditional_expectation_matches_lifetimes_to_the_last_digits() {
    // lifetimes 0.11.3, BetaGeoFitter on its CDNOW summary, then
    // conditional_expected_number_of_purchases_up_to_time(39, 2, 30.43, 38.86) = 1.2259104241744068
    let model = BgNbd {
        r: 0.24259292827982148,
        alpha: 4.413532265271809,
        a: 0.7928859664406578,
        b: 2.4257523826257374,
    };
    let expected = model.expected_purchases(2.0, 30.43, 38.86, 39.0).unwrap();
    assert!((expected - 1.2259104241744068).abs() < 1e-12, "{expected}");
}

/// [r, α, a, b, x, t_x, T, horizon, E[X(horizon) | x, t_x, T]] from the paper's closed form
/// evaluated with mpmath at 80 digits: `tests/support/bgnbd_mpmath.py` prints these lines.
#[rustfmt::skip]
const MPMATH: &[[f64; 9]] = &[
    // CDNOW estimates, customer 1
    [0.24259292827982148, 4.413532265271809, 0.7928859664406578, 2.4257523826257374, 2.0, 30.43, 38.86, 39.0, 1.2259104241744163],
    // a, b -> 0 (first 300 rows of sample_transactions.csv), x = 0
    [10.767831350394047, 48.877985335445786, 1.4233761771135467e-08, 3.690932393052251e-08, 0.0, 0.0, 2.0, 52.0, 8.220553837892602],
    // a, b -> 0, x = 0, horizon 0.1
    [10.767831350394047, 48.877985335445786, 1.4233761771135467e-08, 3.690932393052251e-08, 0.0, 0.0, 2.0, 0.1, 0.02109647564647825],
    // a, b -> 0, x = 1
    [10.767831350394047, 48.877985335445786, 1.4233761771135467e-08, 3.690932393052251e-08, 1.0, 1.0, 2.0, 52.0, 8.08768918742338],
    // a = 1 (closed form 0/0)
    [0.243, 4.414, 1.0, 2.426, 3.0, 20.0, 38.0, 39.0, 0.9934232793329778],
    // a + b = 1, x = 0 (2F1 pole at c = 0)
    [0.5, 3.0, 0.25, 0.75, 0.0, 0.0, 10.0, 52.0, 1.4337098725284536],
    // r, alpha -> infinity (Poisson limit)
    [4160000.0, 25000000.0, 0.5, 0.3, 2.0, 2.0, 4.0, 52.0, 3.5685018881907453],
    // long horizon
    [2.0, 1.0, 0.5, 0.3, 1.0, 1.0, 2.0, 2000.0, 13.20136608140084],
    // (1 - z)^(r+x) below the smallest double
    [4000.0, 10.0, 2.0, 3.0, 5.0, 10.0, 10.0, 52.0, 6.994624379692584],
];

#[test]
fn conditional_expectation_matches_mpmath_where_the_closed_form_breaks_down() {
    for &[r, alpha, a, b, x, t_x, t, horizon, reference] in MPMATH {
        let model = BgNbd { r, alpha, a, b };
        let got = model
            .expected_purchases(x, t_x, t, horizon)
            .unwrap_or_else(|| panic!("{model:?} at ({x}, {t_x}, {t}) over {horizon}: no value"));
        assert!(
            ((got - reference) / reference).abs() < 1e-12,
            "{model:?} at ({x}, {t_x}, {t}) over {horizon}: {got}, mpmath {reference}"
        );
    }
}

/// The first 300 lines (the header and 299 rows) of the repository's sample transactions: 107
/// customers over 25 days, too little to show heterogeneity, so the likelihood is highest at a
/// limit of the BG/NBD parameter space.
fn first_300_lines() -> (tempfile::TempDir, Transactions) {
    let sample =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../datasets/sample_transactions.csv");
    let text = std::fs::read_to_string(sample).unwrap();
    let head: String = text.lines().take(300).map(|line| format!("{line}\n")).collect();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("head300.csv");
    std::fs::write(&path, head).unwrap();
    let tx = ingest::scan(&path, &IngestOptions::default()).unwrap();
    (dir, tx)
}

#[test]
fn bgnbd_fits_and_predicts_small_data_at_the_limits_of_its_parameters() {
    let (_dir, tx) = first_300_lines();
    for (label, params, limit) in [
        ("defaults", ClvParams::new(), "a, b → 0"),
        ("horizon 0.1", ClvParams::new().horizon(0.1), "a, b → 0"),
        (
            "time unit day",
            ClvParams::new().time_unit(TimeUnit::Day),
            "a, b → 0",
        ),
        (
            "period week",
            ClvParams::new().period(Period::Week),
            "r, alpha → ∞",
        ),
    ] {
        let result = clv::run(&tx, &params.check().unwrap()).unwrap_or_else(|e| panic!("{label}: {e}"));
        assert_eq!(result.facts.customers, 107, "{label}");
        let fit = &result.model.transaction_fit;
        assert!(
            fit.notes.iter().any(|note| note.contains(limit)),
            "{label}: {:?} {:?}",
            fit.params,
            fit.notes
        );
        let column = |name: &str| -> Vec<f64> {
            let c = result.frame.column(name).unwrap().f64().unwrap();
            c.iter().map(|v| v.unwrap()).collect()
        };
        let p_alive = column("p_alive");
        assert!(
            p_alive.iter().all(|p| (0.0..=1.0).contains(p)),
            "{label}: {p_alive:?}"
        );
        let expected = column("expected_purchases");
        assert!(
            expected.iter().all(|e| e.is_finite() && *e > 0.0),
            "{label}: {expected:?}"
        );
        let clvs = column("clv");
        assert!(
            clvs.iter().all(|v| v.is_finite() && *v >= 0.0),
            "{label}: {clvs:?}"
        );
    }
}

#[test]
fn the_summary_follows_the_btyd_conventions() {
    let Some(tx) = cdnow_sample() else { return };
    let result = run(&tx, TransactionModel::BgNbd);
    // Customer 1 (lifetimes' CDNOW summary: frequency 2, recency 30.43, T 38.86, monetary 22.35).
    let row = |name: &str| {
        result
            .frame
            .column(name)
            .unwrap()
            .cast(&clientele::polars::prelude::DataType::Float64)
            .unwrap()
            .f64()
            .unwrap()
            .get(0)
            .unwrap()
    };
    assert_eq!(row("frequency"), 2.0);
    assert!((row("recency") - 213.0 / 7.0).abs() < 1e-12);
    assert!((row("T") - 272.0 / 7.0).abs() < 1e-12);
    assert!((row("monetary_value") - 22.345).abs() < 1e-9);
    assert_eq!(row("frequency_holdout"), 1.0);
}
