//! Running the binary and comparing outputs with checked-in expected files.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The `clientele` binary built for this test run.
pub fn clientele() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_clientele"));
    cmd.env_remove("POLARS_MAX_THREADS");
    cmd
}

/// Runs `clientele` with arguments and returns its output.
pub fn run(args: &[&str]) -> Output {
    clientele().args(args).output().expect("clientele runs")
}

/// A file under `tests/data`.
pub fn data(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
        .display()
        .to_string()
}

/// The repository's sample dataset.
pub fn sample_dataset() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../datasets/sample_transactions.csv")
        .display()
        .to_string()
}

fn expected_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/expected")
        .join(name)
}

/// Compares `actual` with `tests/expected/<name>`; `UPDATE_EXPECTED=1` rewrites the file.
pub fn assert_expected(name: &str, actual: &str) {
    let path = expected_path(name);
    if std::env::var("UPDATE_EXPECTED").is_ok_and(|v| v == "1") {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "{} is missing; run with UPDATE_EXPECTED=1 and review it",
            path.display()
        )
    });
    if expected != actual {
        let first = expected
            .lines()
            .zip(actual.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(expected.lines().count().min(actual.lines().count()));
        panic!(
            "{} differs at line {}:\n  expected: {:?}\n  actual:   {:?}\n(UPDATE_EXPECTED=1 rewrites it after review)",
            path.display(),
            first + 1,
            expected.lines().nth(first),
            actual.lines().nth(first)
        );
    }
}

/// The shared datasets folder, as in the library tests (`CLIENTELE_DATASETS`; required under CI).
pub fn datasets() -> Option<PathBuf> {
    let dir = std::env::var_os("CLIENTELE_DATASETS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/datasets"));
    if dir.join("online_retail").is_dir() {
        return Some(dir);
    }
    assert!(
        !std::env::var("CI").is_ok_and(|v| v == "true" || v == "1"),
        "datasets folder {} is missing under CI=true",
        dir.display()
    );
    eprintln!("skipping: datasets folder {} not found", dir.display());
    None
}

/// stdout as text.
pub fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

/// stderr as text.
pub fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}
