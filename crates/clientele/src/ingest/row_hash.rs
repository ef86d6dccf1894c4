//! A 128-bit hash of a whole row's fields, as text, for counting duplicate rows (the
//! data-quality statistics) in the pass that reads the input: clientele's CSV reader hashes
//! the fields of each line, polars' path the raw columns cast to text; both feed the same
//! hasher, so the two readers count the same duplicates.
//!
//! A field is a missing marker or its length and bytes, so no two different rows (field by
//! field) give the same stream; two rows count as one when their 128-bit hashes are equal,
//! which for different rows has a probability of about n²/2¹²⁹ (below 10⁻²⁰ for 10⁸ rows).

use polars::prelude::*;
use xxhash_rust::xxh3::Xxh3;

/// The name of raw column `i` as text beside the classified columns (see
/// `Transactions::classify_frame_with_raw`).
pub(crate) fn raw_text_column(i: usize) -> PlSmallStr {
    format!("__raw_text_{i}").into()
}

/// The hash of one row, field by field.
pub(crate) struct RowHasher(Xxh3);

impl RowHasher {
    pub(crate) fn new() -> Self {
        RowHasher(Xxh3::new())
    }

    /// The next field: `None` when missing.
    #[inline]
    pub(crate) fn field(&mut self, value: Option<&[u8]>) {
        match value {
            None => self.0.update(&[0]),
            Some(bytes) => {
                self.0.update(&[1]);
                self.0.update(&(bytes.len() as u64).to_le_bytes());
                self.0.update(bytes);
            }
        }
    }

    pub(crate) fn finish(&self) -> u128 {
        self.0.digest128()
    }
}

/// The hashes of the rows of text columns (all of one length), in row order; rows where
/// `skip` is true give none.
pub(crate) fn text_row_hashes(columns: &[&StringChunked], skip: impl Fn(usize) -> bool) -> Vec<u128> {
    let height = columns.first().map_or(0, |c| c.len());
    let columns: Vec<StringChunked> = columns.iter().map(|c| c.rechunk().into_owned()).collect();
    let arrays: Vec<_> = columns.iter().map(|c| c.downcast_iter().next()).collect();
    (0..height)
        .filter(|i| !skip(*i))
        .map(|i| {
            let mut hasher = RowHasher::new();
            for array in &arrays {
                hasher.field(array.and_then(|a| a.get(i)).map(str::as_bytes));
            }
            hasher.finish()
        })
        .collect()
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
    fn text_columns_hash_as_the_fields_do() {
        let a = StringChunked::from_iter_options("a".into(), [Some("1"), None, Some("1")].into_iter());
        let b = StringChunked::from_iter_options("b".into(), [Some("x"), Some("y"), Some("x")].into_iter());
        let hashes = text_row_hashes(&[&a, &b], |i| i == 1);
        assert_eq!(hashes, vec![hash(&[Some("1"), Some("x")]); 2]);
    }
}
