//! What happens to every input row, and the counts that prove nothing was lost.
//!
//! Each input row ends in exactly one [`RowStatus`]: used, excluded by a stated policy, or
//! rejected with a reason. The checks run in the order the variants are listed below, and the
//! first one that applies decides the status. [`RowReconciliation`] counts the rows per status;
//! `input_rows = used + excluded + rejected` always holds. The checks of a transaction's values
//! and the policies live in [`rules`], each as Rust, polars and SQL side by side.

pub(crate) mod ids;
pub mod rules;

use chrono::NaiveDate;
use serde::{Serialize, Serializer};

/// The analysis date: recency is measured up to it, and later transactions are excluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AsOf {
    /// The day after the date of the latest purchase line (a used row with amount ≥ 0; the
    /// default). Nothing is excluded as late, the most recent customers have recency 1, and a
    /// return dated after the last purchase still counts.
    #[default]
    DayAfterLatest,
    /// A given date. Transactions dated after it are excluded; transactions on it are used.
    Date(NaiveDate),
}

impl AsOf {
    /// The explicit date, if any.
    pub fn date(self) -> Option<NaiveDate> {
        match self {
            AsOf::DayAfterLatest => None,
            AsOf::Date(d) => Some(d),
        }
    }
}

/// How negative amounts (returns, cancellations, refunds) count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReturnsPolicy {
    /// Negative amounts are summed into monetary value (the default).
    #[default]
    Net,
    /// Rows with a negative amount are excluded (and counted as excluded returns).
    Exclude,
}

/// The policies that decide which valid rows are used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct RowPolicy {
    /// The analysis date.
    pub as_of: AsOf,
    /// How returns count.
    pub returns: ReturnsPolicy,
}

/// Why a row was rejected: its content cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum RejectReason {
    /// The record is not a row of the table: it has more fields than the header, a quote
    /// inside an unquoted field, or text after a closing quote (CSV input).
    MalformedRow,
    /// The record is not valid UTF-8 (CSV input). Files exported by Windows programs are
    /// often Windows-1252: read them with `--encoding windows-1252` (or `latin-1`).
    InvalidUtf8,
    /// The customer id is empty or missing.
    MissingCustomerId,
    /// The customer id is a number with a fractional part (`12.5`, as a float or as text), not
    /// finite, or a float beyond 64 bits (`1e20`).
    InvalidCustomerId,
    /// The timestamp is empty or missing.
    MissingTimestamp,
    /// The timestamp does not match the timestamp format.
    UnparsableTimestamp,
    /// The amount (or quantity or unit price) is empty or missing.
    MissingAmount,
    /// The amount (or quantity or unit price) is not a number.
    UnparsableAmount,
    /// The amount is NaN, infinite, or beyond ±9.2 × 10¹² (the range clientele sums exactly).
    NonFiniteAmount,
    /// The input has an order column but this row's order id is empty.
    MissingOrderId,
    /// The order id is a number with a fractional part, not finite, or beyond 64 bits (as
    /// for customer ids).
    InvalidOrderId,
    /// A customer table's `frequency` is missing, not a whole number, or below 1.
    InvalidFrequency,
    /// A customer table's `first_purchase` is missing, unreadable, or after `last_purchase`.
    InvalidFirstPurchase,
}

/// Why a row was excluded: it is valid, but a stated policy leaves it out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum ExclusionReason {
    /// The transaction is dated after the as-of date.
    AfterAsOf,
    /// The amount is negative and the returns policy is `exclude`.
    Return,
    /// The customer has only returns (negative amounts) in the window and no purchase, so
    /// has no first or last purchase and no recency.
    NoPurchase,
}

/// The fate of one input row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RowStatus {
    /// The row counts towards its customer's measures.
    Used,
    /// The row is valid but left out by a policy.
    Excluded(ExclusionReason),
    /// The row cannot be used.
    Rejected(RejectReason),
}

impl RejectReason {
    /// Every reason, in the order the checks run.
    pub const ALL: [RejectReason; 13] = [
        RejectReason::MalformedRow,
        RejectReason::InvalidUtf8,
        RejectReason::MissingCustomerId,
        RejectReason::InvalidCustomerId,
        RejectReason::MissingTimestamp,
        RejectReason::UnparsableTimestamp,
        RejectReason::MissingAmount,
        RejectReason::UnparsableAmount,
        RejectReason::NonFiniteAmount,
        RejectReason::MissingOrderId,
        RejectReason::InvalidOrderId,
        RejectReason::InvalidFrequency,
        RejectReason::InvalidFirstPurchase,
    ];

    /// The reason's stable identifier, used in reports and the rejects file.
    pub fn as_str(self) -> &'static str {
        match self {
            RejectReason::MalformedRow => "malformed_row",
            RejectReason::InvalidUtf8 => "invalid_utf8",
            RejectReason::MissingCustomerId => "missing_customer_id",
            RejectReason::InvalidCustomerId => "invalid_customer_id",
            RejectReason::MissingTimestamp => "missing_timestamp",
            RejectReason::UnparsableTimestamp => "unparsable_timestamp",
            RejectReason::MissingAmount => "missing_amount",
            RejectReason::UnparsableAmount => "unparsable_amount",
            RejectReason::NonFiniteAmount => "non_finite_amount",
            RejectReason::MissingOrderId => "missing_order_id",
            RejectReason::InvalidOrderId => "invalid_order_id",
            RejectReason::InvalidFrequency => "invalid_frequency",
            RejectReason::InvalidFirstPurchase => "invalid_first_purchase",
        }
    }
}

impl ExclusionReason {
    /// Every reason, in the order the checks run.
    pub const ALL: [ExclusionReason; 3] = [
        ExclusionReason::AfterAsOf,
        ExclusionReason::Return,
        ExclusionReason::NoPurchase,
    ];

    /// The reason's stable identifier, used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            ExclusionReason::AfterAsOf => "after_as_of",
            ExclusionReason::Return => "return",
            ExclusionReason::NoPurchase => "no_purchase",
        }
    }
}

impl RowStatus {
    /// The status's code in the `status` column of classified transactions.
    pub fn code(self) -> u8 {
        match self {
            RowStatus::Used => 0,
            RowStatus::Rejected(r) => 1 + RejectReason::ALL.iter().position(|x| *x == r).unwrap_or(0) as u8,
            RowStatus::Excluded(e) => {
                32 + ExclusionReason::ALL.iter().position(|x| *x == e).unwrap_or(0) as u8
            }
        }
    }

    /// The status for a code produced by [`RowStatus::code`].
    pub fn from_code(code: u8) -> Option<RowStatus> {
        match code {
            0 => Some(RowStatus::Used),
            1..=31 => RejectReason::ALL
                .get(code as usize - 1)
                .map(|r| RowStatus::Rejected(*r)),
            _ => ExclusionReason::ALL
                .get(code.checked_sub(32)? as usize)
                .map(|e| RowStatus::Excluded(*e)),
        }
    }
}

impl Serialize for RejectReason {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl Serialize for ExclusionReason {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A count of rows for one reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReasonCount<R> {
    /// The reason.
    pub reason: R,
    /// How many rows.
    pub rows: u64,
}

/// Counts of input rows by what happened to them. `input_rows = used + excluded + rejected`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RowReconciliation {
    /// Rows read from the input.
    pub input_rows: u64,
    /// Rows that count towards customer measures.
    pub used_rows: u64,
    /// Rows left out by a policy, by reason (reasons with no rows are omitted).
    pub excluded: Vec<ReasonCount<ExclusionReason>>,
    /// Rows that could not be used, by reason (reasons with no rows are omitted).
    pub rejected: Vec<ReasonCount<RejectReason>>,
}

impl RowReconciliation {
    /// Builds the reconciliation from `(status code, rows)` pairs.
    pub fn from_status_counts(counts: impl IntoIterator<Item = (u8, u64)>) -> Self {
        let mut rec = RowReconciliation::default();
        for (code, rows) in counts {
            rec.input_rows += rows;
            match RowStatus::from_code(code) {
                Some(RowStatus::Used) => rec.used_rows += rows,
                Some(RowStatus::Excluded(reason)) => add(&mut rec.excluded, reason, rows),
                Some(RowStatus::Rejected(reason)) => add(&mut rec.rejected, reason, rows),
                None => unreachable!("status codes come from RowStatus::code"),
            }
        }
        rec
    }

    /// Moves `rows` used rows to the excluded count for `reason`.
    pub fn exclude_used(&mut self, reason: ExclusionReason, rows: u64) {
        debug_assert!(rows <= self.used_rows);
        if rows > 0 {
            self.used_rows -= rows;
            add(&mut self.excluded, reason, rows);
        }
    }

    /// Total rows excluded by policy.
    pub fn excluded_rows(&self) -> u64 {
        self.excluded.iter().map(|c| c.rows).sum()
    }

    /// Total rows rejected.
    pub fn rejected_rows(&self) -> u64 {
        self.rejected.iter().map(|c| c.rows).sum()
    }

    /// Rows excluded for `reason`.
    pub fn excluded_for(&self, reason: ExclusionReason) -> u64 {
        self.excluded
            .iter()
            .filter(|c| c.reason == reason)
            .map(|c| c.rows)
            .sum()
    }

    /// Rows rejected for `reason`.
    pub fn rejected_for(&self, reason: RejectReason) -> u64 {
        self.rejected
            .iter()
            .filter(|c| c.reason == reason)
            .map(|c| c.rows)
            .sum()
    }

    /// Whether `input_rows = used + excluded + rejected`.
    pub fn balances(&self) -> bool {
        self.input_rows == self.used_rows + self.excluded_rows() + self.rejected_rows()
    }

    /// The reconciliation in one line, e.g. `541909 rows = 397924 used + 8905 excluded + 135080 rejected`.
    pub fn one_line(&self) -> String {
        format!(
            "{} rows = {} used + {} excluded + {} rejected",
            self.input_rows,
            self.used_rows,
            self.excluded_rows(),
            self.rejected_rows()
        )
    }
}

fn add<R: Copy + Ord>(counts: &mut Vec<ReasonCount<R>>, reason: R, rows: u64) {
    match counts.iter_mut().find(|c| c.reason == reason) {
        Some(c) => c.rows += rows,
        None => {
            counts.push(ReasonCount { reason, rows });
            counts.sort_by_key(|c| c.reason);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        let mut all = vec![RowStatus::Used];
        all.extend(RejectReason::ALL.map(RowStatus::Rejected));
        all.extend(ExclusionReason::ALL.map(RowStatus::Excluded));
        for status in all {
            assert_eq!(RowStatus::from_code(status.code()), Some(status));
        }
        assert_eq!(RowStatus::from_code(200), None);
    }

    #[test]
    fn reconciliation_balances_and_moves_rows() {
        let used = RowStatus::Used.code();
        let ret = RowStatus::Excluded(ExclusionReason::Return).code();
        let miss = RowStatus::Rejected(RejectReason::MissingCustomerId).code();
        let mut rec = RowReconciliation::from_status_counts([(used, 90), (ret, 4), (miss, 6)]);
        assert_eq!(rec.input_rows, 100);
        assert!(rec.balances());
        rec.exclude_used(ExclusionReason::NoPurchase, 5);
        assert_eq!(rec.used_rows, 85);
        assert_eq!(rec.excluded_rows(), 9);
        assert!(rec.balances());
        assert_eq!(rec.one_line(), "100 rows = 85 used + 9 excluded + 6 rejected");
        // Reasons are kept in check order.
        assert_eq!(rec.excluded[0].reason, ExclusionReason::Return);
        assert_eq!(rec.excluded[1].reason, ExclusionReason::NoPurchase);
    }
}
