//! The data behind the report's charts: small aggregates of the per-customer table, kept in the
//! summary so that the HTML and any other consumer of `summary.json` draw the same numbers.

use polars::prelude::*;
use serde::Serialize;

use crate::abc::ABC_CLASS;
use crate::clv::col_names as clv_cols;
use crate::customers::col_names::MONETARY;
use crate::error::Result;
use crate::frame::column_f64;
use crate::rfm::col_names::{F_SCORE, R_SCORE};
use crate::segmenter::Segmentation;

/// Counts of values per bin.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Histogram {
    /// Bin edges, ascending; bin i is `[edges[i], edges[i + 1])` (the last bin is closed).
    pub edges: Vec<f64>,
    /// Customers per bin.
    pub counts: Vec<usize>,
    /// Customers above the last edge (shown as one overflow bin), if any.
    pub above: usize,
}

/// Chart data of a segmentation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Charts {
    /// Lorenz curve: (share of customers, share of positive revenue) with customers ordered by
    /// monetary value descending, at every percent of customers.
    pub lorenz: Vec<[f64; 2]>,
    /// The share of customers at which each ABC class ends (all but the last class).
    pub abc_cuts: Vec<f64>,
    /// Mean monetary value per (R score − 1, F score − 1) cell; `None` for an empty cell.
    pub rf_mean_monetary: Vec<Vec<Option<f64>>>,
    /// Customers per (R score − 1, F score − 1) cell.
    pub rf_customers: Vec<Vec<usize>>,
    /// CLV distribution, with lifetime value.
    pub clv: Option<Histogram>,
    /// Probability-alive distribution in tenths, with lifetime value.
    pub p_alive: Option<Histogram>,
}

impl Charts {
    pub(crate) fn of(s: &Segmentation) -> Result<Charts> {
        let frame = &s.frame;
        let monetary = column_f64(frame, MONETARY)?;
        let (lorenz, abc_cuts) = lorenz(&monetary, frame)?;
        let bins = s.rfm.segments.bins;
        let r = column_f64(frame, R_SCORE)?;
        let f = column_f64(frame, F_SCORE)?;
        let mut sums = vec![vec![0.0; bins]; bins];
        let mut counts = vec![vec![0usize; bins]; bins];
        for ((r, f), m) in r.iter().zip(&f).zip(&monetary) {
            let (i, j) = (*r as usize - 1, *f as usize - 1);
            sums[i][j] += m;
            counts[i][j] += 1;
        }
        let rf_mean_monetary = sums
            .iter()
            .zip(&counts)
            .map(|(row, n)| {
                row.iter()
                    .zip(n)
                    .map(|(s, n)| (*n > 0).then(|| s / *n as f64))
                    .collect()
            })
            .collect();
        let (clv, p_alive) = match &s.clv {
            Some(result) => {
                let clv = column_f64(&result.frame, clv_cols::CLV)?;
                let alive = column_f64(&result.frame, clv_cols::P_ALIVE)?;
                (Some(spread_histogram(&clv, 20)), Some(unit_histogram(&alive, 10)))
            }
            None => (None, None),
        };
        Ok(Charts {
            lorenz,
            abc_cuts,
            rf_mean_monetary,
            rf_customers: counts,
            clv,
            p_alive,
        })
    }
}

type Lorenz = (Vec<[f64; 2]>, Vec<f64>);

fn lorenz(monetary: &[f64], frame: &DataFrame) -> Result<Lorenz> {
    let mut sorted: Vec<f64> = monetary.iter().map(|m| m.max(0.0)).collect();
    sorted.sort_by(|a, b| b.total_cmp(a));
    let total: f64 = sorted.iter().sum();
    let n = sorted.len();
    let mut cumulative = Vec::with_capacity(n + 1);
    cumulative.push(0.0);
    for m in &sorted {
        cumulative.push(cumulative.last().copied().unwrap_or(0.0) + m);
    }
    let points = (0..=100)
        .map(|p| {
            let k = ((p as f64 / 100.0) * n as f64).round() as usize;
            [
                k as f64 / n.max(1) as f64,
                if total > 0.0 { cumulative[k] / total } else { 0.0 },
            ]
        })
        .collect();
    let classes = frame
        .column(ABC_CLASS)
        .ok()
        .and_then(|c| {
            c.str()
                .ok()
                .map(|s| s.iter().map(|v| v.unwrap_or("").to_string()).collect::<Vec<_>>())
        })
        .unwrap_or_default();
    let mut names: Vec<&String> = classes.iter().collect();
    names.sort();
    names.dedup();
    let mut cuts = Vec::new();
    let mut running = 0usize;
    for name in names.iter().take(names.len().saturating_sub(1)) {
        running += classes.iter().filter(|c| c == name).count();
        cuts.push(running as f64 / n.max(1) as f64);
    }
    Ok((points, cuts))
}

/// Equal-width bins from the minimum to the 99th percentile, the rest counted as `above`.
fn spread_histogram(values: &[f64], bins: usize) -> Histogram {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let (lo, hi) = match (
        sorted.first(),
        sorted.get(((sorted.len() as f64) * 0.99) as usize),
    ) {
        (Some(lo), Some(hi)) if hi > lo => (*lo, *hi),
        (Some(lo), _) => (*lo, *lo + 1.0),
        _ => (0.0, 1.0),
    };
    let width = (hi - lo) / bins as f64;
    let edges: Vec<f64> = (0..=bins).map(|i| lo + width * i as f64).collect();
    let mut counts = vec![0; bins];
    let mut above = 0;
    for v in values {
        if *v > hi {
            above += 1;
        } else {
            counts[(((v - lo) / width) as usize).min(bins - 1)] += 1;
        }
    }
    Histogram { edges, counts, above }
}

/// Bins of [0, 1].
fn unit_histogram(values: &[f64], bins: usize) -> Histogram {
    let edges: Vec<f64> = (0..=bins).map(|i| i as f64 / bins as f64).collect();
    let mut counts = vec![0; bins];
    for v in values {
        counts[((v * bins as f64) as usize).min(bins - 1)] += 1;
    }
    Histogram {
        edges,
        counts,
        above: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_count_every_value() {
        let h = unit_histogram(&[0.0, 0.05, 0.5, 0.99, 1.0], 10);
        assert_eq!(h.counts.iter().sum::<usize>(), 5);
        assert_eq!(h.counts[0], 2);
        assert_eq!(h.counts[9], 2);
        let values: Vec<f64> = (0..1000).map(f64::from).collect();
        let h = spread_histogram(&values, 20);
        assert_eq!(h.counts.iter().sum::<usize>() + h.above, 1000);
        assert_eq!(h.above, 9);
    }

    #[test]
    fn lorenz_curve_ends_at_one_and_is_concave() {
        let frame = df!("abc_class" => ["A", "B", "C", "C"]).unwrap();
        let (points, cuts) = lorenz(&[10.0, 5.0, 3.0, -2.0], &frame).unwrap();
        assert_eq!(points.first(), Some(&[0.0, 0.0]));
        assert_eq!(points.last(), Some(&[1.0, 1.0]));
        assert!(points.windows(2).all(|w| w[1][1] >= w[0][1]));
        assert_eq!(cuts, vec![0.25, 0.5]);
    }
}
