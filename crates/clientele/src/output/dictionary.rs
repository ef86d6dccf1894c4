//! Dictionaries of short-label columns for the Parquet writer, found from the strings' views.
//!
//! polars' writer dictionary-encodes a text column when an estimate of its distinct values is
//! low: it hashes every string twice, once to estimate and once to build the dictionary. Labels
//! (`rfm_cell`, `segment`, `abc_class`) are a handful of short strings over millions of rows,
//! and a short string (at most 12 bytes) is held whole in its 16-byte view, so the dictionary
//! can be found by comparing views as numbers. It is the dictionary polars builds (values in
//! order of first appearance, `u32` keys), so the file is byte for byte polars' (tested in
//! `output/mod.rs`).

use polars::prelude::PlHashMap;
use polars_arrow::array::{Array, DictionaryArray, PrimitiveArray, Utf8ViewArray, View};
use polars_arrow::datatypes::{ArrowDataType, IntegerType};

/// Most distinct values looked for; a column with more is left to polars.
const MAX_VALUES: usize = 1024;

/// The column as a dictionary array, when it is text of short strings without nulls whose
/// distinct values are at most [`MAX_VALUES`] and a quarter of its rows: well below the share
/// (three quarters) at which polars' estimate would write the values plainly.
pub(super) fn short_labels(array: &dyn Array) -> Option<DictionaryArray<u32>> {
    let text = array.as_any().downcast_ref::<Utf8ViewArray>()?;
    if text.null_count() > 0 || text.is_empty() {
        return None;
    }
    let mut codes: PlHashMap<u128, u32> = PlHashMap::default();
    let mut firsts: Vec<usize> = Vec::new();
    let mut keys: Vec<u32> = Vec::with_capacity(text.len());
    let mut last: Option<(u128, u32)> = None;
    for (row, view) in text.views().iter().enumerate() {
        if view.length > View::MAX_INLINE_SIZE {
            return None;
        }
        // The bytes past the string's end are not part of it.
        let value = view.as_u128() & inline_mask(view.length);
        let code = match last {
            Some((previous, code)) if previous == value => code,
            _ => {
                let next = codes.len() as u32;
                let code = *codes.entry(value).or_insert(next);
                if code == next {
                    if codes.len() > MAX_VALUES {
                        return None;
                    }
                    firsts.push(row);
                }
                last = Some((value, code));
                code
            }
        };
        keys.push(code);
    }
    if codes.len() * 4 > text.len() {
        return None;
    }
    let firsts: Vec<&str> = firsts.iter().map(|row| text.value(*row)).collect();
    let values = Utf8ViewArray::from_slice_values(&firsts);
    let dtype = ArrowDataType::Dictionary(IntegerType::UInt32, Box::new(array.dtype().clone()), false);
    DictionaryArray::try_new(dtype, PrimitiveArray::from_vec(keys), values.boxed()).ok()
}

/// The bits of a view that hold its length and its first `length` bytes (little-endian: the
/// length in the low 32 bits, the bytes after it).
fn inline_mask(length: u32) -> u128 {
    let bits = 32 + 8 * length;
    if bits >= 128 {
        u128::MAX
    } else {
        (1u128 << bits) - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_get_codes_in_order_of_first_appearance() {
        let labels: Vec<&str> = (0..40).map(|i| ["B", "A", "C", "twelve bytes"][i % 4]).collect();
        let array = Utf8ViewArray::from_slice_values(labels.iter());
        let dictionary = short_labels(&array).expect("four labels over forty rows");
        let keys: Vec<u32> = dictionary.keys().values().iter().copied().collect();
        assert_eq!(&keys[..5], &[0, 1, 2, 3, 0]);
        let values = dictionary
            .values()
            .as_any()
            .downcast_ref::<Utf8ViewArray>()
            .unwrap();
        let values: Vec<&str> = values.values_iter().collect();
        assert_eq!(values, ["B", "A", "C", "twelve bytes"]);
    }

    #[test]
    fn long_many_or_missing_values_are_left_to_polars() {
        let long = Utf8ViewArray::from_slice_values(["thirteen byte"; 40].iter());
        assert!(short_labels(&long).is_none());
        let many: Vec<String> = (0..40).map(|i| (i % 20).to_string()).collect();
        assert!(short_labels(&Utf8ViewArray::from_slice_values(many.iter())).is_none());
        let missing = Utf8ViewArray::from_slice([Some("A"), None, Some("A"), Some("A"), Some("A")]);
        assert!(short_labels(&missing).is_none());
    }
}
