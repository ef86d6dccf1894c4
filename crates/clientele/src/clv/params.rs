//! Lifetime-value parameters: unchecked [`ClvParams`], checked [`ClvValidParams`].

use chrono::NaiveDate;
use serde::Serialize;

use crate::error::ParamError;

/// The unit of recency, T and the horizon.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeUnit {
    /// Days.
    Day,
    /// Weeks of 7 days (the BTYD papers' unit).
    #[default]
    Week,
}

impl TimeUnit {
    /// Days per unit.
    pub fn days(self) -> f64 {
        match self {
            TimeUnit::Day => 1.0,
            TimeUnit::Week => 7.0,
        }
    }

    /// The unit's name.
    pub fn name(self) -> &'static str {
        match self {
            TimeUnit::Day => "day",
            TimeUnit::Week => "week",
        }
    }
}

/// Which purchases count as one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    /// Purchases on the same calendar day are one (the BTYD convention).
    #[default]
    Day,
    /// Purchases in the same Monday-to-Sunday week are one.
    Week,
}

/// The transaction (purchase and dropout) model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TransactionModel {
    /// BG/NBD: dropout happens right after a purchase.
    #[default]
    BgNbd,
    /// Pareto/NBD: dropout can happen at any time.
    ParetoNbd,
    /// MBG/NBD: dropout happens right after a purchase, the first one included.
    MbgNbd,
    /// Every model fitted, the one with the lowest holdout error chosen (by BIC without a
    /// holdout).
    Auto,
}

/// Whose conventions the summary and the CLV follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClvConvention {
    /// clientele's (docs/clv.md).
    #[default]
    Clientele,
    /// The Python package lifetimes 0.11.3's (`--preset lifetimes`, docs/presets.md): every
    /// period with a row counts (a period of returns only too), weekly periods keep whole
    /// weeks, and CLV sums whole months of lifetimes' length (30 days, 4.345 weeks).
    Lifetimes,
}

/// The unit a horizon is given in, when it is not the time unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HorizonUnit {
    /// Days (`365d`).
    Day,
    /// Weeks of 7 days (`39w`).
    Week,
    /// Months (`12mo`): 365.25/12 days, or lifetimes' month under its conventions.
    Month,
}

/// A horizon: a number of time units (`52`), or of days, weeks or months (`365d`, `39w`,
/// `12mo`).
///
/// ```
/// use clientele::clv::{Horizon, HorizonUnit};
///
/// let h: Horizon = "12mo".parse()?;
/// assert_eq!(h, Horizon { value: 12.0, unit: Some(HorizonUnit::Month) });
/// assert_eq!("52".parse::<Horizon>()?.to_string(), "52");
/// assert!("12 parsecs".parse::<Horizon>().is_err());
/// # Ok::<(), String>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Horizon {
    /// How many.
    pub value: f64,
    /// Of what; `None`: the time unit.
    pub unit: Option<HorizonUnit>,
}

impl Horizon {
    /// A number of time units.
    pub fn units(value: f64) -> Self {
        Horizon { value, unit: None }
    }
}

/// A horizon equals a number when it is that many time units.
impl PartialEq<f64> for Horizon {
    fn eq(&self, other: &f64) -> bool {
        self.unit.is_none() && self.value == *other
    }
}

const HORIZON_SUFFIXES: [(&str, HorizonUnit); 9] = [
    ("months", HorizonUnit::Month),
    ("month", HorizonUnit::Month),
    ("mo", HorizonUnit::Month),
    ("weeks", HorizonUnit::Week),
    ("week", HorizonUnit::Week),
    ("w", HorizonUnit::Week),
    ("days", HorizonUnit::Day),
    ("day", HorizonUnit::Day),
    ("d", HorizonUnit::Day),
];

impl std::str::FromStr for Horizon {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let trimmed = text.trim();
        let lower = trimmed.to_ascii_lowercase();
        let (number, unit) = HORIZON_SUFFIXES
            .iter()
            .find_map(|(suffix, unit)| lower.strip_suffix(suffix).map(|n| (n, Some(*unit))))
            .unwrap_or((lower.as_str(), None));
        number
            .trim()
            .parse::<f64>()
            .map(|value| Horizon { value, unit })
            .map_err(|_| {
                format!(
                    "expected a number of time units (52) or of days, weeks or months (365d, 39w, 12mo), got {trimmed:?}"
                )
            })
    }
}

impl std::fmt::Display for Horizon {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let suffix = match self.unit {
            None => "",
            Some(HorizonUnit::Day) => "d",
            Some(HorizonUnit::Week) => "w",
            Some(HorizonUnit::Month) => "mo",
        };
        write!(f, "{}{suffix}", self.value)
    }
}

/// Lifecycle stage thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Lifecycle {
    /// Customers whose first purchase is at most this many days before the calibration end
    /// are `new`.
    pub new_within_days: f64,
    /// Probability alive from which a customer is `active`.
    pub active_from: f64,
    /// Probability alive below which a customer is `lost` (between the two: `lapsing`).
    pub lost_below: f64,
    /// Time since the last purchase, in the customer's mean times between purchases, beyond
    /// which a customer is at least `lapsing` (see [`crate::clv::lifecycle`]).
    pub lapsing_after: f64,
    /// ... and beyond which it is `lost`.
    pub lost_after: f64,
}

impl Default for Lifecycle {
    fn default() -> Self {
        Lifecycle {
            new_within_days: 90.0,
            active_from: 0.7,
            lost_below: 0.3,
            lapsing_after: 2.0,
            lost_after: 4.0,
        }
    }
}

/// Unchecked lifetime-value parameters.
///
/// ```
/// use chrono::NaiveDate;
/// use clientele::clv::ClvParams;
///
/// let params = ClvParams::new()
///     .calibration_end(NaiveDate::from_ymd_opt(1997, 9, 30).unwrap())
///     .holdout_end(NaiveDate::from_ymd_opt(1998, 6, 30).unwrap())
///     .horizon(52.0)
///     .margin(0.3)
///     .check()?;
/// assert_eq!(params.horizon(), 52.0);
/// # Ok::<(), clientele::ParamError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClvParams {
    calibration_end: Option<NaiveDate>,
    holdout_end: Option<NaiveDate>,
    time_unit: TimeUnit,
    period: Period,
    model: TransactionModel,
    horizon: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    horizon_unit: Option<HorizonUnit>,
    discount: f64,
    margin: f64,
    penalty: f64,
    lifecycle: Lifecycle,
    #[serde(skip_serializing_if = "is_clientele")]
    convention: ClvConvention,
}

fn is_clientele(c: &ClvConvention) -> bool {
    *c == ClvConvention::Clientele
}

impl Default for ClvParams {
    fn default() -> Self {
        Self::new()
    }
}

impl ClvParams {
    /// Defaults: calibration up to the last purchase in the data, weeks, daily periods,
    /// BG/NBD, a 52-week horizon, 1 % monthly discount, margin 1 (CLV in revenue), no penalty.
    pub fn new() -> Self {
        ClvParams {
            calibration_end: None,
            holdout_end: None,
            time_unit: TimeUnit::Week,
            period: Period::Day,
            model: TransactionModel::BgNbd,
            horizon: 52.0,
            horizon_unit: None,
            discount: 0.01,
            margin: 1.0,
            penalty: 0.0,
            lifecycle: Lifecycle::default(),
            convention: ClvConvention::Clientele,
        }
    }

    /// Sets the last day of the calibration window (transactions up to and including it are
    /// history; by default, the day of the last purchase in the data).
    pub fn calibration_end(mut self, date: NaiveDate) -> Self {
        self.calibration_end = Some(date);
        self
    }

    /// Sets the last day of a holdout window after the calibration end.
    pub fn holdout_end(mut self, date: NaiveDate) -> Self {
        self.holdout_end = Some(date);
        self
    }

    /// Sets the time unit.
    pub fn time_unit(mut self, unit: TimeUnit) -> Self {
        self.time_unit = unit;
        self
    }

    /// Sets the purchase period.
    pub fn period(mut self, period: Period) -> Self {
        self.period = period;
        self
    }

    /// Sets the transaction model.
    pub fn model(mut self, model: TransactionModel) -> Self {
        self.model = model;
        self
    }

    /// Sets the horizon of expected purchases and CLV, in the time unit.
    pub fn horizon(mut self, horizon: f64) -> Self {
        self.horizon = horizon;
        self.horizon_unit = None;
        self
    }

    /// Sets the horizon in days, weeks, months or (unit `None`) time units.
    pub fn horizon_in(mut self, horizon: Horizon) -> Self {
        self.horizon = horizon.value;
        self.horizon_unit = horizon.unit;
        self
    }

    /// Sets whose conventions the summary and the CLV follow.
    pub fn convention(mut self, convention: ClvConvention) -> Self {
        self.convention = convention;
        self
    }

    /// Sets the monthly discount rate (0.01 = 1 % a month).
    pub fn discount(mut self, rate: f64) -> Self {
        self.discount = rate;
        self
    }

    /// Sets the profit margin applied to revenue (1 = CLV in revenue).
    pub fn margin(mut self, margin: f64) -> Self {
        self.margin = margin;
        self
    }

    /// Sets the L2 penalty λ on the parameters (lifetimes' `penalizer_coef`).
    pub fn penalty(mut self, penalty: f64) -> Self {
        self.penalty = penalty;
        self
    }

    /// Sets the lifecycle thresholds.
    pub fn lifecycle(mut self, lifecycle: Lifecycle) -> Self {
        self.lifecycle = lifecycle;
        self
    }

    /// Validates the parameters.
    ///
    /// # Errors
    ///
    /// [`ParamError::OutOfRange`] for a holdout end not after the calibration end, a horizon
    /// that is not positive, a discount below 0 or not finite, a margin not positive, a
    /// negative penalty, or lifecycle thresholds out of order.
    pub fn check(self) -> Result<ClvValidParams, ParamError> {
        let range = |name, expected, got: String| Err(ParamError::OutOfRange { name, expected, got });
        match (self.calibration_end, self.holdout_end) {
            (None, Some(h)) => return range("holdout end", "given with a calibration end", h.to_string()),
            (Some(c), Some(h)) if h <= c => {
                return range("holdout end", "after the calibration end", h.to_string());
            }
            _ => {}
        }
        if !(self.horizon.is_finite() && self.horizon > 0.0) {
            return range(
                "horizon",
                "a positive number of time units",
                self.horizon.to_string(),
            );
        }
        if !(self.discount.is_finite() && self.discount >= 0.0) {
            return range("discount", "a monthly rate ≥ 0", self.discount.to_string());
        }
        if !(self.margin.is_finite() && self.margin > 0.0) {
            return range("margin", "a positive fraction", self.margin.to_string());
        }
        if !(self.penalty.is_finite() && self.penalty >= 0.0) {
            return range("penalty", "≥ 0", self.penalty.to_string());
        }
        let l = self.lifecycle;
        if !(l.new_within_days >= 0.0
            && 0.0 <= l.lost_below
            && l.lost_below <= l.active_from
            && l.active_from <= 1.0
            && 0.0 < l.lapsing_after
            && l.lapsing_after <= l.lost_after)
        {
            return range(
                "lifecycle thresholds",
                "new ≥ 0 days, 0 ≤ lost < active ≤ 1 and 0 < lapsing after ≤ lost after",
                format!("{l:?}"),
            );
        }
        Ok(ClvValidParams(self))
    }
}

/// Checked lifetime-value parameters.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct ClvValidParams(ClvParams);

impl ClvValidParams {
    /// Last day of the calibration window, if given.
    pub fn calibration_end(&self) -> Option<NaiveDate> {
        self.0.calibration_end
    }
    /// Last day of the holdout window.
    pub fn holdout_end(&self) -> Option<NaiveDate> {
        self.0.holdout_end
    }
    /// Time unit.
    pub fn time_unit(&self) -> TimeUnit {
        self.0.time_unit
    }
    /// Purchase period.
    pub fn period(&self) -> Period {
        self.0.period
    }
    /// Transaction model.
    pub fn model(&self) -> TransactionModel {
        self.0.model
    }
    /// Horizon in the time unit.
    pub fn horizon(&self) -> f64 {
        let p = &self.0;
        let unit_days = p.time_unit.days();
        match p.horizon_unit {
            None => p.horizon,
            Some(HorizonUnit::Day) => p.horizon / unit_days,
            Some(HorizonUnit::Week) => p.horizon * 7.0 / unit_days,
            Some(HorizonUnit::Month) => p.horizon * self.month(),
        }
    }

    /// The horizon as given: a number and its unit (`None`: the time unit).
    pub fn horizon_as_given(&self) -> Horizon {
        Horizon {
            value: self.0.horizon,
            unit: self.0.horizon_unit,
        }
    }

    /// The horizon in months of [`ClvValidParams::month`] (exactly the number given in months).
    pub fn horizon_months(&self) -> f64 {
        match self.0.horizon_unit {
            Some(HorizonUnit::Month) => self.0.horizon,
            _ => self.horizon() / self.month(),
        }
    }

    /// A month in the time unit: 365.25/12 days; under lifetimes' conventions its
    /// `customer_lifetime_value` factor, 30 days or 4.345 weeks.
    pub fn month(&self) -> f64 {
        match (self.0.convention, self.0.time_unit) {
            (ClvConvention::Clientele, unit) => super::DAYS_PER_MONTH / unit.days(),
            (ClvConvention::Lifetimes, TimeUnit::Day) => 30.0,
            (ClvConvention::Lifetimes, TimeUnit::Week) => 4.345,
        }
    }

    /// Whose conventions the summary and the CLV follow.
    pub fn convention(&self) -> ClvConvention {
        self.0.convention
    }
    /// Monthly discount rate.
    pub fn discount(&self) -> f64 {
        self.0.discount
    }
    /// Margin.
    pub fn margin(&self) -> f64 {
        self.0.margin
    }
    /// L2 penalty.
    pub fn penalty(&self) -> f64 {
        self.0.penalty
    }
    /// Lifecycle thresholds.
    pub fn lifecycle(&self) -> Lifecycle {
        self.0.lifecycle
    }
}
