//! The sections of [`Settings`](super::Settings), each with the library's defaults.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use chrono::NaiveDate;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::choice::named;
use crate::abc::AbcBasis;
use crate::cluster::{ClusterCount, ClusterParams, Scale, Transform};
use crate::clv::{ClvParams, Horizon, Period, TimeUnit, TransactionModel};
use crate::cohorts::CohortPeriod;
use crate::error::ParamError;
use crate::ingest::{CsvReaderChoice, Delimiter, Encoding, InputFormat};
use crate::output::OutputFormat;
use crate::rfm::{Binning, FixedThresholds, RfmParams};
use crate::rows::{AsOf, ReturnsPolicy};
use crate::segmenter::InputKind;

/// `[input]`: how the input files are read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct InputSettings {
    /// `csv` or `parquet`; told from the files when left out.
    #[serde(with = "named::option", skip_serializing_if = "Option::is_none")]
    pub format: Option<InputFormat>,
    /// `transactions` or `customers` (a customer table aggregated elsewhere).
    #[serde(with = "named")]
    pub kind: InputKind,
    /// CSV field separator: one character, `tab` or `whitespace`; `auto` sniffs it.
    #[serde(with = "delimiter")]
    pub delimiter: Delimiter,
    /// Whether CSV files have a header line.
    pub header: bool,
    /// Whether CSV numbers use a decimal comma.
    pub decimal_comma: bool,
    /// Character encoding of CSV files.
    #[serde(with = "named")]
    pub encoding: Encoding,
    /// strftime format of text timestamps; detected when left out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_format: Option<String>,
    /// Which reader reads the input: `auto` (clientele's own readers for plain CSV and typed
    /// Parquet columns where they apply) or `polars` (polars' reader and expressions always).
    #[serde(with = "named")]
    pub reader: CsvReaderChoice,
}

impl Default for InputSettings {
    fn default() -> Self {
        InputSettings {
            format: None,
            kind: InputKind::default(),
            delimiter: Delimiter::Auto,
            header: true,
            decimal_comma: false,
            encoding: Encoding::default(),
            time_format: None,
            reader: CsvReaderChoice::default(),
        }
    }
}

/// `[analysis]`: as-of date, returns, RFM scoring, segment rules and ABC tiers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AnalysisSettings {
    /// `day-after-latest` or a `YYYY-MM-DD` date.
    #[serde(with = "as_of")]
    pub as_of: AsOf,
    /// How negative amounts count: `net` or `exclude`.
    #[serde(with = "named")]
    pub returns: ReturnsPolicy,
    /// `quantile`, `rank` or `fixed`.
    #[serde(with = "named")]
    pub binning: Binning,
    /// Scores per measure (2 to 9).
    pub bins: usize,
    /// Cut points per measure for `binning = "fixed"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thresholds: Option<FixedThresholds>,
    /// A segment rules TOML file; the built-in rules when left out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rules: Option<PathBuf>,
    /// ABC classes by share of `customers` or of `revenue`.
    #[serde(with = "named")]
    pub abc_by: AbcBasis,
    /// ABC class shares in %; the basis' defaults when left out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub abc_splits: Option<Vec<f64>>,
    /// Cohorts of the report by the `week`, `month` or `quarter` of the first purchase.
    #[serde(with = "named")]
    pub cohort_period: CohortPeriod,
}

impl Default for AnalysisSettings {
    fn default() -> Self {
        let rfm = RfmParams::new()
            .check()
            .expect("the default RFM parameters are valid");
        AnalysisSettings {
            as_of: AsOf::default(),
            returns: ReturnsPolicy::default(),
            binning: rfm.binning(),
            bins: rfm.bins(),
            thresholds: None,
            rules: None,
            abc_by: AbcBasis::default(),
            abc_splits: None,
            cohort_period: CohortPeriod::default(),
        }
    }
}

/// A number of clusters, or `auto`: the knee of the inertia curve over
/// [`ClusterSettings::k_range`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClusterK {
    /// Exactly this many.
    Fixed(usize),
    /// Chosen by the knee of the inertia curve.
    Auto,
}

impl Default for ClusterK {
    fn default() -> Self {
        match ClusterCount::default() {
            ClusterCount::Fixed(k) => ClusterK::Fixed(k),
            ClusterCount::Auto { .. } => ClusterK::Auto,
        }
    }
}

impl fmt::Display for ClusterK {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClusterK::Fixed(k) => write!(f, "{k}"),
            ClusterK::Auto => f.write_str("auto"),
        }
    }
}

impl FromStr for ClusterK {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        if text.trim().eq_ignore_ascii_case("auto") {
            return Ok(ClusterK::Auto);
        }
        text.trim()
            .parse::<usize>()
            .map(ClusterK::Fixed)
            .map_err(|_| format!("expected a number of clusters or \"auto\", got {text:?}"))
    }
}

impl Serialize for ClusterK {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            ClusterK::Fixed(k) => serializer.serialize_u64(*k as u64),
            ClusterK::Auto => serializer.serialize_str("auto"),
        }
    }
}

impl<'de> Deserialize<'de> for ClusterK {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(i64),
            Text(String),
        }
        match Raw::deserialize(deserializer)? {
            Raw::Number(k) if k >= 0 => Ok(ClusterK::Fixed(k as usize)),
            Raw::Number(k) => Err(serde::de::Error::custom(format!(
                "expected a number of clusters or \"auto\", got {k}"
            ))),
            Raw::Text(text) => text.parse().map_err(serde::de::Error::custom),
        }
    }
}

/// The range of k that `auto` tries: `2-10` (in TOML also `[2, 10]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KRange {
    /// Smallest k tried.
    pub min: usize,
    /// Largest k tried.
    pub max: usize,
}

impl fmt::Display for KRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.min, self.max)
    }
}

impl FromStr for KRange {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        text.split_once('-')
            .and_then(|(a, b)| {
                Some(KRange {
                    min: a.trim().parse().ok()?,
                    max: b.trim().parse().ok()?,
                })
            })
            .ok_or_else(|| format!("must look like 2-10, got {text:?}"))
    }
}

impl Serialize for KRange {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for KRange {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Pair([usize; 2]),
            Text(String),
        }
        match Raw::deserialize(deserializer)? {
            Raw::Pair([min, max]) => Ok(KRange { min, max }),
            Raw::Text(text) => text.parse().map_err(serde::de::Error::custom),
        }
    }
}

/// `[clusters]`: k-means clusters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClusterSettings {
    /// A number of clusters or `auto`; left out when a saved `model` is applied.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub k: Option<ClusterK>,
    /// The range `auto` tries.
    pub k_range: KRange,
    /// Customer columns to cluster on.
    pub features: Vec<String>,
    /// Transform applied to each feature first: `log1p` or `none`.
    #[serde(with = "named")]
    pub transform: Transform,
    /// Scaling after the transform: `standard`, `robust` or `none`.
    #[serde(with = "named")]
    pub scale: Scale,
    /// Seed of the k-means++ initialisation (and the silhouette sample).
    pub seed: u64,
    /// k-means runs; the one with the lowest inertia is kept.
    pub n_init: usize,
    /// Iteration limit of each run.
    pub max_iter: u64,
    /// Convergence tolerance (scikit-learn's definition).
    pub tolerance: f64,
    /// Above this many customers, the silhouette is computed on a seeded sample of this size.
    pub silhouette_sample: usize,
    /// A saved model (JSON) to assign customers to, instead of fitting.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<PathBuf>,
}

impl Default for ClusterSettings {
    fn default() -> Self {
        let p = ClusterParams::new()
            .check()
            .expect("the default cluster parameters are valid");
        let (min, max) = ClusterCount::DEFAULT_AUTO_RANGE;
        let k_range = KRange { min, max };
        ClusterSettings {
            k: None,
            k_range,
            features: p.features().to_vec(),
            transform: p.transform(),
            scale: p.scale(),
            seed: p.seed(),
            n_init: p.n_init(),
            max_iter: p.max_iter(),
            tolerance: p.tolerance(),
            silhouette_sample: p.silhouette_sample(),
            model: None,
        }
    }
}

/// `[clv]`: lifetime value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClvSettings {
    /// Last day of the calibration window; the last transaction's day when left out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub calibration_end: Option<NaiveDate>,
    /// Last day of a holdout window after the calibration end.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub holdout_end: Option<NaiveDate>,
    /// Unit of recency, T and the horizon: `week` or `day`.
    #[serde(with = "named")]
    pub time_unit: TimeUnit,
    /// Purchases in the same `day` or `week` count as one.
    #[serde(with = "named")]
    pub period: Period,
    /// Purchase and dropout model: `bg-nbd`, `pareto-nbd`, `mbg-nbd` or `auto`.
    #[serde(with = "named")]
    pub model: TransactionModel,
    /// Horizon of expected purchases and CLV: a number of time units (`52`), or of days,
    /// weeks or months (`"365d"`, `"39w"`, `"12mo"`).
    #[serde(with = "horizon")]
    pub horizon: Horizon,
    /// Monthly discount rate.
    pub discount: f64,
    /// Profit margin applied to revenue.
    pub margin: f64,
    /// L2 penalty on the model parameters.
    pub penalty: f64,
}

impl Default for ClvSettings {
    fn default() -> Self {
        let p = ClvParams::new()
            .check()
            .expect("the default CLV parameters are valid");
        ClvSettings {
            calibration_end: None,
            holdout_end: None,
            time_unit: p.time_unit(),
            period: p.period(),
            model: p.model(),
            horizon: p.horizon_as_given(),
            discount: p.discount(),
            margin: p.margin(),
            penalty: p.penalty(),
        }
    }
}

/// `[output]`: the table written.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutputSettings {
    /// `parquet`, `csv` or `json`; from the file name when left out.
    #[serde(with = "named::option", skip_serializing_if = "Option::is_none")]
    pub format: Option<OutputFormat>,
    /// Only these columns of the table, in this order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub columns: Option<Vec<String>>,
}

/// `day-after-latest` or a date, parsed as users write it on the command line and in TOML.
pub(crate) fn parse_as_of(text: &str) -> Result<AsOf, ParamError> {
    let text = text.trim();
    if text == AS_OF_DEFAULT || text == "day_after_latest" {
        return Ok(AsOf::DayAfterLatest);
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map(AsOf::Date)
        .map_err(|_| ParamError::Date {
            name: "as-of",
            value: text.to_string(),
        })
}

const AS_OF_DEFAULT: &str = "day-after-latest";

impl FromStr for AsOf {
    type Err = ParamError;

    fn from_str(text: &str) -> Result<Self, ParamError> {
        parse_as_of(text)
    }
}

mod as_of {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::rows::AsOf;

    pub fn serialize<S: Serializer>(value: &AsOf, serializer: S) -> Result<S::Ok, S::Error> {
        match value {
            AsOf::DayAfterLatest => serializer.serialize_str(super::AS_OF_DEFAULT),
            AsOf::Date(d) => serializer.collect_str(&d.format("%Y-%m-%d")),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<AsOf, D::Error> {
        let text = String::deserialize(deserializer)?;
        super::parse_as_of(&text).map_err(|_| {
            serde::de::Error::custom(format!(
                "expected \"{}\" or a YYYY-MM-DD date, got {text:?}",
                super::AS_OF_DEFAULT
            ))
        })
    }
}

mod horizon {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::clv::Horizon;

    /// A number of time units as a number (as before units existed), others as text (`"12mo"`).
    pub fn serialize<S: Serializer>(value: &Horizon, serializer: S) -> Result<S::Ok, S::Error> {
        match value.unit {
            None => serializer.serialize_f64(value.value),
            Some(_) => serializer.collect_str(value),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Horizon, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(f64),
            Text(String),
        }
        match Raw::deserialize(deserializer)? {
            Raw::Number(value) => Ok(Horizon::units(value)),
            Raw::Text(text) => text.parse().map_err(serde::de::Error::custom),
        }
    }
}

mod delimiter {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::ingest::Delimiter;

    pub fn serialize<S: Serializer>(value: &Delimiter, serializer: S) -> Result<S::Ok, S::Error> {
        match value {
            Delimiter::Auto => serializer.serialize_str("auto"),
            Delimiter::Whitespace => serializer.serialize_str("whitespace"),
            Delimiter::Byte(b'\t') => serializer.serialize_str("tab"),
            Delimiter::Byte(b) => serializer.serialize_str(&(*b as char).to_string()),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Delimiter, D::Error> {
        let text = String::deserialize(deserializer)?;
        if text == "auto" {
            return Ok(Delimiter::Auto);
        }
        Delimiter::parse(&text).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "expected one character, \"tab\", \"whitespace\" or \"auto\", got {text:?}"
            ))
        })
    }
}
