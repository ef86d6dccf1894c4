//! The customer aggregation as SQL, for logs that live in a warehouse or a data lake: the
//! heavy step (billions of rows into one row per customer) runs where the data is, and its
//! output feeds [`Segmenter::run_customer_table`](crate::Segmenter::run_customer_table)
//! (`clientele ... --input-kind customers`).
//!
//! The query applies clientele's definitions (docs/definitions.md): rows without a customer
//! id, timestamp, amount (or, with an order column, order id) are left out, as clientele rejects
//! them; with an as-of date, rows dated after it are left out; under `exclude`, returns are
//! left out. The filters come from the row rules ([`crate::rows::rules`], which says what SQL
//! reads differently). Amounts are summed as whole micro-units, as clientele sums them, so monetary
//! values agree to the last bit. A *purchase line* has an amount ≥ 0: first and last purchase
//! and frequency count purchase lines only, and customers without one are left out.
//! Recency and tenure are not in the query: clientele computes them at the as-of date
//! (default: the day after the latest `last_purchase`).
//!
//! [`SqlJob::segment_query`] goes further: the whole segmentation (measures, scores, segments,
//! ABC classes) in the engine, with the values of `clientele segment` (the `segment` module
//! says how each definition is written so the engine computes the same bits). The queries are
//! executed on DuckDB, PostgreSQL and Spark in the tests (docs/scaling.md).
//!
//! ```
//! use clientele::columns::{AmountColumns, ResolvedColumns};
//! use clientele::sql::{Dialect, SqlJob};
//!
//! let job = SqlJob::new(
//!     "sales.orders",
//!     ResolvedColumns {
//!         customer: "CustomerID".into(),
//!         time: "InvoiceDate".into(),
//!         amount: AmountColumns::QuantityTimesPrice { quantity: "Quantity".into(), price: "UnitPrice".into() },
//!         order: Some("InvoiceNo".into()),
//!     },
//! );
//! let query = job.query(Dialect::Postgres)?;
//! assert!(query.contains("COUNT(DISTINCT \"InvoiceNo\") FILTER (WHERE micros >= 0)"));
//! # Ok::<(), clientele::Error>(())
//! ```

use std::fmt::Write;
use std::path::Path;

use chrono::NaiveDate;

use crate::columns::{AmountColumns, Columns, ResolvedColumns};
use crate::error::{ParamError, Result};
use crate::ingest::{InputFormat, TimeResolution, Transactions};
use crate::rows::rules::{RowRule, RowRules, SqlNames, sql_amount_in_range};
use crate::rows::{AsOf, ReturnsPolicy, RowPolicy};

mod btyd;
mod dialect;
mod scores;
mod segment;

pub use self::segment::SegmentSql;

use self::btyd::btyd_query;
use self::dialect::{bigint, dialect_name, double, filtered, parse_timestamp, quote, text, timestamp};

/// SQL dialects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// DuckDB.
    DuckDb,
    /// Apache Spark SQL (and Databricks).
    Spark,
    /// Google BigQuery (standard SQL).
    BigQuery,
    /// PostgreSQL (and Redshift-like engines that accept `FILTER`).
    Postgres,
}

/// What the query computes (`clientele sql --job`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Job {
    /// The customer table, for `--input-kind customers` ([`SqlJob::query`]).
    #[default]
    Customers,
    /// The whole segment table of `clientele segment` ([`SqlJob::segment_query`]).
    Segment,
}

/// What the query aggregates and how.
#[derive(Debug, Clone, PartialEq)]
pub struct SqlJob {
    /// The table (or a table expression such as `read_parquet('orders/*.parquet')`).
    pub table: String,
    /// The columns of the transaction log.
    pub columns: ResolvedColumns,
    /// strftime format of a text timestamp column; `None` for a native timestamp or date.
    pub time_format: Option<String>,
    /// Whether to keep time of day in `first_purchase` / `last_purchase`.
    pub resolution: TimeResolution,
    /// Rows dated after it are left out.
    pub as_of: Option<NaiveDate>,
    /// How returns count.
    pub returns: ReturnsPolicy,
    /// Also the per-customer purchase periods lifetime value needs (`btyd_*` columns).
    pub btyd: Option<BtydSql>,
}

/// The buy-till-you-die fields of a customer table: purchase periods up to a calibration end
/// and in a holdout window, computed as [`crate::clv::summary`] computes them (all valid rows,
/// returns netted into their period; a period counts when it holds a purchase line).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BtydSql {
    /// Last calibration day; default: the last purchase period.
    pub calibration_end: Option<NaiveDate>,
    /// Last holdout day.
    pub holdout_end: Option<NaiveDate>,
    /// Purchases in one period count once.
    pub period: crate::clv::Period,
}

/// A DuckDB table expression reading the sample export at `sample` (read as `tx`): Parquet
/// files as they are, CSV with the timestamp column as text, parsed by the query with the
/// format clientele detected.
///
/// # Errors
///
/// [`Error::Io`](crate::Error::Io) and [`Error::UnsupportedInput`](crate::Error::UnsupportedInput) when the sample cannot be listed.
pub fn duckdb_source(sample: &Path, tx: &Transactions) -> Result<String> {
    let files = crate::ingest::source::resolve_input(sample, None)?;
    let path = sample.display().to_string().replace('\'', "''");
    Ok(match files.format {
        // A data-lake tree: every Parquet file below, with its partition columns.
        InputFormat::Parquet if sample.is_dir() => {
            format!("read_parquet('{path}/**/*.parquet', hive_partitioning = true)")
        }
        InputFormat::Parquet => format!("read_parquet('{path}')"),
        InputFormat::Csv => format!(
            "read_csv('{path}', types = {{'{}': 'VARCHAR'}})",
            tx.columns().time.replace('\'', "''")
        ),
    })
}

impl SqlJob {
    /// A job over `table` with native timestamps, no as-of date and returns netted.
    pub fn new(table: impl Into<String>, columns: ResolvedColumns) -> SqlJob {
        SqlJob {
            table: table.into(),
            columns,
            time_format: None,
            resolution: TimeResolution::DateTime,
            as_of: None,
            returns: ReturnsPolicy::Net,
            btyd: None,
        }
    }

    /// A job over `table`, a table laid out like the sample export `tx` was read from: its
    /// columns as resolved for the sample, and text timestamps parsed with the format detected
    /// (or given) for it.
    pub fn for_sample(table: impl Into<String>, tx: &Transactions) -> SqlJob {
        let mut job = SqlJob::new(table, tx.columns().clone());
        let time = tx.time_parsing();
        job.resolution = time.resolution;
        job.time_format = time.format.clone();
        job
    }

    /// A job over `table` whose columns are all named in `columns`, with no sample to detect
    /// them in: the customer id, the timestamp, and the amount or the quantity and the price.
    /// Timestamps are text in `time_format` when given (dates only when it has no hour),
    /// native otherwise. `None` when a role is not named.
    pub fn for_named_columns(
        table: impl Into<String>,
        columns: &Columns,
        time_format: Option<String>,
    ) -> Option<SqlJob> {
        let amount = match (&columns.amount, &columns.quantity, &columns.price) {
            (Some(amount), None, None) => AmountColumns::Amount(amount.clone()),
            (None, Some(quantity), Some(price)) => AmountColumns::QuantityTimesPrice {
                quantity: quantity.clone(),
                price: price.clone(),
            },
            _ => return None,
        };
        let resolved = ResolvedColumns {
            customer: columns.customer.clone()?,
            time: columns.time.clone()?,
            amount,
            order: if columns.no_order {
                None
            } else {
                columns.order.clone()
            },
        };
        let mut job = SqlJob::new(table, resolved);
        if time_format.as_deref().is_some_and(|f| !f.contains("%H")) {
            job.resolution = TimeResolution::Date;
        }
        job.time_format = time_format;
        Some(job)
    }

    /// The lifetime-value window must end by the as-of date: customers who start in between
    /// would be fitted but missing from the table.
    fn check_btyd_window(&self) -> Result<(), ParamError> {
        let Some(btyd) = &self.btyd else { return Ok(()) };
        match (self.as_of, btyd.holdout_end.or(btyd.calibration_end)) {
            (Some(as_of), Some(last)) if as_of < last => Err(ParamError::OutOfRange {
                name: "the as-of date",
                expected: "on or after the end of the lifetime-value window (customers who start in \
                           between would be fitted but missing from the table)",
                got: format!("{as_of}, before {last}"),
            }),
            _ => Ok(()),
        }
    }

    /// The aggregation query in `dialect`: one row per customer with `customer_id,
    /// first_purchase, last_purchase, frequency, monetary, gross_revenue, returns_value,
    /// transactions`, ordered by customer id.
    ///
    /// # Errors
    ///
    /// [`Error::Param`](crate::Error::Param) for a time format with a specifier the dialect's parser lacks, and for
    /// an as-of date before the end of the lifetime-value window.
    pub fn query(&self, dialect: Dialect) -> Result<String> {
        self.check_btyd_window()?;
        let mut sql = String::new();
        let _ = writeln!(
            sql,
            "-- clientele customer table ({}): one row per customer, for --input-kind customers.",
            dialect_name(dialect)
        );
        let valid = self.customer_ctes(&mut sql, dialect)?;
        match &self.btyd {
            None => {
                let _ = writeln!(
                    sql,
                    ")\nSELECT * FROM customers\nORDER BY {};",
                    self.id_order(dialect, "customer_id")
                );
            }
            Some(b) => btyd_query(
                &mut sql,
                dialect,
                b,
                &valid,
                &self.id_order(dialect, "c.customer_id"),
            ),
        }
        Ok(sql)
    }

    /// `customer_id` (qualified as `column`) in the order clientele gives ids: text byte by
    /// byte, numbers numerically. PostgreSQL orders text by the database's collation, so there
    /// text ids are ordered `COLLATE "C"` first (the key is NULL for other types), then by
    /// the id itself.
    pub(crate) fn id_order(&self, dialect: Dialect, column: &str) -> String {
        match dialect {
            Dialect::Postgres => format!(
                "(CASE WHEN pg_typeof({column}) IN ('text'::regtype, 'character varying'::regtype) \
                 THEN CAST({column} AS TEXT) END) COLLATE \"C\", {column}"
            ),
            _ => column.to_string(),
        }
    }

    /// The common table expressions up to `customers` (left open): `lines` (every row with its
    /// amount in micro-units), `used` (the rows the row rules keep), `agg` (per customer, money
    /// in whole micro-units) and `customers` (money in units). Returns the conditions of a
    /// valid row, for the lifetime-value periods.
    fn customer_ctes(&self, sql: &mut String, dialect: Dialect) -> Result<Vec<String>> {
        let q = |name: &str| quote(dialect, name);
        let c = &self.columns;
        let order = c.order.as_deref().map(q);
        let names = SqlNames {
            order: order.as_deref(),
            text: text(dialect),
        };
        let rules = self.rules();
        let filters = rules.sql_conditions(&names, |_| true);
        let valid = rules.sql_conditions(&names, RowRule::rejects);
        let order_key = match &c.order {
            Some(order) => q(order),
            None => "CAST(ts AS DATE)".to_string(),
        };
        let purchase = |expr: &str, agg: &str| filtered(dialect, agg, expr, "micros >= 0");
        let (first, last) = match self.resolution {
            TimeResolution::DateTime => (purchase("ts", "MIN"), purchase("ts", "MAX")),
            TimeResolution::Date => (
                format!("CAST({} AS DATE)", purchase("ts", "MIN")),
                format!("CAST({} AS DATE)", purchase("ts", "MAX")),
            ),
        };
        let frequency = filtered(dialect, "COUNT(DISTINCT", &order_key, "micros >= 0");
        let units = |sum: &str| format!("CAST({sum} AS {}) / 1000000.0", double(dialect));
        let int = bigint(dialect);
        self.lines(sql, dialect)?;
        let _ = writeln!(sql, "), used AS (");
        let _ = writeln!(sql, "  SELECT * FROM lines");
        let _ = writeln!(sql, "  WHERE {}", filters.join("\n    AND "));
        let _ = writeln!(sql, "), agg AS (");
        let _ = writeln!(sql, "SELECT");
        let _ = writeln!(sql, "  customer_id,");
        let _ = writeln!(sql, "  {first} AS first_purchase,");
        let _ = writeln!(sql, "  {last} AS last_purchase,");
        let _ = writeln!(sql, "  CAST({frequency} AS {int}) AS frequency,");
        let _ = writeln!(sql, "  CAST(SUM(micros) AS {int}) AS net_micros,");
        let _ = writeln!(
            sql,
            "  CAST(SUM(CASE WHEN micros > 0 THEN micros ELSE 0 END) AS {int}) AS gross_micros,"
        );
        let _ = writeln!(
            sql,
            "  CAST(SUM(CASE WHEN micros < 0 THEN -micros ELSE 0 END) AS {int}) AS returned_micros,"
        );
        let _ = writeln!(sql, "  CAST(COUNT(*) AS {int}) AS transactions");
        let _ = writeln!(sql, "FROM used");
        let _ = writeln!(sql, "GROUP BY customer_id");
        let _ = writeln!(sql, "HAVING {frequency} > 0");
        let _ = writeln!(sql, "), customers AS (");
        let _ = writeln!(
            sql,
            "SELECT customer_id, first_purchase, last_purchase, frequency,"
        );
        let _ = writeln!(sql, "  {} AS monetary,", units("net_micros"));
        let _ = writeln!(sql, "  {} AS gross_revenue,", units("gross_micros"));
        let _ = writeln!(sql, "  {} AS returns_value,", units("returned_micros"));
        let _ = writeln!(sql, "  transactions");
        let _ = writeln!(sql, "FROM agg");
        Ok(valid)
    }

    /// Every row's status code ([`RowStatus::code`](crate::RowStatus::code)) as the row rules
    /// decide it in SQL ([`RowRules::sql_status`]), one row per input row in table order:
    /// where the rejects and exclusions of a warehouse table are.
    ///
    /// # Errors
    ///
    /// As [`SqlJob::query`].
    pub fn status_query(&self, dialect: Dialect) -> Result<String> {
        let order = self.columns.order.as_deref().map(|o| quote(dialect, o));
        let names = SqlNames {
            order: order.as_deref(),
            text: text(dialect),
        };
        let mut sql = String::new();
        self.lines(&mut sql, dialect)?;
        let _ = writeln!(sql, ")");
        let _ = writeln!(sql, "SELECT {} AS status", self.rules().sql_status(&names));
        let _ = writeln!(sql, "FROM lines;");
        Ok(sql)
    }

    /// The row rules of the job's policies.
    fn rules(&self) -> RowRules {
        RowRules::new(&RowPolicy {
            as_of: self.as_of.map_or(AsOf::DayAfterLatest, AsOf::Date),
            returns: self.returns,
        })
    }

    /// `WITH lines AS (SELECT customer_id, [order,] ts, micros FROM table` (left open).
    fn lines(&self, sql: &mut String, dialect: Dialect) -> Result<()> {
        let q = |name: &str| quote(dialect, name);
        let c = &self.columns;
        let amount = match &c.amount {
            AmountColumns::Amount(a) => {
                format!("CAST({} AS DOUBLE)", q(a)).replace("DOUBLE", double(dialect))
            }
            AmountColumns::QuantityTimesPrice { quantity, price } => format!(
                "CAST({} AS {d}) * CAST({} AS {d})",
                q(quantity),
                q(price),
                d = double(dialect)
            ),
        };
        let ts = match &self.time_format {
            None => format!("CAST({} AS {})", q(&c.time), timestamp(dialect)),
            Some(format) => parse_timestamp(dialect, &q(&c.time), format)?,
        };
        let int = bigint(dialect);
        let _ = writeln!(sql, "WITH lines AS (");
        let _ = writeln!(sql, "  SELECT");
        let _ = writeln!(sql, "    {} AS customer_id,", q(&c.customer));
        if let Some(order) = &c.order {
            let _ = writeln!(sql, "    {},", q(order));
        }
        let _ = writeln!(sql, "    {ts} AS ts,");
        // Half away from zero, as clientele rounds (PostgreSQL rounds doubles half to even).
        let micros = match dialect {
            Dialect::Postgres => format!("CAST(ROUND(CAST({amount} * 1000000 AS NUMERIC)) AS {int})"),
            _ => format!("CAST(ROUND({amount} * 1000000) AS {int})"),
        };
        // NULL (not a failed cast) for an amount clientele rejects as not finite.
        let micros = format!("CASE WHEN {} THEN {micros} END", sql_amount_in_range(&amount));
        let _ = writeln!(sql, "    {micros} AS micros");
        let _ = writeln!(sql, "  FROM {}", self.table);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job() -> SqlJob {
        SqlJob::new(
            "t",
            ResolvedColumns {
                customer: "cust".into(),
                time: "day".into(),
                amount: AmountColumns::Amount("amt".into()),
                order: None,
            },
        )
    }

    #[test]
    fn every_dialect_has_the_same_shape() {
        for d in [
            Dialect::DuckDb,
            Dialect::Spark,
            Dialect::BigQuery,
            Dialect::Postgres,
        ] {
            let sql = job().query(d).unwrap();
            for column in [
                "first_purchase",
                "last_purchase",
                "frequency",
                "monetary",
                "transactions",
            ] {
                assert!(sql.contains(&format!("AS {column}")), "{d:?}: {sql}");
            }
            // Without an order column, frequency counts distinct purchase days.
            assert!(
                sql.contains("DISTINCT CAST(ts AS DATE)")
                    || sql.contains("DISTINCT CASE WHEN micros >= 0 THEN CAST(ts AS DATE)"),
                "{sql}"
            );
        }
    }

    #[test]
    fn policies_become_filters() {
        let mut j = job();
        j.as_of = NaiveDate::from_ymd_opt(2024, 3, 31);
        j.returns = ReturnsPolicy::Exclude;
        let sql = j.query(Dialect::DuckDb).unwrap();
        assert!(sql.contains("CAST(ts AS DATE) <= DATE '2024-03-31'"), "{sql}");
        assert!(sql.contains("AND micros >= 0"), "{sql}");
    }
}
