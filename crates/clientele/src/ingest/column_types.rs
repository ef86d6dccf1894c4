//! The types of an input's resolved columns: checked once when it is opened, and how the
//! timestamp column is read (native, or text in a format given or detected from a sample).

use polars::prelude::*;

use super::{TimeParsing, TimeResolution, Transactions, is_id_type, read_error, time};
use crate::columns::AmountColumns;
use crate::error::{Error, PolarsContext, Result};

impl Transactions {
    fn type_error(&self, column: &str, role: &'static str) -> Error {
        Error::ColumnType {
            source_name: self.source_name.clone(),
            column: column.to_string(),
            role,
            dtype: self.dtype(column).to_string(),
        }
    }

    pub(super) fn check_types(&self) -> Result<()> {
        let c = &self.columns;
        if !is_id_type(self.dtype(&c.customer)) {
            return Err(self.type_error(&c.customer, "customer id"));
        }
        if let Some(order) = &c.order
            && !is_id_type(self.dtype(order))
        {
            return Err(self.type_error(order, "order id"));
        }
        let time_ok = matches!(
            self.dtype(&c.time),
            DataType::String | DataType::Date | DataType::Datetime(..)
        ) || self.dtype(&c.time).is_integer();
        if !time_ok {
            return Err(self.type_error(&c.time, "timestamp"));
        }
        let numbers: Vec<(&String, &'static str)> = match &c.amount {
            AmountColumns::Amount(a) => vec![(a, "amount")],
            AmountColumns::QuantityTimesPrice { quantity, price } => {
                vec![(quantity, "quantity"), (price, "unit price")]
            }
        };
        for (column, role) in numbers {
            let dtype = self.dtype(column);
            if !(dtype == &DataType::String || dtype.is_primitive_numeric() || dtype.is_decimal()) {
                return Err(self.type_error(column, role));
            }
        }
        Ok(())
    }

    pub(super) fn settle_time_format(&self, given: Option<&str>) -> Result<TimeParsing> {
        let column = &self.columns.time;
        match self.dtype(column) {
            DataType::Date => {
                return Ok(TimeParsing {
                    format: None,
                    detected: false,
                    resolution: TimeResolution::Date,
                });
            }
            DataType::Datetime(..) => {
                return Ok(TimeParsing {
                    format: None,
                    detected: false,
                    resolution: TimeResolution::DateTime,
                });
            }
            _ => {}
        }
        let values = self.time_sample()?;
        let time_error = |detail: String| Error::TimeFormat {
            source_name: self.source_name.clone(),
            column: column.clone(),
            detail,
        };
        let (format, detected) = match given {
            Some(format) => {
                if let Some(first) = values.first()
                    && !values.iter().any(|v| time::parses(v, format))
                {
                    return Err(time_error(format!(
                        "no sampled value fits --time-format {format:?} (first value: {})",
                        crate::format::quote(first)
                    )));
                }
                (format.to_string(), false)
            }
            None => (
                time::detect_format(&values)
                    .map_err(|e| time_error(e.to_string()))?
                    .to_string(),
                true,
            ),
        };
        Ok(TimeParsing {
            resolution: time::resolution_of(&format),
            format: Some(format),
            detected,
        })
    }

    /// Up to [`time::SAMPLE_SIZE`] non-empty values of the timestamp column, as text.
    fn time_sample(&self) -> Result<Vec<String>> {
        let column = &self.columns.time;
        // The sample comes from the first rows: a filter before the limit would make polars
        // read (and strip) the whole column of a CSV input, in memory. Only when the first rows
        // hold too few timestamps is the rest scanned, streaming.
        let sample_of = |frame: LazyFrame| {
            frame
                .select([col(column.as_str())
                    .cast(DataType::String)
                    .str()
                    .strip_chars(lit(NULL))])
                .filter(
                    col(column.as_str())
                        .is_not_null()
                        .and(col(column.as_str()).neq(lit(""))),
                )
                .limit(time::SAMPLE_SIZE as IdxSize)
        };
        // The first rows first: for a plain CSV input opened with its head checked only (see
        // `ingest/reading.rs`), these are the checked rows; more rows need the whole check.
        let error = |e| read_error(&self.source_name, "a sample of the timestamp column", e);
        let head = time::HEAD_SAMPLE_ROWS as IdxSize;
        let mut sample = sample_of(self.reading.raw.clone().limit(head))
            .collect()
            .map_err(error)?;
        if sample.height() < time::SAMPLE_SIZE {
            let head_rows = (time::SAMPLE_SIZE * 100) as IdxSize;
            sample = sample_of(self.raw()?.limit(head_rows)).collect().map_err(error)?;
        }
        if sample.height() < time::SAMPLE_SIZE {
            sample = sample_of(self.raw()?)
                .collect_with_engine(Engine::Streaming)
                .map(|r| r.unwrap_single())
                .map_err(error)?;
        }
        Ok(sample
            .column(column)
            .context(|| "sample".into())?
            .str()
            .context(|| "sample".into())?
            .iter()
            .flatten()
            .map(str::to_string)
            .collect())
    }

    /// `(timestamp, missing, unparsable)` for a timestamp column read like the time column:
    /// native dates and date-times as they are (time zones dropped), text with the format
    /// detected or given for the time column.
    pub(crate) fn time_exprs(&self, name: &str) -> (Expr, Expr, Expr) {
        let time_raw = col(name);
        match (&self.time.format, self.dtype(name)) {
            (None, DataType::Date) => (
                time_raw
                    .clone()
                    .cast(DataType::Datetime(TimeUnit::Microseconds, None)),
                time_raw.is_null(),
                lit(false),
            ),
            (None, DataType::Datetime(_, tz)) => {
                let naive = match tz {
                    Some(_) => {
                        time_raw
                            .clone()
                            .dt()
                            .replace_time_zone(None, lit("raise"), NonExistent::Raise)
                    }
                    None => time_raw.clone(),
                };
                (
                    naive.cast(DataType::Datetime(TimeUnit::Microseconds, None)),
                    time_raw.is_null(),
                    lit(false),
                )
            }
            (format, _) => {
                let Some(format) = format.as_deref() else {
                    // A column of another type than the time column's: unreadable as a time.
                    return (
                        lit(NULL).cast(DataType::Datetime(TimeUnit::Microseconds, None)),
                        time_raw.clone().is_null(),
                        time_raw.is_not_null(),
                    );
                };
                let text = time_raw.cast(DataType::String).str().strip_chars(lit(NULL));
                let missing = text.clone().is_null().or(text.clone().eq(lit("")));
                let parsed = time::parse_expr(text, format);
                (
                    parsed.clone(),
                    missing.clone(),
                    missing.not().and(parsed.is_null()),
                )
            }
        }
    }
}
