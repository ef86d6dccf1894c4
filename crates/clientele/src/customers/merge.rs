//! The shards' records put together at the end of the pass: every customer in id order, the
//! customer-level frame, and the periods keyed by each customer's position in it.
//!
//! Integer ids come out of the shards' pages already in order (a shard's slots follow its
//! ids), so the shards' lists are merged rather than sorted, and the columns read the records
//! in sequence. Text ids, when there are any, are sorted as text.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use polars::prelude::*;
use rayon::prelude::*;

use super::periods::PeriodRecords;
use super::shard::{CustomerState, ShardParts};
use super::slots::{Slots, TAG, TaggedId};
use crate::cohorts::CohortTable;
use crate::error::{PolarsContext, Result};
use crate::ingest::col_names::CUSTOMER_ID;

/// Customers per parallel task when the columns are built.
const CHUNK: usize = 1 << 16;

/// A customer: its shard and slot.
type At = (u8, u32);

/// Every customer seen, in id order, with the ids.
enum Ordered {
    Int(Vec<At>, Vec<i64>),
    Text(Vec<At>, Vec<String>),
}

/// What the merge gives.
pub(super) struct Merged {
    /// The customer-level frame (customers with a used row).
    pub(super) customers: DataFrame,
    /// The purchase periods (customers by position in `ids`), when collected.
    pub(super) periods: Option<(PeriodRecords, Column)>,
    /// The cohort matrix, when collected.
    pub(super) cohorts: Option<CohortTable>,
}

/// Puts the shards' records together (see the module documentation). `text_input`: the input's
/// ids are text (kept as integers while all are canonical integers); `id_dtype`: the type of
/// integer ids in the input.
pub(super) fn merge(parts: Vec<ShardParts>, text_input: bool, id_dtype: &DataType) -> Result<Merged> {
    let ordered = order(&parts);
    let at = match &ordered {
        Ordered::Int(at, _) | Ordered::Text(at, _) => at,
    };
    let collects_periods = parts.iter().any(|p| p.periods.is_some() || p.cohorts.is_some());
    let positions = collects_periods.then(|| Positions::new(&parts, at));
    let used = |a: &At| parts[a.0 as usize].slots.get(a.1).rows() > 0;
    let period_only = at.iter().any(|a| !used(a));
    let table_at: Vec<At> = match period_only {
        true => at.iter().copied().filter(used).collect(),
        false => at.clone(),
    };
    let (all_ids, table_ids) = id_columns(&ordered, &parts, text_input, id_dtype, period_only)?;
    let mut columns = vec![table_ids];
    columns.extend(state_columns(&parts, &table_at)?);
    let frame = DataFrame::new(table_at.len(), columns).context(|| "building the customer table".into())?;
    let frame = match (period_only, &ordered) {
        // Text ids of the table alone decide whether they read as integers.
        (true, Ordered::Text(..)) if text_input => {
            super::sort_by_customer(super::integer_ids_if_lossless(frame)?)?
        }
        _ => frame,
    };
    let (mut periods, mut cohorts): (Option<PeriodRecords>, Option<PeriodRecords>) = (None, None);
    for (shard, part) in parts.into_iter().enumerate() {
        let position = |slot: u32| {
            positions
                .as_ref()
                .expect("positions with periods")
                .of(shard, slot)
        };
        let ShardParts {
            periods: p,
            cohorts: c,
            ..
        } = part;
        absorb(&mut periods, p.map(|p| p.into_records(position)));
        absorb(&mut cohorts, c.map(|c| c.into_records(position)));
    }
    Ok(Merged {
        customers: frame,
        periods: periods.map(|p| (p, all_ids)),
        cohorts: cohorts.map(PeriodRecords::finish_cohorts),
    })
}

fn absorb(into: &mut Option<PeriodRecords>, records: Option<PeriodRecords>) {
    match (into.as_mut(), records) {
        (Some(into), Some(records)) => into.absorb(records),
        (None, records) => *into = records,
        (Some(_), None) => {}
    }
}

/// Every seen customer of the shards in id order.
fn order(parts: &[ShardParts]) -> Ordered {
    let mut lists: Vec<Vec<(i64, At)>> = Vec::new();
    let mut texts: Vec<(String, At)> = Vec::new();
    for (shard, part) in parts.iter().enumerate() {
        let (direct, tagged) = seen(&part.slots, shard as u8);
        lists.push(direct);
        let mut ints = Vec::new();
        for (id, at) in tagged {
            match id {
                TaggedId::Int(id) => ints.push((id, at)),
                TaggedId::Text(text) => texts.push((text.into_string(), at)),
            }
        }
        lists.push(ints);
    }
    if texts.is_empty() {
        let merged = merge_sorted(lists);
        let ids = merged.iter().map(|(id, _)| *id).collect();
        return Ordered::Int(merged.into_iter().map(|(_, at)| at).collect(), ids);
    }
    texts.extend(lists.into_iter().flatten().map(|(id, at)| (id.to_string(), at)));
    // Ids are distinct, so an unstable sort is exact.
    texts.par_sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let (ids, at) = texts.into_iter().unzip();
    Ordered::Text(at, ids)
}

/// A shard's seen customers: those with a direct slot, in id order, and the tagged ones, the
/// integer ones sorted by id.
fn seen(slots: &Slots<CustomerState>, shard: u8) -> (Vec<(i64, At)>, Vec<(TaggedId, At)>) {
    let blocks = slots.blocks();
    let mut direct = Vec::new();
    for (first, page) in slots.direct.pages() {
        for (j, record) in page.iter().enumerate() {
            if record.seen() {
                let slot = first + j as u32;
                direct.push((blocks.id(shard, slot), (shard, slot)));
            }
        }
    }
    let mut tagged: Vec<(TaggedId, At)> = slots
        .tagged_ids
        .iter()
        .enumerate()
        .map(|(k, id)| (id.clone(), (shard, TAG + k as u32)))
        .collect();
    tagged.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    (direct, tagged)
}

/// Sorted lists merged into one (ids are distinct across lists).
fn merge_sorted(lists: Vec<Vec<(i64, At)>>) -> Vec<(i64, At)> {
    let total = lists.iter().map(Vec::len).sum();
    let mut merged = Vec::with_capacity(total);
    let mut cursors = vec![0usize; lists.len()];
    let mut heap: BinaryHeap<Reverse<(i64, usize)>> = lists
        .iter()
        .enumerate()
        .filter_map(|(l, list)| Some(Reverse((list.first()?.0, l))))
        .collect();
    while let Some(Reverse((_, l))) = heap.pop() {
        let list = &lists[l];
        // Take the run of this list below the next list's head.
        let limit = heap.peek().map_or(i64::MAX, |Reverse((id, _))| *id);
        let start = cursors[l];
        let mut end = start;
        while end < list.len() && (list[end].0 < limit || (end == start)) {
            end += 1;
        }
        merged.extend_from_slice(&list[start..end]);
        cursors[l] = end;
        if let Some(next) = list.get(end) {
            heap.push(Reverse((next.0, l)));
        }
    }
    merged
}

/// Each customer's position in the id order, by shard and slot.
struct Positions {
    direct: Vec<Vec<u32>>,
    tagged: Vec<Vec<u32>>,
}

impl Positions {
    fn new(parts: &[ShardParts], at: &[At]) -> Positions {
        let mut direct: Vec<Vec<u32>> = vec![Vec::new(); parts.len()];
        let mut tagged: Vec<Vec<u32>> = parts
            .iter()
            .map(|p| vec![u32::MAX; p.slots.tagged.len()])
            .collect();
        for (position, (shard, slot)) in at.iter().enumerate() {
            let (shard, slot) = (*shard as usize, *slot);
            if slot >= TAG {
                tagged[shard][(slot - TAG) as usize] = position as u32;
            } else {
                let direct = &mut direct[shard];
                if slot as usize >= direct.len() {
                    direct.resize(slot as usize + 1, u32::MAX);
                }
                direct[slot as usize] = position as u32;
            }
        }
        Positions { direct, tagged }
    }

    fn of(&self, shard: usize, slot: u32) -> u32 {
        match slot >= TAG {
            true => self.tagged[shard][(slot - TAG) as usize],
            false => self.direct[shard][slot as usize],
        }
    }
}

/// The id column of every seen customer (for the periods) and of the table's customers.
fn id_columns(
    ordered: &Ordered,
    parts: &[ShardParts],
    text_input: bool,
    id_dtype: &DataType,
    period_only: bool,
) -> Result<(Column, Column)> {
    let used = |a: &At| parts[a.0 as usize].slots.get(a.1).rows() > 0;
    let (all, table) = match ordered {
        Ordered::Int(at, ids) => {
            let table: Vec<i64> = match period_only {
                true => ids
                    .iter()
                    .zip(at)
                    .filter(|(_, a)| used(a))
                    .map(|(id, _)| *id)
                    .collect(),
                false => ids.clone(),
            };
            let all = Column::new(CUSTOMER_ID.into(), ids.as_slice());
            let table = Column::new(CUSTOMER_ID.into(), table);
            // Text ids that are all canonical integers stay Int64.
            match text_input {
                true => (all, table),
                false => (
                    all.cast(id_dtype).context(|| "customer ids".into())?,
                    table.cast(id_dtype).context(|| "customer ids".into())?,
                ),
            }
        }
        Ordered::Text(at, ids) => {
            let table: Vec<&str> = ids
                .iter()
                .zip(at)
                .filter(|(_, a)| !period_only || used(a))
                .map(|(id, _)| id.as_str())
                .collect();
            (
                Column::new(CUSTOMER_ID.into(), ids.as_slice()),
                Column::new(CUSTOMER_ID.into(), table),
            )
        }
    };
    Ok((all, table))
}

/// The measure columns of the customers `at`, in that order: `first_ts, last_ts, frequency,
/// net_micros, gross_micros, returned_micros, transactions`.
fn state_columns(parts: &[ShardParts], at: &[At]) -> Result<Vec<Column>> {
    const FIELDS: usize = 7;
    let n = at.len();
    let mut values: Vec<Vec<i64>> = (0..FIELDS).map(|_| vec![0i64; n]).collect();
    {
        let mut chunks: Vec<Vec<&mut [i64]>> = (0..n.div_ceil(CHUNK))
            .map(|_| Vec::with_capacity(FIELDS))
            .collect();
        for column in values.iter_mut() {
            for (chunk, part) in chunks.iter_mut().zip(column.chunks_mut(CHUNK)) {
                chunk.push(part);
            }
        }
        chunks
            .into_par_iter()
            .zip(at.par_chunks(CHUNK))
            .for_each(|(mut out, at)| {
                for (i, (shard, slot)) in at.iter().enumerate() {
                    let c = parts[*shard as usize].slots.get(*slot);
                    out[0][i] = c.first_ts;
                    out[1][i] = c.last_ts;
                    out[2][i] = i64::from(c.orders);
                    out[3][i] = c.gross - c.returned;
                    out[4][i] = c.gross;
                    out[5][i] = c.returned;
                    out[6][i] = i64::from(c.rows());
                }
            });
    }
    let names = [
        "first_ts",
        "last_ts",
        super::col_names::FREQUENCY,
        "net_micros",
        "gross_micros",
        "returned_micros",
        super::col_names::TRANSACTIONS,
    ];
    values
        .into_par_iter()
        .zip(names)
        .enumerate()
        .map(|(field, (values, name))| match field {
            // Customers with returns only have no purchase timestamps: nulls.
            0 | 1 => {
                let none = if field == 0 { i64::MAX } else { i64::MIN };
                let mut ca = Int64Chunked::from_vec(name.into(), values);
                if ca.iter().any(|v| v == Some(none)) {
                    ca = ca.apply(|v| v.filter(|v| *v != none));
                }
                ca.into_series()
                    .cast(&DataType::Datetime(TimeUnit::Microseconds, None))
                    .map(Column::from)
            }
            _ => Ok(Column::new(name.into(), values)),
        })
        .collect::<PolarsResult<_>>()
        .context(|| "purchase timestamps".into())
}
