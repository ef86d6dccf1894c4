//! clientele: customer segmentation analytics over polars.
#![deny(missing_docs)]

pub mod columns;
pub mod customers;
pub mod error;
pub mod ingest;
pub mod rows;

pub use columns::Columns;
pub use error::{Error, ErrorKind, ParamError, Result};
pub use rows::{AsOf, ReturnsPolicy, RowPolicy, RowReconciliation, RowStatus};

pub use polars;
pub mod abc;
pub mod rfm;
