//! Opening an input: files (one or several, by path, directory or glob) or a polars frame,
//! into [`Transactions`] with the columns resolved, their types checked and the timestamp
//! format settled.

use std::path::{Path, PathBuf};

use polars::prelude::*;

use std::sync::Arc;

use super::reading::{PendingCheck, Reading};
use super::source::{self, CsvReaderChoice, InputFiles, InputFormat};
use super::{IngestOptions, TimeParsing, TimeResolution, Transactions, empty_input, read_error};
use crate::error::{Error, Result};

/// Scans a CSV or Parquet input: a file, a directory of files, or a glob.
///
/// Nothing but the header and the first rows (a sample of the timestamp column, to detect its
/// format; for a plain CSV file, the check of its head's structure) is read here; the rows are
/// read when a job collects.
///
/// # Errors
///
/// I/O errors, [`Error::EmptyInput`], [`Error::UnsupportedInput`] for unreadable file types,
/// and the column errors of [`crate::columns::Columns::resolve`].
pub fn scan(path: impl AsRef<Path>, options: &IngestOptions) -> Result<Transactions> {
    let input = source::resolve_input(path.as_ref(), options.format)?;
    let scanned = source::scan_files(&input, &options.csv)?;
    Transactions::from_scan(input, scanned, options)
}

/// Scans several inputs (files, directories or globs) as one: all must have one format and,
/// for the columns the job uses, one layout. The source is named by the inputs, joined by
/// `", "`.
///
/// # Errors
///
/// As [`scan`]; [`Error::UnsupportedInput`] when the inputs mix formats or `paths` is empty.
pub fn scan_many(paths: &[PathBuf], options: &IngestOptions) -> Result<Transactions> {
    let input = input_files(paths, options)?;
    let scanned = source::scan_files(&input, &options.csv)?;
    Transactions::from_scan(input, scanned, options)
}

/// The files behind several inputs, sorted within each input and in the order given.
///
/// # Errors
///
/// As [`scan_many`].
pub fn input_files(paths: &[PathBuf], options: &IngestOptions) -> Result<InputFiles> {
    let mut all: Option<InputFiles> = None;
    for path in paths {
        let next = source::resolve_input(path, options.format)?;
        all = Some(match all {
            None => next,
            Some(mut acc) => {
                if acc.format != next.format {
                    return Err(Error::UnsupportedInput {
                        source_name: next.name,
                        detail: format!(
                            "is {:?} but {} is {:?}: inputs must have one format",
                            next.format, acc.name, acc.format
                        ),
                    });
                }
                if let Some(twice) = next.files.iter().find(|f| acc.files.contains(f)) {
                    return Err(Error::UnsupportedInput {
                        source_name: next.name,
                        detail: format!("names {} again: each file may be read once", twice.display()),
                    });
                }
                acc.name = format!("{}, {}", acc.name, next.name);
                acc.files.extend(next.files);
                acc
            }
        });
    }
    all.ok_or_else(|| Error::UnsupportedInput {
        source_name: "input".into(),
        detail: "no input named".into(),
    })
}

/// Wraps an in-memory or lazy polars frame as transactions.
///
/// ```
/// use clientele::ingest::{self, IngestOptions};
/// use clientele::polars::prelude::*;
///
/// let orders = df!(
///     "customer_id" => ["a", "a", "b"],
///     "date" => ["2024-01-05", "2024-02-01", "2024-01-20"],
///     "amount" => [10.0, 5.5, 7.25],
/// )?;
/// let tx = ingest::from_frame("orders", orders.lazy(), &IngestOptions::default())?;
/// assert_eq!(tx.columns().time, "date");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// As [`scan`], except for file errors.
pub fn from_frame(name: &str, frame: LazyFrame, options: &IngestOptions) -> Result<Transactions> {
    Transactions::new(name.to_string(), Reading::of_frame(frame), None, options)
}

impl Transactions {
    fn new(
        source_name: String,
        mut reading: Reading,
        pending: Option<Arc<PendingCheck>>,
        options: &IngestOptions,
    ) -> Result<Self> {
        let schema = reading
            .raw
            .collect_schema()
            .map_err(|e| read_error(&source_name, "the header", e))?;
        let names: Vec<&str> = schema.iter_names().map(|n| n.as_str()).collect();
        crate::columns::check_unique_names(&source_name, &names)?;
        let columns = options.columns.resolve(&source_name, &names)?;
        let first_row = reading
            .raw
            .clone()
            .limit(1)
            .collect()
            .map_err(|e| read_error(&source_name, "the first row", e))?;
        if first_row.height() == 0 {
            return Err(empty_input(&source_name));
        }
        let mut tx = Transactions {
            source_name,
            reading,
            pending,
            schema,
            columns,
            time: TimeParsing {
                format: None,
                detected: false,
                resolution: TimeResolution::DateTime,
            },
            decimal: options.csv.decimal,
            checks: Vec::new(),
            format: None,
            own_readers: options.csv.reader == CsvReaderChoice::Auto,
            parquet_files: Vec::new(),
        };
        tx.check_types()?;
        tx.time = tx.settle_time_format(options.time_format.as_deref())?;
        Ok(tx)
    }

    fn from_scan(input: InputFiles, scanned: source::Scanned, options: &IngestOptions) -> Result<Self> {
        let pending = scanned
            .unchecked
            .clone()
            .map(|unchecked| Arc::new(PendingCheck::new(unchecked)));
        let reading = Reading::of_scan(scanned, &input.files);
        let mut tx = Transactions::new(input.name.clone(), reading, pending, options)?;
        tx.format = Some(input.format);
        if input.format == InputFormat::Parquet {
            tx.parquet_files = input.files.clone();
        }
        Ok(tx)
    }
}
