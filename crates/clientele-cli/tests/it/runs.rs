//! `clientele run --config`: reproducible reruns, migration between runs, interrupted runs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::support::{clientele, stderr};

/// Two score bins with fixed cut points and two segments, so every score is checked by hand:
/// recency ≤ 30 days scores 2 ("Active"), else 1 ("Lapsed"); one order scores F 1, two or more
/// F 2; monetary ≤ 100 scores M 1, above M 2. ABC by customer share 25/25/50 over 4 customers:
/// one A, one B, two C.
const RULES: &str = "scale = 2\n\
    [[segment]]\nname = \"Active\"\nr = 2\n\
    [[segment]]\nname = \"Lapsed\"\nr = 1\n";

const FIRST_LOG: &str = "order_id,customer_id,order_date,amount\n\
    1,a,2024-03-20,150\n\
    2,b,2024-01-10,50\n\
    3,c,2024-03-25,80\n\
    4,c,2024-03-28,40\n\
    5,d,2024-02-01,30\n";

/// A month later: a bought nothing, b came back, c bought a little, d's data was deleted,
/// e is new.
const SECOND_LOG: &str = "order_id,customer_id,order_date,amount\n\
    1,a,2024-03-20,150\n\
    2,b,2024-01-10,50\n\
    3,c,2024-03-25,80\n\
    4,c,2024-03-28,40\n\
    6,b,2024-04-25,100\n\
    7,c,2024-04-20,10\n\
    8,e,2024-04-30,20\n";

fn config(dir: &Path, input: &str, as_of: &str, out: &str) -> PathBuf {
    std::fs::write(dir.join("rules.toml"), RULES).unwrap();
    let path = dir.join(format!("{out}.toml"));
    std::fs::write(
        &path,
        format!(
            "[input]\npaths = [\"{input}\"]\n\
             [analysis]\nas_of = \"{as_of}\"\nbinning = \"fixed\"\nbins = 2\nrules = \"rules.toml\"\n\
             abc_splits = [25, 25, 50]\n\
             [analysis.thresholds]\nrecency = [30]\nfrequency = [1]\nmonetary = [100]\n\
             [output]\ndir = \"{out}\"\nformat = \"csv\"\n"
        ),
    )
    .unwrap();
    path
}

fn run_config(config: &Path, extra: &[&str]) -> std::process::Output {
    clientele()
        .args(["run", "--config", config.to_str().unwrap(), "-q"])
        .args(extra)
        .output()
        .unwrap()
}

/// Every file of a directory with its bytes.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

fn manifest(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap()
}

#[test]
fn reruns_are_identical_and_a_changed_input_shows_its_migration() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("first.csv"), FIRST_LOG).unwrap();
    std::fs::write(dir.path().join("second.csv"), SECOND_LOG).unwrap();
    let first = config(dir.path(), "first.csv", "2024-04-01", "march");
    let out = dir.path().join("march");

    let a = run_config(&first, &[]);
    assert!(a.status.success(), "{}", stderr(&a));
    assert!(stderr(&a).is_empty(), "--quiet: {}", stderr(&a));
    let before = files(&out);
    let names: Vec<&str> = before.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "manifest.json",
            "report.html",
            "segments.csv",
            "summary.json",
            "summary.md"
        ]
    );
    let b = run_config(&first, &[]);
    assert!(b.status.success(), "{}", stderr(&b));
    let after = files(&out);
    for name in ["segments.csv", "summary.json", "summary.md", "report.html"] {
        assert!(
            before[name] == after[name],
            "{name} differs between identical runs"
        );
    }
    let without_timings = |bytes: &[u8]| {
        let mut v: serde_json::Value = serde_json::from_slice(bytes).unwrap();
        assert!(
            v["timings"]["stages"].as_array().unwrap().len() >= 5,
            "per-stage timings"
        );
        v.as_object_mut().unwrap().remove("timings");
        v
    };
    let (m1, m2) = (
        without_timings(&before["manifest.json"]),
        without_timings(&after["manifest.json"]),
    );
    assert_eq!(m1, m2, "manifests equal except timings");
    assert_eq!(m2["as_of"], "2024-04-01");
    assert_eq!(m2["rows"]["input_rows"], 5);
    assert_eq!(m2["inputs"][0]["bytes"], FIRST_LOG.len());
    let outputs: Vec<&str> = m2["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        outputs,
        ["segments.csv", "summary.md", "summary.json", "report.html"]
    );
    let table = String::from_utf8(after["segments.csv"].clone()).unwrap();
    assert_eq!(
        table
            .lines()
            .map(|l| l.split(',').next().unwrap())
            .collect::<Vec<_>>(),
        ["customer_id", "a", "b", "c", "d"]
    );

    // A month later, compared with March's run.
    let second = config(dir.path(), "second.csv", "2024-05-01", "april");
    let c = run_config(&second, &["--previous", out.to_str().unwrap()]);
    assert!(c.status.success(), "{}", stderr(&c));
    let april = dir.path().join("april");
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(april.join("summary.json")).unwrap()).unwrap();
    let m = &summary["migration"];
    assert_eq!(m["previous_as_of"], "2024-04-01");
    // b rose from 3 to 6, a fell from 5 to 4, c stayed at 6; d is gone, e is new.
    assert_eq!(
        [
            &m["moved_up"],
            &m["moved_down"],
            &m["unchanged"],
            &m["new_customers"],
            &m["gone_customers"]
        ],
        [1, 1, 1, 1, 1]
    );
    let segments = &m["segments"];
    assert_eq!(segments["from"], serde_json::json!(["Active", "Lapsed", "(new)"]));
    assert_eq!(segments["to"], serde_json::json!(["Active", "Lapsed", "(gone)"]));
    // a: Active → Lapsed; b: Lapsed → Active; c: Active → Active; d: Lapsed → gone; e: new → Active.
    assert_eq!(
        segments["customers"],
        serde_json::json!([[1, 1, 0], [1, 0, 1], [1, 0, 0]])
    );
    assert_eq!(
        segments["revenue"],
        serde_json::json!([[130.0, 150.0, 0.0], [150.0, 0.0, 30.0], [20.0, 0.0, 0.0]])
    );
    // March: a A (150), c B (120), b and d C. April: a A (150, first of the tie by id),
    // b B (150), c and e C.
    let abc = &m["abc"];
    assert_eq!(abc["from"], serde_json::json!(["A", "B", "C", "(new)"]));
    assert_eq!(abc["to"], serde_json::json!(["A", "B", "C", "(gone)"]));
    assert_eq!(
        abc["customers"],
        serde_json::json!([[1, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 1], [0, 0, 1, 0]])
    );
    let changes = std::fs::read_to_string(april.join("migration.csv")).unwrap();
    let movement: Vec<(String, String)> = changes
        .lines()
        .skip(1)
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            (cells[0].to_string(), cells.last().unwrap().to_string())
        })
        .collect();
    let expected: Vec<(String, String)> = [
        ("a", "down"),
        ("b", "up"),
        ("c", "same"),
        ("d", "gone"),
        ("e", "new"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(movement, expected);
    let html = std::fs::read_to_string(april.join("report.html")).unwrap();
    assert!(html.contains("Changes since the previous run"));
    let markdown = std::fs::read_to_string(april.join("summary.md")).unwrap();
    assert!(
        markdown.contains("| Lapsed | 1 (150.00) | | 1 (30.00) |"),
        "{markdown}"
    );
    assert_eq!(manifest(&april)["previous"]["as_of"], "2024-04-01");
}

#[test]
fn an_interrupted_run_leaves_the_previous_output_intact() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("log.csv"), FIRST_LOG).unwrap();
    let config = config(dir.path(), "log.csv", "2024-04-01", "latest");
    let out = dir.path().join("latest");
    let ok = run_config(&config, &[]);
    assert!(ok.status.success(), "{}", stderr(&ok));
    let before = files(&out);

    // The input changes, and the next run dies at each stage before the swap.
    std::fs::write(dir.path().join("log.csv"), SECOND_LOG).unwrap();
    for stage in ["hash-inputs", "segment", "write", "manifest"] {
        let killed = clientele()
            .args(["run", "--config", config.to_str().unwrap(), "-q"])
            .env("CLIENTELE_FAULT_INJECTION", stage)
            .output()
            .unwrap();
        assert!(!killed.status.success(), "the run was aborted after {stage}");
        assert!(
            files(&out) == before,
            "after a run killed at {stage}, the previous output is intact"
        );
        let leftovers: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(".latest.tmp-"))
            .collect();
        assert_eq!(
            leftovers.len(),
            1,
            "one hidden temporary directory beside the output: {leftovers:?}"
        );
    }

    // The next run completes, replaces the output and clears what the killed runs left.
    let ok = run_config(&config, &[]);
    assert!(ok.status.success(), "{}", stderr(&ok));
    assert!(files(&out)["segments.csv"] != before["segments.csv"]);
    // d's rows were deleted from the log (the later rows are after the as-of date).
    assert!(
        !String::from_utf8(files(&out)["segments.csv"].clone())
            .unwrap()
            .contains("\nd,")
    );
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [".latest.lock", "latest", "latest.toml", "log.csv", "rules.toml"]
    );
}

#[test]
fn configuration_errors_name_the_key_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(
        &path,
        "[input]\npaths = [\"x.csv\"]\n[analysis]\nreturn = \"net\"\n[output]\ndir = \"o\"\n",
    )
    .unwrap();
    let out = run_config(&path, &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("bad.toml") && err.contains("unknown field `return`"),
        "{err}"
    );

    // A directory of the user's own files is never replaced.
    std::fs::create_dir(dir.path().join("mine")).unwrap();
    std::fs::write(dir.path().join("mine/notes.txt"), "keep").unwrap();
    std::fs::write(dir.path().join("x.csv"), FIRST_LOG).unwrap();
    std::fs::write(&path, "[input]\npaths = [\"x.csv\"]\n[output]\ndir = \"mine\"\n").unwrap();
    let out = run_config(&path, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("not a clientele run"), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("mine/notes.txt")).unwrap(),
        "keep"
    );
}
