//! RFM scoring parameters: unchecked [`RfmParams`] and checked [`RfmValidParams`].

use serde::{Deserialize, Serialize};

use crate::error::ParamError;

/// How measures are cut into score bins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Binning {
    /// Cut points are quantiles of the values (linear interpolation, as numpy's and pandas'
    /// default). Equal values always get equal scores; when ties make cut points coincide,
    /// some scores stay empty and are reported.
    #[default]
    Quantile,
    /// Equal-count bins over ranks, ties broken by customer id ascending: exactly
    /// `pandas.qcut(x.rank(method="first"), bins)` on customers sorted by id.
    Rank,
    /// Cut points given by the user for each measure.
    Fixed,
}

/// Whose definitions the scores follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RfmConvention {
    /// clientele's (docs/definitions.md).
    #[default]
    Clientele,
    /// The R package rfm 0.3's `rfm_table_order` (`--preset rfm-r`, [`super::rfm_r`]): F scores
    /// the customer's transaction rows (`transactions`), cut points are R's type-7 quantiles
    /// plus 1 with classes closed below, and `rfm_score` is 100·R + 10·F + M. Quantile binning
    /// uses rfm's breaks, fixed binning its custom thresholds; rank binning does not apply.
    RfmR,
}

/// The three measures that are scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// `recency_days`: fewer days score higher.
    Recency,
    /// `frequency`: more orders score higher.
    Frequency,
    /// `monetary`: more money scores higher.
    Monetary,
}

impl Measure {
    /// All three, in R, F, M order.
    pub const ALL: [Measure; 3] = [Measure::Recency, Measure::Frequency, Measure::Monetary];

    /// The customer-table column that holds the measure.
    pub fn column(self) -> &'static str {
        match self {
            Measure::Recency => crate::customers::col_names::RECENCY_DAYS,
            Measure::Frequency => crate::customers::col_names::FREQUENCY,
            Measure::Monetary => crate::customers::col_names::MONETARY,
        }
    }

    /// The score column.
    pub fn score_column(self) -> &'static str {
        match self {
            Measure::Recency => "r_score",
            Measure::Frequency => "f_score",
            Measure::Monetary => "m_score",
        }
    }

    /// The measure's name.
    pub fn name(self) -> &'static str {
        match self {
            Measure::Recency => "recency",
            Measure::Frequency => "frequency",
            Measure::Monetary => "monetary",
        }
    }

    /// Whether a higher value earns a higher score (false for recency).
    pub fn higher_is_better(self) -> bool {
        !matches!(self, Measure::Recency)
    }
}

/// User thresholds for [`Binning::Fixed`]: `bins - 1` ascending cut points per measure, in the
/// measure's units. A value `x` gets the bin `1 + #{cut points < x}`, so a cut point belongs to
/// the bin below it; recency scores run the other way (`bins + 1 - bin`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixedThresholds {
    /// Cut points on `recency_days`.
    pub recency: Vec<f64>,
    /// Cut points on `frequency`.
    pub frequency: Vec<f64>,
    /// Cut points on `monetary`.
    pub monetary: Vec<f64>,
}

impl FixedThresholds {
    /// The cut points of one measure.
    pub fn of(&self, measure: Measure) -> &[f64] {
        match measure {
            Measure::Recency => &self.recency,
            Measure::Frequency => &self.frequency,
            Measure::Monetary => &self.monetary,
        }
    }
}

/// Unchecked RFM parameters; [`RfmParams::check`] validates them.
///
/// ```
/// use clientele::rfm::{Binning, RfmParams};
///
/// let params = RfmParams::quintiles().binning(Binning::Rank).check()?;
/// assert_eq!(params.bins(), 5);
/// assert!(RfmParams::new().bins(12).check().is_err());
/// # Ok::<(), clientele::ParamError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RfmParams {
    bins: usize,
    binning: Binning,
    fixed: Option<FixedThresholds>,
    #[serde(skip_serializing_if = "is_clientele")]
    convention: RfmConvention,
}

fn is_clientele(c: &RfmConvention) -> bool {
    *c == RfmConvention::Clientele
}

impl Default for RfmParams {
    fn default() -> Self {
        Self::quintiles()
    }
}

impl RfmParams {
    /// Five bins, quantile binning: the default.
    pub fn new() -> Self {
        Self::quintiles()
    }

    /// Five bins, quantile binning.
    pub fn quintiles() -> Self {
        RfmParams {
            bins: 5,
            binning: Binning::Quantile,
            fixed: None,
            convention: RfmConvention::Clientele,
        }
    }

    /// Sets the number of bins (scores run 1..=bins).
    pub fn bins(mut self, bins: usize) -> Self {
        self.bins = bins;
        self
    }

    /// Sets the binning method.
    pub fn binning(mut self, binning: Binning) -> Self {
        self.binning = binning;
        self
    }

    /// Uses fixed cut points (and sets the binning to [`Binning::Fixed`]).
    pub fn fixed_thresholds(mut self, thresholds: FixedThresholds) -> Self {
        self.binning = Binning::Fixed;
        self.fixed = Some(thresholds);
        self
    }

    /// Sets whose definitions the scores follow.
    pub fn convention(mut self, convention: RfmConvention) -> Self {
        self.convention = convention;
        self
    }

    /// Validates the parameters.
    ///
    /// # Errors
    ///
    /// [`ParamError::Bins`] outside 2..=9; [`ParamError::Thresholds`] when fixed binning lacks
    /// thresholds or they are not `bins - 1` finite, strictly ascending values.
    pub fn check(self) -> Result<RfmValidParams, ParamError> {
        if !(2..=9).contains(&self.bins) {
            return Err(ParamError::Bins { got: self.bins });
        }
        if self.convention == RfmConvention::RfmR && self.binning == Binning::Rank {
            return Err(ParamError::Setting {
                setting: "analysis.binning (--binning)",
                detail:
                    "preset rfm-r: R's rfm cuts at quantiles (binning \"quantile\") or at your thresholds \
                         (\"fixed\"), never at ranks"
                        .into(),
            });
        }
        if self.binning == Binning::Fixed {
            let Some(fixed) = &self.fixed else {
                return Err(ParamError::Thresholds {
                    measure: "recency",
                    detail: "fixed binning needs cut points for recency, frequency and monetary".into(),
                });
            };
            for measure in Measure::ALL {
                check_cut_points(measure, fixed.of(measure), self.bins)?;
            }
        }
        Ok(RfmValidParams(self))
    }
}

fn check_cut_points(measure: Measure, cuts: &[f64], bins: usize) -> Result<(), ParamError> {
    let error = |detail: String| ParamError::Thresholds {
        measure: measure.name(),
        detail,
    };
    if cuts.len() != bins - 1 {
        return Err(error(format!(
            "{} bins need {} cut points, got {}",
            bins,
            bins - 1,
            cuts.len()
        )));
    }
    if let Some(bad) = cuts.iter().find(|c| !c.is_finite()) {
        return Err(error(format!("{bad} is not a finite number")));
    }
    if let Some(w) = cuts.windows(2).find(|w| w[0] >= w[1]) {
        return Err(error(format!(
            "cut points must be strictly ascending, but {} is followed by {}",
            w[0], w[1]
        )));
    }
    Ok(())
}

/// Checked RFM parameters: only these can score.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct RfmValidParams(RfmParams);

impl RfmValidParams {
    /// Number of bins.
    pub fn bins(&self) -> usize {
        self.0.bins
    }

    /// Binning method.
    pub fn binning(&self) -> Binning {
        self.0.binning
    }

    /// Fixed thresholds, when the binning is fixed.
    pub fn fixed(&self) -> Option<&FixedThresholds> {
        self.0.fixed.as_ref()
    }

    /// Whose definitions the scores follow.
    pub fn convention(&self) -> RfmConvention {
        self.0.convention
    }

    /// The customer-table column a measure is scored on: [`Measure::column`], except that
    /// under R rfm's definitions frequency is the number of transaction rows.
    pub fn column(&self, measure: Measure) -> &'static str {
        match (self.0.convention, measure) {
            (RfmConvention::RfmR, Measure::Frequency) => crate::customers::col_names::TRANSACTIONS,
            _ => measure.column(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_outside_two_to_nine_are_rejected() {
        assert_eq!(RfmParams::new().bins(1).check(), Err(ParamError::Bins { got: 1 }));
        assert_eq!(
            RfmParams::new().bins(10).check(),
            Err(ParamError::Bins { got: 10 })
        );
        assert!(RfmParams::new().bins(9).check().is_ok());
    }

    #[test]
    fn fixed_thresholds_are_validated() {
        let good = FixedThresholds {
            recency: vec![30.0, 90.0],
            frequency: vec![1.0, 3.0],
            monetary: vec![100.0, 1000.0],
        };
        assert!(
            RfmParams::new()
                .bins(3)
                .fixed_thresholds(good.clone())
                .check()
                .is_ok()
        );
        let wrong_count = RfmParams::new().bins(4).fixed_thresholds(good.clone()).check();
        assert!(matches!(
            wrong_count,
            Err(ParamError::Thresholds {
                measure: "recency",
                ..
            })
        ));
        let unsorted = FixedThresholds {
            monetary: vec![1000.0, 100.0],
            ..good
        };
        let err = RfmParams::new()
            .bins(3)
            .fixed_thresholds(unsorted)
            .check()
            .unwrap_err();
        assert!(err.to_string().contains("ascending"), "{err}");
        assert!(RfmParams::new().binning(Binning::Fixed).check().is_err());
    }
}
