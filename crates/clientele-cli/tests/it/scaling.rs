//! Past one machine: the SQL `clientele sql` prints, run by DuckDB, gives a customer table
//! that `--input-kind customers` turns into the same segment table as the direct run.

use std::path::Path;
use std::process::Command;

use crate::support::{run, stderr, stdout};

/// A Python that can import duckdb (`CLIENTELE_PYTHON`; required under `CI=true`).
fn python_with_duckdb() -> Option<String> {
    let python = std::env::var("CLIENTELE_PYTHON").unwrap_or_else(|_| "python3".into());
    let ok = Command::new(&python)
        .args(["-c", "import duckdb"])
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        return Some(python);
    }
    assert!(
        !std::env::var("CI").is_ok_and(|v| v == "true" || v == "1"),
        "{python} cannot import duckdb under CI=true (.ci/run installs it; set CLIENTELE_PYTHON)"
    );
    eprintln!("skipping: {python} cannot import duckdb");
    None
}

/// Runs `query` in DuckDB (in `dir`, so relative paths in it resolve) into `out` (Parquet).
fn duckdb(python: &str, dir: &Path, query: &str, out: &Path) {
    let script = "import duckdb, sys\n\
                  q = sys.stdin.read().strip().rstrip(';')\n\
                  duckdb.sql(q).write_parquet(sys.argv[1])\n";
    let mut child = Command::new(python)
        .args(["-c", script, out.to_str().unwrap()])
        .current_dir(dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(query.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "duckdb failed on:\n{query}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn the_printed_duckdb_query_feeds_the_same_segment_table() {
    let Some(python) = python_with_duckdb() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for (log, extra) in [
        // Parquet with native timestamps and integer ids; defaults.
        ("log.parquet", vec![]),
        // CSV with text timestamps; a given as-of date (later rows left out) and returns excluded.
        ("log.csv", vec!["--as-of", "2024-06-30", "--returns", "exclude"]),
        // Lifetime value from the btyd_* columns: calibration, holdout, weekly periods.
        (
            "clv.parquet",
            vec![
                "--clv",
                "--calibration-end",
                "2024-03-31",
                "--holdout-end",
                "2024-09-30",
                "--period",
                "week",
            ],
        ),
    ] {
        let generated = run(&[
            "generate",
            "--customers",
            "2000",
            "--rows",
            "30000",
            "--seed",
            "11",
            "-q",
            "-o",
            d.join(log).to_str().unwrap(),
        ]);
        assert!(generated.status.success(), "{}", stderr(&generated));
        let sql = run(&[
            &["sql", d.join(log).to_str().unwrap(), "--dialect", "duckdb"],
            &extra[..],
        ]
        .concat());
        assert!(sql.status.success(), "{}", stderr(&sql));
        let query = stdout(&sql);
        assert!(
            query.contains("COUNT(DISTINCT \"order_id\") FILTER (WHERE micros >= 0)"),
            "{query}"
        );
        let customers = d.join(format!("{log}.customers.parquet"));
        duckdb(&python, d, &query, &customers);

        let direct = d.join(format!("{log}.direct.csv"));
        let via = d.join(format!("{log}.via.csv"));
        let a = run(&[
            &[
                "segment",
                d.join(log).to_str().unwrap(),
                "-q",
                "-o",
                direct.to_str().unwrap(),
            ],
            &extra[..],
        ]
        .concat());
        assert!(a.status.success(), "{}", stderr(&a));
        let b = run(&[
            &[
                "segment",
                customers.to_str().unwrap(),
                "--input-kind",
                "customers",
                "-q",
                "-o",
                via.to_str().unwrap(),
            ],
            &extra[..],
        ]
        .concat());
        assert!(b.status.success(), "{}", stderr(&b));
        let (a, b) = (
            std::fs::read_to_string(&direct).unwrap(),
            std::fs::read_to_string(&via).unwrap(),
        );
        assert!(a.lines().count() > 1000, "customers in {log}");
        if extra.contains(&"--clv") {
            let header = a.lines().next().unwrap();
            assert!(
                header.contains(",p_alive,") && header.contains("expected_purchases_holdout"),
                "{header}"
            );
        }
        assert!(
            a == b,
            "{log}: the segment tables differ (first lines: {:?} / {:?})",
            a.lines().nth(1),
            b.lines().nth(1)
        );
    }
}

#[test]
fn a_customer_table_rejects_bad_rows_with_reasons() {
    let dir = tempfile::tempdir().unwrap();
    let table = dir.path().join("customers.csv");
    std::fs::write(
        &table,
        "customer_id,first_purchase,last_purchase,frequency,monetary\n\
         a,2024-01-05,2024-03-01,3,120.5\n\
         b,2024-02-01,2024-02-01,1,40\n\
         ,2024-02-01,2024-02-10,1,10\n\
         c,2024-03-05,2024-02-01,2,10\n\
         d,2024-01-01,2024-01-09,0,10\n\
         e,2024-01-01,yesterday,1,10\n",
    )
    .unwrap();
    let rejects = dir.path().join("rejects.csv");
    let out = run(&[
        "customers",
        table.to_str().unwrap(),
        "--input-kind",
        "customers",
        "--rejects",
        rejects.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("6 rows = 2 used + 0 excluded + 4 rejected"),
        "{}",
        stderr(&out)
    );
    let table = stdout(&out);
    assert!(
        table.starts_with(
            "customer_id,first_purchase,last_purchase,recency_days,tenure_days,frequency,monetary"
        ),
        "{table}"
    );
    // As of the day after the latest last purchase, 2024-03-02.
    assert!(
        table.contains("\na,2024-01-05,2024-03-01,1,57,3,120.5,"),
        "{table}"
    );
    let rejects = std::fs::read_to_string(rejects).unwrap();
    for expected in [
        "missing_customer_id,customer_id,",
        "invalid_first_purchase,first_purchase,2024-03-05",
        "invalid_frequency,frequency,0",
        "unparsable_timestamp,last_purchase,yesterday",
    ] {
        assert!(rejects.contains(expected), "{expected} in\n{rejects}");
    }
    // A customer listed twice is an error, not a silent merge.
    let twice = dir.path().join("twice.csv");
    std::fs::write(
        &twice,
        "customer_id,first_purchase,last_purchase,frequency,monetary\na,2024-01-05,2024-03-01,3,1\na,2024-01-05,2024-03-01,3,1\n",
    )
    .unwrap();
    let out = run(&["customers", twice.to_str().unwrap(), "--input-kind", "customers"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("customer_id \"a\" appears more than once"),
        "{}",
        stderr(&out)
    );
}
