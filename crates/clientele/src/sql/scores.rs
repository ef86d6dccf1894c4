//! The SQL of the scores, the cut points they are compared with, and the ABC class: the
//! definitions of `rfm::score` and `abc` (docs/definitions.md) as expressions, evaluated with
//! the same operations (see the `segment` module's notes).

use std::fmt::Write;

use super::Dialect;
use super::dialect::{double, int_div, quote_text, wide};
use crate::abc::{AbcBasis, AbcValidParams};
use crate::rfm::score::quantile_probabilities;
use crate::rfm::{Binning, Measure, RfmValidParams};

pub(super) use super::dialect::{days_between, next_day};

/// The rank column (1-based place by value, ties by customer id) of a measure.
pub(super) fn rank_column(measure: Measure) -> &'static str {
    match measure {
        Measure::Recency => "r_rank",
        Measure::Frequency => "f_rank",
        Measure::Monetary => "m_rank",
    }
}

/// A double literal that every dialect reads as the same double: the shortest decimal that
/// round-trips, cast (PostgreSQL reads `2e-1` as a numeric, converted correctly rounded).
fn double_literal(d: Dialect, x: f64) -> String {
    format!("CAST({x:e} AS {})", double(d))
}

/// The column holding cut point `k` (1-based) of a measure.
fn cut_column(measure: Measure, k: usize) -> String {
    format!("{}_c{k}", &measure.score_column()[..1])
}

/// numpy's linear interpolation between `a` and `b` at `gamma` (`numpy.lib._function_base_impl
/// ._lerp`): from `b` downwards when `gamma ≥ ½`, exactly as [`crate::rfm::score::linear_quantile`].
fn lerp(d: Dialect, a: &str, b: &str, gamma: &str) -> String {
    let one = format!("CAST(1 AS {})", double(d));
    format!(
        "CASE WHEN {gamma} >= 0.5 THEN {b} - ({b} - {a}) * ({one} - {gamma}) ELSE {a} + ({b} - {a}) * {gamma} END"
    )
}

/// The `cuts` common table expression: one row with every measure's inner cut points
/// `r_c1 …, f_c1 …, m_c1 …` (a `DOUBLE` each), for the binning method of `rfm`. Quantile
/// binning first finds the two values each cut point interpolates between (`ends`).
pub(super) fn cut_columns(sql: &mut String, d: Dialect, rfm: &RfmValidParams) {
    let bins = rfm.bins();
    let q = quantile_probabilities(bins);
    let dbl = double(d);
    // numpy's virtual index (n − 1)·q, its floor and fraction.
    let index = |k: usize| format!("CAST(n - 1 AS {dbl}) * {}", double_literal(d, q[k]));
    let below = |k: usize| format!("FLOOR({})", index(k));
    let gamma = |k: usize| format!("({} - {})", index(k), below(k));
    let mut columns = Vec::new();
    match rfm.binning() {
        Binning::Quantile => {
            let _ = writeln!(sql, "), ends AS (");
            let _ = writeln!(sql, "SELECT MAX(n) AS n,");
            let mut ends = Vec::new();
            for measure in Measure::ALL {
                let (rank, value) = (rank_column(measure), measure.column());
                for k in 1..bins {
                    let c = cut_column(measure, k);
                    let at = |place: String| {
                        format!("MAX(CASE WHEN {rank} - 1 = {place} THEN CAST({value} AS {dbl}) END)")
                    };
                    ends.push(format!("  {} AS {c}_a", at(below(k))));
                    ends.push(format!(
                        "  {} AS {c}_b",
                        at(format!("LEAST({} + 1, n - 1)", below(k)))
                    ));
                    columns.push(format!(
                        "  {} AS {c}",
                        lerp(d, &format!("{c}_a"), &format!("{c}_b"), &gamma(k))
                    ));
                }
            }
            let _ = writeln!(sql, "{}", ends.join(",\n"));
            let _ = writeln!(sql, "FROM ranked");
            let _ = writeln!(sql, "), cuts AS (");
            let _ = writeln!(sql, "SELECT\n{}", columns.join(",\n"));
            let _ = writeln!(sql, "FROM ends");
        }
        Binning::Rank => {
            // The ranks are 1..=n: the values at the two places are the places plus one.
            for measure in Measure::ALL {
                for k in 1..bins {
                    let a = format!("CAST({} + 1 AS {dbl})", below(k));
                    let b = format!("CAST(LEAST({} + 1, n - 1) + 1 AS {dbl})", below(k));
                    columns.push(format!(
                        "  {} AS {}",
                        lerp(d, &a, &b, &gamma(k)),
                        cut_column(measure, k)
                    ));
                }
            }
            let _ = writeln!(sql, "), cuts AS (");
            let _ = writeln!(sql, "SELECT\n{}", columns.join(",\n"));
            let _ = writeln!(sql, "FROM (SELECT COUNT(*) AS n FROM agg) sizes");
        }
        Binning::Fixed => {
            let fixed = rfm.fixed().expect("checked params have thresholds");
            for measure in Measure::ALL {
                for (k, cut) in fixed.of(measure).iter().enumerate() {
                    columns.push(format!(
                        "  {} AS {}",
                        double_literal(d, *cut),
                        cut_column(measure, k + 1)
                    ));
                }
            }
            let _ = writeln!(sql, "), cuts AS (");
            let _ = writeln!(sql, "SELECT\n{}", columns.join(",\n"));
        }
    }
}

/// A measure's score: the bin `1 + #{cut points c : c < x}` of its value (of its rank, for
/// rank binning), reversed for recency.
pub(super) fn score(d: Dialect, rfm: &RfmValidParams, measure: Measure) -> String {
    let bins = rfm.bins();
    let binned = match rfm.binning() {
        Binning::Rank => rank_column(measure),
        Binning::Quantile | Binning::Fixed => measure.column(),
    };
    let x = format!("CAST({binned} AS {})", double(d));
    let above: Vec<String> = (1..bins)
        .map(|k| format!("CASE WHEN {x} > {} THEN 1 ELSE 0 END", cut_column(measure, k)))
        .collect();
    let bin = format!("(1 + {})", above.join(" + "));
    if measure.higher_is_better() {
        bin
    } else {
        format!("({} - {bin})", bins + 1)
    }
}

/// `numerator / denominator` (integers, denominator > 0) rounded half away from zero, as
/// clientele rounds `avg_order_value` in micro-units.
pub(super) fn rounded_quotient(d: Dialect, numerator: &str, denominator: &str) -> String {
    let twice = format!("2 * {denominator}");
    format!(
        "CASE WHEN {numerator} >= 0 THEN {} ELSE -{} END",
        int_div(d, &format!("2 * {numerator} + {denominator}"), &twice),
        int_div(d, &format!("-2 * {numerator} + {denominator}"), &twice)
    )
}

/// The ABC class of a customer of `ranked`: by its place in the order by monetary value
/// descending (ties by customer id), or by the positive revenue before it.
pub(super) fn abc_class(d: Dialect, abc: &AbcValidParams) -> String {
    let names = abc.class_names();
    let cumulative = abc.cumulative_basis_points();
    let last = quote_text(d, names[names.len() - 1]);
    match abc.basis() {
        AbcBasis::Customers => {
            // The class is the number of class bounds ceil(n · share) the place reaches.
            let reached: Vec<String> = cumulative[..names.len() - 1]
                .iter()
                .map(|bp| {
                    let bound = int_div(d, &format!("n * {bp} + 9999"), "10000");
                    format!("CASE WHEN abc_rank - 1 >= {bound} THEN 1 ELSE 0 END")
                })
                .collect();
            let mut case = format!("CASE ({})", reached.join(" + "));
            for (k, name) in names.iter().enumerate() {
                let _ = write!(case, " WHEN {k} THEN {}", quote_text(d, name));
            }
            case.push_str(" END");
            case
        }
        AbcBasis::Revenue => {
            let mut case = format!("CASE WHEN net_micros <= 0 THEN {last}");
            let wide = wide(d);
            for (bp, name) in cumulative[..names.len() - 1].iter().zip(names) {
                let _ = write!(
                    case,
                    " WHEN abc_before * CAST(10000 AS {wide}) < abc_positive * CAST({bp} AS {wide}) THEN {}",
                    quote_text(d, name)
                );
            }
            let _ = write!(case, " ELSE {last} END");
            case
        }
    }
}
