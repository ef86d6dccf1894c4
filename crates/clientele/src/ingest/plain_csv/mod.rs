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
use std::fs::File;
use std::io::Read;
use std::sync::Arc;

use polars::prelude::*;
use rayon::prelude::*;

use crate::columns::AmountColumns;
use crate::customers::accumulate::{Accumulator, ParsedRows, added_columns, order_key_of_text};
use crate::error::{Error, PolarsContext, Result};
use crate::ingest::source::{DecimalSeparator, DelimitedFiles};
use crate::ingest::time::epoch_days;
use crate::ingest::{MAX_ABS_AMOUNT, MICROS_PER_UNIT, Transactions, id_of_text};
use crate::rows::{ExclusionReason, ReturnsPolicy, RowPolicy, RowStatus};

/// Bytes per block handed to one parsing task.
const BLOCK_BYTES: usize = 4 << 20;
/// Odd rows are classified by polars in batches of this many.
const ODD_BATCH: usize = 100_000;
const MICROS_PER_DAY: i64 = 86_400_000_000;

/// What the reader did: the accumulated rows, or why the input goes to the polars path.
pub(crate) enum Outcome {
    Done(Box<Accumulator>),
    NotPlain(String),
}

/// The shape of the timestamps this reader parses itself, from the detected format.
#[derive(Debug, Clone, Copy, PartialEq)]
enum TimeShape {
    /// `YYYY-MM-DD`
    Date,
    /// `YYYY-MM-DD?HH:MM` with `?` the separator byte.
    Minutes(u8),
    /// `YYYY-MM-DD?HH:MM:SS` (fractions of a second are left to polars).
    Seconds(u8),
}

fn time_shape(format: &str) -> Option<TimeShape> {
    Some(match format {
        "%Y-%m-%d" => TimeShape::Date,
        "%Y-%m-%d %H:%M" => TimeShape::Minutes(b' '),
        "%Y-%m-%dT%H:%M" => TimeShape::Minutes(b'T'),
        "%Y-%m-%d %H:%M:%S" | "%Y-%m-%d %H:%M:%S%.f" => TimeShape::Seconds(b' '),
        "%Y-%m-%dT%H:%M:%S" | "%Y-%m-%dT%H:%M:%S%.f" => TimeShape::Seconds(b'T'),
        _ => return None,
    })
}

/// Everything a parsing task needs, shared by all blocks.
struct Settings {
    separator: u8,
    quote: Option<u8>,
    time: TimeShape,
    decimal_comma: bool,
    /// Rows dated after this day (since the epoch) are excluded.
    as_of_day: Option<i64>,
    exclude_returns: bool,
    has_order: bool,
    has_price: bool,
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

/// Rows a block produced: understood rows, and the role fields of odd ones.
struct Parsed {
    rows: ParsedRows,
    odd: Vec<[Option<String>; ROLES]>,
}

/// Reads `tx` (a plain CSV input, see [`Transactions::delimited`]) into an accumulator, or
/// says why the polars path must read it. `None` when the input does not qualify at all.
pub(crate) fn accumulate(tx: &Transactions, policy: &RowPolicy) -> Option<Result<Outcome>> {
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
        as_of_day: policy.as_of.date().map(epoch_days),
        exclude_returns: policy.returns == ReturnsPolicy::Exclude,
        has_order: names[ORDER].is_some(),
        has_price: names[PRICE].is_some(),
    };
    Some(run(tx, policy, files, &names, &settings))
}

fn run(
    tx: &Transactions,
    policy: &RowPolicy,
    files: &DelimitedFiles,
    names: &[Option<&str>; ROLES],
    settings: &Settings,
) -> Result<Outcome> {
    let mut acc = Accumulator::new(true);
    let mut odd: Vec<[Option<String>; ROLES]> = Vec::new();
    let mut reader = BlockReader::new(files, names, settings);
    let round = 2 * rayon::current_num_threads().max(1);
    let mut next = match reader.read_round(round)? {
        Ok(blocks) => blocks,
        Err(why) => return Ok(Outcome::NotPlain(why)),
    };
    let mut previous: Vec<Parsed> = Vec::new();
    let mut seen_rows = 0usize;
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
            || -> PolarsResult<usize> {
                let mut rows = 0;
                for block in previous.drain(..) {
                    rows += block.rows.ids.len() + block.odd.len();
                    acc.add_parsed(&block.rows)?;
                    odd.extend(block.odd);
                }
                Ok(rows)
            },
        );
        seen_rows += added.map_err(|e| crate::customers::aggregate_error(tx.source_name(), e))?;
        match (read?, parsed) {
            (Ok(blocks), Ok(parsed)) => {
                next = blocks;
                previous = parsed;
            }
            (Err(why), _) | (_, Err(why)) => return Ok(Outcome::NotPlain(why)),
        }
        if odd.len() >= ODD_BATCH {
            // Mostly odd rows: polars' own reader is the faster way through this file.
            if odd.len() * 2 > seen_rows {
                return Ok(Outcome::NotPlain(format!(
                    "{} of the first {} rows need polars' parsing",
                    odd.len(),
                    seen_rows
                )));
            }
            classify_odd(tx, policy, names, std::mem::take(&mut odd), &mut acc)?;
        }
    }
    classify_odd(tx, policy, names, odd, &mut acc)?;
    Ok(Outcome::Done(Box::new(acc)))
}

/// Classifies odd rows with the polars expressions of the normal path and adds them.
fn classify_odd(
    tx: &Transactions,
    policy: &RowPolicy,
    names: &[Option<&str>; ROLES],
    odd: Vec<[Option<String>; ROLES]>,
    acc: &mut Accumulator,
) -> Result<()> {
    if odd.is_empty() {
        return Ok(());
    }
    let n = odd.len();
    let columns: Vec<Column> = names
        .iter()
        .enumerate()
        .filter_map(|(role, name)| {
            let name = (*name)?;
            let values: StringChunked = odd.iter().map(|row| row[role].as_deref()).collect();
            Some(values.with_name(name.into()).into_column())
        })
        .collect();
    let raw = DataFrame::new(n, columns).context(|| "rows left to polars".into())?;
    let classified = tx
        .classify_frame(raw.lazy(), policy)
        .select(added_columns())
        .collect()
        .map_err(|e| crate::customers::aggregate_error(tx.source_name(), e))?;
    acc.add(&classified)
        .map_err(|e| crate::customers::aggregate_error(tx.source_name(), e))
}

/// Reads the files in blocks of whole lines, one file after another.
struct BlockReader<'a> {
    files: std::slice::Iter<'a, std::path::PathBuf>,
    current: Option<OpenFile>,
    header: bool,
    names: &'a [Option<&'a str>; ROLES],
    settings: &'a Settings,
}

struct OpenFile {
    path: std::path::PathBuf,
    file: File,
    carry: Vec<u8>,
    eof: bool,
    layout: Option<Arc<Layout>>,
}

impl<'a> BlockReader<'a> {
    fn new(files: &'a DelimitedFiles, names: &'a [Option<&'a str>; ROLES], settings: &'a Settings) -> Self {
        BlockReader {
            files: files.files.iter(),
            current: None,
            header: files.header,
            names,
            settings,
        }
    }

    /// Up to `n` blocks (fewer at the end), or why the input is not plain.
    fn read_round(&mut self, n: usize) -> Result<std::result::Result<Vec<Block>, String>> {
        let mut blocks = Vec::with_capacity(n);
        while blocks.len() < n {
            match self.next_block()? {
                Ok(Some(block)) => blocks.push(block),
                Ok(None) => break,
                Err(why) => return Ok(Err(why)),
            }
        }
        Ok(Ok(blocks))
    }

    fn next_block(&mut self) -> Result<std::result::Result<Option<Block>, String>> {
        loop {
            if self.current.is_none() {
                let Some(path) = self.files.next() else {
                    return Ok(Ok(None));
                };
                let file = File::open(path).map_err(|e| Error::io("cannot open", path, e))?;
                self.current = Some(OpenFile {
                    path: path.clone(),
                    file,
                    carry: Vec::new(),
                    eof: false,
                    layout: None,
                });
            }
            let open = self.current.as_mut().expect("opened above");
            let mut bytes = std::mem::take(&mut open.carry);
            let cut = loop {
                fill(open, &mut bytes, BLOCK_BYTES)?;
                if open.eof {
                    break bytes.len();
                }
                match last_line_end(&bytes, self.settings.quote) {
                    Some(end) => break end,
                    // A line longer than a block: read on.
                    None => {
                        let longer = bytes.len() + BLOCK_BYTES;
                        fill(open, &mut bytes, longer)?
                    }
                }
            };
            open.carry = bytes.split_off(cut);
            if open.layout.is_none() {
                let (layout, header_end) = match layout_of(&bytes, self.header, self.names, self.settings) {
                    Ok(found) => found,
                    Err(why) => return Ok(Err(format!("{}: {why}", open.path.display()))),
                };
                open.layout = Some(Arc::new(layout));
                bytes.drain(..header_end);
            }
            let layout = Arc::clone(open.layout.as_ref().expect("set above"));
            if open.eof && open.carry.is_empty() {
                self.current = None;
            }
            if !bytes.is_empty() {
                return Ok(Ok(Some(Block { layout, bytes })));
            }
        }
    }
}

/// Reads until `bytes` holds `target` bytes or the file ends (into spare capacity: no
/// zero-filling of the buffer first).
fn fill(open: &mut OpenFile, bytes: &mut Vec<u8>, target: usize) -> Result<()> {
    let wanted = target.saturating_sub(bytes.len());
    if wanted == 0 || open.eof {
        return Ok(());
    }
    bytes.reserve(wanted);
    let read = (&mut open.file)
        .take(wanted as u64)
        .read_to_end(bytes)
        .map_err(|e| Error::io("cannot read", &open.path, e))?;
    // `read_to_end` stops at the limit or at the end of the file, whichever comes first.
    open.eof = read < wanted;
    Ok(())
}

/// The end (after the `\n`) of the last line in `bytes` that ends outside quotes. Blocks
/// start at line starts, outside quotes, so quote parity tells inside from outside.
fn last_line_end(bytes: &[u8], quote: Option<u8>) -> Option<usize> {
    match quote.filter(|q| memchr::memchr(*q, bytes).is_some()) {
        None => memchr::memrchr(b'\n', bytes).map(|i| i + 1),
        Some(q) => {
            let mut inside = false;
            let mut last = None;
            for i in memchr::memchr2_iter(q, b'\n', bytes) {
                if bytes[i] == q {
                    inside = !inside;
                } else if !inside {
                    last = Some(i + 1);
                }
            }
            last
        }
    }
}

/// One field of a line: its text range, whether `""` escapes must be undone, and where the
/// next field or line starts.
struct Field {
    start: usize,
    end: usize,
    escaped: bool,
    next: usize,
    line_ends: bool,
}

/// Reads the field at `pos`; an error says why the line is not plain.
#[inline]
fn next_field(bytes: &[u8], pos: usize, settings: &Settings) -> std::result::Result<Field, String> {
    let separator = settings.separator;
    let (start, end, escaped, after) = match settings.quote {
        Some(q) if bytes.get(pos) == Some(&q) => {
            let mut p = pos + 1;
            let mut escaped = false;
            loop {
                match memchr::memchr(q, &bytes[p..]) {
                    None => return Err("a quoted field does not end".into()),
                    Some(k) if bytes.get(p + k + 1) == Some(&q) => {
                        escaped = true;
                        p += k + 2;
                    }
                    Some(k) => break (pos + 1, p + k, escaped, p + k + 1),
                }
            }
        }
        quote => {
            // Fields are short: a plain loop beats a vectorised search's set-up.
            let q = quote.unwrap_or(separator);
            let mut end = pos;
            while end < bytes.len() {
                let byte = bytes[end];
                if byte == separator || byte == b'\n' || byte == q {
                    break;
                }
                end += 1;
            }
            if quote.is_some_and(|q| bytes.get(end) == Some(&q)) {
                return Err("a quote inside an unquoted field".into());
            }
            let k = end - pos;
            if bytes.get(end) == Some(&b'\n') && end > pos && bytes[end - 1] == b'\r' {
                end -= 1;
                return Ok(Field {
                    start: pos,
                    end,
                    escaped: false,
                    next: pos + k + 1,
                    line_ends: true,
                });
            }
            (pos, end, false, end)
        }
    };
    let (next, line_ends) = match bytes.get(after) {
        Some(b) if *b == separator => (after + 1, false),
        Some(b'\n') | None => (after + 1, true),
        Some(b'\r') if bytes.get(after + 1) == Some(&b'\n') => (after + 2, true),
        Some(_) => return Err("text after a closing quote".into()),
    };
    Ok(Field {
        start,
        end,
        escaped,
        next,
        line_ends,
    })
}

/// A field's text, quotes undone.
fn field_text<'t>(text: &'t str, field: &Field, quote: Option<u8>) -> std::borrow::Cow<'t, str> {
    let raw = &text[field.start..field.end];
    match quote {
        Some(q) if field.escaped => {
            let q = char::from(q).to_string();
            std::borrow::Cow::Owned(raw.replace(&q.repeat(2), &q))
        }
        _ => std::borrow::Cow::Borrowed(raw),
    }
}

/// The role of each field from the header (or `column_N` names without one), and where the
/// data starts.
fn layout_of(
    bytes: &[u8],
    header: bool,
    names: &[Option<&str>; ROLES],
    settings: &Settings,
) -> std::result::Result<(Layout, usize), String> {
    if bytes.starts_with("\u{feff}".as_bytes()) {
        return Err("starts with a byte-order mark".into());
    }
    let text = std::str::from_utf8(bytes).map_err(|_| "is not UTF-8".to_string())?;
    let mut fields = Vec::new();
    let mut pos = 0;
    loop {
        let field = next_field(bytes, pos, settings)?;
        fields.push(field_text(text, &field, settings.quote).into_owned());
        pos = field.next;
        if field.line_ends {
            break;
        }
    }
    let found: Vec<String> = if header {
        fields
    } else {
        (1..=fields.len()).map(|i| format!("column_{i}")).collect()
    };
    let mut role_of_field = vec![NOT_A_ROLE; found.len()];
    for (role, name) in names.iter().enumerate() {
        let Some(name) = name else { continue };
        let mut at = found.iter().enumerate().filter(|(_, f)| f == name);
        match (at.next(), at.next()) {
            (Some((i, _)), None) => role_of_field[i] = role as u8,
            (None, _) => return Err(format!("has no column {name:?}")),
            (Some(_), Some(_)) => return Err(format!("has two columns named {name:?}")),
        }
    }
    Ok((
        Layout { role_of_field },
        if header { pos.min(bytes.len()) } else { 0 },
    ))
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
    let (mut used, mut after_as_of, mut returns) = (0u64, 0u64, 0u64);
    let mut pos = 0;
    while pos < bytes.len() {
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
        let value = |role: usize| spans[role].as_ref().map(|f| field_text(text, f, settings.quote));
        match understand(&value, settings) {
            Some(row) => match row.status(settings) {
                Status::Used => {
                    used += 1;
                    let customer = row.customer;
                    match crate::customers::canonical_integer(&customer) {
                        Some(id) => rows.ids.push(id),
                        None => {
                            rows.text_ids.push((rows.ids.len() as u32, customer.into()));
                            rows.ids.push(0);
                        }
                    }
                    rows.ts.push(row.ts);
                    rows.amounts.push(row.micros);
                    rows.orders.push(row.order);
                }
                Status::AfterAsOf => after_as_of += 1,
                Status::Return => returns += 1,
            },
            None => odd.push(std::array::from_fn(|role| {
                value(role).filter(|v| !v.is_empty()).map(|v| v.into_owned())
            })),
        }
    }
    rows.status_counts = vec![
        (RowStatus::Used.code(), used),
        (
            RowStatus::Excluded(ExclusionReason::AfterAsOf).code(),
            after_as_of,
        ),
        (RowStatus::Excluded(ExclusionReason::Return).code(), returns),
    ];
    Ok(Parsed { rows, odd })
}

/// A row whose every role value this reader understands.
struct Understood<'t> {
    /// The customer id as [`id_of_text`] reads it.
    customer: Cow<'t, str>,
    ts: i64,
    micros: i64,
    order: u64,
}

enum Status {
    Used,
    AfterAsOf,
    Return,
}

impl Understood<'_> {
    /// The policies, in the order the classification applies them.
    fn status(&self, settings: &Settings) -> Status {
        if settings
            .as_of_day
            .is_some_and(|day| self.ts.div_euclid(MICROS_PER_DAY) > day)
        {
            Status::AfterAsOf
        } else if settings.exclude_returns && self.micros < 0 {
            Status::Return
        } else {
            Status::Used
        }
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
    if !(amount.is_finite() && amount.abs() < MAX_ABS_AMOUNT) {
        return None;
    }
    let micros = (amount * MICROS_PER_UNIT).round() as i64;
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

/// `-?[0-9]+([.][0-9]+)?` (a comma for the point with a decimal comma), at most 18 digits, as
/// the correctly rounded `f64` that polars' cast gives: a mantissa below 2⁵³ divided by an
/// exact power of ten is one correctly rounded operation (Clinger's fast path); other values
/// go through the standard library's exact parser.
fn parse_decimal(text: &str, decimal_comma: bool) -> Option<f64> {
    const POWERS: [f64; 19] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17,
        1e18,
    ];
    let bytes = text.as_bytes();
    let (negative, digits) = match bytes.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, bytes),
    };
    let point = if decimal_comma { b',' } else { b'.' };
    let (mut mantissa, mut count, mut fraction, mut seen_point) = (0u64, 0usize, 0usize, false);
    for byte in digits {
        if *byte == point {
            if seen_point || count == 0 {
                return None;
            }
            seen_point = true;
            continue;
        }
        let digit = byte.wrapping_sub(b'0');
        if digit > 9 || count == 18 {
            return None;
        }
        mantissa = mantissa * 10 + u64::from(digit);
        count += 1;
        fraction += usize::from(seen_point);
    }
    if count == 0 || (seen_point && fraction == 0) {
        return None;
    }
    let magnitude = if mantissa < 1 << 53 {
        mantissa as f64 / POWERS[fraction]
    } else if decimal_comma {
        text.replace(',', ".").trim_start_matches('-').parse().ok()?
    } else {
        text.trim_start_matches('-').parse().ok()?
    };
    Some(if negative { -magnitude } else { magnitude })
}

/// Microseconds since the epoch of a timestamp written exactly in `shape` (years 1000 to
/// 9999), if it is a valid date and time.
fn parse_time(text: &str, shape: TimeShape) -> Option<i64> {
    let b = text.as_bytes();
    let (len, time_separator) = match shape {
        TimeShape::Date => (10, None),
        TimeShape::Minutes(sep) => (16, Some(sep)),
        TimeShape::Seconds(sep) => (19, Some(sep)),
    };
    if b.len() != len || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let digits = |at: usize, n: usize| -> Option<i64> {
        b[at..at + n].iter().try_fold(0i64, |value, byte| {
            let digit = byte.wrapping_sub(b'0');
            (digit <= 9).then(|| value * 10 + i64::from(digit))
        })
    };
    let (year, month, day) = (digits(0, 4)?, digits(5, 2)?, digits(8, 2)?);
    if year < 1000 || !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let mut seconds = 0;
    if let Some(sep) = time_separator {
        if b[10] != sep || b[13] != b':' || (len == 19 && b[16] != b':') {
            return None;
        }
        let (hour, minute) = (digits(11, 2)?, digits(14, 2)?);
        let second = if len == 19 { digits(17, 2)? } else { 0 };
        if hour > 23 || minute > 59 || second > 59 {
            return None;
        }
        seconds = hour * 3600 + minute * 60 + second;
    }
    Some((days_from_civil(year, month, day) * 86_400 + seconds) * 1_000_000)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a valid proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let day_of_year = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use chrono::{Datelike, NaiveDate};

    use super::*;

    fn settings(quote: Option<u8>) -> Settings {
        Settings {
            separator: b',',
            quote,
            time: TimeShape::Seconds(b' '),
            decimal_comma: false,
            as_of_day: None,
            exclude_returns: false,
            has_order: true,
            has_price: false,
        }
    }

    #[test]
    fn times_parse_exactly_in_their_shape_or_not_at_all() {
        let s = TimeShape::Seconds(b' ');
        assert_eq!(parse_time("1970-01-02 00:00:01", s), Some(86_401_000_000));
        assert_eq!(parse_time("1969-12-31 23:59:59", s), Some(-1_000_000));
        for odd in [
            "2024-02-30 10:00:00",
            "2024-1-01 10:00:00",
            "2024-01-01 24:00:00",
            "2024-01-01 10:00:60",
            "2024-01-01T10:00:00",
            "2024-01-01 10:00:00.5",
            " 2024-01-01 10:00:00",
        ] {
            assert_eq!(parse_time(odd, s), None, "{odd}");
        }
        assert_eq!(
            parse_time("2024-02-29", TimeShape::Date),
            Some(19_782 * 86_400_000_000)
        );
        assert_eq!(
            parse_time("2024-02-29T08:30", TimeShape::Minutes(b'T')),
            Some((19_782 * 86_400 + 30_600) * 1_000_000)
        );
    }

    #[test]
    fn civil_days_match_chrono() {
        let mut date = NaiveDate::from_ymd_opt(1000, 1, 1).unwrap();
        while date.year() < 10_000 {
            let (y, m, d) = (date.year() as i64, date.month() as i64, date.day() as i64);
            assert_eq!(days_from_civil(y, m, d), epoch_days(date), "{date}");
            assert!(d <= days_in_month(y, m));
            date += chrono::Duration::days(1 + (y % 7));
        }
    }

    #[test]
    fn decimals_agree_with_the_exact_parser() {
        for text in [
            "0.1",
            "66.38",
            "-0",
            "123456789012345678",
            "9007199254740993",
            "0.00000000000000001",
            "3.14159265358979323",
        ] {
            let standard: f64 = text.parse().unwrap();
            assert_eq!(
                parse_decimal(text, false).map(f64::to_bits),
                Some(standard.to_bits()),
                "{text}"
            );
        }
    }

    #[test]
    fn decimals_are_plain_or_left_to_polars() {
        assert_eq!(parse_decimal("66.38", false), Some(66.38));
        assert_eq!(parse_decimal("-5", false), Some(-5.0));
        assert_eq!(parse_decimal("12,5", true), Some(12.5));
        for odd in [
            "1e3", "+5", ".5", "5.", "", "-", " 5", "1.2.3", "inf", "NaN", "12,5",
        ] {
            assert_eq!(parse_decimal(odd, false), None, "{odd}");
        }
        assert_eq!(parse_decimal("1.234,5", true), None);
    }

    #[test]
    fn fields_handle_quotes_crlf_and_refuse_stray_quotes() {
        let s = settings(Some(b'"'));
        let line = b"\"a,\"\"b\"\",c\",2\r\nnext";
        let text = std::str::from_utf8(line).unwrap();
        let first = next_field(line, 0, &s).unwrap();
        assert_eq!(field_text(text, &first, s.quote), "a,\"b\",c");
        let second = next_field(line, first.next, &s).unwrap();
        assert!(second.line_ends);
        assert_eq!(field_text(text, &second, s.quote), "2");
        assert_eq!(&line[second.next..], b"next");
        assert!(next_field(b"5\" screen,1\n", 0, &s).is_err());
        assert!(next_field(b"\"open,1\n", 0, &s).is_err());
    }

    #[test]
    fn blocks_end_at_line_ends_outside_quotes() {
        assert_eq!(last_line_end(b"a,1\nb,2\nc,", Some(b'"')), Some(8));
        assert_eq!(last_line_end(b"a,1\n\"b\n2\",3\nc", Some(b'"')), Some(12));
        assert_eq!(last_line_end(b"a,1\n\"b\n2", Some(b'"')), Some(4));
        assert_eq!(last_line_end(b"no line end", None), None);
    }

    /// Writes `content` as a CSV file, reads it with this reader (which must take it) and with
    /// polars' reader and group-by (the reference plan): tables and row accounts must agree.
    fn agrees_with_polars(content: &str, options: &crate::ingest::IngestOptions, policy: &RowPolicy) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.csv");
        std::fs::write(&path, content).unwrap();
        let tx = crate::ingest::scan(&path, options).unwrap();
        match accumulate(&tx, policy).expect("a plain CSV qualifies").unwrap() {
            Outcome::Done(_) => {}
            Outcome::NotPlain(why) => panic!("handed to polars: {why}"),
        }
        let fast = crate::customers::aggregate(&tx, policy).unwrap();
        let reference = crate::customers::aggregate_with_group_by(&tx, policy).unwrap();
        assert_eq!(fast.reconciliation, reference.reconciliation);
        assert_eq!(fast.as_of, reference.as_of);
        assert!(
            fast.frame.equals_missing(&reference.frame),
            "{}\n{}",
            fast.frame,
            reference.frame
        );
    }

    #[test]
    fn odd_values_quotes_and_policies_come_out_as_polars_reads_them() {
        let content = "customer_id,order_id,order_date,amount,note\r\n\
            1,10,2024-01-05 10:00:00,10.50,plain\r\n\
            1,10,2024-01-05 10:00:00,2.25,\"second line, same order\"\r\n\
            \"2\",11,2024-01-06 11:30:00,-3.5,\"a \"\"quoted\"\" note\"\r\n\
            2,12,2024-01-07 09:00:00.250,7,fractional seconds go to polars\r\n\
            3,13,2024-01-08 12:00:00,1e3,exponent goes to polars\r\n\
            ,14,2024-01-08 12:00:00,5,missing customer\r\n\
            4,,2024-01-08 12:00:00,5,missing order\r\n\
            4,15,not a date,5,unparsable\r\n\
            4,16,2024-02-30 12:00:00,5,no such day\r\n\
            C5,17,2024-03-01 08:00:00,12.345678,text id\r\n\
            5,18,2024-03-09 08:00:00,4,after the as-of date\r\n\
            6,19,2024-01-09 08:00:00, 8 ,padded amount\r\n\
            6,20,2024-01-09 08:00:00,-8,a return\r\n";
        let options = crate::ingest::IngestOptions::default();
        for returns in [ReturnsPolicy::Net, ReturnsPolicy::Exclude] {
            let policy = RowPolicy {
                as_of: crate::rows::AsOf::Date(NaiveDate::from_ymd_opt(2024, 3, 5).unwrap()),
                returns,
            };
            agrees_with_polars(content, &options, &policy);
        }
        agrees_with_polars(content, &options, &RowPolicy::default());
    }

    #[test]
    fn quantity_times_price_dates_decimal_commas_and_no_order_column() {
        let content = "kunde;datum;menge;preis\n\
            7;2024-01-05;2;3,5\n\
            7;2024-01-05;1;0,25\n\
            8;2024-01-07;-1;3,5\n\
            8;2024-01-09;3;1.5\n\
            9;2024-01-09;3;\n";
        let mut options = crate::ingest::IngestOptions::default();
        options.csv.decimal = DecimalSeparator::Comma;
        options.columns.customer = Some("kunde".into());
        options.columns.time = Some("datum".into());
        options.columns.quantity = Some("menge".into());
        options.columns.price = Some("preis".into());
        agrees_with_polars(content, &options, &RowPolicy::default());
    }

    #[test]
    fn many_blocks_and_a_multi_line_quoted_field_read_like_polars() {
        let mut content = String::from("customer_id,order_id,order_date,amount,note\n");
        for i in 0..300_000u64 {
            let note = if i % 50_000 == 7 { "\"two\nlines\"" } else { "x" };
            content.push_str(&format!(
                "{},{},2024-{:02}-{:02} {:02}:{:02}:00,{}.{:02},{note}\n",
                i % 7919,
                i / 2,
                1 + i % 12,
                1 + i % 28,
                i % 24,
                i % 60,
                i % 500,
                i % 100
            ));
        }
        assert!(content.len() > 2 * BLOCK_BYTES);
        agrees_with_polars(
            &content,
            &crate::ingest::IngestOptions::default(),
            &RowPolicy::default(),
        );
    }

    #[test]
    fn online_retail_as_plain_csv_reads_like_polars() {
        // Quoted descriptions with commas, text invoice numbers with C-prefixed cancellations,
        // quantity x unit price, 135,080 rows without a customer id (left to polars).
        let dir = std::env::var_os("CLIENTELE_DATASETS")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| {
                std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/datasets")
            });
        let gz = dir.join("online_retail/online_retail.csv.gz");
        if !gz.is_file() {
            assert!(
                std::env::var("CI").is_err(),
                "{} is missing: set CLIENTELE_DATASETS (real-data tests never skip under CI=true)",
                gz.display()
            );
            eprintln!("skipping: {} not found", gz.display());
            return;
        }
        let mut text = String::new();
        std::io::Read::read_to_string(
            &mut flate2::read::GzDecoder::new(std::fs::File::open(&gz).unwrap()),
            &mut text,
        )
        .unwrap();
        let options = crate::ingest::IngestOptions::default();
        agrees_with_polars(&text, &options, &RowPolicy::default());
        let exclude = RowPolicy {
            returns: ReturnsPolicy::Exclude,
            ..RowPolicy::default()
        };
        agrees_with_polars(&text, &options, &exclude);
    }

    #[test]
    fn ids_written_with_a_point_read_like_polars() {
        let content = "customer_id,order_id,order_date,amount\n\
            17850.0,10.0,2024-01-01 10:00:00,5.25\n\
            17850,10,2024-01-01 10:00:00,1.75\n\
            12.5,11,2024-01-02 10:00:00,3\n\
            13,12.5,2024-01-03 10:00:00,4\n\
            -4.0,14.00,2024-01-05 10:00:00,1\n";
        let options = crate::ingest::IngestOptions::default();
        agrees_with_polars(content, &options, &RowPolicy::default());
    }

    #[test]
    fn ragged_lines_go_back_to_polars() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ragged.csv");
        std::fs::write(
            &path,
            "customer_id,order_date,amount\n1,2024-01-01,5\n2,2024-01-02\n",
        )
        .unwrap();
        let tx = crate::ingest::scan(&path, &crate::ingest::IngestOptions::default()).unwrap();
        match accumulate(&tx, &RowPolicy::default()).unwrap().unwrap() {
            Outcome::NotPlain(why) => assert!(why.contains("fields"), "{why}"),
            Outcome::Done(_) => panic!("a ragged line was read"),
        }
    }
}
