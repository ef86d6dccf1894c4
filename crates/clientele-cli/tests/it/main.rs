//! Integration tests of the `clientele` binary: real processes, real files.

mod browser;
mod cli;
mod cohorts;
mod corpus;
mod runs;
mod scaling;
mod settings;
mod support;
