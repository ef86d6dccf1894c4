//! One streaming pass from classified rows to per-customer accumulators.
//!
//! polars reads, parses and classifies the rows in parallel and hands them over in batches;
//! this accumulator keeps, per customer, the sums and extremes in flat vectors (about 60 bytes
//! per customer) and counts row statuses. Distinct purchase orders are the only part that
//! needs memory beyond customers: each `(customer, order)` pair is stored once in 8 or 16
//! bytes (a row repeating its customer's current order stores nothing), and the pairs are
//! counted per customer by an in-place sort at the end. A polars group-by needs about ten
//! times more per pair, which is why this is not a `group_by`.
//!
//! Order ids are compared exactly when they are integers (or days, without an order column)
//! or text of at most 8 bytes; longer text ids are compared by their 64-bit xxh3 hash, so two
//! different long ids of one customer could count as one order with a chance of about
//! m²/2⁶⁵ for a customer with m orders (below 10⁻¹⁰ for m < 100,000).

use std::sync::{Arc, Mutex};

use polars::prelude::*;

use crate::error::{PolarsContext, Result};
use crate::ingest::col_names::{AMOUNT_MICROS, CUSTOMER_ID, ORDER_KEY, STATUS, TS};
use crate::rows::RowStatus;

/// Customer ids, mapped to dense indices in order of first appearance.
enum Ids {
    Int(IntIds, Vec<i64>),
    Text(PlHashMap<Box<str>, u32>, Vec<Box<str>>),
}

/// Integer ids → indices. Small non-negative ids (the usual 1..n) index a vector directly,
/// which needs no hashing and a few bytes per id; the others go to a hash map. The vector may
/// cover up to four slots per customer seen (at least 2^20), so sparse ids cannot blow it up.
#[derive(Default)]
struct IntIds {
    direct: Vec<u32>,
    map: PlHashMap<i64, u32>,
}

const ABSENT: u32 = u32::MAX;

impl IntIds {
    fn get(&self, id: i64) -> Option<u32> {
        match usize::try_from(id) {
            Ok(slot) if slot < self.direct.len() && self.direct[slot] != ABSENT => Some(self.direct[slot]),
            _ => self.map.get(&id).copied(),
        }
    }

    fn insert(&mut self, id: i64, index: u32, customers: usize) {
        match usize::try_from(id) {
            Ok(slot) if slot < (4 * customers).max(1 << 20) => {
                if slot >= self.direct.len() {
                    let len = (slot + 1).max(self.direct.len() * 3 / 2);
                    self.direct.resize(len, ABSENT);
                }
                self.direct[slot] = index;
            }
            _ => {
                self.map.insert(id, index);
            }
        }
    }
}

/// `(customer index, order key)` pairs, packed into one `u64` while both fit 32 bits.
enum Pairs {
    Packed(Vec<u64>),
    Wide(Vec<(u32, u64)>),
}

impl Pairs {
    fn push(&mut self, customer: u32, order: u64) {
        match self {
            Pairs::Packed(v) if order <= u32::MAX as u64 => v.push(((customer as u64) << 32) | order),
            Pairs::Packed(v) => {
                let wide = v.iter().map(|p| ((p >> 32) as u32, p & 0xFFFF_FFFF)).collect();
                *self = Pairs::Wide(wide);
                self.push(customer, order);
            }
            Pairs::Wide(v) => v.push((customer, order)),
        }
    }

    /// Distinct orders per customer index.
    fn count_distinct(self, customers: usize) -> Vec<i64> {
        let mut counts = vec![0i64; customers];
        match self {
            Pairs::Packed(mut v) => {
                v.sort_unstable();
                v.dedup();
                for p in v {
                    counts[(p >> 32) as usize] += 1;
                }
            }
            Pairs::Wide(mut v) => {
                v.sort_unstable();
                v.dedup();
                for (c, _) in v {
                    counts[c as usize] += 1;
                }
            }
        }
        counts
    }
}

/// The running state of one aggregation.
pub(crate) struct Accumulator {
    ids: Ids,
    first_ts: Vec<i64>,
    last_ts: Vec<i64>,
    net: Vec<i64>,
    gross: Vec<i64>,
    returned: Vec<i64>,
    rows: Vec<i64>,
    /// The order of each customer's latest purchase line, to skip repeats cheaply.
    last_order: Vec<u64>,
    pairs: Pairs,
    status_counts: [u64; 256],
}

const NO_ORDER: u64 = u64::MAX;

impl Accumulator {
    pub(crate) fn new(text_ids: bool) -> Self {
        Accumulator {
            ids: if text_ids {
                Ids::Text(PlHashMap::default(), Vec::new())
            } else {
                Ids::Int(IntIds::default(), Vec::new())
            },
            first_ts: Vec::new(),
            last_ts: Vec::new(),
            net: Vec::new(),
            gross: Vec::new(),
            returned: Vec::new(),
            rows: Vec::new(),
            last_order: Vec::new(),
            pairs: Pairs::Packed(Vec::new()),
            status_counts: [0; 256],
        }
    }

    fn new_customer(&mut self) -> u32 {
        self.first_ts.push(i64::MAX);
        self.last_ts.push(i64::MIN);
        self.net.push(0);
        self.gross.push(0);
        self.returned.push(0);
        self.rows.push(0);
        self.last_order.push(NO_ORDER);
        (self.rows.len() - 1) as u32
    }

    /// Adds one batch of classified rows (`customer_id, ts, amount_micros, order_key, status`).
    pub(crate) fn add(&mut self, batch: &DataFrame) -> PolarsResult<()> {
        let status = batch.column(STATUS)?.u8()?;
        for s in status.iter() {
            self.status_counts[s.unwrap_or(u8::MAX) as usize] += 1;
        }
        let used = status.equal(RowStatus::Used.code());
        if !used.any() {
            return Ok(());
        }
        let batch = batch.filter(&used)?;
        let customer = batch.column(CUSTOMER_ID)?.as_materialized_series().clone();
        let ts = batch.column(TS)?.datetime()?.physical().clone();
        let amount = batch.column(AMOUNT_MICROS)?.i64()?.clone();
        let orders = order_keys(batch.column(ORDER_KEY)?)?;
        let indices = self.indices(&customer)?;
        for (((c, t), a), o) in indices.into_iter().zip(ts.iter()).zip(amount.iter()).zip(orders) {
            let (Some(t), Some(a)) = (t, a) else { continue };
            let c = c as usize;
            self.rows[c] += 1;
            self.net[c] += a;
            if a > 0 {
                self.gross[c] += a;
            } else if a < 0 {
                self.returned[c] -= a;
            }
            if a >= 0 {
                self.first_ts[c] = self.first_ts[c].min(t);
                self.last_ts[c] = self.last_ts[c].max(t);
                if self.last_order[c] != o {
                    self.last_order[c] = o;
                    self.pairs.push(c as u32, o);
                }
            }
        }
        Ok(())
    }

    fn indices(&mut self, customer: &Series) -> PolarsResult<Vec<u32>> {
        let mut out = Vec::with_capacity(customer.len());
        match &mut self.ids {
            Ids::Int(_, _) => {
                let ids = customer.cast(&DataType::Int64)?;
                for id in ids.i64()?.iter() {
                    let id = id.expect("used rows have a customer id");
                    let index = match &self.ids {
                        Ids::Int(ids, _) => ids.get(id),
                        Ids::Text(..) => unreachable!(),
                    };
                    let index = match index {
                        Some(i) => i,
                        None => {
                            let i = self.new_customer();
                            if let Ids::Int(ids, list) = &mut self.ids {
                                ids.insert(id, i, list.len() + 1);
                                list.push(id);
                            }
                            i
                        }
                    };
                    out.push(index);
                }
            }
            Ids::Text(_, _) => {
                for id in customer.str()?.iter() {
                    let id = id.expect("used rows have a customer id");
                    let index = match &mut self.ids {
                        Ids::Text(map, _) => map.get(id).copied(),
                        Ids::Int(..) => unreachable!(),
                    };
                    let index = match index {
                        Some(i) => i,
                        None => {
                            let i = self.new_customer();
                            if let Ids::Text(map, list) = &mut self.ids {
                                map.insert(id.into(), i);
                                list.push(id.into());
                            }
                            i
                        }
                    };
                    out.push(index);
                }
            }
        }
        Ok(out)
    }

    /// Status code → rows.
    pub(crate) fn status_counts(&self) -> impl Iterator<Item = (u8, u64)> + '_ {
        self.status_counts
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(code, n)| (code as u8, *n))
    }

    /// The customer-level frame: `customer_id, first_ts, last_ts, frequency, net_micros,
    /// gross_micros, returned_micros, transactions`, as [`super::customer_level`] gives it, but
    /// already sorted by customer id, with text ids that are all canonical integers converted
    /// (see [`super::integer_ids_if_lossless`]). Built column by column in sorted order, without
    /// an intermediate frame.
    pub(crate) fn finish(self, id_dtype: &DataType) -> Result<DataFrame> {
        // Each state vector is released as soon as its column is built, and the id map and the
        // order pairs before any: peak memory stays near the state's own size.
        let Accumulator {
            ids,
            first_ts,
            last_ts,
            net,
            gross,
            returned,
            rows,
            last_order,
            pairs,
            status_counts: _,
        } = self;
        drop(last_order);
        let n = rows.len();
        let frequency = pairs.count_distinct(n);
        let ids = match ids {
            Ids::Int(map, list) => {
                drop(map);
                Ids::Int(IntIds::default(), list)
            }
            Ids::Text(map, list) => {
                drop(map);
                Ids::Text(PlHashMap::default(), list)
            }
        };
        let (order, id_column) = match ids {
            Ids::Int(_, list) => {
                let order = sorted_order(&list);
                let ids: Vec<i64> = order.iter().map(|i| list[*i as usize]).collect();
                let column = Column::new(CUSTOMER_ID.into(), ids)
                    .cast(id_dtype)
                    .context(|| "customer ids".into())?;
                (order, column)
            }
            Ids::Text(_, list) => {
                let integers: Option<Vec<i64>> = list.iter().map(|s| super::canonical_integer(s)).collect();
                match integers {
                    Some(ints) => {
                        let order = sorted_order(&ints);
                        let ids: Vec<i64> = order.iter().map(|i| ints[*i as usize]).collect();
                        (order, Column::new(CUSTOMER_ID.into(), ids))
                    }
                    None => {
                        let order = sorted_order(&list);
                        let ids: Vec<&str> = order.iter().map(|i| list[*i as usize].as_ref()).collect();
                        (order, Column::new(CUSTOMER_ID.into(), ids))
                    }
                }
            }
        };
        let gather = |values: Vec<i64>| -> Vec<i64> { order.iter().map(|i| values[*i as usize]).collect() };
        let timestamps = |name: &str, values: Vec<i64>, none: i64| -> Result<Column> {
            let ca: Int64Chunked = order
                .iter()
                .map(|i| values[*i as usize])
                .map(|v| (v != none).then_some(v))
                .collect();
            Column::new(name.into(), ca.into_series())
                .cast(&DataType::Datetime(TimeUnit::Microseconds, None))
                .context(|| "purchase timestamps".into())
        };
        DataFrame::new(
            n,
            vec![
                id_column,
                timestamps("first_ts", first_ts, i64::MAX)?,
                timestamps("last_ts", last_ts, i64::MIN)?,
                Column::new(super::col_names::FREQUENCY.into(), gather(frequency)),
                Column::new("net_micros".into(), gather(net)),
                Column::new("gross_micros".into(), gather(gross)),
                Column::new("returned_micros".into(), gather(returned)),
                Column::new(super::col_names::TRANSACTIONS.into(), gather(rows)),
            ],
        )
        .context(|| "building the customer table".into())
    }
}

/// Indices that sort `values` ascending (stable; ids are distinct anyway).
fn sorted_order<T: Ord>(values: &[T]) -> Vec<u32> {
    let mut order: Vec<u32> = (0..values.len() as u32).collect();
    order.sort_by(|a, b| values[*a as usize].cmp(&values[*b as usize]));
    order
}

/// Order keys as `u64`: integers as they are (two's complement), text exactly when at most 8
/// bytes (packed), otherwise by xxh3.
fn order_keys(column: &Column) -> PolarsResult<Vec<u64>> {
    let series = column.as_materialized_series();
    match series.dtype() {
        DataType::String => Ok(series
            .str()?
            .iter()
            .map(|v| v.map_or(NO_ORDER - 1, text_key))
            .collect()),
        _ => Ok(series
            .cast(&DataType::Int64)?
            .i64()?
            .iter()
            .map(|v| v.map_or(NO_ORDER - 1, |x| x as u64))
            .collect()),
    }
}

fn text_key(text: &str) -> u64 {
    let bytes = text.as_bytes();
    if bytes.len() <= 8 && !bytes.contains(&0) {
        let mut packed = [0u8; 8];
        packed[..bytes.len()].copy_from_slice(bytes);
        u64::from_le_bytes(packed)
    } else {
        xxhash_rust::xxh3::xxh3_64(bytes)
    }
}

/// Streams `classified` through an accumulator with polars' streaming engine.
pub(crate) fn accumulate(classified: LazyFrame, text_ids: bool) -> PolarsResult<Accumulator> {
    let state = Arc::new(Mutex::new(Accumulator::new(text_ids)));
    let sink_state = Arc::clone(&state);
    let callback = PlanCallback::new(move |batch: DataFrame| {
        let mut acc = sink_state.lock().expect("the accumulator lock is never poisoned");
        acc.add(&batch)?;
        Ok(false)
    });
    classified
        .select([
            col(CUSTOMER_ID),
            col(TS),
            col(AMOUNT_MICROS),
            col(ORDER_KEY),
            col(STATUS),
        ])
        .sink_batches(callback, false, None)?
        .collect_with_engine(Engine::Streaming)?;
    let state = Arc::try_unwrap(state)
        .map_err(|_| polars_err!(ComputeError: "the batch callback outlived the query"))?;
    Ok(state
        .into_inner()
        .expect("the accumulator lock is never poisoned"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_ids_small_negative_and_huge_all_map_back() {
        let mut ids = IntIds::default();
        let samples = [5i64, 0, -3, 1 << 40, 2, i64::MAX, 3_000_000, i64::MIN];
        for (i, id) in samples.iter().enumerate() {
            assert_eq!(ids.get(*id), None);
            ids.insert(*id, i as u32, i + 1);
        }
        for (i, id) in samples.iter().enumerate() {
            assert_eq!(ids.get(*id), Some(i as u32), "id {id}");
        }
        assert_eq!(ids.get(1), None);
        assert_eq!(ids.get(4), None);
        // Sparse ids go to the map: the vector stays bounded by the customers seen.
        assert!(ids.direct.len() <= 1 << 21, "{}", ids.direct.len());
        assert_eq!(
            ids.map.len(),
            5,
            "-3, 2^40, i64::MAX, 3,000,000 (beyond 2^20 slots), i64::MIN"
        );
    }

    #[test]
    fn short_text_keys_are_exact_and_distinct() {
        assert_ne!(text_key("536365"), text_key("C536365"));
        assert_ne!(text_key("ab"), text_key("ba"));
        assert_eq!(text_key("12345678"), u64::from_le_bytes(*b"12345678"));
        assert_eq!(text_key("a-long-order-id-123"), text_key("a-long-order-id-123"));
    }

    #[test]
    fn pairs_widen_when_an_order_exceeds_32_bits_and_count_distinct() {
        let mut pairs = Pairs::Packed(Vec::new());
        pairs.push(0, 7);
        pairs.push(0, 7);
        pairs.push(1, 7);
        pairs.push(0, 9);
        assert!(matches!(pairs, Pairs::Packed(_)));
        pairs.push(1, 1 << 40);
        assert!(matches!(pairs, Pairs::Wide(_)));
        assert_eq!(pairs.count_distinct(2), vec![2, 2]);
    }
}
