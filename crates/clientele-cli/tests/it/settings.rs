//! One settings model: a configuration file and the flags mean the same thing for every
//! command, and `config show` turns a command line into a configuration file.

use std::path::Path;

use crate::support::{clientele, sample_dataset, stderr, stdout};

fn run_ok(args: &[&str]) -> std::process::Output {
    let out = clientele().args(args).output().unwrap();
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    out
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Settings off the defaults in every section that changes the table.
const SETTINGS: &str = "[analysis]\nas_of = \"2024-12-31\"\nreturns = \"exclude\"\nbinning = \"rank\"\nbins = 4\n\
    abc_by = \"revenue\"\nabc_splits = [70, 20, 10]\n\
    [clusters]\nk = 3\nseed = 7\nn_init = 2\n\
    [clv]\ncalibration_end = \"2024-06-30\"\nhorizon = 26\nmodel = \"pareto-nbd\"\n";

#[test]
fn segment_with_a_run_config_writes_the_run_table() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("job.toml");
    std::fs::write(
        &config,
        format!(
            "[input]\npaths = [{:?}]\n{SETTINGS}[output]\ndir = \"run\"\nformat = \"csv\"\n\
             columns = [\"customer_id\", \"r_score\", \"segment\", \"abc_class\", \"cluster\", \"clv\"]\n",
            sample_dataset()
        ),
    )
    .unwrap();
    let config = config.to_str().unwrap();
    run_ok(&["run", "--config", config, "-q"]);
    let table = dir.path().join("segment.csv");
    run_ok(&[
        "segment",
        &sample_dataset(),
        "--config",
        config,
        "-q",
        "-o",
        table.to_str().unwrap(),
    ]);
    let from_run = read(&dir.path().join("run/segments.csv"));
    assert_eq!(read(&table), from_run);
    // The settings took effect: the columns asked for, 4 bins, clusters, CLV.
    let text = String::from_utf8(from_run).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("customer_id,r_score,segment,abc_class,cluster,clv")
    );
    let scores: std::collections::BTreeSet<&str> = lines.map(|l| l.split(',').nth(1).unwrap()).collect();
    assert_eq!(scores.into_iter().collect::<Vec<_>>(), ["1", "2", "3", "4"]);
}

#[test]
fn config_show_turns_flags_into_a_file_with_the_same_result() {
    let dir = tempfile::tempdir().unwrap();
    let flags = [
        "--as-of",
        "2024-12-31",
        "--returns",
        "exclude",
        "--binning",
        "rank",
        "--bins",
        "4",
        "--abc-by",
        "revenue",
        "--abc-splits",
        "70,20,10",
        "--clusters",
        "3",
        "--seed",
        "7",
        "--n-init",
        "2",
        "--clv",
        "--calibration-end",
        "2024-06-30",
        "--horizon",
        "26",
    ];
    let shown = run_ok(&[&["config", "show"], &flags[..]].concat());
    let text = stdout(&shown);
    assert!(text.contains("bins = 4") && text.contains("[clusters]"), "{text}");
    let file = dir.path().join("shown.toml");
    std::fs::write(&file, &text).unwrap();
    let (a, b) = (dir.path().join("a.csv"), dir.path().join("b.csv"));
    let input = sample_dataset();
    run_ok(&[&["segment", &input, "-q", "-o", a.to_str().unwrap()], &flags[..]].concat());
    run_ok(&[
        "segment",
        &input,
        "-q",
        "-o",
        b.to_str().unwrap(),
        "--config",
        file.to_str().unwrap(),
    ]);
    assert_eq!(read(&a), read(&b));
    // Showing the file again gives the same file.
    let again = run_ok(&["config", "show", "--config", file.to_str().unwrap()]);
    assert_eq!(stdout(&again), text);
}

#[test]
fn settings_errors_name_the_setting() {
    let out = clientele()
        .args(["config", "show", "--bins", "12"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("bins must be between 2 and 9"),
        "{}",
        stderr(&out)
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.toml");
    std::fs::write(&file, "[clv]\nmodel = \"bgnbd\"\n").unwrap();
    let out = clientele()
        .args(["segment", &sample_dataset(), "--config", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("bad.toml") && err.contains("clv.model") && err.contains("bg-nbd"),
        "{err}"
    );
}
