//! RFM scores and named segments.
//!
//! ```
//! use clientele::polars::prelude::*;
//! use clientele::rfm::{self, RfmParams, SegmentRules};
//!
//! let customers = df!(
//!     "customer_id" => [1i64, 2, 3, 4, 5],
//!     "recency_days" => [3i64, 40, 200, 10, 90],
//!     "frequency" => [12i64, 3, 1, 6, 2],
//!     "monetary" => [900.0, 150.0, 20.0, 400.0, 60.0],
//! )?;
//! let scored = rfm::score(&customers, &RfmParams::quintiles().check()?, &SegmentRules::builtin())?;
//! assert_eq!(scored.frame.column("rfm_cell")?.str()?.get(0), Some("555"));
//! assert_eq!(scored.frame.column("segment")?.str()?.get(0), Some("Champions"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod params;
pub mod rfm_r;
pub mod score;
pub mod segments;

use polars::prelude::*;
use rayon::prelude::*;
use serde::Serialize;

pub use self::params::{Binning, FixedThresholds, Measure, RfmConvention, RfmParams, RfmValidParams};
pub use self::score::MeasureScoring;
pub use self::segments::{BUILTIN_RULES_TOML, RFM_R_RULES_TOML, SegmentMap, SegmentRules};
use crate::customers::col_names::{FREQUENCY, MONETARY, RECENCY_DAYS};
use crate::error::{PolarsContext, Result};
use crate::frame::{column_f64, labels_column, owned_column, ratio};

/// Output column names added by [`score()`].
pub mod col_names {
    /// Recency score.
    pub const R_SCORE: &str = "r_score";
    /// Frequency score.
    pub const F_SCORE: &str = "f_score";
    /// Monetary score.
    pub const M_SCORE: &str = "m_score";
    /// The three scores as digits, e.g. `"545"`.
    pub const RFM_CELL: &str = "rfm_cell";
    /// `r_score + f_score + m_score` (under R rfm's definitions `100·r + 10·f + m`).
    pub const RFM_SCORE: &str = "rfm_score";
    /// The named segment.
    pub const SEGMENT: &str = "segment";
}

/// Scored customers and how they were scored.
#[derive(Debug, Clone)]
pub struct RfmScored {
    /// The input columns plus `r_score, f_score, m_score, rfm_cell, rfm_score, segment`.
    pub frame: DataFrame,
    /// Cut points and score counts per measure, in R, F, M order.
    pub scoring: Vec<MeasureScoring>,
    /// The segment map used.
    pub segments: SegmentMap,
}

/// One row of the segment summary.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SegmentSummary {
    /// Segment name.
    pub segment: String,
    /// What it means.
    pub description: Option<String>,
    /// Customers in it.
    pub customers: usize,
    /// Share of all customers.
    pub customer_share: f64,
    /// Σ monetary.
    pub revenue: f64,
    /// Share of Σ monetary over all customers.
    pub revenue_share: f64,
    /// Mean recency_days (`None` for an empty segment).
    pub mean_recency_days: Option<f64>,
    /// Mean frequency (`None` for an empty segment).
    pub mean_frequency: Option<f64>,
    /// Mean monetary (`None` for an empty segment).
    pub mean_monetary: Option<f64>,
}

/// Scores a customer table (sorted by customer id, with `recency_days`, `frequency`,
/// `monetary`) and names each customer's segment.
///
/// # Errors
///
/// [`crate::Error::Rules`] when the rules leave cells uncovered; polars errors when columns are
/// missing.
pub fn score(customers: &DataFrame, params: &RfmValidParams, rules: &SegmentRules) -> Result<RfmScored> {
    score_with(customers, params, rules, &|_| true)
}

/// [`score`], adding of the label columns (`rfm_cell`, `rfm_score`, `segment`) only those
/// `wanted` names: a table written with a few columns needs no text for the others.
pub(crate) fn score_with(
    customers: &DataFrame,
    params: &RfmValidParams,
    rules: &SegmentRules,
    wanted: &(dyn Fn(&str) -> bool + Sync),
) -> Result<RfmScored> {
    let segments = rules.check(params.bins())?;
    let (scores, scoring) = score::score_measures(customers, params)?;
    let (r, f, m) = (&scores[0], &scores[1], &scores[2]);
    // Cell labels and segments come from tables of the bins³ possible cells, in the order of
    // `cell`, gathered by each customer's cell (`frame::labels_column`).
    let bins = params.bins();
    let cell = |r: u8, f: u8, m: u8| ((r as usize - 1) * bins + f as usize - 1) * bins + m as usize - 1;
    let all_cells: Vec<(u8, u8, u8)> = (1..=bins as u8)
        .flat_map(|r| (1..=bins as u8).flat_map(move |f| (1..=bins as u8).map(move |m| (r, f, m))))
        .collect();
    let labels: Vec<String> = all_cells.iter().map(|(r, f, m)| format!("{r}{f}{m}")).collect();
    let segment_of_cell: Vec<&str> = all_cells
        .iter()
        .map(|(r, f, m)| segments.segment_of(*r, *f, *m))
        .collect();
    // Each customer's cell, once for both label columns (when either is wanted).
    let codes = (wanted(col_names::RFM_CELL) || wanted(col_names::SEGMENT)).then(|| {
        let codes = (0..r.len())
            .into_par_iter()
            .map(|i| cell(r[i], f[i], m[i]) as IdxSize)
            .collect();
        IdxCa::from_vec(col_names::RFM_CELL.into(), codes)
    });
    let (cells, names) = rayon::join(
        || {
            let codes = codes.as_ref().filter(|_| wanted(col_names::RFM_CELL));
            codes.map(|codes| labels_column(col_names::RFM_CELL, &labels, codes))
        },
        || {
            let codes = codes.as_ref().filter(|_| wanted(col_names::SEGMENT));
            codes.map(|codes| labels_column(col_names::SEGMENT, &segment_of_cell, codes))
        },
    );
    let rfm_score = wanted(col_names::RFM_SCORE).then(|| match params.convention() {
        RfmConvention::Clientele => {
            let sums: Vec<u8> = (0..r.len()).map(|i| r[i] + f[i] + m[i]).collect();
            owned_column(col_names::RFM_SCORE, sums)
        }
        RfmConvention::RfmR => {
            let digits: Vec<u16> = (0..r.len())
                .map(|i| 100 * u16::from(r[i]) + 10 * u16::from(f[i]) + u16::from(m[i]))
                .collect();
            owned_column(col_names::RFM_SCORE, digits)
        }
    });
    let mut frame = customers.clone();
    let labels = [cells, rfm_score, names];
    let names = [col_names::R_SCORE, col_names::F_SCORE, col_names::M_SCORE];
    for column in names
        .into_iter()
        .zip(scores)
        .map(|(name, scores)| owned_column(name, scores))
        .chain(labels.into_iter().flatten())
    {
        frame.with_column(column).context(|| "adding RFM scores".into())?;
    }
    Ok(RfmScored {
        frame,
        scoring,
        segments,
    })
}

impl RfmScored {
    /// Customers, revenue and mean measures per segment, in rule order (segments with no
    /// customer included, with zeros).
    ///
    /// # Errors
    ///
    /// Only if polars fails on the scored frame.
    pub fn segment_summary(&self) -> Result<Vec<SegmentSummary>> {
        let stats = self
            .frame
            .clone()
            .lazy()
            .group_by([col(col_names::SEGMENT)])
            .agg([
                len().cast(DataType::Float64).alias("customers"),
                col(MONETARY).sum().alias("revenue"),
                col(RECENCY_DAYS).cast(DataType::Float64).mean().alias("r"),
                col(FREQUENCY).cast(DataType::Float64).mean().alias("f"),
                col(MONETARY).mean().alias("m"),
            ])
            .collect()
            .context(|| "summarising segments".into())?;
        let total_customers = self.frame.height() as f64;
        let total_revenue = column_f64(&self.frame, MONETARY)?.iter().sum::<f64>();
        let names = stats
            .column(col_names::SEGMENT)
            .context(|| "segment".into())?
            .str()
            .context(|| "segment".into())?
            .clone();
        let get = |name: &str| column_f64(&stats, name);
        let (customers, revenue, r, f, m) = (
            get("customers")?,
            get("revenue")?,
            get("r")?,
            get("f")?,
            get("m")?,
        );
        Ok(self
            .segments
            .names
            .iter()
            .zip(&self.segments.descriptions)
            .map(|(segment, description)| {
                let row = names.iter().position(|n| n == Some(segment.as_str()));
                let at = |v: &[f64]| row.map_or(0.0, |i| v[i]);
                let mean = |v: &[f64]| row.map(|i| v[i]);
                SegmentSummary {
                    segment: segment.clone(),
                    description: description.clone(),
                    customers: at(&customers) as usize,
                    customer_share: ratio(at(&customers), total_customers),
                    revenue: at(&revenue),
                    revenue_share: ratio(at(&revenue), total_revenue),
                    mean_recency_days: mean(&r),
                    mean_frequency: mean(&f),
                    mean_monetary: mean(&m),
                }
            })
            .collect())
    }
}
