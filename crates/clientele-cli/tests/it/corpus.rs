//! The bad-input corpus: one TOML file per case under `tests/corpus/`, each run as a real
//! process in a fresh directory (see `tests/corpus/README.md` for the case format).
//!
//! Every case checks its own exit code, message fragments, row account and files; every case
//! also checks what holds for all of them: no panic, stderr bounded, and an error message of
//! at most one short line.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use clientele::polars::prelude::*;
use serde::Deserialize;

use crate::support::clientele;

/// The longest stderr any case may print (notes included).
const STDERR_LIMIT: usize = 8 * 1024;
/// The longest error line.
const ERROR_LINE_LIMIT: usize = 1_200;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    about: String,
    args: Vec<String>,
    exit: i32,
    #[serde(default)]
    stderr: Vec<String>,
    #[serde(default)]
    stderr_not: Vec<String>,
    #[serde(default)]
    stdout: Vec<String>,
    /// A fragment of the one-line row account (`N rows = U used + E excluded + R rejected`).
    rows: Option<String>,
    #[serde(default)]
    unchanged: Vec<String>,
    #[serde(default)]
    absent: Vec<String>,
    #[serde(default)]
    present: Vec<String>,
    /// Fragments that a written file must contain: path → fragments.
    #[serde(default)]
    contains: BTreeMap<String, Vec<String>>,
    /// Fragments that a written file must not contain.
    #[serde(default)]
    lacks: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    file: Vec<FileSpec>,
    #[serde(default)]
    dir: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSpec {
    path: String,
    text: Option<String>,
    hex: Option<String>,
    /// A generated content (see [`generate`]).
    make: Option<String>,
    /// Parameters of `make`.
    #[serde(default)]
    n: usize,
    /// Replace (1-based, header = line 1) line `at` of the generated text with `line`
    /// (`line_hex` for bytes).
    at: Option<usize>,
    line: Option<String>,
    line_hex: Option<String>,
    #[serde(default)]
    gzip: bool,
    /// Keep only the first bytes.
    truncate: Option<usize>,
    /// Parquet columns: name → values (numbers or strings; all of one type per column).
    parquet: Option<BTreeMap<String, Vec<toml::Value>>>,
}

fn hex_bytes(hex: &str) -> Vec<u8> {
    let digits: Vec<u8> = hex.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    digits
        .chunks(2)
        .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).expect("hex"))
        .collect()
}

/// Generated contents: `valid` (n rows of a clean log), `sample` (the first n lines of the
/// repository's sample data), `long_line`, `long_fields`, `long_quote` (a clean log with a
/// 10 MB line at line 3: one field, many fields, or an unclosed quote).
fn generate(spec: &FileSpec) -> Vec<u8> {
    let make = spec.make.as_deref().unwrap_or("");
    let mut text: Vec<u8> = match make {
        "valid" => {
            let mut t = String::from("customer_id,order_id,order_date,amount\n");
            for i in 0..spec.n {
                let day = 1 + i % 28;
                let month = 1 + (i / 28) % 12;
                t.push_str(&format!(
                    "{},{},2023-{month:02}-{day:02},{}.50\n",
                    1 + i % 17,
                    i + 1,
                    5 + i % 40
                ));
            }
            t.into_bytes()
        }
        "sample" => {
            let all = std::fs::read_to_string(crate::support::sample_dataset()).unwrap();
            let lines: Vec<&str> = all.lines().take(spec.n).collect();
            (lines.join("\n") + "\n").into_bytes()
        }
        "long_line" | "long_fields" | "long_quote" => {
            let mut t = b"customer_id,order_date,amount\n1,2023-01-01,5\n".to_vec();
            let unit: &[u8] = match make {
                "long_line" => b"x",
                "long_fields" => b"x,",
                _ => b"\"x",
            };
            let n = 10 * 1024 * 1024 / unit.len();
            if make == "long_quote" {
                t.extend(b"3,2023-01-03,\"");
                t.extend(std::iter::repeat_n(b'x', 10 * 1024 * 1024));
            } else {
                t.extend(unit.repeat(n));
            }
            t.extend(b"\n2,2023-01-02,6\n");
            t
        }
        other => panic!("unknown make = {other:?}"),
    };
    if let Some(at) = spec.at {
        let replacement = match (&spec.line, &spec.line_hex) {
            (Some(line), None) => line.as_bytes().to_vec(),
            (None, Some(hex)) => hex_bytes(hex),
            _ => panic!("`at` needs `line` or `line_hex`"),
        };
        let mut lines: Vec<Vec<u8>> = text.split(|b| *b == b'\n').map(<[u8]>::to_vec).collect();
        lines[at - 1] = replacement;
        text = lines.join(&b'\n');
    }
    text
}

fn parquet_bytes(columns: &BTreeMap<String, Vec<toml::Value>>) -> Vec<u8> {
    let cols: Vec<Column> = columns
        .iter()
        .map(|(name, values)| match &values[0] {
            toml::Value::String(_) => Column::new(
                name.into(),
                values
                    .iter()
                    .map(|v| v.as_str().unwrap().to_string())
                    .collect::<Vec<_>>(),
            ),
            toml::Value::Integer(_) => Column::new(
                name.into(),
                values.iter().map(|v| v.as_integer().unwrap()).collect::<Vec<_>>(),
            ),
            _ => Column::new(
                name.into(),
                values
                    .iter()
                    .map(|v| v.as_float().or(v.as_integer().map(|i| i as f64)).unwrap())
                    .collect::<Vec<_>>(),
            ),
        })
        .collect();
    let height = cols[0].len();
    let mut frame = DataFrame::new(height, cols).unwrap();
    let mut bytes = Vec::new();
    ParquetWriter::new(&mut bytes).finish(&mut frame).unwrap();
    bytes
}

fn file_bytes(spec: &FileSpec) -> Vec<u8> {
    let mut bytes = match (&spec.text, &spec.hex, &spec.make, &spec.parquet) {
        (Some(text), None, None, None) => text.as_bytes().to_vec(),
        (None, Some(hex), None, None) => hex_bytes(hex),
        (None, None, Some(_), None) => generate(spec),
        (None, None, None, Some(columns)) => parquet_bytes(columns),
        _ => panic!("{}: give one of text, hex, make, parquet", spec.path),
    };
    if spec.gzip {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(&bytes).unwrap();
        bytes = encoder.finish().unwrap();
    }
    if let Some(n) = spec.truncate {
        bytes.truncate(n);
    }
    bytes
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

/// Runs one case; returns what failed, if anything.
fn run_case(path: &Path) -> Vec<String> {
    let case: Case = toml::from_str(&std::fs::read_to_string(path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(
        !case.about.trim().is_empty(),
        "{}: say what the case is",
        path.display()
    );
    let work = tempfile::tempdir().unwrap();
    let root = work.path();
    for dir in &case.dir {
        std::fs::create_dir_all(root.join(dir)).unwrap();
    }
    let mut before = BTreeMap::new();
    for spec in &case.file {
        let target = root.join(&spec.path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        let bytes = file_bytes(spec);
        std::fs::write(&target, &bytes).unwrap();
        before.insert(spec.path.clone(), bytes);
    }
    let output = clientele()
        .args(&case.args)
        .current_dir(root)
        .env("RUST_LOG", "info")
        .output()
        .expect("clientele runs");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let mut failures = Vec::new();
    let mut fail = |what: String| failures.push(what);
    let code = output.status.code().unwrap_or(-1);
    if code != case.exit {
        fail(format!("exit {code}, expected {}", case.exit));
    }
    if stderr.contains("panicked") || code == 101 {
        fail("panicked".into());
    }
    if output.stderr.len() > STDERR_LIMIT {
        fail(format!("stderr has {} bytes", output.stderr.len()));
    }
    if let Some(line) = stderr
        .lines()
        .find(|l| l.contains("error:") && l.len() > ERROR_LINE_LIMIT)
    {
        fail(format!("error line of {} bytes", line.len()));
    }
    for fragment in &case.stderr {
        if !stderr.contains(fragment.as_str()) {
            fail(format!("stderr lacks {fragment:?}"));
        }
    }
    for fragment in &case.stderr_not {
        if stderr.contains(fragment.as_str()) {
            fail(format!("stderr has {fragment:?}"));
        }
    }
    for fragment in &case.stdout {
        if !stdout.contains(fragment.as_str()) {
            fail(format!("stdout lacks {fragment:?}"));
        }
    }
    if let Some(rows) = &case.rows
        && !stderr
            .lines()
            .any(|l| l.contains(" rows = ") && l.contains(rows.as_str()))
    {
        fail(format!("no row account with {rows:?}"));
    }
    for name in &case.unchanged {
        let now = std::fs::read(root.join(name)).ok();
        if now.as_ref() != before.get(name) {
            fail(format!("{name} changed"));
        }
    }
    for name in &case.absent {
        if root.join(name).exists() {
            fail(format!("{name} exists"));
        }
    }
    for name in &case.present {
        if !root.join(name).exists() {
            fail(format!("{name} is missing"));
        }
    }
    for (name, fragments) in &case.contains {
        let text = std::fs::read_to_string(root.join(name)).unwrap_or_default();
        for fragment in fragments {
            if !text.contains(fragment.as_str()) {
                fail(format!("{name} lacks {fragment:?}"));
            }
        }
    }
    for (name, fragments) in &case.lacks {
        let text = std::fs::read_to_string(root.join(name)).unwrap_or_default();
        for fragment in fragments {
            if text.contains(fragment.as_str()) {
                fail(format!("{name} has {fragment:?}"));
            }
        }
    }
    // Nothing hidden is left behind: no temporary or kept-aside file of any output.
    for entry in walk(root) {
        let name = entry.file_name().unwrap().to_string_lossy().into_owned();
        if (name.contains(".tmp-") || name.contains(".bak-")) && !before.contains_key(&relative(root, &entry))
        {
            fail(format!("left behind {}", relative(root, &entry)));
        }
    }
    if !failures.is_empty() {
        failures.push(format!("stderr was:\n{}", tail(&stderr)));
    }
    failures
}

fn tail(text: &str) -> String {
    let cut: String = text
        .chars()
        .rev()
        .take(1_500)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    cut
}

fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root).unwrap().display().to_string()
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn every_case_of_the_bad_input_corpus() {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(corpus_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 60, "the corpus has {} cases", paths.len());
    let only = std::env::var("CORPUS_CASE").ok();
    let mut failed = Vec::new();
    for path in &paths {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if only.as_deref().is_some_and(|o| !name.contains(o)) {
            continue;
        }
        let failures = run_case(path);
        if !failures.is_empty() {
            failed.push(format!("{name}:\n  {}", failures.join("\n  ")));
        }
    }
    assert!(
        failed.is_empty(),
        "{} cases failed:\n{}",
        failed.len(),
        failed.join("\n\n")
    );
}
