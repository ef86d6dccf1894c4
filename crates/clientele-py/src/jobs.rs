//! The computations behind the Python functions: each as the CLI's subcommand does it, through
//! the library's own functions, with the GIL released and interrupts checked between stages.

use std::panic::AssertUnwindSafe;
use std::path::PathBuf;

use clientele::cluster::{self, CLUSTER};
use clientele::customers::col_names::CUSTOMER_ID;
use clientele::customers::{self, CustomerTable, pre_aggregated};
use clientele::ingest::{self, Transactions};
use clientele::polars::prelude::*;
use clientele::settings::ValidSettings;
use clientele::{ClusterJob, InputKind, Segmentation};
use pyo3::prelude::*;
use serde_json::{Value, json};

use crate::errors::{library_error, panic_error};

/// The data of a call: a path (a file, a directory of Parquet files or a glob) or a frame.
pub enum Data {
    /// Read by the library's readers, as the CLI reads it.
    Path(PathBuf),
    /// A polars frame handed over from Python (its buffers shared, not copied).
    Frame(DataFrame),
}

impl Data {
    /// A `str`/`os.PathLike`, or a polars DataFrame (the Python side turns other frames into
    /// one through the Arrow PyCapsule interface).
    pub fn extract(obj: &Bound<'_, PyAny>) -> PyResult<Data> {
        if let Ok(path) = obj.extract::<PathBuf>() {
            return Ok(Data::Path(path));
        }
        let frame: pyo3_polars::PyDataFrame = obj.extract().map_err(|_| {
            pyo3::exceptions::PyTypeError::new_err(
                "data must be a path (str or os.PathLike) or a polars DataFrame",
            )
        })?;
        Ok(Data::Frame(frame.0))
    }
}

/// The name a frame goes by in messages.
const FRAME_NAME: &str = "data frame";

/// What a whole-table function computes (the CLI subcommand of the same name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// `clientele customers`.
    Customers,
    /// `clientele rfm`.
    Rfm,
    /// `clientele abc`.
    Abc,
    /// `clientele cluster`.
    Clusters,
    /// `clientele clv`.
    Clv,
    /// `clientele segment`.
    Segment,
}

impl Command {
    /// The command of a function's name.
    pub fn from_name(name: &str) -> Option<Command> {
        Some(match name {
            "customers" => Command::Customers,
            "rfm" => Command::Rfm,
            "abc" => Command::Abc,
            "clusters" => Command::Clusters,
            "clv" => Command::Clv,
            "segment" => Command::Segment,
            _ => return None,
        })
    }
}

/// Runs `f` with the GIL released, a panic turned into `InternalError`.
pub fn detached<T: Send>(py: Python<'_>, f: impl FnOnce() -> PyResult<T> + Send) -> PyResult<T> {
    py.detach(|| std::panic::catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|p| Err(panic_error(p))))
}

/// Between two stages: a pending KeyboardInterrupt (or other signal handler's error) stops the
/// job here.
pub fn stage() -> PyResult<()> {
    Python::attach(|py| py.check_signals())
}

fn lib<T>(result: clientele::Result<T>) -> PyResult<T> {
    result.map_err(library_error)
}

fn to_json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).expect("the library's summaries serialize")
}

/// Scans the input (its header and a sample only), as the CLI's `cmd::scan`, for paths and
/// frames.
pub fn scan(job: &ValidSettings, data: &Data) -> PyResult<Transactions> {
    lib(match (data, job.input_kind) {
        (Data::Path(path), InputKind::Transactions) => ingest::scan(path, &job.ingest),
        (Data::Path(path), InputKind::Customers) => {
            pre_aggregated::scan(std::slice::from_ref(path), &job.ingest)
        }
        (Data::Frame(frame), InputKind::Transactions) => {
            ingest::from_frame(FRAME_NAME, frame.clone().lazy(), &job.ingest)
        }
        (Data::Frame(frame), InputKind::Customers) => {
            pre_aggregated::from_frame(FRAME_NAME, frame.clone().lazy(), &job.ingest)
        }
    })
}

/// One row per customer, as `cmd::aggregate_customers`.
fn customer_table(job: &ValidSettings, tx: &Transactions) -> PyResult<CustomerTable> {
    lib(match job.input_kind {
        InputKind::Transactions => customers::aggregate(tx, &job.policy),
        InputKind::Customers => pre_aggregated::read(tx, &job.policy),
    })
}

/// The account of the rows and customers of a table.
fn rows_info(table: &CustomerTable) -> Value {
    json!({
        "rows": to_json(&table.reconciliation),
        "customers": table.frame.height(),
        "as_of": table.as_of.to_string(),
    })
}

/// Runs a whole-table command: the table (with `[output] columns` applied, as the CLI writes
/// it) and what the command found, as JSON for the typed Python objects.
pub fn table(command: Command, job: &ValidSettings, data: &Data) -> PyResult<(DataFrame, Value)> {
    stage()?;
    let tx = scan(job, data)?;
    stage()?;
    let (frame, info) = match command {
        Command::Segment => {
            let result = segmentation(job, &tx, false, false)?;
            let info = segmentation_info(&result);
            (result.frame, info)
        }
        Command::Clv => {
            let params = job.clv.as_ref().expect("clv() always computes lifetime value");
            let result = lib(clientele::clv::run(&tx, params))?;
            let info = json!({ "clv": to_json(&result.summary()) });
            (result.frame, info)
        }
        _ => per_customer(command, job, &tx)?,
    };
    let frame = match &job.output_columns {
        Some(names) => lib(clientele::output::select_columns(&frame, names))?,
        None => frame,
    };
    Ok((frame, info))
}

/// `customers`, `rfm`, `abc` and `clusters`: the customer table, then one analysis of it.
fn per_customer(command: Command, job: &ValidSettings, tx: &Transactions) -> PyResult<(DataFrame, Value)> {
    let table = customer_table(job, tx)?;
    stage()?;
    let mut info = rows_info(&table);
    let frame = match command {
        Command::Rfm => {
            let scored = lib(clientele::rfm::score(&table.frame, &job.rfm, &job.rules))?;
            info["rfm"] = to_json(&scored.scoring);
            info["segment_rule_warnings"] = to_json(&scored.segments.warnings);
            scored.frame
        }
        Command::Abc => {
            let tiers = lib(clientele::abc::classify(&table.frame, &job.abc))?;
            info["abc"] = to_json(&tiers.summary);
            info["abc_params"] = to_json(&job.abc);
            tiers.frame
        }
        Command::Clusters => {
            let job_clusters = job.clusters.as_ref().expect("clusters() always clusters");
            let clustering = lib(match job_clusters {
                ClusterJob::Fit(params) => cluster::fit(&table.frame, params),
                ClusterJob::Apply(model) => cluster::apply(&table.frame, model),
            })?;
            info["clusters"] = to_json(&clustering.summary());
            info["cluster_model"] = Value::String(clustering.model.to_json());
            let mut columns = vec![CUSTOMER_ID.to_string()];
            columns.extend(clustering.model.transform.features.iter().cloned());
            let mut frame = table.frame.select(columns).map_err(|error| {
                library_error(clientele::Error::Polars {
                    context: "selecting the cluster features".into(),
                    error,
                })
            })?;
            lib(clustering.add_column(&mut frame))?;
            debug_assert!(frame.column(CLUSTER).is_ok());
            frame
        }
        _ => table.frame,
    };
    Ok((frame, info))
}

/// The whole job, as `cmd::run_segmentation`.
pub fn segmentation(
    job: &ValidSettings,
    tx: &Transactions,
    rejects: bool,
    cohorts: bool,
) -> PyResult<Segmentation> {
    let segmenter = job
        .segmenter()
        .collect_rejects(rejects)
        .cohorts(cohorts.then_some(job.cohort_period));
    let result = lib(match job.input_kind {
        InputKind::Transactions => segmenter.run(tx),
        InputKind::Customers => segmenter.run_customer_table(tx),
    })?;
    stage()?;
    Ok(result)
}

/// What a segmentation found, without the report's charts: rows, RFM cut points, ABC
/// classes, clusters and lifetime value.
pub fn segmentation_info(result: &Segmentation) -> Value {
    let mut info = rows_info(&result.customers);
    info["rfm"] = to_json(&result.rfm.scoring);
    info["segment_rule_warnings"] = to_json(&result.rfm.segments.warnings);
    info["abc"] = to_json(&result.abc.summary);
    if let Some(clustering) = &result.clusters {
        info["clusters"] = to_json(&clustering.summary());
        info["cluster_model"] = Value::String(clustering.model.to_json());
    }
    if let Some(clv) = &result.clv {
        info["clv"] = to_json(&clv.summary());
    }
    info
}
