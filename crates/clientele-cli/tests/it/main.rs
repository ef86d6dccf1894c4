//! Integration tests of the `clientele` binary: real processes, real files.

mod cli;
mod support;
