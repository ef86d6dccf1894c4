//! The settings of a job: one model for the command line, the TOML configuration and the
//! library, checked in one place.
//!
//! [`Settings`] holds every setting as the user gives it, over the library's own types and
//! with the library's defaults: how the input is read, the column mapping, the analysis date
//! and returns policy, RFM scoring and segment rules, ABC tiers, clusters, lifetime value and
//! the output table. It is what a configuration file holds (the same sections and keys, see
//! [`Settings::from_toml_str`]) and what `clientele config show` prints.
//! [`Settings::check`] validates everything at once, reads the rules file and the saved
//! cluster model, and returns [`ValidSettings`], the only thing a
//! [`Segmenter`] is built from.
//!
//! ```
//! use clientele::settings::Settings;
//!
//! let settings = Settings::from_toml_str(
//!     "[analysis]\nbins = 4\nreturns = \"exclude\"\n[clusters]\nk = \"auto\"\n",
//!     std::path::Path::new(""),
//! )?;
//! let job = settings.check()?;
//! assert_eq!(job.rfm.bins(), 4);
//! assert!(job.clusters.is_some());
//! assert!(Settings::from_toml_str("[analysis]\nbins = 12\n", std::path::Path::new(""))?
//!     .check()
//!     .is_err());
//! # Ok::<(), clientele::Error>(())
//! ```

pub mod choice;
mod sections;
mod text;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use choice::Choice;
pub use sections::{
    AnalysisSettings, ClusterK, ClusterSettings, ClvSettings, InputSettings, KRange, OutputSettings,
};
pub use text::ConfigFile;

use crate::abc::{AbcBasis, AbcParams, AbcValidParams};
use crate::cluster::{ClusterCount, ClusterModel, ClusterParams};
use crate::clv::{ClvParams, ClvValidParams};
use crate::cohorts::CohortPeriod;
use crate::columns::Columns;
use crate::error::{Error, ParamError, Result};
use crate::ingest::{CsvOptions, DecimalSeparator, Header, IngestOptions};
use crate::output::OutputFormat;
use crate::presets::{self, Explained, Preset};
use crate::rfm::{Binning, RfmParams, RfmValidParams, SegmentRules};
use crate::rows::{AsOf, RowPolicy};
use crate::segmenter::{ClusterJob, InputKind, Segmenter};

/// Every setting of a job, unchecked. Sections and keys are those of the TOML configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// `preset`: another tool's definitions (`rfm-r`, `pandas-qcut`, `lifetimes`;
    /// docs/presets.md); clientele's own when left out.
    #[serde(with = "choice::named::option", skip_serializing_if = "Option::is_none")]
    pub preset: Option<Preset>,
    /// `[input]`: how the input files are read.
    pub input: InputSettings,
    /// `[columns]`: which column is which; roles left out are detected.
    pub columns: Columns,
    /// `[analysis]`: as-of date, returns, RFM scoring, segment rules and ABC tiers.
    pub analysis: AnalysisSettings,
    /// `[clusters]`: k-means clusters, when present.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clusters: Option<ClusterSettings>,
    /// `[clv]`: lifetime value, when present.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clv: Option<ClvSettings>,
    /// `[output]`: the table's format and columns.
    pub output: OutputSettings,
}

/// Checked settings: what [`Settings::check`] returns, ready to run.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ValidSettings {
    /// Column mapping and CSV options.
    pub ingest: IngestOptions,
    /// Whether the input is a transaction log or a customer table.
    pub input_kind: InputKind,
    /// As-of date and returns policy.
    pub policy: RowPolicy,
    /// RFM scoring.
    pub rfm: RfmValidParams,
    /// Segment rules, checked against the number of bins.
    pub rules: SegmentRules,
    /// ABC tiers.
    pub abc: AbcValidParams,
    /// Clusters: a fit, or a saved model to apply.
    pub clusters: Option<ClusterJob>,
    /// Lifetime value.
    pub clv: Option<ClvValidParams>,
    /// The period of the report's cohorts.
    pub cohort_period: CohortPeriod,
    /// The table's format, when given (else told from the file name).
    pub output_format: Option<OutputFormat>,
    /// The table's columns, in order, when given (else all).
    pub output_columns: Option<Vec<String>>,
    /// The preset, with the definitions it changes.
    pub preset: Option<Explained>,
}

impl ValidSettings {
    /// The segmentation job these settings describe.
    pub fn segmenter(&self) -> Segmenter {
        let mut segmenter = Segmenter::new()
            .policy(self.policy)
            .rfm(self.rfm.clone())
            .rules(self.rules.clone())
            .abc(self.abc.clone())
            .preset(self.preset.clone());
        if let Some(job) = &self.clusters {
            segmenter = segmenter.clusters(job.clone());
        }
        if let Some(params) = &self.clv {
            segmenter = segmenter.clv(params.clone());
        }
        segmenter
    }
}

impl Settings {
    /// Checks every setting, reads the segment rules file and the saved cluster model, and
    /// returns the checked settings. This is the one place settings are validated.
    ///
    /// # Errors
    ///
    /// [`Error::Param`] naming the setting (and its flag) for an invalid value; rules and
    /// model file errors.
    pub fn check(&self) -> Result<ValidSettings> {
        self.check_preset()?;
        let rfm = self.rfm_params()?;
        let rules = match &self.analysis.rules {
            Some(path) => SegmentRules::from_file(path)?,
            None if self.preset == Some(Preset::RfmR) => SegmentRules::rfm_r(),
            None => SegmentRules::builtin(),
        };
        rules.check(rfm.bins())?;
        let output_columns = match &self.output.columns {
            Some(list) if list.iter().all(|c| c.trim().is_empty()) => {
                return Err(invalid("output.columns (--columns)", "lists no column".into()));
            }
            other => other.clone(),
        };
        Ok(ValidSettings {
            ingest: self.ingest_options()?,
            input_kind: self.input.kind,
            policy: RowPolicy {
                as_of: self.analysis.as_of,
                returns: self.analysis.returns,
            },
            rfm,
            rules,
            abc: self.abc_params()?,
            clusters: self.cluster_job()?,
            clv: self.clv_params()?,
            cohort_period: self.analysis.cohort_period,
            output_format: self.output.format,
            output_columns,
            preset: self.explain(),
        })
    }

    /// The preset and the definitions it changes from clientele's (what `--explain` prints).
    pub fn explain(&self) -> Option<Explained> {
        let preset = self.preset?;
        let context = presets::Context {
            binning: self.analysis.binning,
            own_rules: self.analysis.rules.is_some(),
            as_of_given: self.analysis.as_of != AsOf::DayAfterLatest,
            clv: self.clv.as_ref().map(|c| (c.time_unit, c.period, c.horizon)),
        };
        Some(Explained {
            preset,
            differences: preset.differences(&context),
        })
    }

    /// Settles the binning under a preset, once the settings are read: with `pandas-qcut` the
    /// default binning becomes `rank`, so that the settings say what runs (and `config show`
    /// prints it). `given` is the binning the user wrote (a flag, a key), if any: one the preset
    /// cannot follow is an error, even the default's name.
    ///
    /// # Errors
    ///
    /// [`Error::Param`] naming `analysis.binning` when the preset cannot follow `given`.
    pub fn settle_preset(&mut self, given: Option<Binning>) -> Result<()> {
        let Some(preset) = self.preset else { return Ok(()) };
        if let Some(detail) = given.and_then(|b| preset_conflict(preset, b)) {
            return Err(invalid("analysis.binning (--binning)", detail));
        }
        if preset == Preset::PandasQcut && given.is_none() && self.analysis.binning == Binning::Quantile {
            self.analysis.binning = Binning::Rank;
        }
        Ok(())
    }

    /// The preset fits the other settings: its binning, and lifetime value for `lifetimes`.
    fn check_preset(&self) -> Result<()> {
        let Some(preset) = self.preset else { return Ok(()) };
        let binning = match (preset, self.analysis.binning) {
            // The default binning stands for the preset's own.
            (Preset::PandasQcut, Binning::Quantile) => Binning::Rank,
            (_, binning) => binning,
        };
        if let Some(detail) = preset_conflict(preset, binning) {
            return Err(invalid("analysis.binning (--binning)", detail));
        }
        if preset == Preset::Lifetimes && self.clv.is_none() {
            return Err(invalid(
                "preset (--preset)",
                "preset lifetimes defines lifetime value: add --clv (or a [clv] section)".into(),
            ));
        }
        Ok(())
    }

    /// The column mapping and CSV options.
    ///
    /// # Errors
    ///
    /// [`Error::Param`] when only one of quantity and price is named.
    pub fn ingest_options(&self) -> Result<IngestOptions> {
        let c = &self.columns;
        if c.quantity.is_some() != c.price.is_some() {
            return Err(invalid(
                "columns.quantity and columns.price",
                "--quantity and --price go together (the amount is quantity × price)".into(),
            ));
        }
        if c.amount.is_some() && c.quantity.is_some() {
            return Err(invalid(
                "columns.amount (--amount)",
                "give an amount column or quantity and price, not both".into(),
            ));
        }
        let columns = if c.no_order {
            c.clone().without_order()
        } else {
            c.clone()
        };
        let i = &self.input;
        Ok(IngestOptions {
            columns,
            time_format: i.time_format.clone(),
            csv: CsvOptions {
                delimiter: i.delimiter,
                header: if i.header { Header::Present } else { Header::Absent },
                decimal: if i.decimal_comma {
                    DecimalSeparator::Comma
                } else {
                    DecimalSeparator::Point
                },
                encoding: i.encoding,
                reader: i.reader,
                ..CsvOptions::default()
            },
            format: i.format,
        })
    }

    fn rfm_params(&self) -> Result<RfmValidParams> {
        let a = &self.analysis;
        let mut params = RfmParams::new().bins(a.bins);
        if let Some(preset) = self.preset {
            params = params.convention(preset.rfm_convention());
        }
        let binning = match (self.preset, a.binning) {
            (Some(Preset::PandasQcut), Binning::Quantile) => Binning::Rank,
            (_, binning) => binning,
        };
        let params = match (binning, &a.thresholds) {
            (Binning::Fixed, Some(t)) => params.fixed_thresholds(t.clone()),
            (Binning::Fixed, None) => {
                return Err(invalid(
                    "analysis.thresholds (--r-thresholds, --f-thresholds, --m-thresholds)",
                    "binning \"fixed\" needs --r-thresholds, --f-thresholds and --m-thresholds (bins - 1 \
                     ascending cut points each)"
                        .into(),
                ));
            }
            (_, Some(_)) => {
                return Err(invalid(
                    "analysis.thresholds (--r-thresholds, --f-thresholds, --m-thresholds)",
                    "cut points need binning = \"fixed\" (--binning fixed)".into(),
                ));
            }
            (binning, None) => params.binning(binning),
        };
        Ok(params.check()?)
    }

    fn abc_params(&self) -> Result<AbcValidParams> {
        let a = &self.analysis;
        let splits = a.abc_splits.clone().unwrap_or_else(|| a.abc_by.default_splits());
        let params = match a.abc_by {
            AbcBasis::Customers => AbcParams::by_customer_share(splits),
            AbcBasis::Revenue => AbcParams::by_revenue_share(splits),
        };
        Ok(params.check()?)
    }

    fn cluster_job(&self) -> Result<Option<ClusterJob>> {
        let Some(c) = &self.clusters else { return Ok(None) };
        if let Some(model) = &c.model {
            if c.k.is_some() {
                return Err(invalid(
                    "clusters.k, clusters.model (--clusters/--k, --model)",
                    "a saved model fixes k: give one or the other".into(),
                ));
            }
            return Ok(Some(ClusterJob::Apply(Box::new(ClusterModel::load(model)?))));
        }
        let count = match c.k {
            None => {
                return Err(invalid(
                    "clusters.k (--clusters/--k)",
                    "give a number of clusters, \"auto\" or a saved model".into(),
                ));
            }
            Some(ClusterK::Fixed(k)) => ClusterCount::Fixed(k),
            Some(ClusterK::Auto) => ClusterCount::Auto {
                min: c.k_range.min,
                max: c.k_range.max,
            },
        };
        let params = ClusterParams::new()
            .features(c.features.clone())
            .transform(c.transform)
            .scale(c.scale)
            .k(count)
            .seed(c.seed)
            .n_init(c.n_init)
            .max_iter(c.max_iter)
            .tolerance(c.tolerance)
            .silhouette_sample(c.silhouette_sample);
        Ok(Some(ClusterJob::Fit(params.check()?)))
    }

    fn clv_params(&self) -> Result<Option<ClvValidParams>> {
        let Some(c) = &self.clv else { return Ok(None) };
        let mut params = ClvParams::new()
            .time_unit(c.time_unit)
            .period(c.period)
            .model(c.model)
            .horizon_in(c.horizon)
            .discount(c.discount)
            .margin(c.margin)
            .penalty(c.penalty);
        if let Some(preset) = self.preset {
            params = params.convention(preset.clv_convention());
        }
        if let Some(d) = c.calibration_end {
            params = params.calibration_end(d);
        }
        if let Some(d) = c.holdout_end {
            params = params.holdout_end(d);
        }
        Ok(Some(params.check()?))
    }

    /// Resolves the relative paths in the settings (the rules file, the cluster model) against
    /// `base`, the directory of the configuration file they were read from.
    pub fn resolve_paths(&mut self, base: &Path) {
        let resolve = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        if let Some(p) = &mut self.analysis.rules {
            resolve(p);
        }
        if let Some(p) = self.clusters.as_mut().and_then(|c| c.model.as_mut()) {
            resolve(p);
        }
    }
}

/// Why a preset cannot follow a binning, when it cannot: pandas-qcut scores by rank only,
/// rfm-r never by rank.
///
/// ```
/// use clientele::presets::Preset;
/// use clientele::rfm::Binning;
/// use clientele::settings::preset_conflict;
///
/// assert!(preset_conflict(Preset::PandasQcut, Binning::Rank).is_none());
/// assert!(preset_conflict(Preset::PandasQcut, Binning::Quantile).is_some());
/// assert!(preset_conflict(Preset::RfmR, Binning::Fixed).is_none());
/// ```
pub fn preset_conflict(preset: Preset, binning: Binning) -> Option<String> {
    match (preset, binning) {
        (Preset::PandasQcut, Binning::Quantile | Binning::Fixed) => Some(format!(
            "preset pandas-qcut scores by rank (pd.qcut of rank \"first\"), not with binning \"{}\"; leave the \
             binning out",
            binning.name()
        )),
        (Preset::RfmR, Binning::Rank) => Some(
            "preset rfm-r cuts at R's quantiles (binning \"quantile\") or at your thresholds (\"fixed\"), never \
             at ranks"
                .into(),
        ),
        _ => None,
    }
}

fn invalid(setting: &'static str, detail: String) -> Error {
    Error::Param(ParamError::Setting { setting, detail })
}
