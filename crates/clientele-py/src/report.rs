//! `clientele.report(...)`: the report directory of `clientele report`, kept in memory until
//! saved; and the SQL of `clientele sql`.

use std::path::PathBuf;

use clientele::run::ReportFiles;
use clientele::settings::{Settings, ValidSettings};
use clientele::sql::{BtydSql, Dialect, SqlJob};
use clientele::{OutputFormat, Segmentation};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use pyo3_polars::PyDataFrame;

use crate::errors::{library_error, usage_error};
use crate::jobs::{self, Data};
use crate::settings::Always;

/// A segmentation with its report files: `summary.md`, `summary.json`, `report.html`, the
/// segment table, the rejected rows, the migration and the cluster model, as
/// `clientele report` writes them.
#[pyclass(module = "clientele._clientele", frozen)]
pub struct Report {
    result: Segmentation,
    files: ReportFiles,
}

#[pymethods]
impl Report {
    /// The self-contained HTML page of `report.html`.
    fn html(&self) -> String {
        self.files.summary.to_html()
    }

    /// `summary.md`.
    fn markdown(&self) -> String {
        self.files.summary.to_markdown()
    }

    /// `summary.json`.
    fn json(&self) -> String {
        self.files.summary.to_json()
    }

    /// The segment table (with `[output] columns` applied, as in the directory).
    fn frame(&self) -> PyResult<PyDataFrame> {
        Ok(PyDataFrame(match &self.files.columns {
            Some(names) => {
                clientele::output::select_columns(&self.result.frame, names).map_err(library_error)?
            }
            None => self.result.frame.clone(),
        }))
    }

    /// The rejected input rows with their reason (`rejects.csv`), when there are any.
    fn rejects(&self) -> PyResult<Option<PyDataFrame>> {
        let rejects = self.files.rejects.as_ref().map(|r| r.to_frame());
        Ok(rejects.transpose().map_err(library_error)?.map(PyDataFrame))
    }

    /// The file names the directory gets, in order.
    fn names(&self) -> Vec<String> {
        self.files.names(&self.result)
    }

    /// Rows, RFM cut points, ABC classes, clusters and lifetime value, as JSON.
    fn info(&self) -> String {
        jobs::segmentation_info(&self.result).to_string()
    }

    /// Writes the files into `dir` (created if missing), all put in place together, as
    /// `clientele report --out-dir DIR`; returns their paths.
    fn save(&self, py: Python<'_>, dir: PathBuf) -> PyResult<Vec<PathBuf>> {
        jobs::detached(py, || {
            std::fs::create_dir_all(&dir).map_err(|source| {
                library_error(clientele::Error::Io {
                    action: "cannot create",
                    path: dir.clone(),
                    source,
                })
            })?;
            self.files.write(&dir, &self.result).map_err(library_error)
        })
    }
}

/// The report of `data`, as `clientele report` builds it: rejected rows and cohorts read in
/// the same pass, compared with `previous` (a report directory or segment table) when given.
#[pyfunction]
#[pyo3(signature = (data, previous=None, settings=None, **kwargs))]
pub fn report(
    py: Python<'_>,
    data: &Bound<'_, PyAny>,
    previous: Option<PathBuf>,
    settings: Option<&Bound<'_, PyAny>>,
    kwargs: Option<&Bound<'_, PyDict>>,
) -> PyResult<Report> {
    let s = crate::settings::settings(settings, kwargs, Always::default())?;
    let job = s.check().map_err(library_error)?;
    let data = Data::extract(data)?;
    jobs::detached(py, || build(&job, &data, previous.as_deref()))
}

fn build(job: &ValidSettings, data: &Data, previous: Option<&std::path::Path>) -> PyResult<Report> {
    jobs::stage()?;
    let tx = jobs::scan(job, data)?;
    jobs::stage()?;
    let result = jobs::segmentation(job, &tx, true, true)?;
    let format = job.output_format.unwrap_or(OutputFormat::Csv);
    let mut files = ReportFiles::new(&result, format).map_err(library_error)?;
    files.columns = job.output_columns.clone();
    if let Some(path) = previous {
        files.compare_with(path, &result).map_err(library_error)?;
    }
    files.rejects = clientele::run::rejected_rows(&tx, &job.policy, &result).map_err(library_error)?;
    Ok(Report { result, files })
}

/// The query of `clientele sql`: over a sample export (its columns and formats) or named
/// columns, with the as-of date, the returns policy and with `clv` the `btyd_*` columns.
pub fn sql_query(
    s: &Settings,
    valid: &ValidSettings,
    sample: Option<&Data>,
    table: Option<String>,
    dialect: Dialect,
) -> PyResult<String> {
    let mut job = match sample {
        Some(data) => {
            let tx = jobs::scan(valid, data)?;
            let table = match (table, dialect, data) {
                (Some(table), _, _) => table,
                (None, Dialect::DuckDb, Data::Path(path)) => {
                    clientele::sql::duckdb_source(path, &tx).map_err(library_error)?
                }
                (None, _, _) => return Err(usage_error("table= names the table the query reads".into())),
            };
            SqlJob::for_sample(table, &tx)
        }
        None => {
            let table = table
                .ok_or_else(|| usage_error("name the table with table= (or give a sample export)".into()))?;
            SqlJob::for_named_columns(table, &valid.ingest.columns, s.input.time_format.clone()).ok_or_else(|| {
                usage_error(
                    "without a sample, name the columns: customer=, time=, and amount= or quantity= and price="
                        .into(),
                )
            })?
        }
    };
    job.as_of = valid.policy.as_of.date();
    job.returns = valid.policy.returns;
    if let Some(clv) = &valid.clv {
        job.btyd = Some(BtydSql {
            calibration_end: clv.calibration_end(),
            holdout_end: clv.holdout_end(),
            period: clv.period(),
        });
    }
    job.query(dialect).map_err(library_error)
}
