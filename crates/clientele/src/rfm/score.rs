//! Binning measures into scores 1..=bins.
//!
//! A value `x` falls in bin `1 + #{cut points c : c < x}` (bins are intervals `(c_{k-1}, c_k]`,
//! the first one closed below, as `pandas.cut(..., right=True, include_lowest=True)`). Recency
//! scores are reversed: `score = bins + 1 - bin`, so the most recent customers score highest.
//! Cut points come from the binning method:
//! - quantile: `c_k = Q(k / bins)` over the values, with numpy's linear interpolation;
//! - rank: the same quantiles over ranks `1..=n` (ties broken by customer id), which
//!   reproduces `pandas.qcut(x.rank(method="first"), bins)`;
//! - fixed: the user's cut points.

use polars::prelude::*;
use rayon::prelude::*;
use serde::Serialize;

use super::params::{Binning, Measure, RfmConvention, RfmValidParams};
use super::rfm_r;
use crate::error::Result;
use crate::frame::Numbers;
use crate::ranking;

/// The quantile probabilities `k / bins` for `k = 0..=bins`, computed as pandas does
/// (`np.linspace(0, 1, bins + 1)`, then `× 100 / 100` on the way through `np.percentile`),
/// so cut points on ranks match `pandas.qcut` to the last bit.
pub fn quantile_probabilities(bins: usize) -> Vec<f64> {
    let step = 1.0 / bins as f64;
    (0..=bins)
        .map(|k| {
            let q = if k == bins { 1.0 } else { k as f64 * step };
            (q * 100.0) / 100.0
        })
        .collect()
}

/// The `q`-quantile of ascending `sorted` values with linear interpolation, computed exactly as
/// numpy's `quantile(method="linear")` (virtual index `(n-1)q`, numpy's two-sided lerp).
///
/// ```
/// use clientele::rfm::score::linear_quantile;
///
/// assert_eq!(linear_quantile(&[1.0, 2.0, 3.0, 4.0], 0.5), 2.5);
/// assert_eq!(linear_quantile(&[5.0], 0.9), 5.0);
/// ```
///
/// # Panics
///
/// If `sorted` is empty.
pub fn linear_quantile(sorted: &[f64], q: f64) -> f64 {
    assert!(!sorted.is_empty(), "quantile of no values");
    linear_quantile_of(sorted.len(), q, |i| sorted[i])
}

/// [`linear_quantile`] of `n` ascending values given by position.
fn linear_quantile_of(n: usize, q: f64, at: impl Fn(usize) -> f64) -> f64 {
    let virtual_index = (n - 1) as f64 * q;
    let below = virtual_index.floor().clamp(0.0, (n - 1) as f64);
    let gamma = virtual_index - below;
    let lo = below as usize;
    let hi = (lo + 1).min(n - 1);
    let (a, b) = (at(lo), at(hi));
    let diff = b - a;
    if gamma >= 0.5 {
        b - diff * (1.0 - gamma)
    } else {
        a + diff * gamma
    }
}

/// Inner cut points `c_1..c_{bins-1}`: the quantiles of ascending `sorted` values.
pub fn quantile_cut_points(sorted: &[f64], bins: usize) -> Vec<f64> {
    let probabilities = quantile_probabilities(bins);
    probabilities[1..bins]
        .iter()
        .map(|q| linear_quantile(sorted, *q))
        .collect()
}

/// [`quantile_cut_points`] of the ranks `1..=n`, without building them.
pub fn rank_cut_points(n: usize, bins: usize) -> Vec<f64> {
    assert!(n > 0, "quantile of no values");
    let probabilities = quantile_probabilities(bins);
    probabilities[1..bins]
        .iter()
        .map(|q| linear_quantile_of(n, *q, |i| (i + 1) as f64))
        .collect()
}

/// The bin of a value: `1 + #{c in cut_points : c < value}`.
pub fn bin_of(value: f64, cut_points: &[f64]) -> u8 {
    1 + cut_points.iter().filter(|c| **c < value).count() as u8
}

/// A polars expression scoring `measure` with given cut points (e.g. in an embedder's own
/// lazy query): `1 + Σ (x > c)`, reversed for recency.
///
/// ```
/// use clientele::polars::prelude::*;
/// use clientele::rfm::{score::score_expr, Measure};
///
/// let df = df!("frequency" => [1i64, 2, 5, 9])?;
/// let f_score = score_expr(col("frequency"), Measure::Frequency, &[1.0, 4.0], 3).alias("f_score");
/// let scored = df.lazy().select([f_score]).collect()?;
/// let scores: Vec<u8> = scored.column("f_score")?.u8()?.iter().flatten().collect();
/// assert_eq!(scores, [1, 2, 3, 3]);
/// # Ok::<(), PolarsError>(())
/// ```
pub fn score_expr(value: Expr, measure: Measure, cut_points: &[f64], bins: usize) -> Expr {
    let above = cut_points
        .iter()
        .map(|c| value.clone().gt(lit(*c)).cast(DataType::UInt8))
        .fold(lit(1u8), |acc, e| acc + e);
    if measure.higher_is_better() {
        above
    } else {
        lit(bins as u8 + 1) - above
    }
}

/// What happened when one measure was scored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MeasureScoring {
    /// The measure.
    pub measure: Measure,
    /// The binning method.
    pub binning: Binning,
    /// Inner cut points, ascending, in the binned variable's units (values; ranks for rank
    /// binning).
    pub cut_points: Vec<f64>,
    /// Per score 1..=bins: customers and the range of the measure's values.
    pub scores: Vec<ScoreBin>,
    /// Scores no customer received (collapsed bins), ascending.
    pub empty_scores: Vec<u8>,
    /// A sentence on why scores are empty, when some are.
    pub note: Option<String>,
}

/// One score of one measure.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScoreBin {
    /// The score.
    pub score: u8,
    /// Customers with this score.
    pub customers: usize,
    /// Smallest value of the measure among them.
    pub min: Option<f64>,
    /// Largest value of the measure among them.
    pub max: Option<f64>,
}

/// Scores for every customer and measure, computed from the measure columns of `customers`
/// (which must be sorted by customer id, as [`crate::customers::aggregate`] leaves them).
pub(crate) fn score_measures(
    customers: &DataFrame,
    params: &RfmValidParams,
) -> Result<(Vec<Vec<u8>>, Vec<MeasureScoring>)> {
    let bins = params.bins();
    // The three measures are independent: scored in parallel, collected in order.
    let scored: Vec<(Vec<u8>, MeasureScoring)> = Measure::ALL
        .par_iter()
        .map(|measure| score_measure(customers, params, *measure, bins))
        .collect::<Result<_>>()?;
    Ok(scored.into_iter().unzip())
}

fn score_measure(
    customers: &DataFrame,
    params: &RfmValidParams,
    measure: Measure,
    bins: usize,
) -> Result<(Vec<u8>, MeasureScoring)> {
    {
        let values = crate::frame::column_numbers(customers, params.column(measure))?;
        let bin_to_score = |bin: u8| {
            if measure.higher_is_better() {
                bin
            } else {
                bins as u8 + 1 - bin
            }
        };
        let by_cut_points = |binned: &Numbers<'_>, cut_points: &[f64]| -> Vec<u8> {
            binned
                .iter()
                .map(|x| bin_to_score(bin_of(x, cut_points)))
                .collect()
        };
        let by_classes = |breaks: &[f64]| -> Vec<u8> {
            values
                .iter()
                .map(|x| bin_to_score(rfm_r::class_of(x, breaks)))
                .collect()
        };
        let r_rule = params.convention() == RfmConvention::RfmR;
        let (scores, cut_points) = match params.binning() {
            Binning::Quantile if r_rule => {
                let mut sorted = values.to_vec();
                sorted.sort_unstable_by(f64::total_cmp);
                let breaks = rfm_r::breaks(&sorted, bins);
                (by_classes(&breaks), breaks)
            }
            Binning::Fixed if r_rule => {
                let breaks = params
                    .fixed()
                    .expect("checked params have thresholds")
                    .of(measure)
                    .to_vec();
                (by_classes(&breaks), breaks)
            }
            Binning::Quantile => {
                let mut sorted = values.to_vec();
                // Equal keys are identical values: an unstable sort gives the same order.
                sorted.sort_unstable_by(f64::total_cmp);
                let cuts = quantile_cut_points(&sorted, bins);
                (by_cut_points(&values, &cuts), cuts)
            }
            Binning::Rank => {
                let (binned, cuts) = rank_bins(&values, bins);
                (binned.into_iter().map(bin_to_score).collect(), cuts)
            }
            Binning::Fixed => {
                let cuts = params
                    .fixed()
                    .expect("checked params have thresholds")
                    .of(measure)
                    .to_vec();
                (by_cut_points(&values, &cuts), cuts)
            }
        };
        let scoring = report(measure, params, cut_points, &values, &scores);
        Ok((scores, scoring))
    }
}

/// Rank binning: the bin of each value's first rank (see [`first_ranks`]) and the cut points
/// on ranks, found by selection: an integer rank `r = place + 1` is above a cut point `c`
/// exactly when `place ≥ floor(c)`, so only the places at the cuts are needed, not a sort.
/// Whole numbers spanning few values (recency in days, frequency) are counted instead.
fn rank_bins(values: &Numbers<'_>, bins: usize) -> (Vec<u8>, Vec<f64>) {
    let cuts = rank_cut_points(values.len(), bins);
    let places: Vec<usize> = cuts.iter().map(|c| c.floor() as usize).collect();
    let in_span = match values {
        Numbers::I64(ints) => ranking::places_reached_in_span(ints, &places),
        _ => None,
    };
    let reached = in_span.unwrap_or_else(|| {
        let key = |row: usize| ranking::ascending_key(values.get(row));
        ranking::places_reached(values.len(), key, None, &places)
    });
    (reached.into_iter().map(|above| 1 + above).collect(), cuts)
}

/// Ranks 1..=n by value ascending, ties in input order (`rank(method="first")`).
pub fn first_ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    // The position breaks ties, so the order is total and an unstable sort is exact.
    order.sort_unstable_by(|a, b| values[*a].total_cmp(&values[*b]).then(a.cmp(b)));
    let mut ranks = vec![0.0; values.len()];
    for (rank, index) in order.into_iter().enumerate() {
        ranks[index] = (rank + 1) as f64;
    }
    ranks
}

fn report(
    measure: Measure,
    params: &RfmValidParams,
    cut_points: Vec<f64>,
    values: &Numbers<'_>,
    scores: &[u8],
) -> MeasureScoring {
    let (binning, bins) = (params.binning(), params.bins());
    let mut bins_out: Vec<ScoreBin> = (1..=bins as u8)
        .map(|score| ScoreBin {
            score,
            customers: 0,
            min: None,
            max: None,
        })
        .collect();
    for (value, score) in values.iter().zip(scores) {
        let bin = &mut bins_out[*score as usize - 1];
        bin.customers += 1;
        bin.min = Some(bin.min.map_or(value, |m| m.min(value)));
        bin.max = Some(bin.max.map_or(value, |m| m.max(value)));
    }
    let empty_scores: Vec<u8> = bins_out
        .iter()
        .filter(|b| b.customers == 0)
        .map(|b| b.score)
        .collect();
    let note = (!empty_scores.is_empty()).then(|| {
        let measure = Scored {
            measure,
            column: params.column(measure),
            binning,
            closed_below: params.convention() == RfmConvention::RfmR,
        };
        empty_note(&measure, &cut_points, values, &empty_scores, bins)
    });
    MeasureScoring {
        measure,
        binning,
        cut_points,
        scores: bins_out,
        empty_scores,
        note,
    }
}

/// A measure as it was scored: its column, and whether its intervals are closed below (R's
/// rfm) rather than above.
struct Scored {
    measure: Measure,
    column: &'static str,
    binning: Binning,
    closed_below: bool,
}

/// Which intervals hold no value, e.g. "frequency has 3 distinct values; no customer falls in
/// score 2 = (1, 1.2] or score 4 = (2, 2]".
fn empty_note(
    scored: &Scored,
    cut_points: &[f64],
    values: &Numbers<'_>,
    empty: &[u8],
    bins: usize,
) -> String {
    let mut distinct: Vec<f64> = values.to_vec();
    distinct.sort_by(f64::total_cmp);
    distinct.dedup();
    let (measure, binning) = (scored.measure, scored.binning);
    let interval = |score: u8| {
        let bin = if measure.higher_is_better() {
            score as usize
        } else {
            bins + 1 - score as usize
        };
        let low = if bin == 1 {
            "-∞".to_string()
        } else {
            format_number(cut_points[bin - 2])
        };
        let high = if bin == bins {
            "∞".to_string()
        } else {
            format_number(cut_points[bin - 1])
        };
        if scored.closed_below {
            format!("score {score} = [{low}, {high})")
        } else {
            format!("score {score} = ({low}, {high}]")
        }
    };
    let list: Vec<String> = empty.iter().map(|s| interval(*s)).collect();
    let unit = if binning == Binning::Rank {
        " (intervals of ranks)"
    } else {
        ""
    };
    format!(
        "{} has {} distinct values; no customer falls in {}{unit}",
        scored.column,
        distinct.len(),
        list.join(" or ")
    )
}

/// A number for people: integers plainly, others with up to four decimals.
pub fn format_number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{x:.0}")
    } else {
        let s = format!("{x:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probabilities_match_numpy_linspace_through_percentile() {
        // np.linspace(0, 1, 6) * 100 / 100
        let q = quantile_probabilities(5);
        assert_eq!(q, vec![0.0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0]);
    }

    #[test]
    fn linear_quantile_matches_numpy() {
        let v = [1.0, 2.0, 4.0, 8.0, 16.0];
        // np.quantile([1,2,4,8,16], [0.2, 0.4, 0.6, 0.8]) = [1.8, 3.2, 5.6, 9.6]
        let got: Vec<f64> = [0.2, 0.4, 0.6000000000000001, 0.8]
            .iter()
            .map(|q| linear_quantile(&v, *q))
            .collect();
        let want = [1.8, 3.2, 5.6, 9.6];
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 1e-12, "{got:?}");
        }
    }

    #[test]
    fn bins_are_closed_on_the_right() {
        let cuts = [2.0, 4.0];
        assert_eq!(bin_of(1.0, &cuts), 1);
        assert_eq!(bin_of(2.0, &cuts), 1);
        assert_eq!(bin_of(2.5, &cuts), 2);
        assert_eq!(bin_of(4.0, &cuts), 2);
        assert_eq!(bin_of(9.0, &cuts), 3);
    }

    #[test]
    fn first_ranks_break_ties_by_position() {
        assert_eq!(first_ranks(&[3.0, 1.0, 3.0, 2.0]), vec![3.0, 1.0, 4.0, 2.0]);
    }

    proptest::proptest! {
        #[test]
        fn rank_bins_by_selection_equal_bins_of_ranks(
            values in proptest::collection::vec(-3i32..12, 1..400),
            bins in 2usize..8,
        ) {
            let values: Vec<f64> = values.into_iter().map(|v| f64::from(v) / 2.0).collect();
            let ranks = first_ranks(&values);
            let sorted: Vec<f64> = (1..=values.len()).map(|r| r as f64).collect();
            let cuts = quantile_cut_points(&sorted, bins);
            let expected: Vec<u8> = ranks.iter().map(|r| bin_of(*r, &cuts)).collect();
            let (binned, rank_cuts) = rank_bins(&Numbers::F64(&values), bins);
            proptest::prop_assert_eq!(rank_cuts, cuts);
            proptest::prop_assert_eq!(binned, expected);
        }
    }

    #[test]
    fn rank_cut_points_reproduce_qcut() {
        // pd.qcut(pd.Series(range(1, 11)), 5, labels=False) + 1 -> 1,1,2,2,3,3,4,4,5,5
        let ranks: Vec<f64> = (1..=10).map(f64::from).collect();
        let cuts = quantile_cut_points(&ranks, 5);
        let bins: Vec<u8> = ranks.iter().map(|r| bin_of(*r, &cuts)).collect();
        assert_eq!(bins, vec![1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
        // n = 7: qcut gives 1,1,2,3,4,5,5 (edges 1, 2.2, 3.4, 4.6, 5.8, 7)
        let ranks: Vec<f64> = (1..=7).map(f64::from).collect();
        let cuts = quantile_cut_points(&ranks, 5);
        let bins: Vec<u8> = ranks.iter().map(|r| bin_of(*r, &cuts)).collect();
        assert_eq!(bins, vec![1, 1, 2, 3, 4, 5, 5]);
    }
}
