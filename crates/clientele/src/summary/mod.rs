//! The summary of a segmentation job: what was read, the settings, the reconciliation of the
//! rows, the tables of segments, classes, clusters and lifetime value, and the data behind the
//! charts. [`crate::report`] renders it as Markdown and HTML; it serializes to JSON itself.

pub mod charts;
pub mod lifecycle;

use chrono::NaiveDate;
use serde::Serialize;

use self::charts::Charts;
use crate::abc::{AbcBasis, AbcClassSummary};
use crate::cluster::ClusterSummary;
use crate::clv::ClvSummary;
use crate::cohorts::CohortTable;
use crate::columns::ResolvedColumns;
use crate::customers::CustomerFacts;
use crate::error::Result;
use crate::ingest::TimeResolution;
use crate::migration::Migration;
use crate::presets::Explained;
use crate::rfm::{Binning, MeasureScoring, SegmentSummary};
use crate::rows::{AsOf, ReturnsPolicy, RowReconciliation};
use crate::segmenter::Segmentation;

/// Everything a reader needs to trust and interpret a segmentation.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// The clientele version that produced it.
    pub clientele_version: &'static str,
    /// What was read and how.
    pub input: InputSummary,
    /// The settings used.
    pub settings: Settings,
    /// Input rows by fate; `input_rows = used_rows + excluded + rejected`.
    pub rows: RowReconciliation,
    /// Customer counts, date range, total monetary value.
    pub customers: CustomerFacts,
    /// Cut points and score counts per measure.
    pub rfm: Vec<MeasureScoring>,
    /// Customers and revenue per segment.
    pub segments: Vec<SegmentSummary>,
    /// Rules that never name a cell.
    pub segment_rule_warnings: Vec<String>,
    /// Customers and revenue per ABC class, with the textbook expectation.
    pub abc: Vec<AbcClassSummary>,
    /// Clusters, when the job had them.
    pub clusters: Option<ClusterSummary>,
    /// Lifetime value and customer equity, when the job had them.
    pub clv: Option<ClvSummary>,
    /// Changes since a previous run, when compared with one.
    pub migration: Option<Migration>,
    /// The data behind the report's charts.
    pub charts: Charts,
    /// Where lifecycle stages and RFM segments disagree, with lifetime value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lifecycle_vs_rfm: Option<Vec<lifecycle::StageDisagreement>>,
    /// Cohort retention, when the job had it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cohorts: Option<CohortTable>,
}

/// The input and its column mapping.
#[derive(Debug, Clone, Serialize)]
pub struct InputSummary {
    /// The input as named by the user.
    pub source: String,
    /// Transactions, or a customer table aggregated elsewhere.
    pub kind: crate::segmenter::InputKind,
    /// The column chosen for each role.
    pub columns: ResolvedColumns,
    /// The timestamp format, if timestamps were text.
    pub time_format: Option<String>,
    /// Whether the format was detected rather than given.
    pub time_format_detected: bool,
    /// Dates or date-times.
    pub time_resolution: TimeResolution,
}

/// The settings of the job.
#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    /// The as-of date used.
    pub as_of: NaiveDate,
    /// How it was chosen.
    pub as_of_policy: AsOf,
    /// How returns count.
    pub returns: ReturnsPolicy,
    /// Score bins.
    pub bins: usize,
    /// Binning method.
    pub binning: Binning,
    /// Where the segment rules came from.
    pub segment_rules: String,
    /// ABC basis.
    pub abc_basis: AbcBasis,
    /// ABC splits in %.
    pub abc_splits: Vec<f64>,
    /// The compatibility preset, with the definitions it changes (docs/presets.md).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preset: Option<Explained>,
}

impl Summary {
    fn of(s: &Segmentation) -> Result<Summary> {
        let time = s.source.time_parsing();
        Ok(Summary {
            clientele_version: env!("CARGO_PKG_VERSION"),
            input: InputSummary {
                source: s.source.source_name().to_string(),
                kind: s.input_kind,
                columns: s.source.columns().clone(),
                time_format: time.format.clone(),
                time_format_detected: time.detected,
                time_resolution: time.resolution,
            },
            settings: Settings {
                as_of: s.customers.as_of,
                as_of_policy: s.customers.as_of_policy,
                returns: s.customers.returns,
                bins: s.rfm.segments.bins,
                binning: s.rfm.scoring.first().map_or(Binning::Quantile, |m| m.binning),
                segment_rules: s.rfm.segments.origin.clone(),
                abc_basis: s.abc.params.basis(),
                abc_splits: s.abc.params.splits().to_vec(),
                preset: s.preset.clone(),
            },
            rows: s.customers.reconciliation.clone(),
            customers: s.customers.facts(),
            rfm: s.rfm.scoring.clone(),
            segments: s.rfm.segment_summary()?,
            segment_rule_warnings: s.rfm.segments.warnings.clone(),
            abc: s.abc.summary.clone(),
            clusters: s.clusters.as_ref().map(|c| c.summary()),
            clv: s.clv.as_ref().map(|c| c.summary()),
            migration: None,
            charts: Charts::of(s)?,
            lifecycle_vs_rfm: lifecycle::disagreements(s)?,
            cohorts: s.cohorts.clone(),
        })
    }

    /// The summary as pretty-printed JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("the summary serializes")
    }
}

impl Segmentation {
    /// The job's summary: inputs, settings, reconciliation, thresholds, segment and ABC tables.
    ///
    /// # Errors
    ///
    /// Only if polars fails summarising the frame.
    pub fn summary(&self) -> Result<Summary> {
        Summary::of(self)
    }
}
