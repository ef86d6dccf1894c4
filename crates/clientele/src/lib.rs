//! clientele: customer segmentation analytics over polars.
//!
//! clientele turns a transaction log (who bought, when, how much, in which order) into
//! customer value tiers: per-customer recency, frequency and monetary value; RFM scores and
//! named segments; ABC tiers by customer share or by revenue (Pareto).
//!
//! # Quick start
//!
//! ```
//! use clientele::ingest::{self, IngestOptions};
//! use clientele::polars::prelude::*;
//! use clientele::{AbcParams, ReturnsPolicy, RfmParams, Segmenter};
//!
//! // Any polars frame (or `ingest::scan("orders.csv", ..)` for CSV / Parquet files).
//! let orders = df!(
//!     "CustomerID" => [17850i64, 17850, 13047, 12583, 12583, 13748],
//!     "InvoiceNo" => ["536365", "536366", "536367", "536370", "C536379", "536371"],
//!     "InvoiceDate" => ["2010-12-01 08:26:00", "2010-12-01 08:28:00", "2010-12-01 08:34:00",
//!                       "2010-12-01 08:45:00", "2010-12-01 09:41:00", "2010-12-01 09:00:00"],
//!     "Quantity" => [6i64, 6, 12, 24, -1, 80],
//!     "UnitPrice" => [2.55, 1.85, 3.75, 3.75, 27.5, 2.55],
//! )?;
//! let tx = ingest::from_frame("orders", orders.lazy(), &IngestOptions::default())?;
//! let result = Segmenter::new()
//!     .returns(ReturnsPolicy::Exclude)
//!     .rfm(RfmParams::quintiles().check()?)
//!     .abc(AbcParams::by_customer_share([5.0, 15.0, 80.0]).check()?)
//!     .run(&tx)?;
//!
//! assert_eq!(result.frame.height(), 4); // one row per customer
//! let rows = &result.customers.reconciliation;
//! assert_eq!((rows.input_rows, rows.used_rows, rows.excluded_rows()), (6, 5, 1));
//! println!("{}", result.summary()?.to_markdown());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Modules
//!
//! - [`ingest`]: CSV / Parquet / frames → [`ingest::Transactions`], with column detection and
//!   row classification (used, excluded by a policy, rejected with a reason);
//! - [`customers`]: transactions → one row per customer, and the row reconciliation;
//! - [`rfm`]: scores 1..=N per measure and named segments from a rules table;
//! - [`abc`]: ABC tiers;
//! - [`Segmenter`]: all of the above in one call; [`summary`]: its summary; [`report`]: the
//!   summary as Markdown and HTML;
//! - [`quality`]: a data-quality report; [`generate`]: synthetic logs; [`output`]: atomic writers.
//!
//! The definitions (what recency, frequency and monetary mean, how ties score, how returns
//! count, which day is "as of") are in the repository's `docs/definitions.md`.
#![deny(missing_docs)]

pub mod abc;
pub mod cluster;
pub mod clv;
pub mod cohorts;
pub mod columns;
pub mod config;
pub mod customers;
pub mod error;
pub mod format;
mod frame;
pub mod generate;
pub mod ingest;
pub mod migration;
pub mod output;
pub mod presets;
pub mod quality;
mod ranking;
pub mod report;
pub mod rfm;
pub mod rows;
pub mod run;
pub mod segmenter;
pub mod settings;
pub mod sql;
pub mod summary;

pub use abc::{AbcBasis, AbcParams};
pub use columns::Columns;
pub use error::{Error, ErrorKind, ParamError, Result};
pub use output::OutputFormat;
pub use rfm::{Binning, RfmParams, SegmentRules};
pub use rows::{AsOf, ReturnsPolicy, RowPolicy, RowReconciliation, RowStatus};
pub use segmenter::{ClusterJob, InputKind, Segmentation, Segmenter};

/// The linfa version whose traits clientele's k-means implements ([`cluster::estimator`]).
pub use linfa;
/// The ndarray version of clientele's matrices (and linfa's).
pub use ndarray;
/// The polars version clientele's API speaks.
pub use polars;
