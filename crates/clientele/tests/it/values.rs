//! Value-level input defects: float and text ids, duplicate header names, `Z` timestamps, a
//! far-off latest date, and money written without binary noise.

use std::io::Write;
use std::path::{Path, PathBuf};

use clientele::customers::{self, CustomerTable};
use clientele::ingest::{self, IngestOptions};
use clientele::output::{OutputFormat, write_frame_to};
use clientele::polars::prelude::*;
use clientele::rows::RejectReason;
use clientele::{AsOf, ErrorKind, RowPolicy};

use crate::support;

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn gzip(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
    let path = dir.path().join(name);
    let mut encoder =
        flate2::write::GzEncoder::new(std::fs::File::create(&path).unwrap(), Default::default());
    encoder.write_all(text.as_bytes()).unwrap();
    encoder.finish().unwrap();
    path
}

fn parquet(dir: &tempfile::TempDir, name: &str, mut frame: DataFrame) -> PathBuf {
    let path = dir.path().join(name);
    ParquetWriter::new(std::fs::File::create(&path).unwrap())
        .finish(&mut frame)
        .unwrap();
    path
}

fn aggregate(path: &Path) -> CustomerTable {
    let tx = ingest::scan(path, &IngestOptions::default()).unwrap();
    customers::aggregate(&tx, &RowPolicy::default()).unwrap()
}

fn ids(table: &CustomerTable) -> Vec<String> {
    let ids = table
        .frame
        .column("customer_id")
        .unwrap()
        .cast(&DataType::String)
        .unwrap();
    ids.str()
        .unwrap()
        .iter()
        .map(|v| v.unwrap().to_string())
        .collect()
}

/// `(reject_row, reject_reason, reject_value)` of every rejected row.
fn rejects(path: &Path) -> Vec<(u32, String, String)> {
    let tx = ingest::scan(path, &IngestOptions::default()).unwrap();
    let frame = tx
        .rejected_rows(&RowPolicy::default())
        .unwrap()
        .collect()
        .unwrap();
    let text = |name: &str| -> Vec<String> {
        let c = frame.column(name).unwrap().cast(&DataType::String).unwrap();
        c.str()
            .unwrap()
            .iter()
            .map(|v| v.unwrap_or("").to_string())
            .collect()
    };
    let (rows, reasons, values) = (text("reject_row"), text("reject_reason"), text("reject_value"));
    rows.into_iter()
        .zip(reasons)
        .zip(values)
        .map(|((r, reason), value)| (r.parse().unwrap(), reason, value))
        .collect()
}

#[test]
fn float_ids_must_be_whole_finite_and_within_64_bits() {
    let dir = tempfile::tempdir().unwrap();
    let two_63 = 9_223_372_036_854_775_808.0_f64;
    let customers = [
        17850.0,
        1e20,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        -0.0,
        -5.0,
        two_63,
        -two_63,
        12.5,
    ];
    let n = customers.len();
    let frame = df!(
        "customer_id" => customers,
        "date" => vec!["2024-01-01"; n],
        "amount" => vec![1.0; n],
    )
    .unwrap();
    let path = parquet(&dir, "f64.parquet", frame);
    let table = aggregate(&path);
    assert_eq!(
        ids(&table),
        ["-9223372036854775808", "-5", "0", "17850"],
        "-2⁶³ fits, 2⁶³ does not"
    );
    let rows = &table.reconciliation;
    assert_eq!(rows.rejected_for(RejectReason::InvalidCustomerId), 6);
    assert_eq!(rows.used_rows, 4);
    assert!(rows.balances());
    let reasons: Vec<(u32, String)> = rejects(&path)
        .into_iter()
        .map(|(r, reason, _)| (r, reason))
        .collect();
    let invalid = |row| (row, "invalid_customer_id".to_string());
    assert_eq!(
        reasons,
        [
            invalid(2),
            invalid(3),
            invalid(4),
            invalid(5),
            invalid(8),
            invalid(10)
        ]
    );

    // The same for Float32 ids, and for order ids of either width.
    let frame = df!(
        "customer_id" => [17850.0f32, 1e20, f32::NAN, 12.5, -0.0],
        "date" => vec!["2024-01-01"; 5],
        "amount" => vec![1.0; 5],
    )
    .unwrap();
    let table = aggregate(&parquet(&dir, "f32.parquet", frame));
    assert_eq!(ids(&table), ["0", "17850"]);
    assert_eq!(
        table.reconciliation.rejected_for(RejectReason::InvalidCustomerId),
        3
    );

    let orders = [1.0, 1e20, f64::NAN, 2.5, -0.0, f64::INFINITY, 1.0];
    let frame = df!(
        "customer_id" => [1i64, 1, 1, 1, 1, 1, 2],
        "order_id" => orders,
        "date" => vec!["2024-01-01"; 7],
        "amount" => vec![1.0; 7],
    )
    .unwrap();
    for (name, frame) in [
        ("o64.parquet", frame.clone()),
        (
            "o32.parquet",
            frame
                .lazy()
                .with_column(col("order_id").cast(DataType::Float32))
                .collect()
                .unwrap(),
        ),
    ] {
        let path = parquet(&dir, name, frame);
        let table = aggregate(&path);
        let rows = &table.reconciliation;
        assert_eq!(rows.rejected_for(RejectReason::InvalidOrderId), 4, "{name}");
        assert_eq!(rows.used_rows, 3, "{name}");
        let frequency = table.frame.column("frequency").unwrap().i64().unwrap().clone();
        assert_eq!(
            frequency.to_vec(),
            [Some(2), Some(1)],
            "{name}: orders 1 and 0; order 1"
        );
        let rejected = rejects(&path);
        assert_eq!(
            rejected[0],
            (2, "invalid_order_id".into(), "1e+20".into()),
            "{name}"
        );
    }
}

/// Ids written as `17850.0`, `12.5` and `10.0`, and the same ids written as integers.
const POINT_IDS: &str = "\
customer_id,order_id,order_date,amount
17850.0,10.0,2024-01-01 10:00:00,5.25
17850.0,10,2024-01-01 10:00:00,1.75
12.5,11,2024-01-02 10:00:00,3
13,12.5,2024-01-03 10:00:00,4
007.0,13.000,2024-01-04 10:00:00,2
-4.0,14,2024-01-05 10:00:00,1
";
const INTEGER_IDS: &str = "\
customer_id,order_id,order_date,amount
17850,10,2024-01-01 10:00:00,5.25
17850,10,2024-01-01 10:00:00,1.75
007,13,2024-01-04 10:00:00,2
-4,14,2024-01-05 10:00:00,1
";

#[test]
fn text_ids_with_a_point_read_alike_on_both_csv_readers() {
    let dir = tempfile::tempdir().unwrap();
    let reference = aggregate(&write(&dir, "integers.csv", INTEGER_IDS));
    assert_eq!(ids(&reference), ["-4", "007", "17850"]);
    // Plain CSV (clientele's reader), gzip (polars' reader), and polars' group-by plan.
    let plain = write(&dir, "points.csv", POINT_IDS);
    let compressed = gzip(&dir, "points.csv.gz", POINT_IDS);
    let tx = ingest::scan(&plain, &IngestOptions::default()).unwrap();
    let by_group_by = customers::aggregate_with_group_by(&tx, &RowPolicy::default()).unwrap();
    for (what, table) in [
        ("plain", aggregate(&plain)),
        ("gzip", aggregate(&compressed)),
        ("group-by", by_group_by),
    ] {
        assert!(
            table.frame.equals_missing(&reference.frame),
            "{what}:\n{}\n{}",
            table.frame,
            reference.frame
        );
        let rows = &table.reconciliation;
        assert_eq!(rows.rejected_for(RejectReason::InvalidCustomerId), 1, "{what}");
        assert_eq!(rows.rejected_for(RejectReason::InvalidOrderId), 1, "{what}");
        assert_eq!(rows.input_rows, 6, "{what}");
        assert!(rows.balances(), "{what}");
    }
    for path in [&plain, &compressed] {
        assert_eq!(
            rejects(path),
            [
                (3, "invalid_customer_id".into(), "12.5".into()),
                (4, "invalid_order_id".into(), "12.5".into())
            ],
            "{}",
            path.display()
        );
    }
}

#[test]
fn duplicate_header_names_are_errors_naming_both_positions() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "customer_id,date,amount,amount\n1,2024-01-01,5,6\n",
            "\"amount\"",
            "columns 3 and 4",
        ),
        (
            "note,customer_id,date,amount,note\nx,1,2024-01-01,5,y\n",
            "\"note\"",
            "columns 1 and 5",
        ),
    ];
    for (i, (text, name, positions)) in cases.into_iter().enumerate() {
        for path in [
            write(&dir, &format!("{i}.csv"), text),
            gzip(&dir, &format!("{i}.csv.gz"), text),
            write(&dir, &format!("{i}.txt"), &text.replace(',', " ")),
        ] {
            let err = ingest::scan(&path, &IngestOptions::default()).unwrap_err();
            let message = err.to_string();
            assert_eq!(err.kind(), ErrorKind::Data, "{message}");
            assert!(
                message.contains(name) && message.contains(positions) && message.contains("twice"),
                "{}: {message}",
                path.display()
            );
        }
    }
}

#[test]
fn duplicate_parquet_column_names_are_errors_naming_both_positions() {
    let Some(python) = support::python_with("pyarrow") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dup.parquet");
    let script = "import sys, pyarrow as pa, pyarrow.parquet as pq\n\
        t = pa.table([[1], ['2024-01-01'], [5.0], [6.0]], names=['customer_id', 'date', 'amount', 'amount'])\n\
        pq.write_table(t, sys.argv[1])\n";
    let status = std::process::Command::new(python)
        .args(["-c", script])
        .arg(&path)
        .status()
        .unwrap();
    assert!(status.success());
    let err = ingest::scan(&path, &IngestOptions::default()).unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("\"amount\"") && message.contains("columns 3 and 4"),
        "{message}"
    );
}

#[test]
fn z_timestamps_mix_with_offsets() {
    let dir = tempfile::tempdir().unwrap();
    let text = "customer,date,amount\n\
        1,2024-01-01T10:00:00+01:00,5\n\
        2,2024-01-02T10:00:00Z,5\n\
        2,2024-01-03T10:00:00.5z,5\n\
        3,2024-01-04T23:30:00-01:00,5\n";
    for path in [write(&dir, "z.csv", text), gzip(&dir, "z.csv.gz", text)] {
        let tx = ingest::scan(&path, &IngestOptions::default()).unwrap();
        assert_eq!(
            tx.time_parsing().format.as_deref(),
            Some("%Y-%m-%dT%H:%M:%S%.f%:z")
        );
        let table = customers::aggregate(&tx, &RowPolicy::default()).unwrap();
        assert_eq!(table.reconciliation.used_rows, 4);
        let last: Vec<String> = table
            .frame
            .column("last_purchase")
            .unwrap()
            .cast(&DataType::String)
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .map(|v| v.unwrap().to_string())
            .collect();
        assert_eq!(
            last,
            [
                "2024-01-01 09:00:00.000000",
                "2024-01-03 10:00:00.500000",
                "2024-01-05 00:30:00.000000"
            ]
        );
    }
    // A format given with an offset reads `Z` too.
    for (format, offset) in [
        ("%Y-%m-%dT%H:%M:%S%:z", "+01:00"),
        ("%Y-%m-%dT%H:%M:%S%z", "+0100"),
    ] {
        let path = write(
            &dir,
            "given.csv",
            &format!("customer,date,amount\n1,2024-01-02T10:00:00Z,5\n1,2024-01-01T10:00:00{offset},5\n"),
        );
        let options = IngestOptions {
            time_format: Some(format.into()),
            ..Default::default()
        };
        let tx = ingest::scan(&path, &options).unwrap();
        let table = customers::aggregate(&tx, &RowPolicy::default()).unwrap();
        assert_eq!(table.reconciliation.used_rows, 2, "{format}");
    }
}

/// 2023 purchases of customers 1 to 4, with one of customer 2's rows dated `late`.
fn with_a_late_row(late: &str) -> String {
    format!(
        "customer_id,order_date,amount\n\
         1,2023-03-01,5\n\
         2,2023-06-01,5\n\
         3,2023-12-30,5\n\
         2,{late},5\n\
         4,2023-12-01,5\n"
    )
}

#[test]
fn a_date_far_beyond_the_rest_is_warned_about_with_its_row() {
    let dir = tempfile::tempdir().unwrap();
    let text = with_a_late_row("9999-12-31");
    for path in [write(&dir, "late.csv", &text), gzip(&dir, "late.csv.gz", &text)] {
        let table = aggregate(&path);
        assert_eq!(table.notes.len(), 1, "{:?}", table.notes);
        let note = &table.notes[0];
        assert!(
            note.starts_with("row 4, dated \"9999-12-31\", is 2,913,175 days after")
                && note.contains("2023-12-30"),
            "{note}"
        );
        assert_eq!(table.facts().notes, table.notes);
        // With an as-of date the row is excluded instead, and nothing is warned.
        let tx = ingest::scan(&path, &IngestOptions::default()).unwrap();
        let policy = RowPolicy {
            as_of: AsOf::Date(chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap()),
            ..Default::default()
        };
        assert!(customers::aggregate(&tx, &policy).unwrap().notes.is_empty());
    }
    // The boundary: 365 days after the rest is fine, 366 is not.
    let table = aggregate(&write(&dir, "365.csv", &with_a_late_row("2024-12-29")));
    assert!(table.notes.is_empty(), "{:?}", table.notes);
    let table = aggregate(&write(&dir, "366.csv", &with_a_late_row("2024-12-30")));
    assert_eq!(table.notes.len(), 1, "{:?}", table.notes);
    assert!(table.notes[0].contains("is 366 days after"), "{:?}", table.notes);
}

#[test]
fn money_columns_are_written_with_at_most_six_decimals() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut inputs = vec![repo.join("datasets/sample_transactions.csv")];
    if let Some(datasets) = support::datasets() {
        inputs.push(datasets.join("online_retail/online_retail.csv.gz"));
        inputs.push(datasets.join("rfm_r/rfm_data_orders.csv"));
    }
    for input in inputs {
        let table = aggregate(&input);
        let mut csv = Vec::new();
        write_frame_to(&table.frame, &mut csv, OutputFormat::Csv).unwrap();
        let text = String::from_utf8(csv).unwrap();
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().unwrap().split(',').collect();
        let money: Vec<usize> = ["monetary", "gross_revenue", "returns_value", "avg_order_value"]
            .iter()
            .map(|name| header.iter().position(|h| h == name).unwrap())
            .collect();
        let mut checked = 0;
        for line in lines {
            let cells: Vec<&str> = line.split(',').collect();
            for at in &money {
                let decimals = cells[*at].split_once('.').map_or(0, |(_, f)| f.len());
                assert!(
                    decimals <= 6,
                    "{}: {} = {} in {line}",
                    input.display(),
                    header[*at],
                    cells[*at]
                );
                checked += 1;
            }
        }
        assert!(checked >= 4 * table.len(), "{}", input.display());
    }
}
