//! The roofline of one device in one run: log–log, arithmetic intensity against achieved FLOP/s,
//! under the bandwidth and compute ceilings measured by the run's own probes: one bandwidth slope
//! per memory level (L1, L2, L3, DRAM at the run's thread count, stepping down), and the f32
//! compute roof. Each point's hover says which level's ceiling it is judged against.

use super::{HEIGHT, WIDTH, group_by, tick_si};
use crate::facts::{self, Entry, RateKind};
use crate::format;
use crate::model::{Chart, LegendItem, PALETTE, series_class};
use crate::svg::{Anchor, Axis, Frame, Margins, Svg};
use std::collections::BTreeMap;
use tensorbench_schema::roofline::{BANDWIDTH_KEY, COMPUTE_KEY, Level, bandwidth_key};
use tensorbench_schema::schema::Run;

/// The bandwidth ceilings to draw, fastest first: every measured level at the largest thread
/// count the probes used, else the single legacy DRAM ceiling.
fn level_ceilings(peaks: &BTreeMap<String, f64>) -> Vec<(String, f64)> {
    let threads = peaks
        .keys()
        .filter(|k| k.starts_with("bandwidth_"))
        .filter_map(|k| k.rsplit_once("_t")?.1.parse::<usize>().ok())
        .max();
    let levels: Vec<(String, f64)> = threads
        .map(|t| {
            Level::ALL
                .iter()
                .filter_map(|&l| {
                    let v = peaks.get(&bandwidth_key(l, t)).copied()?;
                    (v > 0.0).then(|| (format!("{} ({t} thr)", l.name()), v))
                })
                .collect()
        })
        .unwrap_or_default();
    if !levels.is_empty() {
        return levels;
    }
    peaks
        .get(BANDWIDTH_KEY)
        .copied()
        .filter(|v| *v > 0.0)
        .map(|v| vec![("memory".to_string(), v)])
        .unwrap_or_default()
}

/// One roofline chart per device of `run` that has measured ceilings.
pub fn charts(run: &Run, title_suffix: &str) -> Vec<Chart> {
    run.peaks
        .iter()
        .filter_map(|(device, peaks)| {
            let levels = level_ceilings(peaks);
            let pf = peaks.get(COMPUTE_KEY).copied().filter(|v| *v > 0.0);
            if levels.is_empty() && pf.is_none() {
                return None;
            }
            let entries: Vec<Entry<'_>> = run
                .measurements
                .iter()
                .filter(|m| m.device == *device && facts::is_timed(m))
                .map(|m| Entry { run, m })
                .collect();
            Some(chart(device, &levels, pf, &entries, title_suffix))
        })
        .collect()
}

/// A measurement placed on the chart.
struct Point<'a> {
    e: Entry<'a>,
    intensity: f64,
    gflops: f64,
}

fn chart(
    device: &str,
    levels: &[(String, f64)],
    pf: Option<f64>,
    entries: &[Entry<'_>],
    suffix: &str,
) -> Chart {
    let (points, off_chart): (Vec<_>, Vec<_>) = entries
        .iter()
        .map(|e| {
            let gflops = facts::rate(e.m, RateKind::Gflops).filter(|_| e.m.flops > 0.0);
            (e, gflops.filter(|_| e.m.bytes > 0.0))
        })
        .partition(|(_, g)| g.is_some());
    let points: Vec<Point<'_>> = points
        .into_iter()
        .map(|(e, g)| Point {
            e: *e,
            intensity: e.m.flops / e.m.bytes,
            gflops: g.unwrap_or(0.0),
        })
        .collect();

    // The slowest level meets the compute roof furthest right; the fastest decides the top.
    let bw = levels.last().map(|l| l.1);
    let top = levels
        .iter()
        .map(|l| l.1)
        .fold(None, |a: Option<f64>, v| Some(a.map_or(v, |a| a.max(v))));
    let ridge = match (bw, pf) {
        (Some(b), Some(p)) => Some(p / b),
        _ => None,
    };
    let xs = points
        .iter()
        .map(|p| p.intensity)
        .chain(ridge)
        .chain(ridge.map(|r| r * 4.0));
    let (x_min, x_max) = min_max(xs).unwrap_or((0.01, 100.0));
    let ceiling_at = |x: f64| match (top, pf) {
        (Some(b), Some(p)) => (b * x).min(p),
        (Some(b), None) => b * x,
        (None, Some(p)) => p,
        (None, None) => 1.0,
    };
    let ys = points
        .iter()
        .map(|p| p.gflops)
        .chain([ceiling_at(x_max), ceiling_at(x_min)]);
    let (y_min, y_max) = min_max(ys).unwrap_or((0.1, 100.0));
    let frame = Frame::new(
        WIDTH,
        HEIGHT,
        Margins::default(),
        Axis::log(x_min, x_max),
        "arithmetic intensity (FLOP/byte, log)",
        tick_si,
        Axis::log(y_min, y_max),
        "achieved GFLOP/s (log)",
        tick_si,
    );
    let mut svg = Svg::new(WIDTH, HEIGHT);
    frame.draw(&mut svg);
    draw_ceilings(&mut svg, &frame, levels, pf);

    // Colour by op when the palette has room for every op, else by backend (the op is in each
    // point's hover title).
    let ops = group_by(points.iter(), |p| p.e.m.op.clone()).len();
    let by_op = ops < PALETTE;
    let key = |p: &&Point<'_>| {
        if by_op {
            p.e.m.op.clone()
        } else {
            facts::variant(p.e.m)
        }
    };
    let mut groups = group_by(points.iter(), key);
    groups.sort_by_key(|(k, ps)| (std::cmp::Reverse(ps.len()), k.clone()));
    let mut legend = vec![LegendItem::new("ceiling", "measured ceilings", "line")];
    for (i, (name, ps)) in groups.iter().enumerate() {
        let class = series_class(i);
        for p in ps {
            let title = format!(
                "{}\n{} at {} FLOP/byte — {}",
                p.e.m.id,
                format::gflops(p.gflops),
                format::significant(p.intensity, 3),
                tensorbench_analysis::roofline::place(p.e.run, p.e.m)
                    .map_or("no roofline".into(), |r| {
                        tensorbench_schema::roofline::label(&r)
                    })
            );
            svg.circle(
                frame.x.map(p.intensity),
                frame.y.map(p.gflops),
                3.5,
                &format!("pt {class}"),
                &title,
            );
        }
        if i < PALETTE - 1 {
            legend.push(LegendItem::new(class, name.as_str(), "marker"));
        } else if i == PALETTE - 1 {
            let what = if by_op { "ops" } else { "backends" };
            legend.push(LegendItem::new(
                class,
                format!("{} other {what}", groups.len() - i),
                "marker",
            ));
        }
    }
    let mut notes = Vec::new();
    if !off_chart.is_empty() {
        notes.push(format!(
            "{} measurement(s) do no floating-point work or have no byte count (copies, fills, some probes) and cannot be placed; their GB/s are in the tables.",
            off_chart.len()
        ));
    }
    if points.is_empty() {
        notes.push("No measurement on this device does floating-point work.".into());
    }
    if !by_op {
        notes.push(format!(
            "Coloured by backend ({ops} ops); hover a point for its id."
        ));
    }
    let title = format!("Roofline — {device}{suffix}");
    Chart {
        svg: svg.finish(&title),
        title,
        legend,
        notes,
    }
}

/// One bandwidth slope per level up to where it meets the compute roof (its ridge point), then
/// the flat compute ceiling from the fastest level's ridge; each labelled with its measured value.
fn draw_ceilings(svg: &mut Svg, f: &Frame, levels: &[(String, f64)], pf: Option<f64>) {
    let (x_lo, x_hi) = (f.x.lo, f.x.hi);
    for (i, (name, b)) in levels.iter().enumerate() {
        let ridge = pf.map_or(x_hi, |p| p / b);
        // Start where the slope enters the plot (above the bottom edge).
        let x0 = x_lo.max(f.y.lo / b);
        let x1 = ridge.min(x_hi);
        if x1 <= x0 {
            continue;
        }
        let (px0, py0) = (f.x.map(x0), f.y.map(b * x0));
        let (px1, py1) = (f.x.map(x1), f.y.map(b * x1));
        svg.line(px0, py0, px1, py1, "ceiling");
        let angle = (py1 - py0).atan2(px1 - px0).to_degrees();
        // Staggered along the slopes so the labels of neighbouring levels do not overlap.
        let at = 0.25 + 0.15 * (i % 4) as f64;
        let (lx, ly) = (px0 + (px1 - px0) * at, py0 + (py1 - py0) * at);
        svg.text_rotated(
            lx,
            ly - 6.0,
            angle,
            Anchor::Start,
            "ceiling-label",
            &format!("{name} {}", format::gbps(*b)),
        );
    }
    if let Some(p) = pf {
        let fastest = levels.iter().map(|l| l.1).fold(0.0, f64::max);
        let x0 = if fastest > 0.0 {
            (p / fastest).max(x_lo)
        } else {
            x_lo
        };
        let py = f.y.map(p);
        svg.line(f.x.map(x0), py, f.x.map(x_hi), py, "ceiling");
        svg.text(
            f.right() - 4.0,
            py - 6.0,
            Anchor::End,
            "ceiling-label",
            &format!("compute {}", format::gflops(p)),
        );
    }
}

fn min_max(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    values
        .filter(|v| v.is_finite() && *v > 0.0)
        .fold(None, |acc, v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceilings_step_down_by_level_at_the_largest_thread_count() {
        let mut p = BTreeMap::from([(BANDWIDTH_KEY.to_string(), 30.0)]);
        assert_eq!(level_ceilings(&p), vec![("memory".to_string(), 30.0)]);
        for (l, v) in [
            (Level::L1, 400.0),
            (Level::L2, 150.0),
            (Level::L3, 60.0),
            (Level::Dram, 30.0),
        ] {
            p.insert(bandwidth_key(l, 1), v / 2.0);
            p.insert(bandwidth_key(l, 2), v);
        }
        let names: Vec<_> = level_ceilings(&p).into_iter().map(|l| l.0).collect();
        assert_eq!(
            names,
            ["L1 (2 thr)", "L2 (2 thr)", "L3 (2 thr)", "DRAM (2 thr)"]
        );
        assert_eq!(level_ceilings(&p)[1].1, 150.0);
    }
}
