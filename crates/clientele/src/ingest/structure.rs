//! The structure of delimited text: which bytes form one record, how many fields it has, and
//! which records cannot be read as rows.
//!
//! One definition of CSV structure for every reader (the fast reader of plain files and polars'
//! reader agree on it because polars only ever sees records this module passed):
//! - a record ends at a line end (`\n`, or `\r\n`) outside a quoted field, or at the end of
//!   the file; a line holding nothing is no record (polars skips it);
//! - a field that starts with the quote character is quoted: it ends at the next quote that
//!   is not doubled (`""` is a quote inside), and may hold separators and line ends; what
//!   follows the closing quote must be a separator or the line end;
//! - any other field runs to the next separator or line end and holds no quote.
//!
//! A record that breaks these rules (a quote inside an unquoted field, text after a closing
//! quote) or that has more fields than the header is *malformed*; one whose bytes are not
//! UTF-8 is *invalid UTF-8*. Either is rejected as a row with its reason, its row number and its
//! text, and the rest of the file is read. A record with fewer fields than the header is a row
//! whose missing fields are empty (as polars reads it). A quoted field that never closes would
//! swallow the rest of the file into one value: that file cannot be read, and the error names
//! the line where the quote opened.

use std::io::Read;
use std::path::Path;

use crate::error::{Error, Result};
use crate::format::quote;
use crate::rows::RejectReason;

/// Bytes read at a time.
const BLOCK_BYTES: usize = 4 << 20;
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Separator and quote of a delimited text.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Dialect {
    pub separator: u8,
    pub quote: Option<u8>,
}

/// A record that is not a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BadRecord {
    /// 0-based index among the data rows of the whole input (files in order).
    pub row: u64,
    /// 1-based line of its file where the record starts.
    pub line: u64,
    /// Index of its file among the input's files.
    pub file: usize,
    /// `MalformedRow` or `InvalidUtf8`.
    pub reason: RejectReason,
    /// What is wrong with it, e.g. "5 fields, the header has 4".
    pub detail: String,
    /// Its text (lossy UTF-8, without the line end), quoted and cut by [`quote`].
    pub value: String,
}

/// The data rows of an input and its bad records.
#[derive(Debug, Clone, Default)]
pub(crate) struct Structure {
    /// Data rows, bad records included (the header and empty lines are not rows).
    pub rows: u64,
    /// Bad records, by row.
    pub bad: Vec<BadRecord>,
    /// The header's field names (of the first file), when there is a header.
    pub header: Option<Vec<String>>,
}

/// One record as the scanner found it.
#[derive(Debug, PartialEq)]
enum Step {
    /// A record from the position to `end` (after its line end).
    Record {
        end: usize,
        fields: usize,
        fault: Option<&'static str>,
    },
    /// The buffer ends inside the record: read more.
    NeedMore,
    /// A quoted field never closes before the end of the file.
    Unclosed,
}

/// Scans the record starting at `pos` (`eof`: nothing follows `b`).
fn record(b: &[u8], pos: usize, d: Dialect, eof: bool) -> Step {
    // The common case first: a line without any quote. Lines are short: a plain loop beats
    // the set-up of a vectorised search.
    let next = b[pos..].iter().position(|c| *c == b'\n' || Some(*c) == d.quote);
    match next {
        Some(k) if b[pos + k] == b'\n' => {
            let line = &b[pos..pos + k];
            let fields = 1 + line.iter().filter(|c| **c == d.separator).count();
            return Step::Record {
                end: pos + k + 1,
                fields,
                fault: None,
            };
        }
        None if eof => {
            let fields = 1 + b[pos..].iter().filter(|c| **c == d.separator).count();
            return Step::Record {
                end: b.len(),
                fields,
                fault: None,
            };
        }
        None => return Step::NeedMore,
        Some(_) => {}
    }
    quoted_record(b, pos, d, eof)
}

/// The end of the line whose newline is at `i` (none found: the end of the file, or more to
/// read).
#[inline]
fn end_at(b: &[u8], i: Option<usize>, eof: bool) -> Option<usize> {
    match i {
        Some(i) => Some(i + 1),
        None if eof => Some(b.len()),
        None => None,
    }
}

/// [`record`] of a line with a quote in it: field by field, quoted fields to their closing
/// quote (doubled quotes are text), faults for text after a closing quote or a quote inside an
/// unquoted field.
fn quoted_record(b: &[u8], pos: usize, d: Dialect, eof: bool) -> Step {
    let q = d.quote.expect("a quote was found");
    let mut p = pos;
    let mut fields = 1;
    loop {
        if b.get(p) == Some(&q) {
            match quoted_field(b, p, d, eof, fields) {
                Ok(next) => {
                    fields += 1;
                    p = next;
                }
                Err(step) => return step,
            }
        } else {
            match memchr::memchr3(d.separator, b'\n', q, &b[p..]).map(|k| p + k) {
                Some(i) if b[i] == d.separator => {
                    fields += 1;
                    p = i + 1;
                }
                Some(i) if b[i] == b'\n' => {
                    return Step::Record {
                        end: i + 1,
                        fields,
                        fault: None,
                    };
                }
                Some(i) => {
                    return match end_at(b, memchr::memchr(b'\n', &b[i..]).map(|k| i + k), eof) {
                        Some(end) => Step::Record {
                            end,
                            fields,
                            fault: Some("a quote inside an unquoted field"),
                        },
                        None => Step::NeedMore,
                    };
                }
                None if eof => {
                    return Step::Record {
                        end: b.len(),
                        fields,
                        fault: None,
                    };
                }
                None => return Step::NeedMore,
            }
        }
    }
}

/// The quoted field at `p` (to the next quote that is not doubled), the record's `fields`th:
/// `Ok(where the next field starts)` when a separator follows it, else `Err` with the record's
/// end, a fault, or a request for more bytes.
#[inline]
fn quoted_field(b: &[u8], p: usize, d: Dialect, eof: bool, fields: usize) -> Result<usize, Step> {
    let q = d.quote.expect("a quoted field has a quote");
    let mut i = p + 1;
    let p = loop {
        match memchr::memchr(q, &b[i..]) {
            None if eof => return Err(Step::Unclosed),
            None => return Err(Step::NeedMore),
            Some(k) if i + k + 1 == b.len() && !eof => return Err(Step::NeedMore),
            Some(k) if b.get(i + k + 1) == Some(&q) => i += k + 2,
            Some(k) => break i + k + 1,
        }
    };
    let ends = |end: usize| Step::Record {
        end,
        fields,
        fault: None,
    };
    match b.get(p) {
        Some(c) if *c == d.separator => Ok(p + 1),
        Some(b'\n') => Err(ends(p + 1)),
        Some(b'\r') if b.get(p + 1) == Some(&b'\n') => Err(ends(p + 2)),
        Some(b'\r') if p + 1 == b.len() && !eof => Err(Step::NeedMore),
        None if eof => Err(ends(p)),
        None => Err(Step::NeedMore),
        Some(_) => Err(
            match end_at(b, memchr::memchr(b'\n', &b[p..]).map(|k| p + k), eof) {
                Some(end) => Step::Record {
                    end,
                    fields,
                    fault: Some("text after a closing quote"),
                },
                None => Step::NeedMore,
            },
        ),
    }
}

/// Whether a record (with its line end) holds nothing: polars skips such lines.
fn is_empty_line(record: &[u8]) -> bool {
    matches!(record, b"" | b"\n" | b"\r\n" | b"\r")
}

/// A record's text without its line end.
fn without_line_end(record: &[u8]) -> &[u8] {
    let record = record.strip_suffix(b"\n").unwrap_or(record);
    record.strip_suffix(b"\r").unwrap_or(record)
}

/// The fields of a well-formed record, quotes undone (for headers).
fn split_fields(record: &str, d: Dialect) -> Vec<String> {
    let record = without_line_end(record.as_bytes());
    let mut fields = Vec::new();
    let mut field = Vec::new();
    let mut quoted = false;
    let mut at_start = true;
    let mut i = 0;
    while i < record.len() {
        let c = record[i];
        if quoted {
            if Some(c) == d.quote {
                if record.get(i + 1) == Some(&c) {
                    field.push(c);
                    i += 1;
                } else {
                    quoted = false;
                }
            } else {
                field.push(c);
            }
        } else if c == d.separator {
            fields.push(String::from_utf8_lossy(&field).into_owned());
            field.clear();
            at_start = true;
            i += 1;
            continue;
        } else if at_start && Some(c) == d.quote {
            quoted = true;
        } else {
            field.push(c);
        }
        at_start = false;
        i += 1;
    }
    fields.push(String::from_utf8_lossy(&field).into_owned());
    fields
}

/// Where the scanned records go: counted only, or also copied for polars' reader.
pub(crate) struct Scanner<'a> {
    dialect: Dialect,
    header: bool,
    structure: Structure,
    /// Fields per record: the header's (or the first record's without a header).
    width: Option<usize>,
    /// With a copy: the records polars reads, bad ones replaced by a row of empty fields.
    copy: Option<&'a mut Vec<u8>>,
    file: usize,
    /// The file whose header the others must have.
    first_file: Option<std::path::PathBuf>,
}

impl<'a> Scanner<'a> {
    /// A scanner of the files of one input, copying its records into `copy` if given.
    pub(crate) fn new(dialect: Dialect, header: bool, copy: Option<&'a mut Vec<u8>>) -> Self {
        Scanner {
            dialect,
            header,
            structure: Structure::default(),
            width: None,
            copy,
            file: 0,
            first_file: None,
        }
    }

    /// Data rows scanned so far.
    pub(crate) fn rows(&self) -> u64 {
        self.structure.rows
    }

    /// What was found in the files scanned.
    pub(crate) fn finish(self) -> Structure {
        self.structure
    }

    /// Scans the next file of the input, read from `reader`.
    ///
    /// # Errors
    ///
    /// Read errors; [`Error::UnsupportedInput`] (naming the file and line) for a quoted field
    /// that never closes, a header that is not UTF-8, or a header unlike the first file's.
    pub(crate) fn scan(&mut self, path: &Path, mut reader: impl Read) -> Result<()> {
        let mut buf: Vec<u8> = Vec::with_capacity(BLOCK_BYTES);
        let (mut pos, mut eof, mut line, mut first) = (0usize, false, 1u64, true);
        let mut valid_until = 0usize;
        loop {
            let step = match (pos == buf.len(), eof) {
                (true, true) => break,
                (true, false) => Step::NeedMore,
                (false, _) => record(&buf, pos, self.dialect, eof),
            };
            match step {
                Step::NeedMore => {
                    buf.drain(..pos);
                    pos = 0;
                    let want = BLOCK_BYTES.max(buf.len());
                    let read = (&mut reader)
                        .take(want as u64)
                        .read_to_end(&mut buf)
                        .map_err(|e| Error::io("cannot read", path, e))?;
                    eof = read < want;
                    if first && buf.starts_with(BOM) {
                        pos = BOM.len();
                    }
                    valid_until = pos
                        + match std::str::from_utf8(&buf[pos..]) {
                            Ok(_) => buf.len() - pos,
                            Err(e) => e.valid_up_to(),
                        };
                }
                Step::Unclosed => {
                    return Err(Error::UnsupportedInput {
                        source_name: path.display().to_string(),
                        detail: format!(
                            "line {line}: a quoted field opens here and never closes, so the rest of \
                             the file would be one value: {}",
                            quote(&String::from_utf8_lossy(&buf[pos..]))
                        ),
                    });
                }
                Step::Record { end, fields, fault } => {
                    let bytes = &buf[pos..end];
                    let utf8 = end <= valid_until || std::str::from_utf8(bytes).is_ok();
                    if first {
                        self.first_record(path, bytes, fields, utf8)?;
                        first = false;
                    } else if !is_empty_line(bytes) {
                        self.data_record(bytes, fields, fault, utf8, line);
                    }
                    line += bytes.iter().filter(|c| **c == b'\n').count() as u64;
                    pos = end;
                }
            }
        }
        self.file += 1;
        Ok(())
    }

    fn first_record(&mut self, path: &Path, bytes: &[u8], fields: usize, utf8: bool) -> Result<()> {
        if !self.header {
            if self.width.is_none() {
                self.width = Some(fields);
            }
            if !is_empty_line(bytes) {
                self.data_record(bytes, fields, None, utf8, 1);
            }
            return Ok(());
        }
        let unsupported = |detail: String| Error::UnsupportedInput {
            source_name: path.display().to_string(),
            detail,
        };
        let Ok(text) = std::str::from_utf8(bytes) else {
            return Err(unsupported(format!(
                "line 1 (the header) is not UTF-8: {}; pass --encoding windows-1252 or latin-1 \
                 if the file comes from a Windows program",
                quote(&String::from_utf8_lossy(without_line_end(bytes)))
            )));
        };
        let names = split_fields(text, self.dialect);
        match &self.structure.header {
            None => {
                self.width = Some(fields);
                if let Some(copy) = self.copy.as_deref_mut() {
                    copy.extend_from_slice(without_line_end(bytes));
                    copy.push(b'\n');
                }
                self.structure.header = Some(names);
                self.first_file = Some(path.to_path_buf());
            }
            Some(expected) if *expected != names => {
                return Err(unsupported(format!(
                    "its header ({}) differs from that of {} ({}): files read as one input need \
                     one header",
                    quote(&names.join(",")),
                    self.first_file.as_deref().unwrap_or(Path::new("")).display(),
                    quote(&expected.join(","))
                )));
            }
            Some(_) => {}
        }
        Ok(())
    }

    fn data_record(
        &mut self,
        bytes: &[u8],
        fields: usize,
        fault: Option<&'static str>,
        utf8: bool,
        line: u64,
    ) {
        let width = *self.width.get_or_insert(fields);
        let problem = if !utf8 {
            Some((
                RejectReason::InvalidUtf8,
                "not UTF-8 (see --encoding)".to_string(),
            ))
        } else if let Some(fault) = fault {
            Some((RejectReason::MalformedRow, fault.to_string()))
        } else if fields > width {
            Some((
                RejectReason::MalformedRow,
                format!("{fields} fields, the header has {width}"),
            ))
        } else {
            None
        };
        if let Some(copy) = self.copy.as_deref_mut() {
            match problem {
                None => {
                    copy.extend_from_slice(without_line_end(bytes));
                    copy.push(b'\n');
                }
                // A row of empty fields keeps the row numbers; its status says what it was.
                Some(_) => placeholder(copy, width, self.dialect),
            }
        }
        if let Some((reason, detail)) = problem {
            self.structure.bad.push(BadRecord {
                row: self.structure.rows,
                line,
                file: self.file,
                reason,
                detail,
                value: quote(&String::from_utf8_lossy(without_line_end(bytes))),
            });
        }
        self.structure.rows += 1;
    }
}

/// A row of `width` empty fields (a lone empty field is quoted, since polars skips an empty
/// line).
fn placeholder(copy: &mut Vec<u8>, width: usize, d: Dialect) {
    match (width, d.quote) {
        (0 | 1, Some(q)) => copy.extend_from_slice(&[q, q]),
        _ => copy.extend(std::iter::repeat_n(d.separator, width.saturating_sub(1))),
    }
    copy.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: Dialect = Dialect {
        separator: b',',
        quote: Some(b'"'),
    };

    fn records(text: &[u8]) -> Vec<(usize, usize, Option<&'static str>)> {
        let mut out = Vec::new();
        let mut pos = 0;
        while pos < text.len() {
            match record(text, pos, D, true) {
                Step::Record { end, fields, fault } => {
                    out.push((end, fields, fault));
                    pos = end;
                }
                other => panic!("{other:?} at {pos}"),
            }
        }
        out
    }

    #[test]
    fn records_end_at_line_ends_outside_quotes() {
        assert_eq!(
            records(b"a,b\n\"x\ny\",\"\"\"\"\r\nlast,1"),
            [(4, 2, None), (16, 2, None), (22, 2, None)]
        );
        assert_eq!(
            records(b"a,5\" screen,1\n\"ok\",2\n\"x\"y,3\nz\n"),
            [
                (14, 2, Some("a quote inside an unquoted field")),
                (21, 2, None),
                (28, 1, Some("text after a closing quote")),
                (30, 1, None)
            ]
        );
        assert_eq!(record(b"a,\"open\nb,2\n", 0, D, true), Step::Unclosed);
        assert_eq!(record(b"a,\"open\nb,2\n", 0, D, false), Step::NeedMore);
        assert_eq!(record(b"a,\"x\"", 0, D, false), Step::NeedMore);
        assert_eq!(record(b"a,b", 0, D, false), Step::NeedMore);
    }

    #[test]
    fn headers_split_with_quotes_undone() {
        assert_eq!(split_fields("a,\"b,\"\"c\"\"\",d\r\n", D), ["a", "b,\"c\"", "d"]);
    }

    fn scan(text: &[u8]) -> (Structure, Vec<u8>) {
        let mut copy = Vec::new();
        let mut scanner = Scanner::new(D, true, Some(&mut copy));
        scanner.scan(Path::new("t.csv"), text).unwrap();
        (scanner.finish(), copy)
    }

    #[test]
    fn bad_records_are_listed_and_replaced_by_empty_rows() {
        let (s, copy) =
            scan(b"\xEF\xBB\xBFid,day,amount\n1,d,5\n2,d,5,extra\n\n3,\xFF,5\r\n4,\"5\" x,1\n5,d");
        assert_eq!(s.rows, 5);
        assert_eq!(
            s.header.as_deref(),
            Some(&["id", "day", "amount"].map(String::from)[..])
        );
        let bad: Vec<_> = s.bad.iter().map(|b| (b.row, b.line, b.reason)).collect();
        assert_eq!(
            bad,
            [
                (1, 3, RejectReason::MalformedRow),
                (2, 5, RejectReason::InvalidUtf8),
                (3, 6, RejectReason::MalformedRow)
            ]
        );
        assert_eq!(s.bad[0].value, "\"2,d,5,extra\"");
        assert_eq!(copy, b"id,day,amount\n1,d,5\n,,\n,,\n,,\n5,d\n");
    }

    #[test]
    fn an_unclosed_quote_names_its_line_and_other_headers_their_file() {
        let mut scanner = Scanner::new(D, true, None);
        let e = scanner
            .scan(Path::new("t.csv"), &b"id,x\n1,2\n2,\"never\n3,4\n"[..])
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("t.csv: line 3: a quoted field opens"), "{e}");
        let mut scanner = Scanner::new(D, true, None);
        scanner.scan(Path::new("a.csv"), &b"id,x\n1,2\n"[..]).unwrap();
        let e = scanner
            .scan(Path::new("b.csv"), &b"id,y\n1,2\n"[..])
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("b.csv: its header (\"id,y\") differs from that of a.csv"),
            "{e}"
        );
    }
}
