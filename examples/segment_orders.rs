//! Embedding clientele: segment a transaction file and use the result as a polars frame.
//!
//! ```text
//! cargo run -p clientele --example segment_orders -- datasets/sample_transactions.csv
//! ```

use clientele::ingest::{self, IngestOptions};
use clientele::polars::prelude::*;
use clientele::{AbcParams, ReturnsPolicy, RfmParams, Segmenter};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "datasets/sample_transactions.csv".into());

    // Nothing is read yet: the header and a sample of timestamps only.
    let tx = ingest::scan(&path, &IngestOptions::default())?;
    println!(
        "{}: customer id {:?}, timestamp {:?}, amount {}",
        tx.source_name(),
        tx.columns().customer,
        tx.columns().time,
        tx.columns().amount
    );

    let result = Segmenter::new()
        .returns(ReturnsPolicy::Exclude)
        .rfm(RfmParams::quintiles().check()?)
        .abc(AbcParams::by_revenue_share([80.0, 15.0, 5.0]).check()?)
        .run(&tx)?;
    println!("{}", result.customers.reconciliation.one_line());

    // The result is an ordinary polars frame: keep working with it lazily.
    let champions = result
        .frame
        .clone()
        .lazy()
        .filter(col("segment").eq(lit("Champions")))
        .sort(
            ["monetary"],
            SortMultipleOptions::default().with_order_descending(true),
        )
        .select([
            col("customer_id"),
            col("recency_days"),
            col("frequency"),
            col("monetary"),
        ])
        .limit(5)
        .collect()?;
    println!("top champions:\n{champions}");

    for class in &result.abc.summary {
        println!(
            "class {}: {} customers ({:.1} %), {:.1} % of revenue",
            class.class,
            class.customers,
            100.0 * class.customer_share,
            100.0 * class.revenue_share
        );
    }
    Ok(())
}
