//! The row rules in their three forms agree: the Rust check (as the plain-CSV reader runs it),
//! the polars expression (as `classify` runs it, over a DataFrame) and the SQL (as `clientele
//! sql` prints it, run by DuckDB), row by row over a corpus of odd values, under every
//! combination of the policies.

use std::io::Write;
use std::process::{Command, Stdio};

use chrono::{NaiveDate, NaiveDateTime};
use clientele::columns::{AmountColumns, Columns, ResolvedColumns};
use clientele::ingest::{self, IngestOptions};
use clientele::rows::rules::{Reading, RowFacts, RowRules, micros_of};
use clientele::rows::{ExclusionReason, RejectReason};
use clientele::sql::{Dialect, SqlJob};
use clientele::{AsOf, ReturnsPolicy, RowPolicy, RowStatus};
use polars::prelude::*;

use crate::support::python_with;

/// One corpus row: customer id (text or integer), timestamp, amount, order id.
#[derive(Clone)]
struct Row<C> {
    customer: Option<C>,
    ts: Option<NaiveDateTime>,
    amount: Option<f64>,
    order: Option<&'static str>,
}

fn at(date: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(date, "%Y-%m-%d %H:%M:%S").unwrap()
}

/// A valid row, then one odd value at a time, then odd values together (the first rule
/// that applies must win).
fn corpus<C: Clone>(good: C, odd_ids: Vec<Option<C>>) -> Vec<Row<C>> {
    let base = Row {
        customer: Some(good),
        ts: Some(at("2024-03-01 10:00:00")),
        amount: Some(12.5),
        order: Some("o1"),
    };
    let mut rows = vec![base.clone()];
    for id in odd_ids {
        rows.push(Row {
            customer: id,
            ..base.clone()
        });
    }
    for ts in [
        None,
        Some(at("2024-06-30 23:59:59")),
        Some(at("2024-07-01 00:00:00")),
        Some(at("2031-01-01 00:00:00")),
        Some(at("1960-05-05 05:05:05")),
    ] {
        rows.push(Row { ts, ..base.clone() });
    }
    for amount in [
        None,
        Some(0.0),
        Some(-0.0),
        Some(-3.25),
        Some(1e-7),
        Some(-4e-7),
        Some(-6e-7),
        Some(f64::NAN),
        Some(f64::INFINITY),
        Some(f64::NEG_INFINITY),
        Some(9.2e12),
        Some(-9.2e12),
        Some(9.19e12),
        Some(-9.19e12),
        Some(1e300),
    ] {
        rows.push(Row {
            amount,
            ..base.clone()
        });
    }
    for order in [
        None,
        Some(""),
        Some("  "),
        Some("\t"),
        Some("7.5"),
        Some("7.0"),
        Some(" o2 "),
    ] {
        rows.push(Row {
            order,
            ..base.clone()
        });
    }
    // Several odd values: the earliest rule decides.
    rows.push(Row {
        customer: None,
        ts: None,
        amount: Some(f64::NAN),
        order: None,
    });
    rows.push(Row {
        ts: Some(at("2024-07-02 00:00:00")),
        amount: Some(-1.0),
        order: None,
        ..base.clone()
    });
    rows.push(Row {
        ts: Some(at("2024-07-02 00:00:00")),
        amount: Some(-1.0),
        ..base.clone()
    });
    rows.push(Row {
        ts: None,
        amount: None,
        ..base.clone()
    });
    rows
}

/// How one reader reads an id: the rules' reading, or SQL's (DuckDB's `TRIM` removes space
/// separators, not tabs or line ends, and fractional ids are ids).
trait Id: Clone {
    fn reading(&self, sql: bool) -> Reading;
}

impl Id for &'static str {
    fn reading(&self, sql: bool) -> Reading {
        match sql {
            false => Reading::of_text_id(self),
            true if self.chars().all(sql_trims) => Reading::Missing,
            true => Reading::Read,
        }
    }
}

/// Whether DuckDB's `TRIM` removes `c`: white space that is not a control character or a line
/// or paragraph separator (Unicode's space separators).
fn sql_trims(c: char) -> bool {
    c.is_whitespace() && !c.is_control() && !matches!(c, '\u{2028}' | '\u{2029}')
}

impl Id for i64 {
    fn reading(&self, _: bool) -> Reading {
        Reading::Read
    }
}

fn id_reading<C: Id>(id: &Option<C>, sql: bool) -> Reading {
    id.as_ref().map_or(Reading::Missing, |id| id.reading(sql))
}

/// The facts of a row as clientele reads them, or as the SQL reads them (see the module
/// documentation of `clientele::rows::rules`): non-finite amounts are NULL micro-units there.
fn facts<C: Id>(row: &Row<C>, has_order: bool, sql: bool) -> RowFacts {
    let micros = row.amount.and_then(micros_of);
    RowFacts {
        customer: id_reading(&row.customer, sql),
        time: if row.ts.is_some() {
            Reading::Read
        } else {
            Reading::Missing
        },
        amount: match row.amount {
            None => Reading::Missing,
            Some(_) if sql && micros.is_none() => Reading::Missing,
            Some(_) => Reading::Read,
        },
        micros,
        order: if has_order {
            id_reading(&row.order, sql)
        } else {
            Reading::Read
        },
        day: row
            .ts
            .map_or(0, |ts| ts.and_utc().timestamp_micros().div_euclid(86_400_000_000)),
    }
}

fn frame<C>(rows: &[Row<C>], customer: Column, has_order: bool) -> DataFrame {
    let ts: Vec<Option<i64>> = rows
        .iter()
        .map(|r| r.ts.map(|t| t.and_utc().timestamp_micros()))
        .collect();
    let mut columns = vec![
        customer,
        Column::new("ts".into(), ts)
            .cast(&DataType::Datetime(TimeUnit::Microseconds, None))
            .unwrap(),
        Column::new("amount".into(), rows.iter().map(|r| r.amount).collect::<Vec<_>>()),
    ];
    if has_order {
        columns.push(Column::new(
            "order".into(),
            rows.iter().map(|r| r.order).collect::<Vec<_>>(),
        ));
    }
    DataFrame::new(rows.len(), columns).unwrap()
}

fn polars_statuses(df: &DataFrame, has_order: bool, policy: &RowPolicy) -> Vec<RowStatus> {
    let mut columns = Columns::default()
        .customer("customer")
        .time("ts")
        .amount("amount");
    columns = if has_order {
        columns.order("order")
    } else {
        columns.without_order()
    };
    let options = IngestOptions {
        columns,
        ..IngestOptions::default()
    };
    let tx = ingest::from_frame("corpus", df.clone().lazy(), &options).unwrap();
    let out = tx.classify(policy).unwrap().collect().unwrap();
    let codes = out.column("status").unwrap().u8().unwrap().clone();
    codes
        .iter()
        .map(|c| RowStatus::from_code(c.unwrap()).unwrap())
        .collect()
}

fn sql_statuses(
    python: &str,
    parquet: &std::path::Path,
    has_order: bool,
    policy: &RowPolicy,
) -> Vec<RowStatus> {
    let mut job = SqlJob::new(
        format!("read_parquet('{}')", parquet.display()),
        ResolvedColumns {
            customer: "customer".into(),
            time: "ts".into(),
            amount: AmountColumns::Amount("amount".into()),
            order: has_order.then(|| "order".into()),
        },
    );
    job.as_of = policy.as_of.date();
    job.returns = policy.returns;
    let query = job.status_query(Dialect::DuckDb).unwrap();
    let script = "import duckdb, sys\n\
                  q = sys.stdin.read().strip().rstrip(';')\n\
                  for (s,) in duckdb.sql(q).fetchall(): print(s)\n";
    let mut child = Command::new(python)
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(query.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "duckdb failed on:\n{query}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|l| RowStatus::from_code(l.parse().unwrap()).unwrap())
        .collect()
}

fn policies() -> Vec<RowPolicy> {
    let mut all = Vec::new();
    for as_of in [
        AsOf::DayAfterLatest,
        AsOf::Date(NaiveDate::from_ymd_opt(2024, 6, 30).unwrap()),
    ] {
        for returns in [ReturnsPolicy::Net, ReturnsPolicy::Exclude] {
            all.push(RowPolicy { as_of, returns });
        }
    }
    all
}

/// Runs the three forms over `rows`; returns every status reached and how many rows SQL
/// reads differently (and so gives another status).
fn compare<C: Id>(
    python: &str,
    rows: &[Row<C>],
    customer: Column,
    has_order: bool,
    dir: &std::path::Path,
) -> (Vec<RowStatus>, usize) {
    let mut df = frame(rows, customer, has_order);
    let parquet = dir.join(format!(
        "corpus-{}-{has_order}.parquet",
        df.column("customer").unwrap().dtype()
    ));
    ParquetWriter::new(std::fs::File::create(&parquet).unwrap())
        .finish(&mut df)
        .unwrap();
    let (mut reached, mut sql_differs) = (Vec::new(), 0);
    for policy in policies() {
        let rules = RowRules::new(&policy);
        let from_polars = polars_statuses(&df, has_order, &policy);
        let from_sql = sql_statuses(python, &parquet, has_order, &policy);
        assert_eq!((from_polars.len(), from_sql.len()), (rows.len(), rows.len()));
        for (i, row) in rows.iter().enumerate() {
            let rust = rules.status(&facts(row, has_order, false));
            let rust_as_sql_reads = rules.status(&facts(row, has_order, true));
            assert_eq!(rust, from_polars[i], "row {i}, {policy:?}: Rust and polars");
            assert_eq!(
                rust_as_sql_reads, from_sql[i],
                "row {i}, {policy:?}: Rust and SQL"
            );
            sql_differs += usize::from(rust != from_sql[i]);
            reached.push(rust);
        }
    }
    (reached, sql_differs)
}

#[test]
fn rust_polars_and_sql_give_every_row_the_same_status() {
    let Some(python) = python_with("duckdb") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let text_ids: Vec<Option<&'static str>> = vec![
        None,
        Some(""),
        Some("   "),
        Some("\t"),
        Some("\u{a0}"),
        Some("\u{3000}\n"),
        Some(" c2 "),
        Some("17850.0"),
        Some("12.5"),
        Some("-3.0"),
        Some("1e3"),
        Some("NaN"),
    ];
    let rows = corpus("c1", text_ids);
    let customers = Column::new(
        "customer".into(),
        rows.iter().map(|r| r.customer).collect::<Vec<_>>(),
    );
    let (mut reached, text_differs) = compare(&python, &rows, customers.clone(), true, dir.path());
    let (_, no_order_differs) = compare(&python, &rows, customers, false, dir.path());

    let rows = corpus(
        17850i64,
        vec![None, Some(0), Some(-1), Some(i64::MAX), Some(i64::MIN)],
    );
    let customers = Column::new(
        "customer".into(),
        rows.iter().map(|r| r.customer).collect::<Vec<_>>(),
    );
    let (int_reached, int_differs) = compare(&python, &rows, customers, false, dir.path());
    reached.extend(int_reached);

    // Every rule about values SQL and polars both see is reached by the corpus.
    for status in [
        RowStatus::Used,
        RowStatus::Rejected(RejectReason::MissingCustomerId),
        RowStatus::Rejected(RejectReason::InvalidCustomerId),
        RowStatus::Rejected(RejectReason::MissingTimestamp),
        RowStatus::Rejected(RejectReason::MissingAmount),
        RowStatus::Rejected(RejectReason::NonFiniteAmount),
        RowStatus::Rejected(RejectReason::MissingOrderId),
        RowStatus::Rejected(RejectReason::InvalidOrderId),
        RowStatus::Excluded(ExclusionReason::AfterAsOf),
        RowStatus::Excluded(ExclusionReason::Return),
    ] {
        assert!(reached.contains(&status), "no corpus row is {status:?}");
    }
    // SQL reads differently exactly where the rules' documentation says: with text ids, the
    // ids of a tab and of an ideographic space and a line end, the fractional id (`12.5`), the
    // order ids `\t` and `7.5`, and the non-finite amounts (a missing amount there), under each
    // of the 4 policies.
    assert_eq!(text_differs, 4 * (2 + 1 + 2 + 6));
    assert_eq!(no_order_differs, 4 * (2 + 1 + 6));
    assert_eq!(int_differs, 4 * 6);
}
