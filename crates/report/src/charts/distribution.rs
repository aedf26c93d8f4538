//! Distributions of the raw samples: one box plot per measurement, as deviation from its own
//! median, so noise, skew and outliers compare across sizes that differ by decades.

use super::{WIDTH, group_by, tick_percent};
use crate::ReportOptions;
use crate::facts::{self, Entry};
use crate::format;
use crate::model::Chart;
use crate::svg::{Axis, Frame, ROW_HEIGHT, Svg};
use tensorbench_schema::schema::Run;

/// Fewest samples a box plot is drawn from.
const MIN_SAMPLES: usize = 5;
/// Most outlier dots drawn per box (the most extreme ones).
const MAX_OUTLIER_DOTS: usize = 40;

/// Tukey box of one sample set, relative to its median (0.0 = the median, 0.1 = +10%).
#[derive(Debug, Clone, PartialEq)]
pub struct BoxStats {
    pub q1: f64,
    pub median: f64,
    pub q3: f64,
    pub whisker_lo: f64,
    pub whisker_hi: f64,
    pub outliers: Vec<f64>,
}

/// Quartiles (linear interpolation), whiskers at the furthest samples within 1.5 IQR, outliers
/// beyond; all as fractions of the median. `None` for fewer than [`MIN_SAMPLES`] samples.
pub fn box_stats(samples: &[f64]) -> Option<BoxStats> {
    let mut s: Vec<f64> = samples.iter().copied().filter(|v| v.is_finite()).collect();
    if s.len() < MIN_SAMPLES {
        return None;
    }
    s.sort_by(f64::total_cmp);
    let q = |p: f64| {
        let pos = p * (s.len() - 1) as f64;
        let (i, frac) = (pos.floor() as usize, pos.fract());
        s[i] + (s[(i + 1).min(s.len() - 1)] - s[i]) * frac
    };
    let (q1, med, q3) = (q(0.25), q(0.5), q(0.75));
    if med <= 0.0 {
        return None;
    }
    let iqr = q3 - q1;
    let (fence_lo, fence_hi) = (q1 - 1.5 * iqr, q3 + 1.5 * iqr);
    let rel = |v: f64| v / med - 1.0;
    let inside: Vec<f64> = s
        .iter()
        .copied()
        .filter(|v| *v >= fence_lo && *v <= fence_hi)
        .collect();
    let mut outliers: Vec<f64> = s
        .iter()
        .copied()
        .filter(|v| *v < fence_lo || *v > fence_hi)
        .map(rel)
        .collect();
    if outliers.len() > MAX_OUTLIER_DOTS {
        outliers.sort_by(|a, b| b.abs().total_cmp(&a.abs()));
        outliers.truncate(MAX_OUTLIER_DOTS);
    }
    Some(BoxStats {
        q1: rel(q1),
        median: 0.0,
        q3: rel(q3),
        whisker_lo: rel(inside.first().copied().unwrap_or(q1)),
        whisker_hi: rel(inside.last().copied().unwrap_or(q3)),
        outliers,
    })
}

/// Box-plot charts, one per op (capped), and a note on what was left out.
pub fn charts(runs: &[Run], opts: &ReportOptions) -> (Vec<Chart>, Vec<String>) {
    let timed: Vec<Entry<'_>> = facts::timed(runs)
        .into_iter()
        .filter(|e| e.m.samples_ns.len() >= MIN_SAMPLES)
        .collect();
    let mut ops = group_by(timed, |e| e.m.op.clone());
    ops.sort_by_key(|(op, es)| (std::cmp::Reverse(es.len()), op.clone()));
    let mut notes = Vec::new();
    if ops.len() > opts.max_charts {
        let rest: Vec<&str> = ops[opts.max_charts..]
            .iter()
            .map(|(op, _)| op.as_str())
            .collect();
        notes.push(format!(
            "{} more op(s) not drawn: {}.",
            rest.len(),
            rest.join(", ")
        ));
        ops.truncate(opts.max_charts);
    }
    let charts = ops
        .iter()
        .map(|(op, es)| chart(op, es, runs.len() > 1))
        .collect();
    (charts, notes)
}

/// Most boxes in one chart; past it, the widest spreads are shown.
const MAX_BOXES: usize = 16;

fn chart(op: &str, es: &[Entry<'_>], several_runs: bool) -> Chart {
    let mut boxes: Vec<(String, &Entry<'_>, BoxStats)> = es
        .iter()
        .filter_map(|e| Some((row_label(e, several_runs), e, box_stats(&e.m.samples_ns)?)))
        .collect();
    let mut notes = Vec::new();
    if boxes.len() > MAX_BOXES {
        notes.push(format!(
            "{MAX_BOXES} of {} measurements shown: those with the widest interquartile range.",
            boxes.len()
        ));
        boxes.sort_by(|a, b| (b.2.q3 - b.2.q1).total_cmp(&(a.2.q3 - a.2.q1)));
        boxes.truncate(MAX_BOXES);
        boxes.sort_by(|a, b| a.0.cmp(&b.0));
    }
    // The axis covers every whisker and outliers up to half a whisker span beyond; farther outliers
    // are drawn at the edge (and counted in a note) so that the boxes stay readable.
    let (w_lo, w_hi) = boxes.iter().fold((-0.01f64, 0.01f64), |(lo, hi), b| {
        (lo.min(b.2.whisker_lo), hi.max(b.2.whisker_hi))
    });
    let (o_lo, o_hi) = boxes
        .iter()
        .flat_map(|b| b.2.outliers.iter())
        .fold((w_lo, w_hi), |(lo, hi), o| (lo.min(*o), hi.max(*o)));
    let span = w_hi - w_lo;
    let x = Axis::linear(o_lo.max(w_lo - 0.5 * span), o_hi.min(w_hi + 0.5 * span));
    let labels: Vec<String> = boxes.iter().map(|b| b.0.clone()).collect();
    let frame = Frame::bands(
        WIDTH,
        x,
        "deviation from the median (%)",
        tick_percent,
        &labels,
    );
    let mut svg = Svg::new(WIDTH, frame.height);
    frame.draw(&mut svg);
    svg.line(
        frame.x.map(0.0),
        frame.top(),
        frame.x.map(0.0),
        frame.bottom(),
        "zero",
    );
    let mut clipped = 0;
    for (i, (_, e, b)) in boxes.iter().enumerate() {
        let y = frame.row_y(i);
        let h = ROW_HEIGHT * 0.55;
        let s = e.m.stats.as_ref();
        let title = format!(
            "{}\n{} samples; median {}; IQR {} to {}",
            e.m.id,
            e.m.samples_ns.len(),
            s.map_or("–".into(), |s| format::format_ns(s.median_ns)),
            format::change(1.0 + b.q1),
            format::change(1.0 + b.q3)
        );
        svg.line(
            frame.x.map_clamped(b.whisker_lo),
            y,
            frame.x.map_clamped(b.whisker_hi),
            y,
            "whisker",
        );
        for w in [b.whisker_lo, b.whisker_hi] {
            let px = frame.x.map_clamped(w);
            svg.line(px, y - h / 3.0, px, y + h / 3.0, "whisker");
        }
        let (x0, x1) = (frame.x.map_clamped(b.q1), frame.x.map_clamped(b.q3));
        svg.rect_titled(x0, y - h / 2.0, (x1 - x0).max(1.0), h, "box c0", &title);
        let pm = frame.x.map(b.median);
        svg.line(pm, y - h / 2.0, pm, y + h / 2.0, "median");
        for o in &b.outliers {
            if !frame.x.contains(*o) {
                clipped += 1;
            }
            svg.circle(
                frame.x.map_clamped(*o),
                y,
                1.8,
                "outlier",
                &format!("{} from the median", format::change(1.0 + o)),
            );
        }
    }
    if clipped > 0 {
        notes.push(format!(
            "{clipped} far outlier(s) drawn at the edge of the axis."
        ));
    }
    let title = format!("{op} — sample distributions");
    Chart {
        svg: svg.finish(&title),
        title,
        legend: vec![
            crate::model::LegendItem::new("c0", "interquartile range, line at the median", "box"),
            crate::model::LegendItem::new("whisker", "samples within 1.5 IQR", "line"),
            crate::model::LegendItem::new("outlier", "outliers", "marker"),
        ],
        notes,
    }
}

fn row_label(e: &Entry<'_>, several_runs: bool) -> String {
    let m = e.m;
    let mut label = format!(
        "{} · {} · {}",
        m.backend,
        m.device,
        format::params(&m.params)
    );
    if several_runs {
        // Which run: the random tail of its id.
        let tag = e.run.run_id.rsplit('-').next().unwrap_or(&e.run.run_id);
        label.push_str(&format!(" · {}T · {tag}", m.threads));
    }
    label
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn box_of_known_samples() {
        let mut s: Vec<f64> = (1..=9).map(|v| 100.0 + v as f64).collect();
        s.push(1000.0);
        let b = box_stats(&s).unwrap();
        assert_eq!(b.median, 0.0);
        assert!(b.q1 < 0.0 && b.q3 > 0.0);
        assert_eq!(b.outliers.len(), 1);
        assert!(b.outliers[0] > 8.0);
        assert!((b.whisker_hi - (109.0 / 105.5 - 1.0)).abs() < 1e-12);
    }

    #[test]
    fn too_few_samples_give_no_box() {
        assert!(box_stats(&[1.0, 2.0, 3.0]).is_none());
    }
}
