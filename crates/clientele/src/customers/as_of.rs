//! The as-of date's inputs: the customers' purchase date range, and the warning when the
//! latest purchase, which sets the default as-of date, lies far beyond the rest of the data.
//! Both read the customers' purchase timestamps once, in parallel (they were four sequential
//! scans and a lazy query).

use std::borrow::Cow;

use chrono::NaiveDate;
use polars::prelude::*;
use rayon::prelude::*;

use crate::error::{PolarsContext, Result};
use crate::ingest::Transactions;
use crate::rows::RowPolicy;
use crate::rows::rules::{MICROS_PER_DAY, date_of_epoch_day as day};

/// A column of the customer table's purchase timestamps as microseconds since the epoch.
pub(super) fn timestamps(buyers: &DataFrame, name: &str) -> Result<Int64Chunked> {
    let micros = buyers
        .column(name)
        .and_then(|c| c.cast(&DataType::Datetime(TimeUnit::Microseconds, None)))
        .context(|| format!("column {name}"))?;
    Ok(micros
        .datetime()
        .context(|| format!("column {name}"))?
        .physical()
        .clone())
}

/// The smallest and largest timestamp (nulls left out): ranges of values in parallel.
pub(super) fn extremes(values: &Int64Chunked) -> Option<(i64, i64)> {
    let both = |a: (i64, i64), b: (i64, i64)| (a.0.min(b.0), a.1.max(b.1));
    let (lo, hi) = match values.cont_slice() {
        Ok(values) => values
            .par_chunks(1 << 16)
            .map(|values| {
                values
                    .iter()
                    .fold((i64::MAX, i64::MIN), |acc, v| both(acc, (*v, *v)))
            })
            .reduce(|| (i64::MAX, i64::MIN), both),
        Err(_) => (values.min()?, values.max()?),
    };
    (lo <= hi).then_some((lo, hi))
}

/// The dates of the earliest first purchase and the latest last purchase, from the
/// [`extremes`] of the first and last purchases.
pub(super) fn date_range(
    first: Option<(i64, i64)>,
    last: Option<(i64, i64)>,
) -> Option<(NaiveDate, NaiveDate)> {
    Some((
        day(first?.0.div_euclid(MICROS_PER_DAY)),
        day(last?.1.div_euclid(MICROS_PER_DAY)),
    ))
}

/// How many days the latest purchase may lie beyond the rest of the data before clientele
/// warns that it moves the default as-of date (docs/definitions.md, the as-of date).
pub const LATE_OUTLIER_DAYS: i64 = 365;

/// A warning when the latest purchase date, which sets the default as-of date, lies far beyond
/// the rest of the data (one row dated 9999-12-31 among 2023 data), naming its row and value.
///
/// With the customers' last purchase dates sorted, d₁ ≤ … ≤ dₙ, and m = min(⌈0.999·n⌉, n − 1)
/// (every customer but the latest, up to 0.1 % of them, is "the rest"): the warning is due when
/// dₙ − dₘ > [`LATE_OUTLIER_DAYS`]. It needs only the per-customer dates already computed; the
/// input is read again, for the row, only when the warning is due.
///
/// `last` holds the customers' last purchases ([`timestamps`]), `range` their [`extremes`].
pub(super) fn late_outlier_note(
    source: &Transactions,
    policy: &RowPolicy,
    last: &Int64Chunked,
    range: Option<(i64, i64)>,
    as_of: NaiveDate,
) -> Result<Option<String>> {
    let n = last.len() - last.null_count();
    let Some((earliest_ts, latest_ts)) = range.filter(|_| n >= 2) else {
        return Ok(None);
    };
    let latest = latest_ts.div_euclid(MICROS_PER_DAY);
    let earliest = earliest_ts.div_euclid(MICROS_PER_DAY);
    let m = (999 * n).div_ceil(1000).min(n - 1);
    let values: Cow<'_, [i64]> = match last.cont_slice() {
        Ok(values) => Cow::Borrowed(values),
        Err(_) => Cow::Owned(last.iter().flatten().collect()),
    };
    let reference = mth_smallest_day(&values, m, (earliest, latest));
    let gap = latest - reference;
    if gap <= LATE_OUTLIER_DAYS {
        return Ok(None);
    }
    let what = match source.used_row_at(policy, latest_ts)? {
        Some((row, value)) => format!("row {row}, dated {}", crate::format::quote(&value)),
        None => format!("a purchase dated {}", day(latest)),
    };
    let others = match n - m {
        1 => "every other customer".to_string(),
        k => format!("all customers but the latest {k}"),
    };
    let note = format!(
        "{what}, is {} days after the last purchase of {others} (at the latest {}) and sets the \
         as-of date to {as_of}; if that date is wrong, fix it or pass --as-of",
        crate::format::format_count(gap as u64),
        day(reference)
    );
    log::warn!("{}: {note}", source.source_name());
    Ok(Some(note))
}

/// The `m`-th smallest (1-based) day of the timestamps `values`, whose days span
/// `earliest..=latest`: counted by day when they span less than `COUNTED_DAYS` (ranges of
/// values counted in parallel, no copy of millions of days), selected otherwise.
fn mth_smallest_day(values: &[i64], m: usize, (earliest, latest): (i64, i64)) -> i64 {
    const COUNTED_DAYS: i64 = 1 << 20;
    let day = |ts: &i64| ts.div_euclid(MICROS_PER_DAY);
    if latest - earliest < COUNTED_DAYS {
        let span = (latest - earliest + 1) as usize;
        let per_task = values.len().div_ceil(rayon::current_num_threads()).max(1 << 16);
        let counts = values
            .par_chunks(per_task)
            .map(|values| {
                let mut counts = vec![0usize; span];
                for ts in values {
                    counts[(day(ts) - earliest) as usize] += 1;
                }
                counts
            })
            .reduce_with(|mut all, more| {
                all.iter_mut().zip(more).for_each(|(a, b)| *a += b);
                all
            })
            .unwrap_or_default();
        let mut seen = 0;
        for (offset, count) in counts.iter().enumerate() {
            seen += count;
            if seen >= m {
                return earliest + offset as i64;
            }
        }
    }
    let mut all: Vec<i64> = values.iter().map(day).collect();
    *all.select_nth_unstable(m - 1).1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mth_smallest_day_is_counted_or_selected_alike() {
        for days in [
            vec![5i64, 3, 3, 9, 3, 7, 7, 1],
            vec![-4, 2_000_000, 17, 17, -4, 0, 3_000_000],
        ] {
            let (earliest, latest) = (*days.iter().min().unwrap(), *days.iter().max().unwrap());
            let mut sorted = days.clone();
            sorted.sort_unstable();
            for m in 1..=days.len() {
                let micros: Vec<i64> = days.iter().map(|d| d * MICROS_PER_DAY + 1).collect();
                let found = mth_smallest_day(&micros, m, (earliest, latest));
                assert_eq!(found, sorted[m - 1], "{days:?}, m = {m}");
            }
        }
    }
}
