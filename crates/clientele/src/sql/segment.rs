//! The whole segmentation job as SQL (`clientele sql --job segment`): the customer measures at
//! the as-of date, R/F/M scores, `rfm_cell`, `rfm_score`, the named segment and the ABC class,
//! with the columns and values of `clientele segment`.
//!
//! Everything clientele computes with exact or IEEE arithmetic is written so that the engine
//! performs the same operations:
//! - money is summed in whole micro-units; `avg_order_value` is their quotient by `frequency`
//!   rounded half away from zero with integer division;
//! - a cut point is computed from the values at the two positions numpy's linear quantile
//!   reads (found with `ROW_NUMBER`, an exact order statistic) with numpy's two-sided
//!   interpolation, in `DOUBLE`. The engines' own `PERCENTILE_CONT` (PostgreSQL, DuckDB's
//!   `quantile_cont`, Spark's exact `percentile`) interpolate as `a + (b − a)·γ`, which differs
//!   from numpy's `b − (b − a)·(1 − γ)` in the last bit for γ ≥ ½, and a cut point one ulp off
//!   can move a customer whose value equals it; BigQuery's `APPROX_QUANTILES` and Spark's
//!   `percentile_approx` are approximate. None of them is used;
//! - rank binning ranks by value, ties by customer id (`ROW_NUMBER() OVER (ORDER BY value,
//!   customer_id)`), against the same quantiles of the ranks;
//! - ABC by revenue compares cumulative positive micro-units in 38-digit decimals, as
//!   clientele does in 128-bit integers.

use std::fmt::Write;

use super::dialect::{bigint, dialect_name, double, quote_text, text, wide};
use super::scores::{abc_class, cut_columns, days_between, next_day, rank_column, rounded_quotient, score};
use super::{Dialect, SqlJob};
use crate::abc::AbcValidParams;
use crate::error::{ParamError, Result};
use crate::rfm::{Binning, Measure, RfmConvention, RfmValidParams, SegmentMap, SegmentRules};

/// What the segment job scores, names and tiers: the checked settings of `clientele segment`.
#[derive(Debug, Clone, Copy)]
pub struct SegmentSql<'a> {
    /// Bins, binning method (and fixed thresholds).
    pub rfm: &'a RfmValidParams,
    /// The segment rules (checked against the bins here).
    pub rules: &'a SegmentRules,
    /// ABC basis and splits.
    pub abc: &'a AbcValidParams,
}

impl SqlJob {
    /// The whole segmentation job in `dialect`: one row per customer with the columns of
    /// `clientele segment` (`customer_id, first_purchase, last_purchase, recency_days,
    /// tenure_days, frequency, monetary, gross_revenue, returns_value, transactions,
    /// avg_order_value, r_score, f_score, m_score, rfm_cell, rfm_score, segment, abc_class`),
    /// ordered by customer id, with the same values.
    ///
    /// ```
    /// use clientele::abc::AbcParams;
    /// use clientele::columns::{AmountColumns, ResolvedColumns};
    /// use clientele::rfm::{Binning, RfmParams, SegmentRules};
    /// use clientele::sql::{Dialect, SegmentSql, SqlJob};
    ///
    /// let job = SqlJob::new(
    ///     "orders",
    ///     ResolvedColumns {
    ///         customer: "customer_id".into(),
    ///         time: "ordered_at".into(),
    ///         amount: AmountColumns::Amount("amount".into()),
    ///         order: Some("order_id".into()),
    ///     },
    /// );
    /// let rfm = RfmParams::quintiles().binning(Binning::Rank).check()?;
    /// let abc = AbcParams::default().check()?;
    /// let spec = SegmentSql { rfm: &rfm, rules: &SegmentRules::builtin(), abc: &abc };
    /// let query = job.segment_query(Dialect::Spark, &spec)?;
    /// assert!(query.contains("ROW_NUMBER() OVER (ORDER BY recency_days, customer_id) AS r_rank"));
    /// assert!(query.contains("'Champions'"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`SqlJob::query`]; [`crate::Error::Rules`] when the rules do not cover the cells;
    /// [`crate::Error::Param`] with lifetime value (its models are fitted by clientele on the
    /// customer table: `--job customers --clv`) and under R rfm's definitions (`--preset
    /// rfm-r`), which the query does not follow.
    pub fn segment_query(&self, dialect: Dialect, spec: &SegmentSql<'_>) -> Result<String> {
        if self.btyd.is_some() {
            return Err(ParamError::Setting {
                setting: "clv (--clv)",
                detail: "lifetime value is fitted by clientele on the customer table: print it with \
                         `clientele sql --job customers --clv` and run `--input-kind customers --clv`"
                    .into(),
            }
            .into());
        }
        if spec.rfm.convention() == RfmConvention::RfmR {
            return Err(ParamError::Setting {
                setting: "preset (--preset)",
                detail: "the segment query follows clientele's definitions, not R rfm's: print the \
                         customer table (`--job customers`) and score it with `--input-kind customers`"
                    .into(),
            }
            .into());
        }
        let segments = spec.rules.check(spec.rfm.bins())?;
        let mut sql = String::new();
        let _ = writeln!(
            sql,
            "-- clientele segment table ({}): the columns and values of `clientele segment`.",
            dialect_name(dialect)
        );
        self.customer_ctes(&mut sql, dialect)?;
        self.measures(&mut sql, dialect);
        self.ranked(&mut sql, dialect, spec.rfm.binning());
        cut_columns(&mut sql, dialect, spec.rfm);
        self.final_select(&mut sql, dialect, spec, &segments);
        Ok(sql)
    }

    /// `as_of` (one row) and `measures`: the customer table at the as-of date.
    fn measures(&self, sql: &mut String, d: Dialect) {
        let as_of = match self.as_of {
            Some(date) => format!("SELECT DATE '{date}' AS as_of"),
            None => format!(
                "SELECT {} AS as_of FROM agg",
                next_day(d, "MAX(CAST(last_purchase AS DATE))")
            ),
        };
        let int = bigint(d);
        let units = |micros: &str| format!("CAST({micros} AS {}) / 1000000.0", double(d));
        let days = |column: &str| days_between(d, &format!("CAST({column} AS DATE)"), "as_of");
        let _ = writeln!(sql, "), as_of AS (");
        let _ = writeln!(sql, "  {as_of}");
        let _ = writeln!(sql, "), measures AS (");
        let _ = writeln!(sql, "SELECT customer_id, first_purchase, last_purchase,");
        let _ = writeln!(sql, "  CAST({} AS {int}) AS recency_days,", days("last_purchase"));
        let _ = writeln!(sql, "  CAST({} AS {int}) AS tenure_days,", days("first_purchase"));
        let _ = writeln!(sql, "  frequency,");
        let _ = writeln!(sql, "  {} AS monetary,", units("net_micros"));
        let _ = writeln!(sql, "  {} AS gross_revenue,", units("gross_micros"));
        let _ = writeln!(sql, "  {} AS returns_value,", units("returned_micros"));
        let _ = writeln!(sql, "  transactions,");
        let _ = writeln!(
            sql,
            "  {} AS avg_order_value,",
            units(&rounded_quotient(d, "net_micros", "frequency"))
        );
        let _ = writeln!(sql, "  net_micros");
        let _ = writeln!(sql, "FROM agg CROSS JOIN as_of");
    }

    /// `ranked`: each customer's place by each measure (ties by customer id), by monetary
    /// value descending for ABC, and the positive revenue before it and in all.
    fn ranked(&self, sql: &mut String, d: Dialect, binning: Binning) {
        let id = self.id_order(d, "customer_id");
        let positive = format!(
            "CAST(CASE WHEN net_micros > 0 THEN net_micros ELSE 0 END AS {})",
            wide(d)
        );
        let abc_order = format!("ORDER BY net_micros DESC, {id}");
        let _ = writeln!(sql, "), ranked AS (");
        let _ = writeln!(sql, "SELECT measures.*,");
        let _ = writeln!(sql, "  COUNT(*) OVER () AS n,");
        if binning != Binning::Fixed {
            for measure in Measure::ALL {
                let _ = writeln!(
                    sql,
                    "  ROW_NUMBER() OVER (ORDER BY {}, {id}) AS {},",
                    measure.column(),
                    rank_column(measure)
                );
            }
        }
        let _ = writeln!(sql, "  ROW_NUMBER() OVER ({abc_order}) AS abc_rank,");
        let _ = writeln!(
            sql,
            "  COALESCE(SUM({positive}) OVER ({abc_order} ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS abc_before,"
        );
        let _ = writeln!(sql, "  SUM({positive}) OVER () AS abc_positive");
        let _ = writeln!(sql, "FROM measures");
    }

    /// The scores, cell, segment and class, joined to the measures.
    fn final_select(&self, sql: &mut String, d: Dialect, spec: &SegmentSql<'_>, segments: &SegmentMap) {
        let bins = spec.rfm.bins();
        let _ = writeln!(sql, "), scored AS (");
        let _ = writeln!(sql, "SELECT ranked.*,");
        for measure in Measure::ALL {
            let _ = writeln!(
                sql,
                "  {} AS {},",
                score(d, spec.rfm, measure),
                measure.score_column()
            );
        }
        let _ = writeln!(sql, "  {} AS abc_class", abc_class(d, spec.abc));
        let _ = writeln!(sql, "FROM ranked CROSS JOIN cuts");
        let _ = writeln!(sql, ")");
        let _ = writeln!(
            sql,
            "SELECT customer_id, first_purchase, last_purchase, recency_days, tenure_days, frequency,"
        );
        let _ = writeln!(
            sql,
            "  monetary, gross_revenue, returns_value, transactions, avg_order_value,"
        );
        let _ = writeln!(sql, "  r_score, f_score, m_score,");
        let digit = |column: &str| format!("CAST({column} AS {})", text(d));
        let _ = writeln!(
            sql,
            "  CONCAT({}, {}, {}) AS rfm_cell,",
            digit("r_score"),
            digit("f_score"),
            digit("m_score")
        );
        let _ = writeln!(sql, "  r_score + f_score + m_score AS rfm_score,");
        let _ = writeln!(sql, "  {} AS segment,", segment_case(d, segments, bins));
        let _ = writeln!(sql, "  abc_class");
        let _ = writeln!(sql, "FROM scored");
        let _ = writeln!(sql, "ORDER BY {};", self.id_order(d, "customer_id"));
    }
}

/// `CASE WHEN cell IN (...) THEN 'name' ... END` over the cells `100·r + 10·f + m`, segments in
/// rule order: the segment of every one of the `bins³` cells, as the checked rules name it.
fn segment_case(d: Dialect, segments: &SegmentMap, bins: usize) -> String {
    let mut cells: Vec<Vec<String>> = vec![Vec::new(); segments.names.len()];
    for r in 1..=bins as u8 {
        for f in 1..=bins as u8 {
            for m in 1..=bins as u8 {
                cells[segments.segment_index(r, f, m)].push(format!("{r}{f}{m}"));
            }
        }
    }
    let mut case = String::from("CASE");
    for (name, cells) in segments.names.iter().zip(&cells) {
        if cells.is_empty() {
            continue;
        }
        let _ = write!(
            case,
            "\n    WHEN 100 * r_score + 10 * f_score + m_score IN ({}) THEN {}",
            cells.join(", "),
            quote_text(d, name)
        );
    }
    case.push_str("\n  END");
    case
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abc::AbcParams;
    use crate::columns::{AmountColumns, ResolvedColumns};
    use crate::rfm::RfmParams;

    fn job() -> SqlJob {
        SqlJob::new(
            "t",
            ResolvedColumns {
                customer: "cust".into(),
                time: "day".into(),
                amount: AmountColumns::Amount("amt".into()),
                order: Some("ord".into()),
            },
        )
    }

    fn query(d: Dialect, rfm: RfmParams, abc: AbcParams) -> String {
        let (rfm, abc) = (rfm.check().unwrap(), abc.check().unwrap());
        let spec = SegmentSql {
            rfm: &rfm,
            rules: &SegmentRules::builtin(),
            abc: &abc,
        };
        job().segment_query(d, &spec).unwrap()
    }

    #[test]
    fn every_dialect_gives_the_columns_of_clientele_segment() {
        for d in [
            Dialect::DuckDb,
            Dialect::Spark,
            Dialect::BigQuery,
            Dialect::Postgres,
        ] {
            let sql = query(d, RfmParams::quintiles(), AbcParams::default());
            for column in [
                "recency_days",
                "tenure_days",
                "avg_order_value",
                "r_score",
                "f_score",
                "m_score",
                "rfm_cell",
                "rfm_score",
                "segment",
                "abc_class",
            ] {
                assert!(sql.contains(&format!("AS {column}")), "{d:?}: {column}\n{sql}");
            }
            // Every one of the 125 cells is named once.
            let mut cells: Vec<u32> = sql
                .lines()
                .filter_map(|l| {
                    l.trim()
                        .strip_prefix("WHEN 100 * r_score + 10 * f_score + m_score IN (")
                })
                .flat_map(|l| {
                    l.split(')')
                        .next()
                        .unwrap()
                        .split(", ")
                        .map(|c| c.parse::<u32>().unwrap())
                })
                .collect();
            cells.sort_unstable();
            let all: Vec<u32> = (1..=5)
                .flat_map(|r| (1..=5).flat_map(move |f| (1..=5).map(move |m| 100 * r + 10 * f + m)))
                .collect();
            assert_eq!(cells, all, "{d:?}");
            assert!(sql.contains("'Champions'"), "{d:?}");
        }
        let bigquery = query(Dialect::BigQuery, RfmParams::quintiles(), AbcParams::default());
        assert!(
            bigquery.contains("DIV(2 * net_micros + frequency, 2 * frequency)"),
            "{bigquery}"
        );
        assert!(
            bigquery.contains("DATE_DIFF(as_of, CAST(last_purchase AS DATE), DAY)"),
            "{bigquery}"
        );
        assert!(bigquery.contains("'Can\\'t Lose Them'"), "{bigquery}");
        let postgres = query(Dialect::Postgres, RfmParams::quintiles(), AbcParams::default());
        assert!(postgres.contains("'Can''t Lose Them'"), "{postgres}");
        assert!(postgres.contains("COLLATE \"C\""), "{postgres}");
    }

    #[test]
    fn each_binning_has_its_cut_points() {
        let quantile = query(Dialect::DuckDb, RfmParams::quintiles(), AbcParams::default());
        assert!(quantile.contains("), ends AS ("), "{quantile}");
        // numpy's two-sided interpolation, from the upper value when γ ≥ ½.
        assert!(
            quantile.contains(">= 0.5 THEN r_c1_b - (r_c1_b - r_c1_a)"),
            "{quantile}"
        );
        let rank = query(
            Dialect::DuckDb,
            RfmParams::quintiles().binning(Binning::Rank),
            AbcParams::by_revenue_share([80.0, 15.0, 5.0]),
        );
        assert!(!rank.contains("ends AS"), "{rank}");
        assert!(rank.contains("CAST(r_rank AS DOUBLE) > r_c1"), "{rank}");
        assert!(
            rank.contains("abc_positive * CAST(8000 AS DECIMAL(38, 0))"),
            "{rank}"
        );
    }

    #[test]
    fn lifetime_value_and_r_rfm_are_refused_with_the_way_round() {
        let mut clv = job();
        clv.btyd = Some(super::super::BtydSql {
            calibration_end: None,
            holdout_end: None,
            period: crate::clv::Period::Day,
        });
        let rfm = RfmParams::quintiles().check().unwrap();
        let abc = AbcParams::default().check().unwrap();
        let spec = SegmentSql {
            rfm: &rfm,
            rules: &SegmentRules::builtin(),
            abc: &abc,
        };
        let err = clv.segment_query(Dialect::Spark, &spec).unwrap_err().to_string();
        assert!(err.contains("--job customers --clv"), "{err}");
        let rfm_r = RfmParams::quintiles()
            .convention(RfmConvention::RfmR)
            .check()
            .unwrap();
        let spec = SegmentSql { rfm: &rfm_r, ..spec };
        let err = job()
            .segment_query(Dialect::Spark, &spec)
            .unwrap_err()
            .to_string();
        assert!(err.contains("--job customers"), "{err}");
    }
}
