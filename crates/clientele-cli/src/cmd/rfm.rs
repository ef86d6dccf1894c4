//! `clientele rfm`: customers with RFM scores and segments.

use std::process::ExitCode;

use crate::args::{GlobalArgs, InputArgs};
use crate::outputs::Outputs;
use crate::settings::{self, Flags};

/// Runs the subcommand.
pub fn run(g: &GlobalArgs, a: &InputArgs) -> anyhow::Result<ExitCode> {
    let settings = settings::settings(g, Flags::default())?;
    let mut outputs = Outputs::check(g, Some(&settings), Some(&a.input), Vec::new())?;
    let job = settings.check()?;
    let (tx, table) = super::aggregate_customers(g, &job, &a.input)?;
    let scored = clientele::rfm::score(&table.frame, &job.rfm, &job.rules)?;
    note_scoring(g, &scored);
    outputs.table(&scored.frame)?;
    outputs.rejects(&tx, &job.policy)?;
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
