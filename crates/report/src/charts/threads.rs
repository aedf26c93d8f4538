//! Speed-up against threads, where the same workload was measured at several thread counts (in one
//! run, or across runs made with different `--threads`).

use super::{HEIGHT, WIDTH, group_by, tick_si};
use crate::ReportOptions;
use crate::facts::{self, Entry};
use crate::format;
use crate::model::{Chart, LegendItem, series_class};
use crate::svg::{Axis, Frame, Margins, Svg};
use tensorbench_schema::schema::Run;

/// One workload measured at several thread counts: (threads, median ns, id), by threads.
struct Sweep {
    label: String,
    points: Vec<(usize, f64, String)>,
}

/// Speed-up charts, one per op, and a note on what was left out. Empty when no workload was
/// measured at two thread counts.
pub fn charts(runs: &[Run], opts: &ReportOptions) -> (Vec<Chart>, Vec<String>) {
    let timed = facts::timed(runs);
    let workloads = group_by(timed, |e| {
        let m = e.m;
        (
            m.op.clone(),
            m.backend.clone(),
            m.device.clone(),
            m.dtype.name(),
            format::params(&m.params),
            m.mode == tensorbench_schema::schema::CacheMode::Cold,
        )
    });
    let sweeps: Vec<(String, Sweep)> = workloads
        .into_iter()
        .filter_map(|(key, es)| sweep(&key.1, &key.2, &key.4, &es).map(|s| (key.0, s)))
        .collect();
    let mut by_op = group_by(sweeps, |(op, _)| op.clone());
    by_op.sort_by_key(|(op, s)| (std::cmp::Reverse(s.len()), op.clone()));
    let mut notes = Vec::new();
    if by_op.len() > opts.max_charts {
        let rest: Vec<&str> = by_op[opts.max_charts..]
            .iter()
            .map(|(op, _)| op.as_str())
            .collect();
        notes.push(format!(
            "{} more op(s) not drawn: {}.",
            rest.len(),
            rest.join(", ")
        ));
        by_op.truncate(opts.max_charts);
    }
    let charts = by_op
        .into_iter()
        .map(|(op, s)| chart(&op, s.into_iter().map(|(_, s)| s).collect(), opts))
        .collect();
    (charts, notes)
}

/// The thread sweep of one workload, when it has two thread counts or more (the median of
/// repeated measurements at one count).
fn sweep(backend: &str, device: &str, params: &str, es: &[Entry<'_>]) -> Option<Sweep> {
    let mut by_threads = group_by(es.iter(), |e| e.m.threads);
    if by_threads.len() < 2 {
        return None;
    }
    by_threads.sort_by_key(|(t, _)| *t);
    let points = by_threads
        .into_iter()
        .filter_map(|(t, g)| {
            let mut medians: Vec<f64> = g.iter().filter_map(|e| facts::median_ns(e.m)).collect();
            medians.sort_by(f64::total_cmp);
            let mid = *medians.get(medians.len() / 2)?;
            Some((t, mid, g[0].m.id.clone()))
        })
        .collect();
    Some(Sweep {
        label: format!("{backend} · {device} · {params}"),
        points,
    })
}

fn chart(op: &str, mut sweeps: Vec<Sweep>, opts: &ReportOptions) -> Chart {
    let mut notes = Vec::new();
    if sweeps.len() > opts.max_series {
        notes.push(format!(
            "{} of {} workloads drawn (cap of {} lines).",
            opts.max_series,
            sweeps.len(),
            opts.max_series
        ));
        sweeps.truncate(opts.max_series);
    }
    let speedups: Vec<Vec<(f64, f64, String)>> = sweeps
        .iter()
        .map(|s| {
            let base = s.points[0].1;
            s.points
                .iter()
                .map(|(t, med, id)| {
                    (
                        *t as f64,
                        base / med,
                        format!("{id}\n{t} threads: {}", format::format_ns(*med)),
                    )
                })
                .collect()
        })
        .collect();
    let t_min = sweeps.iter().map(|s| s.points[0].0).min().unwrap_or(1) as f64;
    let t_max = sweeps
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0))
        .max()
        .unwrap_or(2) as f64;
    let y_max = speedups
        .iter()
        .flatten()
        .map(|p| p.1)
        .fold(t_max / t_min, f64::max);
    let pad = ((t_max - t_min) * 0.08).max(0.2);
    let x = Axis::linear_exact((t_min - pad).max(0.0), t_max + pad).integer_ticks();
    let y = Axis::linear(0.0, y_max * 1.05);
    let frame = Frame::new(
        WIDTH,
        HEIGHT,
        Margins::default(),
        x,
        "threads",
        tick_si,
        y,
        &format!(
            "speed-up over {} thread{} (×)",
            t_min,
            if t_min == 1.0 { "" } else { "s" }
        ),
        tick_si,
    );
    let mut svg = Svg::new(WIDTH, HEIGHT);
    frame.draw(&mut svg);
    svg.line(
        frame.x.map(t_min),
        frame.y.map(1.0),
        frame.x.map(t_max),
        frame.y.map(t_max / t_min),
        "ideal",
    );
    let mut legend = vec![LegendItem::new("ideal", "ideal (linear) speed-up", "dash")];
    for (i, (s, pts)) in sweeps.iter().zip(&speedups).enumerate() {
        let class = series_class(i);
        let px: Vec<(f64, f64)> = pts
            .iter()
            .map(|(t, v, _)| (frame.x.map(*t), frame.y.map(*v)))
            .collect();
        svg.polyline(&px, &format!("ln {class}"));
        for ((_, v, title), (cx, cy)) in pts.iter().zip(&px) {
            svg.circle(
                *cx,
                *cy,
                3.0,
                &format!("pt {class}"),
                &format!("{title} (×{})", format::significant(*v, 3)),
            );
        }
        legend.push(LegendItem::new(class, s.label.as_str(), "line"));
    }
    let title = format!("{op} — speed-up against threads");
    Chart {
        svg: svg.finish(&title),
        title,
        legend,
        notes,
    }
}
