//! Transactions into one row per customer: first and last purchase, recency, frequency,
//! monetary value, and the row reconciliation.
//!
//! Definitions (docs/definitions.md has them with a worked example):
//! - a *purchase line* is a used row with an amount ≥ 0; a *return line* one with an amount < 0;
//! - `first_purchase` / `last_purchase`: earliest / latest timestamp of a purchase line;
//! - `recency_days`: calendar days from the date of `last_purchase` to the as-of date;
//! - `tenure_days`: calendar days from the date of `first_purchase` to the as-of date;
//! - `frequency`: distinct orders holding at least one purchase line, or, without an order
//!   column, distinct days with a purchase line;
//! - `monetary`: the sum of the amounts of all used rows (returns included under
//!   [`ReturnsPolicy::Net`]);
//! - `gross_revenue` / `returns_value`: the sums of positive amounts / of |negative amounts|;
//! - `transactions`: used rows; `avg_order_value`: `monetary / frequency`, rounded to
//!   micro-units.
//!
//! Customers whose used rows are all returns have no purchase and therefore no recency; their
//! rows are moved to the `no_purchase` exclusion.
//!
//! [`aggregate`] reads the input once, through the streaming accumulator of the `accumulate`
//! module; [`order_level`] and [`customer_level`] express the same aggregation as polars lazy
//! frames, for embedding in other queries (they use more memory per order).

pub(crate) mod accumulate;
mod as_of;
mod merge;
pub(crate) mod order_keys;
mod pass;
mod periods;
#[cfg(test)]
mod plain_reader_tests;
pub mod pre_aggregated;
mod runs;
mod shard;
mod slots;
mod valid_stats;

pub(crate) use pass::read_once;
pub use pass::{Collect, Pass, aggregate, aggregate_with};
pub use periods::{PeriodRequest, PurchasePeriods};
pub use valid_stats::{SignedAmounts, ValidRowStats};

use chrono::{Duration, NaiveDate};
use polars::prelude::*;
use serde::Serialize;

use crate::error::{Error, PolarsContext, Result};
use crate::ingest::col_names::{AMOUNT_MICROS, CUSTOMER_ID, ORDER_KEY, STATUS, TS};
use crate::ingest::{MICROS_PER_UNIT, TimeResolution, Transactions};
use crate::rows::{AsOf, ExclusionReason, ReturnsPolicy, RowPolicy, RowReconciliation, RowStatus};

/// Output column names of the customer table.
pub mod col_names {
    pub use crate::ingest::col_names::CUSTOMER_ID;
    /// Timestamp (or date) of the first purchase line.
    pub const FIRST_PURCHASE: &str = "first_purchase";
    /// Timestamp (or date) of the last purchase line.
    pub const LAST_PURCHASE: &str = "last_purchase";
    /// Days from the last purchase's date to the as-of date.
    pub const RECENCY_DAYS: &str = "recency_days";
    /// Days from the first purchase's date to the as-of date.
    pub const TENURE_DAYS: &str = "tenure_days";
    /// Distinct orders (or purchase days) with a purchase line.
    pub const FREQUENCY: &str = "frequency";
    /// Sum of used amounts.
    pub const MONETARY: &str = "monetary";
    /// Sum of positive amounts.
    pub const GROSS_REVENUE: &str = "gross_revenue";
    /// Sum of absolute negative amounts.
    pub const RETURNS_VALUE: &str = "returns_value";
    /// Used rows.
    pub const TRANSACTIONS: &str = "transactions";
    /// `monetary / frequency`.
    pub const AVG_ORDER_VALUE: &str = "avg_order_value";
}

/// The per-customer measures with the facts needed to interpret them.
#[derive(Debug, Clone)]
pub struct CustomerTable {
    /// One row per customer, sorted by customer id (columns in [`col_names`]).
    pub frame: DataFrame,
    /// The as-of date used.
    pub as_of: NaiveDate,
    /// How the as-of date was chosen.
    pub as_of_policy: AsOf,
    /// How returns were counted.
    pub returns: ReturnsPolicy,
    /// Input rows by fate.
    pub reconciliation: RowReconciliation,
    /// Whether purchases are dates or date-times.
    pub resolution: TimeResolution,
    /// Earliest and latest used transaction dates.
    pub date_range: Option<(NaiveDate, NaiveDate)>,
    /// Warnings about the data behind the table, also logged: a latest purchase date far
    /// beyond the rest, which moves the default as-of date (docs/definitions.md, "The as-of
    /// date").
    pub notes: Vec<String>,
}

/// Facts about a customer table for reports.
#[derive(Debug, Clone, Serialize)]
pub struct CustomerFacts {
    /// Number of customers.
    pub customers: usize,
    /// The as-of date.
    pub as_of: NaiveDate,
    /// How it was chosen.
    pub as_of_policy: AsOf,
    /// First used transaction date.
    pub first_date: Option<NaiveDate>,
    /// Last used transaction date.
    pub last_date: Option<NaiveDate>,
    /// Σ monetary.
    pub total_monetary: f64,
    /// Warnings about the data (see [`CustomerTable::notes`]).
    pub notes: Vec<String>,
}

impl CustomerTable {
    /// Number of customers.
    pub fn len(&self) -> usize {
        self.frame.height()
    }

    /// Whether there are no customers (never true for a table built by [`aggregate`]).
    pub fn is_empty(&self) -> bool {
        self.frame.height() == 0
    }

    /// Summary facts for reports.
    pub fn facts(&self) -> CustomerFacts {
        let total_monetary = self
            .frame
            .column(col_names::MONETARY)
            .ok()
            .and_then(|c| c.f64().ok().map(|ca| ca.sum().unwrap_or(0.0)))
            .unwrap_or(0.0);
        CustomerFacts {
            customers: self.len(),
            as_of: self.as_of,
            as_of_policy: self.as_of_policy,
            first_date: self.date_range.map(|r| r.0),
            last_date: self.date_range.map(|r| r.1),
            total_monetary,
            notes: self.notes.clone(),
        }
    }
}

/// Order-level aggregation of used rows: one row per `(customer_id, order_key)`.
///
/// Counting distinct orders in two phases (orders, then customers) replaces a per-customer
/// `n_unique`, which is the slow part of the naive plan.
pub fn order_level(classified: LazyFrame) -> LazyFrame {
    let amount = || col(AMOUNT_MICROS);
    let purchase = || amount().gt_eq(lit(0i64));
    classified
        .filter(col(STATUS).eq(lit(RowStatus::Used.code())))
        .group_by([col(CUSTOMER_ID), col(ORDER_KEY)])
        .agg([
            when(purchase())
                .then(col(TS))
                .otherwise(lit(NULL))
                .min()
                .alias("first_ts"),
            when(purchase())
                .then(col(TS))
                .otherwise(lit(NULL))
                .max()
                .alias("last_ts"),
            amount().sum().alias("net_micros"),
            when(amount().gt(lit(0i64)))
                .then(amount())
                .otherwise(lit(0i64))
                .sum()
                .alias("gross_micros"),
            when(amount().lt(lit(0i64)))
                .then(-amount())
                .otherwise(lit(0i64))
                .sum()
                .alias("returned_micros"),
            len().cast(DataType::Int64).alias("rows"),
        ])
}

/// Customer-level aggregation of [`order_level`] output.
pub fn customer_level(orders: LazyFrame) -> LazyFrame {
    orders.group_by([col(CUSTOMER_ID)]).agg([
        col("first_ts").min(),
        col("last_ts").max(),
        col("first_ts")
            .is_not_null()
            .sum()
            .cast(DataType::Int64)
            .alias(col_names::FREQUENCY),
        col("net_micros").sum(),
        col("gross_micros").sum(),
        col("returned_micros").sum(),
        col("rows").sum().alias(col_names::TRANSACTIONS),
    ])
}

/// Row counts per status code.
pub fn status_counts(classified: LazyFrame) -> LazyFrame {
    classified
        .group_by([col(STATUS)])
        .agg([len().cast(DataType::UInt64).alias("rows")])
}

/// The measures of [`customer_level`] output at an as-of date: recency, tenure and money in
/// currency units, with the purchase columns typed by `resolution`.
pub fn measures(customers: LazyFrame, as_of: NaiveDate, resolution: TimeResolution) -> LazyFrame {
    measures_of(customers, &|_| true, as_of, resolution)
}

/// [`measures`] of the sums the table has (`has`): money returned and gross money are built
/// only when an output column needs them (see `merge::StateFields`).
fn measures_of(
    customers: LazyFrame,
    has: &dyn Fn(&str) -> bool,
    as_of: NaiveDate,
    resolution: TimeResolution,
) -> LazyFrame {
    let units = |name: &str| micros_to_units(col(name));
    let days_to_as_of = |name: &str| days_before(col(name), as_of);
    let purchase = |name: &str| match resolution {
        TimeResolution::Date => col(name).dt().date(),
        TimeResolution::DateTime => col(name),
    };
    let money = |name: &str, alias: &str| has(name).then(|| units(name).alias(alias));
    let columns = [
        Some(col(CUSTOMER_ID)),
        Some(purchase("first_ts").alias(col_names::FIRST_PURCHASE)),
        Some(purchase("last_ts").alias(col_names::LAST_PURCHASE)),
        Some(days_to_as_of("last_ts").alias(col_names::RECENCY_DAYS)),
        Some(days_to_as_of("first_ts").alias(col_names::TENURE_DAYS)),
        Some(col(col_names::FREQUENCY)),
        Some(units("net_micros").alias(col_names::MONETARY)),
        money("gross_micros", col_names::GROSS_REVENUE),
        money("returned_micros", col_names::RETURNS_VALUE),
        Some(col(col_names::TRANSACTIONS)),
        Some(
            micros_to_units(per_order_micros(col("net_micros"), col(col_names::FREQUENCY)))
                .alias(col_names::AVG_ORDER_VALUE),
        ),
    ];
    customers.select(columns.into_iter().flatten().collect::<Vec<_>>())
}

/// Calendar days from the date of each timestamp (or date) to `as_of`: `(as_of -
/// ts.dt().date()).dt().total_days()`, computed in one pass over the integers (the expression
/// chain materialised three intermediate columns per measure).
pub fn days_before(timestamps: Expr, as_of: NaiveDate) -> Expr {
    let as_of_days = crate::ingest::time::epoch_days(as_of);
    timestamps.map(
        move |c: Column| {
            let per_day: i64 = match c.dtype() {
                DataType::Date => 1,
                DataType::Datetime(TimeUnit::Milliseconds, _) => 86_400_000,
                DataType::Datetime(TimeUnit::Microseconds, _) => 86_400_000_000,
                DataType::Datetime(TimeUnit::Nanoseconds, _) => 86_400_000_000_000,
                other => polars_bail!(InvalidOperation: "days before the as-of date of a {other} column"),
            };
            let physical = c.to_physical_repr().cast(&DataType::Int64)?;
            let days: Int64Chunked = physical
                .i64()?
                .apply_nonnull_values_generic::<Int64Type, _, _>(DataType::Int64, |v| {
                    as_of_days - v.div_euclid(per_day)
                })
                .with_name(c.name().clone());
            Ok(days.into_column())
        },
        |_, field| Ok(Field::new(field.name().clone(), DataType::Int64)),
    )
}

/// Integer micro-units to currency units, `x / 10⁶` correctly rounded.
///
/// polars divides by a scalar through multiplication with its reciprocal, which is off by an
/// ulp for many values (77183600000 × 10⁻⁶ = 77183.59999999999); a true division is not.
pub fn micros_to_units(micros: Expr) -> Expr {
    micros.map(
        |c: Column| {
            let values = c.cast(&DataType::Int64)?;
            let units: Float64Chunked = values
                .i64()?
                .apply_nonnull_values_generic::<Float64Type, _, _>(DataType::Float64, |v| {
                    v as f64 / MICROS_PER_UNIT
                })
                .with_name(c.name().clone());
            Ok(units.into_column())
        },
        |_, field| Ok(Field::new(field.name().clone(), DataType::Float64)),
    )
}

/// Micro-units per order: `micros / orders` rounded half away from zero to whole micro-units,
/// in exact integer arithmetic, so that [`micros_to_units`] gives the decimal itself (`82.109`,
/// not the `82.10900000000001` of dividing currency units in floating point). Null for no
/// orders.
pub fn per_order_micros(micros: Expr, orders: Expr) -> Expr {
    micros.map_many(
        |columns: &mut [Column]| {
            let micros = columns[0].cast(&DataType::Int64)?;
            let orders = columns[1].cast(&DataType::Int64)?;
            let quotient: Int64Chunked = micros
                .i64()?
                .iter()
                .zip(orders.i64()?.iter())
                .map(|(m, n)| rounded_quotient(m?, n?))
                .collect();
            Ok(quotient.with_name(columns[0].name().clone()).into_column())
        },
        &[orders],
        |_, fields| Ok(Field::new(fields[0].name().clone(), DataType::Int64)),
    )
}

/// `numerator / denominator` rounded half away from zero; `None` for a zero denominator.
fn rounded_quotient(numerator: i64, denominator: i64) -> Option<i64> {
    let (n, d) = (i128::from(numerator), i128::from(denominator));
    if d == 0 {
        return None;
    }
    let (q, r) = (n / d, n % d);
    let away = if 2 * r.abs() >= d.abs() {
        (n.signum() * d.signum()) as i64
    } else {
        0
    };
    i64::try_from(q).ok().map(|q| q + away)
}

/// The same table as [`aggregate`], computed by polars alone: [`customer_level`] of
/// [`order_level`] and [`status_counts`], collected together by the streaming engine. It needs
/// about ten times more memory per distinct order; it is kept to cross-check [`aggregate`] and
/// as the reference plan for embedders.
///
/// # Errors
///
/// As [`aggregate`].
pub fn aggregate_with_group_by(tx: &Transactions, policy: &RowPolicy) -> Result<CustomerTable> {
    let classified = tx.classify(policy)?;
    let customers = customer_level(order_level(classified.clone()));
    let counts = status_counts(classified);
    let opt = customers.get_current_optimizations();
    let mut frames = LazyFrame::collect_all_with_engine(
        vec![customers.logical_plan, counts.logical_plan],
        Engine::Streaming,
        opt,
    )
    .map_err(|e| aggregate_error(tx.source_name(), e))?;
    let counts = frames.pop().expect("two plans give two frames");
    let customers = sort_by_customer(integer_ids_if_lossless(
        frames.pop().expect("two plans give two frames"),
    )?)?;
    finish_table(tx, policy, customers, reconciliation_from(&counts)?, None)
}

pub(crate) use crate::ingest::aggregate_error;
pub(crate) use crate::rows::ids::canonical_integer;

/// Customer-level sums (sorted by customer id, ids in their final type) into the final table:
/// no-purchase exclusions, as-of date, measures.
pub(super) fn finish_table(
    tx: &Transactions,
    policy: &RowPolicy,
    customers: DataFrame,
    mut reconciliation: RowReconciliation,
    only_columns: Option<&[String]>,
) -> Result<CustomerTable> {
    // Customers with used rows but no purchase line: their rows become `no_purchase` exclusions.
    let frequency = customers
        .column(col_names::FREQUENCY)
        .context(|| "frequency".into())?
        .i64()
        .context(|| "frequency".into())?;
    let transactions = customers
        .column(col_names::TRANSACTIONS)
        .context(|| "transactions".into())?
        .i64()
        .context(|| "transactions".into())?;
    // Customers without a purchase, and their rows (a null is neither).
    let none = frequency.equal(0);
    let no_purchase = none.sum().unwrap_or(0);
    let no_purchase_rows = transactions
        .filter(&none)
        .context(|| "transactions".into())?
        .sum()
        .unwrap_or(0);
    reconciliation.exclude_used(ExclusionReason::NoPurchase, no_purchase_rows as u64);
    let buyers = if no_purchase > 0 {
        let mask = frequency.gt(0);
        customers
            .filter(&mask)
            .context(|| "selecting customers with purchases".into())?
    } else {
        customers
    };
    at_as_of(tx, policy, buyers, reconciliation, only_columns)
}

/// Customer-level sums of buyers (sorted by id) into the table at the as-of date: the as-of
/// date itself when it is the day after the latest purchase, recency, tenure, money in units.
pub(crate) fn at_as_of(
    source: &Transactions,
    policy: &RowPolicy,
    buyers: DataFrame,
    reconciliation: RowReconciliation,
    only_columns: Option<&[String]>,
) -> Result<CustomerTable> {
    if buyers.height() == 0 {
        return Err(Error::NoCustomers {
            source_name: source.source_name().to_string(),
            summary: reconciliation.one_line(),
        });
    }
    let first = as_of::timestamps(&buyers, "first_ts")?;
    let last = as_of::timestamps(&buyers, "last_ts")?;
    let last_range = as_of::extremes(&last);
    let date_range = as_of::date_range(as_of::extremes(&first), last_range);
    let as_of = match policy.as_of {
        AsOf::Date(d) => d,
        AsOf::DayAfterLatest => {
            date_range.map(|r| r.1).expect("buyers have purchase dates") + Duration::days(1)
        }
    };
    let notes = match policy.as_of {
        AsOf::DayAfterLatest => as_of::late_outlier_note(source, policy, &last, last_range, as_of)?
            .into_iter()
            .collect(),
        AsOf::Date(_) => Vec::new(),
    };
    let resolution = source.time_parsing().resolution;
    let has = |name: &str| buyers.schema().contains(name);
    let mut measured = measures_of(buyers.clone().lazy(), &has, as_of, resolution);
    if let Some(only) = only_columns {
        // The measures no one reads are not computed: the plan's own columns, in its order.
        let schema = measured
            .collect_schema()
            .context(|| "the customer measures".into())?;
        let kept: Vec<Expr> = schema
            .iter_names()
            .filter(|name| only.iter().any(|o| o == name.as_str()))
            .map(|name| col(name.clone()))
            .collect();
        measured = measured.select(kept);
    }
    let frame = measured
        .collect()
        .context(|| "computing customer measures".into())?;
    Ok(CustomerTable {
        frame,
        as_of,
        as_of_policy: policy.as_of,
        returns: policy.returns,
        reconciliation,
        resolution,
        date_range,
        notes,
    })
}

pub use as_of::LATE_OUTLIER_DAYS;

/// The reconciliation from [`status_counts`] output.
pub(crate) fn reconciliation_from(counts: &DataFrame) -> Result<RowReconciliation> {
    let status = counts
        .column(STATUS)
        .context(|| "status counts".into())?
        .u8()
        .context(|| "status".into())?;
    let rows = counts
        .column("rows")
        .context(|| "status counts".into())?
        .u64()
        .context(|| "rows".into())?;
    Ok(RowReconciliation::from_status_counts(
        status
            .iter()
            .zip(rows.iter())
            .filter_map(|(s, r)| Some((s?, r.unwrap_or(0)))),
    ))
}

/// Sorts a customer-level frame by customer id (text ids lexically, integer ids numerically).
pub fn sort_by_customer(frame: DataFrame) -> Result<DataFrame> {
    frame
        .sort(
            [CUSTOMER_ID],
            SortMultipleOptions::default().with_maintain_order(true),
        )
        .context(|| "sorting customers".into())
}

/// Text customer ids that are all canonical integers (no sign but `-`, no leading zeros, within
/// `i64`) become an `Int64` column: the same digits, but sorted numerically. Any other text id
/// (`"00001"`, `"C123"`) keeps the whole column as text, exactly as given.
pub fn integer_ids_if_lossless(mut frame: DataFrame) -> Result<DataFrame> {
    let ids = frame.column(CUSTOMER_ID).context(|| "customer ids".into())?;
    if ids.dtype() != &DataType::String {
        return Ok(frame);
    }
    let text = ids.str().context(|| "customer ids".into())?;
    let parsed: Option<Vec<i64>> = text.iter().map(|v| v.and_then(canonical_integer)).collect();
    if let Some(values) = parsed {
        let column = crate::frame::owned_column(CUSTOMER_ID, values);
        frame
            .replace(CUSTOMER_ID, column)
            .context(|| "customer ids".into())?;
    }
    Ok(frame)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parquet_windows_split_orders_and_customers_and_agree_with_the_group_by_plan() {
        use crate::generate::{GenerateParams, generate_frame};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.parquet");
        let mut log = generate_frame(&GenerateParams::new(3_000, 60_000).seed(11).check().unwrap()).unwrap();
        ParquetWriter::new(std::fs::File::create(&path).unwrap())
            .with_row_group_size(Some(5_000))
            .finish(&mut log)
            .unwrap();
        let tx = crate::ingest::scan(&path, &crate::ingest::IngestOptions::default()).unwrap();
        assert_eq!(tx.parquet_rows().unwrap(), Some(60_000));
        let reference = aggregate_with_group_by(&tx, &RowPolicy::default()).unwrap();
        // Windows that cut orders (about 2 lines each) and row groups in the middle.
        for window in [7_001, 25_000, 60_000, 1 << 22] {
            let windowed =
                pass::aggregate_in_windows(&tx, &RowPolicy::default(), &Collect::default(), window)
                    .unwrap()
                    .table;
            assert_eq!(
                windowed.reconciliation, reference.reconciliation,
                "window {window}"
            );
            assert!(windowed.frame.equals_missing(&reference.frame), "window {window}");
        }
    }

    #[test]
    fn days_before_equal_the_date_arithmetic_for_every_unit() {
        let as_of = NaiveDate::from_ymd_opt(2024, 3, 1).unwrap();
        let micros: Vec<Option<i64>> = vec![
            Some(0),
            Some(-1),
            Some(86_399_999_999),
            Some(-86_400_000_001),
            None,
            Some(1_709_251_199_999_999),
            Some(1_709_251_200_000_000),
        ];
        let frame = df!("ts" => micros).unwrap();
        for unit in [
            TimeUnit::Milliseconds,
            TimeUnit::Microseconds,
            TimeUnit::Nanoseconds,
        ] {
            for dtype in [DataType::Datetime(unit, None), DataType::Date] {
                let typed = frame.clone().lazy().select([col("ts")
                    .cast(DataType::Datetime(TimeUnit::Microseconds, None))
                    .cast(dtype.clone())]);
                let fast = typed
                    .clone()
                    .select([days_before(col("ts"), as_of)])
                    .collect()
                    .unwrap();
                let chain = typed
                    .select([(lit(as_of) - col("ts").dt().date())
                        .dt()
                        .total_days(false)
                        .alias("ts")])
                    .collect()
                    .unwrap();
                let chain = chain.column("ts").unwrap().cast(&DataType::Int64).unwrap();
                assert!(
                    fast.column("ts")
                        .unwrap()
                        .as_materialized_series()
                        .equals_missing(chain.as_materialized_series()),
                    "{dtype}: {fast} vs {chain:?}"
                );
            }
        }
    }

    #[test]
    fn quotients_round_half_away_from_zero_exactly() {
        assert_eq!(rounded_quotient(82_109_000 * 3, 3), Some(82_109_000));
        assert_eq!(rounded_quotient(905_000_000, 3), Some(301_666_667));
        assert_eq!(rounded_quotient(-905_000_000, 3), Some(-301_666_667));
        assert_eq!(rounded_quotient(5, 2), Some(3));
        assert_eq!(rounded_quotient(-5, 2), Some(-3));
        assert_eq!(rounded_quotient(7, 4), Some(2));
        assert_eq!(rounded_quotient(-7, 4), Some(-2));
        assert_eq!(rounded_quotient(i64::MAX, 1), Some(i64::MAX));
        assert_eq!(rounded_quotient(i64::MIN, -1), None);
        assert_eq!(rounded_quotient(1, 0), None);
    }

    #[test]
    fn only_canonical_integers_convert() {
        assert_eq!(canonical_integer("12346"), Some(12346));
        assert_eq!(canonical_integer("-5"), Some(-5));
        assert_eq!(canonical_integer("0"), Some(0));
        assert_eq!(canonical_integer("00001"), None);
        assert_eq!(canonical_integer("+5"), None);
        assert_eq!(canonical_integer("-0"), None);
        assert_eq!(canonical_integer("1e3"), None);
        assert_eq!(canonical_integer("99999999999999999999"), None);
        assert_eq!(canonical_integer("9223372036854775807"), Some(i64::MAX));
        assert_eq!(canonical_integer("9223372036854775808"), None);
        assert_eq!(canonical_integer("-9223372036854775808"), Some(i64::MIN));
        assert_eq!(canonical_integer("-"), None);
        assert_eq!(canonical_integer("-05"), None);
        assert_eq!(canonical_integer("12a"), None);
        assert_eq!(canonical_integer(""), None);
    }
}
