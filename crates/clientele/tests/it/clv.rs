//! Lifetime-value models on CDNOW against the published estimates (Fader, Hardie & Lee 2005).

use chrono::NaiveDate;
use clientele::Columns;
use clientele::clv::{self, BgNbd, ClvParams, ClvResult, TransactionModel};
use clientele::ingest::{self, CsvOptions, Delimiter, Header, IngestOptions, Transactions};

use crate::support;

fn cdnow_sample() -> Option<Transactions> {
    let datasets = support::datasets()?;
    // CDNOW_sample.txt: master id, sample id (1..2357), date YYYYMMDD, CDs, dollars.
    let options = IngestOptions {
        columns: Columns::default()
            .customer("column_2")
            .time("column_3")
            .amount("column_5"),
        csv: CsvOptions {
            delimiter: Delimiter::Whitespace,
            header: Header::Absent,
            ..Default::default()
        },
        ..Default::default()
    };
    Some(ingest::scan(datasets.join("cdnow/CDNOW_sample.txt"), &options).unwrap())
}

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
