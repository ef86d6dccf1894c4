//! Where lifecycle stages and RFM segments disagree, and why, in a sentence with counts.
//!
//! A segment's customers **disagree** with their lifecycle stage when their R score is in the
//! lower half of the scores (R ≤ ⌊bins / 2⌋: not recent by RFM) and the stage is `active` or
//! `new`, or in the upper half (R > bins − ⌊bins / 2⌋: recent by RFM) and the stage is
//! `lapsing` or `lost`. Each (segment, stage) pair with such customers gets a sentence giving
//! the two reasons the views differ: the dates (RFM is as of the as-of date, the lifecycle
//! stage as of the calibration end; counted: how many bought after the calibration end, or
//! did not) and the yardstick (RFM ranks recency against all customers, the stage measures the
//! gap since the last purchase against the customer's own purchase rhythm and P(alive): their
//! medians are given).

use serde::Serialize;

use crate::clv::col_names as clv_cols;
use crate::clv::lifecycle;
use crate::customers::col_names::RECENCY_DAYS;
use crate::error::Result;
use crate::format::format_count;
use crate::frame::{column_f64, column_text};
use crate::rfm::col_names::{R_SCORE, SEGMENT};
use crate::segmenter::Segmentation;

/// Customers of one RFM segment whose lifecycle stage says otherwise.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StageDisagreement {
    /// The RFM segment.
    pub segment: String,
    /// The lifecycle stage.
    pub stage: String,
    /// Customers in both.
    pub customers: usize,
    /// Of them: those who bought after the calibration end (when recent by RFM) or those who
    /// did not (when not recent by RFM).
    pub dated_apart: usize,
    /// Their median recency in days at the as-of date.
    pub median_recency_days: f64,
    /// Their median gap since the last purchase at the calibration end, in their own mean
    /// times between purchases (customers with a prediction).
    pub median_overdue: Option<f64>,
    /// Their median P(alive) (customers with a prediction).
    pub median_p_alive: Option<f64>,
    /// The explanation.
    pub explanation: String,
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

/// The disagreements of a segmentation with lifetime value, most customers first.
pub(crate) fn disagreements(s: &Segmentation) -> Result<Option<Vec<StageDisagreement>>> {
    let Some(clv) = &s.clv else { return Ok(None) };
    let f = &s.frame;
    let (segment, stage) = (
        column_text(f, SEGMENT)?,
        column_text(f, clv_cols::LIFECYCLE_STAGE)?,
    );
    let (r, recency) = (column_f64(f, R_SCORE)?, column_f64(f, RECENCY_DAYS)?);
    let p_alive = f.column(clv_cols::P_ALIVE).map(|c| c.is_not_null()).ok();
    let predicted: Vec<bool> = match &p_alive {
        Some(mask) => mask.iter().map(|v| v == Some(true)).collect(),
        None => vec![false; f.height()],
    };
    let p = column_f64(f, clv_cols::P_ALIVE)?;
    let btyd = |name: &str| column_f64(f, &format!("btyd_{name}"));
    let (x, t_x, t) = (
        btyd(clv_cols::FREQUENCY)?,
        btyd(clv_cols::RECENCY)?,
        btyd(clv_cols::T)?,
    );
    let population = lifecycle::population_rhythm(
        &crate::frame::column_f64(&clv.frame, clv_cols::FREQUENCY)?,
        &crate::frame::column_f64(&clv.frame, clv_cols::RECENCY)?,
    )
    .unwrap_or(0.0);
    let calibration_end = clv.facts.calibration_end;
    // Bought after the calibration end ⇔ recency (days to the as-of date) below this.
    let apart_days = (s.customers.as_of - calibration_end).num_days() as f64;
    let bins = s.rfm.segments.bins as f64;
    let half = (bins / 2.0).floor();
    let mut pairs: std::collections::BTreeMap<(String, String), Vec<usize>> = Default::default();
    for i in 0..f.height() {
        let (Some(seg), Some(st)) = (&segment[i], &stage[i]) else {
            continue;
        };
        let low = r[i] <= half && matches!(st.as_str(), "active" | "new");
        let high = r[i] > bins - half && matches!(st.as_str(), "lapsing" | "lost");
        if low || high {
            pairs.entry((seg.clone(), st.clone())).or_default().push(i);
        }
    }
    let mut out: Vec<StageDisagreement> = pairs
        .into_iter()
        .map(|((segment, stage), members)| {
            let recent = matches!(stage.as_str(), "lapsing" | "lost");
            let dated_apart = members
                .iter()
                .filter(|i| (recency[**i] < apart_days) == recent)
                .count();
            let modelled: Vec<usize> = members.iter().copied().filter(|i| predicted[*i]).collect();
            let d = StageDisagreement {
                customers: members.len(),
                dated_apart,
                median_recency_days: median(members.iter().map(|i| recency[*i]).collect()).unwrap_or(0.0),
                median_overdue: median(
                    modelled
                        .iter()
                        .map(|i| lifecycle::overdue(x[*i], t_x[*i], t[*i], population))
                        .collect(),
                ),
                median_p_alive: median(modelled.iter().map(|i| p[*i]).collect()),
                segment,
                stage,
                explanation: String::new(),
            };
            let explanation = explain(&d, s, calibration_end, half as usize);
            StageDisagreement { explanation, ..d }
        })
        .collect();
    out.sort_by(|a, b| b.customers.cmp(&a.customers).then(a.segment.cmp(&b.segment)));
    Ok(Some(out))
}

fn explain(
    d: &StageDisagreement,
    s: &Segmentation,
    calibration_end: chrono::NaiveDate,
    half: usize,
) -> String {
    let recent = matches!(d.stage.as_str(), "lapsing" | "lost");
    let bins = s.rfm.segments.bins;
    let as_of = s.customers.as_of;
    let scores = if recent {
        format!("R score ≥ {}", bins - half + 1)
    } else {
        format!("R score ≤ {half}")
    };
    let mut reasons = Vec::new();
    if as_of > calibration_end + chrono::Duration::days(1) {
        reasons.push(format!(
            "the stage is judged at the calibration end {calibration_end}, and {} of them {} it",
            format_count(d.dated_apart as u64),
            if recent {
                "bought again after"
            } else {
                "have not bought since"
            }
        ));
    }
    if d.stage == "new" {
        reasons.push(format!(
            "they first bought at most {} days before the calibration end (or after it), too recently to judge",
            s.clv.as_ref().map_or(90.0, |c| c.params.lifecycle().new_within_days)
        ));
    } else if let (Some(k), Some(p)) = (d.median_overdue, d.median_p_alive) {
        reasons.push(format!(
            "then their median time since the last purchase was {k:.1} times their own mean time between \
             purchases (median P(alive) {p:.2}), while RFM ranks recency against all customers"
        ));
    }
    format!(
        "{} customers are {} by RFM ({scores}, median recency {:.0} days at {as_of}) but {} by lifecycle: {}.",
        format_count(d.customers as u64),
        d.segment,
        d.median_recency_days,
        d.stage,
        reasons.join("; ")
    )
}
