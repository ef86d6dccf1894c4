//! The `btyd_*` columns of the customer table: purchase periods for lifetime value.

use std::fmt::Write;

use chrono::NaiveDate;

use super::BtydSql;
use super::Dialect;
use super::dialect::bigint;

/// The `btyd_*` columns: purchase periods of all valid rows up to the holdout (or calibration)
/// end, joined to the customers.
pub(super) fn btyd_query(sql: &mut String, d: Dialect, b: &BtydSql, valid: &[String], id_order: &str) {
    let day = "CAST(ts AS DATE)";
    let period = match (b.period, d) {
        (crate::clv::Period::Day, _) => day.to_string(),
        (crate::clv::Period::Week, Dialect::BigQuery) => format!("DATE_TRUNC({day}, ISOWEEK)"),
        (crate::clv::Period::Week, _) => format!("CAST(DATE_TRUNC('week', {day}) AS DATE)"),
    };
    let mut filters = valid.to_vec();
    if let Some(last) = b.holdout_end.or(b.calibration_end) {
        filters.push(format!("{day} <= DATE '{last}'"));
    }
    let date = |v: Option<NaiveDate>| v.map_or("CAST(NULL AS DATE)".to_string(), |v| format!("DATE '{v}'"));
    let _ = writeln!(sql, "), periods AS (");
    let _ = writeln!(
        sql,
        "  SELECT customer_id, {period} AS period, SUM(micros) AS value"
    );
    let _ = writeln!(sql, "  FROM lines");
    let _ = writeln!(sql, "  WHERE {}", filters.join("\n    AND "));
    let _ = writeln!(sql, "  GROUP BY customer_id, {period}");
    let _ = writeln!(sql, "  HAVING MAX(CASE WHEN micros >= 0 THEN 1 ELSE 0 END) = 1");
    let _ = writeln!(sql, "), bounds AS (");
    let _ = writeln!(
        sql,
        "  SELECT COALESCE({}, MAX(period)) AS cal_end FROM periods",
        date(b.calibration_end)
    );
    let _ = writeln!(sql, "), ranked AS (");
    let _ = writeln!(
        sql,
        "  SELECT customer_id, period, value, cal_end,\n    \
         ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY period) AS k\n  \
         FROM periods CROSS JOIN bounds"
    );
    btyd_select(sql, d, b, id_order);
}

/// The `btyd` CTE (per customer: first and last calibration period, periods, repeat and
/// holdout values) and the final select joining it to the customers.
fn btyd_select(sql: &mut String, d: Dialect, b: &BtydSql, id_order: &str) {
    use crate::columns::btyd_cols::*;
    let date = |v: Option<NaiveDate>| v.map_or("CAST(NULL AS DATE)".to_string(), |v| format!("DATE '{v}'"));
    let int = bigint(d);
    let period_name = match b.period {
        crate::clv::Period::Day => "day",
        crate::clv::Period::Week => "week",
    };
    let _ = writeln!(sql, "), btyd AS (");
    let _ = writeln!(sql, "  SELECT customer_id,");
    let _ = writeln!(sql, "    MIN(period) AS {FIRST_PERIOD},");
    let _ = writeln!(
        sql,
        "    MAX(CASE WHEN period <= cal_end THEN period END) AS {LAST_PERIOD},"
    );
    let _ = writeln!(
        sql,
        "    CAST(COUNT(CASE WHEN period <= cal_end THEN 1 END) AS {int}) AS {PERIODS},"
    );
    let _ = writeln!(
        sql,
        "    CAST(SUM(CASE WHEN period <= cal_end AND k > 1 THEN value ELSE 0 END) AS {int}) AS {REPEAT_MICROS},"
    );
    let _ = writeln!(
        sql,
        "    CAST(COUNT(CASE WHEN period > cal_end THEN 1 END) AS {int}) AS {HOLDOUT_PERIODS},"
    );
    let _ = writeln!(
        sql,
        "    CAST(SUM(CASE WHEN period > cal_end THEN value ELSE 0 END) AS {int}) AS {HOLDOUT_MICROS},"
    );
    let _ = writeln!(sql, "    MAX(cal_end) AS {CALIBRATION_END}");
    let _ = writeln!(sql, "  FROM ranked");
    let _ = writeln!(sql, "  GROUP BY customer_id");
    let _ = writeln!(sql, ")");
    let _ = writeln!(
        sql,
        "SELECT c.*, b.{FIRST_PERIOD}, b.{LAST_PERIOD}, b.{PERIODS}, b.{REPEAT_MICROS},"
    );
    let _ = writeln!(
        sql,
        "  b.{HOLDOUT_PERIODS}, b.{HOLDOUT_MICROS}, b.{CALIBRATION_END},"
    );
    let _ = writeln!(
        sql,
        "  {} AS {HOLDOUT_END}, '{period_name}' AS {PERIOD}",
        date(b.holdout_end)
    );
    let _ = writeln!(
        sql,
        "FROM customers c LEFT JOIN btyd b ON b.customer_id = c.customer_id"
    );
    let _ = writeln!(sql, "ORDER BY {id_order};");
}
