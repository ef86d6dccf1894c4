//! `clientele._clientele`: the native half of the `clientele` Python package.
//!
//! The Python package (`python/clientele/`) gives the documented functions; they call these,
//! which parse the keywords into the library's `Settings` (`settings.rs`), run the library
//! with the GIL released (`jobs.rs`) and hand the frames back to polars through the Arrow C
//! data interface (pyo3-polars: the buffers are shared, not copied).
#![deny(missing_docs)]

mod errors;
mod jobs;
mod report;
mod settings;

use std::path::PathBuf;

use clientele::OutputFormat;
use clientele::settings::Choice;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use pyo3_polars::PyDataFrame;

use crate::errors::{library_error, usage_error};
use crate::jobs::{Command, Data};
use crate::settings::Always;

/// Checked settings of a call; `always` are the analyses the function computes whatever
/// the settings say.
fn valid(
    settings: Option<&Bound<'_, PyAny>>,
    kwargs: Option<&Bound<'_, PyDict>>,
    always: Always,
) -> PyResult<clientele::settings::ValidSettings> {
    let s = settings::settings(settings, kwargs, always)?;
    s.check().map_err(library_error)
}

/// `customers`, `rfm`, `abc`, `clusters`, `clv` or `segment` over `data`: the table and
/// what was found (JSON text, read into typed objects by the Python side).
#[pyfunction]
#[pyo3(signature = (command, data, settings=None, **kwargs))]
fn table(
    py: Python<'_>,
    command: &str,
    data: &Bound<'_, PyAny>,
    settings: Option<&Bound<'_, PyAny>>,
    kwargs: Option<&Bound<'_, PyDict>>,
) -> PyResult<(PyDataFrame, String)> {
    let command = Command::from_name(command).ok_or_else(|| usage_error(format!("no function {command}")))?;
    let always = Always {
        clusters: command == Command::Clusters,
        clv: command == Command::Clv,
    };
    let job = valid(settings, kwargs, always)?;
    let data = Data::extract(data)?;
    let (frame, info) = jobs::detached(py, || jobs::table(command, &job, &data))?;
    Ok((PyDataFrame(frame), info.to_string()))
}

/// The data-quality report of `data`: (JSON, Markdown).
#[pyfunction]
#[pyo3(signature = (data, settings=None, **kwargs))]
fn validate(
    py: Python<'_>,
    data: &Bound<'_, PyAny>,
    settings: Option<&Bound<'_, PyAny>>,
    kwargs: Option<&Bound<'_, PyDict>>,
) -> PyResult<(String, String)> {
    let job = valid(settings, kwargs, Always::default())?;
    let data = Data::extract(data)?;
    jobs::detached(py, || {
        jobs::stage()?;
        let tx = jobs::scan(&job, &data)?;
        jobs::stage()?;
        let report = clientele::quality::assess(&tx, &job.policy).map_err(library_error)?;
        Ok((report.to_json(), report.to_markdown()))
    })
}

/// The customer aggregation as SQL, as `clientele sql`.
#[pyfunction]
#[pyo3(signature = (sample=None, dialect="duckdb", table=None, clv=false, settings=None, **kwargs))]
fn sql(
    py: Python<'_>,
    sample: Option<&Bound<'_, PyAny>>,
    dialect: &str,
    table: Option<String>,
    clv: bool,
    settings: Option<&Bound<'_, PyAny>>,
    kwargs: Option<&Bound<'_, PyDict>>,
) -> PyResult<String> {
    let dialect = clientele::sql::Dialect::from_name(dialect).ok_or_else(|| {
        usage_error(format!(
            "dialect: {dialect:?} is not one of {}",
            names::<clientele::sql::Dialect>()
        ))
    })?;
    let always = Always { clusters: false, clv };
    let s = settings::settings(settings, kwargs, always)?;
    let job = s.check().map_err(library_error)?;
    let sample = sample.filter(|s| !s.is_none()).map(Data::extract).transpose()?;
    jobs::detached(py, || {
        report::sql_query(&s, &job, sample.as_ref(), table, dialect)
    })
}

/// The settings of a call as TOML, as `clientele config show` prints them.
#[pyfunction]
#[pyo3(signature = (settings=None, **kwargs))]
fn config_show(settings: Option<&Bound<'_, PyAny>>, kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<String> {
    Ok(settings::settings(settings, kwargs, Always::default())?.to_toml())
}

/// Every key of every section of the settings (for `help()`), defaults or not.
#[pyfunction]
fn settings_keys() -> Vec<(&'static str, Vec<&'static str>)> {
    settings::sections()
        .into_iter()
        .map(|(name, keys)| (name, keys.to_vec()))
        .collect()
}

/// The names of a choice, for messages.
fn names<T: Choice>() -> String {
    T::CHOICES.iter().map(|c| c.1).collect::<Vec<_>>().join(", ")
}

/// Writes a frame as the CLI writes its tables (format from `format` or the file name).
#[pyfunction]
#[pyo3(signature = (frame, path, format=None))]
fn write_table(py: Python<'_>, frame: PyDataFrame, path: PathBuf, format: Option<&str>) -> PyResult<()> {
    let format = match format {
        Some(name) => OutputFormat::from_name(name).ok_or_else(|| {
            usage_error(format!(
                "format: {name:?} is not one of {}",
                names::<OutputFormat>()
            ))
        })?,
        None => OutputFormat::from_path(&path).ok_or_else(|| {
            usage_error(format!(
                "cannot tell the format of {} from its name: pass format= ({})",
                path.display(),
                names::<OutputFormat>()
            ))
        })?,
    };
    jobs::detached(py, || {
        clientele::output::write_frame(&frame.0, &path, format).map_err(library_error)
    })
}

/// For the zero-copy check of the tests: a frame made in Rust, and the address of the values
/// buffer of its column `x` (polars' `Series._get_buffer_info()` on the Python side must show
/// the same address).
#[pyfunction]
fn _handover_probe() -> PyResult<(PyDataFrame, usize)> {
    use clientele::polars::prelude::*;
    let values: Vec<f64> = (0..1_000).map(f64::from).collect();
    let frame = df!("x" => values).map_err(|e| usage_error(e.to_string()))?;
    let address = frame
        .column("x")
        .and_then(|c| {
            c.as_materialized_series()
                .f64()
                .map(|ca| ca.data_views().next().map(|s| s.as_ptr() as usize))
        })
        .map_err(|e| usage_error(e.to_string()))?
        .unwrap_or(0);
    Ok((PyDataFrame(frame), address))
}

/// The native module.
#[pymodule]
fn _clientele(m: &Bound<'_, PyModule>) -> PyResult<()> {
    errors::register(m)?;
    m.add_function(wrap_pyfunction!(table, m)?)?;
    m.add_function(wrap_pyfunction!(validate, m)?)?;
    m.add_function(wrap_pyfunction!(sql, m)?)?;
    m.add_function(wrap_pyfunction!(write_table, m)?)?;
    m.add_function(wrap_pyfunction!(config_show, m)?)?;
    m.add_function(wrap_pyfunction!(settings_keys, m)?)?;
    m.add_function(wrap_pyfunction!(_handover_probe, m)?)?;
    m.add_function(wrap_pyfunction!(report::report, m)?)?;
    m.add_class::<report::Report>()?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
