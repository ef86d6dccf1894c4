//! Integration tests of the `clientele` binary: real processes, real files.

mod browser;
mod cli;
mod clv_diagnostics;
mod cohorts;
mod corpus;
mod engines;
mod presets;
mod runs;
mod scaling;
mod settings;
mod support;
