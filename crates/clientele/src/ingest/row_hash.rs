//! A 128-bit hash of a whole row's fields, for counting duplicate rows (the data-quality
//! statistics) in the pass that reads the input: clientele's CSV reader hashes the text of
//! each line's fields, polars' path the raw columns' values (text as text, numbers, dates and
//! times by their value). Polars reads CSV fields as text, so on CSV input both readers
//! count the same duplicates.
//!
//! A field is a missing marker or its type, length and bytes, so no two different rows (field
//! by field) give the same bytes; two rows count as one when their 128-bit hashes are equal,
//! which for different rows has a probability of about n²/2¹²⁹ (below 10⁻²⁰ for 10⁸ rows).

use polars::prelude::*;
use xxhash_rust::xxh3::xxh3_128;

/// The name of raw column `i` beside the classified columns (see
/// `Transactions::classify_frame_with_raw`).
pub(crate) fn raw_column(i: usize) -> PlSmallStr {
    format!("__raw_{i}").into()
}

/// The bytes of one row, field by field, and their hash.
#[derive(Default)]
pub(crate) struct RowHasher(Vec<u8>);

impl RowHasher {
    pub(crate) fn new() -> Self {
        RowHasher::default()
    }

    /// The next field as text: `None` when missing.
    #[inline]
    pub(crate) fn field(&mut self, value: Option<&[u8]>) {
        match value {
            None => self.0.push(0),
            Some(bytes) => {
                self.0.push(1);
                self.0.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
                self.0.extend_from_slice(bytes);
            }
        }
    }

    /// The next field as a number of 8 bytes, `tag` telling integer, unsigned and float
    /// values apart.
    #[inline]
    fn number(&mut self, tag: u8, value: Option<[u8; 8]>) {
        match value {
            None => self.0.push(0),
            Some(bytes) => {
                self.0.push(tag);
                self.0.extend_from_slice(&bytes);
            }
        }
    }

    /// The hash of the fields so far; the hasher starts a new row.
    pub(crate) fn finish(&mut self) -> u128 {
        let hash = xxh3_128(&self.0);
        self.0.clear();
        hash
    }
}

/// A raw column, as the hasher reads it.
enum Values {
    Text(StringChunked),
    Int(Int64Chunked),
    UInt(UInt64Chunked),
    Float(Float64Chunked),
}

impl Values {
    fn of(column: &Column) -> PolarsResult<Values> {
        let dtype = column.dtype();
        let physical = column.to_physical_repr();
        Ok(if dtype == &DataType::String {
            Values::Text(column.str()?.rechunk().into_owned())
        } else if dtype.is_float() {
            Values::Float(column.cast(&DataType::Float64)?.f64()?.rechunk().into_owned())
        } else if physical.dtype().is_unsigned_integer() && !dtype.is_categorical() && !dtype.is_enum() {
            Values::UInt(physical.cast(&DataType::UInt64)?.u64()?.rechunk().into_owned())
        } else if physical.dtype().is_integer() && !dtype.is_categorical() && !dtype.is_enum() {
            Values::Int(physical.cast(&DataType::Int64)?.i64()?.rechunk().into_owned())
        } else {
            // Booleans, categories, decimals and anything else: by their text.
            Values::Text(column.cast(&DataType::String)?.str()?.rechunk().into_owned())
        })
    }

    #[inline]
    fn add(&self, row: usize, hasher: &mut RowHasher) {
        match self {
            Values::Text(v) => hasher.field(v.get(row).map(str::as_bytes)),
            Values::Int(v) => hasher.number(2, v.get(row).map(i64::to_le_bytes)),
            Values::UInt(v) => hasher.number(3, v.get(row).map(u64::to_le_bytes)),
            // Equal floats hash alike: -0 as 0, every NaN as one.
            Values::Float(v) => hasher.number(
                4,
                v.get(row).map(|x| match x {
                    x if x.is_nan() => f64::NAN.to_bits().to_le_bytes(),
                    x if x == 0.0 => 0f64.to_bits().to_le_bytes(),
                    x => x.to_bits().to_le_bytes(),
                }),
            ),
        }
    }
}

/// The hashes of the rows of raw columns (all of one length), in row order; rows where
/// `skip` is true give none.
pub(crate) fn row_hashes(columns: &[&Column], skip: impl Fn(usize) -> bool) -> PolarsResult<Vec<u128>> {
    let height = columns.first().map_or(0, |c| c.len());
    let values: Vec<Values> = columns
        .iter()
        .map(|c| Values::of(c))
        .collect::<PolarsResult<_>>()?;
    let mut hasher = RowHasher::new();
    Ok((0..height)
        .filter(|i| !skip(*i))
        .map(|i| {
            for v in &values {
                v.add(i, &mut hasher);
            }
            hasher.finish()
        })
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
