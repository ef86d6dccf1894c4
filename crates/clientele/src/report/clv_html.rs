//! The HTML of the lifetime-value diagnostics and of `--clv-model auto`'s comparison.

use std::fmt::Write;

use super::html::escape;
use crate::clv::choose::Criterion;
use crate::clv::{ClvSummary, ModelComparison};

/// A box per diagnostic, code first, before the section's charts (inline styles: the page's
/// style sheet stays as it is for reports without them).
pub(super) fn diagnostics(out: &mut String, c: &ClvSummary) -> std::fmt::Result {
    for d in &c.diagnostics {
        writeln!(
            out,
            "<div class=\"diagnostic\" style=\"border-left:4px solid #ba2525;background:#fff5f5;padding:8px 12px;\
             margin:8px 0;font-size:13px\"><b>Warning <code>{}</code></b>: {}</div>",
            d.code.name(),
            escape(&d.message)
        )?;
    }
    Ok(())
}

/// The models `auto` compared: parameters, log-likelihood, BIC, holdout error, and the choice.
pub(super) fn comparison(out: &mut String, m: &ModelComparison) -> std::fmt::Result {
    let by = match m.criterion {
        Criterion::HoldoutRmse => "the lowest root mean squared error of per-customer holdout purchases",
        Criterion::Bic => "the lowest BIC (no holdout)",
    };
    writeln!(
        out,
        "<h3>Model comparison</h3><p class=\"note\">Chosen by {by}.</p><table><tr><th class=\"l\">model</th>\
         <th class=\"l\">parameters</th><th>log-likelihood</th><th>BIC</th><th>holdout RMSE</th>\
         <th>holdout predicted</th><th>holdout actual</th><th class=\"l\">chosen</th></tr>"
    )?;
    let num = |v: Option<f64>, decimals: usize| v.map_or("–".to_string(), |v| format!("{v:.decimals$}"));
    for row in &m.models {
        let params = match &row.error {
            Some(e) => format!("failed: {}", escape(e)),
            None => row.described_params(),
        };
        writeln!(
            out,
            "<tr><td class=\"l\">{}</td><td class=\"l\">{params}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td>{}</td><td class=\"l\">{}</td></tr>",
            row.model,
            num(row.log_likelihood, 2),
            num(row.bic, 2),
            num(row.holdout_rmse, 4),
            num(row.holdout_predicted, 1),
            num(row.holdout_actual, 0),
            if row.chosen { "<b>yes</b>" } else { "" }
        )?;
    }
    writeln!(out, "</table>")
}
