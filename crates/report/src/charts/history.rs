//! The trend of one id across run files: median with its confidence interval per run, and the
//! detected change points as dashed lines labelled with the step.

use super::{HEIGHT, WIDTH, tick_si};
use crate::ReportOptions;
use crate::format;
use crate::model::{Chart, LegendItem};
use crate::svg::{Anchor, Axis, Frame, Margins, Svg};
use tensorbench_analysis::History;

/// Trend charts of the most telling ids (those with steps first, biggest step first, then the
/// widest-ranging) and a note on how many were left out.
pub fn charts(history: &[History], opts: &ReportOptions) -> (Vec<Chart>, Vec<String>) {
    let mut ranked: Vec<&History> = history.iter().filter(|h| h.points.len() >= 2).collect();
    ranked.sort_by(|a, b| score(b).total_cmp(&score(a)).then(a.id.cmp(&b.id)));
    let mut notes = Vec::new();
    if ranked.len() > opts.max_charts {
        notes.push(format!(
            "{} of {} ids drawn: those with change points first, then the widest-ranging; every change point is in the table.",
            opts.max_charts,
            ranked.len()
        ));
        ranked.truncate(opts.max_charts);
    }
    (ranked.into_iter().map(chart).collect(), notes)
}

/// Steps outrank everything; among equals, the larger log-range of the medians.
fn score(h: &History) -> f64 {
    let step = h
        .steps
        .iter()
        .map(|s| s.ratio.ln().abs())
        .fold(0.0, f64::max);
    let (lo, hi) = h.points.iter().fold((f64::INFINITY, 0.0f64), |(a, b), p| {
        (a.min(p.median_ns), b.max(p.median_ns))
    });
    let range = if lo > 0.0 { (hi / lo).ln() } else { 0.0 };
    if h.steps.is_empty() {
        range
    } else {
        1e6 + step
    }
}

pub fn chart(h: &History) -> Chart {
    let n = h.points.len();
    let mut meds: Vec<f64> = h.points.iter().map(|p| p.median_ns).collect();
    meds.sort_by(f64::total_cmp);
    let (div, unit) = format::time_unit(meds[n / 2]);
    let lo = h
        .points
        .iter()
        .map(|p| p.ci_low_ns.min(p.median_ns))
        .fold(f64::INFINITY, f64::min)
        / div;
    let hi = h
        .points
        .iter()
        .map(|p| p.ci_high_ns.max(p.median_ns))
        .fold(0.0, f64::max)
        / div;
    let y = Axis::auto(lo, hi);
    let x = Axis::linear_exact(0.5, n as f64 + 0.5).integer_ticks();
    let frame = Frame::new(
        WIDTH,
        HEIGHT,
        Margins {
            top: 24.0,
            ..Margins::default()
        },
        x,
        "run (oldest → newest)",
        tick_si,
        y,
        &format!("median time ({unit}){}", super::scaling::log_note(&y)),
        tick_si,
    );
    let mut svg = Svg::new(WIDTH, HEIGHT);
    frame.draw(&mut svg);
    for s in &h.steps {
        let px = frame.x.map(s.index as f64 + 0.5);
        svg.line(px, frame.top(), px, frame.bottom(), "step");
        // Kept inside the chart when the step is near an edge.
        svg.text(
            px.clamp(frame.left() + 70.0, frame.right() - 70.0),
            frame.top() - 6.0,
            Anchor::Middle,
            "step-label",
            &format!(
                "{} ({} conf.)",
                format::change(s.ratio),
                format::percent(s.confidence)
            ),
        );
    }
    let px: Vec<(f64, f64)> = h
        .points
        .iter()
        .enumerate()
        .map(|(i, p)| (frame.x.map(i as f64 + 1.0), frame.y.map(p.median_ns / div)))
        .collect();
    svg.polyline(&px, "ln c0");
    for (p, (cx, cy)) in h.points.iter().zip(&px) {
        svg.line(
            *cx,
            frame.y.map(p.ci_low_ns / div),
            *cx,
            frame.y.map(p.ci_high_ns / div),
            "ci c0",
        );
        let title = format!(
            "{}\n{} (95% CI {} – {})\n{}{}",
            p.run_id,
            format::format_ns(p.median_ns),
            format::format_ns(p.ci_low_ns),
            format::format_ns(p.ci_high_ns),
            p.started_at,
            p.commit
                .as_deref()
                .map_or(String::new(), |c| format!(" · {}", format::short_commit(c)))
        );
        svg.circle(*cx, *cy, 3.0, "pt c0", &title);
    }
    // Each configuration of an id is its own series, so the title names it.
    let title = if h.config.is_empty() {
        h.id.clone()
    } else {
        format!("{} [{}]", h.id, h.config)
    };
    Chart {
        svg: svg.finish(&title),
        title,
        legend: vec![
            LegendItem::new("c0", "median, bar = 95% CI", "line"),
            LegendItem::new("step", "detected change point", "dash"),
        ],
        notes: Vec::new(),
    }
}
