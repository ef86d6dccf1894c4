//! CSV of frames whose columns are all text or integers (the rejected rows: every input column
//! is kept as the text it was read as), encoded by clientele.
//!
//! The bytes are exactly those polars' `CsvWriter` writes for the guarded frame
//! ([`super::guard_text`]) with clientele's options: a header, `,` between fields, `\n` after
//! each line, a missing value as nothing, an empty text as `""`, a text containing the
//! separator, a quote, `\n` or `\r` quoted with inner quotes doubled. The guard is applied as a
//! cell is written instead of in a copy of the frame, and row ranges are encoded in parallel.
//! A frame with any other column type goes to polars.

use std::io::Write;

use polars::prelude::*;
use polars_arrow::array::{Array, PrimitiveArray, Utf8ViewArray};
use rayon::prelude::*;

use super::FORMULA_STARTS;

/// Rows encoded by one parallel task.
const ROWS_PER_TASK: usize = 16_384;

/// One column's cells, as the encoder reads them.
enum Cells {
    Text(StringChunked),
    Integer(Int64Chunked),
}

/// `frame` as CSV into `writer`, or `None` (nothing written) when a column is neither text nor
/// an integer type that fits `i64`.
pub(super) fn write(frame: &DataFrame, writer: &mut impl Write) -> Option<PolarsResult<()>> {
    let columns = text_or_integer_columns(frame)?;
    Some(write_columns(frame, &columns, writer))
}

fn text_or_integer_columns(frame: &DataFrame) -> Option<Vec<Cells>> {
    if frame.width() == 0 {
        return None;
    }
    frame
        .columns()
        .iter()
        .map(|column| match column.dtype() {
            DataType::String => Some(Cells::Text(column.str().ok()?.clone())),
            DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32 => {
                let cast = column.cast(&DataType::Int64).ok()?;
                Some(Cells::Integer(cast.i64().ok()?.clone()))
            }
            _ => None,
        })
        .collect()
}

fn write_columns(frame: &DataFrame, columns: &[Cells], writer: &mut impl Write) -> PolarsResult<()> {
    writer.write_all(&csv_header(frame.get_column_names().iter().map(|n| n.as_str())))?;
    let height = frame.height();
    let starts: Vec<usize> = (0..height).step_by(ROWS_PER_TASK).collect();
    write_in_order(writer, &starts, |&start| {
        encode_rows(columns, start, ROWS_PER_TASK.min(height - start))
    })?;
    Ok(())
}

/// Writes `encode(part)` for each of `parts`, in order: a few parts encoded in parallel at a
/// time, so memory stays a few parts' bytes.
pub(crate) fn write_in_order<T: Sync>(
    writer: &mut impl Write,
    parts: &[T],
    encode: impl Fn(&T) -> Vec<u8> + Sync,
) -> std::io::Result<()> {
    let batch = 4 * rayon::current_num_threads().max(1);
    for group in parts.chunks(batch) {
        let encoded: Vec<Vec<u8>> = group.par_iter().map(&encode).collect();
        for bytes in encoded {
            writer.write_all(&bytes)?;
        }
    }
    Ok(())
}

/// The header line of a CSV file with the columns `names`.
pub(crate) fn csv_header<'a>(names: impl Iterator<Item = &'a str>) -> Vec<u8> {
    let mut header = Vec::new();
    for (i, name) in names.enumerate() {
        if i > 0 {
            header.push(b',');
        }
        text_cell(&mut header, name, false);
    }
    header.push(b'\n');
    header
}

/// The lines of rows `start..start + len`.
fn encode_rows(columns: &[Cells], start: usize, len: usize) -> Vec<u8> {
    // Each column's range as one array, read by index.
    let ranges: Vec<Range> = columns
        .iter()
        .map(|column| match column {
            Cells::Text(text) => Range::Text(one_array(text.slice(start as i64, len))),
            Cells::Integer(ints) => Range::Integer(one_array(ints.slice(start as i64, len))),
        })
        .collect();
    let mut out = Vec::with_capacity(len * 16 * columns.len());
    for row in 0..len {
        for (i, range) in ranges.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            match range {
                Range::Text(text) if text.is_valid(row) => text_cell(&mut out, text.value(row), true),
                Range::Integer(ints) if ints.is_valid(row) => integer_cell(&mut out, ints.value(row)),
                _ => {}
            }
        }
        out.push(b'\n');
    }
    out
}

/// A column's range of rows, as one array.
enum Range {
    Text(Utf8ViewArray),
    Integer(PrimitiveArray<i64>),
}

fn one_array<T: PolarsDataType>(range: ChunkedArray<T>) -> T::Array
where
    T::Array: Clone,
{
    range
        .rechunk()
        .downcast_iter()
        .next()
        .expect("a rechunked array has one chunk")
        .clone()
}

/// An integer in decimal digits, as polars writes it.
pub(crate) fn integer_cell(out: &mut Vec<u8>, value: i64) {
    if value < 0 {
        out.push(b'-');
    }
    push_u64(out, value.unsigned_abs());
}

/// `value` in decimal digits.
pub(crate) fn push_u64(out: &mut Vec<u8>, mut value: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

/// A text cell as polars writes it (quoted when necessary), with the formula guard
/// ([`super::guard_text`]) when `guard`.
pub(crate) fn text_cell(out: &mut Vec<u8>, value: &str, guard: bool) {
    let guarded = guard && (value.starts_with(FORMULA_STARTS) || value.starts_with('\''));
    let bytes = value.as_bytes();
    if bytes.is_empty() {
        out.extend_from_slice(b"\"\"");
        return;
    }
    // Most cells are short: a plain loop beats two memchr calls.
    let quoted = bytes.iter().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r'));
    if quoted {
        out.push(b'"');
    }
    if guarded {
        out.push(b'\'');
    }
    if quoted {
        for part in bytes.split_inclusive(|b| *b == b'"') {
            out.extend_from_slice(part);
            if part.last() == Some(&b'"') {
                out.push(b'"');
            }
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn polars_bytes(frame: &DataFrame) -> Vec<u8> {
        let mut guarded = super::super::guard_text(frame);
        let mut out = Vec::new();
        CsvWriter::new(&mut out)
            .include_header(true)
            .finish(&mut guarded)
            .unwrap();
        out
    }

    fn ours(frame: &DataFrame) -> Vec<u8> {
        let mut out = Vec::new();
        write(frame, &mut out).expect("text and integers").unwrap();
        out
    }

    #[test]
    fn odd_text_is_written_as_polars_writes_the_guarded_frame() {
        let odd = [
            Some("plain"),
            None,
            Some(""),
            Some("a,b"),
            Some("say \"hi\""),
            Some("\"lead"),
            Some("line\nbreak"),
            Some("cr\rhere"),
            Some("=1+1"),
            Some("-5"),
            Some("+5"),
            Some("@x"),
            Some("\tx"),
            Some("\rx"),
            Some("'quoted"),
            Some("=\"a,b\""),
            Some("ünïcode, ☃"),
            Some(" spaced "),
            Some(";"),
        ];
        let n = odd.len();
        let id = |i: i64| match i {
            1 => Some(i64::MIN),
            2 => Some(i64::MAX),
            _ => (i % 3 != 0).then_some(i - 7),
        };
        // Several chunks and more rows than one task, so ranges cross chunk boundaries.
        let mut frame = DataFrame::new(
            n,
            vec![
                Column::new("reject_row".into(), (0..n as u32).collect::<Vec<_>>()),
                Column::new("odd, \"name\"".into(), odd.to_vec()),
                Column::new("id".into(), (0..n as i64).map(id).collect::<Vec<_>>()),
            ],
        )
        .unwrap();
        for _ in 0..12 {
            let copy = frame.clone();
            frame.vstack_mut_owned(copy).unwrap();
        }
        assert!(frame.height() > 2 * ROWS_PER_TASK && frame.columns()[0].n_chunks() > 1);
        assert_eq!(ours(&frame), polars_bytes(&frame));
        let empty = frame.head(Some(0));
        assert_eq!(ours(&empty), polars_bytes(&empty));
    }

    #[test]
    fn other_column_types_are_left_to_polars() {
        let frame = df!("x" => [1.5f64], "t" => ["a"]).unwrap();
        assert!(write(&frame, &mut Vec::new()).is_none());
    }
}
