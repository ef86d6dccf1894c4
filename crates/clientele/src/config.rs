//! Run configuration: everything `clientele run` needs, in one TOML file.
//!
//! ```toml
//! previous = "runs/latest"          # optional: compare with this earlier run
//!
//! [input]
//! paths = ["exports/orders-*.csv"]  # files, directories of Parquet files, or globs
//! # kind = "customers"              # a customer table aggregated elsewhere
//!
//! [columns]                         # optional: detected when left out
//! customer = "CustomerID"
//! quantity = "Quantity"
//! price = "UnitPrice"
//!
//! [analysis]
//! as_of = "day-after-latest"        # or a date, "2011-12-10"
//! returns = "exclude"
//! binning = "quantile"
//!
//! [clusters]                        # optional: k-means clusters
//! k = 4
//!
//! [clv]                             # optional: lifetime value
//! horizon = 52
//!
//! [output]
//! dir = "runs/latest"
//! format = "parquet"
//! ```
//!
//! Everything but `input.paths`, `output.dir` and `previous` is a setting
//! ([`Settings`]): the same file given to an analysis subcommand
//! (`clientele segment X --config clientele.toml`) means the same thing there.
//!
//! Relative paths are relative to the directory of the configuration file, so a run does not
//! depend on the directory cron starts it in. Unknown keys are errors that name the key. The
//! full reference is the repository's `docs/runs.md`.

use std::path::{Path, PathBuf};

use serde::{Serialize, Serializer};

use crate::error::{Error, Result};
use crate::settings::{ConfigFile, Settings};

/// A parsed run configuration, with paths resolved against the configuration file's directory.
#[derive(Debug, Clone, PartialEq)]
pub struct RunConfig {
    /// `input.paths`: files, directories of Parquet files or globs; all of one format and one
    /// column layout.
    pub paths: Vec<PathBuf>,
    /// Every setting (the other keys of the file).
    pub settings: Settings,
    /// `output.dir`: the run's directory, replaced as a whole by each run.
    pub dir: PathBuf,
    /// `previous`: an earlier run's directory (or segment table) to compare with.
    pub previous: Option<PathBuf>,
}

impl RunConfig {
    /// Reads a configuration file; relative paths are resolved against its directory.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when the file cannot be read; [`Error::Config`] for TOML errors, unknown
    /// keys and invalid values, naming the file and the key.
    pub fn from_file(path: impl AsRef<Path>) -> Result<(RunConfig, Vec<u8>)> {
        let path = path.as_ref();
        let (file, bytes) = ConfigFile::read(path)?;
        let config = RunConfig::from_parts(file).map_err(|e| match e {
            Error::Config { detail, .. } => Error::Config {
                path: path.to_path_buf(),
                detail,
            },
            other => other,
        })?;
        Ok((config, bytes))
    }

    /// Parses a configuration; relative paths are resolved against `base`.
    ///
    /// ```
    /// use clientele::config::RunConfig;
    ///
    /// let config = RunConfig::from_toml_str(
    ///     "[input]\npaths = [\"orders.csv\"]\n[output]\ndir = \"out\"\n",
    ///     std::path::Path::new("/srv/crm"),
    /// )?;
    /// assert_eq!(config.paths[0], std::path::Path::new("/srv/crm/orders.csv"));
    ///
    /// let typo = RunConfig::from_toml_str("[input]\npath = [\"a.csv\"]\n", std::path::Path::new(""));
    /// assert!(typo.unwrap_err().to_string().contains("unknown field `path`"));
    /// # Ok::<(), clientele::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Config`] for TOML errors, unknown keys and invalid values.
    pub fn from_toml_str(text: &str, base: &Path) -> Result<RunConfig> {
        RunConfig::from_parts(ConfigFile::parse(text, base)?)
    }

    fn from_parts(file: ConfigFile) -> Result<RunConfig> {
        let bad = |key: &str, detail: String| Error::Config {
            path: PathBuf::from("configuration"),
            detail: format!("{key}: {detail}"),
        };
        let paths = file.paths.unwrap_or_default();
        if paths.is_empty() {
            return Err(bad("input.paths", "names no input".into()));
        }
        let dir = file
            .dir
            .ok_or_else(|| bad("output.dir", "missing: name the run's directory".into()))?;
        if dir.file_name().is_none() {
            return Err(bad(
                "output.dir",
                format!("{} has no directory name", dir.display()),
            ));
        }
        Ok(RunConfig {
            paths,
            settings: file.settings,
            dir,
            previous: file.previous,
        })
    }
}

/// As the file's layout: `previous`, `[input]` with `paths`, the settings' sections, `[output]`
/// with `dir` (what a run's manifest records).
impl Serialize for RunConfig {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let mut table = toml::Table::try_from(&self.settings).map_err(serde::ser::Error::custom)?;
        let text = |p: &Path| toml::Value::String(p.display().to_string());
        if let Some(p) = &self.previous {
            table.insert("previous".into(), text(p));
        }
        let mut section = |name: &str, key: &str, value: toml::Value| {
            let entry = table
                .entry(name)
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            if let Some(t) = entry.as_table_mut() {
                t.insert(key.into(), value);
            }
        };
        section(
            "input",
            "paths",
            toml::Value::Array(self.paths.iter().map(|p| text(p)).collect()),
        );
        section("output", "dir", text(&self.dir));
        table.serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::ingest::{Delimiter, Encoding};
    use crate::output::OutputFormat;
    use crate::rows::{AsOf, RowPolicy};

    fn parse(text: &str) -> Result<RunConfig> {
        RunConfig::from_toml_str(text, Path::new("/base"))
    }

    const MINIMAL: &str = "[input]\npaths = [\"a.csv\"]\n[output]\ndir = \"out\"\n";

    #[test]
    fn defaults_and_relative_paths() {
        let c = parse(MINIMAL).unwrap();
        assert_eq!(c.paths, [PathBuf::from("/base/a.csv")]);
        assert_eq!(c.dir, PathBuf::from("/base/out"));
        assert_eq!(c.settings, Settings::default());
        let job = c.settings.check().unwrap();
        assert_eq!(job.output_format, None);
        assert_eq!(job.policy, RowPolicy::default());
    }

    #[test]
    fn unknown_keys_are_named() {
        let err = parse(&format!("{MINIMAL}[analysis]\nreturn = \"net\"\n")).unwrap_err();
        assert!(err.to_string().contains("unknown field `return`"), "{err}");
        let err = parse(&format!("{MINIMAL}colour = 1\n")).unwrap_err();
        assert!(err.to_string().contains("unknown field `colour`"), "{err}");
        let err = parse(&format!("{MINIMAL}[clusters]\nk = 4\nseeds = 3\n")).unwrap_err();
        assert!(err.to_string().contains("unknown field `seeds`"), "{err}");
    }

    #[test]
    fn invalid_values_name_their_key() {
        let err = parse(&format!("{MINIMAL}[analysis]\nas_of = \"yesterday\"\n")).unwrap_err();
        assert!(err.to_string().contains("analysis.as_of"), "{err}");
        let err = parse(&format!("{MINIMAL}[analysis]\nreturns = \"keep\"\n")).unwrap_err();
        assert!(err.to_string().contains("analysis.returns"), "{err}");
        assert!(err.to_string().contains("\"keep\""), "{err}");
        let err = parse(&format!("{MINIMAL}[clusters]\nk = \"many\"\n")).unwrap_err();
        assert!(err.to_string().contains("clusters.k"), "{err}");
        let err = parse("[input]\npaths = []\n[output]\ndir = \"o\"\n").unwrap_err();
        assert!(err.to_string().contains("input.paths"), "{err}");
        let err = parse(&format!("{MINIMAL}[analysis]\nbins = 12\n"))
            .unwrap()
            .settings
            .check()
            .unwrap_err();
        assert!(err.to_string().contains("bins must be between 2 and 9"), "{err}");
    }

    #[test]
    fn every_section_parses() {
        let c = parse(
            "previous = \"runs/old\"\n\
             [input]\npaths = [\"a.csv\", \"b/*.csv\"]\nformat = \"csv\"\ndelimiter = \";\"\ndecimal_comma = true\nencoding = \"windows-1252\"\n\
             [columns]\ncustomer = \"Kunde\"\nquantity = \"q\"\nprice = \"p\"\n\
             [analysis]\nas_of = \"2024-01-31\"\nreturns = \"exclude\"\nbinning = \"fixed\"\nbins = 3\n\
             abc_by = \"revenue\"\nabc_splits = [70, 20, 10]\n\
             [analysis.thresholds]\nrecency = [30, 90]\nfrequency = [1, 3]\nmonetary = [100, 500]\n\
             [clusters]\nk = \"auto\"\nk_range = [2, 4]\nseed = 7\n\
             [clv]\ntime_unit = \"day\"\nhorizon = 365\nmodel = \"pareto-nbd\"\n\
             [output]\ndir = \"runs/latest\"\nformat = \"csv\"\n",
        )
        .unwrap();
        assert_eq!(c.previous, Some(PathBuf::from("/base/runs/old")));
        let job = c.settings.check().unwrap();
        assert_eq!(
            job.policy.as_of,
            AsOf::Date(NaiveDate::from_ymd_opt(2024, 1, 31).unwrap())
        );
        assert_eq!(job.ingest.csv.delimiter, Delimiter::Byte(b';'));
        assert_eq!(job.ingest.csv.encoding, Encoding::Windows1252);
        assert_eq!(job.output_format, Some(OutputFormat::Csv));
        assert!(job.clusters.is_some() && job.clv.is_some());
    }

    #[test]
    fn the_manifest_records_the_file_layout() {
        let c = parse(&format!("{MINIMAL}[clv]\nhorizon = 10\n")).unwrap();
        let json = serde_json::to_value(&c).unwrap();
        assert_eq!(json["input"]["paths"][0], "/base/a.csv");
        assert_eq!(json["output"]["dir"], "/base/out");
        assert_eq!(json["clv"]["horizon"], 10.0);
        assert_eq!(json["analysis"]["as_of"], "day-after-latest");
    }
}
