//! Compatibility presets: the definitions of another tool, so that users who come from it get
//! the numbers they already have (docs/presets.md).
//!
//! - [`Preset::RfmR`] (`rfm-r`): the R package rfm 0.3's `rfm_table_order` and `rfm_segment`
//!   ([`crate::rfm::rfm_r`], [`crate::rfm::RFM_R_RULES_TOML`]);
//! - [`Preset::PandasQcut`] (`pandas-qcut`): `pd.qcut(x.rank(method="first"), q)` on customers
//!   sorted by id (rank binning);
//! - [`Preset::Lifetimes`] (`lifetimes`): the Python package lifetimes 0.11.3's
//!   `summary_data_from_transaction_data` and `customer_lifetime_value`
//!   ([`crate::clv::lifetimes`]).
//!
//! A preset fixes the definitions it names and nothing else: the parameters (bins, as-of date,
//! returns policy, segment rules file, time unit, period, horizon, discount, ...) keep their
//! own values and defaults, and a setting that contradicts the preset is an error
//! (`Settings::check`). [`Preset::differences`] lists what differs from clientele's own
//! definitions, with the reason, for `--explain`, the summary and the report.
//!
//! ```
//! use clientele::presets::{Context, Preset};
//!
//! let lines = Preset::PandasQcut.differences(&Context::default());
//! assert_eq!(lines.len(), 1);
//! assert!(lines[0].line().starts_with("binning: rank"));
//! ```

use serde::Serialize;

use crate::clv::{ClvConvention, Horizon, HorizonUnit, Period, TimeUnit};
use crate::rfm::{Binning, RfmConvention};

/// A compatibility preset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Preset {
    /// The R package rfm 0.3 (`rfm_table_order`, `rfm_segment`).
    RfmR,
    /// pandas: `pd.qcut(x.rank(method="first"), q)`.
    PandasQcut,
    /// The Python package lifetimes 0.11.3.
    Lifetimes,
}

/// The settings a preset's explanation depends on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Context {
    /// The binning setting.
    pub binning: Binning,
    /// Whether a rules file is given.
    pub own_rules: bool,
    /// Whether an as-of date is given.
    pub as_of_given: bool,
    /// Lifetime value's time unit, period and horizon, when computed.
    pub clv: Option<(TimeUnit, Period, Horizon)>,
}

impl Default for Context {
    fn default() -> Self {
        Context {
            binning: Binning::Quantile,
            own_rules: false,
            as_of_given: false,
            clv: None,
        }
    }
}

/// One definition that differs from clientele's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Difference {
    /// What is defined.
    pub topic: &'static str,
    /// The preset's definition.
    pub preset: String,
    /// clientele's own.
    pub clientele: String,
    /// Why the two differ, or what to watch.
    pub why: String,
}

impl Difference {
    fn new(topic: &'static str, preset: &str, clientele: &str, why: &str) -> Self {
        Difference {
            topic,
            preset: preset.to_string(),
            clientele: clientele.to_string(),
            why: why.to_string(),
        }
    }

    /// One line: `topic: preset (clientele: ...); why`.
    pub fn line(&self) -> String {
        format!(
            "{}: {} (clientele: {}); {}",
            self.topic, self.preset, self.clientele, self.why
        )
    }
}

/// A preset and what it changes, for summaries and reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Explained {
    /// The preset.
    pub preset: Preset,
    /// Its definitions that differ from clientele's.
    pub differences: Vec<Difference>,
}

impl Explained {
    /// The preset's name and its differences, one line each.
    pub fn lines(&self) -> Vec<String> {
        let mut lines = vec![format!(
            "preset {}: {} definitions differ from clientele's",
            self.preset.name(),
            self.differences.len()
        )];
        lines.extend(self.differences.iter().map(|d| format!("  {}", d.line())));
        lines
    }
}

impl Preset {
    /// The preset's name (`rfm-r`, `pandas-qcut`, `lifetimes`), as
    /// [`Choice`](crate::settings::Choice) lists it.
    pub const fn name(self) -> &'static str {
        match self {
            Preset::RfmR => "rfm-r",
            Preset::PandasQcut => "pandas-qcut",
            Preset::Lifetimes => "lifetimes",
        }
    }

    /// Whose definitions RFM scores follow.
    pub fn rfm_convention(self) -> RfmConvention {
        match self {
            Preset::RfmR => RfmConvention::RfmR,
            _ => RfmConvention::Clientele,
        }
    }

    /// Whose conventions lifetime value follows.
    pub fn clv_convention(self) -> ClvConvention {
        match self {
            Preset::Lifetimes => ClvConvention::Lifetimes,
            _ => ClvConvention::Clientele,
        }
    }

    /// The preset's definitions that differ from clientele's, one per topic, with the reason.
    pub fn differences(self, context: &Context) -> Vec<Difference> {
        match self {
            Preset::RfmR => rfm_r_differences(context),
            Preset::PandasQcut => vec![Difference::new(
                "binning",
                "rank: pd.qcut(x.rank(method=\"first\"), bins) over customers sorted by id",
                "quantile: cut points at the values' quantiles",
                "qcut cannot cut tied values into equal-count bins, so pandas code ranks first: bins hold \
                 equal counts (± 1) and equal values may score differently, ties broken by customer id",
            )],
            Preset::Lifetimes => lifetimes_differences(context),
        }
    }
}

fn rfm_r_differences(context: &Context) -> Vec<Difference> {
    let mut out = vec![Difference::new(
        "frequency score",
        "scored on transaction rows (the `transactions` column, R's transaction_count = n())",
        "distinct orders with a purchase line (`frequency`)",
        "rfm_table_order counts rows; clientele counts orders, so an order of many lines is one purchase",
    )];
    out.push(match context.binning {
        Binning::Fixed => Difference::new(
            "cut points",
            "your thresholds t as R's custom bins: class k when t(k-1) <= x < t(k), the first from min(x), \
             the last to max(x) + 1",
            "class k when t(k-1) < x <= t(k)",
            "rfm_prep_bins tests lower <= x < upper: a value equal to a threshold goes to the class above",
        ),
        _ => Difference::new(
            "cut points",
            "R quantile(type = 7) at k/bins plus 1; class k when lower <= x < upper, lower bounds min(x) and \
             the breaks, upper bounds the breaks and max(x) + 1",
            "quantiles (type 7) at k/bins; bins closed on the right",
            "rfm's bins() adds 1 to each quantile: the values of a quantile and up to 1 above it stay in the \
             lower class, so the top class is often the smallest",
        ),
    });
    out.push(Difference::new(
        "rfm_score",
        "100·R + 10·F + M",
        "R + F + M",
        "rfm_prep_bins writes the three scores as one number",
    ));
    if !context.own_rules {
        out.push(Difference::new(
            "segments",
            "R rfm's ten segments (rfm_segment with its README's bounds), first match wins, else Others",
            "clientele's built-in segments (docs/segments.md)",
            "rfm_segment's example segments; `clientele rules --preset rfm-r` lists their cells",
        ));
    }
    if !context.as_of_given {
        out.push(Difference::new(
            "analysis date",
            "the day after the latest purchase, as without a preset",
            "the same",
            "rfm_table_order has no default analysis_date: pass --as-of with yours to get its recency",
        ));
    }
    out
}

fn lifetimes_differences(context: &Context) -> Vec<Difference> {
    let (unit, period, horizon) = context
        .clv
        .unwrap_or((TimeUnit::Week, Period::Day, Horizon::units(52.0)));
    let mut out = vec![Difference::new(
        "purchase periods",
        "every period with a used row, one of returns only too; its value is the sum of its rows",
        "periods with a purchase line (amount >= 0)",
        "summary_data_from_transaction_data groups all rows by period and sums them: it has no notion of a \
         return",
    )];
    if period == Period::Week {
        out.push(Difference::new(
            "observation end",
            "the Monday of the calibration end's week; every row of that week counts",
            "the calibration end day",
            "lifetimes converts observation_period_end with to_period(\"W\").to_timestamp()",
        ));
    }
    let (freq, month) = match (unit, period) {
        (TimeUnit::Day, Period::Day) => ("freq=\"D\", freq_multiplier=1", "30 days"),
        (TimeUnit::Week, Period::Day) => ("freq=\"D\", freq_multiplier=7", "4.345 weeks"),
        (TimeUnit::Week, Period::Week) => ("freq=\"W\", freq_multiplier=1", "4.345 weeks"),
        (TimeUnit::Day, Period::Week) => ("freq=\"W\" with T in days", "30 days"),
    };
    out.push(Difference::new(
        "time",
        &format!("recency and T as lifetimes' {freq}"),
        "the same values",
        "identical numbers; lifetimes' own default is freq=\"D\" (--time-unit day)",
    ));
    let months = match horizon.unit {
        Some(HorizonUnit::Month) => format!("time = {} months", horizon.value),
        _ => format!("time = the horizon {horizon} in months of {month}"),
    };
    out.push(Difference::new(
        "CLV",
        &format!(
            "customer_lifetime_value: {months}, a whole month each up to ⌈time⌉, month k discounted by \
             (1 + d)^k, months of {month}"
        ),
        "months of 365.25/12 days, the last one cut at the horizon",
        "lifetimes' factor table {\"D\": 30, \"W\": 4.345} and np.arange(1, time + 1)",
    ));
    out.push(Difference::new(
        "expected spend",
        "(1 − w)·p·v/(q − 1) + w·m, w = p·x/(p·x + q − 1), m as it is",
        "p·(v + m·x)/(p·x + q − 1) with m below 0 counted as 0",
        "lifetimes' conditional_expected_average_profit; the same number for m >= 0",
    ));
    out
}
