//! Finding the input files, telling their format, and scanning them lazily.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use polars::prelude::*;
use serde::Serialize;

mod delimited;
mod hive;

pub(crate) use self::delimited::Unchecked;
use self::delimited::scan_delimited;
use super::structure::BadRecord;
use crate::error::{Error, PolarsContext, Result};
use crate::rows::RejectReason;

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

/// The character encoding of a CSV input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Encoding {
    /// UTF-8 (the default); a row that is not valid UTF-8 is rejected as `invalid_utf8`.
    #[default]
    Utf8,
    /// ISO-8859-1: every byte is the character of the same number.
    Latin1,
    /// Windows-1252, the code page of Western European Windows programs (Excel's CSV export):
    /// Latin-1 with printable characters (`€`, `‘`, `—`, ...) in place of 0x80-0x9F.
    Windows1252,
}

impl Encoding {
    /// The bytes of a file in this encoding, as UTF-8.
    fn decode(self, bytes: &[u8]) -> std::borrow::Cow<'_, [u8]> {
        use std::borrow::Cow;
        let text = match self {
            Encoding::Utf8 => return Cow::Borrowed(bytes),
            Encoding::Latin1 => encoding_rs::mem::decode_latin1(bytes),
            Encoding::Windows1252 => encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes).0,
        };
        match text {
            Cow::Borrowed(text) => Cow::Borrowed(text.as_bytes()),
            Cow::Owned(text) => Cow::Owned(text.into_bytes()),
        }
    }
}

/// Which reader reads the input's rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CsvReaderChoice {
    /// clientele's own readers where they apply: its CSV reader for uncompressed UTF-8 files
    /// whose timestamps have an ISO shape, its typed reader for Parquet files and frames with
    /// typed role columns (`ingest/typed.rs`); polars' reading and expressions otherwise. All
    /// give the same rows.
    #[default]
    Auto,
    /// Always polars' reader and expressions (for comparing, or to rule the own readers out).
    Polars,
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
    /// Character encoding; other encodings than UTF-8 are transcoded before parsing.
    pub encoding: Encoding,
    /// Which reader reads plain CSV files.
    pub reader: CsvReaderChoice,
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions {
            delimiter: Delimiter::Auto,
            header: Header::Present,
            quote: Some(b'"'),
            decimal: DecimalSeparator::Point,
            encoding: Encoding::Utf8,
            reader: CsvReaderChoice::Auto,
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
        // A data-lake tree is walked recursively (`hive` says what is skipped).
        let files = hive::walk(path, |p| extension_format(p).is_some())?;
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
    } else if looks_binary(bytes) {
        Some("binary data")
    } else {
        None
    }
}

/// Binary data has NUL bytes throughout (and in its first line); a text file with a stray NUL
/// in one row is text, whose bad row is rejected for its value.
fn looks_binary(head: &[u8]) -> bool {
    let first_line = head.split(|b| *b == b'\n').next().unwrap_or(head);
    let nuls = memchr::memchr_iter(0, head).count();
    first_line.contains(&0) || nuls * 100 > head.len()
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
    let mut first = Vec::new();
    open_text(path)?
        .read_until(b'\n', &mut first)
        .map_err(|e| Error::io("cannot read", path, e))?;
    // Separators are ASCII: bytes of another encoding do not change which one is found.
    Ok(delimiter_of_line(&String::from_utf8_lossy(&first), quote))
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

/// The input files scanned: a lazy frame of their columns (as text for CSV), how plain CSV
/// files were read (for a reader of their own), and the records that are not rows.
pub(crate) struct Scanned {
    pub lazy: LazyFrame,
    pub delimited: Option<DelimitedFiles>,
    /// Records rejected for their structure or encoding; `lazy` holds a row of empty fields
    /// in the place of each.
    pub bad: Vec<BadRecord>,
    /// Set when only the head of a plain CSV input was checked: the rest is checked by the
    /// plain reader as it reads, or by [`Unchecked::check`] before polars reads more.
    pub unchecked: Option<Unchecked>,
}

/// Scans the input files into a lazy frame of their columns, as text for CSV; for
/// uncompressed UTF-8 files with a one-byte separator, also how they were read.
pub(crate) fn scan_files(input: &InputFiles, csv: &CsvOptions) -> Result<Scanned> {
    match input.format {
        InputFormat::Parquet => {
            check_parquet_files(&input.files)?;
            let paths = ref_paths(input)?;
            let args = ScanArgsParquet {
                glob: false,
                ..Default::default()
            };
            // Files under `key=value` directories get their partition columns.
            let root = Path::new(&input.name);
            let partitioned = if root.is_dir() {
                hive::scan_partitioned(root, &input.files, &args)?
            } else {
                None
            };
            let lazy = match partitioned {
                Some(lazy) => lazy,
                None => LazyFrame::scan_parquet_files(paths.into_iter().collect(), args)
                    .context(|| format!("cannot scan {}", input.name))?,
            };
            Ok(Scanned {
                lazy,
                delimited: None,
                bad: Vec::new(),
                unchecked: None,
            })
        }
        InputFormat::Csv => {
            let delimiter = match csv.delimiter {
                Delimiter::Auto => sniff_delimiter(&input.files[0], csv.quote)?,
                other => other,
            };
            match delimiter {
                Delimiter::Whitespace => {
                    let (frame, bad) = read_whitespace(input, csv)?;
                    Ok(Scanned {
                        lazy: frame.lazy(),
                        delimited: None,
                        bad,
                        unchecked: None,
                    })
                }
                Delimiter::Byte(separator) => scan_delimited(input, csv, separator),
                Delimiter::Auto => unreachable!("sniffing resolves Auto"),
            }
        }
    }
}

/// Reads the footer of every Parquet file: a truncated or corrupt file, one that names a
/// column twice, or one whose columns differ from the first file's, is named (polars' scan of
/// many files would not say which, nor where a name repeats).
fn check_parquet_files(files: &[PathBuf]) -> Result<()> {
    let mut first: Option<(&PathBuf, Vec<String>)> = None;
    for file in files {
        let mut handle = File::open(file).map_err(|e| Error::io("cannot open", file, e))?;
        let metadata = polars_parquet::read::read_metadata(&mut handle).map_err(|e| {
            let text = e.to_string();
            let reason = text.lines().next().unwrap_or_default();
            unsupported(
                file,
                &format!(
                    "is not a readable Parquet file (truncated or corrupt?): {}",
                    crate::format::quote(reason)
                ),
            )
        })?;
        let names: Vec<String> = metadata
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().to_string())
            .collect();
        let name_refs: Vec<&str> = names.iter().map(String::as_str).collect();
        crate::columns::check_unique_names(&file.display().to_string(), &name_refs)?;
        match &first {
            None => first = Some((file, names)),
            Some((first_file, expected)) if *expected != names => {
                return Err(unsupported(
                    file,
                    &format!(
                        "its columns ({}) differ from those of {} ({}): files read as one input \
                         need one schema",
                        crate::format::quote(&names.join(", ")),
                        first_file.display(),
                        crate::format::quote(&expected.join(", "))
                    ),
                ));
            }
            Some(_) => {}
        }
    }
    Ok(())
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

/// Reads whitespace-separated files into memory as text columns. A line with more fields than
/// the header (or the first line), or that is not text in the encoding, is a bad record: a row
/// of empty fields in the frame, listed with its reason.
fn read_whitespace(input: &InputFiles, csv: &CsvOptions) -> Result<(DataFrame, Vec<BadRecord>)> {
    let header = csv.header;
    let mut names: Option<Vec<String>> = None;
    let mut columns: Vec<Vec<Option<String>>> = Vec::new();
    let mut bad = Vec::new();
    let mut rows = 0u64;
    for (file_index, path) in input.files.iter().enumerate() {
        let mut bytes = Vec::new();
        open_text(path)?
            .read_to_end(&mut bytes)
            .map_err(|e| Error::io("cannot read", path, e))?;
        let bytes = csv.encoding.decode(&bytes);
        let mut lines = bytes.split(|b| *b == b'\n').enumerate();
        if header == Header::Present {
            let Some((_, first)) = lines.next() else { continue };
            whitespace_header(path, first, &mut names)?;
        }
        for (i, line) in lines {
            let text = std::str::from_utf8(line);
            if text.is_ok_and(|t| t.trim().is_empty()) {
                continue;
            }
            let fields: Vec<&str> = text.map(|t| t.split_whitespace().collect()).unwrap_or_default();
            if columns.is_empty() {
                let width = names.as_ref().map_or(fields.len(), Vec::len).max(1);
                columns = vec![Vec::new(); width];
            }
            let problem = match text {
                Err(_) => Some((
                    RejectReason::InvalidUtf8,
                    "not UTF-8 (see --encoding)".to_string(),
                )),
                Ok(_) if fields.len() > columns.len() => Some((
                    RejectReason::MalformedRow,
                    format!("{} fields, the header has {}", fields.len(), columns.len()),
                )),
                Ok(_) => None,
            };
            let rejected = problem.is_some();
            if let Some((reason, detail)) = problem {
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                bad.push(BadRecord {
                    row: rows,
                    line: i as u64 + 1,
                    file: file_index,
                    reason,
                    detail,
                    value: crate::format::quote(&String::from_utf8_lossy(line)),
                });
            }
            for (j, column) in columns.iter_mut().enumerate() {
                let value = if rejected { None } else { fields.get(j) };
                column.push(value.map(|s| s.to_string()));
            }
            rows += 1;
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
    let frame = DataFrame::new(height, series).context(|| format!("cannot read {}", input.name))?;
    Ok((frame, bad))
}

/// Checks the header line `first` of a whitespace-separated file: UTF-8, unique names, and the
/// same names as the files before it (`names`, set by the first file).
fn whitespace_header(path: &Path, first: &[u8], names: &mut Option<Vec<String>>) -> Result<()> {
    let Ok(first) = std::str::from_utf8(first) else {
        return Err(unsupported(
            path,
            "line 1 (the header) is not UTF-8; pass --encoding windows-1252 or latin-1 \
             if the file comes from a Windows program",
        ));
    };
    let these: Vec<String> = first.split_whitespace().map(str::to_string).collect();
    let names_here: Vec<&str> = these.iter().map(String::as_str).collect();
    crate::columns::check_unique_names(&path.display().to_string(), &names_here)?;
    match names {
        None => *names = Some(these),
        Some(existing) if *existing != these => {
            return Err(unsupported(
                path,
                &format!(
                    "its header ({}) differs from the first file's ({}): files read as \
                     one input need one header",
                    crate::format::quote(&these.join(" ")),
                    crate::format::quote(&existing.join(" "))
                ),
            ));
        }
        Some(_) => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stray_nul_in_a_row_is_text_nuls_throughout_are_binary() {
        let mut text = b"customer_id,order_date,amount\n".to_vec();
        for _ in 0..20 {
            text.extend(b"1,2024-01-01,5\n");
        }
        text.extend(b"1,\0\0,5\n");
        assert_eq!(sniff(&text), None);
        assert_eq!(sniff(b"id\0,date\nx"), Some("binary data"));
        let utf16: Vec<u8> = "customer_id,date\n1,2".bytes().flat_map(|b| [b, 0]).collect();
        assert_eq!(sniff(&utf16), Some("binary data"));
    }

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
