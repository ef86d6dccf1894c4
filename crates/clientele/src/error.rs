//! The library's error type.
//!
//! Every fallible function in clientele returns [`Result<T>`](Result), whose error is the
//! single [`Error`] enum. Each variant says what went wrong in terms a user can act on: the
//! file, the column, the row and the value where they are known. [`Error::kind`] sorts the
//! variants into the three groups a command-line tool maps to exit codes.

use std::path::PathBuf;

use polars::prelude::PolarsError;

/// Result with clientele's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What kind of failure an [`Error`] is, for mapping to exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The input data cannot be used as asked: missing columns, an empty file, no usable rows.
    Data,
    /// The settings are invalid: a bad parameter, a bad rules file.
    Usage,
    /// Reading or writing a file failed at the operating-system level.
    Io,
}

impl ErrorKind {
    /// The kind of an operating-system error met while reading or writing: content that
    /// cannot be decoded (corrupt or truncated compression, bytes cut short) is a fault of the
    /// data, like a damaged Parquet file; anything else (a missing file, no permission, a full
    /// disk) is an I/O error.
    pub fn of_io(error: &std::io::Error) -> ErrorKind {
        match error.kind() {
            std::io::ErrorKind::InvalidData | std::io::ErrorKind::UnexpectedEof => ErrorKind::Data,
            _ => ErrorKind::Io,
        }
    }
}

/// Everything that can go wrong in clientele.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be opened, read, written or renamed.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done ("cannot read", "cannot write", ...).
        action: &'static str,
        /// The file concerned.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },

    /// The input file has no data rows (or, for a directory or glob, no files).
    #[error("{source_name}: no data rows")]
    EmptyInput {
        /// The input as the user named it.
        source_name: String,
    },

    /// The input is not a file type clientele can read, or its content does not match its type.
    #[error("{source_name}: {detail}")]
    UnsupportedInput {
        /// The input as the user named it.
        source_name: String,
        /// What is wrong with it.
        detail: String,
    },

    /// A column the job needs was neither given nor found among the input's columns.
    #[error(
        "{source_name}: no {role} column found (looked for {tried}); the input has columns: {available}. \
         Name it with {flag}"
    )]
    MissingColumn {
        /// The input as the user named it.
        source_name: String,
        /// The role of the column ("customer id", "timestamp", ...).
        role: &'static str,
        /// The names that were tried, comma separated.
        tried: String,
        /// The input's columns, comma separated.
        available: String,
        /// The command-line flag that names this column.
        flag: &'static str,
    },

    /// A column named by the user is not in the input.
    #[error(
        "{source_name}: column {column:?} (given as the {role} column) is not in the input; it has columns: {available}"
    )]
    ColumnNotFound {
        /// The input as the user named it.
        source_name: String,
        /// The column name that was given.
        column: String,
        /// The role it was given for.
        role: &'static str,
        /// The input's columns, comma separated.
        available: String,
    },

    /// A column asked for in the output (`--columns`, `[output] columns`) is not in the table.
    #[error("--columns (output.columns): the table has no column {column:?}; it has {available}")]
    OutputColumn {
        /// The name asked for.
        column: String,
        /// The table's columns, comma separated.
        available: String,
    },

    /// A column has a data type that cannot serve its role.
    #[error("{source_name}: column {column:?} has type {dtype}, which cannot be used as the {role} column")]
    ColumnType {
        /// The input as the user named it.
        source_name: String,
        /// The column name.
        column: String,
        /// The role it was resolved for.
        role: &'static str,
        /// Its polars data type.
        dtype: String,
    },

    /// The timestamp format could not be determined from the data.
    #[error("{source_name}: column {column:?}: {detail}")]
    TimeFormat {
        /// The input as the user named it.
        source_name: String,
        /// The timestamp column.
        column: String,
        /// Why detection failed, with example values and what to pass instead.
        detail: String,
    },

    /// Every input row was rejected or excluded, so there is no customer to analyse.
    #[error("{source_name}: no usable transactions: {summary}")]
    NoCustomers {
        /// The input as the user named it.
        source_name: String,
        /// The row reconciliation in one line.
        summary: String,
    },

    /// A parameter is invalid.
    #[error(transparent)]
    Param(#[from] ParamError),

    /// The customers cannot be clustered as asked (too few customers, a feature missing or not
    /// numeric, a saved model that does not fit the data).
    #[error("clustering: {detail}")]
    Cluster {
        /// What is wrong.
        detail: String,
    },

    /// A lifetime-value model cannot be fitted or cannot predict (no repeat buyers, no
    /// convergence, degenerate parameters).
    #[error("lifetime value: {detail}")]
    Clv {
        /// What is wrong.
        detail: String,
    },

    /// A run configuration file is invalid: a TOML error, an unknown key or a bad value.
    #[error("{}: {detail}", path.display())]
    Config {
        /// The configuration file.
        path: PathBuf,
        /// What is wrong, naming the key.
        detail: String,
    },

    /// An output would replace an input of the same command, or another of its outputs.
    #[error(
        "{} ({output_role}) would overwrite {} ({other_role}); choose another output",
        output.display(),
        other.display()
    )]
    SameFile {
        /// The output.
        output: PathBuf,
        /// Its role ("-o", "--rejects", ...).
        output_role: String,
        /// The input or earlier output it would replace.
        other: PathBuf,
        /// That file's role.
        other_role: String,
    },

    /// Another run holds the lock on an output directory.
    #[error("{}: another clientele run is writing this output directory (lock file {})", dir.display(), lock.display())]
    Busy {
        /// The output directory.
        dir: PathBuf,
        /// The lock file (held with flock: it is free again once that run ends).
        lock: PathBuf,
    },

    /// A segment rules file is invalid or leaves score cells without a segment.
    #[error("{origin}: {detail}")]
    Rules {
        /// Where the rules came from (a file path, or "built-in rules").
        origin: String,
        /// What is wrong.
        detail: String,
    },

    /// polars failed while running a query. `context` says what clientele was doing. The
    /// message shows the first paragraph of polars' error (not the query plan it appends).
    #[error("{context}: {}", first_paragraph(error))]
    Polars {
        /// What clientele was doing.
        context: String,
        /// polars' error, whole (with the query plan).
        error: PolarsError,
    },
}

fn first_paragraph(error: &PolarsError) -> String {
    let text = error.to_string();
    let head = text.split("\n\n").next().unwrap_or(&text).trim_end();
    head.strip_suffix(':').unwrap_or(head).to_string()
}

impl Error {
    /// Which group this error belongs to: data, usage or I/O.
    pub fn kind(&self) -> ErrorKind {
        match self {
            // A decoder refusing what it reads (flate2: "corrupt deflate stream") is bad data.
            Error::Io { action, source, .. }
                if action.starts_with("cannot read") && source.kind() == std::io::ErrorKind::InvalidInput =>
            {
                ErrorKind::Data
            }
            Error::Io { source, .. } => ErrorKind::of_io(source),
            Error::Param(_) | Error::Rules { .. } | Error::Config { .. } | Error::SameFile { .. } => {
                ErrorKind::Usage
            }
            Error::Busy { .. } => ErrorKind::Io,
            Error::EmptyInput { .. }
            | Error::UnsupportedInput { .. }
            | Error::MissingColumn { .. }
            | Error::ColumnNotFound { .. }
            | Error::OutputColumn { .. }
            | Error::ColumnType { .. }
            | Error::TimeFormat { .. }
            | Error::NoCustomers { .. }
            | Error::Cluster { .. }
            | Error::Clv { .. } => ErrorKind::Data,
            Error::Polars { error, .. } => match error {
                PolarsError::IO { error, .. } => ErrorKind::of_io(error),
                _ => ErrorKind::Data,
            },
        }
    }

    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            action,
            path: path.into(),
            source,
        }
    }
}

/// Extension to attach what clientele was doing to a polars error.
pub(crate) trait PolarsContext<T> {
    /// Wrap a polars error with a context message.
    fn context(self, context: impl FnOnce() -> String) -> Result<T>;
}

impl<T> PolarsContext<T> for std::result::Result<T, PolarsError> {
    fn context(self, context: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|error| Error::Polars {
            context: context(),
            error,
        })
    }
}

/// An invalid parameter, found when unchecked parameters are checked.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ParamError {
    /// The number of score bins is outside 2..=9 (scores must be one digit in an RFM cell).
    #[error("bins must be between 2 and 9 (one digit per score in the RFM cell), got {got}")]
    Bins {
        /// The number given.
        got: usize,
    },

    /// Fixed thresholds for a measure are missing, of the wrong count, unsorted or not finite.
    #[error("fixed thresholds for {measure}: {detail}")]
    Thresholds {
        /// "recency", "frequency" or "monetary".
        measure: &'static str,
        /// What is wrong.
        detail: String,
    },

    /// ABC class splits are invalid.
    #[error("ABC splits {given}: {detail}")]
    AbcSplits {
        /// The splits as given.
        given: String,
        /// What is wrong.
        detail: String,
    },

    /// A date parameter could not be parsed.
    #[error("{name}: cannot read {value:?} as a date (expected YYYY-MM-DD)")]
    Date {
        /// The parameter ("as-of", ...).
        name: &'static str,
        /// The value given.
        value: String,
    },

    /// The clustering features are invalid.
    #[error("cluster features: {detail}")]
    Features {
        /// What is wrong.
        detail: String,
    },

    /// A setting is invalid or does not fit the others.
    #[error("{setting}: {detail}")]
    Setting {
        /// The setting's key (and its flag), e.g. `clusters.k (--clusters/--k)`.
        setting: &'static str,
        /// What is wrong.
        detail: String,
    },

    /// A parameter is outside its valid range.
    #[error("{name} must be {expected}, got {got}")]
    OutOfRange {
        /// The parameter's name.
        name: &'static str,
        /// The valid range, in words.
        expected: &'static str,
        /// The value given.
        got: String,
    },
}
