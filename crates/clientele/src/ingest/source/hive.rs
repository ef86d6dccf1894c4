//! Data-lake directories: a tree of files as Spark, Hive and most lake tools write it, with the
//! partition columns in the directory names (`year=2024/month=01/part-00000-….parquet`).
//!
//! The walk recurses into subdirectories, in path order. It skips hidden entries (names
//! starting with `.`, such as Spark's `.part-….crc` checksums, or with `_`, such as
//! `_SUCCESS` and `_temporary/`), checksum files (`*.crc`) and files of no input format. The
//! `key=value` directories between the input directory and a Parquet file give that file's
//! rows a column `key` holding `value`: whole numbers as 64-bit integers when every value of
//! the key is one (Spark's inference, so `month=01` is 1), text otherwise;
//! `__HIVE_DEFAULT_PARTITION__` (Spark's name for a null) is a missing value.

use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::error::{Error, PolarsContext, Result};

/// A file's partition `(key, value)` pairs, outermost directory first.
type Partition = Vec<(String, String)>;

/// Spark's directory name for a null partition value.
const NULL_PARTITION: &str = "__HIVE_DEFAULT_PARTITION__";

/// The input files under `dir`, recursively, sorted by path; `is_input` tells an input file by
/// its path.
pub(crate) fn walk(dir: &Path, is_input: impl Fn(&Path) -> bool + Copy) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io("cannot list", dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io("cannot list", dir, e))?;
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || name.starts_with('_') || name.ends_with(".crc") {
            continue;
        }
        if path.is_dir() {
            files.extend(walk(&path, is_input)?);
        } else if path.is_file() && is_input(&path) {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// The partition `(key, value)` pairs of each file under `root`, in path order; `None` when no
/// file lies under a `key=value` directory.
///
/// # Errors
///
/// [`Error::UnsupportedInput`] when files lie under different partition keys.
fn partitions(root: &Path, files: &[PathBuf]) -> Result<Option<Vec<Partition>>> {
    let pairs: Vec<Partition> = files
        .iter()
        .map(|file| {
            let relative = file.strip_prefix(root).unwrap_or(file);
            let parent = relative.parent().map(Path::to_path_buf).unwrap_or_default();
            parent
                .components()
                .filter_map(|c| {
                    let part = c.as_os_str().to_string_lossy();
                    let (key, value) = part.split_once('=')?;
                    Some((key.to_string(), value.to_string()))
                })
                .collect()
        })
        .collect();
    if pairs.iter().all(Vec::is_empty) {
        return Ok(None);
    }
    let keys = |p: &[(String, String)]| p.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>();
    let first = keys(&pairs[0]);
    if let Some(at) = pairs.iter().position(|p| keys(p) != first) {
        return Err(Error::UnsupportedInput {
            source_name: root.display().to_string(),
            detail: format!(
                "partition directories differ: {} is under {:?} but {} is under {:?}",
                files[0].display(),
                first,
                files[at].display(),
                keys(&pairs[at])
            ),
        });
    }
    Ok(Some(pairs))
}

/// The Parquet files of `root` scanned with their partition columns appended, or `None` when
/// the files are not partitioned.
///
/// # Errors
///
/// As [`partitions`]; [`Error::UnsupportedInput`] when a partition key is also a column of the
/// files; polars errors from the scan.
pub(crate) fn scan_partitioned(
    root: &Path,
    files: &[PathBuf],
    args: &ScanArgsParquet,
) -> Result<Option<LazyFrame>> {
    let Some(pairs) = partitions(root, files)? else {
        return Ok(None);
    };
    let keys: Vec<String> = pairs[0].iter().map(|(k, _)| k.clone()).collect();
    let integer: Vec<bool> = (0..keys.len())
        .map(|k| {
            pairs
                .iter()
                .map(|p| p[k].1.as_str())
                .filter(|v| *v != NULL_PARTITION)
                .all(|v| v.parse::<i64>().is_ok())
        })
        .collect();
    let name = root.display().to_string();
    // polars would read `key=value` parts of each file's whole path itself: the partitions
    // are those below the input directory, added here.
    let args = ScanArgsParquet {
        hive_options: HiveOptions::new_disabled(),
        ..args.clone()
    };
    let mut frames = Vec::with_capacity(files.len());
    for (i, (file, values)) in files.iter().zip(&pairs).enumerate() {
        let path = PlRefPath::try_from_path(file).context(|| format!("{}: invalid path", file.display()))?;
        let scan = LazyFrame::scan_parquet(path, args.clone())
            .context(|| format!("cannot scan {}", file.display()))?;
        if i == 0 {
            // The files have the same columns (checked before the scan): the first tells.
            let schema = scan
                .clone()
                .collect_schema()
                .context(|| format!("cannot scan {}", file.display()))?;
            if let Some(key) = keys.iter().find(|k| schema.contains(k.as_str())) {
                return Err(Error::UnsupportedInput {
                    source_name: name,
                    detail: format!("the partition key {key:?} is also a column of {}", file.display()),
                });
            }
        }
        let columns: Vec<Expr> = values
            .iter()
            .zip(&integer)
            .map(|((key, value), integer)| {
                let value = match (value.as_str(), integer) {
                    (NULL_PARTITION, true) => lit(NULL).cast(DataType::Int64),
                    (NULL_PARTITION, false) => lit(NULL).cast(DataType::String),
                    (v, true) => lit(v.parse::<i64>().expect("checked above")),
                    (v, false) => lit(v.to_string()),
                };
                value.alias(key.as_str())
            })
            .collect();
        frames.push(scan.with_columns(columns));
    }
    let union = concat(frames, UnionArgs::default()).context(|| format!("cannot scan {name}"))?;
    Ok(Some(union))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_walk_recurses_and_skips_markers_checksums_and_hidden_entries() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        for file in [
            "year=2024/month=01/part-00000.parquet",
            "year=2024/month=02/part-00000.parquet",
            "year=2024/month=02/.part-00000.parquet.crc",
            "year=2024/month=02/part-00000.parquet.crc",
            "_SUCCESS",
            "_temporary/0/part-00009.parquet",
            ".hidden/part-00000.parquet",
        ] {
            std::fs::create_dir_all(d.join(file).parent().unwrap()).unwrap();
            std::fs::write(d.join(file), b"").unwrap();
        }
        let files = walk(d, |p| p.extension().is_some_and(|e| e == "parquet")).unwrap();
        assert_eq!(
            files,
            vec![
                d.join("year=2024/month=01/part-00000.parquet"),
                d.join("year=2024/month=02/part-00000.parquet"),
            ]
        );
        let pairs = partitions(d, &files).unwrap().unwrap();
        assert_eq!(
            pairs[1],
            vec![("year".into(), "2024".into()), ("month".into(), "02".into())]
        );
        assert_eq!(partitions(d, &[d.join("a.parquet")]).unwrap(), None);
    }
}
