//! `clientele sql` on real engines: DuckDB, PostgreSQL and Apache Spark run the printed queries
//! (tests/engines/run_sql.py starts each engine once for all cases), and
//! - the engine's segment table (`--job segment`) equals `clientele segment`'s, byte for byte
//!   once both are written by clientele's CSV writer (the engine's columns read back and cast to
//!   the types of clientele's own, so the comparison is of values, not of print formats);
//! - the engine's customer table (`--job customers`), fed to `--input-kind customers`, gives
//!   the same segment table, byte for byte (and, on PostgreSQL and Spark, with `--clv`, the same
//!   lifetime-value columns);
//! - Spark's hive-partitioned copy of a log, read as a directory, gives the same table too.
//!
//! The cases cover Parquet and CSV logs, both returns policies, a given as-of date, quantity ×
//! price, text and integer ids, the three binning methods, own rules and both ABC bases.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use clientele::output::{OutputFormat, write_frame_to};
use clientele::polars::prelude::*;

use crate::support::{run, stderr};

#[derive(Debug, Clone, Copy, PartialEq)]
enum Engine {
    DuckDb,
    Postgres,
    Spark,
}

impl Engine {
    fn name(self) -> &'static str {
        match self {
            Engine::DuckDb => "duckdb",
            Engine::Postgres => "postgres",
            Engine::Spark => "spark",
        }
    }

    /// The `--dialect` of the engine.
    fn dialect(self) -> &'static str {
        self.name()
    }

    /// Where the engine writes a result: Parquet (DuckDB), CSV (PostgreSQL's COPY), a
    /// directory of Parquet parts (Spark).
    fn output(self, dir: &Path, stem: &str) -> PathBuf {
        match self {
            Engine::DuckDb => dir.join(format!("{stem}.duckdb.parquet")),
            Engine::Postgres => dir.join(format!("{stem}.postgres.csv")),
            Engine::Spark => dir.join(format!("{stem}.spark")),
        }
    }

    /// What is missing to run the engine, if anything.
    fn missing(self, python: &str) -> Option<String> {
        let module = if self == Engine::Spark {
            "import duckdb, pyspark"
        } else {
            "import duckdb"
        };
        let imports = Command::new(python).args(["-c", module]).output();
        if !imports.is_ok_and(|o| o.status.success()) {
            return Some(format!("{python} cannot `{module}` (.ci/requirements.txt)"));
        }
        let program = |name: &str, arg: &str| {
            Command::new(name)
                .arg(arg)
                .output()
                .is_ok_and(|o| o.status.success())
        };
        match self {
            Engine::DuckDb => None,
            Engine::Postgres => {
                let initdb =
                    program("initdb", "--version") || glob_exists("/usr/lib/postgresql/*/bin/initdb");
                (!(initdb && program("psql", "--version")))
                    .then(|| "PostgreSQL's initdb and psql (Debian's postgresql)".to_string())
            }
            Engine::Spark => {
                (!program("java", "-version")).then(|| "java (openjdk-17-jre-headless)".to_string())
            }
        }
    }
}

fn glob_exists(pattern: &str) -> bool {
    let (dir, file) = pattern.rsplit_once("/*/").expect("a pattern dir/*/file");
    std::fs::read_dir(dir).is_ok_and(|entries| entries.flatten().any(|e| e.path().join(file).exists()))
}

/// The Python with the engines' client packages (`CLIENTELE_PYTHON`), or `None` to skip; under
/// `CI=true` a missing engine fails the test.
fn python_for(engine: Engine) -> Option<String> {
    let python = std::env::var("CLIENTELE_PYTHON").unwrap_or_else(|_| "python3".into());
    let Some(missing) = engine.missing(&python) else {
        return Some(python);
    };
    assert!(
        !std::env::var("CI").is_ok_and(|v| v == "true" || v == "1"),
        "{}: {missing} is missing under CI=true (.ci/run installs it)",
        engine.name()
    );
    eprintln!("skipping {}: {missing}", engine.name());
    None
}

/// A generated log and the settings it is segmented with.
struct Case {
    name: &'static str,
    log: PathBuf,
    time: &'static str,
    flags: Vec<String>,
}

fn generate(path: &Path, seed: &str) {
    let out = run(&[
        "generate",
        "--customers",
        "1500",
        "--rows",
        "20000",
        "--seed",
        seed,
        "-q",
        "-o",
        path.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
}

fn strings(flags: &[&str]) -> Vec<String> {
    flags.iter().map(|s| s.to_string()).collect()
}

/// The logs: Parquet and CSV, both returns policies, default and given as-of dates, integer
/// and text ids, amount and quantity × price; quantile, rank and fixed binning; built-in and
/// own rules; ABC by customers and by revenue.
fn cases(dir: &Path) -> Vec<Case> {
    let a = dir.join("a.parquet");
    generate(&a, "11");
    let b = dir.join("b.csv");
    generate(&b, "12");
    let c = dir.join("c.csv");
    text_ids_quantity_price(&c);
    let rules = dir.join("rules.toml");
    std::fs::write(
        &rules,
        "scale = 4\n\n[[segment]]\nname = \"Best\"\nr = \"3-4\"\nfm = \"3-4\"\n\n\
         [[segment]]\nname = \"Can't lose \\\\ them\"\nr = \"1-2\"\nfm = 4\n\n\
         [[segment]]\nname = \"Others\"\n",
    )
    .unwrap();
    let d = dir.join("d.parquet");
    generate(&d, "14");
    vec![
        Case {
            name: "a",
            log: a,
            time: "order_date",
            flags: vec![],
        },
        Case {
            name: "b",
            log: b,
            time: "order_date",
            flags: strings(&[
                "--as-of",
                "2024-06-30",
                "--returns",
                "exclude",
                "--binning",
                "rank",
                "--abc-by",
                "revenue",
            ]),
        },
        Case {
            name: "c",
            log: c,
            time: "ordered",
            flags: [
                strings(&[
                    "--customer",
                    "customer",
                    "--order",
                    "invoice",
                    "--time",
                    "ordered",
                    "--quantity",
                    "quantity",
                    "--price",
                    "unit_price",
                    "--bins",
                    "4",
                    "--abc-splits",
                    "70,20,10",
                    "--rules",
                ]),
                vec![rules.display().to_string()],
            ]
            .concat(),
        },
        Case {
            name: "d",
            log: d,
            time: "order_date",
            flags: strings(&[
                "--as-of",
                "2024-12-31",
                "--binning",
                "fixed",
                "--r-thresholds",
                "30,90,180,365",
                "--f-thresholds",
                "1,2,4,8",
                "--m-thresholds",
                "100,250,500,1000",
                "--abc-by",
                "revenue",
                "--abc-splits",
                "50,30,20",
            ]),
        },
    ]
}

/// A generated CSV rewritten with text ids that sort differently as text and as numbers
/// (`C9` after `c10`), and quantity × unit price instead of the amount.
fn text_ids_quantity_price(path: &Path) {
    let source = path.with_extension("source.csv");
    generate(&source, "13");
    let text = std::fs::read_to_string(&source).unwrap();
    let mut out = String::from("customer,invoice,ordered,quantity,unit_price\n");
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let (customer, order, time, amount): (i64, i64, &str, f64) = (
            f[0].parse().unwrap(),
            f[1].parse().unwrap(),
            f[2],
            f[3].parse().unwrap(),
        );
        let quantity = 1 + order % 3;
        let quantity = if amount < 0.0 { -quantity } else { quantity };
        let price = amount / quantity as f64;
        let id = if customer % 2 == 0 { "c" } else { "C" };
        out.push_str(&format!("{id}{customer},{order},{time},{quantity},{price:.4}\n"));
    }
    std::fs::write(path, out).unwrap();
    std::fs::remove_file(source).unwrap();
}

/// Prints the query `clientele sql` gives for a case into `dir/<stem>.sql`.
fn print_sql(case: &Case, engine: Engine, args: &[&str], dir: &Path, stem: &str) -> PathBuf {
    let table = format!("tx_{}", case.name);
    let mut argv: Vec<&str> = vec![
        "sql",
        case.log.to_str().unwrap(),
        "--dialect",
        engine.dialect(),
        "--table",
        &table,
    ];
    argv.extend(args);
    argv.extend(case.flags.iter().map(String::as_str));
    let out = run(&argv);
    assert!(out.status.success(), "{argv:?}: {}", stderr(&out));
    let path = dir.join(format!("{stem}.sql"));
    std::fs::write(&path, &out.stdout).unwrap();
    path
}

const CLV: [&str; 7] = [
    "--clv",
    "--calibration-end",
    "2024-03-31",
    "--holdout-end",
    "2024-09-30",
    "--period",
    "week",
];

/// Runs `clientele` with the case's flags and more.
fn clientele(args: &[&str], case: &Case) {
    let mut argv: Vec<&str> = args.to_vec();
    argv.extend(case.flags.iter().map(String::as_str));
    let out = run(&argv);
    assert!(out.status.success(), "{argv:?}: {}", stderr(&out));
}

/// A table as an engine wrote it: a Parquet file, a directory of Parquet parts, or CSV (read
/// as text).
fn read_table(path: &Path) -> DataFrame {
    if path.is_dir() {
        let mut parts: Vec<PathBuf> = std::fs::read_dir(path)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
            .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'))
            .collect();
        parts.sort();
        let mut frames = parts.iter().map(|p| read_table(p));
        let first = frames.next().expect("Spark wrote a part");
        return frames.fold(first, |mut all, part| {
            all.vstack_mut(&part).unwrap();
            all
        });
    }
    if path.extension().is_some_and(|e| e == "csv") {
        return CsvReadOptions::default()
            .with_infer_schema_length(Some(0))
            .try_into_reader_with_file_path(Some(path.to_path_buf()))
            .unwrap()
            .finish()
            .unwrap();
    }
    ParquetReader::new(std::fs::File::open(path).unwrap())
        .finish()
        .unwrap()
}

/// A text column parsed to a date or a timestamp (PostgreSQL's COPY writes `2024-01-05` and
/// `2024-01-05 10:00:00`).
fn parse_temporal(column: &Column, target: &DataType) -> Column {
    let text = column.str().unwrap();
    let name = column.name().clone();
    let parsed = match target {
        DataType::Date => {
            let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
            let days: Int32Chunked = text
                .iter()
                .map(|v| {
                    v.map(|v| {
                        (chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d").unwrap() - epoch).num_days() as i32
                    })
                })
                .collect();
            days.into_series()
        }
        _ => {
            let micros: Int64Chunked = text
                .iter()
                .map(|v| {
                    v.map(|v| {
                        chrono::NaiveDateTime::parse_from_str(v, "%Y-%m-%d %H:%M:%S%.f")
                            .unwrap()
                            .and_utc()
                            .timestamp_micros()
                    })
                })
                .collect();
            micros.into_series()
        }
    };
    parsed.with_name(name).cast(target).unwrap().into_column()
}

/// The engine's table with clientele's column names checked and its values cast to the types
/// of clientele's columns.
fn conform(engine: &DataFrame, like: &DataFrame, what: &str) -> DataFrame {
    let names = |f: &DataFrame| {
        f.get_column_names()
            .iter()
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(names(engine), names(like), "{what}: the columns differ");
    let columns: Vec<Column> = like
        .columns()
        .iter()
        .map(|c| {
            let e = engine.column(c.name()).unwrap();
            match (e.dtype(), c.dtype()) {
                (DataType::String, DataType::Date | DataType::Datetime(..)) => parse_temporal(e, c.dtype()),
                _ => e
                    .strict_cast(c.dtype())
                    .unwrap_or_else(|err| panic!("{what}: column {}: {err}", c.name())),
            }
        })
        .collect();
    DataFrame::new_infer_height(columns).unwrap()
}

fn csv_bytes(frame: &DataFrame) -> String {
    let mut out = Vec::new();
    write_frame_to(frame, &mut out, OutputFormat::Csv).unwrap();
    String::from_utf8(out).unwrap()
}

/// Two CSV texts are equal, else the first differing line is named.
fn assert_same(expected: &str, actual: &str, what: &str) {
    if expected != actual {
        let line = expected.lines().zip(actual.lines()).position(|(a, b)| a != b);
        panic!(
            "{what}: differs at line {line:?}\n  clientele: {:?}\n  engine:    {:?}\n  ({} and {} lines)",
            line.and_then(|l| expected.lines().nth(l)),
            line.and_then(|l| actual.lines().nth(l)),
            expected.lines().count(),
            actual.lines().count()
        );
    }
}

/// The first rows of the two tables, side by side on stderr (`--nocapture` shows them).
fn show_head(engine: Engine, case: &Case, ours: &str, theirs: &str) {
    eprintln!("{} case {}: clientele segment | engine", engine.name(), case.name);
    for (a, b) in ours.lines().zip(theirs.lines()).take(6) {
        eprintln!("  {a}\n  {b}");
    }
}

/// Every case on one engine: queries printed, run by the engine at once, outputs compared.
fn engine_equals_clientele(engine: Engine) -> Option<(PathBuf, tempfile::TempDir)> {
    let python = python_for(engine)?;
    let test_started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cases = cases(d);
    let mut manifest = Vec::new();
    for case in &cases {
        let mut queries = Vec::new();
        let mut job = |args: &[&str], stem: String| {
            let sql = print_sql(case, engine, args, d, &stem);
            queries.push(serde_json::json!({"sql": sql, "out": engine.output(d, &stem)}));
        };
        job(&["--job", "segment"], format!("{}.segment", case.name));
        job(&["--job", "customers"], format!("{}.customers", case.name));
        if engine != Engine::DuckDb && case.name == "a" {
            job(&CLV, format!("{}.clv", case.name));
        }
        let hive = (engine == Engine::Spark && case.name == "a").then(|| d.join("a.hive"));
        manifest.push(serde_json::json!({
            "table": format!("tx_{}", case.name), "log": case.log, "time": case.time,
            "queries": queries, "hive": hive,
        }));
    }
    let manifest_path = d.join("manifest.json");
    std::fs::write(
        &manifest_path,
        serde_json::json!({ "cases": manifest }).to_string(),
    )
    .unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/engines/run_sql.py");
    let started = Instant::now();
    let out = Command::new(&python)
        .args([
            script.as_os_str(),
            engine.name().as_ref(),
            manifest_path.as_os_str(),
        ])
        .output()
        .unwrap();
    let timing = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{} failed:\n{timing}", engine.name());
    eprintln!(
        "{} ran {} cases in {:.1} s:\n{timing}",
        engine.name(),
        cases.len(),
        started.elapsed().as_secs_f64()
    );
    for case in &cases {
        compare_case(engine, case, d);
    }
    eprintln!(
        "{} test: {:.1} s",
        engine.name(),
        test_started.elapsed().as_secs_f64()
    );
    Some((d.join("a.hive"), dir))
}

/// The engine's segment table, and the segment table of its customer table, against
/// `clientele segment` on the log.
fn compare_case(engine: Engine, case: &Case, d: &Path) {
    let what = |s: &str| {
        format!(
            "{} case {} ({}): {s}",
            engine.name(),
            case.name,
            case.log.display()
        )
    };
    let log = case.log.to_str().unwrap();
    let direct = d.join(format!("{}.{}.direct.parquet", case.name, engine.name()));
    clientele(&["segment", log, "-q", "-o", direct.to_str().unwrap()], case);
    let ours = read_table(&direct);
    assert!(ours.height() > 500, "{}", what("customers"));
    let theirs = conform(
        &read_table(&engine.output(d, &format!("{}.segment", case.name))),
        &ours,
        &what("segment"),
    );
    let (ours_csv, theirs_csv) = (csv_bytes(&ours), csv_bytes(&theirs));
    if case.name == "a" || case.name == "c" {
        show_head(engine, case, &ours_csv, &theirs_csv);
    }
    assert_same(&ours_csv, &theirs_csv, &what("--job segment"));

    let customers = engine.output(d, &format!("{}.customers", case.name));
    let via = d.join(format!("{}.{}.via.parquet", case.name, engine.name()));
    let kind = [
        "segment",
        customers.to_str().unwrap(),
        "--input-kind",
        "customers",
        "-q",
        "-o",
        via.to_str().unwrap(),
    ];
    clientele(&kind, case);
    assert_same(
        &ours_csv,
        &csv_bytes(&read_table(&via)),
        &what("--job customers, then --input-kind customers"),
    );

    if engine != Engine::DuckDb && case.name == "a" {
        let (direct, via) = (d.join("a.clv.direct.csv"), d.join("a.clv.via.csv"));
        clientele(
            &[&["segment", log, "-q", "-o", direct.to_str().unwrap()], &CLV[..]].concat(),
            case,
        );
        let customers = engine.output(d, "a.clv");
        let kind = [
            "segment",
            customers.to_str().unwrap(),
            "--input-kind",
            "customers",
            "-q",
            "-o",
            via.to_str().unwrap(),
        ];
        clientele(&[&kind[..], &CLV[..]].concat(), case);
        let (a, b) = (
            std::fs::read_to_string(direct).unwrap(),
            std::fs::read_to_string(via).unwrap(),
        );
        assert!(
            a.lines().next().unwrap().contains(",p_alive,"),
            "{}",
            what("--clv")
        );
        assert_same(
            &a,
            &b,
            &what("--job customers --clv, then --input-kind customers --clv"),
        );
    }
}

#[test]
fn duckdb_runs_the_segment_and_customer_queries_to_clientele_s_tables() {
    engine_equals_clientele(Engine::DuckDb);
}

#[test]
fn postgres_runs_the_segment_and_customer_queries_to_clientele_s_tables() {
    engine_equals_clientele(Engine::Postgres);
}

/// Spark also writes log `a` as a hive-partitioned tree (`year=2024/month=01/part-….parquet`
/// with `_SUCCESS` and `.crc` files), which clientele reads as a directory: the same segment
/// table, and the partition columns are columns like the others.
#[test]
fn spark_runs_the_segment_and_customer_queries_and_its_hive_tree_reads_back() {
    let Some((hive, dir)) = engine_equals_clientele(Engine::Spark) else {
        return;
    };
    let d = dir.path();
    let files: Vec<String> = walk_names(&hive);
    assert!(files.iter().any(|f| f.ends_with("_SUCCESS")), "{files:?}");
    assert!(files.iter().any(|f| f.ends_with(".crc")), "{files:?}");
    assert!(
        files.iter().any(|f| f.contains("year=2024/month=01/part-")),
        "{files:?}"
    );
    let (direct, via) = (d.join("a.direct.csv"), d.join("a.hive.csv"));
    for (input, out) in [(d.join("a.parquet"), &direct), (hive.clone(), &via)] {
        let run = run(&[
            "segment",
            input.to_str().unwrap(),
            "-q",
            "-o",
            out.to_str().unwrap(),
        ]);
        assert!(run.status.success(), "{}", stderr(&run));
    }
    let (a, b) = (
        std::fs::read_to_string(direct).unwrap(),
        std::fs::read_to_string(via).unwrap(),
    );
    assert_same(&a, &b, "the hive tree read as a directory");
    // The partition column as the customer: one row per month, every row used.
    let months = d.join("months.csv");
    let run = run(&[
        "customers",
        hive.to_str().unwrap(),
        "--customer",
        "month",
        "-q",
        "-o",
        months.to_str().unwrap(),
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    let table = read_table(&months);
    let ids: Vec<String> = table
        .column("customer_id")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|v| v.unwrap().to_string())
        .collect();
    assert_eq!(ids, (1..=12).map(|m| m.to_string()).collect::<Vec<_>>());
    let rows: i64 = table
        .column("transactions")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|v| v.unwrap().parse::<i64>().unwrap())
        .sum();
    assert_eq!(rows, 20_000);
}

/// Every file below `dir`, as paths relative to it.
fn walk_names(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(
                walk_names(&path)
                    .into_iter()
                    .map(|n| format!("{}/{n}", entry.file_name().to_string_lossy())),
            );
        } else {
            out.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    out
}
