//! The parts of the reports that evaluate lifetime value: the churn evaluation of a holdout
//! (AUC, gains and calibration by decile), the customers staged without a prediction, and where
//! lifecycle stages and RFM segments disagree. Markdown and HTML from the same numbers.

use std::fmt::Write;

use super::html::escape;
use crate::clv::churn::ChurnEvaluation;
use crate::clv::{ClvSummary, lifecycle};
use crate::format::{format_count, format_share};
use crate::summary::Summary;

fn auc_text(auc: Option<f64>) -> String {
    auc.map_or("undefined (everyone or no one churned)".to_string(), |a| {
        format!("{a:.3}")
    })
}

/// One sentence on the AUCs, with a warning when P(alive) ranks worse than chance.
fn auc_sentence(c: &ChurnEvaluation) -> String {
    let mut text = format!(
        "Churn (no purchase in the holdout): {} of {} customers. AUC of P(alive) for buying in the holdout: {}; \
         of the expected holdout purchases: {}; of the purchase rhythm (time since the last purchase over the \
         customer's mean time between purchases, lower is better): {}.",
        format_count(c.churned as u64),
        format_count((c.churned + c.holdout_buyers) as u64),
        auc_text(c.auc),
        auc_text(c.auc_expected_purchases),
        auc_text(c.auc_rhythm),
    );
    if c.auc.is_some_and(|a| a < 0.5) {
        text.push_str(
            " P(alive) ranks worse than chance here: the model gives customers without repeat purchases (or \
             everyone, when its dropout sits at a boundary) P(alive) near 1, and those buy again least often; \
             the lifecycle stages therefore also use the purchase rhythm.",
        );
    }
    text
}

/// The churn evaluation as Markdown: the AUCs, the gains table and the calibration table.
pub(super) fn churn_markdown(out: &mut String, c: &ChurnEvaluation) -> std::fmt::Result {
    writeln!(out, "{}\n", auc_sentence(c))?;
    writeln!(
        out,
        "| P(alive) decile | customers | P(alive) from | to | holdout buyers | buyer rate | cumulative gain | lift | cumulative lift |\n\
         | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    )?;
    for g in &c.gains {
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {:.2} | {:.2} |",
            g.decile,
            format_count(g.customers as u64),
            p_alive(g.p_alive_min),
            p_alive(g.p_alive_max),
            format_count(g.holdout_buyers as u64),
            format_share(g.buyer_rate),
            format_share(g.cumulative_gain),
            g.lift,
            g.cumulative_lift
        )?;
    }
    writeln!(
        out,
        "\n| expected-purchases decile | customers | expected mean | actual mean |\n| ---: | ---: | ---: | ---: |"
    )?;
    for r in &c.calibration {
        writeln!(
            out,
            "| {} | {} | {:.3} | {:.3} |",
            r.decile,
            format_count(r.customers as u64),
            r.predicted_mean,
            r.actual_mean
        )?;
    }
    writeln!(
        out,
        "\nDeciles: customers sorted by the score, highest first; equal scores share a decile, so deciles can \
         be uneven or missing.\n"
    )
}

/// P(alive) with enough digits to tell values near 1 apart.
fn p_alive(p: f64) -> String {
    if p > 0.999 && p < 1.0 {
        format!("1 − {:.1e}", 1.0 - p)
    } else {
        format!("{p:.3}")
    }
}

/// The churn evaluation as HTML.
pub(super) fn churn_html(out: &mut String, c: &ChurnEvaluation) -> std::fmt::Result {
    writeln!(
        out,
        "<h3>Churn in the holdout</h3><p class=\"note\">{}</p>",
        escape(&auc_sentence(c))
    )?;
    writeln!(
        out,
        "<div class=\"charts\"><table><tr><th>P(alive) decile</th><th>customers</th><th>P(alive) from</th><th>to</th>\
         <th>holdout buyers</th><th>buyer rate</th><th>cumulative gain</th><th>lift</th><th>cumulative lift</th></tr>"
    )?;
    for g in &c.gains {
        writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.2}</td><td>{:.2}</td></tr>",
            g.decile,
            format_count(g.customers as u64),
            escape(&p_alive(g.p_alive_min)),
            escape(&p_alive(g.p_alive_max)),
            format_count(g.holdout_buyers as u64),
            format_share(g.buyer_rate),
            format_share(g.cumulative_gain),
            g.lift,
            g.cumulative_lift
        )?;
    }
    writeln!(
        out,
        "</table><table><tr><th>expected-purchases decile</th><th>customers</th><th>expected mean</th><th>actual mean</th></tr>"
    )?;
    for r in &c.calibration {
        writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{:.3}</td><td>{:.3}</td></tr>",
            r.decile,
            format_count(r.customers as u64),
            r.predicted_mean,
            r.actual_mean
        )?;
    }
    writeln!(
        out,
        "</table></div><p class=\"note\">Deciles: customers sorted by the score, highest first; equal scores share a \
         decile, so deciles can be uneven or missing.</p>"
    )
}

/// The sentence on customers staged `new` without a prediction, if any.
pub(super) fn unmodelled_sentence(c: &ClvSummary) -> Option<String> {
    let n: usize = c.stages.iter().map(|s| s.first_purchase_after_calibration).sum();
    (n > 0).then(|| {
        format!(
            "The stage {} includes {} customers whose first purchase is after the calibration end {}: they \
             have no prediction (P(alive), CLV) and count in no total.",
            lifecycle::STAGES[lifecycle::NEW],
            format_count(n as u64),
            c.facts.calibration_end
        )
    })
}

/// Where lifecycle stages and RFM segments disagree, as Markdown.
pub(super) fn disagreements_markdown(out: &mut String, s: &Summary) -> std::fmt::Result {
    let Some(list) = s.lifecycle_vs_rfm.as_ref().filter(|l| !l.is_empty()) else {
        return Ok(());
    };
    writeln!(out, "### Lifecycle stages and RFM segments\n")?;
    for d in list {
        writeln!(out, "- {}", d.explanation.replace('|', "\\|"))?;
    }
    writeln!(out)
}

/// Where lifecycle stages and RFM segments disagree, as HTML.
pub(super) fn disagreements_html(out: &mut String, s: &Summary) -> std::fmt::Result {
    let Some(list) = s.lifecycle_vs_rfm.as_ref().filter(|l| !l.is_empty()) else {
        return Ok(());
    };
    writeln!(
        out,
        "<h3>Lifecycle stages and RFM segments</h3><ul class=\"note\">"
    )?;
    for d in list {
        writeln!(out, "<li>{}</li>", escape(&d.explanation))?;
    }
    writeln!(out, "</ul>")
}
