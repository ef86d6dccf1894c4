//! Integration tests of the clientele library.

mod aggregation;
mod clusters;
mod clv;
mod ingest_edges;
mod properties;
mod real_data;
mod support;
mod values;
