//! The rejected rows of a read, as [`Transactions::rejected_rows`] has them: a frame, or, from
//! the plain CSV reader, the rejected lines as they were read.
//!
//! Most rejected rows of a CSV log are rejected for their customer id alone (a blank id in
//! a quarter of Online Retail's rows). The plain CSV reader keeps those lines' bytes instead of
//! building a frame of their fields: the rejects file is written from the lines (most of them
//! copied as they are, see `plain_csv/rejects.rs`), and a frame is built only when one is asked
//! for ([`RejectedRows::to_frame`]: another file format, a report's examples, the Python API).
//! Either way the frame and the CSV bytes are the same as those of the frame polars builds.
//!
//! [`Transactions::rejected_rows`]: crate::ingest::Transactions::rejected_rows

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use polars::prelude::*;
use rayon::prelude::*;

use super::plain_csv::RejectedLines;
use crate::error::{Error, PolarsContext, Result};
use crate::output::{self, OutputFormat, StagedFile};

/// Rejected input rows with their reason, in input order: `reject_row` (1-based data row),
/// `reject_reason`, `reject_column`, `reject_value`, then every input column as read.
#[derive(Debug, Clone)]
pub struct RejectedRows {
    rows: Rows,
}

#[derive(Debug, Clone)]
enum Rows {
    Frame(DataFrame),
    /// Blocks of lines in input order, with the columns every line has.
    Lines {
        blocks: Arc<Vec<RejectedLines>>,
        columns: Arc<Vec<String>>,
    },
}

impl From<DataFrame> for RejectedRows {
    fn from(frame: DataFrame) -> Self {
        RejectedRows {
            rows: Rows::Frame(frame),
        }
    }
}

/// The names of the columns a rejected row has before the input's columns.
pub(crate) const REJECT_COLUMNS: [&str; 4] = ["reject_row", "reject_reason", "reject_column", "reject_value"];

impl RejectedRows {
    /// Rejected lines of the plain CSV reader, in input order, whose input columns are
    /// `columns`.
    pub(crate) fn from_lines(blocks: Vec<RejectedLines>, columns: Vec<String>) -> Self {
        assert!(!blocks.is_empty(), "rejected lines come in at least one block");
        RejectedRows {
            rows: Rows::Lines {
                blocks: Arc::new(blocks),
                columns: Arc::new(columns),
            },
        }
    }

    /// How many rows were rejected.
    pub fn height(&self) -> usize {
        match &self.rows {
            Rows::Frame(frame) => frame.height(),
            Rows::Lines { blocks, .. } => blocks.iter().map(RejectedLines::len).sum(),
        }
    }

    /// The rejected rows as a frame.
    ///
    /// # Errors
    ///
    /// [`Error::Polars`] when the frame cannot be built.
    pub fn to_frame(&self) -> Result<DataFrame> {
        let (blocks, columns) = match &self.rows {
            Rows::Frame(frame) => return Ok(frame.clone()),
            Rows::Lines { blocks, columns } => (blocks, columns),
        };
        let frames = blocks
            .par_iter()
            .map(|block| block.frame(columns))
            .collect::<PolarsResult<Vec<_>>>()
            .context(|| "collecting rejected rows".into())?;
        let mut frames = frames.into_iter();
        let mut all = frames.next().expect("rejected lines come in at least one block");
        for frame in frames {
            all.vstack_mut_owned(frame)
                .context(|| "collecting rejected rows".into())?;
        }
        Ok(all)
    }

    /// Writes the rejected rows as CSV, byte for byte what [`output::write_frame_to`] writes
    /// for [`RejectedRows::to_frame`].
    ///
    /// # Errors
    ///
    /// [`Error::Polars`] when encoding or writing fails.
    pub fn write_csv(&self, mut writer: impl Write) -> Result<()> {
        let (blocks, columns) = match &self.rows {
            Rows::Frame(frame) => return output::write_frame_to(frame, writer, OutputFormat::Csv),
            Rows::Lines { blocks, columns } => (blocks, columns),
        };
        let error = |e: std::io::Error| Error::Polars {
            context: "cannot write csv output".into(),
            error: e.into(),
        };
        let names = REJECT_COLUMNS
            .iter()
            .copied()
            .chain(columns.iter().map(String::as_str));
        writer.write_all(&output::csv_header(names)).map_err(error)?;
        output::write_in_order(&mut writer, blocks, RejectedLines::csv).map_err(error)?;
        writer.flush().map_err(error)
    }

    /// Writes the rejected rows to a temporary file for `path`, in `format`, to be committed
    /// with the other outputs.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] for file errors, [`Error::Polars`] when the rows cannot be encoded.
    pub fn stage(&self, path: &Path, format: OutputFormat) -> Result<StagedFile> {
        if format != OutputFormat::Csv {
            return output::stage_frame(&self.to_frame()?, path, format);
        }
        output::stage_written(path, |writer| self.write_csv(writer))
    }
}
