//! Evaluating lifetime value and customers over time on real data: the churn evaluation against
//! scikit-learn, the lifecycle rule against an independent implementation, every customer
//! staged, and the cohort matrix against pandas.

use std::path::Path;
use std::process::Command;

use chrono::NaiveDate;
use clientele::clv::{self, ClvParams, ClvResult};
use clientele::cohorts::{self, CohortPeriod};
use clientele::ingest::{self, IngestOptions, Transactions};
use clientele::polars::prelude::*;
use clientele::{RowPolicy, Segmenter};

use crate::support;

fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

fn cdnow_sample(datasets: &Path) -> Transactions {
    ingest::scan(datasets.join("cdnow/CDNOW_sample.txt"), &support::cdnow_options()).unwrap()
}

fn online_retail(datasets: &Path) -> Transactions {
    ingest::scan(
        datasets.join("online_retail/online_retail.csv.gz"),
        &IngestOptions::default(),
    )
    .unwrap()
}

fn params(calibration_end: &str, holdout_end: &str) -> clv::ClvValidParams {
    ClvParams::new()
        .calibration_end(date(calibration_end))
        .holdout_end(date(holdout_end))
        .check()
        .unwrap()
}

/// Runs `churn_reference.py` on the predictions of `result`; its JSON answer.
fn reference(python: &str, result: &ClvResult) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let (input, output) = (dir.path().join("p.parquet"), dir.path().join("out.json"));
    let mut frame = result
        .frame
        .select([
            "p_alive",
            "expected_purchases_holdout",
            "frequency_holdout",
            "frequency",
            "recency",
            "T",
            "lifecycle_stage",
        ])
        .unwrap();
    ParquetWriter::new(std::fs::File::create(&input).unwrap())
        .finish(&mut frame)
        .unwrap();
    let status = Command::new(python)
        .arg(support::script("churn_reference.py"))
        .arg(&input)
        .arg(&output)
        .status()
        .unwrap();
    assert!(status.success(), "churn_reference.py failed");
    serde_json::from_str(&std::fs::read_to_string(output).unwrap()).unwrap()
}

/// The AUCs equal scikit-learn's, the gains deciles pandas', and the stages the documented rule.
fn check_against_reference(python: &str, result: &ClvResult) -> clv::churn::ChurnEvaluation {
    let expected = reference(python, result);
    let churn = result.holdout.as_ref().expect("a holdout").churn.clone();
    for (ours, name) in [
        (churn.auc, "auc"),
        (churn.auc_expected_purchases, "auc_expected_purchases"),
        (churn.auc_rhythm, "auc_rhythm"),
    ] {
        let sklearn = expected[name].as_f64().unwrap();
        let ours = ours.unwrap();
        assert!(
            (ours - sklearn).abs() < 1e-12,
            "{name}: ours {ours}, scikit-learn {sklearn}"
        );
    }
    let gains: Vec<[u64; 3]> = churn
        .gains
        .iter()
        .map(|g| [g.decile as u64, g.customers as u64, g.holdout_buyers as u64])
        .collect();
    let pandas: Vec<[u64; 3]> = expected["gains"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| [0, 1, 2].map(|i| r[i].as_u64().unwrap()))
        .collect();
    assert_eq!(gains, pandas, "deciles: [decile, customers, holdout buyers]");
    assert_eq!(
        expected["stages_differ"], 0,
        "lifecycle stages: {}",
        expected["stage_counts"]
    );
    churn
}

#[test]
fn churn_auc_gains_and_stages_match_scikit_learn_and_pandas_on_cdnow() {
    let (Some(datasets), Some(python)) = (support::datasets(), support::python_with("sklearn")) else {
        return;
    };
    let tx = cdnow_sample(&datasets);
    let result = clv::run(&tx, &params("1997-09-30", "1998-06-30")).unwrap();
    let churn = check_against_reference(&python, &result);
    assert_eq!(churn.churned + churn.holdout_buyers, 2_357);
    // Under BG/NBD the 1,411 customers without repeat purchases have P(alive) = 1 and share
    // the first decile; they buy again least often, so P(alive) ranks worse than chance.
    assert_eq!(churn.gains[0].customers, 1_411);
    assert!(churn.auc.unwrap() < 0.5);
    assert!(churn.auc_rhythm.unwrap() > 0.65);
    let total: f64 = churn
        .calibration
        .iter()
        .map(|r| r.actual_mean * r.customers as f64)
        .sum();
    assert!(
        (total - 1_882.0).abs() < 1e-9,
        "the calibration table holds every holdout purchase: {total}"
    );
}

#[test]
fn every_online_retail_customer_is_staged_and_churn_matches_scikit_learn() {
    let (Some(datasets), Some(python)) = (support::datasets(), support::python_with("sklearn")) else {
        return;
    };
    let tx = online_retail(&datasets);
    let result = Segmenter::new()
        .clv(params("2011-09-30", "2011-12-09"))
        .run(&tx)
        .unwrap();
    let clv = result.clv.as_ref().unwrap();
    check_against_reference(&python, clv);

    let frame = &result.frame;
    let stages = frame.column("lifecycle_stage").unwrap();
    assert_eq!(stages.null_count(), 0, "every customer has a stage");
    let staged: usize = clv.stages.iter().map(|s| s.customers).sum();
    assert_eq!(staged, frame.height());
    // Customers first seen after the calibration end: new, without a prediction.
    let after = frame
        .clone()
        .lazy()
        .filter(
            col("first_purchase")
                .cast(DataType::Date)
                .gt(lit(date("2011-09-30"))),
        )
        .select([col("lifecycle_stage"), col("p_alive")])
        .collect()
        .unwrap();
    assert_eq!(after.height(), 723);
    assert_eq!(clv.stages[0].first_purchase_after_calibration, 723);
    assert_eq!(after.column("p_alive").unwrap().null_count(), 723);
    let new = after
        .column("lifecycle_stage")
        .unwrap()
        .str()
        .unwrap()
        .equal("new");
    assert_eq!(new.sum(), Some(723));
    // With its dropout at the boundary, P(alive) is ≈ 1 for everyone: the rhythm stages them.
    let lost = clv.stages.iter().find(|s| s.stage == "lost").unwrap();
    assert!(lost.customers > 0);
    let disagreements = result.summary().unwrap().lifecycle_vs_rfm.unwrap();
    let lost_active = disagreements
        .iter()
        .find(|d| d.segment == "Lost" && d.stage == "active")
        .expect("RFM Lost, lifecycle active");
    assert!(
        lost_active
            .explanation
            .starts_with(&format!("{} customers are Lost by RFM", lost_active.customers))
    );
}

#[test]
fn online_retail_cohorts_match_pandas() {
    let (Some(datasets), Some(python)) = (support::datasets(), support::python_with_pandas()) else {
        return;
    };
    let tx = online_retail(&datasets);
    let dir = tempfile::tempdir().unwrap();
    let reference = dir.path().join("cohorts.csv");
    let status = Command::new(&python)
        .arg(support::script("cohorts_reference.py"))
        .arg(datasets.join("online_retail/online_retail.csv.gz"))
        .arg(&reference)
        .status()
        .unwrap();
    assert!(status.success(), "cohorts_reference.py failed");
    let expected = CsvReadOptions::default()
        .try_into_reader_with_file_path(Some(reference))
        .unwrap()
        .finish()
        .unwrap();
    let customers = clientele::customers::aggregate(&tx, &RowPolicy::default()).unwrap();
    for (period, name) in [
        (CohortPeriod::Week, "week"),
        (CohortPeriod::Month, "month"),
        (CohortPeriod::Quarter, "quarter"),
    ] {
        let table = cohorts::compute(&tx, &RowPolicy::default(), period).unwrap();
        let sizes: usize = table.cohorts.iter().map(|c| c.customers).sum();
        assert_eq!(sizes, customers.len(), "{name}: every customer in one cohort");
        let revenue: f64 = table.cohorts.iter().flat_map(|c| &c.revenue).sum();
        let monetary: f64 = customers
            .frame
            .column("monetary")
            .unwrap()
            .f64()
            .unwrap()
            .sum()
            .unwrap();
        assert!(
            (revenue - monetary).abs() < 1e-6,
            "{name}: revenue {revenue} against monetary {monetary}"
        );
        let pandas = expected
            .clone()
            .lazy()
            .filter(col("period").eq(lit(name)))
            .collect()
            .unwrap();
        let cell = |row: usize, column: &str| pandas.column(column).unwrap().get(row).unwrap();
        let mut cells = std::collections::HashMap::new();
        for row in 0..pandas.height() {
            let key = (
                cell(row, "cohort_start")
                    .to_string()
                    .trim_matches('"')
                    .to_string(),
                cell(row, "offset").try_extract::<usize>().unwrap(),
            );
            let values = (
                cell(row, "customers").try_extract::<usize>().unwrap(),
                cell(row, "active").try_extract::<f64>().unwrap() as usize,
                cell(row, "revenue").try_extract::<f64>().unwrap(),
            );
            cells.insert(key, values);
        }
        let mut matched = 0;
        for c in &table.cohorts {
            for offset in 0..c.active.len() {
                let key = (c.start.to_string(), offset);
                let (size, active, revenue) = cells.get(&key).copied().unwrap_or((c.customers, 0, 0.0));
                matched += usize::from(cells.contains_key(&key));
                assert_eq!((c.customers, c.active[offset]), (size, active), "{name} {key:?}");
                assert!(
                    (c.revenue[offset] - revenue).abs() < 1e-5,
                    "{name} {key:?}: {} against {revenue}",
                    c.revenue[offset]
                );
                assert_eq!(c.retention[offset], active as f64 / size as f64);
            }
        }
        assert_eq!(
            matched,
            pandas.height(),
            "{name}: every pandas cell is in the matrix"
        );
    }
}
