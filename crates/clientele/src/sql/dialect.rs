//! What differs between the SQL dialects: quoting, type names, filtered aggregates, time
//! parsing, integer division and date arithmetic.

use std::fmt::Write;

use super::Dialect;
use crate::error::{Error, Result};

pub(super) fn dialect_name(d: Dialect) -> &'static str {
    match d {
        Dialect::DuckDb => "DuckDB",
        Dialect::Spark => "Spark SQL",
        Dialect::BigQuery => "BigQuery",
        Dialect::Postgres => "PostgreSQL",
    }
}

pub(super) fn quote(d: Dialect, name: &str) -> String {
    match d {
        Dialect::Spark | Dialect::BigQuery => format!("`{}`", name.replace('`', "``")),
        Dialect::DuckDb | Dialect::Postgres => format!("\"{}\"", name.replace('"', "\"\"")),
    }
}

pub(super) fn double(d: Dialect) -> &'static str {
    match d {
        Dialect::BigQuery => "FLOAT64",
        Dialect::Postgres => "DOUBLE PRECISION",
        Dialect::DuckDb | Dialect::Spark => "DOUBLE",
    }
}

pub(super) fn bigint(d: Dialect) -> &'static str {
    match d {
        Dialect::BigQuery => "INT64",
        _ => "BIGINT",
    }
}

pub(super) fn text(d: Dialect) -> &'static str {
    match d {
        Dialect::BigQuery | Dialect::Spark => "STRING",
        Dialect::DuckDb | Dialect::Postgres => "VARCHAR",
    }
}

pub(super) fn timestamp(d: Dialect) -> &'static str {
    match d {
        // BigQuery's TIMESTAMP is an instant in UTC; DATETIME is the civil time clientele uses.
        Dialect::BigQuery => "DATETIME",
        _ => "TIMESTAMP",
    }
}

/// `AGG(expr) FILTER (WHERE cond)` where the dialect has it, `AGG(CASE WHEN ...)` elsewhere.
/// `agg` may be `COUNT(DISTINCT`, whose parenthesis the expression closes.
pub(super) fn filtered(d: Dialect, agg: &str, expr: &str, cond: &str) -> String {
    let open = if agg.ends_with("DISTINCT") {
        format!("{agg} ")
    } else {
        format!("{agg}(")
    };
    match d {
        Dialect::DuckDb | Dialect::Postgres => format!("{open}{expr}) FILTER (WHERE {cond})"),
        Dialect::Spark | Dialect::BigQuery => format!("{open}CASE WHEN {cond} THEN {expr} END)"),
    }
}

/// A text timestamp parsed with a strftime format translated to the dialect.
pub(super) fn parse_timestamp(d: Dialect, column: &str, format: &str) -> Result<String> {
    let text = format!("TRIM(CAST({column} AS {}))", text(d));
    Ok(match d {
        // chrono's %.f is an optional fraction: DuckDB tries the format with and without one.
        Dialect::DuckDb if format.contains("%.f") => format!(
            "TRY_STRPTIME({text}, ['{}', '{}'])",
            escape(&format.replace("%.f", "")),
            escape(&format.replace("%.f", ".%f"))
        ),
        Dialect::DuckDb => format!("TRY_STRPTIME({text}, '{}')", escape(&translate(format, d)?)),
        Dialect::BigQuery => format!(
            "SAFE.PARSE_DATETIME('{}', {text})",
            escape(&translate(format, d)?)
        ),
        Dialect::Spark => format!("TO_TIMESTAMP({text}, '{}')", escape(&translate(format, d)?)),
        Dialect::Postgres => format!(
            "TO_TIMESTAMP({text}, '{}')::TIMESTAMP",
            escape(&translate(format, d)?)
        ),
    })
}

pub(super) fn escape(s: &str) -> String {
    s.replace('\'', "''")
}

/// strftime specifiers into the dialect's format language.
pub(super) fn translate(format: &str, d: Dialect) -> Result<String> {
    if matches!(d, Dialect::DuckDb | Dialect::BigQuery) {
        // Both speak strftime; BigQuery has no %.f: its %E*S reads fractional seconds.
        return Ok(match d {
            Dialect::BigQuery => format.replace("%S%.f", "%E*S").replace("%.f", ""),
            _ => format.replace("%.f", ".%f"),
        });
    }
    let mut out = String::new();
    let mut chars = format.chars().peekable();
    while let Some(ch) = chars.next() {
        if ch != '%' {
            match d {
                // Spark treats letters as pattern letters: quote literal text.
                Dialect::Spark if ch.is_ascii_alphabetic() => {
                    let _ = write!(out, "'{ch}'");
                }
                _ => out.push(ch),
            }
            continue;
        }
        let spec = chars.next().unwrap_or('%');
        if spec == '.' && chars.peek() == Some(&'f') {
            chars.next();
            // An optional fraction of a second: Spark has optional sections; PostgreSQL's
            // TO_TIMESTAMP reads digits after SS as a fraction with "SS.US" only when present,
            // so the fraction is left out of the pattern there.
            if d == Dialect::Spark {
                out.push_str("[.SSSSSS]");
            }
            continue;
        }
        let piece = match (d, spec) {
            (Dialect::Postgres, 'Y') => "YYYY",
            (Dialect::Postgres, 'y') => "YY",
            (Dialect::Postgres, 'm') => "MM",
            (Dialect::Postgres, 'd') => "DD",
            (Dialect::Postgres, 'H') => "HH24",
            (Dialect::Postgres, 'M') => "MI",
            (Dialect::Postgres, 'S') => "SS",
            (Dialect::Postgres, 'b') => "Mon",
            (Dialect::Spark, 'Y') => "yyyy",
            (Dialect::Spark, 'y') => "yy",
            (Dialect::Spark, 'm') => "MM",
            (Dialect::Spark, 'd') => "dd",
            (Dialect::Spark, 'H') => "HH",
            (Dialect::Spark, 'M') => "mm",
            (Dialect::Spark, 'S') => "ss",
            (Dialect::Spark, 'b') => "MMM",
            (_, '%') => "%",
            (_, other) => {
                return Err(Error::Param(crate::ParamError::OutOfRange {
                    name: "time format",
                    expected: "made of %Y %y %m %d %H %M %S %b for this dialect",
                    got: format!("{format:?} (has %{other})"),
                }));
            }
        };
        out.push_str(piece);
    }
    Ok(out)
}

/// A text literal: `''` doubles a quote in PostgreSQL and DuckDB; Spark and BigQuery read
/// backslash escapes in literals.
pub(super) fn quote_text(d: Dialect, s: &str) -> String {
    match d {
        Dialect::Spark | Dialect::BigQuery => {
            format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
        }
        Dialect::DuckDb | Dialect::Postgres => format!("'{}'", s.replace('\'', "''")),
    }
}

/// An exact decimal wide enough for sums of micro-units times 10⁴ (clientele uses 128-bit
/// integers there).
pub(super) fn wide(d: Dialect) -> &'static str {
    match d {
        Dialect::BigQuery => "NUMERIC",
        _ => "DECIMAL(38, 0)",
    }
}

/// Integer division of non-negative integers (rounded down).
pub(super) fn int_div(d: Dialect, a: &str, b: &str) -> String {
    match d {
        Dialect::DuckDb => format!("(({a}) // ({b}))"),
        Dialect::Postgres => format!("(({a}) / ({b}))"),
        Dialect::Spark => format!("(({a}) DIV ({b}))"),
        Dialect::BigQuery => format!("DIV({a}, {b})"),
    }
}

/// Whole days from the date `from` to the date `to`.
pub(super) fn days_between(d: Dialect, from: &str, to: &str) -> String {
    match d {
        Dialect::DuckDb => format!("DATE_DIFF('day', {from}, {to})"),
        Dialect::Postgres => format!("({to} - {from})"),
        Dialect::Spark => format!("DATEDIFF({to}, {from})"),
        Dialect::BigQuery => format!("DATE_DIFF({to}, {from}, DAY)"),
    }
}

/// The day after the date `date`.
pub(super) fn next_day(d: Dialect, date: &str) -> String {
    match d {
        Dialect::DuckDb => format!("CAST({date} + INTERVAL 1 DAY AS DATE)"),
        Dialect::Postgres => format!("({date} + 1)"),
        Dialect::Spark => format!("DATE_ADD({date}, 1)"),
        Dialect::BigQuery => format!("DATE_ADD({date}, INTERVAL 1 DAY)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_formats_are_translated() {
        assert_eq!(
            translate("%d/%m/%Y %H:%M", Dialect::Postgres).unwrap(),
            "DD/MM/YYYY HH24:MI"
        );
        assert_eq!(
            translate("%Y-%m-%dT%H:%M:%S", Dialect::Spark).unwrap(),
            "yyyy-MM-dd'T'HH:mm:ss"
        );
        assert_eq!(translate("%Y%m%d", Dialect::DuckDb).unwrap(), "%Y%m%d");
        assert!(translate("%j", Dialect::Postgres).is_err());
        assert_eq!(
            translate("%H:%M:%S%.f", Dialect::Spark).unwrap(),
            "HH:mm:ss[.SSSSSS]"
        );
    }

    #[test]
    fn text_literals_are_escaped() {
        assert_eq!(
            quote_text(Dialect::Postgres, "Can't Lose Them"),
            "'Can''t Lose Them'"
        );
        assert_eq!(quote_text(Dialect::Spark, "Can't \\ x"), "'Can\\'t \\\\ x'");
    }

    #[test]
    fn identifiers_are_quoted() {
        assert_eq!(
            quote(Dialect::Postgres, "Customer \"ID\""),
            "\"Customer \"\"ID\"\"\""
        );
        assert_eq!(quote(Dialect::Spark, "a`b"), "`a``b`");
    }
}
