//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use clientele::abc::AbcBasis;
use clientele::cluster::{Scale, Transform};
use clientele::clv::{Horizon, Period, TimeUnit, TransactionModel};
use clientele::cohorts::CohortPeriod;
use clientele::generate::{DEFAULT_ROW_GROUP_ROWS, IdKind, ParquetCodec, RowOrder};
use clientele::ingest::{CsvReaderChoice, Encoding, InputFormat};
use clientele::presets::Preset;
use clientele::settings::ClusterK;
use clientele::sql::{Dialect, Job};
use clientele::{Binning, InputKind, OutputFormat, ReturnsPolicy};

use crate::settings::choice;

const EXIT_CODES: &str = "\
Exit codes:
  0  success (also when the reader of stdout closes the pipe early)
  1  data or validation error: missing columns, empty input, unparsable timestamps, no usable rows
  2  usage or I/O error: bad arguments, unreadable or unwritable files

Definitions of every measure: docs/definitions.md in the clientele repository.";

/// Customer segmentation from transaction exports: RFM scores and segments, ABC tiers.
#[derive(Debug, Parser)]
#[command(name = "clientele", version, about, after_help = EXIT_CODES, max_term_width = 110)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,

    /// Options shared by every subcommand.
    #[command(flatten)]
    pub global: GlobalArgs,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// One row per customer: first/last purchase, recency, frequency, monetary value, ...
    Customers(InputArgs),
    /// Customers with R, F, M scores, RFM cell and named segment.
    Rfm(InputArgs),
    /// Customers with their ABC class; prints the class summary.
    Abc(InputArgs),
    /// Everything per customer: measures, scores, segment and ABC class (and cluster).
    Segment(SegmentArgs),
    /// k-means clusters over scaled customer features, with profiles; `--k auto` chooses k.
    Cluster(ClusterArgs),
    /// Lifetime value: BG/NBD (or Pareto/NBD) and Gamma-Gamma, probability alive, CLV, equity.
    Clv(ClvArgs),
    /// The segment table plus summaries (Markdown, JSON) and an HTML report with charts, written
    /// into a directory.
    Report(ReportArgs),
    /// Data-quality report: row reconciliation, rejects, duplicates, amounts, dates.
    Validate(ValidateArgs),
    /// Write a deterministic synthetic transaction log.
    Generate(GenerateArgs),
    /// Check segment rules: coverage of every score cell, rules that never apply.
    Rules(RulesArgs),
    /// Print the SQL that aggregates a transaction log into the customer table that
    /// `--input-kind customers` reads, for DuckDB, Spark, BigQuery or PostgreSQL.
    Sql(SqlArgs),
    /// Run the job a TOML configuration describes and replace its output directory atomically
    /// (table, summaries, report, manifest, changes since the previous run): for cron.
    Run(RunArgs),
    /// The effective settings of a command line (and --config file) as TOML.
    #[command(subcommand)]
    Config(ConfigCommand),
}

/// `config` subcommands.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the settings that these flags (over --config FILE, over the defaults) give, as a
    /// configuration file: `clientele config show --bins 4 --clv > job.toml`, then
    /// `clientele segment X --config job.toml` means the same as the flags.
    Show(ShowArgs),
}

/// `config show` arguments: every settings flag of `segment` and `report`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Add k-means clusters: a number of clusters, or "auto".
    #[arg(long, value_name = "K|auto", help_heading = "Clusters")]
    pub clusters: Option<ClusterK>,
    /// Cluster settings.
    #[command(flatten)]
    pub cluster: ClusterOptions,
    /// Add lifetime value.
    #[arg(long, help_heading = "Lifetime value")]
    pub clv: bool,
    /// Lifetime-value settings.
    #[command(flatten)]
    pub clv_options: ClvOptions,
}

/// `run` arguments: the configuration is `--config FILE` (required here).
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Compare with this earlier run's directory (or segment table) instead of the
    /// configuration's `previous`.
    #[arg(long, value_name = "DIR")]
    pub previous: Option<PathBuf>,
}

/// The input of a subcommand.
#[derive(Debug, Args)]
pub struct InputArgs {
    /// Transactions: a CSV file (optionally .gz), a Parquet file, a directory of Parquet files,
    /// or a quoted glob such as 'exports/*.parquet'.
    pub input: PathBuf,
}

/// `segment` arguments.
#[derive(Debug, Args)]
pub struct SegmentArgs {
    /// Transactions: a CSV file (optionally .gz), a Parquet file, a directory of Parquet files,
    /// or a quoted glob such as 'exports/*.parquet'.
    pub input: PathBuf,
    /// Add a k-means `cluster` column: a number of clusters, or "auto".
    #[arg(long, value_name = "K|auto", help_heading = "Clusters")]
    pub clusters: Option<ClusterK>,
    /// Cluster settings.
    #[command(flatten)]
    pub cluster: ClusterOptions,
    /// Add lifetime-value columns (p_alive, expected purchases, CLV, lifecycle stage).
    #[arg(long, help_heading = "Lifetime value")]
    pub clv: bool,
    /// Lifetime-value settings.
    #[command(flatten)]
    pub clv_options: ClvOptions,
    /// Write the cohort retention table (one row per cohort and period offset) to FILE.
    #[arg(long, value_name = "FILE")]
    pub cohorts: Option<PathBuf>,
}

/// `report` arguments.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Transactions (see `segment`).
    pub input: PathBuf,
    /// Directory to write into (created if missing).
    #[arg(long, value_name = "DIR", default_value = "clientele-report")]
    pub out_dir: PathBuf,
    /// Add k-means clusters and their profiles: a number of clusters, or "auto".
    #[arg(long, value_name = "K|auto", help_heading = "Clusters")]
    pub clusters: Option<ClusterK>,
    /// Cluster settings.
    #[command(flatten)]
    pub cluster: ClusterOptions,
    /// Add lifetime value: per-customer columns, customer equity and the model in the summaries.
    #[arg(long, help_heading = "Lifetime value")]
    pub clv: bool,
    /// Lifetime-value settings.
    #[command(flatten)]
    pub clv_options: ClvOptions,
    /// Compare with an earlier run's directory (or segment table): transition matrices in the
    /// summaries and report, and migration.csv with every customer's movement.
    #[arg(long, value_name = "DIR")]
    pub previous: Option<PathBuf>,
    /// Also write the cohort retention table (one row per cohort and period offset) to FILE.
    #[arg(long, value_name = "FILE")]
    pub cohorts: Option<PathBuf>,
}

/// `cluster` arguments.
#[derive(Debug, Args)]
pub struct ClusterArgs {
    /// Transactions (see `segment`).
    pub input: PathBuf,
    /// Number of clusters, or "auto" for the knee of the inertia curve over --k-range.
    #[arg(long, value_name = "K|auto", help_heading = "Clusters")]
    pub k: Option<ClusterK>,
    /// Cluster settings.
    #[command(flatten)]
    pub cluster: ClusterOptions,
}

/// `clv` arguments.
#[derive(Debug, Args)]
pub struct ClvArgs {
    /// Transactions (see `segment`).
    pub input: PathBuf,
    /// Lifetime-value settings.
    #[command(flatten)]
    pub clv: ClvOptions,
}

/// The lifetime-value window and period, shared by the CLV subcommands and `sql --clv`.
#[derive(Debug, Args)]
pub struct ClvWindow {
    /// Last day of the calibration window (YYYY-MM-DD) [the last transaction's day].
    #[arg(long, value_name = "DATE", help_heading = "Lifetime value")]
    pub calibration_end: Option<String>,
    /// Last day of a holdout window after the calibration end, to check predictions.
    #[arg(long, value_name = "DATE", help_heading = "Lifetime value")]
    pub holdout_end: Option<String>,
    /// Purchases in the same period count as one.
    #[arg(long, value_parser = choice::<Period>(), help_heading = "Lifetime value")]
    pub period: Option<Period>,
}

/// Lifetime-value settings shared by `clv`, `segment --clv` and `report --clv`.
#[derive(Debug, Args)]
pub struct ClvOptions {
    /// Window and period.
    #[command(flatten)]
    pub window: ClvWindow,
    /// Unit of recency, T and --horizon.
    #[arg(long, value_parser = choice::<TimeUnit>(), help_heading = "Lifetime value")]
    pub time_unit: Option<TimeUnit>,
    /// Purchase and dropout model.
    #[arg(long, value_parser = choice::<TransactionModel>(), help_heading = "Lifetime value")]
    pub clv_model: Option<TransactionModel>,
    /// Horizon of expected purchases and CLV: a number of time units, or of days, weeks or
    /// months (365d, 39w, 12mo).
    #[arg(long, value_parser = |s: &str| s.parse::<Horizon>(), help_heading = "Lifetime value")]
    pub horizon: Option<Horizon>,
    /// Monthly discount rate (0.01 = 1 % a month).
    #[arg(long, help_heading = "Lifetime value")]
    pub discount: Option<f64>,
    /// Profit margin applied to revenue (1 = CLV in revenue).
    #[arg(long, help_heading = "Lifetime value")]
    pub margin: Option<f64>,
    /// L2 penalty on the model parameters (lifetimes' penalizer_coef).
    #[arg(long, help_heading = "Lifetime value")]
    pub penalty: Option<f64>,
}

/// k-means settings shared by `cluster`, `segment` and `report`.
#[derive(Debug, Args)]
pub struct ClusterOptions {
    /// Customer columns to cluster on (comma-separated).
    #[arg(long, value_name = "LIST", help_heading = "Clusters")]
    pub features: Option<String>,
    /// Transform applied to each feature first.
    #[arg(long, value_parser = choice::<Transform>(), help_heading = "Clusters")]
    pub transform: Option<Transform>,
    /// Scaling applied after the transform.
    #[arg(long, value_parser = choice::<Scale>(), help_heading = "Clusters")]
    pub scale: Option<Scale>,
    /// Random seed of the k-means++ initialisation (and the silhouette sample).
    #[arg(long, help_heading = "Clusters")]
    pub seed: Option<u64>,
    /// k-means runs; the one with the lowest inertia is kept.
    #[arg(long, help_heading = "Clusters")]
    pub n_init: Option<usize>,
    /// Iteration limit of each run.
    #[arg(long, help_heading = "Clusters")]
    pub max_iter: Option<u64>,
    /// A run stops when the centroids' squared movement is at most this × the mean feature
    /// variance (scikit-learn's definition).
    #[arg(long, help_heading = "Clusters")]
    pub tolerance: Option<f64>,
    /// The range of k tried by "auto", e.g. 2-10.
    #[arg(long, value_name = "MIN-MAX", help_heading = "Clusters")]
    pub k_range: Option<String>,
    /// Above this many customers, the silhouette is computed on a seeded sample of this size.
    #[arg(long, value_name = "N", help_heading = "Clusters")]
    pub silhouette_sample: Option<usize>,
    /// Save the fitted model (transform, centroids, label order) as JSON.
    #[arg(long, value_name = "FILE", help_heading = "Clusters")]
    pub save_model: Option<PathBuf>,
    /// Assign customers to a saved model's clusters instead of fitting.
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with = "save_model",
        help_heading = "Clusters"
    )]
    pub model: Option<PathBuf>,
}

/// `validate` arguments.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Transactions (see `segment`).
    pub input: PathBuf,
    /// Print the report as JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `generate` arguments.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Number of customers.
    #[arg(long, default_value_t = 10_000)]
    pub customers: u64,
    /// Number of rows (transaction lines), at least the number of customers.
    #[arg(long, default_value_t = 100_000)]
    pub rows: u64,
    /// Random seed: the same seed gives the same file, byte for byte.
    #[arg(long)]
    pub seed: Option<u64>,
    /// First day of the period (YYYY-MM-DD).
    #[arg(long, value_name = "DATE", default_value = "2022-01-01")]
    pub start: String,
    /// Last day of the period (YYYY-MM-DD).
    #[arg(long, value_name = "DATE", default_value = "2024-12-31")]
    pub end: String,
    /// Share of orders that later get a return line.
    #[arg(long, default_value_t = 0.03)]
    pub return_rate: f64,
    /// Split the rows over this many files; the output path is then a directory.
    #[arg(long, default_value_t = 1)]
    pub files: usize,
    /// Row order of the log.
    #[arg(long, value_parser = choice::<RowOrder>(), default_value = "blocks", help_heading = "Layout")]
    pub row_order: RowOrder,
    /// Type of the customer and order ids.
    #[arg(long, value_parser = choice::<IdKind>(), default_value = "integer", help_heading = "Layout")]
    pub ids: IdKind,
    /// Compression of Parquet pages.
    #[arg(long, value_parser = choice::<ParquetCodec>(), default_value = "zstd", help_heading = "Layout")]
    pub compression: ParquetCodec,
    /// Rows per Parquet row group.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_ROW_GROUP_ROWS, help_heading = "Layout")]
    pub row_group_rows: usize,
}

/// `rules` arguments.
#[derive(Debug, Args)]
pub struct RulesArgs {
    /// Print the built-in rules as TOML (a starting point for your own).
    #[arg(long)]
    pub show_builtin: bool,
}

/// `sql` arguments.
#[derive(Debug, Args)]
pub struct SqlArgs {
    /// A sample of the transaction log (an export with the same columns): columns and the
    /// timestamp format are detected from it as for the other subcommands. Without it, name
    /// the columns with --customer, --time, --amount (or --quantity and --price), --order.
    pub sample: Option<PathBuf>,
    /// SQL dialect.
    #[arg(long, value_parser = choice::<Dialect>(), default_value = "duckdb")]
    pub dialect: Dialect,
    /// What the query computes: the customer table (for --input-kind customers) or the whole
    /// segment table of `clientele segment` (scores, segments and ABC classes by the
    /// --bins/--binning/--rules/--abc-* settings).
    #[arg(long, value_parser = choice::<Job>(), default_value = "customers")]
    pub job: Job,
    /// The table to read, e.g. `sales.orders` [DuckDB with a sample: read_parquet / read_csv of
    /// the sample's path].
    #[arg(long, value_name = "TABLE")]
    pub table: Option<String>,
    /// Add the btyd_* columns lifetime value needs (`--clv` with `--input-kind customers`).
    #[arg(long, help_heading = "Lifetime value")]
    pub clv: bool,
    /// Lifetime-value window and period.
    #[command(flatten)]
    pub window: ClvWindow,
}

/// Options shared by the subcommands (they may come before or after the subcommand).
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Settings from a TOML file (a `clientele run` configuration or `clientele config show`'s
    /// output); flags override it. Required by `run`.
    #[arg(
        long,
        short = 'c',
        global = true,
        value_name = "FILE",
        help_heading = "Settings"
    )]
    pub config: Option<PathBuf>,
    /// Another tool's definitions, to get its numbers (docs/presets.md); the other settings
    /// keep their values, and one the preset cannot follow is an error.
    #[arg(long, global = true, value_parser = choice::<Preset>(), help_heading = "Settings")]
    pub preset: Option<Preset>,
    /// Print, on stderr, which definitions the preset changes from clientele's, one line each
    /// with the reason.
    #[arg(long, global = true, help_heading = "Settings")]
    pub explain: bool,

    /// Customer id column [detected: customer_id, CustomerID, Customer ID, ...].
    #[arg(long, global = true, value_name = "COL", help_heading = "Columns")]
    pub customer: Option<String>,
    /// Timestamp column [detected: InvoiceDate, order_date, date, ...].
    #[arg(long, global = true, value_name = "COL", help_heading = "Columns")]
    pub time: Option<String>,
    /// Amount column [detected: amount, revenue, sales, ...].
    #[arg(long, global = true, value_name = "COL", help_heading = "Columns", conflicts_with_all = ["quantity", "price"])]
    pub amount: Option<String>,
    /// Quantity column; the amount is quantity × price [detected: Quantity, qty].
    #[arg(long, global = true, value_name = "COL", help_heading = "Columns")]
    pub quantity: Option<String>,
    /// Unit price column [detected: UnitPrice, Price].
    #[arg(long, global = true, value_name = "COL", help_heading = "Columns")]
    pub price: Option<String>,
    /// Order id column; frequency counts distinct orders [detected: InvoiceNo, order_id, ...].
    #[arg(
        long,
        global = true,
        value_name = "COL",
        help_heading = "Columns",
        conflicts_with = "no_order"
    )]
    pub order: Option<String>,
    /// Ignore any order column: frequency counts distinct purchase days.
    #[arg(long, global = true, help_heading = "Columns")]
    pub no_order: bool,
    /// Timestamp format in strftime syntax, e.g. "%d/%m/%Y %H:%M" [detected from the data].
    #[arg(long, global = true, value_name = "FMT", help_heading = "Columns")]
    pub time_format: Option<String>,

    /// Input format [from the extension and content].
    #[arg(long, global = true, value_parser = choice::<InputFormat>(), value_name = "FORMAT", help_heading = "Input")]
    pub input_format: Option<InputFormat>,
    /// What the input holds: a transaction log, or a customer table aggregated elsewhere
    /// (customer_id, first_purchase, last_purchase, frequency, monetary; see `clientele sql`).
    #[arg(long, global = true, value_parser = choice::<InputKind>(), help_heading = "Input")]
    pub input_kind: Option<InputKind>,
    /// CSV field delimiter: one character, "tab", or "whitespace" [sniffed from the first line].
    #[arg(long, global = true, value_name = "CHAR", help_heading = "Input")]
    pub delimiter: Option<String>,
    /// The CSV has no header line: columns are column_1, column_2, ...
    #[arg(long, global = true, help_heading = "Input")]
    pub no_header: bool,
    /// Numbers use a decimal comma (12,50).
    #[arg(long, global = true, help_heading = "Input")]
    pub decimal_comma: bool,
    /// Character encoding of CSV input; windows-1252 and latin-1 are transcoded to UTF-8 before
    /// parsing (Excel's CSV export on Western European Windows is windows-1252). Rows that are
    /// not valid UTF-8 are rejected as invalid_utf8.
    #[arg(long, global = true, value_parser = choice::<Encoding>(), help_heading = "Input")]
    pub encoding: Option<Encoding>,
    /// Which reader reads the input: auto (clientele's own readers where they apply: plain CSV
    /// parsed by clientele, Parquet columns decoded by polars and checked by clientele's row
    /// rules; polars' reader and expressions otherwise) or polars (always polars' reader and the
    /// rules' polars expressions). Both give the same rows.
    #[arg(long, global = true, value_parser = choice::<CsvReaderChoice>(), help_heading = "Input")]
    pub reader: Option<CsvReaderChoice>,
    /// Write rejected rows with their reason, row number, column and value to FILE.
    #[arg(long, global = true, value_name = "FILE", help_heading = "Input")]
    pub rejects: Option<PathBuf>,

    /// Analysis date (YYYY-MM-DD); later transactions are excluded [the day after the latest transaction].
    #[arg(long, global = true, value_name = "DATE", help_heading = "Analysis")]
    pub as_of: Option<String>,
    /// How negative amounts (returns) count.
    #[arg(long, global = true, value_parser = choice::<ReturnsPolicy>(), help_heading = "Analysis")]
    pub returns: Option<ReturnsPolicy>,
    /// How measures are cut into scores.
    #[arg(long, global = true, value_parser = choice::<Binning>(), help_heading = "Analysis")]
    pub binning: Option<Binning>,
    /// Scores per measure (2 to 9).
    #[arg(long, global = true, help_heading = "Analysis")]
    pub bins: Option<usize>,
    /// Fixed cut points for recency_days, ascending, bins-1 of them (e.g. 30,90,180,365).
    #[arg(long, global = true, value_name = "LIST", help_heading = "Analysis")]
    pub r_thresholds: Option<String>,
    /// Fixed cut points for frequency.
    #[arg(long, global = true, value_name = "LIST", help_heading = "Analysis")]
    pub f_thresholds: Option<String>,
    /// Fixed cut points for monetary.
    #[arg(long, global = true, value_name = "LIST", help_heading = "Analysis")]
    pub m_thresholds: Option<String>,
    /// Segment rules TOML file [built-in rules; see `clientele rules --show-builtin`].
    #[arg(long, global = true, value_name = "FILE", help_heading = "Analysis")]
    pub rules: Option<PathBuf>,
    /// ABC classes by share of customers or of revenue.
    #[arg(long, global = true, value_parser = choice::<AbcBasis>(), help_heading = "Analysis")]
    pub abc_by: Option<AbcBasis>,
    /// ABC class shares in % [5,15,80 by customers; 80,15,5 by revenue].
    #[arg(long, global = true, value_name = "LIST", help_heading = "Analysis")]
    pub abc_splits: Option<String>,
    /// Cohorts (report, --cohorts) by the period of the customers' first purchase.
    #[arg(long, global = true, value_parser = choice::<CohortPeriod>(), help_heading = "Analysis")]
    pub cohort_period: Option<CohortPeriod>,

    /// Output file; "-" or absent writes to stdout (report: see --out-dir).
    #[arg(short, long, global = true, value_name = "FILE", help_heading = "Output")]
    pub output: Option<PathBuf>,
    /// Output table format [from the output extension; CSV on stdout and for report].
    #[arg(long, global = true, value_parser = choice::<OutputFormat>(), help_heading = "Output")]
    pub format: Option<OutputFormat>,
    /// Write only these columns of the table, in this order (comma-separated names, e.g.
    /// customer_id,segment,abc_class); all columns by default.
    #[arg(long, global = true, value_name = "LIST", help_heading = "Output")]
    pub columns: Option<String>,
    /// No progress or summaries on stderr (for cron); errors are still printed. Log levels:
    /// RUST_LOG=warn|info|debug (default info; --quiet means error).
    #[arg(short, long, global = true, help_heading = "Output")]
    pub quiet: bool,
}
