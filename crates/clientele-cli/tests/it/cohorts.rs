//! Cohort retention from the command line: `--cohorts FILE`, `--cohort-period`, the heat map.

use crate::support::{data, run, stderr};

#[test]
fn cohorts_table_summary_and_heat_map() {
    let dir = tempfile::tempdir().unwrap();
    let (out_dir, table) = (dir.path().join("report"), dir.path().join("cohorts.csv"));
    let out = run(&[
        "report",
        &data("orders.csv"),
        "--as-of",
        "2024-04-01",
        "--cohort-period",
        "week",
        "--cohorts",
        table.to_str().unwrap(),
        "--out-dir",
        out_dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("cohorts by week"), "{}", stderr(&out));
    let text = std::fs::read_to_string(&table).unwrap();
    assert_eq!(
        text.lines().next(),
        Some(
            "cohort,cohort_start,customers,offset,period_start,active_customers,retention,revenue,revenue_per_customer"
        )
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("summary.json")).unwrap()).unwrap();
    let cohorts = &json["cohorts"];
    assert_eq!(cohorts["period"], "week");
    let customers: u64 = cohorts["cohorts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["customers"].as_u64().unwrap())
        .sum();
    assert_eq!(customers, json["customers"]["customers"].as_u64().unwrap());
    // One table row per cohort and offset, as in the summary.
    let cells: usize = cohorts["cohorts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["retention"].as_array().unwrap().len())
        .sum();
    assert_eq!(text.lines().count(), cells + 1);
    let html = std::fs::read_to_string(out_dir.join("report.html")).unwrap();
    assert!(
        html.contains("<section id=\"cohorts\">") && html.contains("<svg"),
        "a heat map"
    );

    // segment writes the table only when asked, in the format of its extension.
    let parquet = dir.path().join("cohorts.parquet");
    let out = run(&[
        "segment",
        &data("orders.csv"),
        "-q",
        "--cohorts",
        parquet.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(std::fs::read(&parquet).unwrap().starts_with(b"PAR1"));
}

#[test]
fn cohorts_need_a_transaction_log() {
    let dir = tempfile::tempdir().unwrap();
    let table = dir.path().join("cohorts.csv");
    let out = run(&[
        "segment",
        &data("orders.csv"),
        "--input-kind",
        "customers",
        "--cohorts",
        table.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("--cohorts needs a transaction log"),
        "{}",
        stderr(&out)
    );
    assert!(!table.exists());
}
