//! `clientele rules`: check segment rules, or print the built-in ones.

use std::collections::BTreeMap;
use std::process::ExitCode;

use clientele::presets::Preset;
use clientele::rfm::{BUILTIN_RULES_TOML, RFM_R_RULES_TOML};

use crate::args::{GlobalArgs, RulesArgs};
use crate::settings::{self, Flags};

/// Runs the subcommand: exits 2 when the rules leave score cells without a segment.
pub fn run(g: &GlobalArgs, a: &RulesArgs) -> anyhow::Result<ExitCode> {
    let settings = settings::settings(g, Flags::default())?;
    if a.show_builtin {
        // With --preset rfm-r, its built-in rules: R rfm's segments.
        match settings.preset {
            Some(Preset::RfmR) => print!("{RFM_R_RULES_TOML}"),
            _ => print!("{BUILTIN_RULES_TOML}"),
        }
        return Ok(ExitCode::SUCCESS);
    }
    let job = settings.check()?;
    let bins = job.rfm.bins();
    let map = job.rules.check(bins)?;
    let frame = map.cell_frame()?;
    let segments = frame.column("segment")?.str()?;
    let mut cells: BTreeMap<usize, (String, Vec<String>)> = BTreeMap::new();
    let cell_names = frame.column("rfm_cell")?.str()?;
    for (segment, cell) in segments.iter().zip(cell_names.iter()) {
        let (segment, cell) = (segment.unwrap_or_default(), cell.unwrap_or_default());
        let index = map.names.iter().position(|n| n == segment).unwrap_or(usize::MAX);
        cells
            .entry(index)
            .or_insert_with(|| (segment.to_string(), Vec::new()))
            .1
            .push(cell.to_string());
    }
    println!(
        "{}: every one of the {} score cells (bins = {bins}) has a segment",
        map.origin,
        bins.pow(3)
    );
    println!();
    println!("| segment | cells | examples |\n| --- | ---: | --- |");
    for (name, list) in cells.values() {
        let examples: Vec<&str> = list.iter().take(8).map(String::as_str).collect();
        let more = if list.len() > examples.len() { ", ..." } else { "" };
        println!("| {name} | {} | {}{more} |", list.len(), examples.join(", "));
    }
    for warning in &map.warnings {
        println!("\nwarning: {warning}");
    }
    Ok(ExitCode::SUCCESS)
}
