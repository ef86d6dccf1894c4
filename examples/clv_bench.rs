//! Times clientele's BG/NBD and Gamma-Gamma fits on a BTYD summary (the output of
//! `clientele clv`), for `benches/compare/clv.sh`.
//!
//! ```text
//! clv_bench SUMMARY.parquet
//! ```
//!
//! Prints one JSON line: fit seconds and parameters of both models.

use std::time::Instant;

use clientele::clv::fit::FitReport;
use clientele::clv::{self, BtydSummary, ClvParams};
use clientele::polars::prelude::*;
use clientele::rows::RowReconciliation;

fn json(fit: &FitReport) -> String {
    let params: Vec<String> = fit
        .names
        .iter()
        .zip(&fit.params)
        .map(|(n, p)| format!("\"{n}\": {p}"))
        .collect();
    format!("{{{}}}", params.join(", "))
}

fn timing(fit: &FitReport) -> String {
    format!("{{\"iterations\": {}}}", fit.iterations)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: clv_bench SUMMARY.parquet")?;
    let frame = LazyFrame::scan_parquet(PlRefPath::new(&path), ScanArgsParquet::default())?
        .select([
            col("customer_id"),
            col("frequency"),
            col("recency"),
            col("T"),
            col("monetary_value"),
        ])
        .collect()?;
    let summary = BtydSummary {
        frame,
        calibration_end: chrono::NaiveDate::from_ymd_opt(2024, 6, 30).ok_or("date")?,
        holdout_end: None,
        first_purchase_after_calibration: 0,
        reconciliation: RowReconciliation::default(),
    };
    let params = ClvParams::new().check()?;
    let start = Instant::now();
    let model = clv::fit(&summary, &params)?;
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "{{\"tool\": \"clientele\", \"customers\": {}, \"fit_seconds\": {seconds:.3}, \"bgnbd\": {}, \"gamma_gamma\": {}, \
         \"bgnbd_fit\": {}, \"gamma_gamma_fit\": {}}}",
        summary.frame.height(),
        json(&model.transaction_fit),
        json(&model.spend_fit),
        timing(&model.transaction_fit),
        timing(&model.spend_fit)
    );
    Ok(())
}
