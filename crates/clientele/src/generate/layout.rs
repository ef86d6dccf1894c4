//! How a generated log is laid out: the order of its rows, the type of its ids and, for
//! Parquet, the compression and row-group size. The same customers, orders and amounts in
//! every layout; benchmarks use layouts to measure on data shaped like other people's exports
//! (`benches/compare/shapes.sh`).
//!
//! ```
//! use clientele::generate::{GenerateParams, IdKind, Layout, RowOrder, generate_frame};
//!
//! let layout = Layout { order: RowOrder::Time, ids: IdKind::Text, ..Layout::default() };
//! let params = GenerateParams::new(100, 1_000).layout(layout).check()?;
//! let log = generate_frame(&params)?;
//! let dates = log.column("order_date")?.datetime()?.physical().clone();
//! assert!(dates.into_no_null_iter().is_sorted());
//! assert!(log.column("customer_id")?.str()?.get(0).unwrap().starts_with('C'));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use polars::prelude::ParquetCompression;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;
use rayon::prelude::*;

use super::render::{Row, push_u64};

/// The order of a log's rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RowOrder {
    /// Customers in blocks of consecutive ids (a few thousand customers each), each block's
    /// rows by date: the generator's own, streaming order, in bounded memory.
    #[default]
    Blocks,
    /// The whole log by date, as an export of a live system would be, with order ids
    /// renumbered so that they increase with time.
    Time,
    /// By customer id, then date: an export sorted by customer.
    Customer,
    /// A random permutation of the rows (from the seed).
    Shuffled,
}

/// The type of customer and order ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IdKind {
    /// 64-bit integers 1, 2, ...
    #[default]
    Integer,
    /// Text: `C` and nine digits for customers (`C000000042`), `O` and eleven for orders.
    Text,
}

/// The compression of a generated Parquet log's pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ParquetCodec {
    /// zstd at its default level.
    #[default]
    Zstd,
    /// Snappy (what Spark and pandas write by default).
    Snappy,
    /// No compression.
    Uncompressed,
}

impl ParquetCodec {
    pub(super) fn compression(self) -> ParquetCompression {
        match self {
            ParquetCodec::Zstd => ParquetCompression::Zstd(None),
            ParquetCodec::Snappy => ParquetCompression::Snappy,
            ParquetCodec::Uncompressed => ParquetCompression::Uncompressed,
        }
    }
}

/// Rows per Parquet row group by default (the last one of a file may be smaller).
pub const DEFAULT_ROW_GROUP_ROWS: usize = 1 << 19;

/// The layout of a generated log (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// Row order.
    pub order: RowOrder,
    /// Id type.
    pub ids: IdKind,
    /// Parquet compression.
    pub codec: ParquetCodec,
    /// Rows per Parquet row group.
    pub row_group_rows: usize,
}

impl Default for Layout {
    fn default() -> Self {
        Layout {
            order: RowOrder::Blocks,
            ids: IdKind::Integer,
            codec: ParquetCodec::Zstd,
            row_group_rows: DEFAULT_ROW_GROUP_ROWS,
        }
    }
}

/// Puts the rows (in the generator's block order) in `order`. Sorts are stable, so the lines
/// of an order keep their sequence; the permutation of [`RowOrder::Shuffled`] comes from
/// `seed` alone.
pub(super) fn reorder(rows: &mut [Row], order: RowOrder, seed: u64) {
    match order {
        RowOrder::Blocks => {}
        RowOrder::Time => {
            rows.par_sort_by_key(|r| (r.secs, r.order));
            renumber_orders(rows);
        }
        RowOrder::Customer => rows.par_sort_by_key(|r| (r.customer, r.secs, r.order)),
        RowOrder::Shuffled => {
            let mut rng = Pcg64Mcg::seed_from_u64(seed ^ 0x5348_5546_464c_4544);
            // Burn one draw so the stream differs from the model's streams of the same seed.
            let _: u64 = rng.random();
            rows.shuffle(&mut rng);
        }
    }
}

/// Order ids 1, 2, ... in order of first appearance. The lines of an order are adjacent in a
/// log sorted by date and order id, so a new id starts wherever the id changes.
fn renumber_orders(rows: &mut [Row]) {
    let mut previous = None;
    let mut next = 0i64;
    for row in rows {
        if previous != Some(row.order) {
            previous = Some(row.order);
            next += 1;
        }
        row.order = next;
    }
}

/// Appends a customer id in `ids`' form.
pub(super) fn push_customer(out: &mut Vec<u8>, id: i64, ids: IdKind) {
    push_id(out, id, ids, b'C', 9);
}

/// Appends an order id in `ids`' form.
pub(super) fn push_order(out: &mut Vec<u8>, id: i64, ids: IdKind) {
    push_id(out, id, ids, b'O', 11);
}

fn push_id(out: &mut Vec<u8>, id: i64, ids: IdKind, prefix: u8, width: usize) {
    let id = id as u64;
    if ids == IdKind::Text {
        out.push(prefix);
        let digits = if id == 0 { 1 } else { id.ilog10() as usize + 1 };
        out.extend(std::iter::repeat_n(b'0', width.saturating_sub(digits)));
    }
    push_u64(out, id);
}

/// A text id column's values (see [`IdKind::Text`]).
pub(super) fn text_ids(ids: &[i64], customer: bool) -> Vec<String> {
    ids.par_iter()
        .map(|id| {
            let mut out = Vec::with_capacity(12);
            match customer {
                true => push_customer(&mut out, *id, IdKind::Text),
                false => push_order(&mut out, *id, IdKind::Text),
            }
            String::from_utf8(out).expect("ids are ASCII")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(customer: i64, order: i64, secs: i64, cents: i64) -> Row {
        Row {
            customer,
            order,
            secs,
            cents,
        }
    }

    #[test]
    fn time_order_renumbers_orders_by_first_appearance() {
        let mut rows = vec![
            row(1, 1, 50, 10),
            row(1, 1, 50, 11),
            row(1, 2, 10, 12),
            row(2, 3, 30, 13),
            row(2, 3, 30, 14),
        ];
        reorder(&mut rows, RowOrder::Time, 0);
        let got: Vec<(i64, i64, i64)> = rows.iter().map(|r| (r.order, r.secs, r.cents)).collect();
        assert_eq!(
            got,
            [(1, 10, 12), (2, 30, 13), (2, 30, 14), (3, 50, 10), (3, 50, 11)]
        );
    }

    #[test]
    fn customer_order_and_shuffle() {
        let rows: Vec<Row> = (0..100).map(|i| row(i % 7, i, 1000 - i, i)).collect();
        let mut by_customer = rows.clone();
        reorder(&mut by_customer, RowOrder::Customer, 0);
        assert!(by_customer.is_sorted_by_key(|r| (r.customer, r.secs)));
        let (mut a, mut b) = (rows.clone(), rows.clone());
        reorder(&mut a, RowOrder::Shuffled, 5);
        reorder(&mut b, RowOrder::Shuffled, 5);
        let cents = |rows: &[Row]| rows.iter().map(|r| r.cents).collect::<Vec<_>>();
        assert_eq!(cents(&a), cents(&b), "the seed decides the permutation");
        assert_ne!(cents(&a), cents(&rows));
        let mut sorted = cents(&a);
        sorted.sort();
        assert_eq!(sorted, cents(&rows), "a permutation");
    }

    #[test]
    fn text_ids_are_padded_and_prefixed() {
        let mut out = Vec::new();
        push_customer(&mut out, 42, IdKind::Text);
        out.push(b',');
        push_order(&mut out, 7, IdKind::Text);
        out.push(b',');
        push_customer(&mut out, 42, IdKind::Integer);
        assert_eq!(out, b"C000000042,O00000000007,42");
        assert_eq!(text_ids(&[1_234_567_890], true), ["C1234567890"]);
    }
}
