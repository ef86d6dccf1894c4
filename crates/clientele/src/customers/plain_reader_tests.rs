//! clientele's own CSV reader (`ingest::plain_csv`) into the customer aggregation agrees with
//! polars' reader and group-by (the reference plan) on odd values, quotes, policies and real data.

use chrono::NaiveDate;

use crate::customers::accumulate::Accumulator;
use crate::ingest::DecimalSeparator;
use crate::ingest::plain_csv::{BLOCK_BYTES, Outcome, ReadOptions, accumulate};
use crate::rows::{ReturnsPolicy, RowPolicy};

/// Writes `content` as a CSV file, reads it with this reader (which must take it) and with
/// polars' reader and group-by (the reference plan): tables and row accounts must agree.
fn agrees_with_polars(content: &str, options: &crate::ingest::IngestOptions, policy: &RowPolicy) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log.csv");
    std::fs::write(&path, content).unwrap();
    let tx = crate::ingest::scan(&path, options).unwrap();
    match accumulate(&tx, policy, Accumulator::new(true), ReadOptions::default())
        .expect("a plain CSV qualifies")
        .unwrap()
    {
        Outcome::Done(..) => {}
        Outcome::NotPlain(why) => panic!("handed to polars: {why}"),
    }
    let fast = crate::customers::aggregate(&tx, policy).unwrap();
    let reference = crate::customers::aggregate_with_group_by(&tx, policy).unwrap();
    assert_eq!(fast.reconciliation, reference.reconciliation);
    assert_eq!(fast.as_of, reference.as_of);
    assert!(
        fast.frame.equals_missing(&reference.frame),
        "{}\n{}",
        fast.frame,
        reference.frame
    );
}

#[test]
fn odd_values_quotes_and_policies_come_out_as_polars_reads_them() {
    let content = "customer_id,order_id,order_date,amount,note\r\n\
        1,10,2024-01-05 10:00:00,10.50,plain\r\n\
        1,10,2024-01-05 10:00:00,2.25,\"second line, same order\"\r\n\
        \"2\",11,2024-01-06 11:30:00,-3.5,\"a \"\"quoted\"\" note\"\r\n\
        2,12,2024-01-07 09:00:00.250,7,fractional seconds go to polars\r\n\
        3,13,2024-01-08 12:00:00,1e3,exponent goes to polars\r\n\
        ,14,2024-01-08 12:00:00,5,missing customer\r\n\
        4,,2024-01-08 12:00:00,5,missing order\r\n\
        4,15,not a date,5,unparsable\r\n\
        4,16,2024-02-30 12:00:00,5,no such day\r\n\
        C5,17,2024-03-01 08:00:00,12.345678,text id\r\n\
        5,18,2024-03-09 08:00:00,4,after the as-of date\r\n\
        6,19,2024-01-09 08:00:00, 8 ,padded amount\r\n\
        6,20,2024-01-09 08:00:00,-8,a return\r\n";
    let options = crate::ingest::IngestOptions::default();
    for returns in [ReturnsPolicy::Net, ReturnsPolicy::Exclude] {
        let policy = RowPolicy {
            as_of: crate::rows::AsOf::Date(NaiveDate::from_ymd_opt(2024, 3, 5).unwrap()),
            returns,
        };
        agrees_with_polars(content, &options, &policy);
    }
    agrees_with_polars(content, &options, &RowPolicy::default());
}

#[test]
fn quantity_times_price_dates_decimal_commas_and_no_order_column() {
    let content = "kunde;datum;menge;preis\n\
        7;2024-01-05;2;3,5\n\
        7;2024-01-05;1;0,25\n\
        8;2024-01-07;-1;3,5\n\
        8;2024-01-09;3;1.5\n\
        9;2024-01-09;3;\n";
    let mut options = crate::ingest::IngestOptions::default();
    options.csv.decimal = DecimalSeparator::Comma;
    options.columns.customer = Some("kunde".into());
    options.columns.time = Some("datum".into());
    options.columns.quantity = Some("menge".into());
    options.columns.price = Some("preis".into());
    agrees_with_polars(content, &options, &RowPolicy::default());
}

#[test]
fn many_blocks_and_a_multi_line_quoted_field_read_like_polars() {
    let mut content = String::from("customer_id,order_id,order_date,amount,note\n");
    for i in 0..300_000u64 {
        let note = if i % 50_000 == 7 { "\"two\nlines\"" } else { "x" };
        content.push_str(&format!(
            "{},{},2024-{:02}-{:02} {:02}:{:02}:00,{}.{:02},{note}\n",
            i % 7919,
            i / 2,
            1 + i % 12,
            1 + i % 28,
            i % 24,
            i % 60,
            i % 500,
            i % 100
        ));
    }
    assert!(content.len() > 2 * BLOCK_BYTES);
    agrees_with_polars(
        &content,
        &crate::ingest::IngestOptions::default(),
        &RowPolicy::default(),
    );
}

#[test]
fn online_retail_as_plain_csv_reads_like_polars() {
    // Quoted descriptions with commas, text invoice numbers with C-prefixed cancellations,
    // quantity x unit price, 135,080 rows without a customer id (left to polars).
    let dir = std::env::var_os("CLIENTELE_DATASETS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/datasets"));
    let gz = dir.join("online_retail/online_retail.csv.gz");
    if !gz.is_file() {
        assert!(
            std::env::var("CI").is_err(),
            "{} is missing: set CLIENTELE_DATASETS (real-data tests never skip under CI=true)",
            gz.display()
        );
        eprintln!("skipping: {} not found", gz.display());
        return;
    }
    let mut text = String::new();
    std::io::Read::read_to_string(
        &mut flate2::read::GzDecoder::new(std::fs::File::open(&gz).unwrap()),
        &mut text,
    )
    .unwrap();
    let options = crate::ingest::IngestOptions::default();
    agrees_with_polars(&text, &options, &RowPolicy::default());
    let exclude = RowPolicy {
        returns: ReturnsPolicy::Exclude,
        ..RowPolicy::default()
    };
    agrees_with_polars(&text, &options, &exclude);
}

#[test]
fn ids_written_with_a_point_read_like_polars() {
    let content = "customer_id,order_id,order_date,amount\n\
        17850.0,10.0,2024-01-01 10:00:00,5.25\n\
        17850,10,2024-01-01 10:00:00,1.75\n\
        12.5,11,2024-01-02 10:00:00,3\n\
        13,12.5,2024-01-03 10:00:00,4\n\
        -4.0,14.00,2024-01-05 10:00:00,1\n";
    let options = crate::ingest::IngestOptions::default();
    agrees_with_polars(content, &options, &RowPolicy::default());
}

#[test]
fn ragged_lines_go_back_to_polars() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ragged.csv");
    std::fs::write(
        &path,
        "customer_id,order_date,amount\n1,2024-01-01,5\n2,2024-01-02\n",
    )
    .unwrap();
    let tx = crate::ingest::scan(&path, &crate::ingest::IngestOptions::default()).unwrap();
    match accumulate(
        &tx,
        &RowPolicy::default(),
        Accumulator::new(true),
        ReadOptions::default(),
    )
    .unwrap()
    .unwrap()
    {
        Outcome::NotPlain(why) => assert!(why.contains("fields"), "{why}"),
        Outcome::Done(..) => panic!("a ragged line was read"),
    }
}

#[test]
fn numbered_text_ids_come_out_as_polars_reads_them() {
    // Most ids have a numbering (`C` and 4 digits): ids of it are kept by their number, the
    // canonical integers beside them are not, and other widths and prefixes are text. Rows
    // with fractional seconds go to polars' path, through the same shards.
    let content = "customer_id,order_id,order_date,amount\n\
        C0005,O1,2024-01-05 10:00:00,10\n\
        5,O2,2024-01-05 11:00:00,20\n\
        C0005,O3,2024-01-06 10:00:00,1\n\
        C005,O4,2024-01-06 10:00:00,2\n\
        D0005,O5,2024-01-06 10:00:00,3\n\
        C9999,O6,2024-01-07 10:00:00.5,4\n\
        5,O7,2024-01-07 10:00:00.5,5\n\
        C0005,O8,2024-01-07 10:00:00.5,6\n\
        C0000,O9,2024-01-08 10:00:00,7\n\
        00005,O10,2024-01-08 10:00:00,8\n\
        -5,O11,2024-01-08 10:00:00,9\n\
        C0006,O12,2024-01-09 10:00:00,-1\n\
        C0007,O13,2024-01-09 11:00:00,2\n\
        C0008,O14,2024-01-09 12:00:00,3\n";
    let policy = RowPolicy {
        as_of: crate::rows::AsOf::Date(NaiveDate::from_ymd_opt(2024, 3, 5).unwrap()),
        returns: ReturnsPolicy::Net,
    };
    agrees_with_polars(content, &crate::ingest::IngestOptions::default(), &policy);
}
