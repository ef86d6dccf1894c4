//! Flags and TOML give the same checked settings, group by group.

use std::path::Path;

use clap::Parser;
use clientele::settings::{Settings, ValidSettings};

use super::{Flags, settings};
use crate::args::{Cli, Command};

/// The settings of `clientele segment in.csv ARGS` (or `cluster`, `clv`), unchecked.
fn from_flags(args: &[&str]) -> Settings {
    let mut argv = vec!["clientele"];
    argv.extend_from_slice(args);
    let cli = Cli::try_parse_from(argv).unwrap_or_else(|e| panic!("{args:?}: {e}"));
    let g = &cli.global;
    let flags = match &cli.command {
        Command::Segment(a) => Flags::segmentation(&a.cluster, a.clusters, &a.clv_options, a.clv),
        Command::Cluster(a) => Flags {
            clusters: Some((&a.cluster, a.k, true)),
            ..Flags::default()
        },
        Command::Clv(a) => Flags {
            clv: Some((&a.clv, true)),
            ..Flags::default()
        },
        _ => Flags::default(),
    };
    settings(g, flags).unwrap()
}

fn from_toml(text: &str) -> Settings {
    Settings::from_toml_str(text, Path::new("")).unwrap()
}

/// Both give equal settings, and equal checked settings.
fn same(flags: &[&str], toml: &str) -> ValidSettings {
    let (a, b) = (from_flags(flags), from_toml(toml));
    assert_eq!(a, b, "flags {flags:?} and TOML:\n{toml}");
    let (a, b) = (a.check().unwrap(), b.check().unwrap());
    assert_eq!(a, b);
    a
}

#[test]
fn columns() {
    let job = same(
        &[
            "segment",
            "x.csv",
            "--customer",
            "Kunde",
            "--time",
            "Datum",
            "--quantity",
            "Menge",
            "--price",
            "Preis",
            "--order",
            "Beleg",
        ],
        "[columns]\ncustomer = \"Kunde\"\ntime = \"Datum\"\nquantity = \"Menge\"\nprice = \"Preis\"\norder = \"Beleg\"\n",
    );
    assert_eq!(job.ingest.columns.customer.as_deref(), Some("Kunde"));
    let job = same(
        &["segment", "x.csv", "--no-order"],
        "[columns]\nno_order = true\n",
    );
    assert!(job.ingest.columns.no_order);
}

#[test]
fn input() {
    let job = same(
        &[
            "segment",
            "x.csv",
            "--delimiter",
            ";",
            "--no-header",
            "--decimal-comma",
            "--encoding",
            "cp1252",
            "--time-format",
            "%d.%m.%Y",
            "--input-format",
            "csv",
            "--reader",
            "polars",
            "--input-kind",
            "customers",
        ],
        "[input]\ndelimiter = \";\"\nheader = false\ndecimal_comma = true\nencoding = \"windows-1252\"\n\
         time_format = \"%d.%m.%Y\"\nformat = \"csv\"\nreader = \"polars\"\nkind = \"customers\"\n",
    );
    assert_eq!(job.ingest.csv.delimiter, clientele::ingest::Delimiter::Byte(b';'));
    assert_eq!(job.input_kind, clientele::InputKind::Customers);
}

#[test]
fn analysis() {
    let rules = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../clientele/src/rfm/default_segments.toml"
    );
    let job = same(
        &[
            "segment",
            "x.csv",
            "--as-of",
            "2024-01-31",
            "--returns",
            "exclude",
            "--binning",
            "fixed",
            "--bins",
            "3",
            "--r-thresholds",
            "30,90",
            "--f-thresholds",
            "1,3",
            "--m-thresholds",
            "100,500",
            "--abc-by",
            "revenue",
            "--abc-splits",
            "70,20,10",
            "--rules",
            rules,
        ],
        &format!(
            "[analysis]\nas_of = \"2024-01-31\"\nreturns = \"exclude\"\nbinning = \"fixed\"\nbins = 3\n\
             abc_by = \"revenue\"\nabc_splits = [70, 20, 10]\nrules = {rules:?}\n\
             [analysis.thresholds]\nrecency = [30, 90]\nfrequency = [1, 3]\nmonetary = [100, 500]\n"
        ),
    );
    assert_eq!(job.rfm.bins(), 3);
    assert_eq!(job.abc.splits(), [70.0, 20.0, 10.0]);
}

#[test]
fn clusters() {
    let toml = "[clusters]\nk = \"auto\"\nk_range = [2, 6]\nfeatures = [\"recency_days\", \"monetary\"]\n\
                transform = \"none\"\nscale = \"robust\"\nseed = 7\nn_init = 3\nmax_iter = 50\n\
                tolerance = 0.001\nsilhouette_sample = 500\n";
    let flags = [
        "--k-range",
        "2-6",
        "--features",
        "recency_days, monetary",
        "--transform",
        "none",
        "--scale",
        "robust",
        "--seed",
        "7",
        "--n-init",
        "3",
        "--max-iter",
        "50",
        "--tolerance",
        "0.001",
        "--silhouette-sample",
        "500",
    ];
    let job = same(
        &[&["segment", "x.csv", "--clusters", "auto"], &flags[..]].concat(),
        toml,
    );
    assert!(matches!(job.clusters, Some(clientele::ClusterJob::Fit(_))));
    same(&[&["cluster", "x.csv", "--k", "auto"], &flags[..]].concat(), toml);
    // `cluster` always clusters, with the library's default k.
    same(&["cluster", "x.csv"], "[clusters]\nk = 4\n");
    // Cluster flags alone do not turn clustering on for `segment`.
    same(&["segment", "x.csv", "--seed", "9"], "");
}

#[test]
fn lifetime_value() {
    let toml = "[clv]\ncalibration_end = \"2024-06-30\"\nholdout_end = \"2024-09-30\"\ntime_unit = \"day\"\n\
                period = \"week\"\nmodel = \"pareto-nbd\"\nhorizon = 30\ndiscount = 0.02\nmargin = 0.3\npenalty = 0.1\n";
    let flags = [
        "--calibration-end",
        "2024-06-30",
        "--holdout-end",
        "2024-09-30",
        "--time-unit",
        "day",
        "--period",
        "week",
        "--clv-model",
        "pareto-nbd",
        "--horizon",
        "30",
        "--discount",
        "0.02",
        "--margin",
        "0.3",
        "--penalty",
        "0.1",
    ];
    let job = same(&[&["segment", "x.csv", "--clv"], &flags[..]].concat(), toml);
    assert_eq!(job.clv.as_ref().unwrap().horizon(), 30.0);
    same(&[&["clv", "x.csv"], &flags[..]].concat(), toml);
    same(&["clv", "x.csv"], "[clv]\n");
}

#[test]
fn output() {
    let job = same(
        &[
            "segment",
            "x.csv",
            "--format",
            "json",
            "--columns",
            "customer_id, segment",
        ],
        "[output]\nformat = \"json\"\ncolumns = [\"customer_id\", \"segment\"]\n",
    );
    assert_eq!(job.output_format, Some(clientele::OutputFormat::Ndjson));
}

#[test]
fn flags_override_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("job.toml");
    std::fs::write(
        &path,
        "[analysis]\nbins = 4\nreturns = \"exclude\"\nabc_by = \"revenue\"\nabc_splits = [70, 20, 10]\n\
         [clusters]\nk = 3\nseed = 5\n[clv]\nhorizon = 10\n",
    )
    .unwrap();
    let config = path.to_str().unwrap();
    let s = from_flags(&[
        "segment",
        "x.csv",
        "--config",
        config,
        "--bins",
        "3",
        "--seed",
        "6",
        "--horizon",
        "20",
        "--abc-by",
        "customers",
    ]);
    assert_eq!(s.analysis.bins, 3);
    assert_eq!(s.analysis.returns, clientele::ReturnsPolicy::Exclude);
    // Another basis brings its own default splits.
    assert_eq!(s.analysis.abc_splits, None);
    let c = s.clusters.as_ref().unwrap();
    assert_eq!((c.k, c.seed), (Some(clientele::settings::ClusterK::Fixed(3)), 6));
    assert_eq!(s.clv.as_ref().unwrap().horizon, 20.0);
    // The file's sections turn clusters and lifetime value on without the flags.
    assert!(s.check().unwrap().clv.is_some());
}

#[test]
fn presets() {
    use clientele::presets::Preset;
    use clientele::rfm::{Binning, RfmConvention};

    let job = same(&["segment", "x.csv", "--preset", "rfm-r"], "preset = \"rfm-r\"\n");
    assert_eq!(job.rfm.convention(), RfmConvention::RfmR);
    assert_eq!(job.rules.origin, "R rfm's segments");
    assert_eq!(job.preset.as_ref().unwrap().preset, Preset::RfmR);
    // pandas-qcut's default binning is rank, written out so that `config show` says so.
    let job = same(
        &["segment", "x.csv", "--preset", "pandas-qcut"],
        "preset = \"pandas-qcut\"\n[analysis]\nbinning = \"rank\"\n",
    );
    assert_eq!(job.rfm.binning(), Binning::Rank);
    assert_eq!(
        from_toml("preset = \"pandas-qcut\"\n").analysis.binning,
        Binning::Rank
    );
    let job = same(
        &[
            "clv",
            "x.csv",
            "--preset",
            "lifetimes",
            "--time-unit",
            "day",
            "--horizon",
            "12mo",
        ],
        "preset = \"lifetimes\"\n[clv]\ntime_unit = \"day\"\nhorizon = \"12mo\"\n",
    );
    let clv = job.clv.unwrap();
    assert_eq!(clv.convention(), clientele::clv::ClvConvention::Lifetimes);
    assert_eq!((clv.horizon(), clv.horizon_months()), (360.0, 12.0));
}

#[test]
fn settings_a_preset_cannot_follow_are_errors() {
    let mut argv = vec![
        "clientele",
        "segment",
        "x.csv",
        "--preset",
        "pandas-qcut",
        "--binning",
        "quantile",
    ];
    let cli = Cli::try_parse_from(&argv).unwrap();
    let err = settings(&cli.global, Flags::default()).unwrap_err().to_string();
    assert!(
        err.contains("analysis.binning") && err.contains("pandas-qcut"),
        "{err}"
    );
    argv[6] = "fixed";
    let cli = Cli::try_parse_from(&argv).unwrap();
    assert!(settings(&cli.global, Flags::default()).is_err());
    let err = Settings::from_toml_str(
        "preset = \"pandas-qcut\"\n[analysis]\nbinning = \"quantile\"\n",
        Path::new(""),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("pandas-qcut"), "{err}");
    let cli = Cli::try_parse_from([
        "clientele",
        "segment",
        "x.csv",
        "--preset",
        "rfm-r",
        "--binning",
        "rank",
    ])
    .unwrap();
    let err = settings(&cli.global, Flags::default()).unwrap_err().to_string();
    assert!(err.contains("never at ranks"), "{err}");
    // A file's rank binning under a flag's rfm-r: found when the settings are checked.
    let mut s = from_toml("[analysis]\nbinning = \"rank\"\n");
    s.preset = Some(clientele::presets::Preset::RfmR);
    assert!(s.check().unwrap_err().to_string().contains("never at ranks"));
    let err = from_flags(&["segment", "x.csv", "--preset", "lifetimes"])
        .check()
        .unwrap_err();
    assert!(err.to_string().contains("add --clv"), "{err}");
    // Parameters stay free: rfm-r with its custom thresholds, 4 bins and one's own rules.
    let s = from_flags(&[
        "segment",
        "x.csv",
        "--preset",
        "rfm-r",
        "--binning",
        "fixed",
        "--r-thresholds",
        "30,90,180",
        "--f-thresholds",
        "1,2,4",
        "--m-thresholds",
        "50,100,500",
        "--bins",
        "4",
        "--rules",
        "my.toml",
    ]);
    assert_eq!(s.analysis.bins, 4);
    assert!(
        s.explain().unwrap().differences[1]
            .preset
            .contains("your thresholds")
    );
}

#[test]
fn a_flag_preset_replaces_the_file_s() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("job.toml");
    std::fs::write(&path, "preset = \"rfm-r\"\n[analysis]\nbins = 4\n").unwrap();
    let config = path.to_str().unwrap();
    let s = from_flags(&["segment", "x.csv", "--config", config, "--preset", "pandas-qcut"]);
    assert_eq!(s.preset, Some(clientele::presets::Preset::PandasQcut));
    assert_eq!(s.analysis.binning, clientele::rfm::Binning::Rank);
    assert_eq!(s.analysis.bins, 4);
}

#[test]
fn horizons_take_units() {
    let job = same(
        &["clv", "x.csv", "--time-unit", "day", "--horizon", "39w"],
        "[clv]\ntime_unit = \"day\"\nhorizon = \"39w\"\n",
    );
    assert_eq!(job.clv.as_ref().unwrap().horizon(), 273.0);
    let job = same(
        &["clv", "x.csv", "--horizon", "365d"],
        "[clv]\nhorizon = \"365d\"\n",
    );
    assert_eq!(job.clv.as_ref().unwrap().horizon(), 365.0 / 7.0);
    let cli = Cli::try_parse_from(["clientele", "clv", "x.csv", "--horizon", "3 fortnights"]);
    assert!(cli.is_err());
}

#[test]
fn cohorts() {
    let job = same(
        &["segment", "x.csv", "--cohort-period", "quarter"],
        "[analysis]\ncohort_period = \"quarter\"\n",
    );
    assert_eq!(job.cohort_period, clientele::cohorts::CohortPeriod::Quarter);
    let default = same(&["segment", "x.csv"], "");
    assert_eq!(default.cohort_period, clientele::cohorts::CohortPeriod::Month);
}

#[test]
fn help_shows_the_library_defaults() {
    let mut command = super::with_defaults(<Cli as clap::CommandFactory>::command());
    let help = command
        .find_subcommand_mut("segment")
        .unwrap()
        .render_help()
        .to_string();
    let defaults = clientele::settings::ClusterSettings::default();
    assert!(help.contains(&format!("[default: {}]", defaults.seed)), "{help}");
    assert!(help.contains("[default: 2-10]"), "{help}");
    assert!(help.contains("[default: bg-nbd]"), "{help}");
}
