//! The cohort retention heat map of the HTML report: one row per cohort, one column per period
//! offset, each cell coloured by the share of the cohort that bought in that period.

use std::fmt::Write;

use plotters::prelude::*;

use super::{escape, svg_chart};
use crate::cohorts::CohortTable;
use crate::format::{format_count, format_money};
use crate::settings::Choice;
use crate::summary::Summary;

/// Cells per side above which the cells get no text (too small to read).
const LABELLED_CELLS: usize = 18;

/// The colour of a retention share: white at 0, dark blue at the largest share after the
/// cohort's own period (offset 0 is 100 % by definition and would wash out the rest).
fn shade(share: f64, top: f64) -> (RGBColor, RGBColor) {
    let t = if top > 0.0 {
        (share / top).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let fill = RGBColor(
        (247.0 - 211.0 * t) as u8,
        (251.0 - 192.0 * t) as u8,
        (255.0 - 172.0 * t) as u8,
    );
    (fill, if t > 0.55 { WHITE } else { BLACK })
}

fn heatmap_svg(table: &CohortTable) -> String {
    let rows = table.cohorts.len().max(1);
    let columns = table.cohorts.iter().map(|c| c.retention.len()).max().unwrap_or(1);
    let top = table
        .cohorts
        .iter()
        .flat_map(|c| c.retention.iter().skip(1))
        .copied()
        .fold(0.0, f64::max);
    let cell = (640 / columns.max(rows)).clamp(8, 46) as u32;
    let (width, height) = (cell * columns as u32 + 130, cell * rows as u32 + 90);
    let labels: Vec<String> = table.cohorts.iter().map(|c| c.cohort.clone()).collect();
    svg_chart(width, height, |root| {
        let _ = root.fill(&WHITE);
        let Ok(mut chart) = ChartBuilder::on(&root)
            .caption(
                format!(
                    "Share of each cohort buying, by {} since the first purchase",
                    table.period.name()
                ),
                ("sans-serif", 15),
            )
            .margin(10)
            .x_label_area_size(34)
            .y_label_area_size(86)
            .build_cartesian_2d(-0.5f64..columns as f64 - 0.5, rows as f64 - 0.5..-0.5f64)
        else {
            return;
        };
        let _ = chart
            .configure_mesh()
            .disable_mesh()
            .x_desc(format!("{}s since the first purchase", table.period.name()))
            .x_labels(columns.min(LABELLED_CELLS))
            .y_labels(rows.min(40))
            .x_label_formatter(&|v| format!("{v:.0}"))
            .y_label_formatter(&|v| {
                let i = v.round();
                if (v - i).abs() < 0.01 && i >= 0.0 {
                    labels.get(i as usize).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .draw();
        let text = columns <= LABELLED_CELLS && rows <= LABELLED_CELLS * 2;
        for (r, c) in table.cohorts.iter().enumerate() {
            for (k, share) in c.retention.iter().enumerate() {
                let (x, y) = (k as f64, r as f64);
                let (fill, ink) = shade(*share, top);
                let _ = chart.draw_series(std::iter::once(Rectangle::new(
                    [(x - 0.48, y - 0.48), (x + 0.48, y + 0.48)],
                    fill.filled(),
                )));
                if text {
                    let _ = chart.draw_series(std::iter::once(Text::new(
                        format!("{:.0}", share * 100.0),
                        (x - 0.3, y - 0.2),
                        ("sans-serif", 10).into_font().color(&ink),
                    )));
                }
            }
        }
    })
}

/// The cohort section: the heat map, and per cohort its size, the retention one period after
/// the first and the revenue per customer to date.
pub(super) fn section(out: &mut String, s: &Summary) -> std::fmt::Result {
    let Some(table) = &s.cohorts else {
        return Ok(());
    };
    let unit = table.period.name();
    writeln!(
        out,
        "<section id=\"cohorts\"><h2>Cohort retention (by {unit} of the first purchase)</h2><div class=\"charts\">{}",
        heatmap_svg(table)
    )?;
    writeln!(
        out,
        "<table><tr><th class=\"l\">cohort</th><th>customers</th><th>bought the next {unit}</th>\
         <th>revenue per customer to date</th></tr>"
    )?;
    for c in &table.cohorts {
        let next = c
            .retention
            .get(1)
            .map_or("–".to_string(), |r| format!("{:.1} %", r * 100.0));
        writeln!(
            out,
            "<tr><td class=\"l\">{}</td><td>{}</td><td>{next}</td><td>{}</td></tr>",
            escape(&c.cohort),
            format_count(c.customers as u64),
            format_money(c.revenue_per_customer.iter().sum())
        )?;
    }
    writeln!(
        out,
        "</table></div><p class=\"note\">A cell is the share (%) of the cohort's customers with a purchase in \
         that {unit}; column 0 is the cohort's own {unit} (100 %). The last {unit}, {}, may be partly covered by \
         the data. Revenue per cohort customer per {unit} is in summary.json (<code>cohorts</code>) and in the \
         table of <code>--cohorts FILE</code>.</p></section>",
        escape(&table.last_period)
    )
}
