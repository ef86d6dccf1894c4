//! Finding the input files, telling their format, and scanning them lazily.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use polars::prelude::*;
use serde::Serialize;

use crate::error::{Error, PolarsContext, Result};

/// The file format of an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InputFormat {
    /// Delimited text, optionally gzip-compressed.
    Csv,
    /// Apache Parquet.
    Parquet,
}

/// How fields are separated in a CSV input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Delimiter {
    /// Sniffed from the first line: the most frequent of `,` `;` tab `|` outside quotes, or
    /// runs of whitespace when none of them occurs.
    #[default]
    Auto,
    /// One byte, e.g. `b';'`.
    Byte(u8),
    /// Runs of spaces or tabs, with leading and trailing whitespace ignored (as in CDNOW's
    /// files). Such files are read into memory; no quoting applies.
    Whitespace,
}

impl Delimiter {
    /// A delimiter as users write it: one character, `"tab"`, or `"whitespace"` (`"space"`);
    /// `None` for anything else.
    pub fn parse(text: &str) -> Option<Delimiter> {
        match text {
            "whitespace" | "space" => Some(Delimiter::Whitespace),
            "tab" | "\\t" | "\t" => Some(Delimiter::Byte(b'\t')),
            d if d.len() == 1 => Some(Delimiter::Byte(d.as_bytes()[0])),
            _ => None,
        }
    }
}

/// Whether the first line of a CSV input names the columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Header {
    /// The first line holds column names.
    #[default]
    Present,
    /// There is no header; columns are named `column_1`, `column_2`, ...
    Absent,
}

/// The decimal separator of numbers in a CSV input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DecimalSeparator {
    /// `12.50`
    #[default]
    Point,
    /// `12,50` (a value that also holds a point is rejected as unparsable).
    Comma,
}

/// Options for reading CSV inputs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CsvOptions {
    /// Field separator.
    pub delimiter: Delimiter,
    /// Whether there is a header line.
    pub header: Header,
    /// Quote character; `None` disables quoting.
    pub quote: Option<u8>,
    /// Decimal separator of amounts, quantities and prices.
    pub decimal: DecimalSeparator,
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions {
            delimiter: Delimiter::Auto,
            header: Header::Present,
            quote: Some(b'"'),
            decimal: DecimalSeparator::Point,
        }
    }
}

/// The input files of one job, all of one format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputFiles {
    /// The input as the user named it (path, directory or glob).
    pub name: String,
    /// Their format.
    pub format: InputFormat,
    /// The files, sorted by path.
    pub files: Vec<PathBuf>,
}

/// Expands a path, directory or glob into files and tells their format.
///
/// # Errors
///
/// [`Error::Io`] when a file cannot be found or read, [`Error::EmptyInput`] when a directory or
/// glob holds no input file, [`Error::UnsupportedInput`] when the files are of an unknown or
/// mixed type.
pub fn resolve_input(path: &Path, forced: Option<InputFormat>) -> Result<InputFiles> {
    let name = path.display().to_string();
    let files = expand(path, &name)?;
    let mut formats = Vec::with_capacity(files.len());
    for file in &files {
        formats.push(match forced {
            Some(format) => {
                check_content(file, format)?;
                format
            }
            None => detect_format(file)?,
        });
    }
    let format = formats[0];
    if let Some(other) = formats.iter().position(|f| *f != format) {
        return Err(Error::UnsupportedInput {
            source_name: name,
            detail: format!(
                "mixes file formats: {} is {:?} but {} is {:?}",
                files[0].display(),
                format,
                files[other].display(),
                formats[other]
            ),
        });
    }
    Ok(InputFiles { name, format, files })
}

fn expand(path: &Path, name: &str) -> Result<Vec<PathBuf>> {
    if path.is_dir() {
        let entries = std::fs::read_dir(path).map_err(|e| Error::io("cannot list", path, e))?;
        let mut files = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| Error::io("cannot list", path, e))?;
            let p = entry.path();
            let hidden = p
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.') || n.starts_with('_'));
            if p.is_file() && !hidden && extension_format(&p).is_some() {
                files.push(p);
            }
        }
        files.sort();
        if files.is_empty() {
            return Err(Error::EmptyInput {
                source_name: format!("{name} (a directory with no .parquet or .csv files)"),
            });
        }
        return Ok(files);
    }
    if path.exists() {
        return Ok(vec![path.to_path_buf()]);
    }
    if name.contains(['*', '?', '[']) {
        let paths = glob::glob(name).map_err(|e| Error::UnsupportedInput {
            source_name: name.to_string(),
            detail: format!("invalid glob pattern: {e}"),
        })?;
        let mut files: Vec<PathBuf> = paths.filter_map(|p| p.ok()).filter(|p| p.is_file()).collect();
        files.sort();
        if files.is_empty() {
            return Err(Error::EmptyInput {
                source_name: format!("{name} (no file matches the pattern)"),
            });
        }
        return Ok(files);
    }
    Err(Error::io(
        "cannot open",
        path,
        std::io::Error::new(std::io::ErrorKind::NotFound, "no such file or directory"),
    ))
}

fn extension_format(path: &Path) -> Option<InputFormat> {
    let name = path.file_name()?.to_str()?.to_ascii_lowercase();
    let name = name.strip_suffix(".gz").unwrap_or(&name);
    if name.ends_with(".parquet") || name.ends_with(".pq") {
        Some(InputFormat::Parquet)
    } else if [".csv", ".tsv", ".txt", ".psv", ".dat"]
        .iter()
        .any(|e| name.ends_with(e))
    {
        Some(InputFormat::Csv)
    } else {
        None
    }
}

const PARQUET_MAGIC: &[u8] = b"PAR1";
const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];

fn head_bytes(path: &Path, n: usize) -> Result<Vec<u8>> {
    let file = File::open(path).map_err(|e| Error::io("cannot open", path, e))?;
    let mut buf = Vec::with_capacity(n);
    file.take(n as u64)
        .read_to_end(&mut buf)
        .map_err(|e| Error::io("cannot read", path, e))?;
    Ok(buf)
}

/// Whether a file starts like gzip-compressed data.
fn is_gzip(path: &Path) -> Result<bool> {
    Ok(head_bytes(path, GZIP_MAGIC.len())?.starts_with(GZIP_MAGIC))
}

/// What the first bytes of a file say it is.
fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(PARQUET_MAGIC) {
        Some("a Parquet file")
    } else if bytes.starts_with(b"PK\x03\x04") {
        Some("a ZIP archive (an Excel workbook?); export it as CSV or Parquet")
    } else if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        Some("an old Excel/OLE document; export it as CSV or Parquet")
    } else if bytes.starts_with(b"%PDF") {
        Some("a PDF document")
    } else if bytes.starts_with(b"ARROW1") {
        Some("an Arrow IPC file, which clientele does not read; convert it to Parquet")
    } else if bytes.starts_with(b"\x89PNG") || bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("an image")
    } else if bytes.starts_with(GZIP_MAGIC) {
        Some("gzip-compressed data")
    } else if bytes.contains(&0) {
        Some("binary data")
    } else {
        None
    }
}

fn detect_format(path: &Path) -> Result<InputFormat> {
    let bytes = head_bytes(path, 8192)?;
    let format = match extension_format(path) {
        Some(format) => format,
        None => match sniff(&bytes) {
            Some("a Parquet file") => InputFormat::Parquet,
            Some("gzip-compressed data") | None => InputFormat::Csv,
            Some(other) => return Err(unsupported(path, other)),
        },
    };
    check_bytes(path, &bytes, format)?;
    Ok(format)
}

fn check_content(path: &Path, format: InputFormat) -> Result<()> {
    let bytes = head_bytes(path, 8192)?;
    check_bytes(path, &bytes, format)
}

fn check_bytes(path: &Path, bytes: &[u8], format: InputFormat) -> Result<()> {
    if bytes.is_empty() {
        return Err(Error::EmptyInput {
            source_name: path.display().to_string(),
        });
    }
    match (format, sniff(bytes)) {
        (InputFormat::Parquet, Some("a Parquet file")) => Ok(()),
        (InputFormat::Parquet, other) => Err(unsupported(
            path,
            &format!(
                "is not a Parquet file (it is {})",
                other.unwrap_or("text; pass --input-format csv if it is CSV")
            ),
        )),
        (InputFormat::Csv, None | Some("gzip-compressed data")) => Ok(()),
        (InputFormat::Csv, Some(other)) => {
            Err(unsupported(path, &format!("is not CSV text (it is {other})")))
        }
    }
}

fn unsupported(path: &Path, detail: &str) -> Error {
    Error::UnsupportedInput {
        source_name: path.display().to_string(),
        detail: detail.to_string(),
    }
}

/// Opens a CSV file for reading lines, decompressing gzip transparently.
pub(crate) fn open_text(path: &Path) -> Result<Box<dyn BufRead>> {
    let gzip = is_gzip(path)?;
    let file = File::open(path).map_err(|e| Error::io("cannot open", path, e))?;
    if gzip {
        Ok(Box::new(BufReader::new(flate2::read::MultiGzDecoder::new(file))))
    } else {
        Ok(Box::new(BufReader::new(file)))
    }
}

/// Chooses the delimiter of a CSV file from its first line.
pub fn sniff_delimiter(path: &Path, quote: Option<u8>) -> Result<Delimiter> {
    let mut first = String::new();
    open_text(path)?
        .read_line(&mut first)
        .map_err(|e| Error::io("cannot read", path, e))?;
    Ok(delimiter_of_line(&first, quote))
}

fn delimiter_of_line(line: &str, quote: Option<u8>) -> Delimiter {
    let mut counts = [0usize; 4];
    let candidates = [b',', b';', b'\t', b'|'];
    let mut quoted = false;
    for byte in line.bytes() {
        if Some(byte) == quote {
            quoted = !quoted;
        } else if !quoted && let Some(i) = candidates.iter().position(|c| *c == byte) {
            counts[i] += 1;
        }
    }
    let (best, count) = counts
        .iter()
        .enumerate()
        .max_by_key(|(i, c)| (**c, usize::MAX - i))
        .map(|(i, c)| (candidates[i], *c))
        .unwrap_or((b',', 0));
    if count > 0 {
        Delimiter::Byte(best)
    } else if line.split_whitespace().count() > 1 {
        Delimiter::Whitespace
    } else {
        Delimiter::Byte(b',')
    }
}

/// Plain delimited text files as read by the CSV scan, for readers of their own (the
/// aggregation's fast path): the same files, separator, quote and header.
#[derive(Debug, Clone)]
pub(crate) struct DelimitedFiles {
    pub files: Vec<PathBuf>,
    pub separator: u8,
    pub quote: Option<u8>,
    pub header: bool,
}

/// Scans the input files into a lazy frame of their columns, as text for CSV; for
/// uncompressed files with a one-byte separator, also how they were read.
pub(crate) fn scan_files(
    input: &InputFiles,
    csv: &CsvOptions,
) -> Result<(LazyFrame, Option<DelimitedFiles>)> {
    match input.format {
        InputFormat::Parquet => {
            let paths = ref_paths(input)?;
            let args = ScanArgsParquet {
                glob: false,
                ..Default::default()
            };
            let lazy = LazyFrame::scan_parquet_files(paths.into_iter().collect(), args)
                .context(|| format!("cannot scan {}", input.name))?;
            Ok((lazy, None))
        }
        InputFormat::Csv => {
            let delimiter = match csv.delimiter {
                Delimiter::Auto => sniff_delimiter(&input.files[0], csv.quote)?,
                other => other,
            };
            match delimiter {
                Delimiter::Whitespace => Ok((read_whitespace(input, csv.header)?.lazy(), None)),
                Delimiter::Byte(separator) => {
                    let lazy = scan_csv(input, csv, separator)?;
                    let mut compressed = false;
                    for file in &input.files {
                        compressed |= is_gzip(file)?;
                    }
                    let files = (!compressed).then(|| DelimitedFiles {
                        files: input.files.clone(),
                        separator,
                        quote: csv.quote,
                        header: csv.header == Header::Present,
                    });
                    Ok((lazy, files))
                }
                Delimiter::Auto => unreachable!("sniffing resolves Auto"),
            }
        }
    }
}

fn ref_paths(input: &InputFiles) -> Result<Vec<PlRefPath>> {
    input
        .files
        .iter()
        .map(|p| PlRefPath::try_from_path(p))
        .collect::<PolarsResult<_>>()
        .context(|| format!("{}: invalid path", input.name))
}

fn scan_csv(input: &InputFiles, csv: &CsvOptions, separator: u8) -> Result<LazyFrame> {
    let paths = ref_paths(input)?;
    LazyCsvReader::new_paths(paths.into_iter().collect())
        .with_has_header(csv.header == Header::Present)
        .with_separator(separator)
        .with_quote_char(csv.quote)
        // Every column is read as text: clientele parses and validates values itself, so a bad
        // value becomes a rejected row with a reason instead of a failed read or a silent null.
        .with_infer_schema_length(Some(0))
        .with_glob(false)
        .with_raise_if_empty(true)
        .finish()
        .context(|| format!("cannot scan {}", input.name))
}

/// Reads whitespace-separated files into memory as text columns.
fn read_whitespace(input: &InputFiles, header: Header) -> Result<DataFrame> {
    let mut names: Option<Vec<String>> = None;
    let mut columns: Vec<Vec<Option<String>>> = Vec::new();
    for path in &input.files {
        let mut lines = open_text(path)?.lines();
        if header == Header::Present {
            let first = match lines.next() {
                Some(line) => line.map_err(|e| Error::io("cannot read", path, e))?,
                None => continue,
            };
            let these: Vec<String> = first.split_whitespace().map(str::to_string).collect();
            let names_here: Vec<&str> = these.iter().map(String::as_str).collect();
            crate::columns::check_unique_names(&path.display().to_string(), &names_here)?;
            match &names {
                None => names = Some(these),
                Some(existing) if *existing != these => {
                    return Err(unsupported(path, "has a different header than the first file"));
                }
                Some(_) => {}
            }
        }
        for (i, line) in lines.enumerate() {
            let line = line.map_err(|e| Error::io("cannot read", path, e))?;
            if line.trim().is_empty() {
                continue;
            }
            let fields: Vec<&str> = line.split_whitespace().collect();
            if columns.is_empty() {
                columns = vec![Vec::new(); fields.len()];
            }
            if fields.len() > columns.len() {
                return Err(unsupported(
                    path,
                    &format!(
                        "line {} has {} fields, more than the {} expected",
                        i + 1 + usize::from(header == Header::Present),
                        fields.len(),
                        columns.len()
                    ),
                ));
            }
            for (j, column) in columns.iter_mut().enumerate() {
                column.push(fields.get(j).map(|s| s.to_string()));
            }
        }
    }
    let width = names.as_ref().map_or(columns.len(), Vec::len);
    if columns.is_empty() || columns[0].is_empty() {
        return Err(Error::EmptyInput {
            source_name: input.name.clone(),
        });
    }
    columns.resize(width, vec![None; columns[0].len()]);
    let names = names.unwrap_or_else(|| (1..=width).map(|i| format!("column_{i}")).collect());
    let height = columns[0].len();
    let series: Vec<Column> = names
        .iter()
        .zip(columns)
        .map(|(name, values)| Column::new(name.as_str().into(), values))
        .collect();
    DataFrame::new(height, series).context(|| format!("cannot read {}", input.name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delimiters_are_sniffed_outside_quotes() {
        assert_eq!(delimiter_of_line("a,b,c\n", Some(b'"')), Delimiter::Byte(b','));
        assert_eq!(
            delimiter_of_line("a;b;\"c,d,e\"\n", Some(b'"')),
            Delimiter::Byte(b';')
        );
        assert_eq!(delimiter_of_line("a\tb\tc", Some(b'"')), Delimiter::Byte(b'\t'));
        assert_eq!(delimiter_of_line("a|b", Some(b'"')), Delimiter::Byte(b'|'));
        assert_eq!(
            delimiter_of_line(" customer_id  date number_of_cds  dollar_value\r\n", Some(b'"')),
            Delimiter::Whitespace
        );
        assert_eq!(delimiter_of_line("single\n", Some(b'"')), Delimiter::Byte(b','));
    }

    #[test]
    fn file_types_are_told_by_content() {
        assert_eq!(sniff(b"PAR1...."), Some("a Parquet file"));
        assert!(sniff(b"PK\x03\x04....").unwrap().contains("Excel"));
        assert_eq!(sniff(b"customer,date,amount\n"), None);
        assert_eq!(sniff(&[0x1f, 0x8b, 8, 0]), Some("gzip-compressed data"));
    }

    #[test]
    fn extensions_map_to_formats() {
        assert_eq!(extension_format(Path::new("a/b.CSV.gz")), Some(InputFormat::Csv));
        assert_eq!(
            extension_format(Path::new("x.parquet")),
            Some(InputFormat::Parquet)
        );
        assert_eq!(extension_format(Path::new("x.xlsx")), None);
    }
}
