//! Bad records of a CSV input (too many fields, a stray quote, invalid UTF-8) are rejected
//! rows with a reason, a row number and a cut value; the rest of the file is read, and every
//! path that reads the log (aggregation by either reader, rejected rows, data quality, the CLV
//! summary) counts them alike. Inputs of several files name the file at fault.

use std::io::Write;
use std::path::{Path, PathBuf};

use clientele::clv::{self, ClvParams};
use clientele::customers;
use clientele::ingest::{self, CsvReaderChoice, Encoding, IngestOptions};
use clientele::polars::prelude::*;
use clientele::quality;
use clientele::rows::{RejectReason, RowPolicy, RowReconciliation};

/// A log of `rows` clean rows (customer i % 17, one per day from 2024-01-01), with `bad`
/// replacing the line of data row `at` (1-based) when given.
fn log_with(rows: usize, bad: Option<(usize, &[u8])>) -> Vec<u8> {
    let mut out = b"customer_id,order_date,amount,note\n".to_vec();
    let start = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
    for i in 1..=rows {
        match bad {
            Some((at, line)) if at == i => out.extend_from_slice(line),
            _ => {
                let day = start + chrono::Duration::days((i % 300) as i64);
                writeln!(out, "{},{day},{}.25,plain", i % 17, i % 40).unwrap();
            }
        }
    }
    out
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn options(reader: CsvReaderChoice) -> IngestOptions {
    let mut options = IngestOptions::default();
    options.csv.reader = reader;
    options
}

/// Everything each path says about the rows of `path`: the reconciliation of the aggregation
/// (by both readers), of the data-quality report and of the CLV summary, and the rejected rows
/// as `(row, reason, column, value)`.
struct Account {
    rows: RowReconciliation,
    rejected: Vec<(u64, String, Option<String>, Option<String>)>,
}

fn account(path: &Path, base: &IngestOptions) -> Account {
    let policy = RowPolicy::default();
    let mut seen: Option<Account> = None;
    for reader in [CsvReaderChoice::Auto, CsvReaderChoice::Polars] {
        let mut options = base.clone();
        options.csv.reader = reader;
        let tx = ingest::scan(path, &options).unwrap();
        let table = customers::aggregate(&tx, &policy).unwrap();
        let reference = customers::aggregate_with_group_by(&tx, &policy).unwrap();
        assert_eq!(table.reconciliation, reference.reconciliation);
        assert!(table.frame.equals_missing(&reference.frame));
        let report = quality::assess(&tx, &policy).unwrap();
        assert_eq!(report.rows, table.reconciliation, "data quality");
        let summary = clv::summary::summarize(&tx, &ClvParams::new().check().unwrap()).unwrap();
        assert_eq!(
            summary.reconciliation.input_rows, table.reconciliation.input_rows,
            "CLV summary"
        );
        assert_eq!(
            summary.reconciliation.rejected, table.reconciliation.rejected,
            "CLV summary"
        );
        let frame = tx.rejected_rows(&policy).unwrap().collect().unwrap();
        let column = |name: &str| frame.column(name).unwrap().cast(&DataType::String).unwrap();
        let (rows, reasons, columns, values) = (
            frame
                .column("reject_row")
                .unwrap()
                .cast(&DataType::UInt64)
                .unwrap(),
            column("reject_reason"),
            column("reject_column"),
            column("reject_value"),
        );
        let rejected = (0..frame.height())
            .map(|i| {
                let text = |c: &Column| c.str().unwrap().get(i).map(str::to_string);
                (
                    rows.u64().unwrap().get(i).unwrap(),
                    text(&reasons).unwrap(),
                    text(&columns),
                    text(&values),
                )
            })
            .collect();
        let this = Account {
            rows: table.reconciliation,
            rejected,
        };
        if let Some(first) = &seen {
            assert_eq!(first.rows, this.rows, "both readers count alike");
            assert_eq!(first.rejected, this.rejected, "both readers reject alike");
        }
        seen = Some(this);
    }
    seen.unwrap()
}

fn rejected_for(rows: &RowReconciliation, reason: RejectReason) -> u64 {
    rows.rejected_for(reason)
}

#[test]
fn a_row_with_too_many_fields_is_rejected_and_the_rest_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "log.csv",
        &log_with(300, Some((200, b"5,2024-02-01,3.50,plain,surplus\n"))),
    );
    let a = account(&path, &IngestOptions::default());
    assert_eq!(a.rows.input_rows, 300);
    assert_eq!(a.rows.used_rows, 299);
    assert_eq!(rejected_for(&a.rows, RejectReason::MalformedRow), 1);
    assert_eq!(
        a.rejected,
        [(
            200,
            "malformed_row".to_string(),
            None,
            Some("\"5,2024-02-01,3.50,plain,surplus\"".to_string())
        )]
    );
}

#[test]
fn a_stray_quote_rejects_its_row_only() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = log_with(300, Some((200, b"5,2024-02-01,3.50,a 5\" screen\n")));
    // A quoted field with a line end further on must still be read as one field.
    log.extend_from_slice(b"3,2024-03-01,1.00,\"two\nlines\"\n");
    let path = write(dir.path(), "log.csv", &log);
    let a = account(&path, &IngestOptions::default());
    assert_eq!(a.rows.input_rows, 301);
    assert_eq!(a.rows.used_rows, 300);
    assert_eq!(a.rejected.len(), 1);
    assert_eq!(a.rejected[0].0, 200);
    assert_eq!(a.rejected[0].1, "malformed_row");
}

#[test]
fn invalid_utf8_is_rejected_unless_the_encoding_is_given() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "log.csv",
        &log_with(300, Some((200, b"M\xfcller,2024-02-01,3.50,plain\n"))),
    );
    let a = account(&path, &IngestOptions::default());
    assert_eq!(a.rows.input_rows, 300);
    assert_eq!(rejected_for(&a.rows, RejectReason::InvalidUtf8), 1);
    assert_eq!(a.rejected[0].0, 200);
    assert_eq!(a.rejected[0].1, "invalid_utf8");
    assert_eq!(
        a.rejected[0].3.as_deref(),
        Some("\"M\u{fffd}ller,2024-02-01,3.50,plain\"")
    );
    for encoding in [Encoding::Windows1252, Encoding::Latin1] {
        let mut options = IngestOptions::default();
        options.csv.encoding = encoding;
        let a = account(&path, &options);
        assert_eq!(a.rows.used_rows, 300, "{encoding:?}");
        let tx = ingest::scan(&path, &options).unwrap();
        let table = customers::aggregate(&tx, &RowPolicy::default()).unwrap();
        let ids = table
            .frame
            .column("customer_id")
            .unwrap()
            .cast(&DataType::String)
            .unwrap();
        assert!(
            ids.str().unwrap().iter().any(|id| id == Some("Müller")),
            "{encoding:?}"
        );
    }
}

#[test]
fn windows_1252_and_latin_1_differ_where_they_should() {
    let dir = tempfile::tempdir().unwrap();
    // 0x80 is the euro sign in Windows-1252 and a control character in Latin-1.
    let path = write(
        dir.path(),
        "log.csv",
        b"customer_id,order_date,amount\nA\x80,2024-01-01,5\n",
    );
    for (encoding, id) in [(Encoding::Windows1252, "A€"), (Encoding::Latin1, "A\u{80}")] {
        let mut options = IngestOptions::default();
        options.csv.encoding = encoding;
        let tx = ingest::scan(&path, &options).unwrap();
        let table = customers::aggregate(&tx, &RowPolicy::default()).unwrap();
        let ids = table
            .frame
            .column("customer_id")
            .unwrap()
            .cast(&DataType::String)
            .unwrap();
        assert_eq!(ids.str().unwrap().get(0), Some(id));
    }
}

#[test]
fn gzip_input_rejects_bad_rows_too() {
    let dir = tempfile::tempdir().unwrap();
    let log = log_with(300, Some((17, b"1,2024-01-05,2,x,y,z\n")));
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&log).unwrap();
    let path = write(dir.path(), "log.csv.gz", &gz.finish().unwrap());
    let a = account(&path, &IngestOptions::default());
    assert_eq!(a.rows.input_rows, 300);
    assert_eq!(a.rejected[0].0, 17);
    assert_eq!(a.rejected[0].1, "malformed_row");
}

#[test]
fn a_ten_megabyte_line_is_quoted_cut() {
    let dir = tempfile::tempdir().unwrap();
    let mut line = b"7,2024-01-05,2,".to_vec();
    line.extend(std::iter::repeat_n(b'x', 10 << 20));
    line.extend_from_slice(b",surplus\n");
    let path = write(dir.path(), "log.csv", &log_with(50, Some((3, &line))));
    let a = account(&path, &IngestOptions::default());
    assert_eq!(a.rows.input_rows, 50);
    let value = a.rejected[0].3.clone().unwrap();
    assert!(value.len() < 200, "{}", value.len());
    assert!(value.ends_with("…\" (10,485,783 characters)"), "{value}");
}

#[test]
fn whitespace_separated_files_reject_bad_lines() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "cdnow.txt",
        b"00001 19970101 1 11.77\n00002 19970112 1 12.00 surplus\n\
          00003 19970102 2 \xff20.76\n00003 19970330 2 20.76\n",
    );
    let mut options = IngestOptions::default();
    options.columns.customer = Some("column_1".into());
    options.columns.time = Some("column_2".into());
    options.columns.amount = Some("column_4".into());
    options.csv.header = ingest::Header::Absent;
    let tx = ingest::scan(&path, &options).unwrap();
    let table = customers::aggregate(&tx, &RowPolicy::default()).unwrap();
    let rows = &table.reconciliation;
    assert_eq!(rows.input_rows, 4);
    assert_eq!(rows.used_rows, 2);
    assert_eq!(rows.rejected_for(RejectReason::MalformedRow), 1);
    assert_eq!(rows.rejected_for(RejectReason::InvalidUtf8), 1);
    let rejected = tx
        .rejected_rows(&RowPolicy::default())
        .unwrap()
        .collect()
        .unwrap();
    let rows: Vec<Option<u32>> = rejected
        .column("reject_row")
        .unwrap()
        .cast(&DataType::UInt32)
        .unwrap()
        .u32()
        .unwrap()
        .iter()
        .collect();
    assert_eq!(rows, [Some(2), Some(3)]);
}

#[test]
fn an_unclosed_quote_names_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "log.csv",
        &log_with(300, Some((200, b"5,2024-02-01,3.50,\"never closed\n"))),
    );
    let e = ingest::scan(&path, &IngestOptions::default()).unwrap_err();
    let message = e.to_string();
    assert!(
        message.contains("log.csv: line 201: a quoted field opens here"),
        "{message}"
    );
    assert!(message.len() < 400, "{message}");
    assert_eq!(e.kind(), clientele::ErrorKind::Data);
}

#[test]
fn csv_files_of_a_directory_with_another_header_are_named() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.csv", &log_with(5, None));
    write(
        dir.path(),
        "b.csv",
        b"customer_id,order_date,value,note\n1,2024-01-01,5,x\n",
    );
    let message = ingest::scan(dir.path(), &IngestOptions::default())
        .unwrap_err()
        .to_string();
    assert!(message.contains("b.csv: its header"), "{message}");
    assert!(message.contains("a.csv"), "{message}");
}

#[test]
fn a_truncated_parquet_file_of_a_directory_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let mut frame = df!(
        "customer_id" => [1i64, 2, 3],
        "order_date" => ["2024-01-01", "2024-01-02", "2024-01-03"],
        "amount" => [1.0, 2.0, 3.0],
    )
    .unwrap();
    let mut bytes = Vec::new();
    ParquetWriter::new(&mut bytes).finish(&mut frame).unwrap();
    write(dir.path(), "a.parquet", &bytes);
    write(dir.path(), "b.parquet", &bytes[..bytes.len() - 20]);
    let message = ingest::scan(dir.path(), &IngestOptions::default())
        .unwrap_err()
        .to_string();
    assert!(message.contains("b.parquet"), "{message}");

    let mut other = df!("customer_id" => [1i64], "day" => ["2024-01-01"], "amount" => [1.0]).unwrap();
    let mut bytes_other = Vec::new();
    ParquetWriter::new(&mut bytes_other).finish(&mut other).unwrap();
    write(dir.path(), "b.parquet", &bytes_other);
    let message = ingest::scan(dir.path(), &IngestOptions::default())
        .unwrap_err()
        .to_string();
    assert!(message.contains("b.parquet"), "{message}");
    assert!(message.contains("a.parquet"), "{message}");
}

#[test]
fn clean_files_keep_the_fast_reader() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "log.csv", &log_with(300, None));
    let a = account(&path, &options(CsvReaderChoice::Auto));
    assert_eq!(a.rows.used_rows, 300);
    assert!(a.rejected.is_empty());
    let tx = ingest::scan(&path, &options(CsvReaderChoice::Auto)).unwrap();
    assert!(tx.uses_plain_csv_reader());
    let bad = write(
        dir.path(),
        "bad.csv",
        &log_with(300, Some((200, b"1,2,3,4,5,6\n"))),
    );
    let tx = ingest::scan(&bad, &options(CsvReaderChoice::Auto)).unwrap();
    assert!(
        !tx.uses_plain_csv_reader(),
        "a file with a malformed record goes to polars"
    );
}

/// What the structural pass costs on a clean file read by the fast reader: the time of
/// `ingest::scan` (which makes the pass) against the aggregation's. A measurement for the
/// documentation (`cargo test --release -- --ignored --nocapture structural_pass_cost`).
#[test]
#[ignore = "a measurement on 2,000,000 rows"]
fn structural_pass_cost() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "log.csv", &log_with(2_000_000, None));
    let started = std::time::Instant::now();
    let tx = ingest::scan(&path, &IngestOptions::default()).unwrap();
    let scanned = started.elapsed();
    let table = customers::aggregate(&tx, &RowPolicy::default()).unwrap();
    let total = started.elapsed();
    assert_eq!(table.reconciliation.used_rows, 2_000_000);
    eprintln!(
        "{} MB: scan (with the structural pass) {scanned:.2?}, scan and aggregation {total:.2?}",
        std::fs::metadata(&path).unwrap().len() >> 20
    );
}
