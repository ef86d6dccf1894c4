//! The row rules, in one place: each rule's Rust check, polars expression and SQL side by side,
//! in the order they apply.
//!
//! A transaction row is read into its [`RowFacts`] (how each role value read: present, missing
//! or invalid; the amount in micro-units; the day). The rules then look at the facts only, in
//! the order of [`RULES`]; the first one that applies decides the [`RowStatus`], and a row no
//! rule applies to is used. The three readers of a row share this table:
//! - the plain-CSV reader asks [`RowRules::status`] (Rust) for every row it understands;
//! - the polars path ([`Transactions::classify`](crate::ingest::Transactions::classify))
//!   evaluates them as one expression over the facts as flag columns;
//! - `clientele sql` builds its filters from [`RowRules::sql_conditions`].
//!
//! Reading the values (the parsing) is not a rule and stays with the readers; so do the checks
//! that are not about a transaction's values: records that are not rows (the structural pass),
//! the checks of a customer table ([`ExtraCheck`](crate::ingest::ExtraCheck)) and customers
//! without a purchase (after aggregation).
//!
//! # What the SQL cannot say the same way
//!
//! The SQL reads values with the warehouse's own casts, so the rules that are about reading
//! have no SQL of their own (their entries in [`RULES`] give no condition):
//! - an invalid id (`12.5`, NaN) is not checked: SQL keeps it as an id (and `17850.0` and
//!   `17850` are two customers there, one for clientele);
//! - an unparsable timestamp is `NULL` after the dialect's parse (DuckDB's `TRY_STRPTIME`,
//!   BigQuery's `SAFE.`), so SQL reports it as a missing timestamp (PostgreSQL fails the query);
//! - an unparsable amount fails the query (a text amount is `CAST` to a double);
//! - a non-finite amount or one beyond ±9.2 × 10¹² gets `NULL` micro-units
//!   ([`sql_amount_in_range`]), so SQL reports it as a missing amount;
//! - a blank id is one that `TRIM` leaves empty, and `TRIM` removes less than clientele's
//!   white space (DuckDB's removes space separators, not tabs or line ends; PostgreSQL's and
//!   Spark's only spaces): an id of one tab is missing for clientele, an id in SQL.

use std::fmt::Write;

use polars::prelude::*;

use super::{ExclusionReason, RejectReason, ReturnsPolicy, RowPolicy, RowStatus};

/// Amounts are summed as integer micro-units (10⁻⁶), so totals are exact and do not depend on
/// the order in which threads add them up.
pub const MICROS_PER_UNIT: f64 = 1e6;

/// The largest absolute amount clientele accepts: ±9.2 × 10¹² fits `i64` micro-units.
pub const MAX_ABS_AMOUNT: f64 = 9.2e12;

/// Days since 1970-01-01 (negative before): the day number the as-of rule compares.
pub(crate) fn epoch_days(date: chrono::NaiveDate) -> i64 {
    (date - chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("the epoch")).num_days()
}

/// The date of day number `days` (the inverse of [`epoch_days`]).
pub(crate) fn date_of_epoch_day(days: i64) -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("the epoch") + chrono::Duration::days(days)
}

/// Microseconds in a day: a timestamp's day number is `ts.div_euclid(MICROS_PER_DAY)`.
pub(crate) const MICROS_PER_DAY: i64 = 86_400_000_000;

/// How one role value of a row read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reading {
    /// Present and readable (or, for the order id, no order column).
    Read,
    /// Empty or missing.
    Missing,
    /// Present but not readable as the role's type (an invalid id, an unparsable timestamp or
    /// amount).
    Invalid,
}

impl Reading {
    /// How a text id (customer or order) reads, as every reader reads it: missing when blank
    /// (white space only), invalid when it is a number with a fractional part (`12.5`, see
    /// the id reading of [`crate::ingest`]).
    pub fn of_text_id(text: &str) -> Reading {
        Reading::with_text_id(text).0
    }

    /// How a text id reads ([`Reading::of_text_id`]), with the id it stands for when it is
    /// read ([`super::ids::id_of_text`]).
    #[inline]
    pub(crate) fn with_text_id(text: &str) -> (Reading, Option<&str>) {
        // Most ids start with a visible character: they are not blank.
        let visible = text.as_bytes().first().is_some_and(u8::is_ascii_graphic);
        if !visible && text.trim().is_empty() {
            return (Reading::Missing, None);
        }
        match super::ids::id_of_text(text) {
            Some(id) => (Reading::Read, Some(id)),
            None => (Reading::Invalid, None),
        }
    }
}

/// What the rules look at in one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowFacts {
    /// The customer id.
    pub customer: Reading,
    /// The timestamp.
    pub time: Reading,
    /// The amount (or its quantity and unit price).
    pub amount: Reading,
    /// The amount in micro-units ([`micros_of`]); looked at only when the amount was read.
    pub micros: Option<i64>,
    /// The order id ([`Reading::Read`] without an order column).
    pub order: Reading,
    /// The timestamp's day, since 1970-01-01; looked at only when the timestamp was read.
    pub day: i64,
}

impl RowFacts {
    /// The facts of a row whose values all read, dated `day` with `micros` micro-units.
    #[inline]
    pub fn read(day: i64, micros: i64) -> RowFacts {
        RowFacts {
            customer: Reading::Read,
            time: Reading::Read,
            amount: Reading::Read,
            micros: Some(micros),
            order: Reading::Read,
            day,
        }
    }
}

/// An amount in micro-units, rounded half away from zero; `None` when it is not finite or not
/// below [`MAX_ABS_AMOUNT`] in magnitude (the [`RejectReason::NonFiniteAmount`] rule).
#[inline]
pub fn micros_of(amount: f64) -> Option<i64> {
    (amount.is_finite() && amount.abs() < MAX_ABS_AMOUNT).then(|| round_half_away(amount * MICROS_PER_UNIT))
}

/// The largest double below one half.
const JUST_BELOW_HALF: f64 = 0.5f64.next_down();

/// `x.round() as i64` without the call to libm's `round` (x86-64's baseline has no rounding
/// instruction; the call was 4 % of a run's CPU time): adding the double just below one half,
/// with `x`'s sign, and truncating gives the same integer for every double. Below 2⁵² the sum
/// reaches the next integer exactly when `x`'s fraction is at least one half (a fraction of
/// one half minus an ulp stays below it, and a fraction of one half lands within a quarter ulp
/// of it); from 2⁵² on, `x` is an integer and the sum is `x`.
#[inline]
fn round_half_away(x: f64) -> i64 {
    (x + JUST_BELOW_HALF.copysign(x)) as i64
}

/// [`micros_of`] as a polars expression: `Int64`, null where `micros_of` is `None`.
pub(crate) fn micros_expr(amount: Expr) -> Expr {
    when(
        amount
            .clone()
            .is_finite()
            .and(amount.clone().abs().lt(lit(MAX_ABS_AMOUNT))),
    )
    .then(
        (amount * lit(MICROS_PER_UNIT))
            .round(0, RoundMode::HalfAwayFromZero)
            .cast(DataType::Int64),
    )
    .otherwise(lit(NULL).cast(DataType::Int64))
}

/// [`micros_of`]'s range test in SQL, over the SQL expression of an amount: false for NaN too
/// (every dialect orders NaN above all numbers or compares it false).
pub fn sql_amount_in_range(amount: &str) -> String {
    format!("ABS({amount}) < {MAX_ABS_AMOUNT}")
}

/// The polars flag columns the rule expressions read: [`RowFacts`] as columns.
pub(crate) mod flags {
    /// `customer == Missing`.
    pub const CUSTOMER_MISSING: &str = "__customer_missing";
    /// `customer == Invalid`.
    pub const CUSTOMER_INVALID: &str = "__customer_invalid";
    /// `time == Missing`.
    pub const TIME_MISSING: &str = "__time_missing";
    /// `time == Invalid`.
    pub const TIME_BAD: &str = "__time_bad";
    /// `amount == Missing`.
    pub const AMOUNT_MISSING: &str = "__amount_missing";
    /// `amount == Invalid`.
    pub const AMOUNT_BAD: &str = "__amount_bad";
    /// `micros` (`Int64`, null for `None`).
    pub const AMOUNT_MICROS: &str = "__amount_micros";
    /// `order == Missing`.
    pub const ORDER_MISSING: &str = "__order_missing";
    /// `order == Invalid`.
    pub const ORDER_INVALID: &str = "__order_invalid";
    /// `day` (a `Date`).
    pub const DAY: &str = "__day";
}

/// What the SQL of a rule names: the columns of the query's `lines` (`customer_id`, `ts`,
/// `micros` and the order column) and the dialect's text type.
#[derive(Debug, Clone, Copy)]
pub struct SqlNames<'a> {
    /// The order column, quoted for the dialect; `None` without one.
    pub order: Option<&'a str>,
    /// The dialect's text type (`VARCHAR`, `STRING`).
    pub text: &'a str,
}

/// One rule: a check on [`RowFacts`] in Rust, as a polars expression and as SQL.
#[derive(Clone, Copy)]
pub struct RowRule {
    /// The status of a row the rule applies to.
    pub status: RowStatus,
    check: fn(&RowFacts, &RowRules) -> bool,
    expr: fn(&RowRules) -> Expr,
    /// Conditions a row must meet to pass the rule, over the query's `lines`; none where the
    /// rule does not apply (no order column, no as-of date, returns netted) or where SQL cannot
    /// say it (see the module documentation).
    sql: fn(&RowRules, &SqlNames) -> Vec<String>,
}

impl std::fmt::Debug for RowRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RowRule").field("status", &self.status).finish()
    }
}

const fn reject(reason: RejectReason) -> RowStatus {
    RowStatus::Rejected(reason)
}

fn id_present(name: &str, text: &str) -> Vec<String> {
    vec![
        format!("{name} IS NOT NULL"),
        format!("TRIM(CAST({name} AS {text})) <> ''"),
    ]
}

/// The rules, in the order they apply.
pub const RULES: [RowRule; 11] = [
    RowRule {
        status: reject(RejectReason::MissingCustomerId),
        check: |row, _| row.customer == Reading::Missing,
        expr: |_| col(flags::CUSTOMER_MISSING),
        // TRIM removes less white space than clientele (not tabs, for one).
        sql: |_, n| id_present("customer_id", n.text),
    },
    RowRule {
        status: reject(RejectReason::InvalidCustomerId),
        check: |row, _| row.customer == Reading::Invalid,
        expr: |_| col(flags::CUSTOMER_INVALID),
        // Not in SQL: an id is what the warehouse holds.
        sql: |_, _| Vec::new(),
    },
    RowRule {
        status: reject(RejectReason::MissingTimestamp),
        check: |row, _| row.time == Reading::Missing,
        expr: |_| col(flags::TIME_MISSING),
        // Also catches what the dialect's parse leaves NULL: unparsable timestamps.
        sql: |_, _| vec!["ts IS NOT NULL".to_string()],
    },
    RowRule {
        status: reject(RejectReason::UnparsableTimestamp),
        check: |row, _| row.time == Reading::Invalid,
        expr: |_| col(flags::TIME_BAD),
        // Not in SQL: reported as a missing timestamp.
        sql: |_, _| Vec::new(),
    },
    RowRule {
        status: reject(RejectReason::MissingAmount),
        check: |row, _| row.amount == Reading::Missing,
        expr: |_| col(flags::AMOUNT_MISSING),
        // Also catches non-finite amounts, whose micro-units are NULL.
        sql: |_, _| vec!["micros IS NOT NULL".to_string()],
    },
    RowRule {
        status: reject(RejectReason::UnparsableAmount),
        check: |row, _| row.amount == Reading::Invalid,
        expr: |_| col(flags::AMOUNT_BAD),
        // Not in SQL: the cast to a double fails the query.
        sql: |_, _| Vec::new(),
    },
    RowRule {
        status: reject(RejectReason::NonFiniteAmount),
        check: |row, _| row.micros.is_none(),
        expr: |_| col(flags::AMOUNT_MICROS).is_null(),
        // In SQL the micro-units are NULL (`sql_amount_in_range`): a missing amount there.
        sql: |_, _| Vec::new(),
    },
    RowRule {
        status: reject(RejectReason::MissingOrderId),
        check: |row, _| row.order == Reading::Missing,
        expr: |_| col(flags::ORDER_MISSING),
        // TRIM removes less white space than clientele, as for customer ids.
        sql: |_, n| n.order.map_or_else(Vec::new, |order| id_present(order, n.text)),
    },
    RowRule {
        status: reject(RejectReason::InvalidOrderId),
        check: |row, _| row.order == Reading::Invalid,
        expr: |_| col(flags::ORDER_INVALID),
        // Not in SQL, as for customer ids.
        sql: |_, _| Vec::new(),
    },
    RowRule {
        status: RowStatus::Excluded(ExclusionReason::AfterAsOf),
        check: |row, rules| rules.as_of_day.is_some_and(|day| row.day > day),
        expr: |rules| match rules.policy.as_of.date() {
            Some(date) => col(flags::DAY).gt(lit(date)),
            None => lit(false),
        },
        sql: |rules, _| match rules.policy.as_of.date() {
            Some(date) => vec![format!("CAST(ts AS DATE) <= DATE '{date}'")],
            None => Vec::new(),
        },
    },
    RowRule {
        status: RowStatus::Excluded(ExclusionReason::Return),
        check: |row, rules| rules.exclude_returns && row.micros.is_some_and(|m| m < 0),
        expr: |rules| match rules.policy.returns {
            ReturnsPolicy::Exclude => col(flags::AMOUNT_MICROS).lt(lit(0i64)),
            ReturnsPolicy::Net => lit(false),
        },
        sql: |rules, _| match rules.policy.returns {
            ReturnsPolicy::Exclude => vec!["micros >= 0".to_string()],
            ReturnsPolicy::Net => Vec::new(),
        },
    },
];

impl RowRule {
    /// Whether the rule applies to `row` (Rust).
    #[inline(always)]
    pub fn applies(&self, row: &RowFacts, rules: &RowRules) -> bool {
        (self.check)(row, rules)
    }

    /// True for a row the rule applies to, over the flag columns (polars).
    pub fn expr(&self, rules: &RowRules) -> Expr {
        (self.expr)(rules)
    }

    /// Conditions a row must meet to pass the rule, over the query's `lines` (SQL).
    pub fn sql(&self, rules: &RowRules, names: &SqlNames) -> Vec<String> {
        (self.sql)(rules, names)
    }

    /// Whether the rule rejects a row (rather than exclude it by a policy).
    pub fn rejects(&self) -> bool {
        matches!(self.status, RowStatus::Rejected(_))
    }
}

/// The rules under one [`RowPolicy`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowRules {
    policy: RowPolicy,
    /// The as-of date as days since 1970-01-01.
    as_of_day: Option<i64>,
    exclude_returns: bool,
}

impl RowRules {
    /// The rules under `policy`.
    pub fn new(policy: &RowPolicy) -> RowRules {
        RowRules {
            policy: *policy,
            as_of_day: policy.as_of.date().map(epoch_days),
            exclude_returns: policy.returns == ReturnsPolicy::Exclude,
        }
    }

    /// The policy.
    pub fn policy(&self) -> &RowPolicy {
        &self.policy
    }

    /// The status of a row: that of the first rule that applies, else used.
    #[inline(always)]
    pub fn status(&self, row: &RowFacts) -> RowStatus {
        for rule in &RULES {
            if rule.applies(row, self) {
                return rule.status;
            }
        }
        RowStatus::Used
    }

    /// [`RowRules::status`] as a polars expression over the flag columns: the status code
    /// ([`RowStatus::code`]) as `UInt8`.
    pub(crate) fn status_expr(&self) -> Expr {
        RULES
            .iter()
            .rev()
            .fold(lit(RowStatus::Used.code()), |rest, rule| {
                when(rule.expr(self))
                    .then(lit(rule.status.code()))
                    .otherwise(rest)
            })
            .cast(DataType::UInt8)
    }

    /// The SQL conditions of the rules `which` selects, in rule order: a row meeting them all
    /// passes those rules.
    pub fn sql_conditions(&self, names: &SqlNames, which: impl Fn(&RowRule) -> bool) -> Vec<String> {
        RULES
            .iter()
            .filter(|rule| which(rule))
            .flat_map(|rule| rule.sql(self, names))
            .collect()
    }

    /// [`RowRules::status`] in SQL over the query's `lines`: a `CASE` giving the status code
    /// of the first rule whose conditions a row fails (rules SQL cannot say are left out).
    pub fn sql_status(&self, names: &SqlNames) -> String {
        let mut case = String::from("CASE");
        for rule in &RULES {
            let conditions = rule.sql(self, names);
            if !conditions.is_empty() {
                let _ = write!(
                    case,
                    "\n    WHEN NOT ({}) THEN {}",
                    conditions.join(" AND "),
                    rule.status.code()
                );
            }
        }
        let _ = write!(case, "\n    ELSE {} END", RowStatus::Used.code());
        case
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_apply_in_the_order_of_the_statuses() {
        // The rejecting rules come in the order of RejectReason::ALL, then the policies.
        let statuses: Vec<RowStatus> = RULES.iter().map(|r| r.status).collect();
        let mut sorted = statuses.clone();
        sorted.sort_by_key(|s| match s {
            RowStatus::Rejected(r) => (0, RejectReason::ALL.iter().position(|x| x == r)),
            RowStatus::Excluded(e) => (1, ExclusionReason::ALL.iter().position(|x| x == e)),
            RowStatus::Used => (2, None),
        });
        assert_eq!(statuses, sorted);
        assert_eq!(RULES.iter().take_while(|r| r.rejects()).count(), 9);
    }

    #[test]
    fn micros_round_half_away_from_zero_within_range() {
        assert_eq!(micros_of(-2.5), Some(-2_500_000));
        assert_eq!(micros_of(1e-7), Some(0));
        assert_eq!(micros_of(-6e-7), Some(-1));
        for out in [
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            MAX_ABS_AMOUNT,
            -MAX_ABS_AMOUNT,
        ] {
            assert_eq!(micros_of(out), None, "{out}");
        }
        assert_eq!(sql_amount_in_range("a"), "ABS(a) < 9200000000000");
    }

    #[test]
    fn rounding_equals_libm_round_on_ties_their_neighbours_and_random_bits() {
        let same = |x: f64| {
            let expected = x.round() as i64;
            assert_eq!(round_half_away(x), expected, "{x:e} ({:#x})", x.to_bits());
        };
        assert_eq!(JUST_BELOW_HALF, f64::from_bits(0.5f64.to_bits() - 1));
        // Every half and integer up to 2^20, then at powers of two up to beyond 2^53, with their
        // neighbours one and two ulps away, both signs.
        let mut points: Vec<f64> = (0..1 << 21).map(|i| f64::from(i) / 2.0).collect();
        points.extend((0..60).flat_map(|e| {
            let p = 2f64.powi(e);
            [p, p + 0.5, p - 0.5, p + 1.5, p - 1.5]
        }));
        for p in points {
            for step in -2i64..=2 {
                let x = f64::from_bits((p.to_bits() as i64 + step).max(0) as u64);
                same(x);
                same(-x);
            }
        }
        // Doubles from random bits (a fixed xorshift), below 2^63 in magnitude.
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..2_000_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let x = f64::from_bits(state);
            if x.is_finite() && x.abs() < 9.2e18 {
                same(x);
            }
        }
    }
}
