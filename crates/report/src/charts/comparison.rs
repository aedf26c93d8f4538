//! Baseline against current: the ratio of medians of each id with its confidence interval on a log
//! scale, over the band the noise threshold treats as unchanged. Regressions first.

use super::WIDTH;
use crate::format;
use crate::model::{Chart, LegendItem};
use crate::svg::{Axis, Frame, ROW_HEIGHT, Svg};
use tensorbench_analysis::render::verdict_label;
use tensorbench_analysis::{Comparison, IdComparison, Verdict};

/// Most ids drawn; the table below the chart has them all.
const MAX_ROWS: usize = 40;

/// The CSS class of a verdict.
pub fn verdict_class(v: Verdict) -> &'static str {
    match v {
        Verdict::Faster => "v-faster",
        Verdict::Slower => "v-slower",
        Verdict::Same => "v-same",
        Verdict::Ambiguous => "v-ambiguous",
        Verdict::New => "v-new",
        Verdict::Missing => "v-missing",
        Verdict::Invalid => "v-invalid",
        Verdict::Insensitive => "v-ambiguous",
    }
}

fn tick_change(v: f64) -> String {
    let pct = (v - 1.0) * 100.0;
    if pct.abs() < 1e-9 {
        "0%".into()
    } else {
        format!(
            "{}{}%",
            if pct > 0.0 { "+" } else { "" },
            format::significant(pct, 2)
        )
    }
}

/// The interval chart of `cmp`, or `None` when no id has a ratio (nothing in common).
pub fn chart(cmp: &Comparison) -> Option<Chart> {
    let with_ratio: Vec<&IdComparison> = cmp
        .ordered()
        .into_iter()
        .filter(|i| i.ratio.is_some())
        .collect();
    if with_ratio.is_empty() {
        return None;
    }
    let mut notes = Vec::new();
    let rows: Vec<&IdComparison> = with_ratio.iter().copied().take(MAX_ROWS).collect();
    if with_ratio.len() > rows.len() {
        notes.push(format!(
            "{} of {} compared ids drawn, regressions first; the table below has them all.",
            rows.len(),
            with_ratio.len()
        ));
    }
    let values = rows.iter().flat_map(|i| {
        let (lo, hi) = i
            .ratio_ci
            .unwrap_or((i.ratio.unwrap_or(1.0), i.ratio.unwrap_or(1.0)));
        [
            lo,
            hi,
            i.ratio.unwrap_or(1.0),
            1.0 + i.threshold,
            1.0 / (1.0 + i.threshold),
        ]
    });
    let (lo, hi) = values
        .filter(|v| v.is_finite() && *v > 0.0)
        .fold((1.0f64, 1.0f64), |(a, b), v| (a.min(v), b.max(v)));
    let (lo, hi) = (lo.max(0.1), hi.min(10.0));
    // Symmetric in log space so that faster and slower read alike.
    let reach = (hi.ln().abs()).max(lo.ln().abs()) * 1.1;
    let x = Axis::log_exact((-reach).exp(), reach.exp());
    let labels: Vec<String> = rows.iter().map(|i| i.id.clone()).collect();
    let frame = Frame::bands(
        WIDTH + 160.0,
        x,
        "new median / baseline median (change, log scale)",
        tick_change,
        &labels,
    );
    let mut svg = Svg::new(frame.width, frame.height);
    frame.draw(&mut svg);
    for (row, item) in rows.iter().enumerate() {
        let y = frame.row_y(row);
        let t = item.threshold;
        let (b0, b1) = (
            frame.x.map_clamped(1.0 / (1.0 + t)),
            frame.x.map_clamped(1.0 + t),
        );
        svg.rect(b0, y - ROW_HEIGHT / 2.0, b1 - b0, ROW_HEIGHT, "noise");
        let class = verdict_class(item.verdict);
        if let Some((lo, hi)) = item.ratio_ci {
            svg.line(
                frame.x.map_clamped(lo),
                y,
                frame.x.map_clamped(hi),
                y,
                &format!("ci {class}"),
            );
        }
        let r = item.ratio.unwrap_or(1.0);
        let title = format!(
            "{}\n{}: {}{} ({} → {})",
            item.id,
            verdict_label(item.verdict),
            format::change(r),
            item.ratio_ci.map_or(String::new(), |(lo, hi)| format!(
                ", 95% CI {} to {}",
                format::change(lo),
                format::change(hi)
            )),
            item.old_median_ns.map_or("–".into(), format::format_ns),
            item.new_median_ns.map_or("–".into(), format::format_ns),
        );
        svg.circle(
            frame.x.map_clamped(r),
            y,
            4.0,
            &format!("pt {class}"),
            &title,
        );
    }
    svg.line(
        frame.x.map(1.0),
        frame.top(),
        frame.x.map(1.0),
        frame.bottom(),
        "zero",
    );
    let title = format!("{} against {}", cmp.new_label, cmp.old_label);
    Some(Chart {
        svg: svg.finish(&title),
        title,
        legend: vec![
            LegendItem::new("v-slower", "slower", "marker"),
            LegendItem::new("v-faster", "faster", "marker"),
            LegendItem::new("v-same", "same", "marker"),
            LegendItem::new("v-ambiguous", "ambiguous", "marker"),
            LegendItem::new("ci", "95% CI of the ratio", "line"),
            LegendItem::new("noise", "noise threshold", "box"),
        ],
        notes,
    })
}
