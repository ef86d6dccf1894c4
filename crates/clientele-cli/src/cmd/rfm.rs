//! `clientele rfm`: customers with RFM scores and segments.

use std::process::ExitCode;

use crate::args::{GlobalArgs, InputArgs};
use crate::outputs::Outputs;

/// Runs the subcommand.
pub fn run(g: &GlobalArgs, a: &InputArgs) -> anyhow::Result<ExitCode> {
    let policy = super::row_policy(g)?;
    let mut outputs = Outputs::check(g, Some((&a.input, &super::ingest_options(g)?)), Vec::new())?;
    let params = super::rfm_params(g)?.check()?;
    let rules = super::segment_rules(g)?;
    rules.check(params.bins())?;
    let (tx, table) = super::aggregate_customers(g, &a.input, &policy)?;
    let scored = clientele::rfm::score(&table.frame, &params, &rules)?;
    note_scoring(g, &scored);
    outputs.table(&scored.frame)?;
    outputs.rejects(&tx, &policy)?;
    outputs.commit()?;
    Ok(ExitCode::SUCCESS)
}

/// Prints the cut points, empty scores and rule warnings on stderr.
pub fn note_scoring(g: &GlobalArgs, scored: &clientele::rfm::RfmScored) {
    for m in &scored.scoring {
        let cuts: Vec<String> = m
            .cut_points
            .iter()
            .map(|c| clientele::rfm::score::format_number(*c))
            .collect();
        super::note(
            g,
            &format!("{}: cut points {}", m.measure.column(), cuts.join(", ")),
        );
        if let Some(note) = &m.note {
            super::note(g, &format!("  empty scores: {note}"));
        }
    }
    for warning in &scored.segments.warnings {
        super::note(g, &format!("warning: {warning}"));
    }
}
