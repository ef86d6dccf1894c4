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
    discount: f64,
    margin: f64,
    penalty: f64,
    lifecycle: Lifecycle,
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
            discount: 0.01,
            margin: 1.0,
            penalty: 0.0,
            lifecycle: Lifecycle::default(),
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
        self.0.horizon
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
