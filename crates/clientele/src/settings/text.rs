//! Settings as TOML text: configuration files in, `clientele config show` out.

use std::path::{Path, PathBuf};

use super::Settings;
use crate::error::{Error, Result};

/// A configuration file: the settings, and the places a run reads and writes (`input.paths`,
/// `output.dir`, `previous`), which are not settings: the analysis subcommands take them from
/// the command line, `clientele run` from the file.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigFile {
    /// Every setting of the file (defaults for the keys it leaves out).
    pub settings: Settings,
    /// `input.paths`: files, directories of Parquet files or globs.
    pub paths: Option<Vec<PathBuf>>,
    /// `output.dir`: the run's directory.
    pub dir: Option<PathBuf>,
    /// `previous`: an earlier run's directory (or segment table) to compare with.
    pub previous: Option<PathBuf>,
}

impl ConfigFile {
    /// Reads a configuration file; relative paths in it are resolved against its directory.
    /// Returns the file's bytes too (a run's manifest records their hash).
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when the file cannot be read; [`Error::Config`] for TOML errors, unknown
    /// keys and invalid values, naming the file and the key.
    pub fn read(path: &Path) -> Result<(ConfigFile, Vec<u8>)> {
        let bytes = std::fs::read(path).map_err(|e| Error::io("cannot read", path, e))?;
        let in_file = |detail: String| Error::Config {
            path: path.to_path_buf(),
            detail,
        };
        let text = std::str::from_utf8(&bytes).map_err(|_| in_file("is not UTF-8 text".into()))?;
        let base = path.parent().unwrap_or(Path::new(""));
        let file = ConfigFile::parse(text, base).map_err(|e| match e {
            Error::Config { detail, .. } => in_file(detail),
            other => other,
        })?;
        Ok((file, bytes))
    }

    /// Parses a configuration; relative paths are resolved against `base`.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] for TOML errors, unknown keys and invalid values.
    pub fn parse(text: &str, base: &Path) -> Result<ConfigFile> {
        let mut table: toml::Table = toml::from_str(text).map_err(|e| config_error(e.to_string()))?;
        let previous = take_path(&mut table, None, "previous")?;
        let paths = match take(&mut table, Some("input"), "paths") {
            None => None,
            Some(value) => Some(
                value
                    .try_into::<Vec<PathBuf>>()
                    .map_err(|e| config_error(format!("input.paths: {}", first_line(&e.to_string()))))?,
            ),
        };
        let dir = take_path(&mut table, Some("output"), "dir")?;
        let binning = table
            .get("analysis")
            .and_then(|a| a.get("binning"))
            .and_then(|b| b.as_str())
            .and_then(<crate::rfm::Binning as super::Choice>::from_name);
        let mut settings: Settings = toml::Value::Table(table)
            .try_into()
            .map_err(|e| config_error(keyed(&e.to_string())))?;
        settings
            .settle_preset(binning)
            .map_err(|e| config_error(e.to_string()))?;
        let resolve = |p: PathBuf| if p.is_relative() { base.join(p) } else { p };
        settings.resolve_paths(base);
        Ok(ConfigFile {
            settings,
            paths: paths.map(|list| list.into_iter().map(resolve).collect()),
            dir: dir.map(resolve),
            previous: previous.map(resolve),
        })
    }
}

impl Settings {
    /// Parses settings from TOML (a configuration file's text); relative paths are resolved
    /// against `base`. A run configuration's `input.paths`, `output.dir` and `previous` are
    /// allowed and ignored: they are not settings.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] for TOML errors, unknown keys and invalid values, naming the key.
    pub fn from_toml_str(text: &str, base: &Path) -> Result<Settings> {
        Ok(ConfigFile::parse(text, base)?.settings)
    }

    /// The settings as TOML, every key written out (defaults included), in the layout of a
    /// configuration file: what `clientele config show` prints.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("settings serialize to TOML")
    }
}

/// Removes `key` from the table `section` (or the top level).
fn take(table: &mut toml::Table, section: Option<&str>, key: &str) -> Option<toml::Value> {
    match section {
        None => table.remove(key),
        Some(name) => {
            let inner = table.get_mut(name)?.as_table_mut()?;
            let value = inner.remove(key);
            if inner.is_empty() {
                table.remove(name);
            }
            value
        }
    }
}

fn take_path(table: &mut toml::Table, section: Option<&str>, key: &str) -> Result<Option<PathBuf>> {
    let name = section.map_or(key.to_string(), |s| format!("{s}.{key}"));
    match take(table, section, key) {
        None => Ok(None),
        Some(toml::Value::String(text)) => Ok(Some(PathBuf::from(text))),
        Some(other) => Err(config_error(format!(
            "{name}: expected a path (text), got {}",
            other.type_str()
        ))),
    }
}

fn config_error(detail: String) -> Error {
    Error::Config {
        path: PathBuf::from("configuration"),
        detail: detail.trim_end().replace('\n', " "),
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or(text)
}

/// toml's "message\nin `analysis.as_of`" as "analysis.as_of: message".
fn keyed(text: &str) -> String {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let message = lines.next().unwrap_or(text).trim();
    match lines.find_map(|l| l.trim().strip_prefix("in `").and_then(|k| k.strip_suffix('`'))) {
        Some(key) => format!("{key}: {message}"),
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::{ClusterK, ClusterSettings, ClvSettings};

    fn parse(text: &str) -> Result<ConfigFile> {
        ConfigFile::parse(text, Path::new("/base"))
    }

    #[test]
    fn locations_are_split_from_settings() {
        let file = parse(
            "previous = \"old\"\n[input]\npaths = [\"a.csv\"]\nencoding = \"cp1252\"\n[output]\ndir = \"out\"\nformat = \"csv\"\n",
        )
        .unwrap();
        assert_eq!(file.paths, Some(vec![PathBuf::from("/base/a.csv")]));
        assert_eq!(file.dir, Some(PathBuf::from("/base/out")));
        assert_eq!(file.previous, Some(PathBuf::from("/base/old")));
        assert_eq!(file.settings.input.encoding, crate::ingest::Encoding::Windows1252);
        assert_eq!(file.settings.output.format, Some(crate::OutputFormat::Csv));
    }

    #[test]
    fn errors_name_the_key() {
        let err = parse("[analysis]\nas_of = \"yesterday\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("analysis.as_of") && err.contains("yesterday"),
            "{err}"
        );
        let err = parse("[analysis]\nreturn = \"net\"\n").unwrap_err().to_string();
        assert!(
            err.contains("unknown field `return`") && err.contains("analysis"),
            "{err}"
        );
        let err = parse("[clv]\nmodel = \"bgnbd\"\n").unwrap_err().to_string();
        assert!(
            err.contains("clv.model") && err.contains("bg-nbd, pareto-nbd, mbg-nbd or auto"),
            "{err}"
        );
        let err = parse("[input]\npaths = \"a.csv\"\n").unwrap_err().to_string();
        assert!(err.contains("input.paths"), "{err}");
    }

    #[test]
    fn settings_round_trip_through_toml() {
        let mut settings = Settings {
            clusters: Some(ClusterSettings {
                k: Some(ClusterK::Auto),
                ..ClusterSettings::default()
            }),
            clv: Some(ClvSettings::default()),
            ..Settings::default()
        };
        settings.analysis.abc_splits = Some(vec![70.0, 20.0, 10.0]);
        settings.input.delimiter = crate::ingest::Delimiter::Byte(b';');
        let text = settings.to_toml();
        assert!(text.contains("model = \"bg-nbd\""), "{text}");
        assert!(text.contains("k_range = \"2-10\""), "{text}");
        assert_eq!(Settings::from_toml_str(&text, Path::new("")).unwrap(), settings);
        assert_eq!(
            Settings::from_toml_str(&Settings::default().to_toml(), Path::new("")).unwrap(),
            Settings::default()
        );
    }

    #[test]
    fn k_range_reads_both_spellings() {
        let a = Settings::from_toml_str("[clusters]\nk = 3\nk_range = [2, 6]\n", Path::new("")).unwrap();
        let b = Settings::from_toml_str("[clusters]\nk = 3\nk_range = \"2-6\"\n", Path::new("")).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.clusters.unwrap().k_range.max, 6);
    }
}
