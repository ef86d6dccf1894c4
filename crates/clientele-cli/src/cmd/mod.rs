//! One module per subcommand, and the glue they share: arguments into library settings,
//! tables out to files or stdout, notes and progress on stderr.

pub mod abc;
pub mod cluster;
pub mod clv;
pub mod customers;
pub mod generate;
pub mod report;
pub mod rfm;
pub mod rules;
pub mod run;
pub mod segment;
pub mod sql;
pub mod validate;

use std::io::IsTerminal;
use std::path::Path;
use std::time::Duration;

use clientele::abc::AbcBasis;
use clientele::cluster::{ClusterCount, ClusterModel, ClusterParams, Scale, Transform};
use clientele::clv::{ClvParams, ClvValidParams, Period, TimeUnit, TransactionModel};
use clientele::ingest::{
    self, CsvOptions, CsvReaderChoice, DecimalSeparator, Delimiter, Encoding, Header, IngestOptions,
    InputFormat, Transactions,
};
use clientele::rfm::FixedThresholds;
use clientele::{
    AbcParams, AsOf, Binning, ClusterJob, Columns, ReturnsPolicy, RfmParams, RowPolicy, SegmentRules,
    Segmentation, Segmenter,
};

use crate::args::{
    AbcByArg, BinningArg, ClusterOptions, ClvOptions, EncodingArg, GlobalArgs, InputFormatArg, InputKindArg,
    KArg, ModelArg, PeriodArg, ReaderArg, ReturnsArg, ScaleArg, TimeUnitArg, TransformArg,
};

/// A usage error found by the binary itself (exit code 2).
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

pub fn usage(message: impl Into<String>) -> anyhow::Error {
    UsageError(message.into()).into()
}

/// The column mapping and CSV options from the flags.
pub fn ingest_options(g: &GlobalArgs) -> anyhow::Result<IngestOptions> {
    let mut columns = Columns {
        customer: g.customer.clone(),
        time: g.time.clone(),
        amount: g.amount.clone(),
        quantity: g.quantity.clone(),
        price: g.price.clone(),
        order: g.order.clone(),
        no_order: false,
    };
    if g.no_order {
        columns = columns.without_order();
    }
    if g.quantity.is_some() != g.price.is_some() {
        return Err(usage(
            "--quantity and --price go together (the amount is quantity × price)",
        ));
    }
    let delimiter = match g.delimiter.as_deref() {
        None => Delimiter::Auto,
        Some(d) => Delimiter::parse(d).ok_or_else(|| {
            usage(format!(
                "--delimiter must be one character, \"tab\" or \"whitespace\", got {d:?}"
            ))
        })?,
    };
    Ok(IngestOptions {
        columns,
        time_format: g.time_format.clone(),
        csv: CsvOptions {
            delimiter,
            header: if g.no_header {
                Header::Absent
            } else {
                Header::Present
            },
            decimal: if g.decimal_comma {
                DecimalSeparator::Comma
            } else {
                DecimalSeparator::Point
            },
            encoding: match g.encoding {
                EncodingArg::Utf8 => Encoding::Utf8,
                EncodingArg::Latin1 => Encoding::Latin1,
                EncodingArg::Windows1252 => Encoding::Windows1252,
            },
            reader: match g.reader {
                ReaderArg::Auto => CsvReaderChoice::Auto,
                ReaderArg::Polars => CsvReaderChoice::Polars,
            },
            ..CsvOptions::default()
        },
        format: g.input_format.map(|f| match f {
            InputFormatArg::Csv => InputFormat::Csv,
            InputFormatArg::Parquet => InputFormat::Parquet,
        }),
    })
}

/// Scans the input (reads only its header and a timestamp sample): a transaction log, or with
/// `--input-kind customers` a customer table.
pub fn scan(g: &GlobalArgs, input: &Path) -> anyhow::Result<Transactions> {
    let options = ingest_options(g)?;
    Ok(match g.input_kind {
        InputKindArg::Transactions => ingest::scan(input, &options)?,
        InputKindArg::Customers => {
            clientele::customers::pre_aggregated::scan(&[input.to_path_buf()], &options)?
        }
    })
}

/// The as-of date and returns policy from the flags.
pub fn row_policy(g: &GlobalArgs) -> anyhow::Result<RowPolicy> {
    let as_of = match &g.as_of {
        None => AsOf::DayAfterLatest,
        Some(text) => AsOf::Date(parse_date("--as-of", text)?),
    };
    let returns = match g.returns {
        ReturnsArg::Net => ReturnsPolicy::Net,
        ReturnsArg::Exclude => ReturnsPolicy::Exclude,
    };
    Ok(RowPolicy { as_of, returns })
}

/// Parses a `YYYY-MM-DD` date argument.
pub fn parse_date(name: &'static str, text: &str) -> anyhow::Result<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| {
        clientele::ParamError::Date {
            name,
            value: text.to_string(),
        }
        .into()
    })
}

fn parse_list(name: &str, text: &str) -> anyhow::Result<Vec<f64>> {
    text.split(',')
        .map(|part| {
            part.trim().parse::<f64>().map_err(|_| {
                usage(format!(
                    "{name}: {part:?} is not a number (expected a comma-separated list)"
                ))
            })
        })
        .collect()
}

/// The RFM parameters from the flags (unchecked: the library checks them).
pub fn rfm_params(g: &GlobalArgs) -> anyhow::Result<RfmParams> {
    let params = RfmParams::new().bins(g.bins);
    let given = [&g.r_thresholds, &g.f_thresholds, &g.m_thresholds];
    match g.binning {
        BinningArg::Quantile | BinningArg::Rank if given.iter().any(|t| t.is_some()) => Err(usage(
            "--r-thresholds, --f-thresholds and --m-thresholds need --binning fixed",
        )),
        BinningArg::Quantile => Ok(params.binning(Binning::Quantile)),
        BinningArg::Rank => Ok(params.binning(Binning::Rank)),
        BinningArg::Fixed => {
            let list = |flag: &str, value: &Option<String>| -> anyhow::Result<Vec<f64>> {
                match value {
                    Some(text) => parse_list(flag, text),
                    None => Err(usage(format!(
                        "--binning fixed needs {flag} (bins - 1 ascending cut points)"
                    ))),
                }
            };
            Ok(params.fixed_thresholds(FixedThresholds {
                recency: list("--r-thresholds", &g.r_thresholds)?,
                frequency: list("--f-thresholds", &g.f_thresholds)?,
                monetary: list("--m-thresholds", &g.m_thresholds)?,
            }))
        }
    }
}

/// The segment rules from the flags.
pub fn segment_rules(g: &GlobalArgs) -> anyhow::Result<SegmentRules> {
    Ok(match &g.rules {
        Some(path) => SegmentRules::from_file(path)?,
        None => SegmentRules::builtin(),
    })
}

/// The ABC parameters from the flags (unchecked).
pub fn abc_params(g: &GlobalArgs) -> anyhow::Result<AbcParams> {
    let basis = match g.abc_by {
        AbcByArg::Customers => AbcBasis::Customers,
        AbcByArg::Revenue => AbcBasis::Revenue,
    };
    let splits = match &g.abc_splits {
        Some(text) => parse_list("--abc-splits", text)?,
        None => basis.default_splits(),
    };
    Ok(match basis {
        AbcBasis::Customers => AbcParams::by_customer_share(splits),
        AbcBasis::Revenue => AbcParams::by_revenue_share(splits),
    })
}

/// The whole job's settings from the flags.
pub fn segmenter(g: &GlobalArgs) -> anyhow::Result<Segmenter> {
    Ok(Segmenter::new()
        .policy(row_policy(g)?)
        .rfm(rfm_params(g)?)
        .rules(segment_rules(g)?)
        .abc(abc_params(g)?))
}

/// A spinner on stderr while the data is read, only when stderr is a terminal.
pub struct Progress(Option<indicatif::ProgressBar>);

impl Progress {
    /// Starts a spinner with a message (or nothing, when quiet or not on a terminal).
    pub fn start(g: &GlobalArgs, message: String) -> Progress {
        if g.quiet || !std::io::stderr().is_terminal() {
            return Progress(None);
        }
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_message(message);
        bar.enable_steady_tick(Duration::from_millis(120));
        Progress(Some(bar))
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

/// Prints a note on stderr: an info-level log line, silenced by --quiet or RUST_LOG=warn.
pub fn note(g: &GlobalArgs, text: &str) {
    if !g.quiet {
        log::info!("{text}");
    }
}

/// The one-line account of the input rows and customers, on stderr.
pub fn note_rows(g: &GlobalArgs, source: &str, table: &clientele::customers::CustomerTable) {
    let r = &table.reconciliation;
    let fmt = |n: u64| clientele::format::format_count(n);
    note(
        g,
        &format!(
            "{source}: {} rows = {} used + {} excluded + {} rejected; {} customers as of {}",
            fmt(r.input_rows),
            fmt(r.used_rows),
            fmt(r.excluded_rows()),
            fmt(r.rejected_rows()),
            fmt(table.len() as u64),
            table.as_of
        ),
    );
    let invalid = r.rejected_for(clientele::rows::RejectReason::InvalidUtf8);
    if invalid > 0 {
        note(
            g,
            &format!(
                "{source}: {} not valid UTF-8 (rejected as invalid_utf8); files from Windows \
                 programs are often windows-1252: read them with --encoding windows-1252 (or \
                 latin-1)",
                if invalid == 1 {
                    "1 row is".to_string()
                } else {
                    format!("{} rows are", fmt(invalid))
                }
            ),
        );
    }
}

/// Lifetime-value parameters from the flags, checked.
pub fn clv_params(options: &ClvOptions) -> anyhow::Result<ClvValidParams> {
    let mut params = ClvParams::new()
        .time_unit(match options.time_unit {
            TimeUnitArg::Day => TimeUnit::Day,
            TimeUnitArg::Week => TimeUnit::Week,
        })
        .period(match options.period {
            PeriodArg::Day => Period::Day,
            PeriodArg::Week => Period::Week,
        })
        .model(match options.clv_model {
            ModelArg::BgNbd => TransactionModel::BgNbd,
            ModelArg::ParetoNbd => TransactionModel::ParetoNbd,
        })
        .horizon(options.horizon)
        .discount(options.discount)
        .margin(options.margin)
        .penalty(options.penalty);
    if let Some(date) = &options.calibration_end {
        params = params.calibration_end(parse_date("--calibration-end", date)?);
    }
    if let Some(date) = &options.holdout_end {
        params = params.holdout_end(parse_date("--holdout-end", date)?);
    }
    Ok(params.check()?)
}

/// The clustering asked for: a saved model (`--model`) or a fit with `k`; `None` without either.
/// Parameters are checked here, before any data is read.
pub fn cluster_job(options: &ClusterOptions, k: Option<KArg>) -> anyhow::Result<Option<ClusterJob>> {
    if let Some(path) = &options.model {
        return Ok(Some(ClusterJob::Apply(Box::new(ClusterModel::load(path)?))));
    }
    let Some(k) = k else { return Ok(None) };
    let count = match k {
        KArg::Fixed(k) => ClusterCount::Fixed(k),
        KArg::Auto => {
            let (min, max) = options
                .k_range
                .split_once('-')
                .and_then(|(a, b)| Some((a.trim().parse().ok()?, b.trim().parse().ok()?)))
                .ok_or_else(|| {
                    usage(format!(
                        "--k-range must look like 2-10, got {:?}",
                        options.k_range
                    ))
                })?;
            ClusterCount::Auto { min, max }
        }
    };
    let features: Vec<String> = options
        .features
        .split(',')
        .map(|f| f.trim().to_string())
        .filter(|f| !f.is_empty())
        .collect();
    let params = ClusterParams::new()
        .features(features)
        .transform(match options.transform {
            TransformArg::None => Transform::None,
            TransformArg::Log1p => Transform::Log1p,
        })
        .scale(match options.scale {
            ScaleArg::None => Scale::None,
            ScaleArg::Standard => Scale::Standard,
            ScaleArg::Robust => Scale::Robust,
        })
        .k(count)
        .seed(options.seed)
        .n_init(options.n_init)
        .max_iter(options.max_iter)
        .tolerance(options.tolerance)
        .silhouette_sample(options.silhouette_sample);
    params.clone().check()?;
    Ok(Some(ClusterJob::Fit(params)))
}

/// Checks the settings, scans the input and runs the whole job under a spinner, then prints
/// the row account, the cut points and the clusters on stderr.
pub fn run_segmentation(
    g: &GlobalArgs,
    input: &Path,
    clusters: Option<ClusterJob>,
    clv: Option<ClvValidParams>,
    rejects: bool,
) -> anyhow::Result<(Segmenter, Transactions, Segmentation)> {
    let mut segmenter = checked_segmenter(g)?.collect_rejects(rejects);
    if let Some(job) = clusters {
        segmenter = segmenter.clusters(job);
    }
    if let Some(params) = clv {
        segmenter = segmenter.clv(params);
    }
    let tx = scan(g, input)?;
    let result = {
        let _progress = Progress::start(g, format!("reading {}", tx.source_name()));
        match g.input_kind {
            InputKindArg::Transactions => segmenter.run(&tx)?,
            InputKindArg::Customers => segmenter.run_customer_table(&tx)?,
        }
    };
    note_rows(g, tx.source_name(), &result.customers);
    rfm::note_scoring(g, &result.rfm);
    if let Some(clusters) = &result.clusters {
        note(
            g,
            clientele::report::clusters_markdown(&clusters.summary()).trim_end(),
        );
    }
    Ok((segmenter, tx, result))
}

/// Scans the input and aggregates customers under a spinner, then prints the row account.
pub fn aggregate_customers(
    g: &GlobalArgs,
    input: &Path,
    policy: &RowPolicy,
) -> anyhow::Result<(Transactions, clientele::customers::CustomerTable)> {
    let tx = scan(g, input)?;
    let table = {
        let _progress = Progress::start(g, format!("reading {}", tx.source_name()));
        match g.input_kind {
            InputKindArg::Transactions => clientele::customers::aggregate(&tx, policy)?,
            InputKindArg::Customers => clientele::customers::pre_aggregated::read(&tx, policy)?,
        }
    };
    note_rows(g, tx.source_name(), &table);
    Ok((tx, table))
}

/// The job's settings, checked before any data is read.
pub fn checked_segmenter(g: &GlobalArgs) -> anyhow::Result<Segmenter> {
    let segmenter = segmenter(g)?;
    let bins = rfm_params(g)?.check()?.bins();
    abc_params(g)?.check()?;
    segment_rules(g)?.check(bins)?;
    Ok(segmenter)
}
