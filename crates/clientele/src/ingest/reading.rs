//! How the rows of an input are read, and the check of a plain CSV input's structure that
//! reading once defers.
//!
//! A CSV input's structure (which records are rows, see `ingest/structure.rs`) must be known
//! before polars reads it: polars would misread a record that is not a row. For an input that
//! clientele's plain reader may read, checking it first would read the file twice, so only its
//! head is checked when it is opened (the rows polars reads then: the first row and the sample
//! of timestamps). The plain reader checks every record as it reads; when it reads the whole
//! input, the structure is known to be clean. When it does not (or when anything else reads
//! the rows through polars first), [`Transactions::reading`] checks the whole input, once, and
//! every later reader uses that result: the frame polars reads and the records that are not
//! rows are exactly those of an input checked when it was opened.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use polars::prelude::LazyFrame;

use super::Transactions;
use super::source::{DelimitedFiles, Scanned, Unchecked};
use super::structure::BadRecord;
use crate::error::Result;

/// The rows of an input as polars reads them, with what is known of their structure.
#[derive(Clone)]
pub(super) struct Reading {
    /// Every column, as read.
    pub raw: LazyFrame,
    /// The plain CSV files behind `raw`, for a reader of their own.
    pub delimited: Option<DelimitedFiles>,
    /// Records of a CSV input that are not rows (malformed, not UTF-8), sorted by row; `raw`
    /// holds a row of empty fields in the place of each. `None` when there are none.
    pub bad: Option<Arc<[BadRecord]>>,
}

impl Reading {
    /// The rows of a frame.
    pub(super) fn of_frame(raw: LazyFrame) -> Self {
        Reading {
            raw,
            delimited: None,
            bad: None,
        }
    }

    /// The rows of scanned files (the records that are not rows logged at debug level).
    pub(super) fn of_scan(scanned: Scanned, files: &[PathBuf]) -> Self {
        for record in &scanned.bad {
            log::debug!(
                "{}: line {}: row {} rejected ({}): {}",
                files[record.file].display(),
                record.line,
                record.row + 1,
                record.detail,
                record.value
            );
        }
        Reading {
            raw: scanned.lazy,
            delimited: scanned.delimited,
            bad: (!scanned.bad.is_empty()).then(|| scanned.bad.into()),
        }
    }
}

/// The check of a plain CSV input's structure beyond its head, and its result once made.
pub(super) struct PendingCheck {
    unchecked: Unchecked,
    checked: OnceLock<Reading>,
}

impl PendingCheck {
    pub(super) fn new(unchecked: Unchecked) -> Self {
        PendingCheck {
            unchecked,
            checked: OnceLock::new(),
        }
    }
}

impl Transactions {
    /// The reading as far as known: the checked one once the structure was checked, the one of
    /// the input as opened before.
    pub(super) fn current(&self) -> &Reading {
        self.pending
            .as_ref()
            .and_then(|pending| pending.checked.get())
            .unwrap_or(&self.reading)
    }

    /// The reading of every row: for a plain CSV input whose structure no reader has checked
    /// yet, checks it first (a read of the whole input).
    pub(super) fn reading(&self) -> Result<&Reading> {
        let Some(pending) = &self.pending else {
            return Ok(&self.reading);
        };
        if let Some(checked) = pending.checked.get() {
            return Ok(checked);
        }
        let files = pending.unchecked.files();
        log::debug!("{}: checking the structure of the whole input", self.source_name);
        let reading = Reading::of_scan(pending.unchecked.check()?, files);
        Ok(pending.checked.get_or_init(|| reading))
    }

    /// Records that the plain reader read every record of the input as a row: its structure
    /// is clean, and polars reads the files as opened.
    pub(crate) fn structure_is_clean(&self) {
        if let Some(pending) = &self.pending {
            // Set once: a concurrent check found the same.
            let _ = pending.checked.set(self.reading.clone());
        }
    }
}
