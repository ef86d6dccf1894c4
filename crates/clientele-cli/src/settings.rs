//! Flags onto the library's [`Settings`]: the one place the command line becomes settings.
//!
//! A command's settings are the `--config` file's (or the library's defaults), then every flag
//! given on the command line over them; the command checks its outputs against its inputs,
//! then [`Settings::check`] validates every setting at once (reading the rules file and a saved
//! cluster model).
//! Flags carry no defaults of their own: `--help` shows the library's, added by
//! [`with_defaults`].

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clientele::settings::{Choice, ClusterK, ClusterSettings, ClvSettings, ConfigFile, KRange, Settings};

use crate::args::{ClusterOptions, ClvOptions, ClvWindow, GlobalArgs};
use crate::cmd::{parse_date, usage};

/// A clap value parser for a library [`Choice`]: its names, aliases and help.
pub fn choice<T: Choice + Clone + Send + Sync>() -> impl TypedValueParser<Value = T> {
    let values = T::CHOICES.iter().map(|(value, name, help)| {
        let aliases = T::ALIASES.iter().filter(|a| a.1 == *value).map(|a| a.0);
        PossibleValue::new(*name).help(*help).aliases(aliases)
    });
    PossibleValuesParser::new(values).map(|name| T::from_name(&name).expect("a listed name"))
}

/// Which of a subcommand's own setting flags apply.
#[derive(Default)]
pub struct Flags<'a> {
    /// Cluster flags: the options, the number of clusters given (`--clusters`/`--k`), and
    /// whether the subcommand always clusters (`cluster`) or only when asked.
    pub clusters: Option<(&'a ClusterOptions, Option<ClusterK>, bool)>,
    /// Lifetime-value flags, and whether the subcommand always computes it (`clv`) or only
    /// with `--clv`.
    pub clv: Option<(&'a ClvOptions, bool)>,
    /// `sql --clv`'s window flags (a subset of the lifetime-value flags).
    pub clv_window: Option<(&'a ClvWindow, bool)>,
}

impl<'a> Flags<'a> {
    /// The flags of a whole segmentation (`segment`, `report`, `config show`): clusters when
    /// asked (`--clusters`, `--model` or the file's `[clusters]`), lifetime value when asked
    /// (`--clv` or the file's `[clv]`).
    pub fn segmentation(
        cluster: &'a ClusterOptions,
        k: Option<ClusterK>,
        clv: &'a ClvOptions,
        clv_asked: bool,
    ) -> Self {
        Flags {
            clusters: Some((cluster, k, false)),
            clv: Some((clv, clv_asked)),
            clv_window: None,
        }
    }
}

/// The settings of a command line, unchecked.
///
/// # Errors
///
/// Configuration file errors and flag values that do not parse.
pub fn settings(g: &GlobalArgs, flags: Flags<'_>) -> anyhow::Result<Settings> {
    let mut s = match &g.config {
        Some(path) => ConfigFile::read(path)?.0.settings,
        None => Settings::default(),
    };
    apply_flags(&mut s, g, flags)?;
    if g.explain {
        explain(&s);
    }
    Ok(s)
}

/// `--explain`: the preset's definitions that differ from clientele's, on stderr (asked for,
/// so printed also with --quiet).
fn explain(s: &Settings) {
    match s.explain() {
        Some(explained) => {
            for line in explained.lines() {
                eprintln!("{line}");
            }
        }
        None => eprintln!("no preset: clientele's own definitions (docs/definitions.md, docs/clv.md)"),
    }
}

/// Puts every flag given on the command line over `s` (a file's settings, or the defaults).
///
/// # Errors
///
/// Flag values that do not parse.
pub fn apply_flags(s: &mut Settings, g: &GlobalArgs, flags: Flags<'_>) -> anyhow::Result<()> {
    s.preset = g.preset.or(s.preset);
    apply_global(s, g)?;
    s.settle_preset(g.binning)?;
    if let Some((options, k, always)) = flags.clusters {
        let asked = always || k.is_some() || options.model.is_some();
        if asked && s.clusters.is_none() {
            s.clusters = Some(ClusterSettings::default());
        }
        if let Some(c) = &mut s.clusters {
            apply_clusters(c, options, k, always)?;
        }
    }
    let clv_asked = flags.clv.is_some_and(|(_, on)| on) || flags.clv_window.is_some_and(|(_, on)| on);
    if clv_asked && s.clv.is_none() {
        s.clv = Some(ClvSettings::default());
    }
    if let Some(c) = &mut s.clv {
        if let Some((options, _)) = flags.clv {
            apply_clv(c, options)?;
        }
        if let Some((window, _)) = flags.clv_window {
            apply_window(c, window)?;
        }
    }
    Ok(())
}

fn apply_global(s: &mut Settings, g: &GlobalArgs) -> anyhow::Result<()> {
    let set = |slot: &mut Option<String>, value: &Option<String>| {
        if value.is_some() {
            *slot = value.clone();
        }
    };
    let c = &mut s.columns;
    set(&mut c.customer, &g.customer);
    set(&mut c.time, &g.time);
    set(&mut c.order, &g.order);
    if g.amount.is_some() {
        (c.amount, c.quantity, c.price) = (g.amount.clone(), None, None);
    }
    if g.quantity.is_some() || g.price.is_some() {
        (c.amount, c.quantity, c.price) = (None, g.quantity.clone(), g.price.clone());
    }
    c.no_order |= g.no_order;
    let i = &mut s.input;
    set(&mut i.time_format, &g.time_format);
    i.format = g.input_format.or(i.format);
    i.kind = g.input_kind.unwrap_or(i.kind);
    if let Some(d) = &g.delimiter {
        i.delimiter = clientele::ingest::Delimiter::parse(d).ok_or_else(|| {
            usage(format!(
                "--delimiter must be one character, \"tab\" or \"whitespace\", got {d:?}"
            ))
        })?;
    }
    i.header &= !g.no_header;
    i.decimal_comma |= g.decimal_comma;
    i.encoding = g.encoding.unwrap_or(i.encoding);
    i.reader = g.reader.unwrap_or(i.reader);
    apply_analysis(s, g)?;
    s.output.format = g.format.or(s.output.format);
    if let Some(list) = &g.columns {
        s.output.columns = Some(names(list));
    }
    Ok(())
}

fn apply_analysis(s: &mut Settings, g: &GlobalArgs) -> anyhow::Result<()> {
    let a = &mut s.analysis;
    if let Some(text) = &g.as_of {
        a.as_of = text.parse().map_err(|_| clientele::ParamError::Date {
            name: "--as-of",
            value: text.clone(),
        })?;
    }
    a.returns = g.returns.unwrap_or(a.returns);
    a.binning = g.binning.unwrap_or(a.binning);
    a.bins = g.bins.unwrap_or(a.bins);
    let given = [&g.r_thresholds, &g.f_thresholds, &g.m_thresholds];
    if given.iter().any(|t| t.is_some()) {
        let mut t = a.thresholds.clone().unwrap_or_default();
        for (slot, (flag, value)) in [&mut t.recency, &mut t.frequency, &mut t.monetary]
            .into_iter()
            .zip(
                ["--r-thresholds", "--f-thresholds", "--m-thresholds"]
                    .into_iter()
                    .zip(given),
            )
        {
            if let Some(text) = value {
                *slot = numbers(flag, text)?;
            }
        }
        a.thresholds = Some(t);
    }
    if g.rules.is_some() {
        a.rules = g.rules.clone();
    }
    if let Some(basis) = g.abc_by
        && basis != a.abc_by
    {
        // The splits of a file go with its basis: another basis takes its own defaults.
        a.abc_by = basis;
        a.abc_splits = None;
    }
    if let Some(text) = &g.abc_splits {
        a.abc_splits = Some(numbers("--abc-splits", text)?);
    }
    a.cohort_period = g.cohort_period.unwrap_or(a.cohort_period);
    Ok(())
}

fn apply_clusters(
    c: &mut ClusterSettings,
    o: &ClusterOptions,
    k: Option<ClusterK>,
    always: bool,
) -> anyhow::Result<()> {
    if let Some(k) = k {
        c.k = Some(k);
        c.model = None;
    }
    if let Some(model) = &o.model {
        c.model = Some(model.clone());
        c.k = None;
    }
    if always && c.k.is_none() && c.model.is_none() {
        c.k = Some(ClusterK::default());
    }
    if let Some(list) = &o.features {
        c.features = names(list);
    }
    c.transform = o.transform.unwrap_or(c.transform);
    c.scale = o.scale.unwrap_or(c.scale);
    c.seed = o.seed.unwrap_or(c.seed);
    c.n_init = o.n_init.unwrap_or(c.n_init);
    c.max_iter = o.max_iter.unwrap_or(c.max_iter);
    c.tolerance = o.tolerance.unwrap_or(c.tolerance);
    if let Some(text) = &o.k_range {
        c.k_range = text
            .parse::<KRange>()
            .map_err(|_| usage(format!("--k-range must look like 2-10, got {text:?}")))?;
    }
    c.silhouette_sample = o.silhouette_sample.unwrap_or(c.silhouette_sample);
    Ok(())
}

fn apply_clv(c: &mut ClvSettings, o: &ClvOptions) -> anyhow::Result<()> {
    apply_window(c, &o.window)?;
    c.time_unit = o.time_unit.unwrap_or(c.time_unit);
    c.model = o.clv_model.unwrap_or(c.model);
    c.horizon = o.horizon.unwrap_or(c.horizon);
    c.discount = o.discount.unwrap_or(c.discount);
    c.margin = o.margin.unwrap_or(c.margin);
    c.penalty = o.penalty.unwrap_or(c.penalty);
    Ok(())
}

fn apply_window(c: &mut ClvSettings, w: &ClvWindow) -> anyhow::Result<()> {
    if let Some(text) = &w.calibration_end {
        c.calibration_end = Some(parse_date("--calibration-end", text)?);
    }
    if let Some(text) = &w.holdout_end {
        c.holdout_end = Some(parse_date("--holdout-end", text)?);
    }
    c.period = w.period.unwrap_or(c.period);
    Ok(())
}

/// A comma-separated list of names, blanks dropped.
fn names(list: &str) -> Vec<String> {
    list.split(',')
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty())
        .collect()
}

/// A comma-separated list of numbers.
fn numbers(flag: &str, text: &str) -> anyhow::Result<Vec<f64>> {
    text.split(',')
        .map(|part| {
            part.trim().parse::<f64>().map_err(|_| {
                usage(format!(
                    "{flag}: {part:?} is not a number (expected a comma-separated list)"
                ))
            })
        })
        .collect()
}

/// The command with the library's defaults in the help of the flags that have one.
pub fn with_defaults(command: clap::Command) -> clap::Command {
    let defaults = defaults();
    annotate(command, &defaults)
}

fn annotate(command: clap::Command, defaults: &[(&'static str, String)]) -> clap::Command {
    let names: Vec<String> = command
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    let mut command = command.mut_args(|arg| match defaults.iter().find(|(id, _)| arg.get_id() == *id) {
        Some((_, value)) => {
            let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
            arg.help(format!("{help} [default: {value}]"))
        }
        None => arg,
    });
    for name in names {
        command = command.mut_subcommand(name, |sub| annotate(sub, defaults));
    }
    command
}

/// Flag ids and the library's default value each stands for.
fn defaults() -> Vec<(&'static str, String)> {
    let s = Settings::default();
    let c = ClusterSettings::default();
    let v = ClvSettings::default();
    vec![
        ("input_kind", s.input.kind.name().into()),
        ("encoding", s.input.encoding.name().into()),
        ("reader", s.input.reader.name().into()),
        ("returns", s.analysis.returns.name().into()),
        ("binning", s.analysis.binning.name().into()),
        ("bins", s.analysis.bins.to_string()),
        ("abc_by", s.analysis.abc_by.name().into()),
        ("cohort_period", s.analysis.cohort_period.name().into()),
        ("k", ClusterK::default().to_string()),
        ("features", c.features.join(",")),
        ("transform", c.transform.name().into()),
        ("scale", c.scale.name().into()),
        ("seed", c.seed.to_string()),
        ("n_init", c.n_init.to_string()),
        ("max_iter", c.max_iter.to_string()),
        ("tolerance", c.tolerance.to_string()),
        ("k_range", c.k_range.to_string()),
        ("silhouette_sample", c.silhouette_sample.to_string()),
        ("period", v.period.name().into()),
        ("time_unit", v.time_unit.name().into()),
        ("clv_model", v.model.name().into()),
        ("horizon", v.horizon.to_string()),
        ("discount", v.discount.to_string()),
        ("margin", v.margin.to_string()),
        ("penalty", v.penalty.to_string()),
    ]
}

#[cfg(test)]
mod tests;
