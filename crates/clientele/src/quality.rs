//! Data-quality assessment of a transaction input, without writing any table.
//!
//! [`assess`] reports the row reconciliation (the same one a segmentation run reports), rejects
//! by reason with examples, fully duplicated rows, negative and zero amounts, the date range
//! and distinct counts.

use std::fmt::Write;

use chrono::NaiveDateTime;
use polars::prelude::*;
use serde::Serialize;

use crate::columns::ResolvedColumns;
use crate::customers::{self, Collect, SignedAmounts};
use crate::error::{Error, PolarsContext, Result};
use crate::format::{format_count, format_money};
use crate::ingest::col_names::{AMOUNT_MICROS, CUSTOMER_ID, ORDER_KEY, STATUS, TS};
use crate::ingest::{MICROS_PER_UNIT, Transactions};
use crate::report::rows_markdown;
use crate::rows::{RowPolicy, RowReconciliation};

/// How many rejected rows are shown as examples.
pub const REJECT_EXAMPLES: usize = 10;

/// Count and sum of a class of amounts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct AmountStats {
    /// Rows.
    pub rows: u64,
    /// Σ amount.
    pub total: f64,
}

/// One rejected row, as an example.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RejectExample {
    /// 1-based data row number in the input.
    pub row: u64,
    /// The reason's identifier.
    pub reason: String,
    /// The column at fault.
    pub column: String,
    /// Its value as text (`None` when empty).
    pub value: Option<String>,
}

/// The data-quality report.
#[derive(Debug, Clone, Serialize)]
pub struct QualityReport {
    /// The input as named.
    pub source: String,
    /// The column chosen for each role.
    pub columns: ResolvedColumns,
    /// The timestamp format, if timestamps are text.
    pub time_format: Option<String>,
    /// Input rows by fate, as a segmentation with the same policy would count them.
    pub rows: RowReconciliation,
    /// Customers with at least one used purchase.
    pub customers: usize,
    /// Distinct customer ids among valid (not rejected) rows.
    pub distinct_customer_ids: u64,
    /// Distinct order ids among valid rows, when there is an order column.
    pub distinct_orders: Option<u64>,
    /// Rows identical in every column to an earlier row (kept, and counted as used if valid).
    pub duplicate_rows: u64,
    /// Valid rows with a negative amount.
    pub negative_amounts: AmountStats,
    /// Valid rows with a zero amount.
    pub zero_amounts: AmountStats,
    /// Valid rows with a positive amount.
    pub positive_amounts: AmountStats,
    /// Earliest valid timestamp.
    pub first_timestamp: Option<NaiveDateTime>,
    /// Latest valid timestamp.
    pub last_timestamp: Option<NaiveDateTime>,
    /// The first rejected rows.
    pub reject_examples: Vec<RejectExample>,
}

/// Assesses an input under a row policy, in one read of the input (the pass that aggregates
/// customers collects the statistics; on polars' path the rejected rows are a query of their
/// own when there are any, as for a segmentation).
///
/// # Errors
///
/// Read errors from the input. An input where every row is rejected is *not* an error here:
/// the report says so.
pub fn assess(tx: &Transactions, policy: &RowPolicy) -> Result<QualityReport> {
    let collect = Collect {
        rejects: true,
        quality: true,
        ..Collect::default()
    };
    let parts = customers::read_once(tx, policy, &collect)?;
    let (rows, customers) = match parts.table {
        Ok(table) => (table.reconciliation.clone(), table.len()),
        Err(Error::NoCustomers { .. }) => (parts.reconciliation, 0),
        Err(e) => return Err(e),
    };
    let stats = parts.quality.expect("the statistics were asked for");
    let examples = match parts.rejects {
        Some(rejects) => rejects
            .to_frame()?
            .head(Some(REJECT_EXAMPLES))
            .lazy()
            .select(example_columns())
            .collect()
            .context(|| "examples of rejected rows".into())?,
        None => unreachable!("the rejected rows were asked for"),
    };
    let amounts = |a: SignedAmounts| AmountStats {
        rows: a.rows,
        total: a.micros as f64 / MICROS_PER_UNIT,
    };
    let timestamp = |micros: Option<i64>| {
        micros.and_then(|m| chrono::DateTime::from_timestamp_micros(m).map(|d| d.naive_utc()))
    };
    Ok(QualityReport {
        source: tx.source_name().to_string(),
        columns: tx.columns().clone(),
        time_format: tx.time_parsing().format.clone(),
        rows,
        customers,
        distinct_customer_ids: stats.distinct_customer_ids,
        distinct_orders: stats.distinct_orders,
        duplicate_rows: stats.duplicate_rows,
        negative_amounts: amounts(stats.negative),
        zero_amounts: amounts(stats.zero),
        positive_amounts: amounts(stats.positive),
        first_timestamp: timestamp(stats.first_ts),
        last_timestamp: timestamp(stats.last_ts),
        reject_examples: reject_examples(&examples)?,
    })
}

/// The columns of a rejected row that an example shows.
fn example_columns() -> [Expr; 4] {
    [
        col("reject_row").cast(DataType::UInt64),
        col("reject_reason"),
        col("reject_column"),
        col("reject_value"),
    ]
}

/// [`assess`] by separate queries over the input, as before the pass collected the
/// statistics: the reference the tests hold the pass to.
///
/// # Errors
///
/// As [`assess`].
pub fn assess_by_queries(tx: &Transactions, policy: &RowPolicy) -> Result<QualityReport> {
    let (rows, customers) = match customers::aggregate(tx, policy) {
        Ok(table) => (table.reconciliation.clone(), table.len()),
        Err(Error::NoCustomers { .. }) => (reconcile_only(tx, policy)?, 0),
        Err(e) => return Err(e),
    };
    let stats = stats_plan(tx, policy)?;
    let total = tx.raw()?.select([len().cast(DataType::UInt64).alias("n")]);
    // Records rejected for their structure are distinct rows, whatever their placeholders.
    let distinct = tx
        .readable_raw()?
        .unique(None, UniqueKeepStrategy::Any)
        .select([(len().cast(DataType::UInt64) + lit(tx.unreadable_rows()?)).alias("n")]);
    let examples = tx
        .rejected_rows(policy)?
        .limit(REJECT_EXAMPLES as IdxSize)
        .select(example_columns());
    let opt = stats.get_current_optimizations();
    let frames = LazyFrame::collect_all_with_engine(
        vec![
            stats.logical_plan,
            total.logical_plan,
            distinct.logical_plan,
            examples.logical_plan,
        ],
        Engine::Streaming,
        opt,
    )
    .context(|| format!("{}: cannot assess", tx.source_name()))?;
    let [stats, total, distinct, examples] =
        <[DataFrame; 4]>::try_from(frames).expect("four plans, four frames");
    Ok(QualityReport {
        source: tx.source_name().to_string(),
        columns: tx.columns().clone(),
        time_format: tx.time_parsing().format.clone(),
        rows,
        customers,
        distinct_customer_ids: first_u64(&stats, "customers")?,
        distinct_orders: match tx.columns().order {
            Some(_) => Some(first_u64(&stats, "orders")?),
            None => None,
        },
        duplicate_rows: first_u64(&total, "n")? - first_u64(&distinct, "n")?,
        negative_amounts: amount_stats(&stats, "negative")?,
        zero_amounts: amount_stats(&stats, "zero")?,
        positive_amounts: amount_stats(&stats, "positive")?,
        first_timestamp: first_timestamp(&stats, "first_ts")?,
        last_timestamp: first_timestamp(&stats, "last_ts")?,
        reject_examples: reject_examples(&examples)?,
    })
}

/// The statistics of the valid rows: amounts by sign (rows and totals), first and last
/// timestamp, distinct customers (and orders).
fn stats_plan(tx: &Transactions, policy: &RowPolicy) -> Result<LazyFrame> {
    let classified = tx.classify(policy)?;
    let valid = col(STATUS).eq(lit(0u8)).or(col(STATUS).gt_eq(lit(32u8)));
    let amount = || col(AMOUNT_MICROS);
    let class = |cond: Expr, name: &str| {
        [
            cond.clone()
                .and(valid.clone())
                .cast(DataType::UInt64)
                .sum()
                .alias(format!("{name}_rows")),
            when(cond.and(valid.clone()))
                .then(amount())
                .otherwise(lit(0i64))
                .cast(DataType::Float64)
                .sum()
                .alias(format!("{name}_total")),
        ]
    };
    let mut stats_exprs = Vec::new();
    stats_exprs.extend(class(amount().lt(lit(0i64)), "negative"));
    stats_exprs.extend(class(amount().eq(lit(0i64)), "zero"));
    stats_exprs.extend(class(amount().gt(lit(0i64)), "positive"));
    stats_exprs.push(col(TS).filter(valid.clone()).min().alias("first_ts"));
    stats_exprs.push(col(TS).filter(valid.clone()).max().alias("last_ts"));
    stats_exprs.push(
        col(CUSTOMER_ID)
            .filter(valid.clone())
            .n_unique()
            .cast(DataType::UInt64)
            .alias("customers"),
    );
    if tx.columns().order.is_some() {
        stats_exprs.push(
            col(ORDER_KEY)
                .filter(valid.clone())
                .n_unique()
                .cast(DataType::UInt64)
                .alias("orders"),
        );
    }
    Ok(classified.select(stats_exprs))
}

/// The first value of a count column.
fn first_u64(frame: &DataFrame, name: &str) -> Result<u64> {
    Ok(frame
        .column(name)
        .context(|| name.to_string())?
        .cast(&DataType::UInt64)
        .context(|| name.to_string())?
        .u64()
        .context(|| name.to_string())?
        .get(0)
        .unwrap_or(0))
}

/// Rows and total of one class of amounts (`negative`, `zero`, `positive`).
fn amount_stats(stats: &DataFrame, name: &str) -> Result<AmountStats> {
    let total = stats
        .column(&format!("{name}_total"))
        .context(|| name.to_string())?
        .f64()
        .context(|| name.to_string())?
        .get(0)
        .unwrap_or(0.0);
    Ok(AmountStats {
        rows: first_u64(stats, &format!("{name}_rows"))?,
        total: total / MICROS_PER_UNIT,
    })
}

/// The first value of a timestamp column (microseconds), as a date and time.
fn first_timestamp(stats: &DataFrame, name: &str) -> Result<Option<NaiveDateTime>> {
    let micros = stats
        .column(name)
        .context(|| name.to_string())?
        .cast(&DataType::Int64)
        .context(|| name.to_string())?
        .i64()
        .context(|| name.to_string())?
        .get(0);
    Ok(micros.and_then(|m| chrono::DateTime::from_timestamp_micros(m).map(|d| d.naive_utc())))
}

fn reconcile_only(tx: &Transactions, policy: &RowPolicy) -> Result<RowReconciliation> {
    let counts = customers::status_counts(tx.classify(policy)?)
        .collect()
        .context(|| format!("{}: cannot count rows", tx.source_name()))?;
    customers::reconciliation_from(&counts)
}

fn reject_examples(frame: &DataFrame) -> Result<Vec<RejectExample>> {
    let text = |name: &str| crate::frame::column_text(frame, name);
    let rows: Vec<u64> = frame
        .column("reject_row")
        .context(|| "reject_row".into())?
        .u64()
        .context(|| "reject_row".into())?
        .iter()
        .map(|v| v.unwrap_or(0))
        .collect();
    let (reasons, columns, values) = (
        text("reject_reason")?,
        text("reject_column")?,
        text("reject_value")?,
    );
    Ok((0..rows.len())
        .map(|i| RejectExample {
            row: rows[i],
            reason: reasons[i].clone().unwrap_or_default(),
            column: columns[i].clone().unwrap_or_default(),
            value: values[i].clone(),
        })
        .collect())
}

impl QualityReport {
    /// The report as pretty-printed JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("the report serializes")
    }

    /// The report as human-readable text (Markdown).
    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        let _ = self.render(&mut out);
        out
    }

    fn render(&self, out: &mut String) -> std::fmt::Result {
        writeln!(out, "# Data quality: {}\n", self.source)?;
        writeln!(
            out,
            "Columns: customer id `{}`, timestamp `{}`{}, amount `{}`, order id {}.\n",
            self.columns.customer,
            self.columns.time,
            self.time_format
                .as_ref()
                .map_or(String::new(), |f| format!(" (format `{f}`)")),
            self.columns.amount,
            self.columns
                .order
                .as_ref()
                .map_or("none".to_string(), |o| format!("`{o}`"))
        )?;
        writeln!(out, "## Rows\n")?;
        out.push_str(&rows_markdown(&self.rows));
        writeln!(out, "## Content\n")?;
        writeln!(out, "| check | value |\n| --- | ---: |")?;
        writeln!(
            out,
            "| customers with a used purchase | {} |",
            format_count(self.customers as u64)
        )?;
        writeln!(
            out,
            "| distinct customer ids (valid rows) | {} |",
            format_count(self.distinct_customer_ids)
        )?;
        if let Some(orders) = self.distinct_orders {
            writeln!(
                out,
                "| distinct order ids (valid rows) | {} |",
                format_count(orders)
            )?;
        }
        writeln!(
            out,
            "| fully duplicated rows | {} |",
            format_count(self.duplicate_rows)
        )?;
        for (label, stats) in [
            ("positive", self.positive_amounts),
            ("zero", self.zero_amounts),
            ("negative", self.negative_amounts),
        ] {
            writeln!(
                out,
                "| {label} amounts: rows, total | {}, {} |",
                format_count(stats.rows),
                format_money(stats.total)
            )?;
        }
        let ts = |t: Option<NaiveDateTime>| t.map_or("–".to_string(), |t| t.to_string());
        writeln!(out, "| first timestamp | {} |", ts(self.first_timestamp))?;
        writeln!(out, "| last timestamp | {} |\n", ts(self.last_timestamp))?;
        if !self.reject_examples.is_empty() {
            writeln!(out, "## First rejected rows\n")?;
            writeln!(
                out,
                "| row | reason | column | value |\n| ---: | --- | --- | --- |"
            )?;
            for e in &self.reject_examples {
                writeln!(
                    out,
                    "| {} | {} | {} | {} |",
                    e.row,
                    e.reason,
                    e.column.replace('|', "\\|"),
                    e.value.as_deref().unwrap_or("(empty)").replace('|', "\\|")
                )?;
            }
            writeln!(out)?;
        }
        Ok(())
    }
}
