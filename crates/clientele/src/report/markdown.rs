//! Markdown rendering of a [`Summary`].

use std::fmt::Write;

use crate::abc::{AbcBasis, AbcClassSummary};
use crate::cluster::{ClusterSummary, KChosenBy, Scale, Transform};
use crate::clv::choose::Criterion;
use crate::clv::{ClvSummary, HoldoutCheck, ModelComparison};
use crate::format::{format_count, format_money, format_share};
use crate::migration::Migration;
use crate::rfm::Binning;
use crate::rfm::score::format_number;
use crate::rows::{AsOf, ReturnsPolicy, RowReconciliation};
use crate::summary::Summary;

/// Escapes `|` and line breaks so a value cannot break a table.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\n', '\r'], " ")
}

pub(super) fn render(s: &Summary) -> String {
    let mut out = String::new();
    let _ = render_into(&mut out, s);
    out
}

fn render_into(out: &mut String, s: &Summary) -> std::fmt::Result {
    writeln!(out, "# Customer segmentation: {}\n", cell(&s.input.source))?;
    let as_of = match s.settings.as_of_policy {
        AsOf::DayAfterLatest => "the day after the latest transaction",
        AsOf::Date(_) => "given",
    };
    let returns = match s.settings.returns {
        ReturnsPolicy::Net => "returns netted into monetary value",
        ReturnsPolicy::Exclude => "returns excluded",
    };
    let binning = match s.settings.binning {
        Binning::Quantile => "quantile",
        Binning::Rank => "rank",
        Binning::Fixed => "fixed",
    };
    writeln!(
        out,
        "As of **{}** ({as_of}); {returns}; {} scores per measure, {binning} binning; segments from {}. \
         clientele {}.\n",
        s.settings.as_of,
        s.settings.bins,
        cell(&s.settings.segment_rules),
        s.clientele_version
    )?;

    if let Some(p) = &s.settings.preset {
        preset_into(out, p)?;
    }
    writeln!(out, "## Input\n")?;
    if s.input.kind == crate::segmenter::InputKind::Customers {
        writeln!(
            out,
            "A customer table aggregated elsewhere (one row per customer: customer_id, first_purchase, \
             last_purchase, frequency, monetary); recency and tenure are computed here at the as-of date. \
             Below, rows are customers.\n"
        )?;
        render_rows(out, s)?;
        return render_tail(out, s);
    }
    writeln!(out, "| role | column |\n| --- | --- |")?;
    writeln!(out, "| customer id | {} |", cell(&s.input.columns.customer))?;
    let time_note = match (&s.input.time_format, s.input.time_format_detected) {
        (Some(f), true) => format!(" (format `{f}`, detected)"),
        (Some(f), false) => format!(" (format `{f}`, given)"),
        (None, _) => " (native date/time column)".to_string(),
    };
    writeln!(
        out,
        "| timestamp | {}{} |",
        cell(&s.input.columns.time),
        cell(&time_note)
    )?;
    writeln!(out, "| amount | {} |", cell(&s.input.columns.amount.to_string()))?;
    let order = s
        .input
        .columns
        .order
        .as_deref()
        .map_or("none: frequency counts purchase days".to_string(), cell);
    writeln!(out, "| order id | {order} |\n")?;

    render_rows(out, s)?;
    render_tail(out, s)
}

/// The preset and the definitions it changes (docs/presets.md).
fn preset_into(out: &mut String, p: &crate::presets::Explained) -> std::fmt::Result {
    writeln!(
        out,
        "## Preset {}\n\nThese definitions follow the preset instead of clientele's (docs/presets.md):\n",
        p.preset.name()
    )?;
    writeln!(out, "| | preset | clientele | why |\n| --- | --- | --- | --- |")?;
    for d in &p.differences {
        writeln!(
            out,
            "| {} | {} | {} | {} |",
            cell(d.topic),
            cell(&d.preset),
            cell(&d.clientele),
            cell(&d.why)
        )?;
    }
    writeln!(out)
}

fn render_tail(out: &mut String, s: &Summary) -> std::fmt::Result {
    let c = &s.customers;
    let range = match (c.first_date, c.last_date) {
        (Some(a), Some(b)) => format!(", purchases from {a} to {b}"),
        _ => String::new(),
    };
    writeln!(out, "## Customers\n")?;
    writeln!(
        out,
        "{} customers{range}; total monetary value {}.\n",
        format_count(c.customers as u64),
        format_money(c.total_monetary)
    )?;
    for note in &c.notes {
        writeln!(out, "- warning: {}", cell(note))?;
    }
    if !c.notes.is_empty() {
        writeln!(out)?;
    }

    render_scores(out, s)?;
    render_segments(out, s)?;
    render_abc(out, s)?;
    if let Some(clusters) = &s.clusters {
        out.push_str(&clusters_markdown(clusters));
    }
    if let Some(clv) = &s.clv {
        out.push_str(&clv_markdown(clv));
        super::evaluation::disagreements_markdown(out, s)?;
    }
    if let Some(m) = &s.migration {
        out.push_str(&migration_markdown(m));
    }
    Ok(())
}

/// The changes since a previous run: counts, then transition matrices (customers, revenue).
pub fn migration_markdown(m: &Migration) -> String {
    let mut out = String::new();
    let _ = migration_into(&mut out, m);
    out
}

fn migration_into(out: &mut String, m: &Migration) -> std::fmt::Result {
    writeln!(out, "## Changes since the previous run\n")?;
    writeln!(
        out,
        "Compared with {} (as of {}): {} moved up (higher RFM score), {} moved down, {} unchanged, \
         {} new customers, {} gone. Each cell: customers, and their revenue (current monetary value; \
         the previous one for customers gone). Per customer: `migration.csv`.\n",
        cell(&m.previous),
        cell(m.previous_as_of.as_deref().unwrap_or("unknown")),
        format_count(m.moved_up as u64),
        format_count(m.moved_down as u64),
        format_count(m.unchanged as u64),
        format_count(m.new_customers as u64),
        format_count(m.gone_customers as u64),
    )?;
    let mut tables = vec![("Segments", &m.segments), ("ABC classes", &m.abc)];
    if let Some(c) = &m.clusters {
        tables.push(("Clusters", c));
    }
    for (title, t) in tables {
        writeln!(out, "### {title}\n")?;
        write!(out, "| previous \\ current |")?;
        for c in &t.to {
            write!(out, " {} |", cell(c))?;
        }
        write!(out, "\n| --- |")?;
        for _ in &t.to {
            write!(out, " ---: |")?;
        }
        writeln!(out)?;
        for (i, from) in t.from.iter().enumerate() {
            write!(out, "| {} |", cell(from))?;
            for j in 0..t.to.len() {
                match t.customers[i][j] {
                    0 => write!(out, " |")?,
                    n => write!(
                        out,
                        " {} ({}) |",
                        format_count(n as u64),
                        format_money(t.revenue[i][j])
                    )?,
                }
            }
            writeln!(out)?;
        }
        writeln!(out)?;
    }
    Ok(())
}

fn render_rows(out: &mut String, s: &Summary) -> std::fmt::Result {
    writeln!(out, "## Rows\n")?;
    out.push_str(&rows_markdown(&s.rows));
    Ok(())
}

/// The row reconciliation as a Markdown table and a checking sentence.
pub fn rows_markdown(r: &RowReconciliation) -> String {
    let mut out = String::new();
    let _ = rows_into(&mut out, r);
    out
}

fn rows_into(out: &mut String, r: &RowReconciliation) -> std::fmt::Result {
    let share = |n: u64| {
        format_share(if r.input_rows == 0 {
            0.0
        } else {
            n as f64 / r.input_rows as f64
        })
    };
    writeln!(out, "| rows | count | share |\n| --- | ---: | ---: |")?;
    writeln!(
        out,
        "| input | {} | {} |",
        format_count(r.input_rows),
        share(r.input_rows)
    )?;
    writeln!(
        out,
        "| used | {} | {} |",
        format_count(r.used_rows),
        share(r.used_rows)
    )?;
    for e in &r.excluded {
        writeln!(
            out,
            "| excluded: {} | {} | {} |",
            e.reason.as_str(),
            format_count(e.rows),
            share(e.rows)
        )?;
    }
    for e in &r.rejected {
        writeln!(
            out,
            "| rejected: {} | {} | {} |",
            e.reason.as_str(),
            format_count(e.rows),
            share(e.rows)
        )?;
    }
    writeln!(
        out,
        "\n{} = {} used + {} excluded + {} rejected: {}.\n",
        format_count(r.input_rows),
        format_count(r.used_rows),
        format_count(r.excluded_rows()),
        format_count(r.rejected_rows()),
        if r.balances() {
            "every row accounted for"
        } else {
            "MISMATCH"
        }
    )
}

fn render_scores(out: &mut String, s: &Summary) -> std::fmt::Result {
    writeln!(out, "## RFM scores\n")?;
    writeln!(
        out,
        "A value falls in bin 1 + (number of cut points below it); recency scores run the other way, so the most recent customers score {}.\n",
        s.settings.bins
    )?;
    writeln!(
        out,
        "| measure | cut points | empty scores |\n| --- | --- | --- |"
    )?;
    for m in &s.rfm {
        let cuts: Vec<String> = m.cut_points.iter().map(|c| format_number(*c)).collect();
        let unit = if m.binning == Binning::Rank {
            " (ranks)"
        } else {
            ""
        };
        let empty = if m.empty_scores.is_empty() {
            "none".to_string()
        } else {
            m.empty_scores
                .iter()
                .map(u8::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        };
        writeln!(
            out,
            "| {} | {}{unit} | {empty} |",
            m.measure.column(),
            cuts.join(", ")
        )?;
    }
    writeln!(out)?;
    write!(out, "| score |")?;
    for m in &s.rfm {
        write!(out, " {} range | customers |", m.measure.column())?;
    }
    write!(out, "\n| ---: |")?;
    for _ in &s.rfm {
        write!(out, " --- | ---: |")?;
    }
    writeln!(out)?;
    for score in (1..=s.settings.bins as u8).rev() {
        write!(out, "| {score} |")?;
        for m in &s.rfm {
            let bin = &m.scores[score as usize - 1];
            let range = match (bin.min, bin.max) {
                (Some(a), Some(b)) if a == b => format_number(a),
                (Some(a), Some(b)) => format!("{} – {}", format_number(a), format_number(b)),
                _ => "–".to_string(),
            };
            write!(out, " {range} | {} |", format_count(bin.customers as u64))?;
        }
        writeln!(out)?;
    }
    writeln!(out)?;
    for note in s.rfm.iter().filter_map(|m| m.note.as_ref()) {
        writeln!(out, "- {}", cell(note))?;
    }
    if s.rfm.iter().any(|m| m.note.is_some()) {
        writeln!(out)?;
    }
    Ok(())
}

fn render_segments(out: &mut String, s: &Summary) -> std::fmt::Result {
    writeln!(out, "## Segments\n")?;
    writeln!(
        out,
        "| segment | customers | % customers | revenue | % revenue | mean recency (days) | mean frequency | mean monetary |"
    )?;
    writeln!(out, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")?;
    let or_dash = |x: Option<f64>, f: &dyn Fn(f64) -> String| x.map_or("–".to_string(), f);
    for g in &s.segments {
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            cell(&g.segment),
            format_count(g.customers as u64),
            format_share(g.customer_share),
            format_money(g.revenue),
            format_share(g.revenue_share),
            or_dash(g.mean_recency_days, &|x| format!("{x:.1}")),
            or_dash(g.mean_frequency, &|x| format!("{x:.2}")),
            or_dash(g.mean_monetary, &format_money)
        )?;
    }
    writeln!(out)?;
    for w in &s.segment_rule_warnings {
        writeln!(out, "- warning: {}", cell(w))?;
    }
    if !s.segment_rule_warnings.is_empty() {
        writeln!(out)?;
    }
    Ok(())
}

fn render_abc(out: &mut String, s: &Summary) -> std::fmt::Result {
    out.push_str(&abc_markdown(
        &s.abc,
        s.settings.abc_basis,
        &s.settings.abc_splits,
    ));
    Ok(())
}

/// The ABC section: classes with customers, revenue and the textbook expectation.
pub fn abc_markdown(classes: &[AbcClassSummary], basis: AbcBasis, splits: &[f64]) -> String {
    let mut out = String::new();
    let _ = abc_into(&mut out, classes, basis, splits);
    out
}

fn abc_into(
    out: &mut String,
    classes: &[AbcClassSummary],
    basis: AbcBasis,
    splits: &[f64],
) -> std::fmt::Result {
    let splits: Vec<String> = splits.iter().map(|x| format_number(*x)).collect();
    let basis = match basis {
        AbcBasis::Customers => "share of customers",
        AbcBasis::Revenue => "share of cumulative revenue (Pareto)",
    };
    writeln!(out, "## ABC tiers\n")?;
    writeln!(out, "Classes by {basis}, splits {} %.\n", splits.join(" / "))?;
    writeln!(
        out,
        "| class | customers | % customers | revenue | % revenue | textbook % customers | textbook % revenue |"
    )?;
    writeln!(out, "| --- | ---: | ---: | ---: | ---: | ---: | ---: |")?;
    for a in classes {
        let textbook = |x: Option<f64>| x.map_or("–".to_string(), format_share);
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            a.class,
            format_count(a.customers as u64),
            format_share(a.customer_share),
            format_money(a.revenue),
            format_share(a.revenue_share),
            textbook(a.textbook_customer_share),
            textbook(a.textbook_revenue_share)
        )?;
    }
    writeln!(out)
}

/// The clusters section: how k was chosen, quality, the k sweep and the profile table.
pub fn clusters_markdown(c: &ClusterSummary) -> String {
    let mut out = String::new();
    let _ = clusters_into(&mut out, c);
    out
}

fn clusters_into(out: &mut String, c: &ClusterSummary) -> std::fmt::Result {
    let t = &c.transform;
    writeln!(out, "## Clusters\n")?;
    let chosen = match &c.chosen_by {
        KChosenBy::Given => "k given".to_string(),
        KChosenBy::InertiaKnee { min, max } => {
            format!("k chosen by the knee of the inertia curve over k = {min}..={max}")
        }
        KChosenBy::SavedModel => "clusters of a saved model".to_string(),
    };
    let transform = match t.transform {
        Transform::None => "no transform",
        Transform::Log1p => "log1p (sign(x)·ln(1+|x|))",
    };
    let scale = match t.scale {
        Scale::None => "no scaling",
        Scale::Standard => "z-score",
        Scale::Robust => "median / IQR scaling",
    };
    writeln!(
        out,
        "k-means on {} ({transform}, then {scale}); {} clusters, {chosen}. Cluster 0 has the highest mean monetary value.\n",
        t.features.join(", "),
        c.k
    )?;
    let q = &c.quality;
    writeln!(
        out,
        "Inertia (sum of squared distances, scaled units) {:.1}; silhouette {:.3} (on {} customers); \
         Calinski-Harabasz {:.1}; Davies-Bouldin {:.3}.\n",
        q.inertia,
        q.silhouette,
        format_count(q.silhouette_customers as u64),
        q.calinski_harabasz,
        q.davies_bouldin
    )?;
    if !c.sweep.is_empty() {
        sweep_into(out, c)?;
    }
    cluster_profiles_into(out, c)
}

/// The k sweep of `--k auto`: every k's measures, its height below the inertia chord, and what
/// each rule would choose.
fn sweep_into(out: &mut String, c: &ClusterSummary) -> std::fmt::Result {
    writeln!(
        out,
        "| k | inertia | below chord | silhouette | Calinski-Harabasz | Davies-Bouldin |"
    )?;
    writeln!(out, "| ---: | ---: | ---: | ---: | ---: | ---: |")?;
    let heights = c.alternatives.as_ref().map(|a| a.knee_heights.as_slice());
    for (i, s) in c.sweep.iter().enumerate() {
        let mark = if s.k == c.k { " **(chosen)**" } else { "" };
        let height = heights
            .and_then(|h| h.get(i))
            .map_or("–".to_string(), |h| format!("{h:.3}"));
        writeln!(
            out,
            "| {}{mark} | {:.1} | {height} | {:.3} | {:.1} | {:.3} |",
            s.k, s.inertia, s.silhouette, s.calinski_harabasz, s.davies_bouldin
        )?;
    }
    writeln!(out)?;
    if let Some(a) = &c.alternatives {
        writeln!(
            out,
            "Other rules would choose: k = {} (highest silhouette), k = {} (highest \
             Calinski-Harabasz), k = {} (lowest Davies-Bouldin).\n",
            a.silhouette, a.calinski_harabasz, a.davies_bouldin
        )?;
    }
    Ok(())
}

/// The profile table: size, share and description of each cluster, and the mean, median and
/// centre of each feature.
fn cluster_profiles_into(out: &mut String, c: &ClusterSummary) -> std::fmt::Result {
    let t = &c.transform;
    write!(
        out,
        "| cluster | customers | % customers | % revenue | description |"
    )?;
    for f in &t.features {
        write!(out, " {} mean | median | centre |", cell(f))?;
    }
    write!(out, "\n| ---: | ---: | ---: | ---: | --- |")?;
    for _ in &t.features {
        write!(out, " ---: | ---: | ---: |")?;
    }
    writeln!(out)?;
    let num = |x: Option<f64>| x.map_or("–".to_string(), format_number);
    for p in &c.profiles {
        write!(
            out,
            "| {} | {} | {} | {} | {} |",
            p.cluster,
            format_count(p.customers as u64),
            format_share(p.customer_share),
            p.revenue_share.map_or("–".to_string(), format_share),
            cell(&p.description)
        )?;
        for f in &p.features {
            write!(
                out,
                " {} | {} | {} |",
                num(f.mean.map(round2)),
                num(f.median.map(round2)),
                format_number(round2(f.centroid))
            )?;
        }
        writeln!(out)?;
    }
    writeln!(out)
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// The lifetime-value section: models, parameters with standard errors, customer equity,
/// lifecycle stages and the holdout check.
pub fn clv_markdown(c: &ClvSummary) -> String {
    let mut out = String::new();
    let _ = clv_into(&mut out, c);
    out
}

fn clv_into(out: &mut String, c: &ClvSummary) -> std::fmt::Result {
    let p = &c.params;
    let f = &c.facts;
    let unit = p.time_unit().name();
    let model = c.model.transactions.label();
    writeln!(out, "## Lifetime value\n")?;
    writeln!(
        out,
        "{model} (purchases and dropout) and Gamma-Gamma (spend), fitted on {} customers ({} repeat buyers) \
         with purchases up to {}; times in {unit}s; horizon {} {unit}s, {} monthly discount, margin {}.{}\n",
        format_count(f.customers as u64),
        format_count(f.repeat_buyers as u64),
        f.calibration_end,
        format_number(p.horizon()),
        format_share(p.discount()),
        format_number(p.margin()),
        if f.first_purchase_after_calibration > 0 {
            format!(
                " {} customers whose first purchase is after the calibration end are not included.",
                format_count(f.first_purchase_after_calibration as u64)
            )
        } else {
            String::new()
        }
    )?;
    writeln!(
        out,
        "**Customer equity: {}** (Σ CLV).\n",
        format_money(c.customer_equity)
    )?;
    clv_diagnostics_into(out, c)?;
    if let Some(comparison) = &c.model.comparison {
        clv_comparison_into(out, comparison)?;
    }
    clv_fits_into(out, c, model)?;
    writeln!(
        out,
        "| lifecycle stage | customers | CLV |\n| --- | ---: | ---: |"
    )?;
    for s in &c.stages {
        writeln!(
            out,
            "| {} | {} | {} |",
            s.stage,
            format_count(s.customers as u64),
            format_money(s.clv)
        )?;
    }
    writeln!(out)?;
    if let Some(text) = super::evaluation::unmodelled_sentence(c) {
        writeln!(out, "{text}\n")?;
    }
    if let Some(h) = &c.holdout {
        clv_holdout_into(out, h, unit, f.calibration_end)?;
        super::evaluation::churn_markdown(out, &h.churn)?;
    }
    Ok(())
}

/// The diagnostics, one paragraph each, code first.
fn clv_diagnostics_into(out: &mut String, c: &ClvSummary) -> std::fmt::Result {
    for d in &c.diagnostics {
        writeln!(out, "**Warning `{}`**: {}\n", d.code.name(), d.message)?;
    }
    Ok(())
}

/// `--clv-model auto`'s table: every model, its fit and holdout error, and the one chosen.
fn clv_comparison_into(out: &mut String, m: &ModelComparison) -> std::fmt::Result {
    let by = match m.criterion {
        Criterion::HoldoutRmse => "the lowest root mean squared error of per-customer holdout purchases",
        Criterion::Bic => "the lowest BIC (no holdout)",
    };
    writeln!(out, "Model chosen by {by}:\n")?;
    writeln!(
        out,
        "| model | parameters | log-likelihood | BIC | holdout RMSE | holdout predicted / actual | chosen |\n\
         | --- | --- | ---: | ---: | ---: | ---: | --- |"
    )?;
    let num = |v: Option<f64>, decimals: usize| v.map_or("–".to_string(), |v| format!("{v:.decimals$}"));
    for row in &m.models {
        let totals = match (row.holdout_predicted, row.holdout_actual) {
            (Some(p), Some(a)) => format!("{p:.1} / {}", format_number(a)),
            _ => "–".to_string(),
        };
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {totals} | {} |",
            row.model,
            row.error
                .as_ref()
                .map_or_else(|| row.described_params(), |e| format!("failed: {}", cell(e))),
            num(row.log_likelihood, 2),
            num(row.bic, 2),
            num(row.holdout_rmse, 4),
            if row.chosen { "**yes**" } else { "" }
        )?;
    }
    writeln!(out)
}

/// The parameters of both fits with their standard errors, their log-likelihoods and notes.
fn clv_fits_into(out: &mut String, c: &ClvSummary, model: &str) -> std::fmt::Result {
    writeln!(
        out,
        "| model | parameter | estimate | standard error |\n| --- | --- | ---: | ---: |"
    )?;
    for (name, fit) in [
        (model, &c.model.transaction_fit),
        ("Gamma-Gamma", &c.model.spend_fit),
    ] {
        for ((param, value), se) in fit.names.iter().zip(&fit.params).zip(&fit.std_errors) {
            let se = se.map_or("–".to_string(), |s| format!("{s:.4}"));
            writeln!(out, "| {name} | {param} | {value:.4} | {se} |")?;
        }
    }
    writeln!(
        out,
        "\nLog-likelihood: {model} {:.2} ({} iterations), Gamma-Gamma {:.2} ({} iterations){}.\n",
        c.model.transaction_fit.log_likelihood,
        c.model.transaction_fit.iterations,
        c.model.spend_fit.log_likelihood,
        c.model.spend_fit.iterations,
        if c.model.spend_excluded > 0 {
            format!(
                "; {} repeat buyers whose repeat purchases net to ≤ 0 are left out of the spend fit",
                c.model.spend_excluded
            )
        } else {
            String::new()
        }
    )?;
    for note in c
        .model
        .transaction_fit
        .notes
        .iter()
        .map(|n| (model, n))
        .chain(c.model.spend_fit.notes.iter().map(|n| ("Gamma-Gamma", n)))
    {
        writeln!(out, "Note on the {} fit: {}.\n", note.0, note.1)?;
    }
    if let Some(rho) = c.model.spend_frequency_correlation {
        writeln!(
            out,
            "Correlation of frequency and mean spend among the repeat buyers (Pearson): {rho:.3} (Gamma-Gamma \
             assumes none; a warning above {}).\n",
            crate::clv::diagnostics::SPEND_FREQUENCY_CORRELATION
        )?;
    }
    Ok(())
}

/// The holdout check: purchases actual and predicted after the calibration end, overall and
/// by calibration frequency.
fn clv_holdout_into(
    out: &mut String,
    h: &HoldoutCheck,
    unit: &str,
    calibration_end: chrono::NaiveDate,
) -> std::fmt::Result {
    writeln!(
        out,
        "Holdout check, {} {unit}s after {}: {} repeat purchases actual, {:.1} predicted; mean absolute \
         error {:.3} per customer.\n",
        format_number(h.length),
        calibration_end,
        format_number(h.actual_total),
        h.predicted_total,
        h.mean_absolute_error
    )?;
    writeln!(
        out,
        "| calibration frequency | customers | actual mean | predicted mean |\n| ---: | ---: | ---: | ---: |"
    )?;
    for g in &h.by_frequency {
        writeln!(
            out,
            "| {} | {} | {:.3} | {:.3} |",
            g.frequency,
            format_count(g.customers as u64),
            g.actual_mean,
            g.predicted_mean
        )?;
    }
    writeln!(out)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_formatted_for_people() {
        assert_eq!(format_count(0), "0");
        assert_eq!(format_count(999), "999");
        assert_eq!(format_count(541909), "541,909");
        assert_eq!(format_count(1234567), "1,234,567");
        assert_eq!(format_money(8911407.904), "8,911,407.90");
        assert_eq!(format_money(-5.5), "-5.50");
        assert_eq!(format_share(0.05123), "5.1 %");
        assert_eq!(format_number(32.5), "32.5");
        assert_eq!(format_number(13.0), "13");
        assert_eq!(format_number(1.0 / 3.0), "0.3333");
    }

    #[test]
    fn table_cells_cannot_break_tables() {
        assert_eq!(cell("a|b\nc"), "a\\|b c");
    }
}
