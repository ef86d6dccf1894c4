//! Integration tests of the clientele library.

mod aggregation;
mod clusters;
mod clv;
mod clv_models;
mod csv_readers;
mod csv_structure;
mod evaluation;
mod ingest_edges;
mod ingest_fuzz;
mod one_pass;
mod presets;
mod properties;
mod real_data;
mod row_rules;
mod support;
mod values;
