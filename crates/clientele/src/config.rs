//! Run configuration: everything `clientele run` needs, in one TOML file.
//!
//! ```toml
//! previous = "runs/latest"          # optional: compare with this earlier run
//!
//! [input]
//! paths = ["exports/orders-*.csv"]  # files, directories of Parquet files, or globs
//! # kind = "customers"              # a customer table aggregated elsewhere
//!
//! [columns]                         # optional: detected when left out
//! customer = "CustomerID"
//! quantity = "Quantity"
//! price = "UnitPrice"
//!
//! [analysis]
//! as_of = "day-after-latest"        # or a date, "2011-12-10"
//! returns = "exclude"
//! binning = "quantile"
//!
//! [clusters]                        # optional: k-means clusters
//! k = 4
//!
//! [clv]                             # optional: lifetime value
//! horizon = 52
//!
//! [output]
//! dir = "runs/latest"
//! format = "parquet"
//! ```
//!
//! Relative paths are relative to the directory of the configuration file, so a run does not
//! depend on the directory cron starts it in. Unknown keys are errors that name the key. The
//! full reference is the repository's `docs/runs.md`.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::abc::{AbcBasis, AbcParams};
use crate::cluster::{ClusterCount, ClusterModel, ClusterParams, Scale, Transform};
use crate::clv::{ClvParams, ClvValidParams, Period, TimeUnit, TransactionModel};
use crate::columns::Columns;
use crate::error::{Error, Result};
use crate::ingest::{CsvOptions, DecimalSeparator, Delimiter, Encoding, Header, IngestOptions, InputFormat};
use crate::output::OutputFormat;
use crate::rfm::{Binning, FixedThresholds, RfmParams, SegmentRules};
use crate::rows::{AsOf, ReturnsPolicy, RowPolicy};
use crate::segmenter::{ClusterJob, Segmenter};

/// A parsed run configuration, with paths resolved against the configuration file's directory.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    /// The input transactions.
    pub input: InputConfig,
    /// Column mapping (`[columns]`: customer, time, amount, quantity, price, order, no_order);
    /// roles left out are detected.
    #[serde(default)]
    pub columns: Columns,
    /// As-of date, returns, scoring and ABC settings.
    #[serde(default)]
    pub analysis: AnalysisConfig,
    /// k-means clusters, when present.
    #[serde(default)]
    pub clusters: Option<ClustersConfig>,
    /// Lifetime value, when present.
    #[serde(default)]
    pub clv: Option<ClvConfig>,
    /// Where and how to write.
    pub output: OutputConfig,
    /// An earlier run's directory (or segment table) to compare with.
    #[serde(default)]
    pub previous: Option<PathBuf>,
}

/// `[input]`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct InputConfig {
    /// Files, directories of Parquet files or globs; all of one format and one column layout.
    pub paths: Vec<PathBuf>,
    /// `csv` or `parquet`; told from the files when left out.
    #[serde(default)]
    pub format: Option<InputFormatConfig>,
    /// `transactions` (default) or `customers`: a customer table aggregated elsewhere.
    #[serde(default)]
    pub kind: InputKindConfig,
    /// CSV field separator: one character, `"tab"` or `"whitespace"`; sniffed when left out.
    #[serde(default)]
    pub delimiter: Option<String>,
    /// Whether CSV files have a header line (default true).
    #[serde(default = "yes")]
    pub header: bool,
    /// Whether CSV numbers use a decimal comma (default false).
    #[serde(default)]
    pub decimal_comma: bool,
    /// Character encoding of CSV files: `utf-8` (default), `latin-1` or `windows-1252`.
    #[serde(default)]
    pub encoding: Option<String>,
    /// strftime format of text timestamps; detected when left out.
    #[serde(default)]
    pub time_format: Option<String>,
}

fn yes() -> bool {
    true
}

/// What the inputs hold.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum InputKindConfig {
    /// A transaction log.
    #[default]
    Transactions,
    /// A customer table (`clientele sql` prints the query that builds one).
    Customers,
}

/// Input file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum InputFormatConfig {
    /// Delimited text, optionally gzip-compressed.
    Csv,
    /// Apache Parquet.
    Parquet,
}

/// `[analysis]`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct AnalysisConfig {
    /// `"day-after-latest"` (default) or a `YYYY-MM-DD` date.
    pub as_of: String,
    /// `net` (default) or `exclude`.
    pub returns: ReturnsConfig,
    /// `quantile` (default), `rank` or `fixed`.
    pub binning: BinningConfig,
    /// Scores per measure (default 5).
    pub bins: usize,
    /// Cut points per measure for `binning = "fixed"`.
    pub thresholds: Option<ThresholdsConfig>,
    /// A segment rules TOML file; the built-in rules when left out.
    pub rules: Option<PathBuf>,
    /// `customers` (default) or `revenue`.
    pub abc_by: AbcByConfig,
    /// ABC splits in %; the basis' defaults when left out.
    pub abc_splits: Option<Vec<f64>>,
}

impl Default for AnalysisConfig {
    fn default() -> Self {
        AnalysisConfig {
            as_of: DAY_AFTER_LATEST.into(),
            returns: ReturnsConfig::Net,
            binning: BinningConfig::Quantile,
            bins: 5,
            thresholds: None,
            rules: None,
            abc_by: AbcByConfig::Customers,
            abc_splits: None,
        }
    }
}

const DAY_AFTER_LATEST: &str = "day-after-latest";

/// Returns policies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReturnsConfig {
    /// Negative amounts are summed in.
    Net,
    /// Rows with a negative amount are excluded.
    Exclude,
}

/// Binning methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum BinningConfig {
    /// Value quantiles.
    Quantile,
    /// Equal-count bins on ranks.
    Rank,
    /// User thresholds.
    Fixed,
}

/// ABC bases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AbcByConfig {
    /// Shares of customers.
    Customers,
    /// Cumulative revenue (Pareto).
    Revenue,
}

/// `[analysis.thresholds]`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ThresholdsConfig {
    /// Cut points on recency_days.
    pub recency: Vec<f64>,
    /// Cut points on frequency.
    pub frequency: Vec<f64>,
    /// Cut points on monetary.
    pub monetary: Vec<f64>,
}

/// `[clusters]`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ClustersConfig {
    /// A number of clusters or `"auto"`; required unless `model` is given.
    #[serde(default)]
    pub k: Option<KConfig>,
    /// The range `auto` tries, `[min, max]` (default `[2, 10]`).
    #[serde(default)]
    pub k_range: Option<[usize; 2]>,
    /// Feature columns (default recency_days, frequency, monetary).
    #[serde(default)]
    pub features: Option<Vec<String>>,
    /// `log1p` (default) or `none`.
    #[serde(default)]
    pub transform: Option<TransformConfig>,
    /// `standard` (default), `robust` or `none`.
    #[serde(default)]
    pub scale: Option<ScaleConfig>,
    /// k-means++ seed (default 42).
    #[serde(default)]
    pub seed: Option<u64>,
    /// Restarts (default 10).
    #[serde(default)]
    pub n_init: Option<usize>,
    /// Iteration limit (default 300).
    #[serde(default)]
    pub max_iter: Option<u64>,
    /// Tolerance (default 1e-4).
    #[serde(default)]
    pub tolerance: Option<f64>,
    /// Silhouette sample size (default 20,000).
    #[serde(default)]
    pub silhouette_sample: Option<usize>,
    /// A saved model to apply instead of fitting.
    #[serde(default)]
    pub model: Option<PathBuf>,
}

/// A number of clusters or `"auto"`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum KConfig {
    /// Exactly this many.
    Fixed(usize),
    /// `"auto"`.
    Named(String),
}

/// Feature transforms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TransformConfig {
    /// None.
    None,
    /// sign(x)·ln(1 + |x|).
    Log1p,
}

/// Feature scalings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ScaleConfig {
    /// None.
    None,
    /// z-score.
    Standard,
    /// Median and interquartile range.
    Robust,
}

/// `[clv]`: lifetime value; every key has the CLI's default.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ClvConfig {
    /// Last day of calibration (default: the last transaction's day).
    #[serde(default)]
    pub calibration_end: Option<NaiveDate>,
    /// Last day of a holdout window.
    #[serde(default)]
    pub holdout_end: Option<NaiveDate>,
    /// `week` (default) or `day`.
    #[serde(default)]
    pub time_unit: Option<TimeUnitConfig>,
    /// `day` (default) or `week`: purchases in one period count once.
    #[serde(default)]
    pub period: Option<TimeUnitConfig>,
    /// `bg-nbd` (default) or `pareto-nbd`.
    #[serde(default)]
    pub model: Option<ModelConfig>,
    /// Horizon in the time unit (default 52).
    #[serde(default)]
    pub horizon: Option<f64>,
    /// Monthly discount rate (default 0.01).
    #[serde(default)]
    pub discount: Option<f64>,
    /// Margin (default 1).
    #[serde(default)]
    pub margin: Option<f64>,
    /// L2 penalty (default 0).
    #[serde(default)]
    pub penalty: Option<f64>,
}

/// Time units and periods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TimeUnitConfig {
    /// Days.
    Day,
    /// Weeks.
    Week,
}

/// Transaction models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModelConfig {
    /// BG/NBD.
    BgNbd,
    /// Pareto/NBD.
    ParetoNbd,
}

/// `[output]`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OutputConfig {
    /// The run's directory, replaced as a whole by each run.
    pub dir: PathBuf,
    /// Segment table format: `parquet` (default), `csv` or `json`.
    #[serde(default)]
    pub format: Option<String>,
}

impl RunConfig {
    /// Reads and checks a configuration file; relative paths are resolved against its directory.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when the file cannot be read; [`Error::Config`] for TOML errors, unknown
    /// keys and invalid values, naming the file and the key.
    pub fn from_file(path: impl AsRef<Path>) -> Result<(RunConfig, Vec<u8>)> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| Error::io("cannot read", path, e))?;
        let text = std::str::from_utf8(&bytes).map_err(|_| Error::Config {
            path: path.to_path_buf(),
            detail: "is not UTF-8 text".into(),
        })?;
        let base = path.parent().unwrap_or(Path::new(""));
        let config = RunConfig::from_toml_str(text, base).map_err(|e| match e {
            Error::Config { detail, .. } => Error::Config {
                path: path.to_path_buf(),
                detail,
            },
            other => other,
        })?;
        Ok((config, bytes))
    }

    /// Parses a configuration; relative paths are resolved against `base`.
    ///
    /// ```
    /// use clientele::config::RunConfig;
    ///
    /// let config = RunConfig::from_toml_str(
    ///     "[input]\npaths = [\"orders.csv\"]\n[output]\ndir = \"out\"\n",
    ///     std::path::Path::new("/srv/crm"),
    /// )?;
    /// assert_eq!(config.input.paths[0], std::path::Path::new("/srv/crm/orders.csv"));
    ///
    /// let typo = RunConfig::from_toml_str("[input]\npath = [\"a.csv\"]\n", std::path::Path::new(""));
    /// assert!(typo.unwrap_err().to_string().contains("unknown field `path`"));
    /// # Ok::<(), clientele::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Config`] for TOML errors, unknown keys and invalid values.
    pub fn from_toml_str(text: &str, base: &Path) -> Result<RunConfig> {
        let mut config: RunConfig = toml::from_str(text).map_err(|e| Error::Config {
            path: PathBuf::from("configuration"),
            detail: e.to_string().trim_end().replace('\n', " "),
        })?;
        config.resolve_paths(base);
        config.validate()?;
        Ok(config)
    }

    fn resolve_paths(&mut self, base: &Path) {
        let resolve = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        self.input.paths.iter_mut().for_each(resolve);
        resolve(&mut self.output.dir);
        if let Some(p) = &mut self.previous {
            resolve(p);
        }
        if let Some(p) = &mut self.analysis.rules {
            resolve(p);
        }
        if let Some(p) = self.clusters.as_mut().and_then(|c| c.model.as_mut()) {
            resolve(p);
        }
    }

    fn validate(&self) -> Result<()> {
        let bad = |key: &str, detail: String| Error::Config {
            path: PathBuf::from("configuration"),
            detail: format!("{key}: {detail}"),
        };
        if self.input.paths.is_empty() {
            return Err(bad("input.paths", "names no input".into()));
        }
        self.output_format()?;
        self.row_policy()?;
        self.delimiter()?;
        if self.analysis.binning == BinningConfig::Fixed && self.analysis.thresholds.is_none() {
            return Err(bad(
                "analysis.thresholds",
                "binning = \"fixed\" needs recency, frequency and monetary cut points".into(),
            ));
        }
        if self.columns.quantity.is_some() != self.columns.price.is_some() {
            return Err(bad(
                "columns",
                "quantity and price go together (the amount is quantity × price)".into(),
            ));
        }
        if let Some(c) = &self.clusters {
            match (&c.k, &c.model) {
                (None, None) => {
                    return Err(bad(
                        "clusters.k",
                        "give a number of clusters, \"auto\" or a model".into(),
                    ));
                }
                (Some(_), Some(_)) => return Err(bad("clusters", "k and model exclude each other".into())),
                (Some(KConfig::Named(name)), None) if !name.eq_ignore_ascii_case("auto") => {
                    return Err(bad(
                        "clusters.k",
                        format!("expected a number or \"auto\", got {name:?}"),
                    ));
                }
                _ => {}
            }
        }
        let output = &self.output.dir;
        if output.file_name().is_none() {
            return Err(bad(
                "output.dir",
                format!("{} has no directory name", output.display()),
            ));
        }
        Ok(())
    }

    /// The segment table's format.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] for an unknown format.
    pub fn output_format(&self) -> Result<OutputFormat> {
        match self.output.format.as_deref() {
            None => Ok(OutputFormat::Parquet),
            Some(name) => name.parse().map_err(|detail: String| Error::Config {
                path: PathBuf::from("configuration"),
                detail: format!("output.format: {detail}"),
            }),
        }
    }

    fn delimiter(&self) -> Result<Delimiter> {
        match self.input.delimiter.as_deref() {
            None => Ok(Delimiter::Auto),
            Some(d) => Delimiter::parse(d).ok_or_else(|| Error::Config {
                path: PathBuf::from("configuration"),
                detail: format!(
                    "input.delimiter: expected one character, \"tab\" or \"whitespace\", got {d:?}"
                ),
            }),
        }
    }

    fn encoding(&self) -> Result<Encoding> {
        match self.input.encoding.as_deref() {
            None => Ok(Encoding::Utf8),
            Some(e) => Encoding::parse(e).ok_or_else(|| Error::Config {
                path: PathBuf::from("configuration"),
                detail: format!(
                    "input.encoding: expected \"utf-8\", \"latin-1\" or \"windows-1252\", got {e:?}"
                ),
            }),
        }
    }

    /// Column mapping and CSV options.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] for an invalid delimiter or encoding.
    pub fn ingest_options(&self) -> Result<IngestOptions> {
        let columns = if self.columns.no_order {
            self.columns.clone().without_order()
        } else {
            self.columns.clone()
        };
        Ok(IngestOptions {
            columns,
            time_format: self.input.time_format.clone(),
            csv: CsvOptions {
                delimiter: self.delimiter()?,
                header: if self.input.header {
                    Header::Present
                } else {
                    Header::Absent
                },
                decimal: if self.input.decimal_comma {
                    DecimalSeparator::Comma
                } else {
                    DecimalSeparator::Point
                },
                encoding: self.encoding()?,
                ..CsvOptions::default()
            },
            format: self.input.format.map(|f| match f {
                InputFormatConfig::Csv => InputFormat::Csv,
                InputFormatConfig::Parquet => InputFormat::Parquet,
            }),
        })
    }

    /// As-of date and returns policy.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] for an as-of that is neither a date nor `"day-after-latest"`.
    pub fn row_policy(&self) -> Result<RowPolicy> {
        let text = self.analysis.as_of.trim();
        let as_of = if text == DAY_AFTER_LATEST {
            AsOf::DayAfterLatest
        } else {
            AsOf::Date(
                NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| Error::Config {
                    path: PathBuf::from("configuration"),
                    detail: format!(
                        "analysis.as_of: expected \"{DAY_AFTER_LATEST}\" or a YYYY-MM-DD date, got {text:?}"
                    ),
                })?,
            )
        };
        let returns = match self.analysis.returns {
            ReturnsConfig::Net => ReturnsPolicy::Net,
            ReturnsConfig::Exclude => ReturnsPolicy::Exclude,
        };
        Ok(RowPolicy { as_of, returns })
    }

    /// The whole job, with every parameter checked; reads the rules file and cluster model.
    ///
    /// # Errors
    ///
    /// Parameter errors, and errors reading the rules file or the cluster model.
    pub fn segmenter(&self) -> Result<Segmenter> {
        let a = &self.analysis;
        let mut rfm = RfmParams::new().bins(a.bins);
        rfm = match a.binning {
            BinningConfig::Quantile => rfm.binning(Binning::Quantile),
            BinningConfig::Rank => rfm.binning(Binning::Rank),
            BinningConfig::Fixed => {
                let t = a.thresholds.as_ref().expect("validated");
                rfm.fixed_thresholds(FixedThresholds {
                    recency: t.recency.clone(),
                    frequency: t.frequency.clone(),
                    monetary: t.monetary.clone(),
                })
            }
        };
        let bins = rfm.clone().check()?.bins();
        let rules = match &a.rules {
            Some(path) => SegmentRules::from_file(path)?,
            None => SegmentRules::builtin(),
        };
        rules.check(bins)?;
        let basis = match a.abc_by {
            AbcByConfig::Customers => AbcBasis::Customers,
            AbcByConfig::Revenue => AbcBasis::Revenue,
        };
        let splits = a.abc_splits.clone().unwrap_or_else(|| basis.default_splits());
        let abc = match basis {
            AbcBasis::Customers => AbcParams::by_customer_share(splits),
            AbcBasis::Revenue => AbcParams::by_revenue_share(splits),
        };
        abc.clone().check()?;
        let mut segmenter = Segmenter::new()
            .policy(self.row_policy()?)
            .rfm(rfm)
            .rules(rules)
            .abc(abc);
        if let Some(job) = self.cluster_job()? {
            segmenter = segmenter.clusters(job);
        }
        if let Some(params) = self.clv_params()? {
            segmenter = segmenter.clv(params);
        }
        Ok(segmenter)
    }

    fn cluster_job(&self) -> Result<Option<ClusterJob>> {
        let Some(c) = &self.clusters else { return Ok(None) };
        if let Some(model) = &c.model {
            return Ok(Some(ClusterJob::Apply(Box::new(ClusterModel::load(model)?))));
        }
        let count = match c.k.as_ref().expect("validated") {
            KConfig::Fixed(k) => ClusterCount::Fixed(*k),
            KConfig::Named(_) => {
                let [min, max] = c.k_range.unwrap_or([2, 10]);
                ClusterCount::Auto { min, max }
            }
        };
        let mut params = ClusterParams::new().k(count);
        if let Some(features) = &c.features {
            params = params.features(features.clone());
        }
        if let Some(t) = c.transform {
            params = params.transform(match t {
                TransformConfig::None => Transform::None,
                TransformConfig::Log1p => Transform::Log1p,
            });
        }
        if let Some(s) = c.scale {
            params = params.scale(match s {
                ScaleConfig::None => Scale::None,
                ScaleConfig::Standard => Scale::Standard,
                ScaleConfig::Robust => Scale::Robust,
            });
        }
        if let Some(seed) = c.seed {
            params = params.seed(seed);
        }
        if let Some(n) = c.n_init {
            params = params.n_init(n);
        }
        if let Some(n) = c.max_iter {
            params = params.max_iter(n);
        }
        if let Some(t) = c.tolerance {
            params = params.tolerance(t);
        }
        if let Some(n) = c.silhouette_sample {
            params = params.silhouette_sample(n);
        }
        params.clone().check()?;
        Ok(Some(ClusterJob::Fit(params)))
    }

    fn clv_params(&self) -> Result<Option<ClvValidParams>> {
        let Some(c) = &self.clv else { return Ok(None) };
        let unit = |u: TimeUnitConfig| match u {
            TimeUnitConfig::Day => TimeUnit::Day,
            TimeUnitConfig::Week => TimeUnit::Week,
        };
        let mut params = ClvParams::new();
        if let Some(u) = c.time_unit {
            params = params.time_unit(unit(u));
        }
        if let Some(p) = c.period {
            params = params.period(match p {
                TimeUnitConfig::Day => Period::Day,
                TimeUnitConfig::Week => Period::Week,
            });
        }
        if let Some(m) = c.model {
            params = params.model(match m {
                ModelConfig::BgNbd => TransactionModel::BgNbd,
                ModelConfig::ParetoNbd => TransactionModel::ParetoNbd,
            });
        }
        if let Some(v) = c.horizon {
            params = params.horizon(v);
        }
        if let Some(v) = c.discount {
            params = params.discount(v);
        }
        if let Some(v) = c.margin {
            params = params.margin(v);
        }
        if let Some(v) = c.penalty {
            params = params.penalty(v);
        }
        if let Some(d) = c.calibration_end {
            params = params.calibration_end(d);
        }
        if let Some(d) = c.holdout_end {
            params = params.holdout_end(d);
        }
        Ok(Some(params.check()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<RunConfig> {
        RunConfig::from_toml_str(text, Path::new("/base"))
    }

    const MINIMAL: &str = "[input]\npaths = [\"a.csv\"]\n[output]\ndir = \"out\"\n";

    #[test]
    fn defaults_and_relative_paths() {
        let c = parse(MINIMAL).unwrap();
        assert_eq!(c.input.paths, [PathBuf::from("/base/a.csv")]);
        assert_eq!(c.output.dir, PathBuf::from("/base/out"));
        assert_eq!(c.output_format().unwrap(), OutputFormat::Parquet);
        assert_eq!(c.row_policy().unwrap(), RowPolicy::default());
        assert!(c.segmenter().is_ok());
    }

    #[test]
    fn unknown_keys_are_named() {
        let err = parse(&format!("{MINIMAL}[analysis]\nreturn = \"net\"\n")).unwrap_err();
        assert!(err.to_string().contains("unknown field `return`"), "{err}");
        let err = parse(&format!("{MINIMAL}colour = 1\n")).unwrap_err();
        assert!(err.to_string().contains("unknown field `colour`"), "{err}");
        let err = parse(&format!("{MINIMAL}[clusters]\nk = 4\nseeds = 3\n")).unwrap_err();
        assert!(err.to_string().contains("unknown field `seeds`"), "{err}");
    }

    #[test]
    fn invalid_values_name_their_key() {
        let err = parse(&format!("{MINIMAL}[analysis]\nas_of = \"yesterday\"\n")).unwrap_err();
        assert!(err.to_string().contains("analysis.as_of"), "{err}");
        let err = parse(&format!("{MINIMAL}[analysis]\nreturns = \"keep\"\n")).unwrap_err();
        assert!(err.to_string().contains("unknown variant `keep`"), "{err}");
        let err = parse(&format!("{MINIMAL}[clusters]\nk = \"many\"\n")).unwrap_err();
        assert!(err.to_string().contains("clusters.k"), "{err}");
        let err = parse("[input]\npaths = []\n[output]\ndir = \"o\"\n").unwrap_err();
        assert!(err.to_string().contains("input.paths"), "{err}");
        let err = parse(&format!("{MINIMAL}[analysis]\nbins = 12\n"))
            .unwrap()
            .segmenter()
            .unwrap_err();
        assert!(err.to_string().contains("bins must be between 2 and 9"), "{err}");
    }

    #[test]
    fn every_section_parses() {
        let c = parse(
            "previous = \"runs/old\"\n\
             [input]\npaths = [\"a.csv\", \"b/*.csv\"]\nformat = \"csv\"\ndelimiter = \";\"\ndecimal_comma = true\nencoding = \"windows-1252\"\n\
             [columns]\ncustomer = \"Kunde\"\nquantity = \"q\"\nprice = \"p\"\n\
             [analysis]\nas_of = \"2024-01-31\"\nreturns = \"exclude\"\nbinning = \"fixed\"\nbins = 3\n\
             abc_by = \"revenue\"\nabc_splits = [70, 20, 10]\n\
             [analysis.thresholds]\nrecency = [30, 90]\nfrequency = [1, 3]\nmonetary = [100, 500]\n\
             [clusters]\nk = \"auto\"\nk_range = [2, 4]\nseed = 7\n\
             [clv]\ntime_unit = \"day\"\nhorizon = 365\nmodel = \"pareto-nbd\"\n\
             [output]\ndir = \"runs/latest\"\nformat = \"csv\"\n",
        )
        .unwrap();
        assert_eq!(c.previous, Some(PathBuf::from("/base/runs/old")));
        assert_eq!(
            c.row_policy().unwrap().as_of,
            AsOf::Date(NaiveDate::from_ymd_opt(2024, 1, 31).unwrap())
        );
        assert_eq!(c.ingest_options().unwrap().csv.delimiter, Delimiter::Byte(b';'));
        assert_eq!(c.ingest_options().unwrap().csv.encoding, Encoding::Windows1252);
        assert_eq!(c.output_format().unwrap(), OutputFormat::Csv);
        assert!(c.segmenter().is_ok());
    }
}
