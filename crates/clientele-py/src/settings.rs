//! Keyword arguments and `settings=` onto the library's [`Settings`]: no settings of our own.
//!
//! A keyword is a key of one of the sections of [`Settings`] (`bins=4` is `[analysis] bins`),
//! or a section itself (`analysis={"bins": 4}`, `clusters=True`, `clv={"horizon": "12mo"}`), or
//! `preset`. Which section holds a key is asked of the sections' own serde field lists, so a
//! key added to the library is a keyword here without a change. Each keyword is read by the
//! library's TOML reader (so a bad value gets the library's message, naming the key), then put
//! over the base settings (`settings=`: a TOML file read as `--config`, or a dict), as the CLI
//! puts its flags over `--config`.

use std::path::Path;

use clientele::Columns;
use clientele::settings::{
    AnalysisSettings, ClusterK, ClusterSettings, ClvSettings, ConfigFile, InputSettings, OutputSettings,
    Settings,
};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde::de::{self, Deserialize, Deserializer, Visitor};

use crate::errors::{library_error, usage_error};

/// The sections of [`Settings`] and the keys each holds, as serde reads them.
pub fn sections() -> [(&'static str, &'static [&'static str]); 6] {
    [
        ("input", fields::<InputSettings>()),
        ("columns", fields::<Columns>()),
        ("analysis", fields::<AnalysisSettings>()),
        ("clusters", fields::<ClusterSettings>()),
        ("clv", fields::<ClvSettings>()),
        ("output", fields::<OutputSettings>()),
    ]
}

/// The field names serde's derived `Deserialize` of `T` asks for (`deserialize_struct`'s list).
fn fields<T: for<'de> Deserialize<'de>>() -> &'static [&'static str] {
    let mut probe = Probe(None);
    let _ = T::deserialize(&mut probe);
    probe.0.unwrap_or(&[])
}

/// A deserializer that only records the fields of the struct asked for.
struct Probe(Option<&'static [&'static str]>);

impl<'de> Deserializer<'de> for &mut Probe {
    type Error = de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::custom("field probe"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Self::Error> {
        self.0 = Some(fields);
        Err(de::Error::custom("field probe"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

/// What a function computes whatever the settings say (`clusters()` always clusters).
#[derive(Debug, Clone, Copy, Default)]
pub struct Always {
    /// Clusters: `k` defaults when neither `k` nor a model is given.
    pub clusters: bool,
    /// Lifetime value.
    pub clv: bool,
}

/// The settings of one call: `settings=` (a TOML file path or a dict), then the keywords over
/// them.
///
/// # Errors
///
/// `UsageError` for unknown keywords and bad values (the library's messages); the library's
/// errors for a configuration file.
pub fn settings(
    base: Option<&Bound<'_, PyAny>>,
    kwargs: Option<&Bound<'_, PyDict>>,
    always: Always,
) -> PyResult<Settings> {
    let mut settings = match base {
        None => Settings::default(),
        Some(b) if b.is_none() => Settings::default(),
        Some(b) if b.is_instance_of::<PyDict>() => {
            let table = to_table(b.cast::<PyDict>()?)?;
            let text = toml::to_string(&table).map_err(|e| usage_error(format!("settings: {e}")))?;
            Settings::from_toml_str(&text, Path::new("")).map_err(library_error)?
        }
        Some(b) => {
            let path: std::path::PathBuf = b
                .extract()
                .map_err(|_| usage_error("settings= takes a TOML file's path or a dict".to_string()))?;
            ConfigFile::read(&path).map_err(library_error)?.0.settings
        }
    };
    let mut table: toml::Table = toml::from_str(&settings.to_toml()).expect("settings serialize to TOML");
    if always.clusters {
        section(&mut table, "clusters");
    }
    if always.clv {
        section(&mut table, "clv");
    }
    let mut binning = None;
    if let Some(kwargs) = kwargs {
        binning = apply(&mut table, kwargs)?;
    }
    if always.clusters {
        let c = section(&mut table, "clusters");
        if !c.contains_key("k") && !c.contains_key("model") {
            let k = toml::Value::try_from(ClusterK::default()).expect("a number of clusters serializes");
            c.insert("k".into(), k);
        }
    }
    settings = toml::Value::Table(table)
        .try_into()
        .map_err(|e: toml::de::Error| usage_error(e.to_string()))?;
    settings.settle_preset(binning).map_err(library_error)?;
    Ok(settings)
}

/// Puts the keywords over `table`; returns the binning given, if any.
fn apply(table: &mut toml::Table, kwargs: &Bound<'_, PyDict>) -> PyResult<Option<clientele::Binning>> {
    let sections = sections();
    let mut flat = Vec::new();
    let mut binning = None;
    // Sections and the preset first, then single keys over them.
    for (key, value) in kwargs.iter() {
        let key: String = key.extract()?;
        if value.is_none() {
            continue;
        }
        if key == "preset" {
            let v = to_value(&value)?;
            check_one(None, &key, &v)?;
            table.insert(key, v);
        } else if let Some((name, _)) = sections.iter().find(|(name, _)| *name == key) {
            apply_section(table, name, &value)?;
        } else {
            flat.push((key, value));
        }
    }
    for (key, value) in flat {
        let homes: Vec<&str> = sections
            .iter()
            .filter(|(_, keys)| keys.contains(&key.as_str()))
            .map(|(name, _)| *name)
            .collect();
        let name = match homes.as_slice() {
            [one] => *one,
            [] => return Err(usage_error(unknown_key(&key, &sections))),
            many => {
                let ways: Vec<String> = many.iter().map(|s| format!("{s}={{{key:?}: ...}}")).collect();
                return Err(usage_error(format!(
                    "{key} is a setting of {}: say which, as {}",
                    many.join(" and "),
                    ways.join(" or ")
                )));
            }
        };
        if (name == "clusters" || name == "clv") && !table.contains_key(name) {
            let asks = if name == "clv" {
                "clv=True (or clv={...}) for lifetime value"
            } else {
                "clusters=K or clusters=True for clusters"
            };
            return Err(usage_error(format!("{key} is a setting of [{name}]: add {asks}")));
        }
        let v = to_value(&value)?;
        let checked = check_one(Some(name), &key, &v)?;
        if key == "binning" {
            binning = Some(checked.analysis.binning);
        }
        put(section(table, name), name, &key, v);
    }
    Ok(binning)
}

/// `clusters=`/`clv=` as a switch, `clusters=K`, or a section's keys as a dict.
fn apply_section(table: &mut toml::Table, name: &str, value: &Bound<'_, PyAny>) -> PyResult<()> {
    if value.is_instance_of::<PyBool>() {
        if value.extract::<bool>()? {
            section(table, name);
        } else {
            table.remove(name);
        }
        return Ok(());
    }
    if name == "clusters" && !value.is_instance_of::<PyDict>() {
        // `clusters=4` or `clusters="auto"`, as `--clusters K`.
        let v = to_value(value)?;
        check_one(Some(name), "k", &v)?;
        put(section(table, name), name, "k", v);
        return Ok(());
    }
    let dict = value
        .cast::<PyDict>()
        .map_err(|_| usage_error(format!("{name}= takes a dict of [{name}] keys")))?;
    for (key, value) in dict.iter() {
        let key: String = key.extract()?;
        if value.is_none() {
            continue;
        }
        let v = to_value(&value)?;
        check_one(Some(name), &key, &v)?;
        put(section(table, name), name, &key, v);
    }
    Ok(())
}

/// Sets `key` in a section, as the CLI's flags do: an amount column replaces quantity × price
/// and the reverse; a number of clusters replaces a saved model and the reverse.
fn put(section: &mut toml::Table, name: &str, key: &str, value: toml::Value) {
    let replaces: &[&str] = match (name, key) {
        ("columns", "amount") => &["quantity", "price"],
        ("columns", "quantity" | "price") => &["amount"],
        ("clusters", "k") => &["model"],
        ("clusters", "model") => &["k"],
        _ => &[],
    };
    for other in replaces {
        section.remove(*other);
    }
    section.insert(key.to_string(), value);
}

/// The table of a section, created empty when missing.
fn section<'t>(table: &'t mut toml::Table, name: &str) -> &'t mut toml::Table {
    let entry = table
        .entry(name.to_string())
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    if !entry.is_table() {
        *entry = toml::Value::Table(toml::Table::new());
    }
    entry.as_table_mut().expect("a table")
}

/// Reads one key alone through the library's TOML reader: its message for a bad value.
fn check_one(section: Option<&str>, key: &str, value: &toml::Value) -> PyResult<Settings> {
    let mut one = toml::Table::new();
    one.insert(key.to_string(), value.clone());
    let table = match section {
        None => one,
        Some(name) => {
            let mut t = toml::Table::new();
            t.insert(name.to_string(), toml::Value::Table(one));
            t
        }
    };
    let text = toml::to_string(&table).map_err(|e| usage_error(format!("{key}: {e}")))?;
    Settings::from_toml_str(&text, Path::new("")).map_err(|e| match e {
        // "configuration: analysis.bins: ...": the key names the setting, there is no file.
        clientele::Error::Config { detail, .. } => usage_error(detail),
        other => library_error(other),
    })
}

fn unknown_key(key: &str, sections: &[(&str, &[&str])]) -> String {
    let mut text = format!("unknown setting {key:?}; the settings are preset and");
    for (name, keys) in sections {
        text.push_str(&format!(" [{name}] {}", keys.join(", ")));
        text.push(';');
    }
    text.pop();
    text
}

/// A dict as a TOML table (`None` values left out).
fn to_table(dict: &Bound<'_, PyDict>) -> PyResult<toml::Table> {
    let mut table = toml::Table::new();
    for (key, value) in dict.iter() {
        if value.is_none() {
            continue;
        }
        table.insert(key.extract()?, to_value(&value)?);
    }
    Ok(table)
}

/// A Python value as a TOML value: booleans, integers, floats, strings, paths, dates
/// (`YYYY-MM-DD`), lists and dicts.
fn to_value(value: &Bound<'_, PyAny>) -> PyResult<toml::Value> {
    Ok(if value.is_instance_of::<PyBool>() {
        toml::Value::Boolean(value.extract()?)
    } else if value.is_instance_of::<PyInt>() {
        toml::Value::Integer(value.extract()?)
    } else if value.is_instance_of::<PyFloat>() {
        toml::Value::Float(value.extract()?)
    } else if value.is_instance_of::<PyString>() {
        toml::Value::String(value.extract()?)
    } else if value.is_instance_of::<PyDict>() {
        toml::Value::Table(to_table(value.cast::<PyDict>()?)?)
    } else if value.is_instance_of::<PyList>() || value.is_instance_of::<PyTuple>() {
        let mut items = Vec::new();
        for item in value.try_iter()? {
            items.push(to_value(&item?)?);
        }
        toml::Value::Array(items)
    } else if value.hasattr("isoformat")? {
        toml::Value::String(value.call_method0("isoformat")?.extract()?)
    } else if let Ok(path) = value.extract::<std::path::PathBuf>() {
        toml::Value::String(path.to_string_lossy().into_owned())
    } else {
        let type_name = value.get_type().name()?.to_string();
        return Err(usage_error(format!(
            "a setting's value must be a bool, number, string, path, date, list or dict, not {type_name}"
        )));
    })
}
