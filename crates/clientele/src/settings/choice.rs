//! Named choices: for every setting that takes one of a few values, the one list of its values,
//! the names users write for them (on the command line and in TOML) and a line of help.
//!
//! The command line builds its value parsers and `--help` from these lists, the TOML reader
//! and `clientele config show` use the same names, so a value is spelled the same everywhere.
//!
//! ```
//! use clientele::settings::Choice;
//! use clientele::clv::TransactionModel;
//!
//! assert_eq!(TransactionModel::ParetoNbd.name(), "pareto-nbd");
//! assert_eq!(TransactionModel::from_name("pareto_nbd"), Some(TransactionModel::ParetoNbd));
//! assert_eq!(TransactionModel::expected(), "bg-nbd, pareto-nbd, mbg-nbd or auto");
//! ```

use crate::abc::AbcBasis;
use crate::cluster::{Scale, Transform};
use crate::clv::{Period, TimeUnit, TransactionModel};
use crate::cohorts::CohortPeriod;
use crate::generate::{IdKind, ParquetCodec, RowOrder};
use crate::ingest::{CsvReaderChoice, Encoding, InputFormat};
use crate::output::OutputFormat;
use crate::presets::Preset;
use crate::rfm::Binning;
use crate::rows::ReturnsPolicy;
use crate::segmenter::InputKind;
use crate::sql::{Dialect, Job};

/// A value of a setting with a few named values.
pub trait Choice: Copy + PartialEq + Sized + 'static {
    /// Every value with its name and a one-line description, in the order help lists them.
    const CHOICES: &'static [(Self, &'static str, &'static str)];
    /// Other accepted spellings.
    const ALIASES: &'static [(&'static str, Self)] = &[];

    /// The value's name.
    fn name(self) -> &'static str {
        Self::CHOICES
            .iter()
            .find(|c| c.0 == self)
            .map(|c| c.1)
            .expect("every value has a name")
    }

    /// The value a name (or an alias) stands for, in any case, with `_` read as `-`.
    fn from_name(text: &str) -> Option<Self> {
        let text = text.trim().to_ascii_lowercase().replace('_', "-");
        Self::CHOICES
            .iter()
            .find(|c| c.1 == text)
            .map(|c| c.0)
            .or_else(|| Self::ALIASES.iter().find(|a| a.0 == text).map(|a| a.1))
    }

    /// The names, for an error message: `a, b or c`.
    fn expected() -> String {
        let names: Vec<&str> = Self::CHOICES.iter().map(|c| c.1).collect();
        match names.split_last() {
            Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
            _ => names.join(""),
        }
    }
}

impl Choice for RowOrder {
    const CHOICES: &'static [(Self, &'static str, &'static str)] = &[
        (
            RowOrder::Blocks,
            "blocks",
            "Customers in blocks of consecutive ids, each block by date (streams, bounded memory)",
        ),
        (
            RowOrder::Time,
            "time",
            "The whole log by date, order ids increasing with time (held in memory)",
        ),
        (
            RowOrder::Customer,
            "customer",
            "By customer id, then date (held in memory)",
        ),
        (
            RowOrder::Shuffled,
            "shuffled",
            "A random permutation of the rows (held in memory)",
        ),
    ];
}

impl Choice for IdKind {
    const CHOICES: &'static [(Self, &'static str, &'static str)] = &[
        (IdKind::Integer, "integer", "64-bit integer ids"),
        (
            IdKind::Text,
            "text",
            "Text ids: C000000042 for customers, O00000000007 for orders",
        ),
    ];
}

impl Choice for ParquetCodec {
    const CHOICES: &'static [(Self, &'static str, &'static str)] = &[
        (ParquetCodec::Zstd, "zstd", "zstd at its default level"),
        (ParquetCodec::Snappy, "snappy", "Snappy"),
        (ParquetCodec::Uncompressed, "none", "No compression"),
    ];
    const ALIASES: &'static [(&'static str, Self)] = &[("uncompressed", ParquetCodec::Uncompressed)];
}

impl Choice for ReturnsPolicy {
    const CHOICES: &'static [(Self, &'static str, &'static str)] = &[
        (
            ReturnsPolicy::Net,
            "net",
            "Sum negative amounts into monetary value",
        ),
        (
            ReturnsPolicy::Exclude,
            "exclude",
            "Exclude rows with a negative amount (counted as excluded)",
        ),
    ];
}

impl Choice for Binning {
    const CHOICES: &'static [(Self, &'static str, &'static str)] = &[
        (
            Binning::Quantile,
            "quantile",
            "Cut points at value quantiles; equal values always get equal scores",
        ),
        (
            Binning::Rank,
            "rank",
            "Equal-count bins over ranks, ties broken by customer id (pandas qcut of rank \"first\")",
        ),
        (
            Binning::Fixed,
            "fixed",
            "Your cut points: --r-thresholds, --f-thresholds, --m-thresholds",
        ),
    ];
}

impl Choice for AbcBasis {
    const CHOICES: &'static [(Self, &'static str, &'static str)] = &[
        (
            AbcBasis::Customers,
            "customers",
            "Shares of customers (default splits 5,15,80)",
        ),
        (
            AbcBasis::Revenue,
            "revenue",
            "Shares of cumulative revenue, Pareto (default splits 80,15,5)",
        ),
    ];
}

impl Choice for Transform {
    const CHOICES: &'static [(Self, &'static str, &'static str)] = &[
        (Transform::None, "none", "Features as they are"),
        (Transform::Log1p, "log1p", "sign(x)·ln(1 + |x|)"),
    ];
}

impl Choice for Scale {
    const CHOICES: &'static [(Self, &'static str, &'static str)] = &[
        (Scale::None, "none", "No scaling"),
        (Scale::Standard, "standard", "z-score"),
        (Scale::Robust, "robust", "(x − median) / interquartile range"),
    ];
}

impl Choice for TimeUnit {
    const CHOICES: &'static [(Self, &'static str, &'static str)] =
        &[(TimeUnit::Day, "day", "Days"), (TimeUnit::Week, "week", "Weeks")];
}

impl Choice for Period {
    const CHOICES: &'static [(Self, &'static str, &'static str)] = &[
        (Period::Day, "day", "Same calendar day"),
        (Period::Week, "week", "Same Monday-to-Sunday week"),
    ];
}

impl Choice for TransactionModel {
    const CHOICES: &'static [(Self, &'static str, &'static str)] = &[
        (
            TransactionModel::BgNbd,
            "bg-nbd",
            "BG/NBD (Fader, Hardie & Lee 2005)",
        ),
        (
            TransactionModel::ParetoNbd,
            "pareto-nbd",
            "Pareto/NBD (Schmittlein, Morrison & Colombo 1987)",
        ),
        (
            TransactionModel::MbgNbd,
            "mbg-nbd",
            "MBG/NBD (Batislam, Denizel & Filiztekin 2007)",
        ),
        (
            TransactionModel::Auto,
            "auto",
            "Every model; the lowest holdout error, or BIC without a holdout",
        ),
    ];
}

impl Choice for CohortPeriod {
    const CHOICES: &'static [(Self, &'static str, &'static str)] = &[
        (CohortPeriod::Week, "week", "Monday-to-Sunday weeks"),
        (CohortPeriod::Month, "month", "Calendar months"),
        (CohortPeriod::Quarter, "quarter", "Calendar quarters"),
    ];
}

impl Choice for Encoding {
    const CHOICES: &'static [(Self, &'static str, &'static str)] = &[
        (Encoding::Utf8, "utf-8", "UTF-8"),
        (Encoding::Latin1, "latin-1", "ISO-8859-1"),
        (Encoding::Windows1252, "windows-1252", "Windows-1252 (cp1252)"),
    ];
    const ALIASES: &'static [(&'static str, Self)] = &[
        ("utf8", Encoding::Utf8),
        ("latin1", Encoding::Latin1),
        ("iso-8859-1", Encoding::Latin1),
        ("iso8859-1", Encoding::Latin1),
        ("windows1252", Encoding::Windows1252),
        ("cp1252", Encoding::Windows1252),
    ];
}

impl Choice for CsvReaderChoice {
    const CHOICES: &'static [(Self, &'static str, &'static str)] = &[
        (
            CsvReaderChoice::Auto,
            "auto",
            "clientele's own readers where they apply (plain CSV, typed Parquet columns), polars' otherwise",
        ),
        (CsvReaderChoice::Polars, "polars", "Always polars' reader"),
    ];
}

impl Choice for InputFormat {
    const CHOICES: &'static [(Self, &'static str, &'static str)] = &[
        (
            InputFormat::Csv,
            "csv",
            "Delimited text (optionally gzip-compressed)",
        ),
        (InputFormat::Parquet, "parquet", "Apache Parquet"),
    ];
}

impl Choice for InputKind {
    const CHOICES: &'static [(Self, &'static str, &'static str)] = &[
        (
            InputKind::Transactions,
            "transactions",
            "One row per purchase or return line",
        ),
        (
            InputKind::Customers,
            "customers",
            "One row per customer, aggregated elsewhere (`clientele sql` prints the query)",
        ),
    ];
}

impl Choice for OutputFormat {
    const CHOICES: &'static [(Self, &'static str, &'static str)] = &[
        (OutputFormat::Csv, "csv", "Comma-separated values"),
        (OutputFormat::Parquet, "parquet", "Apache Parquet"),
        (OutputFormat::Ndjson, "json", "Newline-delimited JSON"),
    ];
    const ALIASES: &'static [(&'static str, Self)] =
        &[("ndjson", OutputFormat::Ndjson), ("jsonl", OutputFormat::Ndjson)];
}

impl Choice for Dialect {
    const CHOICES: &'static [(Self, &'static str, &'static str)] = &[
        (Dialect::DuckDb, "duckdb", "DuckDB"),
        (Dialect::Spark, "spark", "Apache Spark SQL / Databricks"),
        (Dialect::BigQuery, "bigquery", "Google BigQuery"),
        (Dialect::Postgres, "postgres", "PostgreSQL"),
    ];
}

impl Choice for Job {
    const CHOICES: &'static [(Self, &'static str, &'static str)] = &[
        (
            Job::Customers,
            "customers",
            "the customer table, for --input-kind customers",
        ),
        (
            Job::Segment,
            "segment",
            "the whole segment table of clientele segment",
        ),
    ];
}

impl Choice for Preset {
    const CHOICES: &'static [(Self, &'static str, &'static str)] = &[
        (
            Preset::RfmR,
            Preset::RfmR.name(),
            "R package rfm 0.3: rfm_table_order's scores, rfm_segment's segments",
        ),
        (
            Preset::PandasQcut,
            Preset::PandasQcut.name(),
            "pandas: pd.qcut(x.rank(method=\"first\"), bins) on customers sorted by id",
        ),
        (
            Preset::Lifetimes,
            Preset::Lifetimes.name(),
            "Python lifetimes 0.11.3: its summary_data_from_transaction_data and customer_lifetime_value",
        ),
    ];
}

/// Serde for a [`Choice`] field: its name out, any of its names in.
pub mod named {
    use serde::{Deserialize, Deserializer, Serializer};

    use super::Choice;

    /// Writes the value's name.
    pub fn serialize<T: Choice, S: Serializer>(value: &T, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(value.name())
    }

    /// Reads a name, or says which names there are.
    pub fn deserialize<'de, T: Choice, D: Deserializer<'de>>(deserializer: D) -> Result<T, D::Error> {
        let text = String::deserialize(deserializer)?;
        T::from_name(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("expected {}, got {text:?}", T::expected())))
    }

    /// The same for an optional field.
    pub mod option {
        use serde::{Deserialize, Deserializer, Serializer};

        use super::Choice;

        /// Writes the value's name (a `None` field is skipped by the caller).
        pub fn serialize<T: Choice, S: Serializer>(
            value: &Option<T>,
            serializer: S,
        ) -> Result<S::Ok, S::Error> {
            match value {
                Some(v) => serializer.serialize_some(v.name()),
                None => serializer.serialize_none(),
            }
        }

        /// Reads a name, or says which names there are.
        pub fn deserialize<'de, T: Choice, D: Deserializer<'de>>(
            deserializer: D,
        ) -> Result<Option<T>, D::Error> {
            let text = String::deserialize(deserializer)?;
            T::from_name(&text)
                .map(Some)
                .ok_or_else(|| serde::de::Error::custom(format!("expected {}, got {text:?}", T::expected())))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip<T: Choice + std::fmt::Debug>() {
        for (value, name, help) in T::CHOICES {
            assert_eq!(T::from_name(name), Some(*value), "{name}");
            assert_eq!(value.name(), *name);
            assert!(!help.is_empty());
        }
        for (alias, value) in T::ALIASES {
            assert_eq!(T::from_name(alias), Some(*value), "{alias}");
        }
        assert_eq!(T::from_name("no-such-value"), None);
    }

    #[test]
    fn every_name_reads_back() {
        round_trip::<ReturnsPolicy>();
        round_trip::<Binning>();
        round_trip::<AbcBasis>();
        round_trip::<Transform>();
        round_trip::<Scale>();
        round_trip::<TimeUnit>();
        round_trip::<Period>();
        round_trip::<TransactionModel>();
        round_trip::<CohortPeriod>();
        round_trip::<Encoding>();
        round_trip::<CsvReaderChoice>();
        round_trip::<InputFormat>();
        round_trip::<InputKind>();
        round_trip::<OutputFormat>();
        round_trip::<Dialect>();
        round_trip::<Job>();
        round_trip::<Preset>();
    }

    #[test]
    fn names_are_forgiving_about_case_and_underscores() {
        assert_eq!(
            TransactionModel::from_name("Pareto_NBD"),
            Some(TransactionModel::ParetoNbd)
        );
        assert_eq!(Encoding::from_name("CP1252"), Some(Encoding::Windows1252));
        assert_eq!(Scale::expected(), "none, standard or robust");
    }
}
