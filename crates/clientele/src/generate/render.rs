//! Rendering rows: window by window, into CSV bytes or columns, in pieces cut at file bounds.

use std::io::Write;

use chrono::{Datelike, NaiveDate};
use polars::prelude::*;
use rand_distr::Gamma;
use rayon::prelude::*;

pub(super) use crate::output::push_u64;

use super::block::{BlockRows, RowDists, generate_block};
use super::layout::{IdKind, push_customer, push_order, text_ids};
use super::model::Model;
use super::{
    AMOUNT, CUSTOMER_ID, ORDER_DATE, ORDER_ID, SECONDS_PER_DAY, SPEND_CUSTOMER_SHAPE, SPEND_ORDER_SHAPE,
    WINDOW_ROWS,
};

/// What rows become: CSV bytes (with ids of a kind), columns (for Parquet and NDJSON), or the
/// rows themselves (to be put in another order first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Render {
    Csv(IdKind),
    Columns,
    Rows,
}

/// Generated rows as the four columns of [`super::COLUMNS`] (not the input's column names of
/// [`crate::columns::Columns`]).
#[derive(Debug, Default)]
pub(super) struct LogColumns {
    pub(super) customer: Vec<i64>,
    pub(super) order: Vec<i64>,
    pub(super) micros: Vec<i64>,
    pub(super) amount: Vec<f64>,
}

impl LogColumns {
    pub(super) fn with_capacity(n: usize) -> LogColumns {
        LogColumns {
            customer: Vec::with_capacity(n),
            order: Vec::with_capacity(n),
            micros: Vec::with_capacity(n),
            amount: Vec::with_capacity(n),
        }
    }

    pub(super) fn len(&self) -> usize {
        self.customer.len()
    }

    pub(super) fn push(&mut self, row: Row) {
        self.customer.push(row.customer);
        self.order.push(row.order);
        self.micros.push(row.secs * 1_000_000);
        self.amount.push(row.cents as f64 / 100.0);
    }

    /// Keeps the first `at` rows and returns the others.
    pub(super) fn split_off(&mut self, at: usize) -> LogColumns {
        LogColumns {
            customer: self.customer.split_off(at),
            order: self.order.split_off(at),
            micros: self.micros.split_off(at),
            amount: self.amount.split_off(at),
        }
    }

    pub(super) fn append(&mut self, mut other: LogColumns) {
        self.customer.append(&mut other.customer);
        self.order.append(&mut other.order);
        self.micros.append(&mut other.micros);
        self.amount.append(&mut other.amount);
    }

    /// The rows of `rows`, in order.
    pub(super) fn from_rows(rows: &[Row]) -> LogColumns {
        let mut columns = LogColumns::with_capacity(rows.len());
        for row in rows {
            columns.push(*row);
        }
        columns
    }

    /// The log's frame, with ids of the kind `ids`.
    pub(super) fn into_frame(self, ids: IdKind) -> PolarsResult<DataFrame> {
        let height = self.len();
        let id_column = |name: &str, values: Vec<i64>, customer: bool| match ids {
            IdKind::Integer => Column::new(name.into(), values),
            IdKind::Text => Column::new(name.into(), text_ids(&values, customer)),
        };
        DataFrame::new(
            height,
            vec![
                id_column(CUSTOMER_ID, self.customer, true),
                id_column(ORDER_ID, self.order, false),
                Int64Chunked::from_vec(ORDER_DATE.into(), self.micros)
                    .into_datetime(TimeUnit::Microseconds, None)
                    .into_column(),
                Column::new(AMOUNT.into(), self.amount),
            ],
        )
    }
}

#[derive(Debug)]
pub(super) enum PieceData {
    Csv(Vec<u8>),
    Columns(LogColumns),
    Rows(Vec<Row>),
}

/// Consecutive rows that all belong to one output file.
#[derive(Debug)]
pub(super) struct Piece {
    pub(super) file: usize,
    pub(super) rows: u64,
    pub(super) data: PieceData,
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Row {
    pub(super) customer: i64,
    pub(super) order: i64,
    pub(super) secs: i64,
    pub(super) cents: i64,
}

/// Turns a block's sorted orders into rows with global ids.
pub(super) struct Rows<'a> {
    block: &'a BlockRows,
    /// The next order, and the next line within it.
    order: usize,
    line: usize,
    first_customer: u64,
    /// Global id of the block's first order, minus one.
    order_base: u64,
    start_secs: i64,
}

impl Iterator for Rows<'_> {
    type Item = Row;

    fn next(&mut self) -> Option<Row> {
        let order = self.block.orders.get(self.order)?;
        let row = Row {
            customer: (self.first_customer + order.customer() + 1) as i64,
            order: (self.order_base + self.order as u64 + 1) as i64,
            secs: self.start_secs + order.hi as i64,
            cents: self.block.cents[order.first + self.line],
        };
        self.line += 1;
        if self.line == order.lines() {
            self.line = 0;
            self.order += 1;
        }
        Some(row)
    }
}

#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Totals {
    pub(super) orders: u64,
    pub(super) returns: u64,
    pub(super) cents: i64,
}

/// Generates every block, window by window, renders the rows into pieces that do not cross the
/// file `bounds` (global row indices, first 0, last the row count) and hands each window's
/// pieces to `consume` in order. Stops early when `consume` returns false.
pub(super) fn produce<F>(model: &Model, render: Render, bounds: &[u64], mut consume: F) -> Totals
where
    F: FnMut(Vec<Piece>) -> bool,
{
    let dists = RowDists {
        spend_customer: Gamma::new(SPEND_CUSTOMER_SHAPE, 1.0).expect("valid gamma parameters"),
        spend_order: Gamma::new(SPEND_ORDER_SHAPE, 1.0).expect("valid gamma parameters"),
    };
    let max_blocks = 4 * rayon::current_num_threads().max(1);
    let n_blocks = model.blocks.len();
    let mut totals = Totals::default();
    let mut start = 0;
    while start < n_blocks {
        let mut end = start;
        let mut window_rows = 0;
        while end < n_blocks && (end == start || (end - start < max_blocks && window_rows < WINDOW_ROWS)) {
            window_rows += model.blocks[end].rows;
            end += 1;
        }
        let generated: Vec<BlockRows> = (start..end)
            .into_par_iter()
            .map(|b| generate_block(model, &dists, b))
            .collect();
        let mut bases = Vec::with_capacity(generated.len());
        for block in &generated {
            bases.push(totals.orders);
            totals.orders += block.orders.len() as u64;
            totals.returns += block.returns;
            totals.cents += block.cents_total;
        }
        let pieces: Vec<Piece> = generated
            .into_par_iter()
            .zip(bases)
            .enumerate()
            .flat_map_iter(|(i, (rows, base))| render_block(model, start + i, &rows, base, bounds, render))
            .collect();
        if !consume(pieces) {
            break;
        }
        start = end;
    }
    totals
}

pub(super) fn render_block(
    model: &Model,
    block: usize,
    generated: &BlockRows,
    order_base: u64,
    bounds: &[u64],
    render: Render,
) -> Vec<Piece> {
    let offset = model.row_offsets[block];
    let len = generated.cents.len() as u64;
    let mut rows = Rows {
        block: generated,
        order: 0,
        line: 0,
        first_customer: model.blocks[block].first,
        order_base,
        start_secs: model.start_secs,
    };
    let mut pieces = Vec::new();
    let mut file = bounds.partition_point(|&b| b <= offset).saturating_sub(1);
    let mut done = 0u64;
    while done < len {
        let file_end = bounds.get(file + 1).copied().unwrap_or(u64::MAX);
        let n = (len - done).min(file_end - (offset + done));
        let take = usize::try_from(n).unwrap_or(usize::MAX);
        let data = match render {
            Render::Csv(ids) => PieceData::Csv(render_csv(rows.by_ref().take(take), take, ids)),
            Render::Columns => {
                let mut columns = LogColumns::with_capacity(take);
                for row in rows.by_ref().take(take) {
                    columns.push(row);
                }
                PieceData::Columns(columns)
            }
            Render::Rows => PieceData::Rows(rows.by_ref().take(take).collect()),
        };
        pieces.push(Piece { file, rows: n, data });
        done += n;
        file += 1;
    }
    pieces
}

pub(super) fn push_two(buf: &mut Vec<u8>, v: u32) {
    buf.push(b'0' + (v / 10) as u8);
    buf.push(b'0' + (v % 10) as u8);
}

/// `YYYY-MM-DD` of a day number since the Unix epoch (years beyond 0..=9999 as chrono shows them).
pub(super) fn format_day(day: i64, out: &mut Vec<u8>) {
    out.clear();
    let date = i32::try_from(day + 719_163)
        .ok()
        .and_then(NaiveDate::from_num_days_from_ce_opt)
        .unwrap_or_default();
    if (0..=9999).contains(&date.year()) {
        let year = date.year() as u32;
        push_two(out, year / 100);
        push_two(out, year % 100);
        out.push(b'-');
        push_two(out, date.month());
        out.push(b'-');
        push_two(out, date.day());
    } else {
        let _ = write!(out, "{date}");
    }
}

pub(super) fn render_csv(rows: impl Iterator<Item = Row>, n: usize, ids: IdKind) -> Vec<u8> {
    let mut buf = Vec::with_capacity(n * 48);
    let mut current_day = i64::MIN;
    let mut day_text = Vec::with_capacity(16);
    // `customer_id,order_id,order_date,` is shared by the lines of an order.
    let mut current_order = i64::MIN;
    let mut prefix = Vec::with_capacity(64);
    for row in rows {
        if row.order != current_order {
            current_order = row.order;
            prefix.clear();
            push_customer(&mut prefix, row.customer, ids);
            prefix.push(b',');
            push_order(&mut prefix, row.order, ids);
            prefix.push(b',');
            let day = row.secs.div_euclid(SECONDS_PER_DAY);
            if day != current_day {
                current_day = day;
                format_day(day, &mut day_text);
            }
            prefix.extend_from_slice(&day_text);
            prefix.push(b' ');
            let sod = row.secs.rem_euclid(SECONDS_PER_DAY) as u32;
            push_two(&mut prefix, sod / 3600);
            prefix.push(b':');
            push_two(&mut prefix, sod / 60 % 60);
            prefix.push(b':');
            push_two(&mut prefix, sod % 60);
            prefix.push(b',');
        }
        buf.extend_from_slice(&prefix);
        if row.cents < 0 {
            buf.push(b'-');
        }
        let cents = row.cents.unsigned_abs();
        push_u64(&mut buf, cents / 100);
        buf.push(b'.');
        push_two(&mut buf, (cents % 100) as u32);
        buf.push(b'\n');
    }
    buf
}
