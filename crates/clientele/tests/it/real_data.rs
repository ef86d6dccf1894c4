//! Checks against public data sets and an independent pandas computation.

use std::process::Command;

use chrono::NaiveDate;
use clientele::ingest::{self, Delimiter, Header, IngestOptions};
use clientele::polars::prelude::*;
use clientele::rows::{ExclusionReason, RejectReason};
use clientele::{AsOf, Binning, Columns, ReturnsPolicy, RfmParams, RowPolicy, Segmenter, customers};

use crate::support;

fn f64s(frame: &DataFrame, name: &str) -> Vec<f64> {
    frame
        .column(name)
        .unwrap()
        .cast(&DataType::Float64)
        .unwrap()
        .f64()
        .unwrap()
        .iter()
        .map(|v| v.unwrap())
        .collect()
}

fn i64s(frame: &DataFrame, name: &str) -> Vec<i64> {
    frame
        .column(name)
        .unwrap()
        .cast(&DataType::Int64)
        .unwrap()
        .i64()
        .unwrap()
        .iter()
        .map(|v| v.unwrap())
        .collect()
}

#[test]
fn online_retail_matches_pandas_and_reconciles() {
    let (Some(datasets), Some(python)) = (support::datasets(), support::python_with_pandas()) else {
        return;
    };
    let input = datasets.join("online_retail/online_retail.csv.gz");
    let tx = ingest::scan(&input, &IngestOptions::default()).unwrap();
    let result = Segmenter::new()
        .as_of(AsOf::Date(NaiveDate::from_ymd_opt(2011, 12, 10).unwrap()))
        .returns(ReturnsPolicy::Exclude)
        .rfm(RfmParams::quintiles().binning(Binning::Rank).check().unwrap())
        .run(&tx)
        .unwrap();

    // Row reconciliation: 541,909 = used + excluded + rejected.
    let rows = &result.customers.reconciliation;
    assert_eq!(rows.input_rows, 541_909);
    assert!(rows.balances());
    assert_eq!(rows.rejected_for(RejectReason::MissingCustomerId), 135_080);
    assert_eq!(rows.excluded_for(ExclusionReason::Return), 8_905);
    assert_eq!(rows.used_rows, 397_924);
    assert_eq!(
        rows.used_rows + rows.excluded_rows() + rows.rejected_rows(),
        541_909
    );
    assert_eq!(result.frame.height(), 4_339);

    // Independent pandas computation of the same policy.
    let dir = tempfile::tempdir().unwrap();
    let reference = dir.path().join("reference.csv");
    let status = Command::new(&python)
        .arg(support::script("online_retail_reference.py"))
        .arg(&input)
        .arg(&reference)
        .status()
        .unwrap();
    assert!(status.success(), "the pandas reference script failed");
    let expected = CsvReadOptions::default()
        .try_into_reader_with_file_path(Some(reference))
        .unwrap()
        .finish()
        .unwrap();
    assert_eq!(expected.height(), 4_339);

    let ours = &result.frame;
    assert_eq!(
        i64s(ours, "customer_id"),
        i64s(&expected, "customer_id"),
        "same customers, same order"
    );
    assert_eq!(i64s(ours, "recency_days"), i64s(&expected, "recency_days"));
    assert_eq!(i64s(ours, "frequency"), i64s(&expected, "frequency"));
    let (m_ours, m_pandas) = (f64s(ours, "monetary"), f64s(&expected, "monetary"));
    let worst = m_ours
        .iter()
        .zip(&m_pandas)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    // pandas sums binary floating point products; clientele sums exact micro-units.
    assert!(worst < 1e-6, "largest monetary difference {worst}");
    for score in ["r_score", "f_score", "m_score"] {
        assert_eq!(
            i64s(ours, score),
            i64s(&expected, score),
            "{score} differs from pandas qcut(rank)"
        );
    }
}

#[test]
fn cdnow_master_counts_match_its_readme() {
    let Some(datasets) = support::datasets() else {
        return;
    };
    // Whitespace separated, header line, dates as YYYYMMDD: read as documented, no conversion.
    let tx = ingest::scan(datasets.join("cdnow/CDNOW_master.txt"), &IngestOptions::default()).unwrap();
    assert_eq!(tx.columns().amount.to_string(), "dollar_value");
    let table = customers::aggregate(&tx, &RowPolicy::default()).unwrap();
    assert_eq!(table.len(), 23_570);
    assert_eq!(table.reconciliation.input_rows, 69_659);
    assert_eq!(table.reconciliation.used_rows, 69_659);
    let total: f64 = f64s(&table.frame, "monetary").iter().sum();
    assert!((total - 2_500_315.63).abs() < 1e-6, "total {total}");
    // Ids keep their zero padding.
    assert_eq!(
        table.frame.column("customer_id").unwrap().str().unwrap().get(0),
        Some("00001")
    );
    assert_eq!(
        table.date_range.unwrap().0,
        NaiveDate::from_ymd_opt(1997, 1, 1).unwrap()
    );
    assert_eq!(
        table.date_range.unwrap().1,
        NaiveDate::from_ymd_opt(1998, 6, 30).unwrap()
    );
}

#[test]
fn cdnow_sample_without_header_by_position() {
    let Some(datasets) = support::datasets() else {
        return;
    };
    let options = IngestOptions {
        columns: Columns::default()
            .customer("column_2")
            .time("column_3")
            .amount("column_5"),
        csv: ingest::CsvOptions {
            delimiter: Delimiter::Whitespace,
            header: Header::Absent,
            ..Default::default()
        },
        ..Default::default()
    };
    let tx = ingest::scan(datasets.join("cdnow/CDNOW_sample.txt"), &options).unwrap();
    let table = customers::aggregate(&tx, &RowPolicy::default()).unwrap();
    assert_eq!(table.len(), 2_357);
    assert_eq!(table.reconciliation.input_rows, 6_919);
    let total: f64 = f64s(&table.frame, "monetary").iter().sum();
    assert!((total - 244_091.94).abs() < 1e-6, "total {total}");
}

#[test]
fn rfm_package_orders_match_its_readme() {
    let Some(datasets) = support::datasets() else {
        return;
    };
    let tx = ingest::scan(
        datasets.join("rfm_r/rfm_data_orders.csv"),
        &IngestOptions::default(),
    )
    .unwrap();
    let policy = RowPolicy {
        as_of: AsOf::Date(NaiveDate::from_ymd_opt(2006, 12, 31).unwrap()),
        returns: ReturnsPolicy::Net,
    };
    let table = customers::aggregate(&tx, &policy).unwrap();
    assert_eq!(table.reconciliation.input_rows, 4_906);
    assert_eq!(table.len(), 995);
    let total: f64 = f64s(&table.frame, "monetary").iter().sum();
    assert_eq!(total, 464_158.0);
    // Names stay text; frequency counts purchase days (there is no order column).
    assert_eq!(
        table.frame.column("customer_id").unwrap().dtype(),
        &DataType::String
    );
    assert!(tx.columns().order.is_none());
    let transactions: i64 = i64s(&table.frame, "transactions").iter().sum();
    assert_eq!(transactions, 4_906);
}
