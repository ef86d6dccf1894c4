//! The self-contained HTML report: one file, inline CSS and SVG charts (drawn with plotters),
//! no script, no network. A Content-Security-Policy forbids loading anything, and every value
//! that comes from the data is escaped.

use std::fmt::Write;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::format::{format_count, format_money, format_share};
use crate::migration::{Migration, Transition};
use crate::rfm::score::format_number;
use crate::summary::Summary;
use crate::summary::charts::Histogram;

mod cohorts;

/// Escapes text for HTML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0;color:#1f2933;background:#f5f7fa}
header{background:#243b53;color:#fff;padding:24px 40px}header h1{margin:0 0 6px;font-size:26px}
header p{margin:0;opacity:.85}main{padding:16px 40px 40px;max-width:1180px}
section{background:#fff;border-radius:8px;box-shadow:0 1px 3px rgba(0,0,0,.12);margin:18px 0;padding:18px 24px}
h2{margin:0 0 12px;font-size:20px;color:#243b53}h3{font-size:16px;margin:16px 0 8px}
.cards{display:flex;flex-wrap:wrap;gap:12px}.card{background:#f0f4f8;border-radius:6px;padding:10px 16px;min-width:150px}
.card b{display:block;font-size:22px;color:#102a43}.card span{font-size:13px;color:#52606d}
table{border-collapse:collapse;font-size:13px;margin:8px 0}th,td{padding:4px 10px;border-bottom:1px solid #e4e7eb;text-align:right}
th{background:#f0f4f8}td.l,th.l{text-align:left}.charts{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}
.note{font-size:13px;color:#52606d}.ok{color:#2f8132}.bad{color:#ba2525}
";

fn svg_chart(
    width: u32,
    height: u32,
    draw: impl FnOnce(DrawingArea<SVGBackend<'_>, plotters::coord::Shift>),
) -> String {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        draw(root);
    }
    svg
}

fn palette(i: usize) -> RGBColor {
    const COLORS: [RGBColor; 10] = [
        RGBColor(36, 59, 83),
        RGBColor(62, 145, 183),
        RGBColor(232, 141, 57),
        RGBColor(47, 129, 50),
        RGBColor(186, 37, 37),
        RGBColor(128, 90, 213),
        RGBColor(99, 107, 47),
        RGBColor(214, 95, 168),
        RGBColor(127, 127, 127),
        RGBColor(23, 190, 207),
    ];
    COLORS[i % COLORS.len()]
}

/// Cumulative revenue against customers, with the ABC cut points.
fn lorenz_svg(s: &Summary) -> String {
    let charts = &s.charts;
    svg_chart(520, 380, |root| {
        let _ = root.fill(&WHITE);
        let Ok(mut chart) = ChartBuilder::on(&root)
            .caption("Cumulative share of revenue", ("sans-serif", 17))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(48)
            .build_cartesian_2d(0f64..1f64, 0f64..1f64)
        else {
            return;
        };
        let percent = |v: &f64| format!("{:.0}%", v * 100.0);
        let _ = chart
            .configure_mesh()
            .x_desc("share of customers (by value, descending)")
            .y_desc("share of revenue")
            .x_label_formatter(&percent)
            .y_label_formatter(&percent)
            .light_line_style(WHITE.mix(0.0))
            .draw();
        let _ = chart.draw_series(LineSeries::new([(0.0, 0.0), (1.0, 1.0)], BLACK.mix(0.25)));
        let _ = chart.draw_series(LineSeries::new(
            charts.lorenz.iter().map(|p| (p[0], p[1])),
            palette(1).stroke_width(3),
        ));
        for (i, cut) in charts.abc_cuts.iter().enumerate() {
            let _ = chart.draw_series(LineSeries::new(
                [(*cut, 0.0), (*cut, 1.0)],
                palette(2).stroke_width(1),
            ));
            let label = s.abc.get(i).map(|a| a.class.as_str()).unwrap_or("");
            let _ = chart.draw_series(std::iter::once(Text::new(
                format!(
                    "{label} | {}",
                    s.abc.get(i + 1).map(|a| a.class.as_str()).unwrap_or("")
                ),
                (*cut + 0.01, 0.08 + 0.06 * i as f64),
                ("sans-serif", 13).into_font().color(&palette(2)),
            )));
        }
    })
}

/// Two bars per segment: share of customers and share of revenue.
fn segments_svg(s: &Summary) -> String {
    let n = s.segments.len().max(1);
    let top = s
        .segments
        .iter()
        .map(|g| g.customer_share.max(g.revenue_share))
        .fold(0.05, f64::max)
        * 1.1;
    svg_chart(620, 40 + 30 * n as u32 + 60, |root| {
        let _ = root.fill(&WHITE);
        let Ok(mut chart) = ChartBuilder::on(&root)
            .caption("Segments: share of customers and of revenue", ("sans-serif", 17))
            .margin(12)
            .x_label_area_size(30)
            .y_label_area_size(150)
            .build_cartesian_2d(0f64..top, 0f64..n as f64)
        else {
            return;
        };
        let _ = chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(0)
            .x_label_formatter(&|v| format!("{:.0}%", v * 100.0))
            .draw();
        let label_font =
            TextStyle::from(("sans-serif", 12).into_font()).pos(Pos::new(HPos::Right, VPos::Center));
        for (i, g) in s.segments.iter().enumerate() {
            // Segment i fills the band (n - i - 1, n - i]: customers above, revenue below.
            let y = (n - i) as f64;
            let bars = [
                Rectangle::new(
                    [(0.0, y - 0.1), (g.customer_share, y - 0.48)],
                    palette(1).filled(),
                ),
                Rectangle::new(
                    [(0.0, y - 0.52), (g.revenue_share.max(0.0), y - 0.9)],
                    palette(2).filled(),
                ),
            ];
            let _ = chart.draw_series(bars);
            // Names go left of the plotting area, which clips what is drawn inside it.
            let (px, py) = chart.backend_coord(&(0.0, y - 0.5));
            let _ = root.draw(&Text::new(g.segment.clone(), (px - 6, py), label_font.clone()));
        }
        let _ = chart.draw_series(std::iter::once(Text::new(
            "■ customers   ",
            (top * 0.62, n as f64 - 0.2),
            ("sans-serif", 13).into_font().color(&palette(1)),
        )));
        let _ = chart.draw_series(std::iter::once(Text::new(
            "■ revenue",
            (top * 0.82, n as f64 - 0.2),
            ("sans-serif", 13).into_font().color(&palette(2)),
        )));
    })
}

/// R × F grid coloured by mean monetary value.
fn heatmap_svg(s: &Summary) -> String {
    let grid = &s.charts.rf_mean_monetary;
    let bins = grid.len().max(1);
    let values: Vec<f64> = grid.iter().flatten().flatten().copied().collect();
    let (lo, hi) = values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(*v), b.max(*v))
        });
    svg_chart(460, 420, |root| {
        let _ = root.fill(&WHITE);
        let Ok(mut chart) = ChartBuilder::on(&root)
            .caption("Mean monetary value by R and F score", ("sans-serif", 17))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(44)
            .build_cartesian_2d(0.5f64..bins as f64 + 0.5, 0.5f64..bins as f64 + 0.5)
        else {
            return;
        };
        let _ = chart
            .configure_mesh()
            .disable_mesh()
            .x_desc("F score")
            .y_desc("R score")
            .x_labels(bins)
            .y_labels(bins)
            .x_label_formatter(&|v| format!("{v:.0}"))
            .y_label_formatter(&|v| format!("{v:.0}"))
            .draw();
        for (r, row) in grid.iter().enumerate() {
            for (f, value) in row.iter().enumerate() {
                let (x, y) = ((f + 1) as f64, (r + 1) as f64);
                // Log scale: money is heavy-tailed.
                let t = match value {
                    Some(v) if hi > lo => ((v.max(1e-9).ln() - lo.max(1e-9).ln())
                        / (hi.max(1e-9).ln() - lo.max(1e-9).ln()))
                    .clamp(0.0, 1.0),
                    _ => 0.5,
                };
                let color = match value {
                    Some(_) => RGBColor(
                        (240.0 - 200.0 * t) as u8,
                        (245.0 - 150.0 * t) as u8,
                        (250.0 - 90.0 * t) as u8,
                    ),
                    None => RGBColor(245, 245, 245),
                };
                let ink = if t > 0.6 { WHITE } else { BLACK };
                let _ = chart.draw_series(std::iter::once(Rectangle::new(
                    [(x - 0.48, y - 0.48), (x + 0.48, y + 0.48)],
                    color.filled(),
                )));
                if let Some(v) = value {
                    let _ = chart.draw_series(std::iter::once(Text::new(
                        format_number((v * 10.0).round() / 10.0),
                        (x - 0.38, y + 0.1),
                        ("sans-serif", 11).into_font().color(&ink),
                    )));
                }
            }
        }
    })
}

/// Vertical bars of counts.
fn bars_svg(title: &str, labels: &[String], counts: &[f64], color: RGBColor, width: u32) -> String {
    let n = counts.len().max(1);
    let top = counts.iter().copied().fold(1.0, f64::max) * 1.12;
    svg_chart(width, 260, |root| {
        let _ = root.fill(&WHITE);
        let Ok(mut chart) = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 15))
            .margin(10)
            .x_label_area_size(34)
            .y_label_area_size(52)
            .build_cartesian_2d(0f64..n as f64, 0f64..top)
        else {
            return;
        };
        let labels = labels.to_vec();
        let _ = chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(n.min(12))
            .x_label_formatter(&|x| {
                let i = x.floor() as usize;
                if (x.fract() - 0.5).abs() < 0.26 || n <= 12 {
                    labels.get(i).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .y_label_formatter(&|v| format_count(*v as u64))
            .draw();
        let _ =
            chart.draw_series(counts.iter().enumerate().map(|(i, c)| {
                Rectangle::new([(i as f64 + 0.12, 0.0), (i as f64 + 0.88, *c)], color.filled())
            }));
    })
}

fn histogram_svg(title: &str, h: &Histogram, color: RGBColor) -> String {
    let mut labels: Vec<String> = h
        .edges
        .windows(2)
        .map(|w| format_number((w[0] * 100.0).round() / 100.0))
        .collect();
    let mut counts: Vec<f64> = h.counts.iter().map(|c| *c as f64).collect();
    if h.above > 0 {
        labels.push(format!(
            "> {}",
            format_number(h.edges.last().copied().unwrap_or(0.0).round())
        ));
        counts.push(h.above as f64);
    }
    bars_svg(title, &labels, &counts, color, 560)
}

fn rows_table(out: &mut String, s: &Summary) -> std::fmt::Result {
    let r = &s.rows;
    let share = |n: u64| {
        format_share(if r.input_rows == 0 {
            0.0
        } else {
            n as f64 / r.input_rows as f64
        })
    };
    writeln!(
        out,
        "<table><tr><th class=\"l\">rows</th><th>count</th><th>share</th></tr>"
    )?;
    writeln!(
        out,
        "<tr><td class=\"l\">input</td><td>{}</td><td>{}</td></tr>",
        format_count(r.input_rows),
        share(r.input_rows)
    )?;
    writeln!(
        out,
        "<tr><td class=\"l\">used</td><td>{}</td><td>{}</td></tr>",
        format_count(r.used_rows),
        share(r.used_rows)
    )?;
    for e in &r.excluded {
        writeln!(
            out,
            "<tr><td class=\"l\">excluded: {}</td><td>{}</td><td>{}</td></tr>",
            escape(e.reason.as_str()),
            format_count(e.rows),
            share(e.rows)
        )?;
    }
    for e in &r.rejected {
        writeln!(
            out,
            "<tr><td class=\"l\">rejected: {}</td><td>{}</td><td>{}</td></tr>",
            escape(e.reason.as_str()),
            format_count(e.rows),
            share(e.rows)
        )?;
    }
    writeln!(out, "</table>")?;
    let (class, text) = if r.balances() {
        ("ok", "every row accounted for")
    } else {
        ("bad", "MISMATCH")
    };
    writeln!(
        out,
        "<p class=\"note\">{} = {} used + {} excluded + {} rejected: <span class=\"{class}\">{text}</span>.</p>",
        format_count(r.input_rows),
        format_count(r.used_rows),
        format_count(r.excluded_rows()),
        format_count(r.rejected_rows())
    )
}

fn transition_table(out: &mut String, title: &str, t: &Transition) -> std::fmt::Result {
    writeln!(out, "<h3>{}</h3>", escape(title))?;
    write!(out, "<table><tr><th class=\"l\">previous \\ current</th>")?;
    for c in &t.to {
        write!(out, "<th>{}</th>", escape(c))?;
    }
    writeln!(out, "</tr>")?;
    let max = t.customers.iter().flatten().copied().max().unwrap_or(1).max(1) as f64;
    for (i, from) in t.from.iter().enumerate() {
        write!(out, "<tr><th class=\"l\">{}</th>", escape(from))?;
        for j in 0..t.to.len() {
            let n = t.customers[i][j];
            let alpha = if n == 0 { 0.0 } else { 0.12 + 0.6 * n as f64 / max };
            write!(
                out,
                "<td style=\"background:rgba(62,145,183,{alpha:.2})\">{}</td>",
                if n == 0 {
                    String::new()
                } else {
                    format!(
                        "{}<br><small>{}</small>",
                        format_count(n as u64),
                        escape(&format_money(t.revenue[i][j]))
                    )
                }
            )?;
        }
        writeln!(out, "</tr>")?;
    }
    writeln!(out, "</table>")
}

fn migration_section(out: &mut String, m: &Migration) -> std::fmt::Result {
    writeln!(
        out,
        "<section id=\"migration\"><h2>Changes since the previous run</h2>"
    )?;
    writeln!(
        out,
        "<p class=\"note\">Compared with {} (as of {}). Customers are counted in the cell of their previous and current \
         segment, with their revenue below (current monetary value, or the previous one for customers gone). \
         The customers who moved are listed in migration.csv.</p>",
        escape(&m.previous),
        escape(&m.previous_as_of.clone().unwrap_or_else(|| "unknown".into()))
    )?;
    writeln!(out, "<div class=\"cards\">")?;
    for (label, n) in [
        ("moved up (higher RFM score)", m.moved_up),
        ("moved down", m.moved_down),
        ("unchanged score", m.unchanged),
        ("new customers", m.new_customers),
        ("customers gone", m.gone_customers),
    ] {
        writeln!(
            out,
            "<div class=\"card\"><b>{}</b><span>{label}</span></div>",
            format_count(n as u64)
        )?;
    }
    writeln!(out, "</div>")?;
    transition_table(out, "Segments", &m.segments)?;
    transition_table(out, "ABC classes", &m.abc)?;
    if let Some(clusters) = &m.clusters {
        transition_table(out, "Clusters", clusters)?;
    }
    writeln!(out, "</section>")
}

/// Renders the report.
pub fn render(s: &Summary) -> String {
    let mut out = String::with_capacity(256 * 1024);
    let _ = render_into(&mut out, s);
    out
}

fn render_into(out: &mut String, s: &Summary) -> std::fmt::Result {
    let source = escape(&s.input.source);
    writeln!(
        out,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\
         <title>Customer segmentation: {source}</title><style>{STYLE}</style></head><body>"
    )?;
    writeln!(
        out,
        "<header><h1>Customer segmentation</h1><p>{source} · as of {} · clientele {}</p></header><main>",
        s.settings.as_of, s.clientele_version
    )?;
    overview_section(out, s)?;
    if let Some(p) = &s.settings.preset {
        preset_section(out, p)?;
    }
    writeln!(out, "<section id=\"rows\"><h2>Rows</h2>")?;
    rows_table(out, s)?;
    writeln!(out, "</section>")?;
    abc_section(out, s)?;
    segments_section(out, s)?;
    scores_section(out, s)?;
    clusters_section(out, s)?;
    clv_section(out, s)?;
    cohorts::section(out, s)?;
    if let Some(m) = &s.migration {
        migration_section(out, m)?;
    }
    writeln!(
        out,
        "<section id=\"definitions\"><h2>Definitions</h2><p class=\"note\">Recency is whole days from the last purchase \
         to the as-of date; frequency counts distinct orders with a purchase (or purchase days); monetary value sums the \
         amounts of used rows. Scores: {} bins, {} binning. Segments from {}. The full definitions are in \
         docs/definitions.md of the clientele repository.</p></section>",
        s.settings.bins,
        escape(&format!("{:?}", s.settings.binning).to_lowercase()),
        escape(&s.settings.segment_rules)
    )?;
    writeln!(out, "</main></body></html>")
}

/// The preset and the definitions it changes from clientele's.
fn preset_section(out: &mut String, p: &crate::presets::Explained) -> std::fmt::Result {
    writeln!(
        out,
        "<section id=\"preset\"><h2>Preset {}</h2><p class=\"note\">These definitions follow the preset \
         instead of clientele's (docs/presets.md).</p><table><thead><tr><th></th><th>preset</th>\
         <th>clientele</th><th>why</th></tr></thead><tbody>",
        escape(p.preset.name())
    )?;
    for d in &p.differences {
        writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(d.topic),
            escape(&d.preset),
            escape(&d.clientele),
            escape(&d.why)
        )?;
    }
    writeln!(out, "</tbody></table></section>")
}

/// Key figures: customers, monetary value, rows used, as-of date, customer equity.
fn overview_section(out: &mut String, s: &Summary) -> std::fmt::Result {
    writeln!(
        out,
        "<section id=\"overview\"><h2>Overview</h2><div class=\"cards\">"
    )?;
    let used = if s.rows.input_rows == 0 {
        0.0
    } else {
        s.rows.used_rows as f64 / s.rows.input_rows as f64
    };
    let mut cards = vec![
        (
            format_count(s.customers.customers as u64),
            "customers".to_string(),
        ),
        (
            format_money(s.customers.total_monetary),
            "total monetary value".to_string(),
        ),
        (format_share(used), "of input rows used".to_string()),
        (s.settings.as_of.to_string(), "as-of date".to_string()),
    ];
    if let Some(clv) = &s.clv {
        cards.push((
            format_money(clv.customer_equity),
            "customer equity (Σ CLV)".to_string(),
        ));
    }
    for (value, label) in cards {
        writeln!(
            out,
            "<div class=\"card\"><b>{}</b><span>{}</span></div>",
            escape(&value),
            escape(&label)
        )?;
    }
    writeln!(out, "</div></section>")?;
    Ok(())
}

/// The Lorenz curve and the ABC classes against the textbook shares.
fn abc_section(out: &mut String, s: &Summary) -> std::fmt::Result {
    writeln!(
        out,
        "<section id=\"abc\"><h2>ABC tiers</h2><div class=\"charts\">{}",
        lorenz_svg(s)
    )?;
    writeln!(
        out,
        "<table><tr><th class=\"l\">class</th><th>customers</th><th>% customers</th><th>% revenue</th>\
         <th>textbook % customers</th><th>textbook % revenue</th></tr>"
    )?;
    for a in &s.abc {
        let textbook = |x: Option<f64>| x.map_or("–".to_string(), format_share);
        writeln!(
            out,
            "<tr><td class=\"l\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&a.class),
            format_count(a.customers as u64),
            format_share(a.customer_share),
            format_share(a.revenue_share),
            textbook(a.textbook_customer_share),
            textbook(a.textbook_revenue_share)
        )?;
    }
    writeln!(out, "</table></div></section>")?;
    Ok(())
}

/// Customers per segment, and the segments' means.
fn segments_section(out: &mut String, s: &Summary) -> std::fmt::Result {
    writeln!(
        out,
        "<section id=\"segments\"><h2>Segments</h2><div class=\"charts\">{}",
        segments_svg(s)
    )?;
    writeln!(
        out,
        "<table><tr><th class=\"l\">segment</th><th>customers</th><th>% revenue</th><th>mean recency</th>\
         <th>mean frequency</th><th>mean monetary</th></tr>"
    )?;
    for g in &s.segments {
        let or = |x: Option<f64>, f: &dyn Fn(f64) -> String| x.map_or("–".to_string(), f);
        writeln!(
            out,
            "<tr><td class=\"l\" title=\"{}\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(g.description.as_deref().unwrap_or("")),
            escape(&g.segment),
            format_count(g.customers as u64),
            format_share(g.revenue_share),
            or(g.mean_recency_days, &|x| format!("{x:.1}")),
            or(g.mean_frequency, &|x| format!("{x:.2}")),
            or(g.mean_monetary, &format_money)
        )?;
    }
    writeln!(out, "</table></div></section>")?;
    Ok(())
}

/// The R × F heat map and the customers per score of each measure.
fn scores_section(out: &mut String, s: &Summary) -> std::fmt::Result {
    writeln!(
        out,
        "<section id=\"scores\"><h2>RFM scores</h2><div class=\"charts\">{}",
        heatmap_svg(s)
    )?;
    for (i, m) in s.rfm.iter().enumerate() {
        let labels: Vec<String> = m.scores.iter().map(|b| b.score.to_string()).collect();
        let counts: Vec<f64> = m.scores.iter().map(|b| b.customers as f64).collect();
        out.push_str(&bars_svg(
            &format!("{} score ({})", m.measure.name(), m.measure.column()),
            &labels,
            &counts,
            palette(i + 1),
            330,
        ));
    }
    writeln!(out, "</div>")?;
    for note in s.rfm.iter().filter_map(|m| m.note.as_ref()) {
        writeln!(out, "<p class=\"note\">{}</p>", escape(note))?;
    }
    writeln!(out, "</section>")?;
    Ok(())
}

/// The clusters' sizes and profiles, when the job had clusters.
fn clusters_section(out: &mut String, s: &Summary) -> std::fmt::Result {
    let Some(c) = &s.clusters else {
        return Ok(());
    };
    writeln!(
        out,
        "<section id=\"clusters\"><h2>Clusters (k = {})</h2><div class=\"charts\">",
        c.k
    )?;
    let labels: Vec<String> = c.profiles.iter().map(|p| p.cluster.to_string()).collect();
    let sizes: Vec<f64> = c.profiles.iter().map(|p| p.customers as f64).collect();
    out.push_str(&bars_svg(
        "Customers per cluster",
        &labels,
        &sizes,
        palette(5),
        420,
    ));
    writeln!(
        out,
        "<table><tr><th>cluster</th><th>customers</th><th>% revenue</th><th class=\"l\">description</th></tr>"
    )?;
    for p in &c.profiles {
        writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"l\">{}</td></tr>",
            p.cluster,
            format_count(p.customers as u64),
            p.revenue_share.map_or("–".to_string(), format_share),
            escape(&p.description)
        )?;
    }
    writeln!(
        out,
        "</table></div><p class=\"note\">silhouette {:.3}, inertia {:.1} (sum of squared distances in scaled units).</p></section>",
        c.quality.silhouette, c.quality.inertia
    )?;
    Ok(())
}

/// Lifetime value: distributions, lifecycle stages and the holdout check, when the job had it.
fn clv_section(out: &mut String, s: &Summary) -> std::fmt::Result {
    let Some(c) = &s.clv else {
        return Ok(());
    };
    let model = c.model.transactions.label();
    write!(
        out,
        "<section id=\"clv\"><h2>Lifetime value ({model} + Gamma-Gamma)</h2>"
    )?;
    super::clv_html::diagnostics(out, c)?;
    if let Some(comparison) = &c.model.comparison {
        super::clv_html::comparison(out, comparison)?;
    }
    writeln!(out, "<div class=\"charts\">")?;
    if let Some(h) = &s.charts.clv {
        out.push_str(&histogram_svg("CLV per customer", h, palette(3)));
    }
    if let Some(h) = &s.charts.p_alive {
        out.push_str(&histogram_svg("Probability alive", h, palette(1)));
    }
    writeln!(
        out,
        "</div><table><tr><th class=\"l\">lifecycle stage</th><th>customers</th><th>CLV</th></tr>"
    )?;
    for stage in &c.stages {
        writeln!(
            out,
            "<tr><td class=\"l\">{}</td><td>{}</td><td>{}</td></tr>",
            stage.stage,
            format_count(stage.customers as u64),
            format_money(stage.clv)
        )?;
    }
    writeln!(out, "</table>")?;
    if let Some(text) = super::evaluation::unmodelled_sentence(c) {
        writeln!(out, "<p class=\"note\">{}</p>", escape(&text))?;
    }
    super::evaluation::disagreements_html(out, s)?;
    if let Some(h) = &c.holdout {
        writeln!(
            out,
            "<p class=\"note\">Holdout check: {} repeat purchases actual, {:.1} predicted.</p>",
            format_number(h.actual_total),
            h.predicted_total
        )?;
        super::evaluation::churn_html(out, &h.churn)?;
    }
    writeln!(out, "</section>")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup_and_quotes() {
        assert_eq!(
            escape("<script>alert('x') & \"y\"</script>"),
            "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;"
        );
    }
}
