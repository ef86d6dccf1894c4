//! The library's errors as Python exceptions of the library's kind, and panics kept out of
//! Python.

use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;

create_exception!(
    clientele,
    ClienteleError,
    PyException,
    "Every error clientele raises; `kind` is \"data\", \"usage\", \"io\" or \"internal\"."
);
create_exception!(
    clientele,
    DataError,
    ClienteleError,
    "The input cannot be used as asked: a missing column, an empty file, no usable rows."
);
create_exception!(
    clientele,
    UsageError,
    ClienteleError,
    "The settings or arguments are invalid: an unknown keyword, a bad value, a bad rules file."
);
create_exception!(
    clientele,
    IoError,
    ClienteleError,
    "Reading or writing a file failed at the operating-system level."
);
create_exception!(
    clientele,
    InternalError,
    ClienteleError,
    "A bug in clientele (a panic caught before it reached Python); please report it."
);

/// The exception of the library error's kind, with its message.
pub fn library_error(error: clientele::Error) -> PyErr {
    let message = error.to_string();
    let (err, kind) = match error.kind() {
        clientele::ErrorKind::Data => (DataError::new_err(message), "data"),
        clientele::ErrorKind::Usage => (UsageError::new_err(message), "usage"),
        clientele::ErrorKind::Io => (IoError::new_err(message), "io"),
    };
    with_kind(err, kind)
}

/// A `UsageError` found by the module itself (a keyword the settings do not have).
pub fn usage_error(message: String) -> PyErr {
    with_kind(UsageError::new_err(message), "usage")
}

/// A panic's message as an `InternalError`.
pub fn panic_error(payload: Box<dyn std::any::Any + Send>) -> PyErr {
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_string());
    with_kind(
        InternalError::new_err(format!("internal error: {message}")),
        "internal",
    )
}

fn with_kind(err: PyErr, kind: &str) -> PyErr {
    Python::attach(|py| {
        let _ = err.value(py).setattr("kind", kind);
    });
    err
}

/// Adds the exception classes to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("ClienteleError", py.get_type::<ClienteleError>())?;
    m.add("DataError", py.get_type::<DataError>())?;
    m.add("UsageError", py.get_type::<UsageError>())?;
    m.add("IoError", py.get_type::<IoError>())?;
    m.add("InternalError", py.get_type::<InternalError>())?;
    Ok(())
}
