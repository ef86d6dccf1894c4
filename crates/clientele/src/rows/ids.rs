//! Customer and order ids: one reading of every id, whichever reader reads the row.

use polars::prelude::*;

/// `(id, missing, invalid)` for an id column (customer or order), by the same rules whichever
/// reader reads the row: blank text is missing; a number written with a decimal point must be
/// whole: text as [`id_of_text`] reads it, floats whole and within 64 bits (`17850.0` is the
/// id 17850; `12.5`, NaN, ±infinity and `1e20` are invalid).
pub(crate) fn id_exprs(name: &str, dtype: &DataType) -> (Expr, Expr, Expr) {
    let c = col(name);
    match dtype {
        DataType::String | DataType::Categorical(..) => {
            let text = c.cast(DataType::String);
            let blank = text.clone().str().strip_chars(lit(NULL)).eq(lit(""));
            let missing = text.clone().is_null().or(blank.clone());
            let id = whole_text_ids(text);
            (
                when(blank)
                    .then(lit(NULL).cast(DataType::String))
                    .otherwise(id.clone()),
                missing.clone(),
                missing.not().and(id.is_null()),
            )
        }
        dt if dt.is_float() => {
            // 2⁶³ is exact in every float type: whole values in [-2⁶³, 2⁶³) fit an i64.
            const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;
            let fits = c
                .clone()
                .gt_eq(lit(-TWO_POW_63))
                .and(c.clone().lt(lit(TWO_POW_63)));
            let whole = c
                .clone()
                .is_finite()
                .and(c.clone().eq(c.clone().floor()))
                .and(fits);
            let invalid = c.clone().is_not_null().and(whole.clone().not());
            (
                when(whole)
                    .then(c.clone().cast(DataType::Int64))
                    .otherwise(lit(NULL)),
                c.is_null(),
                invalid,
            )
        }
        _ => (c.clone(), c.is_null(), lit(false)),
    }
}

/// The id a text id stands for: the text itself, except for a number written with a decimal
/// point (`-?[0-9]+[.][0-9]+`), which stands for the digits before the point when its fraction
/// is all zeros (`17850.0` is `17850`, `007.00` is `007`) and for no id (`None`, an invalid id)
/// otherwise (`12.5`). Other text (`1e3`, `A12.5`, ` 12.5`) is an id as written.
pub(crate) fn id_of_text(text: &str) -> Option<&str> {
    let bytes = text.as_bytes();
    // Ids are short: a plain loop finds the point sooner than memchr's dispatch.
    let point = match bytes.len() {
        0..=32 => bytes.iter().position(|b| *b == b'.'),
        _ => memchr::memchr(b'.', bytes),
    };
    let Some(point) = point else {
        return Some(text);
    };
    let integer = &bytes[..point];
    let integer = integer.strip_prefix(b"-").unwrap_or(integer);
    let fraction = &bytes[point + 1..];
    let digits = |part: &[u8]| !part.is_empty() && part.iter().all(u8::is_ascii_digit);
    if !(digits(integer) && digits(fraction)) {
        return Some(text);
    }
    fraction.iter().all(|d| *d == b'0').then(|| &text[..point])
}

/// Text ids as [`id_of_text`] reads them, null for an invalid one.
fn whole_text_ids(text: Expr) -> Expr {
    text.map(
        |c: Column| {
            let ids = c.str()?;
            // Most columns hold no number with a point: they pass through untouched.
            let changes = |v: &str| id_of_text(v).map(str::len) != Some(v.len());
            if !ids.iter().any(|v| v.is_some_and(changes)) {
                return Ok(c);
            }
            let read: StringChunked = ids.iter().map(|v| v.and_then(id_of_text)).collect();
            Ok(read.with_name(c.name().clone()).into_column())
        },
        |_, field| Ok(Field::new(field.name().clone(), DataType::String)),
    )
}

/// A customer or order id written as a canonical integer (no sign but `-`, no leading zero,
/// within 64 bits) as that integer; `None` for any other text.
pub(crate) fn canonical_integer(text: &str) -> Option<i64> {
    // One pass over the bytes (this runs for every id of a CSV log): digits accumulate as a
    // negative number so that i64::MIN fits, overflow is refused.
    let bytes = text.as_bytes();
    let (negative, digits) = match bytes.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, bytes),
    };
    let canonical = match digits {
        [] => false,
        [b'0'] => !negative,
        [first, ..] => *first != b'0',
    };
    if !canonical {
        return None;
    }
    let mut value: i64 = 0;
    for byte in digits {
        let digit = byte.wrapping_sub(b'0');
        if digit > 9 {
            return None;
        }
        value = value.checked_mul(10)?.checked_sub(i64::from(digit))?;
    }
    if negative {
        Some(value)
    } else {
        value.checked_neg()
    }
}

/// The key of a text order id: a canonical non-negative integer as that integer, a number
/// behind a one-letter prefix by [`prefixed_key`], other text by [`text_key`]; the three kinds
/// never meet (see each).
pub(crate) fn order_key_of_text(text: &str) -> u64 {
    match canonical_integer(text) {
        Some(value) if value >= 0 => value as u64,
        _ => prefixed_key(text).unwrap_or_else(|| text_key(text)),
    }
}

/// The key of an id made of one ASCII character that is not a digit and 1 to 15 digits
/// (`O00000012345`, `C536365`, `#1001`): the top bit and bit 61 set (bit 62 clear, so no
/// [`text_key`] meets it), the prefix in bits 54..61, the number of digits in bits 50..54 and
/// their value below. The digits' count makes it exact (`O012` and `O12` differ), and the ids
/// of one prefix and width are consecutive keys, so the order owners of the accumulator can
/// hold them as they hold integer order ids, instead of pairs sorted at the end.
pub(crate) fn prefixed_key(text: &str) -> Option<u64> {
    const PREFIXED: u64 = (1 << 63) | (1 << 61);
    let (prefix, digits) = text.as_bytes().split_first()?;
    if !prefix.is_ascii() || prefix.is_ascii_digit() || digits.is_empty() || digits.len() > 15 {
        return None;
    }
    let value = digits_value(digits)?;
    Some(PREFIXED | (u64::from(*prefix) << 54) | ((digits.len() as u64) << 50) | value)
}

/// Text customer ids of one *numbering*: a fixed prefix of 1 to [`Numbering::MAX_PREFIX`]
/// bytes other than `-`, then a fixed count of 1 to 18 digits (`C004572124`, `CUST-000042`),
/// so that no id of a numbering is a canonical integer ([`canonical_integer`]). Such
/// an id is exactly its number (its text is the prefix and the number padded with zeros to
/// the width), and the ids of one numbering sort as their numbers do, so the accumulator keeps
/// them as it keeps integer ids, by their number, and writes their text at the end. An id of
/// another prefix or width is simply not of the numbering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Numbering {
    prefix: [u8; Numbering::MAX_PREFIX],
    prefix_len: u8,
    width: u8,
}

impl Numbering {
    /// The longest prefix a numbering has.
    pub(crate) const MAX_PREFIX: usize = 8;

    /// The numbering of `text`, when it is such a prefix and digits: its trailing digits
    /// are the number.
    pub(crate) fn of(text: &str) -> Option<Numbering> {
        let bytes = text.as_bytes();
        let digits = bytes.iter().rev().take_while(|b| b.is_ascii_digit()).count();
        let prefix_len = bytes.len() - digits;
        let prefix_ok = (1..=Self::MAX_PREFIX).contains(&prefix_len) && &bytes[..prefix_len] != b"-";
        if !(1..=18).contains(&digits) || !prefix_ok {
            return None;
        }
        let mut prefix = [0u8; Self::MAX_PREFIX];
        prefix[..prefix_len].copy_from_slice(&bytes[..prefix_len]);
        Some(Numbering {
            prefix,
            prefix_len: prefix_len as u8,
            width: digits as u8,
        })
    }

    /// The number of `text` when it is of this numbering.
    #[inline(always)]
    pub(crate) fn number(&self, text: &str) -> Option<i64> {
        let bytes = text.as_bytes();
        let prefix_len = usize::from(self.prefix_len);
        if bytes.len() != prefix_len + usize::from(self.width) {
            return None;
        }
        // A loop, not a slice comparison: that would call memcmp for a few bytes.
        for (byte, expected) in bytes[..prefix_len].iter().zip(&self.prefix) {
            if byte != expected {
                return None;
            }
        }
        // At most 18 digits: below 10¹⁸, within an i64.
        digits_value(&bytes[prefix_len..]).map(|value| value as i64)
    }

    /// Appends the text of the id numbered `number` (at least 0, of at most the width's digits)
    /// to `out`.
    pub(crate) fn write(&self, number: i64, out: &mut String) {
        let prefix = &self.prefix[..usize::from(self.prefix_len)];
        out.push_str(std::str::from_utf8(prefix).expect("a prefix cut before ASCII digits is UTF-8"));
        let mut digits = [b'0'; 18];
        let mut rest = number.unsigned_abs();
        for digit in digits[..usize::from(self.width)].iter_mut().rev() {
            *digit = b'0' + (rest % 10) as u8;
            rest /= 10;
        }
        out.push_str(std::str::from_utf8(&digits[..usize::from(self.width)]).expect("ASCII digits"));
    }
}

/// What a text customer id is to the accumulator, given the pass's numbering if any: a number
/// of the numbering, a canonical integer (the two never meet, see [`Numbering`]), or other
/// text. Routing an id to its shard and giving it a slot read it the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TextId {
    /// The id's number in the numbering.
    Numbered(i64),
    /// The canonical integer the id is.
    Integer(i64),
    /// Any other text.
    Other,
}

impl TextId {
    /// How `id` reads with `numbering`.
    #[inline(always)]
    pub(crate) fn of(id: &str, numbering: Option<Numbering>) -> TextId {
        if let Some(number) = numbering.and_then(|n| n.number(id)) {
            return TextId::Numbered(number);
        }
        match canonical_integer(id) {
            Some(value) => TextId::Integer(value),
            None => TextId::Other,
        }
    }
}

/// The value of `digits`, ASCII digits only (at most 19 of them, so it fits), else `None`.
#[inline(always)]
fn digits_value(digits: &[u8]) -> Option<u64> {
    let mut value = 0u64;
    for byte in digits {
        let digit = byte.wrapping_sub(b'0');
        if digit > 9 {
            return None;
        }
        value = value * 10 + u64::from(digit);
    }
    Some(value)
}

/// A text order id's key, top bit set: up to 7 bytes without NUL packed exactly below it,
/// longer text as a 62-bit xxh3 hash with the next bit set too (so the two never collide).
pub(crate) fn text_key(text: &str) -> u64 {
    const TEXT: u64 = 1 << 63;
    const HASHED: u64 = 1 << 62;
    let bytes = text.as_bytes();
    if bytes.len() <= 7 && !bytes.contains(&0) {
        let mut packed = [0u8; 8];
        packed[..bytes.len()].copy_from_slice(bytes);
        TEXT | u64::from_le_bytes(packed)
    } else {
        // The low bit cleared keeps the key off `NO_ORDER`.
        (xxhash_rust::xxh3::xxh3_64(bytes) | TEXT | HASHED) & !1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixed_order_keys_are_exact_and_meet_no_other_key() {
        let key = |t: &str| order_key_of_text(t);
        assert_eq!(key("O00000000012") + 1, key("O00000000013"), "consecutive");
        assert_ne!(key("O012"), key("O12"), "the width counts");
        assert_ne!(key("O12"), key("P12"));
        assert_ne!(key("C536365"), key("536365"));
        assert_eq!(prefixed_key("C536365"), Some(key("C536365")));
        for text in ["", "O", "12", "OO12", "O1a", "é12", "O1234567890123456"] {
            assert_eq!(prefixed_key(text), None, "{text}");
        }
        // No text key has bit 61 set with bit 62 clear.
        for text in [
            "ab",
            "1234567",
            "O1",
            "a-long-order-id-123",
            "\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}",
        ] {
            let k = text_key(text);
            assert!(k >> 62 == 0b11 || (k >> 56) & 0x7f == 0, "{text}");
        }
        let max = key("~999999999999999");
        assert!(max >> 61 == 0b101 && max != u64::MAX);
    }

    #[test]
    fn a_numbering_reads_its_ids_exactly_and_writes_them_back() {
        let n = Numbering::of("C004572124").expect("a numbering");
        assert_eq!(n.number("C004572124"), Some(4_572_124));
        assert_eq!(n.number("C000000000"), Some(0));
        for other in [
            "C04572124",
            "D004572124",
            "C00457212x",
            "C0045721245",
            "4572124",
            "c004572124",
        ] {
            assert_eq!(n.number(other), None, "{other}");
        }
        for (text, number) in [
            ("C004572124", 4_572_124),
            ("C000000000", 0),
            ("C999999999", 999_999_999),
        ] {
            let mut out = String::new();
            n.write(number, &mut out);
            assert_eq!(out, text);
        }
        assert!(Numbering::of("CUST-é-000042").is_some(), "a prefix of 8 bytes");
        assert!(Numbering::of("CUSTOMER-000042").is_none(), "a prefix of 9 bytes");
        let mut out = String::new();
        Numbering::of("é-1").unwrap().write(7, &mut out);
        assert_eq!(out, "é-7");
        // No id of a numbering may be a canonical integer: digits alone, or behind `-`.
        for none in ["981", "000981", "-5", "-0042", "C", "", "C1234567890123456789"] {
            assert_eq!(Numbering::of(none), None, "{none}");
        }
    }

    #[test]
    fn numbers_with_a_point_must_be_whole_other_text_is_kept() {
        for (text, id) in [
            ("17850.0", Some("17850")),
            ("17850.000", Some("17850")),
            ("-3.0", Some("-3")),
            ("007.00", Some("007")),
            ("99999999999999999999.0", Some("99999999999999999999")),
            ("12.5", None),
            ("-0.01", None),
            ("12.50", None),
            ("17850", Some("17850")),
            ("1e3", Some("1e3")),
            ("12.", Some("12.")),
            (".5", Some(".5")),
            ("A12.5", Some("A12.5")),
            (" 12.5", Some(" 12.5")),
            ("1.2.3", Some("1.2.3")),
            ("v1.0", Some("v1.0")),
            ("", Some("")),
        ] {
            assert_eq!(id_of_text(text), id, "{text:?}");
        }
    }
}
