//! The shards' records put together at the end of the pass: every customer in id order, the
//! customer-level frame, and the periods keyed by each customer's position in it.
//!
//! Integer ids come out of the shards' direct slots already in order (a shard's slots follow
//! its ids, dealt in blocks of 64 in turn), so the shards' blocks are read in turn rather than
//! sorted (ranges of blocks in parallel when no id needs sorting), and the columns read the
//! records in sequence. So do the text ids of a numbering (`C004572124`), whose text is written
//! from their numbers at the end. Other text ids, when there are any, are sorted as text with
//! the rest.

use std::borrow::Cow;
use std::ops::Range;

use polars::prelude::*;
use rayon::prelude::*;

use super::periods::PeriodRecords;
use super::shard::{CustomerState, ShardParts};
use super::slots::{Blocks, TAG, TaggedId};
use crate::cohorts::CohortTable;
use crate::error::{PolarsContext, Result};
use crate::frame::owned_column;
use crate::ingest::col_names::CUSTOMER_ID;
use crate::rows::ids::Numbering;

/// Customers per parallel task when the columns are built.
const CHUNK: usize = 1 << 16;
/// Waves in which the measure columns are written (see `state_columns`).
const WAVES: usize = 16;

/// A customer: its shard and slot.
type At = (u8, u32);

/// The measure columns of the customer table, in order (see [`state_columns`]).
const FIELD_NAMES: [&str; 7] = [
    "first_ts",
    "last_ts",
    super::col_names::FREQUENCY,
    "net_micros",
    "gross_micros",
    "returned_micros",
    super::col_names::TRANSACTIONS,
];

/// Places in [`FIELD_NAMES`] read by name.
const FIRST_TS: usize = 0;
const LAST_TS: usize = 1;
const GROSS: usize = 4;
const RETURNED: usize = 5;

/// Which measure columns the merge builds (of [`FIELD_NAMES`], by place). The purchase
/// dates, frequency, net money and transactions are always built: the date range, the as-of
/// date, the buyers, `monetary` and the rows of customers without a purchase read them. Gross
/// and returned money only for the output columns made from them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StateFields([bool; FIELD_NAMES.len()]);

impl StateFields {
    pub(crate) const ALL: StateFields = StateFields([true; FIELD_NAMES.len()]);

    /// The fields the output columns `only` need (all without a list).
    pub(crate) fn for_columns(only: Option<&[String]>) -> StateFields {
        let mut fields = StateFields::ALL;
        if let Some(only) = only {
            let asked = |name: &str| only.iter().any(|o| o == name);
            fields.0[GROSS] = asked(super::col_names::GROSS_REVENUE);
            fields.0[RETURNED] = asked(super::col_names::RETURNS_VALUE);
        }
        fields
    }

    /// The indices of the fields built, ascending.
    fn indices(&self) -> Vec<usize> {
        (0..FIELD_NAMES.len()).filter(|field| self.0[*field]).collect()
    }
}

/// The ids of every customer seen, in id order (text ids borrowed from the shards).
enum Ids<'a> {
    Int(Vec<i64>),
    Text(Vec<Cow<'a, str>>),
    /// Text ids of one numbering, each in a direct slot: their numbers.
    Numbered(Vec<i64>, Numbering),
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
pub(super) fn merge(
    mut parts: Vec<ShardParts>,
    text_input: bool,
    id_dtype: &DataType,
    fields: &StateFields,
) -> Result<Merged> {
    let (at, ids) = order(&parts);
    let at = &at;
    let collects_periods = parts.iter().any(|p| p.periods.is_some() || p.cohorts.is_some());
    let positions = collects_periods.then(|| Positions::new(&parts, at));
    let used = |a: &At| parts[a.0 as usize].slots.get(a.1).rows() > 0;
    let period_only = at.iter().any(|a| !used(a));
    let table_at: Cow<'_, [At]> = match period_only {
        true => at.iter().copied().filter(used).collect::<Vec<_>>().into(),
        false => at.as_slice().into(),
    };
    let text_ids = !matches!(ids, Ids::Int(_));
    // Direct slots come in slot order unless ids are sorted as text.
    let slot_order = !matches!(ids, Ids::Text(_));
    // The ids go into their column (and are dropped) before the measure columns are made.
    let (all_ids, table_ids) = id_columns(ids, at, &parts, text_input, id_dtype, period_only)?;
    let mut columns = vec![table_ids];
    columns.extend(state_columns(
        &mut parts,
        &table_at,
        slot_order,
        &fields.indices(),
    )?);
    let height = table_at.len();
    drop(table_at);
    let frame = DataFrame::new(height, columns).context(|| "building the customer table".into())?;
    let frame = match period_only {
        // Text ids of the table alone decide whether they read as integers.
        true if text_ids && text_input => super::sort_by_customer(super::integer_ids_if_lossless(frame)?)?,
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

/// Every seen customer of the shards in id order, and their ids.
fn order(parts: &[ShardParts]) -> (Vec<At>, Ids<'_>) {
    let mut ints: Vec<(i64, At)> = Vec::new();
    let mut texts: Vec<(Cow<'_, str>, At)> = Vec::new();
    for (shard, part) in parts.iter().enumerate() {
        for (k, id) in part.slots.tagged_ids.iter().enumerate() {
            let at = (shard as u8, TAG + k as u32);
            match *id {
                TaggedId::Int(id) => ints.push((id, at)),
                TaggedId::Text { start, len } => {
                    texts.push((Cow::Borrowed(part.slots.texts.get(start, len)), at))
                }
            }
        }
    }
    ints.sort_unstable_by_key(|(id, _)| *id);
    let tagged_ints = ints.len();
    let numbering = parts[0].slots.numbering();
    if ints.is_empty() && texts.is_empty() {
        // Direct slots alone (integer ids below 2³¹, or a numbering's): in id order as they are.
        let (at, ids) = Direct::of(parts).seen_in_parallel();
        return match numbering {
            None => (at, Ids::Int(ids)),
            Some(numbering) => (at, Ids::Numbered(ids, numbering)),
        };
    }
    let seen = parts.iter().map(|p| p.slots.len()).sum();
    let (mut at, mut ids) = (Vec::with_capacity(seen), Vec::with_capacity(seen));
    // The direct slots in id order, the tagged integer ids merged in by id.
    let mut tagged = ints.into_iter().peekable();
    for (id, direct) in Direct::of(parts).seen() {
        while let Some((tagged_id, tagged_at)) = tagged.next_if(|(t, _)| *t < id) {
            at.push(tagged_at);
            ids.push(tagged_id);
        }
        at.push(direct);
        ids.push(id);
    }
    for (tagged_id, tagged_at) in tagged {
        at.push(tagged_at);
        ids.push(tagged_id);
    }
    match numbering {
        None if texts.is_empty() => return (at, Ids::Int(ids)),
        Some(numbering) if texts.is_empty() && tagged_ints == 0 => {
            return (at, Ids::Numbered(ids, numbering));
        }
        _ => {}
    }
    // Direct slots hold the numbering's ids when there is one, integers otherwise.
    let text_of = |id: i64, at: At| match numbering {
        Some(numbering) if at.1 < TAG => {
            let mut text = String::new();
            numbering.write(id, &mut text);
            text
        }
        _ => id.to_string(),
    };
    texts.extend(
        ids.into_iter()
            .zip(at)
            .map(|(id, at)| (Cow::Owned(text_of(id, at)), at)),
    );
    // Ids are distinct, so an unstable sort is exact.
    texts.par_sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let (ids, at) = texts.into_iter().unzip();
    (at, Ids::Text(ids))
}

/// The customers with a direct slot, in id order: ids are dealt to the shards in blocks of 64
/// in turn, so the blocks are read in turn from the shards.
struct Direct<'a> {
    records: Vec<&'a [CustomerState]>,
    blocks: Blocks,
    /// Blocks of all shards together.
    all_blocks: usize,
}

impl<'a> Direct<'a> {
    fn of(parts: &'a [ShardParts]) -> Self {
        let blocks = parts[0].slots.blocks();
        let records: Vec<&[CustomerState]> = parts.iter().map(|p| p.slots.direct.records()).collect();
        let per_shard_blocks = records.iter().map(|r| r.len().div_ceil(64)).max().unwrap_or(0);
        Direct {
            records,
            blocks,
            all_blocks: per_shard_blocks << blocks.log2,
        }
    }

    /// The seen customers of the blocks `range` (of all shards together), in id order.
    fn seen_in(&self, range: Range<usize>) -> impl Iterator<Item = (i64, At)> + '_ {
        let blocks = self.blocks;
        range.flat_map(move |global| {
            let shard = (global & ((1 << blocks.log2) - 1)) as u8;
            let first = ((global >> blocks.log2) * 64) as u32;
            let records = self.records[shard as usize];
            (first..(first + 64).min(records.len() as u32))
                .filter(move |slot| records[*slot as usize].seen())
                .map(move |slot| (blocks.id(shard, slot), (shard, slot)))
        })
    }

    /// Every seen customer, in id order.
    fn seen(&self) -> impl Iterator<Item = (i64, At)> + '_ {
        self.seen_in(0..self.all_blocks)
    }

    /// [`Direct::seen`] written in parallel: the seen customers of each range of blocks are
    /// counted first, so that each range then writes its own part of the two vectors.
    fn seen_in_parallel(&self) -> (Vec<At>, Vec<i64>) {
        let ranges: Vec<Range<usize>> = (0..self.all_blocks)
            .step_by(CHUNK / 64)
            .map(|first| first..(first + CHUNK / 64).min(self.all_blocks))
            .collect();
        let counts: Vec<usize> = ranges
            .par_iter()
            .map(|r| self.seen_in(r.clone()).count())
            .collect();
        let seen = counts.iter().sum();
        let (mut at, mut ids) = (vec![(0u8, 0u32); seen], vec![0i64; seen]);
        split_by_lengths(&mut at, &counts)
            .into_par_iter()
            .zip(split_by_lengths(&mut ids, &counts))
            .zip(ranges)
            .for_each(|((at, ids), range)| {
                for ((id, a), (id_out, at_out)) in self.seen_in(range).zip(ids.iter_mut().zip(at)) {
                    (*id_out, *at_out) = (id, a);
                }
            });
        (at, ids)
    }
}

/// `values` cut into consecutive parts of `lengths` (which sum to at most its length).
fn split_by_lengths<'s, T>(mut values: &'s mut [T], lengths: &[usize]) -> Vec<&'s mut [T]> {
    lengths
        .iter()
        .map(|n| {
            let (part, rest) = std::mem::take(&mut values).split_at_mut(*n);
            values = rest;
            part
        })
        .collect()
}

/// Writes the measures `fields` of the customers `at` into `out` (a slice per field), in
/// parallel.
fn fill_state(out: Vec<&mut [i64]>, fields: &[usize], parts: &[ShardParts], at: &[At]) {
    let mut chunks: Vec<Vec<&mut [i64]>> = (0..at.len().div_ceil(CHUNK))
        .map(|_| Vec::with_capacity(out.len()))
        .collect();
    for column in out {
        for (chunk, part) in chunks.iter_mut().zip(column.chunks_mut(CHUNK)) {
            chunk.push(part);
        }
    }
    chunks
        .into_par_iter()
        .zip(at.par_chunks(CHUNK))
        .for_each(|(mut out, at)| {
            for (i, (shard, slot)) in at.iter().enumerate() {
                let part = &parts[*shard as usize];
                let c = part.slots.get(*slot);
                let returned = match c.returned() {
                    true => part.rare.returned(*slot),
                    false => 0,
                };
                let values = [
                    c.first_ts,
                    c.last_ts,
                    i64::from(c.orders),
                    c.gross - returned,
                    c.gross,
                    returned,
                    i64::from(c.rows()),
                ];
                for (column, field) in out.iter_mut().zip(fields) {
                    column[i] = values[*field];
                }
            }
        });
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

/// The id column of every seen customer (for the periods) and of the table's customers (the
/// same column unless some customers were seen only in rows for the periods).
fn id_columns(
    ids: Ids,
    at: &[At],
    parts: &[ShardParts],
    text_input: bool,
    id_dtype: &DataType,
    period_only: bool,
) -> Result<(Column, Column)> {
    let used = |a: &At| parts[a.0 as usize].slots.get(a.1).rows() > 0;
    // The ids of the customers with a used row, when some have none.
    let of_used = |ids: &[i64]| -> Vec<i64> {
        ids.iter()
            .zip(at)
            .filter(|(_, a)| used(a))
            .map(|(id, _)| *id)
            .collect()
    };
    let int_ids = matches!(ids, Ids::Int(_));
    let (all, table) = match ids {
        Ids::Int(ids) => {
            let table = period_only.then(|| owned_column(CUSTOMER_ID, of_used(&ids)));
            (owned_column(CUSTOMER_ID, ids), table)
        }
        Ids::Text(ids) => {
            let table = period_only.then(|| {
                let used_ids: Vec<&str> = ids
                    .iter()
                    .zip(at)
                    .filter(|(_, a)| used(a))
                    .map(|(id, _)| id.as_ref())
                    .collect();
                Column::new(CUSTOMER_ID.into(), used_ids)
            });
            let all: Vec<&str> = ids.iter().map(|id| id.as_ref()).collect();
            (Column::new(CUSTOMER_ID.into(), all), table)
        }
        Ids::Numbered(numbers, numbering) => {
            let table = period_only.then(|| numbered_column(&of_used(&numbers), &numbering));
            (numbered_column(&numbers, &numbering), table)
        }
    };
    // Integer ids take the input's integer type; text ids that are all canonical integers stay
    // Int64.
    let typed = |column: Column| match (int_ids, text_input) {
        (true, false) => column.cast(id_dtype).context(|| "customer ids".into()),
        _ => Ok(column),
    };
    let all = typed(all)?;
    let table = match table {
        Some(table) => typed(table)?,
        None => all.clone(),
    };
    Ok((all, table))
}

/// The text ids of `numbers` in `numbering`, in one chunk written once.
fn numbered_column(numbers: &[i64], numbering: &Numbering) -> Column {
    let mut builder = StringChunkedBuilder::new(CUSTOMER_ID.into(), numbers.len());
    let mut text = String::new();
    for number in numbers {
        text.clear();
        numbering.write(*number, &mut text);
        builder.append_value(&text);
    }
    builder.finish().into_column()
}

/// The measure columns `fields` (of [`FIELD_NAMES`], ascending) of the customers `at`.
///
/// The merge is the peak of memory, so the columns are written from the last customer back,
/// in waves; when `slot_order` (each shard's direct slots ascend in `at`), the records a wave
/// read are given back after it, and the columns' pages (untouched until written) replace them.
fn state_columns(
    parts: &mut [ShardParts],
    at: &[At],
    slot_order: bool,
    fields: &[usize],
) -> Result<Vec<Column>> {
    let n = at.len();
    let mut values: Vec<Vec<i64>> = fields.iter().map(|_| vec![0i64; n]).collect();
    let wave = n.div_ceil(WAVES).max(1);
    let mut rest: Vec<&mut [i64]> = values.iter_mut().map(|v| v.as_mut_slice()).collect();
    for start in (0..n).step_by(wave).rev() {
        let mut out = Vec::with_capacity(fields.len());
        for column in &mut rest {
            let (front, back) = std::mem::take(column).split_at_mut(start);
            *column = front;
            out.push(back);
        }
        let wave_at = &at[start..(start + wave).min(n)];
        fill_state(out, fields, parts, wave_at);
        if slot_order {
            for (shard, part) in parts.iter_mut().enumerate() {
                let first = wave_at
                    .iter()
                    .find(|(s, slot)| *s as usize == shard && *slot < TAG);
                if let Some((_, slot)) = first {
                    part.slots.release_direct_from(*slot);
                }
            }
        }
    }
    values
        .into_par_iter()
        .zip(fields)
        .map(|(values, field)| (*field, values, FIELD_NAMES[*field]))
        .map(|(field, values, name)| match field {
            // Customers with returns only have no purchase timestamps: nulls.
            FIRST_TS | LAST_TS => {
                let none = if field == FIRST_TS { i64::MAX } else { i64::MIN };
                let mut ca = Int64Chunked::from_vec(name.into(), values);
                if ca.iter().any(|v| v == Some(none)) {
                    ca = ca.apply(|v| v.filter(|v| *v != none));
                }
                ca.into_series()
                    .cast(&DataType::Datetime(TimeUnit::Microseconds, None))
                    .map(Column::from)
            }
            _ => Ok(owned_column(name, values)),
        })
        .collect::<PolarsResult<_>>()
        .context(|| "purchase timestamps".into())
}
