//! Rows whose customer id decides their fate: rejected by the first rule, whatever their other
//! values, so the reader rejects them itself instead of leaving them to polars.
//!
//! A blank customer id is [`RejectReason::MissingCustomerId`] and a fractional one
//! [`RejectReason::InvalidCustomerId`]: the first two of [`crate::rows::rules::RULES`], so no
//! other value of the row matters (the plain reader reads only inputs without records that are
//! not rows and without extra checks). Their lines are kept as read, in the parsing task of
//! their block ([`RejectedLines`]), and become CSV or a frame with the columns and values
//! [`Transactions::rejected_rows`] gives them.
//!
//! [`Transactions::rejected_rows`]: crate::ingest::Transactions::rejected_rows

use polars::prelude::*;

use super::fields::{Field, field_value, split_field};
use crate::ingest::rejected::REJECT_COLUMNS;
use crate::output::{FORMULA_STARTS, integer_cell, text_cell};
use crate::rows::RejectReason;
use crate::rows::rules::Reading;

/// The reason a row is rejected for when its customer id decides it.
pub(super) fn customer_rejection(customer: Option<&str>) -> Option<RejectReason> {
    match Reading::of_text_id(customer.unwrap_or("")) {
        Reading::Missing => Some(RejectReason::MissingCustomerId),
        Reading::Invalid => Some(RejectReason::InvalidCustomerId),
        Reading::Read => None,
    }
}

/// How the lines of a file are split, and the column their customer id is in.
#[derive(Debug, Clone)]
pub(crate) struct LineFormat {
    pub(super) separator: u8,
    pub(super) quote: Option<u8>,
    pub(super) customer_column: String,
}

/// The rejected lines of one block, as read (with their line ends).
#[derive(Debug, Clone)]
pub(crate) struct RejectedLines {
    /// Data row numbers: in the block (0-based) until [`RejectedLines::number_from`], then in
    /// the input (1-based).
    rows: Vec<u64>,
    reasons: Vec<RejectReason>,
    /// The customer id, missing when its field was empty and not quoted.
    values: Vec<Option<Box<str>>>,
    /// The lines, one after the other; line `i` ends at `ends[i]`.
    bytes: Vec<u8>,
    ends: Vec<usize>,
    format: std::sync::Arc<LineFormat>,
}

impl RejectedLines {
    pub(super) fn new(format: std::sync::Arc<LineFormat>) -> Self {
        RejectedLines {
            rows: Vec::new(),
            reasons: Vec::new(),
            values: Vec::new(),
            bytes: Vec::new(),
            ends: Vec::new(),
            format,
        }
    }

    /// Adds the line `line` (row `row`, 0-based in the block), rejected for `reason` with the
    /// customer id `value` (as [`field_value`] reads it).
    pub(super) fn push(&mut self, row: u64, reason: RejectReason, value: Option<&str>, line: &[u8]) {
        self.rows.push(row);
        self.reasons.push(reason);
        self.values.push(value.map(Box::from));
        self.bytes.extend_from_slice(line);
        self.ends.push(self.bytes.len());
    }

    /// Numbers the rows in the input: 1-based, after `rows_before` rows.
    pub(super) fn number_from(&mut self, rows_before: u64) {
        for row in &mut self.rows {
            *row += rows_before + 1;
        }
    }

    /// How many lines.
    pub(crate) fn len(&self) -> usize {
        self.rows.len()
    }

    fn lines(&self) -> impl Iterator<Item = &[u8]> {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts
            .zip(&self.ends)
            .map(|(start, end)| &self.bytes[start..*end])
    }

    /// The fields of `line`, quotes undone, empty ones missing.
    fn fields<'l>(&self, line: &'l [u8]) -> impl Iterator<Item = Option<std::borrow::Cow<'l, str>>> {
        // The block was checked: every line is UTF-8 and splits into fields.
        let text = std::str::from_utf8(line).expect("a line of a checked block");
        let (separator, quote) = (self.format.separator, self.format.quote);
        let mut pos = Some(0);
        std::iter::from_fn(move || {
            let field: Field = split_field(line, pos?, separator, quote).expect("a line of a checked block");
            pos = (!field.line_ends).then_some(field.next);
            Some(field_value(text, &field, quote))
        })
    }

    /// The lines as CSV rows (see [`crate::ingest::RejectedRows::write_csv`]).
    pub(crate) fn csv(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.bytes.len() + self.len() * 48);
        let format = &self.format;
        for (i, line) in self.lines().enumerate() {
            integer_cell(&mut out, self.rows[i] as i64);
            out.push(b',');
            text_cell(&mut out, self.reasons[i].as_str(), true);
            out.push(b',');
            text_cell(&mut out, &format.customer_column, true);
            out.push(b',');
            if let Some(value) = &self.values[i] {
                text_cell(&mut out, value, true);
            }
            out.push(b',');
            let content = without_line_end(line);
            if written_as_read(content, format) {
                out.extend_from_slice(content);
            } else {
                for (k, value) in self.fields(line).enumerate() {
                    if k > 0 {
                        out.push(b',');
                    }
                    if let Some(value) = value {
                        text_cell(&mut out, &value, true);
                    }
                }
            }
            out.push(b'\n');
        }
        out
    }

    /// The lines as a frame, the input's columns named `columns`.
    pub(crate) fn frame(&self, columns: &[String]) -> PolarsResult<DataFrame> {
        let mut fields: Vec<StringChunkedBuilder> = columns
            .iter()
            .map(|name| StringChunkedBuilder::new(name.into(), self.len()))
            .collect();
        for line in self.lines() {
            for (builder, value) in fields.iter_mut().zip(self.fields(line)) {
                builder.append_option(value.as_deref());
            }
        }
        let n = self.len();
        let rows: Vec<IdxSize> = self.rows.iter().map(|r| *r as IdxSize).collect();
        let reasons: Vec<&str> = self.reasons.iter().map(|r| r.as_str()).collect();
        let values: Vec<Option<&str>> = self.values.iter().map(|v| v.as_deref()).collect();
        let mut frame = vec![
            Column::new(REJECT_COLUMNS[0].into(), rows),
            Column::new(REJECT_COLUMNS[1].into(), reasons),
            Column::new(
                REJECT_COLUMNS[2].into(),
                vec![self.format.customer_column.as_str(); n],
            ),
            Column::new(REJECT_COLUMNS[3].into(), values),
        ];
        frame.extend(fields.into_iter().map(|b| b.finish().into_column()));
        DataFrame::new(n, frame)
    }
}

/// A line without its `\n` or `\r\n`.
fn without_line_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Whether the fields of `line` (without its line end) are written exactly as they were read:
/// separated by commas, none quoted or needing quotes, none starting with a character the
/// formula guard escapes.
fn written_as_read(line: &[u8], format: &LineFormat) -> bool {
    if format.separator != b',' {
        return false;
    }
    let guarded =
        |byte: Option<&u8>| byte.is_some_and(|b| FORMULA_STARTS.contains(&char::from(*b)) || *b == b'\'');
    let special = match format.quote {
        Some(q) if q != b'"' => memchr::memchr(q, line).is_some(),
        _ => false,
    };
    !special
        && memchr::memchr3(b'"', b'\r', b'\n', line).is_none()
        && !guarded(line.first())
        && !memchr::memchr_iter(b',', line).any(|i| guarded(line.get(i + 1)))
}
