//! Relative speed of each variant of an op at its largest workload measured by several variants:
//! one bar per variant, 100% = the fastest.

use super::{WIDTH, tick_percent};
use crate::ReportOptions;
use crate::format;
use crate::model::{Chart, LegendItem, PALETTE, series_class};
use crate::sections::peers::PeerGroup;
use crate::svg::{Anchor, Axis, Frame, ROW_HEIGHT, Svg};

enum Row {
    Header(String),
    Bar {
        label: String,
        colour: usize,
        rel: f64,
        tip: String,
    },
}

/// The chart, or `None` without peer groups.
pub fn chart(groups: &[PeerGroup], opts: &ReportOptions) -> Option<Chart> {
    // The largest workload of each (op, dtype).
    let mut largest: Vec<&PeerGroup> = Vec::new();
    for g in groups {
        match largest
            .iter_mut()
            .find(|l| l.op == g.op && l.dtype == g.dtype)
        {
            Some(l) if g.bytes > l.bytes => *l = g,
            Some(_) => {}
            None => largest.push(g),
        }
    }
    if largest.is_empty() {
        return None;
    }
    let mut notes = Vec::new();
    if largest.len() > opts.max_charts {
        notes.push(format!(
            "{} of {} ops drawn; the table has every workload.",
            opts.max_charts,
            largest.len()
        ));
        largest.truncate(opts.max_charts);
    }
    // One header row per workload (its op and parameters), then one bar row per variant.
    let mut variant_names: Vec<&str> = Vec::new();
    let mut rows: Vec<Row> = Vec::new();
    for g in &largest {
        rows.push(Row::Header(format!(
            "{} · {} · {}",
            g.op, g.dtype, g.params
        )));
        let best = g.variants[0].median_ns;
        for v in &g.variants {
            let colour = variant_names
                .iter()
                .position(|n| *n == v.label)
                .unwrap_or_else(|| {
                    variant_names.push(&v.label);
                    variant_names.len() - 1
                });
            let tip = format!(
                "{}\n{}: {} ({} of the fastest's throughput)",
                v.id,
                v.label,
                format::format_ns(v.median_ns),
                format::percent(best / v.median_ns)
            );
            let label = if v.framework {
                format!("{} [peer]", v.label)
            } else {
                v.label.clone()
            };
            rows.push(Row::Bar {
                label,
                colour,
                rel: best / v.median_ns,
                tip,
            });
        }
    }
    let labels: Vec<String> = rows
        .iter()
        .map(|r| match r {
            Row::Header(_) => String::new(),
            Row::Bar { label, .. } => label.clone(),
        })
        .collect();
    let x = Axis::linear_exact(0.0, 1.0);
    let frame = Frame::bands(
        WIDTH,
        x,
        "throughput relative to the fastest (%)",
        tick_percent,
        &labels,
    );
    let mut svg = Svg::new(frame.width, frame.height);
    frame.draw(&mut svg);
    for (i, row) in rows.iter().enumerate() {
        let y = frame.row_y(i);
        match row {
            Row::Header(text) => svg.text(6.0, y + 4.0, Anchor::Start, "title", text),
            Row::Bar {
                colour, rel, tip, ..
            } => {
                let x1 = frame.x.map(*rel);
                let class = format!("bar {}", series_class(*colour));
                svg.rect_titled(
                    frame.left(),
                    y - ROW_HEIGHT * 0.35,
                    x1 - frame.left(),
                    ROW_HEIGHT * 0.7,
                    &class,
                    tip,
                );
                let label = format::percent(*rel);
                // Inside the bar when there is room, else just right of it.
                if x1 - frame.left() > 52.0 {
                    svg.text(x1 - 4.0, y + 4.0, Anchor::End, "bar-label", &label);
                } else {
                    svg.text(x1 + 4.0, y + 4.0, Anchor::Start, "tick", &label);
                }
            }
        }
    }
    let legend = variant_names
        .iter()
        .enumerate()
        .take(PALETTE)
        .map(|(i, n)| LegendItem::new(series_class(i), *n, "box"))
        .collect();
    if variant_names.len() > PALETTE {
        notes.push(format!(
            "{} variants share the last colour.",
            variant_names.len() - PALETTE + 1
        ));
    }
    let title = "Relative speed at each op's largest shared workload".to_string();
    Some(Chart {
        svg: svg.finish(&title),
        title,
        legend,
        notes,
    })
}
