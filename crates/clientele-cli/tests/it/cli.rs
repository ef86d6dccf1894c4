//! The subcommands on small inputs, their outputs, exit codes and file handling.

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use crate::support::{assert_expected, clientele, data, datasets, run, sample_dataset, stderr, stdout};

const AS_OF: &[&str] = &["--as-of", "2024-04-01"];

#[test]
fn segment_table_matches_the_expected_file() {
    let out = run(&[&["segment", &data("orders.csv")], AS_OF].concat());
    assert!(out.status.success(), "{}", stderr(&out));
    assert_expected("segment.csv", &stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains("22 rows = 17 used + 2 excluded + 3 rejected; 9 customers as of 2024-04-01"),
        "{err}"
    );
}

#[test]
fn columns_narrow_the_table_in_the_order_given() {
    let out = run(&[
        &[
            "segment",
            &data("orders.csv"),
            "--columns",
            "abc_class, customer_id,segment",
        ],
        AS_OF,
    ]
    .concat());
    assert!(out.status.success(), "{}", stderr(&out));
    let full = run(&[&["segment", &data("orders.csv")], AS_OF].concat());
    // The same rows, with the named columns of the full table, in the order given.
    let full_text = stdout(&full);
    let mut full_lines = full_text.lines();
    let header: Vec<&str> = full_lines.next().unwrap().split(',').collect();
    let at = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let expected: Vec<String> = std::iter::once("abc_class,customer_id,segment".to_string())
        .chain(full_lines.map(|line| {
            let cells: Vec<&str> = line.split(',').collect();
            format!(
                "{},{},{}",
                cells[at("abc_class")],
                cells[at("customer_id")],
                cells[at("segment")]
            )
        }))
        .collect();
    assert_eq!(stdout(&out).lines().collect::<Vec<_>>(), expected);

    let out = run(&[
        &["segment", &data("orders.csv"), "--columns", "customer_id,no_such"],
        AS_OF,
    ]
    .concat());
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("no column \"no_such\"") && err.contains("recency_days"),
        "{err}"
    );

    // A command without one table says so instead of ignoring the flag.
    let out = run(&["validate", &data("orders.csv"), "--columns", "customer_id"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--columns selects"), "{}", stderr(&out));
}

#[test]
fn customers_rfm_and_abc_tables() {
    for (command, extra, name) in [
        ("customers", vec![], "customers.csv"),
        ("rfm", vec!["--binning", "rank", "--bins", "3"], "rfm_rank3.csv"),
        ("abc", vec!["--abc-by", "revenue"], "abc_revenue.csv"),
    ] {
        let mut args = vec![command, &*Box::leak(data("orders.csv").into_boxed_str())];
        args.extend(AS_OF);
        args.extend(extra);
        let out = run(&args);
        assert!(out.status.success(), "{command}: {}", stderr(&out));
        assert_expected(name, &stdout(&out));
    }
    // The ABC summary is printed beside the textbook expectation.
    let out = run(&[&["abc", &data("orders.csv")], AS_OF].concat());
    let err = stderr(&out);
    assert!(err.contains("| A | 1 | 11.1 % |"), "{err}");
    assert!(err.contains("textbook % customers"), "{err}");
}

#[test]
fn report_writes_table_and_summaries() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("report");
    let out = run(&[
        &[
            "report",
            &data("orders.csv"),
            "--out-dir",
            out_dir.to_str().unwrap(),
            "-q",
        ],
        AS_OF,
    ]
    .concat());
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).is_empty(),
        "--quiet prints nothing: {}",
        stderr(&out)
    );
    let summary = std::fs::read_to_string(out_dir.join("summary.md")).unwrap();
    let summary = summary.replace(&data("orders.csv"), "tests/data/orders.csv");
    assert_expected("summary.md", &summary);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("summary.json")).unwrap()).unwrap();
    assert_eq!(json["rows"]["input_rows"], 22);
    assert_eq!(json["customers"]["customers"], 9);
    assert_eq!(json["settings"]["as_of"], "2024-04-01");
    assert_eq!(
        std::fs::read_to_string(out_dir.join("segments.csv")).unwrap(),
        std::fs::read_to_string(crate::support::data("../expected/segment.csv")).unwrap()
    );
    let rejects = std::fs::read_to_string(out_dir.join("rejects.csv")).unwrap();
    assert_eq!(rejects.lines().count(), 4, "header + 3 rejected rows:\n{rejects}");
    let mut names: Vec<String> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "rejects.csv",
            "report.html",
            "segments.csv",
            "summary.json",
            "summary.md"
        ],
        "no temp files left"
    );
}

#[test]
fn rejects_file_names_row_reason_column_and_value() {
    let dir = tempfile::tempdir().unwrap();
    let rejects = dir.path().join("rejects.csv");
    let out = run(&[
        &[
            "customers",
            &data("orders.csv"),
            "-q",
            "--rejects",
            rejects.to_str().unwrap(),
        ],
        AS_OF,
    ]
    .concat());
    assert!(out.status.success(), "{}", stderr(&out));
    assert_expected("rejects.csv", &std::fs::read_to_string(rejects).unwrap());
}

#[test]
fn validate_prints_the_quality_report() {
    let out = run(&[&["validate", &data("orders.csv")], AS_OF].concat());
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out).replace(&data("orders.csv"), "tests/data/orders.csv");
    assert_expected("validate.md", &text);
    let out = run(&["validate", &data("orders.csv"), "--json"]);
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json["rows"]["input_rows"], 22);
    assert_eq!(json["negative_amounts"]["rows"], 2);
}

#[test]
fn exit_codes_follow_the_documentation() {
    let dir = tempfile::tempdir().unwrap();
    let no_customer = dir.path().join("no_customer.csv");
    std::fs::write(&no_customer, "who,date,amount\n1,2024-01-01,5\n").unwrap();
    let empty = dir.path().join("empty.csv");
    std::fs::write(&empty, "").unwrap();
    let all_bad = dir.path().join("bad.csv");
    std::fs::write(&all_bad, "customer,date,amount\n,2024-01-01,1\n").unwrap();
    let input = data("orders.csv");
    let cases: Vec<(Vec<&str>, i32, &str)> = vec![
        (
            vec!["segment", no_customer.to_str().unwrap()],
            1,
            "no customer id column found",
        ),
        (vec!["segment", empty.to_str().unwrap()], 1, "no data rows"),
        (
            vec!["segment", all_bad.to_str().unwrap()],
            1,
            "no usable transactions",
        ),
        (vec!["validate", all_bad.to_str().unwrap()], 1, ""),
        (
            vec!["segment", "/nonexistent/orders.csv"],
            2,
            "cannot open /nonexistent/orders.csv",
        ),
        (
            vec!["segment", &input, "--bins", "12"],
            2,
            "bins must be between 2 and 9",
        ),
        (
            vec!["segment", &input, "--binning", "fixed"],
            2,
            "needs --r-thresholds",
        ),
        (vec!["segment", &input, "--abc-splits", "5,15"], 2, "sum to 100"),
        (
            vec!["segment", &input, "--as-of", "yesterday"],
            2,
            "cannot read \"yesterday\" as a date",
        ),
        (
            vec!["segment", &input, "--no-such-flag"],
            2,
            "unexpected argument",
        ),
        (
            vec!["segment", &input, "--customer", "client"],
            1,
            "column \"client\"",
        ),
        (
            vec!["segment", &input, "-o", "/nonexistent/dir/out.csv"],
            2,
            "cannot create",
        ),
        (
            vec!["segment", &input, "-o", "out.xlsx"],
            2,
            "cannot tell the format",
        ),
    ];
    for (args, code, text) in cases {
        let out = run(&args);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(text), "{args:?}: {}", stderr(&out));
    }
}

#[test]
fn a_closed_pipe_is_not_an_error() {
    let Some(datasets) = datasets() else { return };
    let input = datasets.join("online_retail/online_retail.csv.gz");
    let mut child = clientele()
        .args(["customers", input.to_str().unwrap(), "-q"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut header = String::new();
    reader.read_line(&mut header).unwrap();
    assert!(header.starts_with("customer_id,"));
    drop(reader); // like `| head -1`
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
}

#[test]
fn a_failed_run_leaves_the_previous_output_alone() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("segments.csv");
    std::fs::write(&output, "previous content\n").unwrap();
    let out = run(&[
        "segment",
        &data("orders.csv"),
        "--customer",
        "nope",
        "-o",
        output.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(std::fs::read_to_string(&output).unwrap(), "previous content\n");
    let out = run(&[
        &[
            "segment",
            &data("orders.csv"),
            "-q",
            "-o",
            output.to_str().unwrap(),
        ],
        AS_OF,
    ]
    .concat());
    assert!(out.status.success());
    assert!(
        std::fs::read_to_string(&output)
            .unwrap()
            .starts_with("customer_id,")
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no temporary file left"
    );
}

#[test]
fn output_formats_by_extension() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["s.parquet", "s.json", "s.csv"] {
        let path = dir.path().join(name);
        let out = run(&[
            &["segment", &data("orders.csv"), "-q", "-o", path.to_str().unwrap()],
            AS_OF,
        ]
        .concat());
        assert!(out.status.success(), "{name}: {}", stderr(&out));
    }
    let json = std::fs::read_to_string(dir.path().join("s.json")).unwrap();
    assert_eq!(json.lines().count(), 9, "one JSON object per customer");
    let first: serde_json::Value = serde_json::from_str(json.lines().next().unwrap()).unwrap();
    assert_eq!(first["customer_id"], "alice");
    assert_eq!(first["segment"], "Loyal Customers");
    let parquet = std::fs::read(dir.path().join("s.parquet")).unwrap();
    assert_eq!(&parquet[..4], b"PAR1");
}

#[test]
fn rules_check_reports_uncovered_cells() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules.toml");
    std::fs::write(
        &rules,
        "[[segment]]\nname = \"Best\"\nr = 5\nf = 5\n\n[[segment]]\nname = \"Recent\"\nr = \"4-5\"\n",
    )
    .unwrap();
    let out = run(&["rules", "--rules", rules.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("75 of 125 score cells (RFM) match no rule: 111, 112"),
        "{}",
        stderr(&out)
    );
    let out = run(&["rules"]);
    assert!(out.status.success());
    assert!(
        stdout(&out).contains("every one of the 125 score cells"),
        "{}",
        stdout(&out)
    );
    let out = run(&["rules", "--show-builtin"]);
    assert!(stdout(&out).contains("name = \"Champions\""));
    // A custom rules file drives `segment`.
    std::fs::write(
        &rules,
        "[[segment]]\nname = \"Top\"\nscore = \"12-15\"\n[[segment]]\nname = \"Rest\"\n",
    )
    .unwrap();
    let out = run(&[
        &["segment", &data("orders.csv"), "--rules", rules.to_str().unwrap()],
        AS_OF,
    ]
    .concat());
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out)
            .lines()
            .skip(1)
            .all(|l| l.ends_with(",Top,A") || l.contains(",Top,") || l.contains(",Rest,"))
    );
}

#[test]
fn the_sample_dataset_runs_with_the_readme_command() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(&[
        "report",
        &sample_dataset(),
        "--out-dir",
        dir.path().to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let summary = std::fs::read_to_string(dir.path().join("summary.md")).unwrap();
    assert!(summary.contains("every row accounted for"), "{summary}");
}

#[test]
fn output_is_byte_identical_whatever_the_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let sample = sample_dataset();
    let mut outputs: Vec<Vec<Vec<u8>>> = Vec::new();
    for threads in ["1", "2", "4"] {
        let mut files = Vec::new();
        for name in ["s.csv", "s.parquet"] {
            let path = dir.path().join(format!("{threads}_{name}"));
            let out = clientele()
                .env("POLARS_MAX_THREADS", threads)
                .env("RAYON_NUM_THREADS", threads)
                .args([
                    "segment",
                    &sample,
                    "-q",
                    "--binning",
                    "rank",
                    "-o",
                    path.to_str().unwrap(),
                ])
                .output()
                .unwrap();
            assert!(out.status.success(), "{}", stderr(&out));
            files.push(std::fs::read(path).unwrap());
        }
        let report = dir.path().join(format!("report_{threads}"));
        let out = clientele()
            .env("POLARS_MAX_THREADS", threads)
            .args(["report", &sample, "-q", "--out-dir", report.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        files.push(std::fs::read(report.join("summary.json")).unwrap());
        let clusters = dir.path().join(format!("clusters_{threads}.csv"));
        let out = clientele()
            .env("POLARS_MAX_THREADS", threads)
            .env("RAYON_NUM_THREADS", threads)
            .args([
                "cluster",
                &sample,
                "-q",
                "--k",
                "auto",
                "--k-range",
                "2-5",
                "--n-init",
                "3",
            ])
            .args(["--silhouette-sample", "500", "-o", clusters.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        files.push(std::fs::read(clusters).unwrap());
        let clv = dir.path().join(format!("clv_{threads}.csv"));
        let out = clientele()
            .env("POLARS_MAX_THREADS", threads)
            .env("RAYON_NUM_THREADS", threads)
            .args([
                "clv",
                &sample,
                "-q",
                "--calibration-end",
                "2024-06-30",
                "--holdout-end",
                "2024-12-31",
            ])
            .args(["-o", clv.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        files.push(std::fs::read(clv).unwrap());
        let log = dir.path().join(format!("log_{threads}.csv"));
        let out = clientele()
            .env("RAYON_NUM_THREADS", threads)
            .args([
                "generate",
                "--customers",
                "3000",
                "--rows",
                "40000",
                "-q",
                "-o",
                log.to_str().unwrap(),
            ])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        files.push(std::fs::read(log).unwrap());
        outputs.push(files);
    }
    for (i, name) in ["segment csv", "segment parquet", "summary.json", "generated log"]
        .iter()
        .enumerate()
    {
        assert!(
            outputs[0][i] == outputs[1][i] && outputs[1][i] == outputs[2][i],
            "{name} depends on the thread count"
        );
    }
}

#[test]
fn clusters_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let sample = sample_dataset();
    let model = dir.path().join("model.json");
    let first = dir.path().join("first.csv");
    let out = run(&[
        "cluster",
        &sample,
        "--k",
        "3",
        "--n-init",
        "3",
        "-o",
        first.to_str().unwrap(),
        "--save-model",
        model.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("## Clusters") && err.contains("| 0 |"), "{err}");
    let table = std::fs::read_to_string(&first).unwrap();
    assert_eq!(
        table.lines().next(),
        Some("customer_id,recency_days,frequency,monetary,cluster")
    );
    assert_eq!(table.lines().count(), 2_001);

    // The saved model places the same customers in the same clusters.
    let again = dir.path().join("again.csv");
    let out = run(&[
        "cluster",
        &sample,
        "-q",
        "--model",
        model.to_str().unwrap(),
        "-o",
        again.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&again).unwrap(), table);

    // segment and report gain a cluster column and a Clusters section.
    let out = run(&["segment", &sample, "-q", "--clusters", "3", "--n-init", "3"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let segment = stdout(&out);
    assert!(
        segment.lines().next().unwrap().ends_with(",abc_class,cluster"),
        "{segment}"
    );
    let report = dir.path().join("report");
    let out = run(&[
        "report",
        &sample,
        "-q",
        "--clusters",
        "auto",
        "--k-range",
        "2-4",
        "--n-init",
        "2",
        "--out-dir",
        report.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let summary = std::fs::read_to_string(report.join("summary.md")).unwrap();
    assert!(
        // `auto` now takes the knee of the inertia curve (issue 12), no longer the best silhouette.
        summary.contains("k chosen by the knee of the inertia curve over k = 2..=4"),
        "{summary}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report.join("summary.json")).unwrap()).unwrap();
    assert_eq!(json["clusters"]["sweep"].as_array().unwrap().len(), 3);

    // Bad settings are usage errors, found before reading.
    for (args, text) in [
        (vec!["cluster", &sample, "--k", "1"], "k must be at least 2"),
        (
            vec!["cluster", &sample, "--k", "auto", "--k-range", "5"],
            "--k-range must look like 2-10",
        ),
        (
            vec!["cluster", &sample, "--features", "recency_days,recency_days"],
            "given twice",
        ),
    ] {
        let out = run(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(text), "{args:?}: {}", stderr(&out));
    }
    let out = run(&["cluster", &sample, "--features", "recency_days,nope"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("\"nope\" is not a customer column"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn lifetime_value_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let sample = sample_dataset();
    let table = dir.path().join("clv.csv");
    let out = run(&[
        "clv",
        &sample,
        "--calibration-end",
        "2024-06-30",
        "--holdout-end",
        "2024-12-31",
        "--time-unit",
        "week",
        "--horizon",
        "52",
        "--discount",
        "0.01",
        "--margin",
        "0.3",
        "-o",
        table.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("Customer equity") && err.contains("Holdout check, 26.2857 weeks after 2024-06-30"),
        "{err}"
    );
    let text = std::fs::read_to_string(&table).unwrap();
    assert_eq!(
        text.lines().next(),
        Some(
            "customer_id,frequency,recency,T,monetary_value,frequency_holdout,monetary_holdout,expected_purchases,\
             p_alive,expected_avg_spend,clv,lifecycle_stage,expected_purchases_holdout"
        )
    );
    assert!(
        !text.contains("NaN") && !text.contains("inf"),
        "no NaN or infinity in the output"
    );

    // segment and report gain the columns and customer equity.
    let out = run(&[
        "segment",
        &sample,
        "-q",
        "--clv",
        "--calibration-end",
        "2024-06-30",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let header = stdout(&out).lines().next().unwrap().to_string();
    assert!(
        header
            .contains(",btyd_frequency,btyd_recency,btyd_T,btyd_monetary_value,expected_purchases,p_alive,"),
        "{header}"
    );
    let report = dir.path().join("report");
    let out = run(&[
        "report",
        &sample,
        "-q",
        "--clv",
        "--clv-model",
        "pareto-nbd",
        "--out-dir",
        report.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let summary = std::fs::read_to_string(report.join("summary.md")).unwrap();
    assert!(
        summary.contains("## Lifetime value") && summary.contains("Pareto/NBD"),
        "{summary}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report.join("summary.json")).unwrap()).unwrap();
    assert!(json["clv"]["customer_equity"].as_f64().unwrap() > 0.0);

    // Settings are checked first (usage, 2); impossible data is a data error (1).
    let out = run(&["clv", &sample, "--holdout-end", "2024-12-31"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("holdout end must be given with a calibration end"),
        "{}",
        stderr(&out)
    );
    let out = run(&["clv", &sample, "--calibration-end", "2019-01-01"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no purchase on or before the calibration end 2019-01-01"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_far_off_latest_date_is_warned_about_with_its_row() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("late.csv");
    std::fs::write(
        &input,
        "customer_id,order_date,amount\n1,2023-03-01,5\n2,2023-06-01,5\n3,2023-12-30,5\n2,9999-12-31,5\n",
    )
    .unwrap();
    let out_dir = dir.path().join("report");
    let out = run(&[
        "report",
        input.to_str().unwrap(),
        "--out-dir",
        out_dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("WARN")
            && err.contains("late.csv: row 4, dated \"9999-12-31\", is 2,913,175 days after"),
        "{err}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("summary.json")).unwrap()).unwrap();
    let notes = json["customers"]["notes"].as_array().unwrap();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(
        notes[0].as_str().unwrap().starts_with("row 4, dated"),
        "{notes:?}"
    );
    let markdown = std::fs::read_to_string(out_dir.join("summary.md")).unwrap();
    assert!(markdown.contains("- warning: row 4, dated"), "{markdown}");
}

#[test]
fn invalid_utf8_rows_are_rejected_with_a_hint_and_read_with_encoding() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("export.csv");
    let mut bytes = b"customer_id,order_date,amount\n".to_vec();
    for i in 0..300 {
        if i == 199 {
            bytes.extend_from_slice(b"M\xfcller,2024-02-01,3.50\n");
        } else {
            bytes.extend_from_slice(format!("{},2024-01-{:02},5\n", i % 9, 1 + i % 28).as_bytes());
        }
    }
    std::fs::write(&log, bytes).unwrap();
    let rejects = dir.path().join("rejects.csv");
    let out = run(&[
        "customers",
        log.to_str().unwrap(),
        "--rejects",
        rejects.to_str().unwrap(),
        "-o",
        dir.path().join("c.csv").to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("300 rows = 299 used + 0 excluded + 1 rejected"),
        "{err}"
    );
    assert!(err.contains("--encoding windows-1252"), "{err}");
    let rejected = std::fs::read_to_string(&rejects).unwrap();
    assert!(
        rejected.lines().nth(1).unwrap().starts_with("200,invalid_utf8,,"),
        "{rejected}"
    );

    for encoding in ["windows-1252", "latin-1"] {
        let out = run(&[
            "customers",
            log.to_str().unwrap(),
            "--encoding",
            encoding,
            "--reader",
            "polars",
            "-o",
            dir.path().join("c.csv").to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(stderr(&out).contains("300 rows = 300 used"), "{}", stderr(&out));
        let table = std::fs::read_to_string(dir.path().join("c.csv")).unwrap();
        assert!(table.contains("Müller"), "{table}");
    }
    let out = run(&["customers", log.to_str().unwrap(), "--encoding", "ebcdic"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}
