//! Rows whose customer id decides their fate: rejected by the first rule, whatever their other
//! values, so the reader rejects them itself instead of leaving them to polars.
//!
//! A blank customer id is [`RejectReason::MissingCustomerId`] and a fractional one
//! [`RejectReason::InvalidCustomerId`]: the first two of [`crate::rows::rules::RULES`], so no
//! other value of the row matters (the plain reader reads only inputs without records that are
//! not rows and without extra checks). Their rejected rows are built here, in the parsing task
//! of their block, with the columns and values [`Transactions::rejected_rows`] gives them.
//!
//! [`Transactions::rejected_rows`]: crate::ingest::Transactions::rejected_rows

use polars::prelude::*;

use super::Settings;
use super::fields::{field_text, next_field};
use crate::rows::RejectReason;
use crate::rows::rules::Reading;

/// The reason a row is rejected for when its customer id decides it.
pub(super) fn customer_rejection(customer: Option<&str>) -> Option<RejectReason> {
    match Reading::of_text_id(customer.unwrap_or("")) {
        Reading::Missing => Some(RejectReason::MissingCustomerId),
        Reading::Invalid => Some(RejectReason::InvalidCustomerId),
        Reading::Read => None,
    }
}

/// The rejected rows of one block, column by column.
pub(super) struct BlockRejects {
    rows: Vec<IdxSize>,
    reasons: Vec<&'static str>,
    values: StringChunkedBuilder,
    fields: Vec<StringChunkedBuilder>,
}

impl BlockRejects {
    /// Rejected rows with the columns `names`.
    pub(super) fn new(names: &[String]) -> Self {
        BlockRejects {
            rows: Vec::new(),
            reasons: Vec::new(),
            values: StringChunkedBuilder::new("reject_value".into(), 0),
            fields: names
                .iter()
                .map(|name| StringChunkedBuilder::new(name.into(), 0))
                .collect(),
        }
    }

    /// Adds the row (0-based in the block) at `start`, rejected for `reason` with the
    /// customer id `value`.
    pub(super) fn push(
        &mut self,
        row: u64,
        reason: RejectReason,
        value: Option<&str>,
        text: &str,
        start: usize,
        settings: &Settings,
    ) -> std::result::Result<(), String> {
        let bytes = text.as_bytes();
        let mut pos = start;
        for column in &mut self.fields {
            let field = next_field(bytes, pos, settings)?;
            let value = field_text(text, &field, settings.quote);
            column.append_option((!value.is_empty()).then_some(value));
            pos = field.next;
        }
        self.rows.push(row as IdxSize);
        self.reasons.push(reason.as_str());
        self.values.append_option(value.filter(|v| !v.is_empty()));
        Ok(())
    }

    /// The rejected rows as [`crate::ingest::Transactions::rejected_rows`] has them, numbered
    /// within the block (0-based; see [`number_from`]).
    pub(super) fn frame(self, customer: &str) -> PolarsResult<DataFrame> {
        let n = self.rows.len();
        let mut columns = vec![
            Column::new("reject_row".into(), self.rows),
            Column::new("reject_reason".into(), self.reasons),
            Column::new("reject_column".into(), vec![customer; n]),
            self.values.finish().into_column(),
        ];
        columns.extend(self.fields.into_iter().map(|b| b.finish().into_column()));
        DataFrame::new(n, columns)
    }
}

/// Numbers a block's rejected rows in the input: 1-based, after `rows_before` rows.
pub(super) fn number_from(frame: &mut DataFrame, rows_before: u64) -> PolarsResult<()> {
    let shifted = frame.column("reject_row")?.idx()? + (rows_before + 1) as IdxSize;
    frame.with_column(shifted.into_series().into_column())?;
    Ok(())
}
