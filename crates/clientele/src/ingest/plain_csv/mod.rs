//! A reader of its own for plain CSV transaction logs, feeding the accumulator directly.
//!
//! polars reads a CSV log with every column as text (so that a bad value becomes a rejected
//! row instead of a failed read) and then parses ids, timestamps and amounts with expressions:
//! most of a CSV run went into materialising and re-parsing strings. This reader splits the
//! file into blocks at line ends (quote-aware), parses the role columns of each block in
//! parallel straight into integers, and hands the accumulator plain vectors. Memory is a few
//! blocks, whatever the file size (polars maps the whole file).
//!
//! It must give exactly the rows polars would, so it only takes what it fully understands:
//! - structure: a line is fields separated by the one-byte separator, a field quoted (`""`
//!   escapes a quote, separators and line ends allowed inside) or not (no quote inside); every
//!   line has the header's number of fields; CRLF or LF; UTF-8. Anything else (a ragged or
//!   empty line, a stray quote, a byte-order mark, duplicate header names) hands the whole
//!   input back to the polars path, which reads or rejects it as before;
//! - values: a non-blank customer id, a timestamp of the detected ISO shape written in full
//!   (`2024-05-01`, `2024-05-01 09:30`, `2024-05-01 09:30:15`, or with `T`), a plain decimal
//!   amount (`-12.50`; with `--decimal-comma`, `-12,50`), a non-blank order id; ids written as
//!   whole numbers with a point (`17850.0`) are read as the ingest reads them (`17850`). A row
//!   with any other value (blank, fractional seconds, `1e3`, `+5`, padded with spaces, an id
//!   `12.5`, ...) is *odd*:
//!   odd rows are collected and classified by the very polars expressions of the normal path
//!   ([`Transactions::classify_frame`]), so rejects and their reasons are the same.
//!
//! The parsing of an understood value is the one polars does: a correctly rounded `f64`, the
//! amount in micro-units rounded half away from zero, the timestamp in microseconds.

use std::borrow::Cow;
use std::sync::Arc;

use polars::prelude::*;
use rayon::prelude::*;

mod blocks;
mod fields;
mod rejects;
mod values;

use self::blocks::BlockReader;
use self::fields::{Field, field_text, field_value, next_field};
pub(crate) use self::rejects::RejectedLines;
use self::rejects::{LineFormat, customer_rejection};
use self::values::{TimeShape, parse_decimal, parse_time, time_shape};
use crate::columns::AmountColumns;
use crate::error::{PolarsContext, Result};
use crate::ingest::row_hash::RowHasher;
use crate::ingest::source::{DecimalSeparator, DelimitedFiles};
use crate::ingest::{RejectedRows, Transactions, id_of_text};
use crate::rows::ids::{canonical_integer, order_key_of_text};
use crate::rows::rules::{MICROS_PER_DAY, RowFacts, RowRules, micros_of};
use crate::rows::{RowPolicy, RowStatus};

/// Bytes per block handed to one parsing task.
pub(crate) const BLOCK_BYTES: usize = 4 << 20;
/// Odd rows are classified by polars in batches of this many.
const ODD_BATCH: usize = 100_000;

/// Used rows (or every valid row, see `used`) parsed outside polars, with the status counts of the rows they came from.
#[derive(Default)]
pub(crate) struct ParsedRows {
    /// Customer ids that are canonical integers (a placeholder where `text_ids` has the row).
    pub ids: Vec<i64>,
    /// `(row, id)` for the rows whose id is other text, by row.
    pub text_ids: Vec<(u32, Box<str>)>,
    /// Timestamps, microseconds since the epoch.
    pub ts: Vec<i64>,
    /// Amounts in micro-units.
    pub amounts: Vec<i64>,
    /// Order keys ([`order_key_of_text`], or days without an order column).
    pub orders: Vec<u64>,
    /// Status code → rows, for every row read (used or not).
    pub status_counts: Vec<(u8, u64)>,
    /// Whether each row is used, when the rows are every valid row (for the periods); empty
    /// when all are used.
    pub used: Vec<bool>,
    /// The hash of every line's fields (see `ingest::row_hash`), when asked for.
    pub row_hashes: Vec<u128>,
}

/// Where the reader puts the rows it reads: the customer aggregation implements it (the reader
/// only reads; `customers` aggregates).
pub(crate) trait RowSink: Send {
    /// Rows this reader understood, with the status counts of the rows they came from.
    fn add_parsed(&mut self, rows: &ParsedRows) -> PolarsResult<()>;
    /// Rows polars classified, with the columns of [`RowSink::classified_columns`].
    fn add_classified(&mut self, batch: &DataFrame) -> PolarsResult<()>;
    /// Rows clientele's typed reader classified (`ingest/typed.rs`).
    fn add_typed(&mut self, rows: &crate::ingest::typed::TypedRows<'_>) -> PolarsResult<()>;
    /// The columns [`RowSink::add_classified`] takes.
    fn classified_columns(&self) -> Vec<Expr>;
}

/// What the reader collects beside the rows.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ReadOptions {
    /// Excluded rows are handed on too, marked (`ParsedRows::used`), for the purchase periods.
    pub keep_excluded: bool,
    /// The rejected rows are collected with every field.
    pub rejects: bool,
    /// Every line's fields are hashed, for the duplicate rows.
    pub hash_rows: bool,
}

/// What the reader did: the sink with every row (and the rejected rows, when asked for), or
/// why the input goes to the polars path.
pub(crate) enum Outcome<S> {
    Done(Box<S>, Option<RejectedRows>),
    NotPlain(String),
}

/// Everything a parsing task needs, shared by all blocks.
struct Settings {
    separator: u8,
    quote: Option<u8>,
    time: TimeShape,
    decimal_comma: bool,
    /// The row rules (of which only the policies can apply to an understood row).
    rules: RowRules,
    has_order: bool,
    has_price: bool,
    /// Excluded rows are kept too, marked, for the purchase periods.
    keep_excluded: bool,
    /// Odd rows keep every field, for the rejected rows.
    all_fields: Option<Vec<String>>,
    /// Every line's fields are hashed.
    hash_rows: bool,
    /// The columns as polars names them: every file's header must name them so (the check of
    /// the input's structure that reading once leaves to this reader).
    header: Vec<String>,
    /// How rejected lines are split, when the rejected rows are asked for.
    lines: Option<Arc<LineFormat>>,
}

/// The role columns, in the order odd rows keep them.
const CUSTOMER: usize = 0;
const TIME: usize = 1;
const AMOUNT: usize = 2;
const PRICE: usize = 3;
const ORDER: usize = 4;
const ROLES: usize = 5;
const NOT_A_ROLE: u8 = u8::MAX;

/// Where the role columns are in one file's lines.
struct Layout {
    /// Role of each field of a line, [`NOT_A_ROLE`] for the others.
    role_of_field: Vec<u8>,
}

/// A block of whole lines of one file.
struct Block {
    layout: Arc<Layout>,
    bytes: Vec<u8>,
}

/// A row left to polars: its role fields, and every field when rejected rows are asked for.
struct OddRow {
    /// Data row number in the block (0-based), then in the input (1-based).
    row: u64,
    roles: [Option<String>; ROLES],
    fields: Vec<Option<String>>,
}

/// Rows a block produced: understood rows, odd ones, the rejected rows whose customer id
/// decided their fate (when rejected rows are asked for), and the number of rows read.
struct Parsed {
    rows: ParsedRows,
    odd: Vec<OddRow>,
    rejected: Option<RejectedLines>,
    lines: u64,
}

/// Reads `tx` (a plain CSV input, see [`Transactions::delimited`]) into an accumulator, with
/// what `collect` asks for, or says why the polars path must read it. `None` when the input
/// does not qualify at all.
pub(crate) fn accumulate<S: RowSink>(
    tx: &Transactions,
    policy: &RowPolicy,
    sink: S,
    read: ReadOptions,
) -> Option<Result<Outcome<S>>> {
    let files = tx.delimited()?;
    let time = time_shape(tx.time_parsing().format.as_deref()?)?;
    let columns = tx.columns();
    let mut names: [Option<&str>; ROLES] = [None; ROLES];
    names[CUSTOMER] = Some(&columns.customer);
    names[TIME] = Some(&columns.time);
    match &columns.amount {
        AmountColumns::Amount(a) => names[AMOUNT] = Some(a),
        AmountColumns::QuantityTimesPrice { quantity, price } => {
            names[AMOUNT] = Some(quantity);
            names[PRICE] = Some(price);
        }
    }
    names[ORDER] = columns.order.as_deref();
    let settings = Settings {
        separator: files.separator,
        quote: files.quote,
        time,
        decimal_comma: tx.decimal() == DecimalSeparator::Comma,
        rules: RowRules::new(policy),
        has_order: names[ORDER].is_some(),
        has_price: names[PRICE].is_some(),
        keep_excluded: read.keep_excluded,
        all_fields: read
            .rejects
            .then(|| tx.schema().iter_names().map(|n| n.to_string()).collect()),
        hash_rows: read.hash_rows,
        header: tx.schema().iter_names().map(|n| n.to_string()).collect(),
        lines: read.rejects.then(|| {
            Arc::new(LineFormat {
                separator: files.separator,
                quote: files.quote,
                customer_column: columns.customer.clone(),
            })
        }),
    };
    Some(run(tx, policy, files, &names, &settings, sink))
}

/// Odd rows on their way to polars' classification, and the rejected rows found among them.
struct OddRows<'a> {
    tx: &'a Transactions,
    policy: &'a RowPolicy,
    names: &'a [Option<&'a str>; ROLES],
    all_fields: Option<&'a [String]>,
    pending: Vec<OddRow>,
    /// Rejected rows polars classified, in input order.
    rejects: Vec<DataFrame>,
    /// Rejected rows the reader classified itself (see `rejects.rs`), in input order.
    known: Vec<RejectedLines>,
}

fn run<S: RowSink>(
    tx: &Transactions,
    policy: &RowPolicy,
    files: &DelimitedFiles,
    names: &[Option<&str>; ROLES],
    settings: &Settings,
    mut acc: S,
) -> Result<Outcome<S>> {
    let mut odd = OddRows {
        tx,
        policy,
        names,
        all_fields: settings.all_fields.as_deref(),
        pending: Vec::new(),
        rejects: Vec::new(),
        known: Vec::new(),
    };
    let mut reader = BlockReader::new(files, names, settings);
    let round = 2 * rayon::current_num_threads().max(1);
    let mut next = match reader.read_round(round)? {
        Ok(blocks) => blocks,
        Err(why) => return Ok(Outcome::NotPlain(why)),
    };
    let mut previous: Vec<Parsed> = Vec::new();
    let mut seen_rows = 0u64;
    loop {
        if next.is_empty() && previous.is_empty() {
            break;
        }
        let current = std::mem::take(&mut next);
        let ((read, parsed), added) = rayon::join(
            || {
                rayon::join(
                    || reader.read_round(round),
                    || {
                        current
                            .par_iter()
                            .map(|block| parse_block(block, settings))
                            .collect::<std::result::Result<Vec<_>, String>>()
                    },
                )
            },
            || odd.add_blocks(&mut acc, previous.drain(..), seen_rows),
        );
        seen_rows = added.map_err(|e| crate::ingest::aggregate_error(tx.source_name(), e))?;
        match (read?, parsed) {
            (Ok(blocks), Ok(parsed)) => {
                next = blocks;
                previous = parsed;
            }
            (Err(why), _) | (_, Err(why)) => return Ok(Outcome::NotPlain(why)),
        }
        if odd.pending.len() >= ODD_BATCH {
            // Mostly odd rows: polars' own reader is the faster way through this file.
            if odd.pending.len() as u64 * 2 > seen_rows {
                return Ok(Outcome::NotPlain(format!(
                    "{} of the first {} rows need polars' parsing",
                    odd.pending.len(),
                    seen_rows
                )));
            }
            odd.classify(&mut acc)?;
        }
    }
    odd.classify(&mut acc)?;
    let rejects = odd.rejected()?;
    Ok(Outcome::Done(Box::new(acc), rejects))
}

impl OddRows<'_> {
    /// Hands parsed blocks to the accumulator, keeping their odd and rejected rows numbered
    /// in the input (after `rows` rows). Returns the rows read so far.
    fn add_blocks<S: RowSink>(
        &mut self,
        acc: &mut S,
        blocks: impl Iterator<Item = Parsed>,
        mut rows: u64,
    ) -> PolarsResult<u64> {
        for block in blocks {
            acc.add_parsed(&block.rows)?;
            if let Some(mut rejected) = block.rejected.filter(|r| r.len() > 0) {
                rejected.number_from(rows);
                self.known.push(rejected);
            }
            self.pending.extend(block.odd.into_iter().map(|mut r| {
                r.row += rows + 1;
                r
            }));
            rows += block.lines;
        }
        Ok(rows)
    }

    /// Classifies the pending odd rows with the polars expressions of the normal path, adds
    /// them, and keeps the rejected ones when asked.
    fn classify<S: RowSink>(&mut self, acc: &mut S) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let odd = std::mem::take(&mut self.pending);
        let raw = self.frame(&odd)?;
        let error = |e| crate::ingest::aggregate_error(self.tx.source_name(), e);
        let classified = self
            .tx
            .classify_frame(raw.clone().lazy(), self.policy)
            .select(acc.classified_columns())
            .collect()
            .map_err(error)?;
        acc.add_classified(&classified).map_err(error)?;
        if self.all_fields.is_some() {
            let rejected = self
                .tx
                .rejected_rows_in(raw.lazy(), self.policy)
                .collect()
                .map_err(error)?;
            self.rejects.push(rejected);
        }
        Ok(())
    }

    /// The raw frame of odd rows: the role columns, or every column with `reject_row`.
    fn frame(&self, odd: &[OddRow]) -> Result<DataFrame> {
        let n = odd.len();
        let text = |values: StringChunked, name: &str| values.with_name(name.into()).into_column();
        let columns: Vec<Column> = match self.all_fields {
            None => self
                .names
                .iter()
                .enumerate()
                .filter_map(|(role, name)| {
                    let values = odd.iter().map(|row| row.roles[role].as_deref()).collect();
                    Some(text(values, (*name)?))
                })
                .collect(),
            Some(names) => {
                let rows: Vec<IdxSize> = odd.iter().map(|row| row.row as IdxSize).collect();
                let mut columns = vec![Column::new("reject_row".into(), rows)];
                columns.extend(names.iter().enumerate().map(|(i, name)| {
                    let values = odd.iter().map(|row| row.fields[i].as_deref()).collect();
                    text(values, name)
                }));
                columns
            }
        };
        DataFrame::new(n, columns).context(|| "rows left to polars".into())
    }

    /// The rejected rows, in input order, when asked for.
    fn rejected(mut self) -> Result<Option<RejectedRows>> {
        let Some(names) = self.all_fields else {
            return Ok(None);
        };
        let known = std::mem::take(&mut self.known);
        self.rejects.retain(|frame| frame.height() > 0);
        if self.rejects.is_empty() {
            if !known.is_empty() {
                return Ok(Some(RejectedRows::from_lines(known, names.to_vec())));
            }
            // No odd row at all: the columns of an empty result.
            let empty = self.frame(&[])?;
            let rejected = self.tx.rejected_rows_in(empty.lazy(), self.policy).collect();
            let error = |e| crate::ingest::aggregate_error(self.tx.source_name(), e);
            return rejected.map(|r| Some(r.into())).map_err(error);
        }
        // Both lists are in input order; merged by row number when both have rows.
        let interleaved = !known.is_empty();
        let mut frames = std::mem::take(&mut self.rejects);
        if interleaved {
            frames.push(RejectedRows::from_lines(known, names.to_vec()).to_frame()?);
        }
        let mut frames = frames.into_iter();
        let mut all = frames.next().expect("odd rows were rejected");
        for frame in frames {
            all.vstack_mut_owned(frame)
                .context(|| "collecting rejected rows".into())?;
        }
        if interleaved {
            all = all
                .sort(["reject_row"], SortMultipleOptions::default())
                .context(|| "ordering rejected rows".into())?;
        }
        Ok(Some(all.into()))
    }
}

/// Parses one block: understood rows into vectors, odd rows aside.
fn parse_block(block: &Block, settings: &Settings) -> std::result::Result<Parsed, String> {
    let bytes = &block.bytes;
    let text = std::str::from_utf8(bytes).map_err(|_| "is not UTF-8".to_string())?;
    let roles = &block.layout.role_of_field;
    let expected = bytes.len() / 32;
    let mut rows = ParsedRows {
        ids: Vec::with_capacity(expected),
        ts: Vec::with_capacity(expected),
        amounts: Vec::with_capacity(expected),
        orders: Vec::with_capacity(expected),
        ..ParsedRows::default()
    };
    let mut odd = Vec::new();
    let mut counts = [0u64; 256];
    let mut rejected = settings.lines.clone().map(RejectedLines::new);
    let (mut pos, mut lines) = (0, 0u64);
    let mut hasher = RowHasher::new();
    while pos < bytes.len() {
        let line_start = pos;
        let spans;
        (spans, pos) = line_spans(bytes, pos, roles, settings)?;
        lines += 1;
        if settings.hash_rows {
            rows.row_hashes
                .push(line_hash(text, line_start, settings, &mut hasher)?);
        }
        let value = |role: usize| spans[role].as_ref().map(|f| field_text(text, f, settings.quote));
        let Some(row) = understand(&value, settings) else {
            let customer = value(CUSTOMER);
            if let Some(reason) = customer_rejection(customer.as_deref()) {
                counts[RowStatus::Rejected(reason).code() as usize] += 1;
                if let Some(rejected) = rejected.as_mut() {
                    let customer = spans[CUSTOMER]
                        .as_ref()
                        .and_then(|f| field_value(text, f, settings.quote));
                    let line = &bytes[line_start..pos.min(bytes.len())];
                    rejected.push(lines - 1, reason, customer.as_deref(), line);
                }
                continue;
            }
            odd.push(OddRow {
                row: lines - 1,
                roles: std::array::from_fn(|role| {
                    let field = spans[role].as_ref()?;
                    field_value(text, field, settings.quote).map(Cow::into_owned)
                }),
                fields: match settings.all_fields {
                    Some(_) => all_fields(text, line_start, settings)?,
                    None => Vec::new(),
                },
            });
            continue;
        };
        let status = settings.rules.status(&RowFacts::read(row.day(), row.micros));
        debug_assert!(
            matches!(status, RowStatus::Used | RowStatus::Excluded(_)),
            "a row of understood values is not {status:?}"
        );
        counts[status.code() as usize] += 1;
        if status == RowStatus::Used || settings.keep_excluded {
            if settings.keep_excluded {
                rows.used.push(status == RowStatus::Used);
            }
            push_row(&mut rows, row);
        }
    }
    rows.status_counts = (0..=u8::MAX).zip(counts).filter(|(_, n)| *n > 0).collect();
    Ok(Parsed {
        rows,
        odd,
        rejected,
        lines,
    })
}

/// The role fields of the line at `pos`, and where the next line starts; an error when the
/// line does not have the header's number of fields.
#[inline]
fn line_spans(
    bytes: &[u8],
    mut pos: usize,
    roles: &[u8],
    settings: &Settings,
) -> std::result::Result<([Option<Field>; ROLES], usize), String> {
    let mut spans: [Option<Field>; ROLES] = [None, None, None, None, None];
    let mut index = 0;
    loop {
        let field = next_field(bytes, pos, settings)?;
        pos = field.next;
        let line_ends = field.line_ends;
        match roles.get(index) {
            Some(role) if *role != NOT_A_ROLE => spans[*role as usize] = Some(field),
            Some(_) => {}
            None => return Err(format!("a line has more than {} fields", roles.len())),
        }
        index += 1;
        if line_ends {
            break;
        }
    }
    if index != roles.len() {
        return Err(format!("a line has {index} fields, the header {}", roles.len()));
    }
    Ok((spans, pos))
}

/// The hash of the fields of the line at `start`, empty ones missing (as in [`all_fields`]).
fn line_hash(
    text: &str,
    start: usize,
    settings: &Settings,
    hasher: &mut RowHasher,
) -> std::result::Result<u128, String> {
    let (bytes, mut pos) = (text.as_bytes(), start);
    loop {
        let field = next_field(bytes, pos, settings)?;
        let value = field_value(text, &field, settings.quote);
        hasher.field(value.as_deref().map(str::as_bytes));
        pos = field.next;
        if field.line_ends {
            return Ok(hasher.finish());
        }
    }
}

/// Every field of the line at `start`.
fn all_fields(
    text: &str,
    start: usize,
    settings: &Settings,
) -> std::result::Result<Vec<Option<String>>, String> {
    let bytes = text.as_bytes();
    let (mut pos, mut fields) = (start, Vec::new());
    loop {
        let field = next_field(bytes, pos, settings)?;
        fields.push(field_value(text, &field, settings.quote).map(Cow::into_owned));
        pos = field.next;
        if field.line_ends {
            return Ok(fields);
        }
    }
}

/// An understood row into the vectors.
fn push_row(rows: &mut ParsedRows, row: Understood<'_>) {
    match canonical_integer(&row.customer) {
        Some(id) => rows.ids.push(id),
        None => {
            rows.text_ids.push((rows.ids.len() as u32, row.customer.into()));
            rows.ids.push(0);
        }
    }
    rows.ts.push(row.ts);
    rows.amounts.push(row.micros);
    rows.orders.push(row.order);
}

/// A row whose every role value this reader understands.
struct Understood<'t> {
    /// The customer id as [`id_of_text`] reads it.
    customer: Cow<'t, str>,
    ts: i64,
    micros: i64,
    order: u64,
}

impl Understood<'_> {
    /// The day of the timestamp, since the epoch.
    #[inline]
    fn day(&self) -> i64 {
        self.ts.div_euclid(MICROS_PER_DAY)
    }
}

/// The row's values, or `None` when any needs polars' parsing (or makes the row a reject).
#[inline]
fn understand<'t>(
    value: &impl Fn(usize) -> Option<Cow<'t, str>>,
    settings: &Settings,
) -> Option<Understood<'t>> {
    let customer = value(CUSTOMER)?;
    if customer.trim().is_empty() {
        return None;
    }
    // A number with a fractional part is an invalid id: left to polars, which rejects it.
    let customer = match customer {
        Cow::Borrowed(text) => Cow::Borrowed(id_of_text(text)?),
        Cow::Owned(text) => Cow::Owned(id_of_text(&text)?.to_string()),
    };
    let ts = parse_time(&value(TIME)?, settings.time)?;
    let mut amount = parse_decimal(&value(AMOUNT)?, settings.decimal_comma)?;
    if settings.has_price {
        amount *= parse_decimal(&value(PRICE)?, settings.decimal_comma)?;
    }
    let micros = micros_of(amount)?;
    let order = if settings.has_order {
        let order = value(ORDER)?;
        if order.trim().is_empty() {
            return None;
        }
        order_key_of_text(id_of_text(&order)?)
    } else {
        ts.div_euclid(MICROS_PER_DAY) as u64
    };
    Some(Understood {
        customer,
        ts,
        micros,
        order,
    })
}
