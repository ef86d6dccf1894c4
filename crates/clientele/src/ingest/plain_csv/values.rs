//! The values the plain-CSV reader parses itself: timestamps of the detected ISO shape and
//! plain decimals, exactly as polars' parsing would give them.

/// The shape of the timestamps this reader parses itself, from the detected format.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum TimeShape {
    /// `YYYY-MM-DD`
    Date,
    /// `YYYY-MM-DD?HH:MM` with `?` the separator byte.
    Minutes(u8),
    /// `YYYY-MM-DD?HH:MM:SS` (fractions of a second are left to polars).
    Seconds(u8),
}

pub(super) fn time_shape(format: &str) -> Option<TimeShape> {
    Some(match format {
        "%Y-%m-%d" => TimeShape::Date,
        "%Y-%m-%d %H:%M" => TimeShape::Minutes(b' '),
        "%Y-%m-%dT%H:%M" => TimeShape::Minutes(b'T'),
        "%Y-%m-%d %H:%M:%S" | "%Y-%m-%d %H:%M:%S%.f" => TimeShape::Seconds(b' '),
        "%Y-%m-%dT%H:%M:%S" | "%Y-%m-%dT%H:%M:%S%.f" => TimeShape::Seconds(b'T'),
        _ => return None,
    })
}

/// `-?[0-9]+([.][0-9]+)?` (a comma for the point with a decimal comma), at most 18 digits, as
/// the correctly rounded `f64` that polars' cast gives: a mantissa below 2⁵³ divided by an
/// exact power of ten is one correctly rounded operation (Clinger's fast path); other values
/// go through the standard library's exact parser.
pub(super) fn parse_decimal(text: &str, decimal_comma: bool) -> Option<f64> {
    const POWERS: [f64; 19] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17,
        1e18,
    ];
    let bytes = text.as_bytes();
    let (negative, digits) = match bytes.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, bytes),
    };
    let point = if decimal_comma { b',' } else { b'.' };
    let (mut mantissa, mut count, mut fraction, mut seen_point) = (0u64, 0usize, 0usize, false);
    for byte in digits {
        if *byte == point {
            if seen_point || count == 0 {
                return None;
            }
            seen_point = true;
            continue;
        }
        let digit = byte.wrapping_sub(b'0');
        if digit > 9 || count == 18 {
            return None;
        }
        mantissa = mantissa * 10 + u64::from(digit);
        count += 1;
        fraction += usize::from(seen_point);
    }
    if count == 0 || (seen_point && fraction == 0) {
        return None;
    }
    let magnitude = if mantissa < 1 << 53 {
        mantissa as f64 / POWERS[fraction]
    } else if decimal_comma {
        text.replace(',', ".").trim_start_matches('-').parse().ok()?
    } else {
        text.trim_start_matches('-').parse().ok()?
    };
    Some(if negative { -magnitude } else { magnitude })
}

/// Microseconds since the epoch of a timestamp written exactly in `shape` (years 1000 to
/// 9999), if it is a valid date and time.
pub(super) fn parse_time(text: &str, shape: TimeShape) -> Option<i64> {
    let b = text.as_bytes();
    let (len, time_separator) = match shape {
        TimeShape::Date => (10, None),
        TimeShape::Minutes(sep) => (16, Some(sep)),
        TimeShape::Seconds(sep) => (19, Some(sep)),
    };
    if b.len() != len || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let digits = |at: usize, n: usize| -> Option<i64> {
        b[at..at + n].iter().try_fold(0i64, |value, byte| {
            let digit = byte.wrapping_sub(b'0');
            (digit <= 9).then(|| value * 10 + i64::from(digit))
        })
    };
    let (year, month, day) = (digits(0, 4)?, digits(5, 2)?, digits(8, 2)?);
    if year < 1000 || !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let mut seconds = 0;
    if let Some(sep) = time_separator {
        if b[10] != sep || b[13] != b':' || (len == 19 && b[16] != b':') {
            return None;
        }
        let (hour, minute) = (digits(11, 2)?, digits(14, 2)?);
        let second = if len == 19 { digits(17, 2)? } else { 0 };
        if hour > 23 || minute > 59 || second > 59 {
            return None;
        }
        seconds = hour * 3600 + minute * 60 + second;
    }
    Some((days_from_civil(year, month, day) * 86_400 + seconds) * 1_000_000)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a valid proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let day_of_year = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use chrono::{Datelike, NaiveDate};

    use super::*;
    use crate::ingest::time::epoch_days;

    #[test]
    fn times_parse_exactly_in_their_shape_or_not_at_all() {
        let s = TimeShape::Seconds(b' ');
        assert_eq!(parse_time("1970-01-02 00:00:01", s), Some(86_401_000_000));
        assert_eq!(parse_time("1969-12-31 23:59:59", s), Some(-1_000_000));
        for odd in [
            "2024-02-30 10:00:00",
            "2024-1-01 10:00:00",
            "2024-01-01 24:00:00",
            "2024-01-01 10:00:60",
            "2024-01-01T10:00:00",
            "2024-01-01 10:00:00.5",
            " 2024-01-01 10:00:00",
        ] {
            assert_eq!(parse_time(odd, s), None, "{odd}");
        }
        assert_eq!(
            parse_time("2024-02-29", TimeShape::Date),
            Some(19_782 * 86_400_000_000)
        );
        assert_eq!(
            parse_time("2024-02-29T08:30", TimeShape::Minutes(b'T')),
            Some((19_782 * 86_400 + 30_600) * 1_000_000)
        );
    }

    #[test]
    fn civil_days_match_chrono() {
        let mut date = NaiveDate::from_ymd_opt(1000, 1, 1).unwrap();
        while date.year() < 10_000 {
            let (y, m, d) = (date.year() as i64, date.month() as i64, date.day() as i64);
            assert_eq!(days_from_civil(y, m, d), epoch_days(date), "{date}");
            assert!(d <= days_in_month(y, m));
            date += chrono::Duration::days(1 + (y % 7));
        }
    }

    #[test]
    fn decimals_agree_with_the_exact_parser() {
        for text in [
            "0.1",
            "66.38",
            "-0",
            "123456789012345678",
            "9007199254740993",
            "0.00000000000000001",
            "3.14159265358979323",
        ] {
            let standard: f64 = text.parse().unwrap();
            assert_eq!(
                parse_decimal(text, false).map(f64::to_bits),
                Some(standard.to_bits()),
                "{text}"
            );
        }
    }

    #[test]
    fn decimals_are_plain_or_left_to_polars() {
        assert_eq!(parse_decimal("66.38", false), Some(66.38));
        assert_eq!(parse_decimal("-5", false), Some(-5.0));
        assert_eq!(parse_decimal("12,5", true), Some(12.5));
        for odd in [
            "1e3", "+5", ".5", "5.", "", "-", " 5", "1.2.3", "inf", "NaN", "12,5",
        ] {
            assert_eq!(parse_decimal(odd, false), None, "{odd}");
        }
        assert_eq!(parse_decimal("1.234,5", true), None);
    }
}
