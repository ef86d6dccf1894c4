//! A 128-bit hash of a whole row's fields, for counting duplicate rows (the data-quality
//! statistics) in the pass that reads the input: clientele's CSV reader hashes the text of
//! each line's fields, polars' path the raw columns' values (text as text, numbers, dates and
//! times by their value). Polars reads CSV fields as text, so on CSV input both readers
//! count the same duplicates.
//!
//! Each field is folded into the row's hash so far (see [`RowHasher`]); two rows count as one
//! when their 128-bit hashes are equal, which for different rows has a probability of about
//! n²/2¹²⁹ (below 10⁻²⁰ for 10⁸ rows). Polars' path hashes column by column, clientele's
//! reader field by field along each line: the same folds in the same order.

use polars::prelude::*;
use xxhash_rust::xxh3::xxh3_128;

/// The name of raw column `i` beside the classified columns (see
/// `Transactions::classify_frame_with_raw`).
pub(crate) fn raw_column(i: usize) -> PlSmallStr {
    format!("__raw_{i}").into()
}

/// The hash of one row, field by field: each field is folded into the hash so far,
/// `h = xxh3_128(h, field)`, a field being a missing marker, or a type tag and its bytes (text
/// with its length), so rows of different fields give different streams.
#[derive(Default)]
pub(crate) struct RowHasher {
    hash: u128,
    buffer: Vec<u8>,
}

impl RowHasher {
    pub(crate) fn new() -> Self {
        RowHasher::default()
    }

    /// The next field as text: `None` when missing.
    #[inline]
    pub(crate) fn field(&mut self, value: Option<&[u8]>) {
        self.hash = fold(self.hash, value, &mut self.buffer);
    }

    /// The hash of the fields so far; the hasher starts a new row.
    pub(crate) fn finish(&mut self) -> u128 {
        std::mem::take(&mut self.hash)
    }
}

/// `hash` with a text field folded in.
#[inline]
fn fold(hash: u128, value: Option<&[u8]>, buffer: &mut Vec<u8>) -> u128 {
    buffer.clear();
    buffer.extend_from_slice(&hash.to_le_bytes());
    match value {
        None => buffer.push(0),
        Some(bytes) => {
            buffer.push(1);
            buffer.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
            buffer.extend_from_slice(bytes);
        }
    }
    xxh3_128(buffer)
}

/// `hash` with a number folded in, `tag` telling integer, unsigned and float values apart.
#[inline]
fn fold_number(hash: u128, tag: u8, value: Option<[u8; 8]>) -> u128 {
    let mut bytes = [0u8; 25];
    bytes[..16].copy_from_slice(&hash.to_le_bytes());
    match value {
        None => xxh3_128(&bytes[..17]),
        Some(v) => {
            bytes[16] = tag;
            bytes[17..].copy_from_slice(&v);
            xxh3_128(&bytes)
        }
    }
}

/// The hashes of the rows of raw columns (all of one length), in row order: text as text,
/// numbers, dates and times by their value (equal floats alike: -0 as 0, every NaN as one),
/// anything else by its text; rows where `skip` is true give none.
pub(crate) fn row_hashes(columns: &[&Column], skip: impl Fn(usize) -> bool) -> PolarsResult<Vec<u128>> {
    let height = columns.first().map_or(0, |c| c.len());
    let mut hashes = vec![0u128; height];
    let mut buffer = Vec::new();
    for column in columns {
        let dtype = column.dtype();
        let physical = column.to_physical_repr();
        let plain = !dtype.is_categorical() && !dtype.is_enum();
        if dtype == &DataType::String {
            let text = column.str()?;
            for (h, v) in hashes.iter_mut().zip(text.iter()) {
                *h = fold(*h, v.map(str::as_bytes), &mut buffer);
            }
        } else if dtype.is_float() {
            let floats = column.cast(&DataType::Float64)?;
            for (h, v) in hashes.iter_mut().zip(floats.f64()?.iter()) {
                let canonical = v.map(|x| {
                    let x = if x.is_nan() {
                        f64::NAN
                    } else if x == 0.0 {
                        0.0 // -0 as 0
                    } else {
                        x
                    };
                    x.to_bits().to_le_bytes()
                });
                *h = fold_number(*h, 4, canonical);
            }
        } else if plain && physical.dtype().is_unsigned_integer() {
            let values = physical.cast(&DataType::UInt64)?;
            for (h, v) in hashes.iter_mut().zip(values.u64()?.iter()) {
                *h = fold_number(*h, 3, v.map(u64::to_le_bytes));
            }
        } else if plain && physical.dtype().is_integer() {
            let values = physical.cast(&DataType::Int64)?;
            for (h, v) in hashes.iter_mut().zip(values.i64()?.iter()) {
                *h = fold_number(*h, 2, v.map(i64::to_le_bytes));
            }
        } else {
            // Booleans, categories, decimals and anything else: by their text.
            let text = column.cast(&DataType::String)?;
            for (h, v) in hashes.iter_mut().zip(text.str()?.iter()) {
                *h = fold(*h, v.map(str::as_bytes), &mut buffer);
            }
        }
    }
    Ok(hashes
        .into_iter()
        .enumerate()
        .filter(|(i, _)| !skip(*i))
        .map(|(_, h)| h)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(fields: &[Option<&str>]) -> u128 {
        let mut h = RowHasher::new();
        for f in fields {
            h.field(f.map(str::as_bytes));
        }
        h.finish()
    }

    #[test]
    fn fields_are_delimited_and_missing_is_not_empty() {
        assert_ne!(hash(&[Some("ab"), Some("c")]), hash(&[Some("a"), Some("bc")]));
        assert_ne!(hash(&[None, Some("a")]), hash(&[Some("a"), None]));
        assert_ne!(hash(&[None]), hash(&[Some("")]));
        assert_eq!(hash(&[Some("x"), None]), hash(&[Some("x"), None]));
    }

    #[test]
    fn text_columns_hash_as_the_fields_do_and_values_by_value() {
        let a = Column::new("a".into(), [Some("1"), None, Some("1")]);
        let b = Column::new("b".into(), [Some("x"), Some("y"), Some("x")]);
        let hashes = row_hashes(&[&a, &b], |i| i == 1).unwrap();
        assert_eq!(hashes, vec![hash(&[Some("1"), Some("x")]); 2]);
        let f = Column::new("f".into(), [0.0, -0.0, 1.5, f64::NAN, f64::NAN]);
        let i = Column::new("i".into(), [1i32, 1, 2, 3, 3]);
        let h = row_hashes(&[&f, &i], |_| false).unwrap();
        assert_eq!((h[0], h[3]), (h[1], h[4]));
        assert_ne!(h[0], h[2]);
        let as_int = Column::new("i".into(), [1i64]);
        let as_uint = Column::new("i".into(), [1u64]);
        assert_ne!(
            row_hashes(&[&as_int], |_| false).unwrap(),
            row_hashes(&[&as_uint], |_| false).unwrap()
        );
    }
}
