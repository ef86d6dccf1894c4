//! CSV inputs with a one-byte separator: their structure checked whole before polars reads
//! them, or only at the head when clientele's plain reader reads them (see
//! `ingest/reading.rs`).

use std::io::Read;
use std::path::PathBuf;

use polars::prelude::*;

use super::{
    CsvOptions, CsvReaderChoice, DelimitedFiles, Encoding, Header, InputFiles, Scanned, is_gzip, open_text,
    scan_csv,
};
use crate::error::{Error, PolarsContext, Result};
use crate::ingest::structure::{Dialect, Scanner};

/// Rows at the head of a plain CSV input that are checked before polars reads them (the first
/// row and the sample of timestamps, [`crate::ingest::time::HEAD_SAMPLE_ROWS`]), when the
/// structure of the rest is left to the plain reader.
const CHECKED_HEAD_ROWS: u64 = crate::ingest::time::HEAD_SAMPLE_ROWS as u64 + 1;
/// Bytes of the head read for that check; a file whose head rows do not fit is checked whole.
const CHECKED_HEAD_BYTES: u64 = 1 << 20;

/// A plain CSV input whose structure was checked at its head only (see [`scan_files`]).
#[derive(Debug, Clone)]
pub(crate) struct Unchecked {
    input: InputFiles,
    csv: CsvOptions,
    separator: u8,
}

impl Unchecked {
    /// The files behind the input.
    pub(crate) fn files(&self) -> &[PathBuf] {
        &self.input.files
    }

    /// Checks the structure of the whole input, as [`scan_files`] does for any input the plain
    /// reader does not read: a second read of the files, made only when polars must read them.
    pub(crate) fn check(&self) -> Result<Scanned> {
        check_delimited(&self.input, &self.csv, self.separator, false)
    }
}

/// A CSV input with a one-byte separator.
///
/// An uncompressed UTF-8 input that clientele's plain reader may read has only its head
/// checked here: the plain reader checks every record as it reads (and hands an input with a
/// record it does not read back to polars' path, which checks the structure first), so the
/// input is read once. Any other input is checked whole first, see [`check_delimited`].
pub(super) fn scan_delimited(input: &InputFiles, csv: &CsvOptions, separator: u8) -> Result<Scanned> {
    let dialect = Dialect {
        separator,
        quote: csv.quote,
    };
    let mut compressed = false;
    for file in &input.files {
        compressed |= is_gzip(file)?;
    }
    let plain = csv.encoding == Encoding::Utf8 && !compressed;
    if plain
        && csv.reader == CsvReaderChoice::Auto
        && head_is_clean(&input.files, dialect, csv.header == Header::Present)?
    {
        return Ok(Scanned {
            lazy: scan_csv(input, csv, separator)?,
            delimited: Some(plain_files(input, csv, separator)),
            bad: Vec::new(),
            unchecked: Some(Unchecked {
                input: input.clone(),
                csv: csv.clone(),
                separator,
            }),
        });
    }
    check_delimited(input, csv, separator, compressed)
}

fn plain_files(input: &InputFiles, csv: &CsvOptions, separator: u8) -> DelimitedFiles {
    DelimitedFiles {
        files: input.files.clone(),
        separator,
        quote: csv.quote,
        header: csv.header == Header::Present,
    }
}

/// Whether the first [`CHECKED_HEAD_ROWS`] rows of the first file are all rows (read from its
/// first [`CHECKED_HEAD_BYTES`]; a smaller file, or longer rows, say no: the input is then
/// checked whole), and the other files start with the same header (polars compares them when
/// it opens the files).
fn head_is_clean(files: &[PathBuf], dialect: Dialect, header: bool) -> Result<bool> {
    let mut scanner = Scanner::new(dialect, header, None);
    for (i, file) in files.iter().enumerate() {
        let limit = if i == 0 { CHECKED_HEAD_BYTES } else { 8 << 10 };
        let mut head = Vec::new();
        open_text(file)?
            .take(limit)
            .read_to_end(&mut head)
            .map_err(|e| Error::io("cannot read", file, e))?;
        let whole_lines = head.iter().rposition(|b| *b == b'\n');
        let end = match whole_lines {
            Some(end) if i > 0 || head.len() as u64 == limit => end + 1,
            _ if i > 0 => head.len(),
            _ => return Ok(false),
        };
        // A head cut inside a quoted field reads as a quote that never closes: checked whole.
        if scanner.scan(file, &head[..end]).is_err() {
            return Ok(false);
        }
        if i == 0 && scanner.rows() < CHECKED_HEAD_ROWS {
            return Ok(false);
        }
    }
    Ok(scanner.finish().bad.is_empty())
}

/// A CSV input with a one-byte separator, its structure checked first (one pass that counts
/// separators per line): polars scans the files themselves when every record is a row, and
/// otherwise (or when they must be transcoded or decompressed) reads a copy in memory with the
/// bad records replaced by rows of empty fields.
fn check_delimited(input: &InputFiles, csv: &CsvOptions, separator: u8, compressed: bool) -> Result<Scanned> {
    let dialect = Dialect {
        separator,
        quote: csv.quote,
    };
    let header = csv.header == Header::Present;
    // A compressed file is decompressed once, into the copy below: polars' scan would
    // decompress it again for every query over it.
    if csv.encoding == Encoding::Utf8 && !compressed {
        let mut scanner = Scanner::new(dialect, header, None);
        for file in &input.files {
            scanner.scan(file, open_text(file)?)?;
        }
        if scanner.finish().bad.is_empty() {
            let lazy = scan_csv(input, csv, separator)?;
            let delimited = (csv.reader == CsvReaderChoice::Auto).then(|| plain_files(input, csv, separator));
            return Ok(Scanned {
                lazy,
                delimited,
                bad: Vec::new(),
                unchecked: None,
            });
        }
    }
    let mut copy = Vec::new();
    let mut scanner = Scanner::new(dialect, header, Some(&mut copy));
    for file in &input.files {
        let mut bytes = Vec::new();
        open_text(file)?
            .read_to_end(&mut bytes)
            .map_err(|e| Error::io("cannot read", file, e))?;
        scanner.scan(file, &*csv.encoding.decode(&bytes))?;
    }
    let structure = scanner.finish();
    let frame = CsvReadOptions::default()
        .with_has_header(header)
        .with_infer_schema_length(Some(0))
        .with_raise_if_empty(true)
        .with_parse_options(
            CsvParseOptions::default()
                .with_separator(separator)
                .with_quote_char(csv.quote),
        )
        .into_reader_with_file_handle(std::io::Cursor::new(copy))
        .finish()
        .context(|| format!("cannot read {}", input.name))?;
    Ok(Scanned {
        lazy: frame.lazy(),
        delimited: None,
        bad: structure.bad,
        unchecked: None,
    })
}
