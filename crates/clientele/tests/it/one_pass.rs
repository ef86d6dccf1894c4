//! One read of the input (`customers::aggregate_with`): what the pass collects equals what the
//! separate reads give (the rejected rows query, `clv::summary::summarize`), and the two CSV
//! readers (`--reader auto` and `--reader polars`) give the same customer table,
//! reconciliation, rejected rows, data-quality statistics and BTYD summary, on the real
//! datasets and on a generated Parquet log.

use std::io::Read as _;
use std::path::Path;

use chrono::NaiveDate;
use clientele::clv::summary::{self, BtydSummary};
use clientele::clv::{ClvParams, ClvValidParams, Period};
use clientele::cohorts::{self, CohortPeriod};
use clientele::customers::{self, Collect, Pass};
use clientele::ingest::{self, CsvReaderChoice, IngestOptions, RejectedRows, Transactions};
use clientele::output::{OutputFormat, write_frame_to};
use clientele::polars::prelude::*;
use clientele::quality;
use clientele::rows::{AsOf, ReturnsPolicy, RowPolicy};

use crate::support::datasets;

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// Everything one reader made of an input under one policy and one summary request.
struct Read {
    pass: Pass,
    summary: BtydSummary,
    quality: String,
}

/// The pass, checked against the separate reads it replaces (cohorts by a period that
/// changes with the case).
fn read(tx: &Transactions, policy: &RowPolicy, params: &ClvValidParams) -> Read {
    let period = match (policy.returns, params.calibration_end()) {
        (ReturnsPolicy::Exclude, _) => CohortPeriod::Week,
        (ReturnsPolicy::Net, Some(_)) => CohortPeriod::Month,
        (ReturnsPolicy::Net, None) => CohortPeriod::Quarter,
    };
    let collect = Collect {
        periods: Some(summary::period_request(params)),
        rejects: true,
        cohorts: Some(period),
        quality: true,
        only_columns: None,
    };
    let pass = customers::aggregate_with(tx, policy, &collect).unwrap();
    let alone = customers::aggregate(tx, policy).unwrap();
    assert!(
        pass.table.frame.equals_missing(&alone.frame),
        "{}",
        tx.source_name()
    );
    assert_eq!(pass.table.reconciliation, alone.reconciliation);
    let rejects = pass.rejects.as_ref().expect("asked for").to_frame().unwrap();
    let query = tx.rejected_rows(policy).unwrap().collect().unwrap();
    assert!(
        rejects.equals_missing(&query),
        "{}: rejects of the pass\n{rejects}\nof the query\n{query}",
        tx.source_name()
    );
    assert_eq!(rejects.schema(), query.schema());
    assert_eq!(rejects.height() as u64, pass.table.reconciliation.rejected_rows());
    let retention = pass.cohorts.as_ref().expect("asked for");
    assert_eq!(
        retention,
        &cohorts::compute(tx, policy, period).unwrap(),
        "{}: cohorts by {period:?}",
        tx.source_name()
    );
    let periods = pass.periods.as_ref().expect("asked for");
    let summary = summary::from_periods(tx.source_name(), periods, params).unwrap();
    same_summary(
        &summary,
        &summary::summarize(tx, params).unwrap(),
        tx.source_name(),
    );
    // The data-quality statistics: from the pass (`assess` reads once) as from the queries.
    let quality = quality::assess(tx, policy).unwrap().to_json();
    let by_queries = quality::assess_by_queries(tx, policy).unwrap();
    assert_eq!(quality, by_queries.to_json(), "{}: quality", tx.source_name());
    let stats = pass.quality.as_ref().expect("asked for");
    assert_eq!(
        (
            stats.duplicate_rows,
            stats.distinct_customer_ids,
            stats.distinct_orders
        ),
        (
            by_queries.duplicate_rows,
            by_queries.distinct_customer_ids,
            by_queries.distinct_orders
        ),
        "{}",
        tx.source_name()
    );
    Read {
        pass,
        summary,
        quality,
    }
}

fn same_summary(a: &BtydSummary, b: &BtydSummary, what: &str) {
    assert!(
        a.frame.equals_missing(&b.frame),
        "{what}\n{}\n{}",
        a.frame,
        b.frame
    );
    assert_eq!(a.frame.schema(), b.frame.schema(), "{what}");
    assert_eq!(a.calibration_end, b.calibration_end, "{what}");
    assert_eq!(a.holdout_end, b.holdout_end, "{what}");
    assert_eq!(
        a.first_purchase_after_calibration, b.first_purchase_after_calibration,
        "{what}"
    );
    assert_eq!(a.reconciliation, b.reconciliation, "{what}");
}

/// Both readers on a CSV file, under several policies and summaries: the pass equals the
/// separate reads for each, and the readers agree on everything.
fn readers_agree(path: &Path, options: &IngestOptions, cases: &[(RowPolicy, ClvValidParams)]) {
    let scan = |reader| {
        let mut options = options.clone();
        options.csv.reader = reader;
        ingest::scan(path, &options).unwrap()
    };
    let (own, polars) = (scan(CsvReaderChoice::Auto), scan(CsvReaderChoice::Polars));
    assert!(own.uses_plain_csv_reader(), "{} is plain CSV", path.display());
    assert!(!polars.uses_plain_csv_reader());
    for (policy, params) in cases {
        let (a, b) = (read(&own, policy, params), read(&polars, policy, params));
        let what = format!("{} under {policy:?}", path.display());
        assert!(a.pass.table.frame.equals_missing(&b.pass.table.frame), "{what}");
        assert_eq!(a.pass.table.reconciliation, b.pass.table.reconciliation, "{what}");
        assert_eq!(a.pass.table.as_of, b.pass.table.as_of, "{what}");
        let (ra, rb) = (a.pass.rejects.unwrap(), b.pass.rejects.unwrap());
        // The plain reader keeps most rejected rows as lines: their CSV is what the frame's is.
        let csv = |rows: &RejectedRows| {
            let mut bytes = Vec::new();
            rows.write_csv(&mut bytes).unwrap();
            bytes
        };
        let frame_csv = |rows: &RejectedRows| {
            let mut bytes = Vec::new();
            write_frame_to(&rows.to_frame().unwrap(), &mut bytes, OutputFormat::Csv).unwrap();
            bytes
        };
        assert_eq!(csv(&ra), frame_csv(&ra), "{what}: CSV of the rejected lines");
        assert_eq!(csv(&ra), csv(&rb), "{what}: CSV of the rejects");
        let (ra, rb) = (ra.to_frame().unwrap(), rb.to_frame().unwrap());
        assert!(ra.equals_missing(&rb), "{what}: rejects\n{ra}\n{rb}");
        same_summary(&a.summary, &b.summary, &what);
        assert_eq!(a.quality, b.quality, "{what}: quality");
    }
}

fn cases(
    calibration_end: NaiveDate,
    holdout_end: NaiveDate,
    as_of: NaiveDate,
) -> Vec<(RowPolicy, ClvValidParams)> {
    let net = RowPolicy::default();
    // An earlier as-of date and excluded returns: rows the table does not use, the summary
    // does (up to its own last day).
    let earlier = RowPolicy {
        as_of: AsOf::Date(as_of),
        returns: ReturnsPolicy::Exclude,
    };
    vec![
        (
            net,
            ClvParams::new().calibration_end(calibration_end).check().unwrap(),
        ),
        (
            earlier,
            ClvParams::new()
                .calibration_end(calibration_end)
                .holdout_end(holdout_end)
                .period(Period::Week)
                .check()
                .unwrap(),
        ),
        (net, ClvParams::new().check().unwrap()),
    ]
}

#[test]
fn online_retail_in_one_pass_by_both_readers() {
    let Some(datasets) = datasets() else { return };
    let mut text = Vec::new();
    flate2::read::GzDecoder::new(
        std::fs::File::open(datasets.join("online_retail/online_retail.csv.gz")).unwrap(),
    )
    .read_to_end(&mut text)
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("online_retail.csv");
    std::fs::write(&path, text).unwrap();
    // Two cases: each runs every read twice per reader (a few minutes in a debug build).
    let cases = cases(date(2011, 9, 30), date(2011, 12, 9), date(2011, 6, 30));
    readers_agree(&path, &IngestOptions::default(), &cases[..2]);
}

#[test]
fn generated_csv_with_odd_rows_in_one_pass_by_both_readers() {
    // Rejected rows of several reasons, text and integer ids, returns, a late row.
    let content = "customer_id,order_id,order_date,amount,note\n\
        1,10,2024-01-05 10:00:00,10.50,plain\n\
        1,11,2024-01-12 10:00:00,-2.25,\"a return, netted\"\n\
        2,12,2024-01-06 11:30:00,7,\n\
        2,13,2024-02-07 09:00:00.250,7,fractional seconds\n\
        ,14,2024-01-08 12:00:00,5,missing customer\n\
        3,15,not a date,5,unparsable\n\
        3,16,2024-01-09 12:00:00,abc,bad amount\n\
        4,,2024-01-10 12:00:00,5,missing order\n\
        C5,17,2024-03-01 08:00:00,12.345678,text id\n\
        5,18,2024-03-09 08:00:00,4,late\n\
        6,19,2024-01-02 08:00:00,-8,returns only\n";
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log.csv");
    std::fs::write(&path, content).unwrap();
    let cases = cases(date(2024, 2, 15), date(2024, 3, 31), date(2024, 2, 1));
    readers_agree(&path, &IngestOptions::default(), &cases);
}

/// Rows rejected for their customer id alone, with every kind of other field: the plain reader
/// keeps them as lines and writes most of them as read; quoted fields, fields the formula guard
/// escapes, carriage returns and other separators take the field-by-field path.
fn rejected_lines(separator: char, line_end: &str) -> String {
    let rows = [
        "customer_id,order_id,order_date,amount,note",
        "1,10,2024-01-05 10:00:00,10.50,plain",
        ",11,2024-01-05 10:00:00,10.50,as read",
        ",12,2024-01-05 10:00:00,-3,a return",
        ",13,2024-01-05 10:00:00,=1+1,formula",
        ",14,2024-01-05 10:00:00,4,'apostrophe",
        ",15,2024-01-05 10:00:00,4,\"quoted, with a comma\"",
        ",16,2024-01-05 10:00:00,4,\"say \"\"hi\"\"\"",
        ",17,2024-01-05 10:00:00,4,\"two\nlines\"",
        ",18,2024-01-05 10:00:00,4,\"a \r inside\"",
        ",19,2024-01-05 10:00:00,4,\"plain but quoted\"",
        ",20,2024-01-05 10:00:00,4,@mention",
        ",,,,",
        "12.5,21,2024-01-05 10:00:00,4,a fractional id",
        "\"\",22,2024-01-05 10:00:00,4,quoted blank id",
        "2,23,2024-01-06 10:00:00,5,used",
        ",24,2024-01-07 10:00:00,6,ünïcode ☃ last",
    ];
    let text: Vec<String> = rows
        .iter()
        .map(|row| match separator {
            ',' => row.to_string(),
            // Commas outside quotes become the separator; quoted text keeps its commas.
            other => {
                let mut inside = false;
                row.chars()
                    .map(|c| {
                        inside ^= c == '"';
                        if c == ',' && !inside { other } else { c }
                    })
                    .collect()
            }
        })
        .collect();
    // The last line has no line end.
    text.join(line_end)
}

#[test]
fn rejected_lines_of_every_shape_by_both_readers() {
    let dir = tempfile::tempdir().unwrap();
    let cases = cases(date(2024, 1, 6), date(2024, 1, 31), date(2024, 1, 5));
    for (separator, line_end) in [(',', "\n"), (',', "\r\n"), (';', "\n")] {
        let path = dir.path().join("log.csv");
        std::fs::write(&path, rejected_lines(separator, line_end)).unwrap();
        let own = ingest::scan(&path, &IngestOptions::default()).unwrap();
        let pass = read(&own, &cases[0].0, &cases[0].1).pass;
        assert_eq!(pass.rejects.unwrap().height(), 14, "{separator:?} {line_end:?}");
        readers_agree(&path, &IngestOptions::default(), &cases[..1]);
    }
}

/// [`cases`] for a log: calibration 120 days before its last purchase, holdout up to it, the
/// earlier as-of date 30 days before the calibration's end.
fn cases_at_the_end(tx: &Transactions) -> Vec<(RowPolicy, ClvValidParams)> {
    let last = customers::aggregate(tx, &RowPolicy::default())
        .unwrap()
        .date_range
        .unwrap()
        .1;
    let calibration = last - chrono::Duration::days(120);
    cases(calibration, last, calibration - chrono::Duration::days(30))
}

#[test]
fn parquet_in_one_pass() {
    use clientele::generate::{GenerateParams, generate_frame};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log.parquet");
    let mut log = generate_frame(&GenerateParams::new(2_000, 40_000).seed(5).check().unwrap()).unwrap();
    ParquetWriter::new(std::fs::File::create(&path).unwrap())
        .with_row_group_size(Some(5_000))
        .finish(&mut log)
        .unwrap();
    let tx = ingest::scan(&path, &IngestOptions::default()).unwrap();
    for (policy, params) in cases_at_the_end(&tx) {
        read(&tx, &policy, &params);
    }
}

/// A plain CSV log of `rows` rows, larger than the head whose structure is checked when the
/// file is opened (so that the rest is checked by the plain reader as it reads).
fn long_log(rows: usize, header: &str) -> String {
    let mut text = format!("{header}\n");
    for i in 0..rows {
        let day = 1 + i % 28;
        text.push_str(&format!(
            "c{},{},2024-0{}-{day:02} 10:00:00,{}.25,a note to make the line longer\n",
            i % 700,
            i / 2,
            1 + i % 6,
            i % 90
        ));
    }
    text
}

#[test]
fn records_that_are_not_rows_after_the_checked_head_are_found() {
    let header = "customer_id,order_id,order_date,amount,note";
    let mut text = long_log(30_000, header).into_bytes();
    assert!(text.len() > 1 << 20, "longer than the checked head");
    // After the first 25,000 rows: a stray quote, one field too many, bytes that are not UTF-8.
    let at = |text: &[u8], row: usize| {
        let mut lines = 0;
        text.iter().position(|b| {
            lines += usize::from(*b == b'\n');
            lines == row + 1
        })
    };
    let cut = at(&text, 25_000).unwrap() + 1;
    let odd: &[u8] = b"c1,90001,2024-02-03 10:00:00,5,a 5\" screen\n\
        c2,90002,2024-02-03 10:00:00,5,note,extra\n\
        c3,90003,2024-02-03 10:00:00,5,caf\xe9\n";
    text.splice(cut..cut, odd.iter().copied());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log.csv");
    std::fs::write(&path, &text).unwrap();
    let cases = cases(date(2024, 4, 30), date(2024, 6, 28), date(2024, 3, 31));
    readers_agree(&path, &IngestOptions::default(), &cases[..2]);
    let tx = ingest::scan(&path, &IngestOptions::default()).unwrap();
    let table = customers::aggregate(&tx, &RowPolicy::default()).unwrap();
    assert_eq!(tx.unreadable_rows().unwrap(), 3);
    assert_eq!(table.reconciliation.rejected_rows(), 3);
    assert!(!tx.uses_plain_csv_reader(), "checked: polars reads it");
}

/// The error of reading `paths` as one input with `reader` (it must fail).
fn read_error(paths: &[std::path::PathBuf], reader: CsvReaderChoice) -> String {
    let options = IngestOptions {
        csv: ingest::CsvOptions {
            reader,
            ..Default::default()
        },
        ..Default::default()
    };
    let tx = ingest::scan_many(paths, &options);
    match tx.and_then(|tx| customers::aggregate(&tx, &RowPolicy::default())) {
        Ok(_) => panic!("{paths:?} read"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_file_with_another_header_after_a_checked_head_is_refused_as_before() {
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("a.csv");
    let second = dir.path().join("b.csv");
    std::fs::write(
        &first,
        long_log(30_000, "customer_id,order_id,order_date,amount,note"),
    )
    .unwrap();
    std::fs::write(
        &second,
        long_log(10, "order_id,customer_id,order_date,amount,note"),
    )
    .unwrap();
    let paths = [first, second];
    let own = read_error(&paths, CsvReaderChoice::Auto);
    assert!(own.contains("differs from that of"), "{own}");
    assert_eq!(own, read_error(&paths, CsvReaderChoice::Polars));
}

#[test]
fn a_quote_that_never_closes_after_the_checked_head_is_named_as_before() {
    let mut text = long_log(30_000, "customer_id,order_id,order_date,amount,note");
    text.push_str("c9,99999,2024-02-03 10:00:00,5,\"opens and never closes\nc9,1,2024-02-03,5,x\n");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log.csv");
    std::fs::write(&path, text).unwrap();
    let paths = [path];
    let own = read_error(&paths, CsvReaderChoice::Auto);
    assert!(own.contains("line 30002"), "{own}");
    assert_eq!(own, read_error(&paths, CsvReaderChoice::Polars));
}

#[test]
fn parquet_readers_agree_with_rows_dropped_in_every_batch() {
    // clientele's typed reader classifies each of polars' batches (about 100k rows) in ranges
    // in parallel, each range writing its kept rows at the start of its part of a buffer kept
    // from batch to batch; rows rejected and excluded all through the log make every range
    // keep fewer rows than it has, so the ranges' rows are moved together.
    use clientele::generate::{GenerateParams, generate_frame};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("odd.parquet");
    let log = generate_frame(&GenerateParams::new(20_000, 400_000).seed(9).check().unwrap()).unwrap();
    let every = |n: u32, at: u32| (col("__row") % lit(n)).eq(lit(at));
    let mut log = log
        .lazy()
        .with_row_index("__row", None)
        .with_columns([
            when(every(97, 3))
                .then(lit(NULL))
                .otherwise(col("customer_id"))
                .alias("customer_id"),
            when(every(89, 5))
                .then(lit(f64::NAN))
                .when(every(83, 7))
                .then(lit(NULL))
                .otherwise(col("amount"))
                .alias("amount"),
        ])
        .drop(by_name(["__row"], true, false))
        .collect()
        .unwrap();
    ParquetWriter::new(std::fs::File::create(&path).unwrap())
        .with_row_group_size(Some(250_000))
        .finish(&mut log)
        .unwrap();
    let scan = |reader| {
        let mut options = IngestOptions::default();
        options.csv.reader = reader;
        ingest::scan(&path, &options).unwrap()
    };
    let (own, polars) = (scan(CsvReaderChoice::Auto), scan(CsvReaderChoice::Polars));
    for (policy, params) in cases_at_the_end(&own) {
        let collect = Collect {
            periods: Some(summary::period_request(&params)),
            rejects: true,
            cohorts: None,
            quality: false,
            only_columns: None,
        };
        let (a, b) = (
            customers::aggregate_with(&own, &policy, &collect).unwrap(),
            customers::aggregate_with(&polars, &policy, &collect).unwrap(),
        );
        let what = format!("under {policy:?}");
        let reconciliation = &a.table.reconciliation;
        assert!(
            reconciliation.rejected_rows() > 10_000,
            "{what}: {reconciliation:?}"
        );
        assert!(a.table.frame.equals_missing(&b.table.frame), "{what}");
        assert_eq!(a.table.reconciliation, b.table.reconciliation, "{what}");
        let rejects = |pass: &Pass| pass.rejects.as_ref().unwrap().to_frame().unwrap();
        assert!(rejects(&a).equals_missing(&rejects(&b)), "{what}: rejects");
        let summary =
            |pass: &Pass| summary::from_periods("odd", pass.periods.as_ref().unwrap(), &params).unwrap();
        same_summary(&summary(&a), &summary(&b), &what);
    }
}
