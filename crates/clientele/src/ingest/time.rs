//! Timestamp formats: detection from sample values, and parsing as a polars expression.

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use polars::prelude::*;
use serde::Serialize;

/// Whether timestamps carry a time of day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeResolution {
    /// Dates only (`2011-12-09`): first and last purchases are written as dates.
    Date,
    /// Dates with a time of day: first and last purchases are written as date-times.
    DateTime,
}

/// The formats tried, in order, when no `--time-format` is given (chrono / strftime syntax).
///
/// `%.f` accepts an optional fractional second. Day-first and month-first formats that both
/// fit every sampled value make detection fail with a request for an explicit format, rather
/// than guessing.
pub const AUTO_FORMATS: &[&str] = &[
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%dT%H:%M:%S%.fZ",
    "%Y-%m-%dT%H:%M:%S%.f%:z",
    "%Y-%m-%d %H:%M:%S%.f%:z",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%Y-%m-%d",
    "%Y%m%d",
    "%Y/%m/%d",
    "%d/%m/%Y",
    "%m/%d/%Y",
    "%d.%m.%Y",
    "%d-%m-%Y",
];

/// How many non-empty values of the timestamp column are sampled to detect its format.
pub const SAMPLE_SIZE: usize = 1000;
/// The sample comes from this many rows at the head of the input when they hold enough
/// values (the first [`SAMPLE_SIZE`] non-empty values either way).
pub const HEAD_SAMPLE_ROWS: usize = 2 * SAMPLE_SIZE;

/// Whether a format carries a time of day.
pub fn resolution_of(format: &str) -> TimeResolution {
    if ["%H", "%I", "%M", "%S", "%T", "%R", "%s", "%+", "%c"]
        .iter()
        .any(|t| format.contains(t))
    {
        TimeResolution::DateTime
    } else {
        TimeResolution::Date
    }
}

fn has_offset(format: &str) -> bool {
    format.contains("%z") || format.contains("%:z") || format.contains("%#z") || format.contains("%+")
}

/// The offset that a trailing `Z` (or `z`: UTC, as in RFC 3339) stands for in a value read
/// with `format`, written as the format's offset specifier reads it; `None` when the format has
/// no such specifier.
fn utc_offset(format: &str) -> Option<&'static str> {
    if format.contains("%:z") || format.contains("%#z") {
        Some("+00:00")
    } else if format.contains("%z") {
        Some("+0000")
    } else {
        None
    }
}

/// Whether `value` parses with `format` (as chrono does; polars uses the same syntax).
pub fn parses(value: &str, format: &str) -> bool {
    if has_offset(format) {
        let utc = utc_offset(format).and_then(|offset| {
            let stripped = value.strip_suffix(['Z', 'z'])?;
            Some(format!("{stripped}{offset}"))
        });
        DateTime::parse_from_str(utc.as_deref().unwrap_or(value), format).is_ok()
    } else if resolution_of(format) == TimeResolution::DateTime {
        NaiveDateTime::parse_from_str(value, format).is_ok()
    } else {
        NaiveDate::parse_from_str(value, format).is_ok()
    }
}

/// Why no format could be chosen.
#[derive(Debug, Clone, PartialEq)]
pub enum DetectError {
    /// No sampled value is non-empty.
    NoValues,
    /// No candidate format fits more than half of the sampled values.
    NoFormat {
        /// A value that the best format does not fit.
        example: String,
    },
    /// Day-first and month-first formats fit equally many sampled values.
    Ambiguous {
        /// The formats that fit.
        formats: Vec<&'static str>,
        /// A sampled value.
        example: String,
    },
}

impl std::fmt::Display for DetectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DetectError::NoValues => write!(f, "has no values to detect a timestamp format from"),
            DetectError::NoFormat { example } => write!(
                f,
                "cannot detect the timestamp format: no known format fits most sampled values \
                 (e.g. {}); pass --time-format (strftime syntax, e.g. \"%d/%m/%Y %H:%M\")",
                crate::format::quote(example)
            ),
            DetectError::Ambiguous { formats, example } => write!(
                f,
                "the timestamp format is ambiguous: values such as {} fit both {}; \
                 pass --time-format to say which",
                crate::format::quote(example),
                formats
                    .iter()
                    .map(|f| format!("{f:?}"))
                    .collect::<Vec<_>>()
                    .join(" and ")
            ),
        }
    }
}

/// Picks the format of [`AUTO_FORMATS`] that fits the most sampled values (the first in list
/// order on a tie). It must fit more than half of them; values it does not fit are later
/// rejected as `unparsable_timestamp`, so a few bad values do not stop detection.
///
/// ```
/// use clientele::ingest::time::detect_format;
///
/// assert_eq!(detect_format(&["2011-12-09 12:50:00"]).unwrap(), "%Y-%m-%d %H:%M:%S%.f");
/// assert_eq!(detect_format(&["19970101", "19971231"]).unwrap(), "%Y%m%d");
/// assert!(detect_format(&["01/02/2011"]).is_err()); // day-first or month-first?
/// assert_eq!(detect_format(&["01/02/2011", "25/02/2011"]).unwrap(), "%d/%m/%Y");
/// ```
///
/// # Errors
///
/// [`DetectError`] when there is no value, no format fits a majority, or day/month order is
/// ambiguous (both orders fit equally many values).
pub fn detect_format<S: AsRef<str>>(samples: &[S]) -> Result<&'static str, DetectError> {
    let values: Vec<&str> = samples
        .iter()
        .map(|s| s.as_ref().trim())
        .filter(|s| !s.is_empty())
        .collect();
    if values.is_empty() {
        return Err(DetectError::NoValues);
    }
    let fits = |format: &str| values.iter().filter(|v| parses(v, format)).count();
    let counts: Vec<(&'static str, usize)> = AUTO_FORMATS.iter().map(|f| (*f, fits(f))).collect();
    let (chosen, best) = counts
        .iter()
        .copied()
        .fold(("", 0), |acc, (f, n)| if n > acc.1 { (f, n) } else { acc });
    if best * 2 <= values.len() {
        let example = values
            .iter()
            .find(|v| chosen.is_empty() || !parses(v, chosen))
            .unwrap_or(&values[0]);
        return Err(DetectError::NoFormat {
            example: example.to_string(),
        });
    }
    let swapped = swap_day_month(chosen);
    if let Some((other, _)) = counts
        .iter()
        .find(|(f, n)| Some(*f) == swapped.as_deref() && *n == best)
    {
        let example = values.iter().find(|v| parses(v, chosen)).unwrap_or(&values[0]);
        return Err(DetectError::Ambiguous {
            formats: vec![chosen, other],
            example: example.to_string(),
        });
    }
    Ok(chosen)
}

fn swap_day_month(format: &str) -> Option<String> {
    if format.contains("%d/%m") {
        Some(format.replace("%d/%m", "%m/%d"))
    } else if format.contains("%m/%d") {
        Some(format.replace("%m/%d", "%d/%m"))
    } else {
        None
    }
}

pub(crate) use crate::rows::rules::epoch_days;

/// Parses a string expression with `format` into `Datetime(µs)` without time zone; values that
/// do not fit become null. Offsets (`%z`) are converted to UTC; with an offset in the format, a
/// trailing `Z` (UTC) is read as the offset `+00:00`.
pub fn parse_expr(text: Expr, format: &str) -> Expr {
    let options = StrptimeOptions {
        format: Some(format.into()),
        strict: false,
        exact: true,
        cache: true,
    };
    if has_offset(format) {
        let text = match utc_offset(format) {
            Some(offset) => text.str().replace(lit("[Zz]$"), lit(offset), false),
            None => text,
        };
        text.str()
            .to_datetime(
                Some(TimeUnit::Microseconds),
                Some(TimeZone::UTC),
                options,
                lit("raise"),
            )
            .dt()
            .replace_time_zone(None, lit("raise"), NonExistent::Raise)
    } else {
        text.str()
            .to_datetime(Some(TimeUnit::Microseconds), None, options, lit("raise"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fractional_seconds_are_optional() {
        assert!(parses("2011-12-09 12:50:00", "%Y-%m-%d %H:%M:%S%.f"));
        assert!(parses("2011-12-09 12:50:00.250", "%Y-%m-%d %H:%M:%S%.f"));
    }

    #[test]
    fn detects_the_documented_formats() {
        let cases: &[(&[&str], &str)] = &[
            (&["2010-12-01 08:26:00"], "%Y-%m-%d %H:%M:%S%.f"),
            (&["2010-12-01T08:26:00.5"], "%Y-%m-%dT%H:%M:%S%.f"),
            (&["2010-12-01 08:26"], "%Y-%m-%d %H:%M"),
            (&["2010-12-01T08:26:00Z"], "%Y-%m-%dT%H:%M:%S%.fZ"),
            (&["2010-12-01T08:26:00+01:00"], "%Y-%m-%dT%H:%M:%S%.f%:z"),
            (&["2006-12-30"], "%Y-%m-%d"),
            (&["19970101"], "%Y%m%d"),
            (&["13/12/2010 08:26", "01/12/2010 08:26"], "%d/%m/%Y %H:%M"),
            (&["12/13/2010 8:26", "12/1/2010 8:26"], "%m/%d/%Y %H:%M"),
            (&["09.12.2011"], "%d.%m.%Y"),
        ];
        for (values, expected) in cases {
            assert_eq!(detect_format(values).as_deref(), Ok(*expected), "{values:?}");
        }
    }

    #[test]
    fn a_few_bad_values_do_not_stop_detection() {
        assert_eq!(
            detect_format(&["2024-01-01", "2024-13-45", "2024-01-03"]),
            Ok("%Y-%m-%d")
        );
    }

    #[test]
    fn ambiguous_day_month_is_an_error_naming_both_formats() {
        let err = detect_format(&["01/02/2011 10:00", "03/04/2011 11:00"]).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("%d/%m/%Y %H:%M") && text.contains("%m/%d/%Y %H:%M"),
            "{text}"
        );
    }

    #[test]
    fn unknown_formats_name_an_example() {
        let err = detect_format(&["yesterday", "2011-12-09", "tomorrow"]).unwrap_err();
        assert_eq!(
            err,
            DetectError::NoFormat {
                example: "yesterday".into()
            }
        );
        assert_eq!(detect_format::<&str>(&["", "  "]), Err(DetectError::NoValues));
    }

    #[test]
    fn z_is_utc_in_a_format_with_an_offset() {
        assert!(parses("2024-01-02T10:00:00Z", "%Y-%m-%dT%H:%M:%S%.f%:z"));
        assert!(parses("2024-01-02T10:00:00z", "%Y-%m-%dT%H:%M:%S%z"));
        assert!(!parses("2024-01-02T10:00:00Z", "%Y-%m-%dT%H:%M:%S"));
        let mixed = [
            "2024-01-01T10:00:00+01:00",
            "2024-01-02T10:00:00Z",
            "2024-01-03T10:00:00Z",
        ];
        assert_eq!(detect_format(&mixed), Ok("%Y-%m-%dT%H:%M:%S%.f%:z"));
        assert_eq!(
            detect_format(&["2024-01-02T10:00:00Z"]),
            Ok("%Y-%m-%dT%H:%M:%S%.fZ"),
            "a tie goes to the first format in the list"
        );
    }

    #[test]
    fn resolution_follows_the_format() {
        assert_eq!(resolution_of("%Y-%m-%d"), TimeResolution::Date);
        assert_eq!(resolution_of("%Y%m%d"), TimeResolution::Date);
        assert_eq!(resolution_of("%d/%m/%Y %H:%M"), TimeResolution::DateTime);
    }
}
