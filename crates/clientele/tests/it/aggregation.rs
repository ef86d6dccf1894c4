//! The streaming accumulator against the pure polars group-by plan: same tables, same rows.

use clientele::customers::{aggregate, aggregate_with_group_by};
use clientele::ingest::{self, IngestOptions};
use clientele::{ReturnsPolicy, RowPolicy};

use crate::support;

fn both_agree(path: std::path::PathBuf, options: &IngestOptions, policy: &RowPolicy) {
    let tx = ingest::scan(&path, options).unwrap();
    let streamed = aggregate(&tx, policy).unwrap();
    let grouped = aggregate_with_group_by(&tx, policy).unwrap();
    assert_eq!(
        streamed.reconciliation,
        grouped.reconciliation,
        "{}",
        path.display()
    );
    assert_eq!(streamed.as_of, grouped.as_of);
    assert!(
        streamed.frame.equals_missing(&grouped.frame),
        "{}: {} vs {}",
        path.display(),
        streamed.frame.head(Some(3)),
        grouped.frame.head(Some(3))
    );
}

#[test]
fn accumulator_matches_the_group_by_plan_on_real_data() {
    let Some(datasets) = support::datasets() else {
        return;
    };
    let net = RowPolicy::default();
    let exclude = RowPolicy {
        returns: ReturnsPolicy::Exclude,
        ..net
    };
    // Integer customers, text invoice numbers (with C-prefixed cancellations), returns netted.
    let retail = datasets.join("online_retail/online_retail.csv.gz");
    both_agree(retail.clone(), &IngestOptions::default(), &net);
    both_agree(retail, &IngestOptions::default(), &exclude);
    // Zero-padded text customer ids, no order column (purchase days).
    both_agree(
        datasets.join("cdnow/CDNOW_master.txt"),
        &IngestOptions::default(),
        &net,
    );
    // Names as customer ids.
    both_agree(
        datasets.join("rfm_r/rfm_data_orders.csv"),
        &IngestOptions::default(),
        &net,
    );
    let sample = crate::support::cdnow_options();
    both_agree(datasets.join("cdnow/CDNOW_sample.txt"), &sample, &net);
}

#[test]
fn accumulator_matches_on_long_text_orders_and_interleaved_lines() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("orders.csv");
    // Lines of one order interleaved with another order of the same customer, long order ids.
    let text = "customer,order,date,amount\n\
        a,order-0000000001,2024-01-01,5\n\
        a,order-0000000002,2024-01-01,6\n\
        a,order-0000000001,2024-01-01,7\n\
        a,order-0000000003,2024-01-02,-2\n\
        b,order-0000000004,2024-01-03,1\n\
        b,order-0000000004,2024-01-03,1\n";
    std::fs::write(&path, text).unwrap();
    both_agree(path.clone(), &IngestOptions::default(), &RowPolicy::default());
    let tx = ingest::scan(&path, &IngestOptions::default()).unwrap();
    let table = aggregate(&tx, &RowPolicy::default()).unwrap();
    let frequency: Vec<Option<i64>> = table
        .frame
        .column("frequency")
        .unwrap()
        .i64()
        .unwrap()
        .iter()
        .collect();
    assert_eq!(frequency, [Some(2), Some(1)]);
}
