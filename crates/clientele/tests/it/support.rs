//! Where the shared datasets and a pandas-capable Python are, and what to do without them.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

fn in_ci() -> bool {
    env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// The shared datasets folder: `CLIENTELE_DATASETS`, or `../shared/datasets` beside the
/// repository. Missing: a failure under `CI=true`, a skip (with a message) elsewhere.
pub fn datasets() -> Option<PathBuf> {
    let dir = env::var_os("CLIENTELE_DATASETS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/datasets"));
    if dir.join("online_retail").is_dir() {
        return Some(dir);
    }
    assert!(
        !in_ci(),
        "datasets folder {} is missing: set CLIENTELE_DATASETS (real-data tests never skip under CI=true)",
        dir.display()
    );
    eprintln!(
        "skipping a real-data test: {} not found (set CLIENTELE_DATASETS)",
        dir.display()
    );
    None
}

/// A Python interpreter that can import pandas: `CLIENTELE_PYTHON`, or `python3`. Missing: a
/// failure under `CI=true`, a skip elsewhere.
pub fn python_with_pandas() -> Option<String> {
    python_with("pandas")
}

/// A Python interpreter that can import `module` (`CLIENTELE_PYTHON`, or `python3`). Missing: a
/// failure under `CI=true`, a skip elsewhere.
pub fn python_with(module: &str) -> Option<String> {
    let python = env::var("CLIENTELE_PYTHON").unwrap_or_else(|_| "python3".into());
    let ok = Command::new(&python)
        .args(["-c", &format!("import {module}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        return Some(python);
    }
    assert!(
        !in_ci(),
        "{python} cannot import {module}: set CLIENTELE_PYTHON (CI installs it)"
    );
    eprintln!("skipping a comparison: {python} cannot import {module} (set CLIENTELE_PYTHON)");
    None
}

/// A support script's path.
pub fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/support")
        .join(name)
}

/// How `cdnow/CDNOW_sample.txt` is read: whitespace-separated, no header; master id, sample id
/// (1..2357, the customer), date YYYYMMDD, CDs, dollars.
pub fn cdnow_options() -> clientele::ingest::IngestOptions {
    use clientele::ingest::{CsvOptions, Delimiter, Header, IngestOptions};
    IngestOptions {
        columns: clientele::columns::Columns::default()
            .customer("column_2")
            .time("column_3")
            .amount("column_5"),
        csv: CsvOptions {
            delimiter: Delimiter::Whitespace,
            header: Header::Absent,
            ..Default::default()
        },
        ..Default::default()
    }
}

/// The CDNOW sample (see [`cdnow_options`]); `None` without the datasets.
pub fn cdnow_sample() -> Option<clientele::ingest::Transactions> {
    let path = datasets()?.join("cdnow/CDNOW_sample.txt");
    Some(clientele::ingest::scan(path, &cdnow_options()).unwrap())
}
