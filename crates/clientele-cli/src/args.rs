//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

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
}

/// `run` arguments.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The run configuration (TOML; see docs/runs.md). Relative paths in it are relative to
    /// its directory.
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: PathBuf,
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
    #[arg(long, value_name = "K|auto", value_parser = parse_cluster_count, help_heading = "Clusters")]
    pub clusters: Option<KArg>,
    /// Cluster settings.
    #[command(flatten)]
    pub cluster: ClusterOptions,
    /// Add lifetime-value columns (p_alive, expected purchases, CLV, lifecycle stage).
    #[arg(long, help_heading = "Lifetime value")]
    pub clv: bool,
    /// Lifetime-value settings.
    #[command(flatten)]
    pub clv_options: ClvOptions,
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
    #[arg(long, value_name = "K|auto", value_parser = parse_cluster_count, help_heading = "Clusters")]
    pub clusters: Option<KArg>,
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
}

/// `cluster` arguments.
#[derive(Debug, Args)]
pub struct ClusterArgs {
    /// Transactions (see `segment`).
    pub input: PathBuf,
    /// Number of clusters, or "auto" for the best silhouette of --k-range.
    #[arg(long, value_name = "K|auto", default_value = "4", value_parser = parse_cluster_count, help_heading = "Clusters")]
    pub k: KArg,
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

/// Time unit of recency, T and the horizon.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TimeUnitArg {
    /// Days.
    Day,
    /// Weeks.
    Week,
}

/// Which purchases count as one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PeriodArg {
    /// Same calendar day.
    Day,
    /// Same Monday-to-Sunday week.
    Week,
}

/// Transaction model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModelArg {
    /// BG/NBD (Fader, Hardie & Lee 2005).
    BgNbd,
    /// Pareto/NBD (Schmittlein, Morrison & Colombo 1987).
    ParetoNbd,
}

/// Lifetime-value settings shared by `clv`, `segment --clv` and `report --clv`.
#[derive(Debug, Args)]
pub struct ClvOptions {
    /// Last day of the calibration window (YYYY-MM-DD) [the last transaction's day].
    #[arg(long, value_name = "DATE", help_heading = "Lifetime value")]
    pub calibration_end: Option<String>,
    /// Last day of a holdout window after the calibration end, to check predictions.
    #[arg(long, value_name = "DATE", help_heading = "Lifetime value")]
    pub holdout_end: Option<String>,
    /// Unit of recency, T and --horizon.
    #[arg(long, value_enum, default_value_t = TimeUnitArg::Week, help_heading = "Lifetime value")]
    pub time_unit: TimeUnitArg,
    /// Purchases in the same period count as one.
    #[arg(long, value_enum, default_value_t = PeriodArg::Day, help_heading = "Lifetime value")]
    pub period: PeriodArg,
    /// Purchase and dropout model.
    #[arg(long, value_enum, default_value_t = ModelArg::BgNbd, help_heading = "Lifetime value")]
    pub clv_model: ModelArg,
    /// Horizon of expected purchases and CLV, in the time unit.
    #[arg(long, default_value_t = 52.0, help_heading = "Lifetime value")]
    pub horizon: f64,
    /// Monthly discount rate (0.01 = 1 % a month).
    #[arg(long, default_value_t = 0.01, help_heading = "Lifetime value")]
    pub discount: f64,
    /// Profit margin applied to revenue (1 = CLV in revenue).
    #[arg(long, default_value_t = 1.0, help_heading = "Lifetime value")]
    pub margin: f64,
    /// L2 penalty on the model parameters (lifetimes' penalizer_coef).
    #[arg(long, default_value_t = 0.0, help_heading = "Lifetime value")]
    pub penalty: f64,
}

/// A number of clusters, or a request to choose it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KArg {
    /// Exactly this many.
    Fixed(usize),
    /// The best silhouette of `--k-range`.
    Auto,
}

fn parse_cluster_count(text: &str) -> Result<KArg, String> {
    if text.eq_ignore_ascii_case("auto") {
        return Ok(KArg::Auto);
    }
    text.parse::<usize>()
        .map(KArg::Fixed)
        .map_err(|_| format!("expected a number of clusters or \"auto\", got {text:?}"))
}

/// Feature transform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TransformArg {
    /// Features as they are.
    None,
    /// sign(x)·ln(1 + |x|).
    Log1p,
}

/// Feature scaling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScaleArg {
    /// No scaling.
    None,
    /// z-score.
    Standard,
    /// (x − median) / interquartile range.
    Robust,
}

/// k-means settings shared by `cluster`, `segment` and `report`.
#[derive(Debug, Args)]
pub struct ClusterOptions {
    /// Customer columns to cluster on.
    #[arg(
        long,
        value_name = "LIST",
        default_value = "recency_days,frequency,monetary",
        help_heading = "Clusters"
    )]
    pub features: String,
    /// Transform applied to each feature first.
    #[arg(long, value_enum, default_value_t = TransformArg::Log1p, help_heading = "Clusters")]
    pub transform: TransformArg,
    /// Scaling applied after the transform.
    #[arg(long, value_enum, default_value_t = ScaleArg::Standard, help_heading = "Clusters")]
    pub scale: ScaleArg,
    /// Random seed of the k-means++ initialisation (and the silhouette sample).
    #[arg(long, default_value_t = 42, help_heading = "Clusters")]
    pub seed: u64,
    /// k-means runs; the one with the lowest inertia is kept.
    #[arg(long, default_value_t = 10, help_heading = "Clusters")]
    pub n_init: usize,
    /// Iteration limit of each run.
    #[arg(long, default_value_t = 300, help_heading = "Clusters")]
    pub max_iter: u64,
    /// A run stops when the centroids' squared movement is at most this × the mean feature
    /// variance (scikit-learn's definition).
    #[arg(long, default_value_t = 1e-4, help_heading = "Clusters")]
    pub tolerance: f64,
    /// The range of k tried by "auto", e.g. 2-10.
    #[arg(
        long,
        value_name = "MIN-MAX",
        default_value = "2-10",
        help_heading = "Clusters"
    )]
    pub k_range: String,
    /// Above this many customers, the silhouette is computed on a seeded sample of this size.
    #[arg(long, value_name = "N", default_value_t = 20_000, help_heading = "Clusters")]
    pub silhouette_sample: usize,
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
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
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
}

/// `rules` arguments.
#[derive(Debug, Args)]
pub struct RulesArgs {
    /// Print the built-in rules as TOML (a starting point for your own).
    #[arg(long)]
    pub show_builtin: bool,
}

/// What an input holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InputKindArg {
    /// One row per purchase or return line.
    Transactions,
    /// One row per customer, aggregated elsewhere (`clientele sql` prints the query).
    Customers,
}

/// Character encodings of CSV input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EncodingArg {
    /// UTF-8.
    #[value(name = "utf-8", alias = "utf8")]
    Utf8,
    /// ISO-8859-1.
    #[value(name = "latin-1", alias = "latin1", alias = "iso-8859-1")]
    Latin1,
    /// Windows-1252 (cp1252).
    #[value(name = "windows-1252", alias = "cp1252")]
    Windows1252,
}

/// Readers of plain CSV input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReaderArg {
    /// clientele's own reader where it applies, polars' otherwise.
    Auto,
    /// Always polars' reader.
    Polars,
}

/// SQL dialects of `clientele sql`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DialectArg {
    /// DuckDB.
    Duckdb,
    /// Apache Spark SQL / Databricks.
    Spark,
    /// Google BigQuery.
    Bigquery,
    /// PostgreSQL.
    Postgres,
}

/// `sql` arguments.
#[derive(Debug, Args)]
pub struct SqlArgs {
    /// A sample of the transaction log (an export with the same columns): columns and the
    /// timestamp format are detected from it as for the other subcommands. Without it, name
    /// the columns with --customer, --time, --amount (or --quantity and --price), --order.
    pub sample: Option<PathBuf>,
    /// SQL dialect.
    #[arg(long, value_enum, default_value_t = DialectArg::Duckdb)]
    pub dialect: DialectArg,
    /// The table to read, e.g. `sales.orders` [DuckDB with a sample: read_parquet / read_csv of
    /// the sample's path].
    #[arg(long, value_name = "TABLE")]
    pub table: Option<String>,
    /// Add the btyd_* columns lifetime value needs (`--clv` with `--input-kind customers`).
    #[arg(long, help_heading = "Lifetime value")]
    pub clv: bool,
    /// Last day of the calibration window [the last purchase day].
    #[arg(long, value_name = "DATE", requires = "clv", help_heading = "Lifetime value")]
    pub calibration_end: Option<String>,
    /// Last day of a holdout window.
    #[arg(long, value_name = "DATE", requires = "clv", help_heading = "Lifetime value")]
    pub holdout_end: Option<String>,
    /// Purchases in the same period count as one.
    #[arg(long, value_enum, default_value_t = PeriodArg::Day, help_heading = "Lifetime value")]
    pub period: PeriodArg,
}

/// How negative amounts count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReturnsArg {
    /// Sum negative amounts into monetary value.
    Net,
    /// Exclude rows with a negative amount (counted as excluded).
    Exclude,
}

/// Binning method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BinningArg {
    /// Cut points at value quantiles; equal values always get equal scores.
    Quantile,
    /// Equal-count bins over ranks, ties broken by customer id (pandas qcut of rank "first").
    Rank,
    /// Your cut points: --r-thresholds, --f-thresholds, --m-thresholds.
    Fixed,
}

/// ABC basis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AbcByArg {
    /// Shares of customers (default splits 5,15,80).
    Customers,
    /// Shares of cumulative revenue, Pareto (default splits 80,15,5).
    Revenue,
}

/// Input format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InputFormatArg {
    /// Delimited text (optionally gzip-compressed).
    Csv,
    /// Apache Parquet.
    Parquet,
}

/// Output table format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// Comma-separated values.
    Csv,
    /// Apache Parquet.
    Parquet,
    /// Newline-delimited JSON.
    Json,
}

/// Options shared by the subcommands (they may come before or after the subcommand).
#[derive(Debug, Args)]
pub struct GlobalArgs {
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
    #[arg(
        long,
        global = true,
        value_enum,
        value_name = "FORMAT",
        help_heading = "Input"
    )]
    pub input_format: Option<InputFormatArg>,
    /// What the input holds: a transaction log, or a customer table aggregated elsewhere
    /// (customer_id, first_purchase, last_purchase, frequency, monetary; see `clientele sql`).
    #[arg(long, global = true, value_enum, default_value_t = InputKindArg::Transactions, help_heading = "Input")]
    pub input_kind: InputKindArg,
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
    #[arg(long, global = true, value_enum, default_value_t = EncodingArg::Utf8, help_heading = "Input")]
    pub encoding: EncodingArg,
    /// Which reader reads plain CSV: auto (clientele's own reader where it applies, polars'
    /// otherwise) or polars (always polars' reader). Both give the same rows.
    #[arg(long, global = true, value_enum, default_value_t = ReaderArg::Auto, help_heading = "Input")]
    pub reader: ReaderArg,
    /// Write rejected rows with their reason, row number, column and value to FILE.
    #[arg(long, global = true, value_name = "FILE", help_heading = "Input")]
    pub rejects: Option<PathBuf>,

    /// Analysis date (YYYY-MM-DD); later transactions are excluded [the day after the latest transaction].
    #[arg(long, global = true, value_name = "DATE", help_heading = "Analysis")]
    pub as_of: Option<String>,
    /// How negative amounts (returns) count.
    #[arg(long, global = true, value_enum, default_value_t = ReturnsArg::Net, help_heading = "Analysis")]
    pub returns: ReturnsArg,
    /// How measures are cut into scores.
    #[arg(long, global = true, value_enum, default_value_t = BinningArg::Quantile, help_heading = "Analysis")]
    pub binning: BinningArg,
    /// Scores per measure (2 to 9).
    #[arg(long, global = true, default_value_t = 5, help_heading = "Analysis")]
    pub bins: usize,
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
    #[arg(long, global = true, value_enum, default_value_t = AbcByArg::Customers, help_heading = "Analysis")]
    pub abc_by: AbcByArg,
    /// ABC class shares in % [5,15,80 by customers; 80,15,5 by revenue].
    #[arg(long, global = true, value_name = "LIST", help_heading = "Analysis")]
    pub abc_splits: Option<String>,

    /// Output file; "-" or absent writes to stdout (report: see --out-dir).
    #[arg(short, long, global = true, value_name = "FILE", help_heading = "Output")]
    pub output: Option<PathBuf>,
    /// Output table format [from the output extension; CSV on stdout and for report].
    #[arg(long, global = true, value_enum, help_heading = "Output")]
    pub format: Option<FormatArg>,
    /// Write only these columns of the table, in this order (comma-separated names, e.g.
    /// customer_id,segment,abc_class); all columns by default.
    #[arg(long, global = true, value_name = "LIST", help_heading = "Output")]
    pub columns: Option<String>,
    /// No progress or summaries on stderr (for cron); errors are still printed. Log levels:
    /// RUST_LOG=warn|info|debug (default info; --quiet means error).
    #[arg(short, long, global = true, help_heading = "Output")]
    pub quiet: bool,
}
