//! Ingest and per-customer measures on small hand-made inputs, where every value is checked.

use std::io::Write;
use std::path::PathBuf;

use chrono::NaiveDate;
use clientele::customers::{self, CustomerTable};
use clientele::ingest::{self, CsvOptions, DecimalSeparator, IngestOptions};
use clientele::polars::prelude::*;
use clientele::rows::{ExclusionReason, RejectReason};
use clientele::{AsOf, Columns, Error, ErrorKind, ReturnsPolicy, RowPolicy};

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn aggregate(path: &PathBuf, options: &IngestOptions, policy: &RowPolicy) -> CustomerTable {
    let tx = ingest::scan(path, options).unwrap();
    customers::aggregate(&tx, policy).unwrap()
}

/// The values of one customer's row, as text, keyed by column.
fn row(table: &CustomerTable, customer: &str) -> std::collections::BTreeMap<String, String> {
    let frame = &table.frame;
    let ids = frame
        .column("customer_id")
        .unwrap()
        .cast(&DataType::String)
        .unwrap();
    let index = ids
        .str()
        .unwrap()
        .iter()
        .position(|v| v == Some(customer))
        .unwrap_or_else(|| panic!("customer {customer} missing"));
    frame
        .columns()
        .iter()
        .map(|c| {
            (
                c.name().to_string(),
                c.get(index).unwrap().to_string().trim_matches('"').to_string(),
            )
        })
        .collect()
}

const WORKED_EXAMPLE: &str = "\
order_id,customer_id,order_date,amount
1001,alice,2024-03-01 10:15:00,120.00
1001,alice,2024-03-01 10:15:00,30.00
1002,alice,2024-03-20 18:00:00,45.50
1003,alice,2024-03-25 09:00:00,-30.00
1004,bob,2024-02-10 12:00:00,80.00
1005,bob,2024-03-31 23:59:00,0.00
1006,carol,2024-01-05 08:00:00,-15.00
1007,dave,2024-04-02 09:30:00,60.00
";

#[test]
fn worked_example_of_the_definitions_doc() {
    // docs/definitions.md walks through this input; the numbers there must be these.
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "orders.csv", WORKED_EXAMPLE);
    let policy = RowPolicy {
        as_of: AsOf::Date(date(2024, 4, 1)),
        returns: ReturnsPolicy::Net,
    };
    let table = aggregate(&path, &IngestOptions::default(), &policy);
    assert_eq!(
        table.len(),
        2,
        "carol has only a return, dave buys after the as-of date"
    );

    let alice = row(&table, "alice");
    assert_eq!(alice["first_purchase"], "2024-03-01 10:15:00");
    assert_eq!(alice["last_purchase"], "2024-03-20 18:00:00"); // the return does not refresh recency
    assert_eq!(alice["recency_days"], "12");
    assert_eq!(alice["tenure_days"], "31");
    assert_eq!(alice["frequency"], "2"); // order 1003 holds only a return
    assert_eq!(alice["monetary"], "165.5");
    assert_eq!(alice["gross_revenue"], "195.5");
    assert_eq!(alice["returns_value"], "30.0");
    assert_eq!(alice["transactions"], "4");

    let bob = row(&table, "bob");
    assert_eq!(bob["recency_days"], "1"); // 23:59 on 03-31 is one calendar day before 04-01
    assert_eq!(bob["frequency"], "2"); // a zero amount is a purchase line
    assert_eq!(bob["monetary"], "80.0");

    let rows = &table.reconciliation;
    assert_eq!(rows.input_rows, 8);
    assert_eq!(rows.used_rows, 6);
    assert_eq!(rows.excluded_for(ExclusionReason::AfterAsOf), 1);
    assert_eq!(rows.excluded_for(ExclusionReason::NoPurchase), 1);
    assert!(rows.balances());

    // Excluding returns drops alice's return row and carol's.
    let exclude = RowPolicy {
        returns: ReturnsPolicy::Exclude,
        ..policy
    };
    let table = aggregate(&path, &IngestOptions::default(), &exclude);
    assert_eq!(row(&table, "alice")["monetary"], "195.5");
    assert_eq!(table.reconciliation.excluded_for(ExclusionReason::Return), 2);
    assert_eq!(table.reconciliation.excluded_for(ExclusionReason::NoPurchase), 0);

    // Default as-of: the day after the latest used transaction (dave's, 2024-04-02).
    let table = aggregate(&path, &IngestOptions::default(), &RowPolicy::default());
    assert_eq!(table.as_of, date(2024, 4, 3));
    assert_eq!(table.len(), 3);
    assert_eq!(row(&table, "dave")["recency_days"], "1");
}

#[test]
fn every_bad_row_is_rejected_with_its_reason_row_column_and_value() {
    let dir = tempfile::tempdir().unwrap();
    let text = "\
customer_id,order_id,date,amount
1,a,2024-01-01,10
,b,2024-01-02,10
2,c,,10
3,d,2024-13-45,10
4,e,2024-01-03,
5,f,2024-01-04,ten
6,g,2024-01-05,NaN
7,,2024-01-06,5
8,h,2024-01-07,inf
9,i,2024-01-08, 12.5 
";
    let path = write(&dir, "bad.csv", text);
    let tx = ingest::scan(&path, &IngestOptions::default()).unwrap();
    let policy = RowPolicy::default();
    let table = customers::aggregate(&tx, &policy).unwrap();
    let rows = &table.reconciliation;
    assert_eq!(rows.input_rows, 10);
    assert_eq!(
        rows.used_rows, 2,
        "customer 1, and customer 9 whose amount has spaces around it"
    );
    for (reason, n) in [
        (RejectReason::MissingCustomerId, 1),
        (RejectReason::MissingTimestamp, 1),
        (RejectReason::UnparsableTimestamp, 1),
        (RejectReason::MissingAmount, 1),
        (RejectReason::UnparsableAmount, 1),
        (RejectReason::NonFiniteAmount, 2),
        (RejectReason::MissingOrderId, 1),
    ] {
        assert_eq!(rows.rejected_for(reason), n, "{reason:?}");
    }
    assert!(rows.balances());

    let rejected = tx.rejected_rows(&policy).unwrap().collect().unwrap();
    assert_eq!(rejected.height(), 8);
    let text = |name: &str, i: usize| {
        rejected
            .column(name)
            .unwrap()
            .cast(&DataType::String)
            .unwrap()
            .str()
            .unwrap()
            .get(i)
            .map(str::to_string)
    };
    assert_eq!(text("reject_row", 0).as_deref(), Some("2"));
    assert_eq!(text("reject_reason", 0).as_deref(), Some("missing_customer_id"));
    assert_eq!(text("reject_row", 2).as_deref(), Some("4"));
    assert_eq!(text("reject_reason", 2).as_deref(), Some("unparsable_timestamp"));
    assert_eq!(text("reject_column", 2).as_deref(), Some("date"));
    assert_eq!(text("reject_value", 2).as_deref(), Some("2024-13-45"));
    assert_eq!(text("reject_value", 4).as_deref(), Some("ten"));
    assert_eq!(text("reject_reason", 6).as_deref(), Some("missing_order_id"));
    // The input's own columns follow, as read.
    assert_eq!(text("customer_id", 7).as_deref(), Some("8"));
}

#[test]
fn quantity_times_price_blames_the_column_at_fault() {
    let dir = tempfile::tempdir().unwrap();
    let text = "CustomerID,InvoiceNo,InvoiceDate,Quantity,UnitPrice\n1,1,2024-01-01 10:00,2,3.5\n1,2,2024-01-02 10:00,x,3.5\n1,3,2024-01-03 10:00,2,\n";
    let path = write(&dir, "qp.csv", text);
    let tx = ingest::scan(&path, &IngestOptions::default()).unwrap();
    let rejected = tx
        .rejected_rows(&RowPolicy::default())
        .unwrap()
        .collect()
        .unwrap();
    let cols: Vec<Option<&str>> = rejected
        .column("reject_column")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .collect();
    assert_eq!(cols, [Some("Quantity"), Some("UnitPrice")]);
    let table = customers::aggregate(&tx, &RowPolicy::default()).unwrap();
    assert_eq!(row(&table, "1")["monetary"], "7.0");
}

#[test]
fn semicolons_decimal_commas_quotes_and_day_first_dates() {
    let dir = tempfile::tempdir().unwrap();
    let text = "Kunde;Datum;Umsatz;Notiz\n\"007\";13/02/2024 10:00;12,50;\"a; b\"\n\"007\";01/03/2024 11:30;7,25;x\n\"12\";14/03/2024 09:00;1,00;\n";
    let path = write(&dir, "de.csv", text);
    let options = IngestOptions {
        columns: Columns::default()
            .customer("Kunde")
            .time("Datum")
            .amount("Umsatz"),
        csv: CsvOptions {
            decimal: DecimalSeparator::Comma,
            ..Default::default()
        },
        ..Default::default()
    };
    let tx = ingest::scan(&path, &options).unwrap();
    assert_eq!(tx.time_parsing().format.as_deref(), Some("%d/%m/%Y %H:%M"));
    let table = customers::aggregate(&tx, &RowPolicy::default()).unwrap();
    let c = row(&table, "007"); // zero-padded ids stay text, as given
    assert_eq!(c["monetary"], "19.75");
    assert_eq!(c["last_purchase"], "2024-03-01 11:30:00");
    assert_eq!(table.as_of, date(2024, 3, 15));
}

#[test]
fn ambiguous_day_month_order_asks_for_a_format() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        &dir,
        "a.csv",
        "customer,date,amount\n1,01/02/2024,5\n2,03/04/2024,6\n",
    );
    let err = ingest::scan(&path, &IngestOptions::default()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Data);
    assert!(err.to_string().contains("--time-format"), "{err}");
    let options = IngestOptions {
        time_format: Some("%m/%d/%Y".into()),
        ..Default::default()
    };
    let table = aggregate(&path, &options, &RowPolicy::default());
    assert_eq!(row(&table, "2")["last_purchase"], "2024-03-04");
}

#[test]
fn gzip_parquet_directories_and_globs_read_the_same_rows() {
    let dir = tempfile::tempdir().unwrap();
    let csv = write(&dir, "orders.csv", WORKED_EXAMPLE);
    let reference = aggregate(&csv, &IngestOptions::default(), &RowPolicy::default());

    let gz = dir.path().join("orders.csv.gz");
    let mut encoder = flate2::write::GzEncoder::new(std::fs::File::create(&gz).unwrap(), Default::default());
    encoder.write_all(WORKED_EXAMPLE.as_bytes()).unwrap();
    encoder.finish().unwrap();
    let from_gz = aggregate(&gz, &IngestOptions::default(), &RowPolicy::default());
    assert!(from_gz.frame.equals_missing(&reference.frame));

    // The same rows as typed Parquet, split over two files in a directory.
    let mut frame = CsvReadOptions::default()
        .try_into_reader_with_file_path(Some(csv.clone()))
        .unwrap()
        .finish()
        .unwrap();
    let parts = dir.path().join("parts");
    std::fs::create_dir(&parts).unwrap();
    let (a, b) = frame.split_at(3);
    for (i, mut part) in [a, b].into_iter().enumerate() {
        let file = std::fs::File::create(parts.join(format!("part-{i}.parquet"))).unwrap();
        ParquetWriter::new(file).finish(&mut part).unwrap();
    }
    let single = dir.path().join("all.parquet");
    ParquetWriter::new(std::fs::File::create(&single).unwrap())
        .finish(&mut frame)
        .unwrap();
    for input in [parts.clone(), parts.join("*.parquet"), single] {
        let table = aggregate(&input, &IngestOptions::default(), &RowPolicy::default());
        assert_eq!(
            table.reconciliation,
            reference.reconciliation,
            "{}",
            input.display()
        );
        assert!(
            table.frame.equals_missing(&reference.frame),
            "{}",
            input.display()
        );
    }
}

#[test]
fn integer_ids_from_parquet_and_whole_float_ids() {
    let mut frame = df!(
        "customer_id" => [Some(17850.0), Some(17850.0), None, Some(12.5)],
        "date" => ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"],
        "amount" => [1.0, 2.0, 3.0, 4.0],
    )
    .unwrap();
    let tx = ingest::from_frame("frame", frame.clone().lazy(), &IngestOptions::default()).unwrap();
    let table = customers::aggregate(&tx, &RowPolicy::default()).unwrap();
    assert_eq!(
        table.frame.column("customer_id").unwrap().dtype(),
        &DataType::Int64
    );
    assert_eq!(row(&table, "17850")["frequency"], "2");
    assert_eq!(
        table.reconciliation.rejected_for(RejectReason::MissingCustomerId),
        1
    );
    assert_eq!(
        table.reconciliation.rejected_for(RejectReason::InvalidCustomerId),
        1
    );
    // Same through a Parquet file.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.parquet");
    ParquetWriter::new(std::fs::File::create(&path).unwrap())
        .finish(&mut frame)
        .unwrap();
    let again = aggregate(&path, &IngestOptions::default(), &RowPolicy::default());
    assert!(again.frame.equals_missing(&table.frame));
}

#[test]
fn text_ids_become_integers_only_when_lossless() {
    let dir = tempfile::tempdir().unwrap();
    let ints = write(
        &dir,
        "i.csv",
        "customer_id,date,amount\n10,2024-01-01,1\n9,2024-01-01,1\n",
    );
    let table = aggregate(&ints, &IngestOptions::default(), &RowPolicy::default());
    let ids: Vec<Option<i64>> = table
        .frame
        .column("customer_id")
        .unwrap()
        .i64()
        .unwrap()
        .iter()
        .collect();
    assert_eq!(ids, [Some(9), Some(10)], "numeric ids sort numerically");
    let padded = write(
        &dir,
        "p.csv",
        "customer_id,date,amount\n010,2024-01-01,1\n9,2024-01-01,1\n",
    );
    let table = aggregate(&padded, &IngestOptions::default(), &RowPolicy::default());
    let ids: Vec<Option<&str>> = table
        .frame
        .column("customer_id")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .collect();
    assert_eq!(ids, [Some("010"), Some("9")]);
}

#[test]
fn frequency_without_an_order_column_counts_purchase_days() {
    let dir = tempfile::tempdir().unwrap();
    let text = "customer,date,amount\n1,2024-01-01 09:00,1\n1,2024-01-01 17:00,1\n1,2024-01-02 09:00,1\n1,2024-01-03 09:00,-1\n";
    let path = write(&dir, "d.csv", text);
    let table = aggregate(&path, &IngestOptions::default(), &RowPolicy::default());
    let c = row(&table, "1");
    assert_eq!(c["frequency"], "2");
    assert_eq!(c["monetary"], "2.0");
    assert_eq!(c["last_purchase"], "2024-01-02 09:00:00");
}

#[test]
fn unusable_inputs_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<(PathBuf, ErrorKind, &str)> = vec![
        (write(&dir, "empty.csv", ""), ErrorKind::Data, "no data rows"),
        (
            write(&dir, "header.csv", "customer,date,amount\n"),
            ErrorKind::Data,
            "no data rows",
        ),
        (
            write(&dir, "cols.csv", "who,when,amount\n1,2024-01-01,3\n"),
            ErrorKind::Data,
            "no customer id column",
        ),
        (
            write(&dir, "book.xlsx", "PK\u{3}\u{4}rest"),
            ErrorKind::Data,
            "Excel",
        ),
        (
            write(&dir, "fake.parquet", "customer,date,amount\n"),
            ErrorKind::Data,
            "not a Parquet file",
        ),
        (dir.path().join("missing.csv"), ErrorKind::Io, "missing.csv"),
    ];
    for (path, kind, text) in cases {
        let err = ingest::scan(&path, &IngestOptions::default()).unwrap_err();
        assert_eq!(err.kind(), kind, "{}: {err}", path.display());
        assert!(err.to_string().contains(text), "{}: {err}", path.display());
        assert!(
            err.to_string()
                .contains(path.file_name().unwrap().to_str().unwrap()),
            "{err}"
        );
    }
    // Every row rejected: a data error that reconciles the rows.
    let path = write(
        &dir,
        "allbad.csv",
        "customer,date,amount\n,2024-01-01,3\n1,nope,3\n",
    );
    let tx = ingest::scan(&path, &IngestOptions::default());
    let err = match tx {
        Ok(tx) => customers::aggregate(&tx, &RowPolicy::default()).unwrap_err(),
        Err(e) => e,
    };
    assert!(
        matches!(err, Error::NoCustomers { .. } | Error::TimeFormat { .. }),
        "{err}"
    );
}
