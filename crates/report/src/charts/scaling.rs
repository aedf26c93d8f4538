//! Throughput against problem size: one chart per op, one line per backend (and device, dtype,
//! cache mode, thread count where those vary).

use super::{HEIGHT, WIDTH, group_by, tick_bytes, tick_si};
use crate::ReportOptions;
use crate::facts::{self, Entry, RateKind};
use crate::format;
use crate::model::{Chart, LegendItem, series_class};
use crate::svg::{Axis, Frame, Margins, ScaleKind, Svg};
use tensorbench_schema::schema::{CacheMode, Run};

/// The scaling charts of all ops measured at two sizes or more, and a note on what was left out.
pub fn charts(runs: &[Run], opts: &ReportOptions) -> (Vec<Chart>, Vec<String>) {
    let timed = facts::timed(runs);
    let mut ops: Vec<(String, Vec<Entry<'_>>)> = group_by(timed, |e| e.m.op.clone())
        .into_iter()
        .filter(|(_, es)| has_sweep(es))
        .collect();
    ops.sort_by_key(|(op, es)| (std::cmp::Reverse(es.len()), op.clone()));
    let mut notes = Vec::new();
    if ops.len() > opts.max_charts {
        let rest: Vec<&str> = ops[opts.max_charts..]
            .iter()
            .map(|(op, _)| op.as_str())
            .collect();
        notes.push(format!(
            "{} more op(s) with size sweeps are not drawn (their numbers are in the tables): {}.",
            rest.len(),
            rest.join(", ")
        ));
        ops.truncate(opts.max_charts);
    }
    let charts = ops.iter().map(|(op, es)| chart(op, es, opts)).collect();
    (charts, notes)
}

/// True when some backend of the op was measured at two or more sizes.
fn has_sweep(es: &[Entry<'_>]) -> bool {
    group_by(es.iter(), |e| (e.m.backend.clone(), e.m.device.clone()))
        .iter()
        .any(|(_, g)| {
            let first = g[0].m.bytes;
            g.iter().any(|e| e.m.bytes != first)
        })
}

/// What distinguishes the series of one op's chart: only the fields that vary within the op.
fn series_label(e: &Entry<'_>, vary: &Vary) -> String {
    let m = e.m;
    let mut label = facts::variant(m);
    if vary.dtype {
        label.push_str(&format!(" · {}", m.dtype.name()));
    }
    if vary.threads {
        label.push_str(&format!(" · {}T", m.threads));
    }
    if vary.mode && m.mode == CacheMode::Cold {
        label.push_str(" · cold");
    }
    label
}

struct Vary {
    dtype: bool,
    threads: bool,
    mode: bool,
}

fn varies<T: PartialEq>(es: &[Entry<'_>], f: impl Fn(&Entry<'_>) -> T) -> bool {
    let first = f(&es[0]);
    es.iter().any(|e| f(e) != first)
}

fn chart(op: &str, es: &[Entry<'_>], opts: &ReportOptions) -> Chart {
    let kind = facts::rate_kind(es.iter().map(|e| e.m));
    let vary = Vary {
        dtype: varies(es, |e| e.m.dtype),
        threads: varies(es, |e| e.m.threads),
        mode: varies(es, |e| e.m.mode),
    };
    let mut series: Vec<(String, Vec<SizePoint>)> = group_by(es.iter(), |e| series_label(e, &vary))
        .into_iter()
        .map(|(label, g)| (label, points(&g, kind)))
        .filter(|(_, pts)| !pts.is_empty())
        .collect();
    series.sort_by_key(|(label, pts)| (std::cmp::Reverse(pts.len()), label.clone()));
    let mut notes = Vec::new();
    if series.len() > opts.max_series {
        let rest: Vec<String> = series[opts.max_series..]
            .iter()
            .map(|(l, _)| l.clone())
            .collect();
        notes.push(format!(
            "Not drawn (cap of {} lines): {}.",
            opts.max_series,
            rest.join(", ")
        ));
        series.truncate(opts.max_series);
    }
    let all = series.iter().flat_map(|(_, p)| p.iter());
    let (x_min, x_max, y_min, y_max) = all.fold(
        (f64::INFINITY, 0.0f64, f64::INFINITY, 0.0f64),
        |(a, b, c, d), (x, y, _)| (a.min(*x), b.max(*x), c.min(*y), d.max(*y)),
    );
    let x = Axis::auto(x_min, x_max);
    let y = Axis::auto(y_min, y_max);
    let x_title = format!("bytes moved per call{}", log_note(&x));
    let y_title = format!("{}{}", kind.unit(), log_note(&y));
    let frame = Frame::new(
        WIDTH,
        HEIGHT,
        Margins::default(),
        x,
        &x_title,
        tick_bytes,
        y,
        &y_title,
        tick_si,
    );
    let mut svg = Svg::new(WIDTH, HEIGHT);
    frame.draw(&mut svg);
    let mut legend = Vec::new();
    for (i, (label, pts)) in series.iter().enumerate() {
        let class = series_class(i);
        let px: Vec<(f64, f64)> = pts
            .iter()
            .map(|(x, y, _)| (frame.x.map(*x), frame.y.map(*y)))
            .collect();
        svg.polyline(&px, &format!("ln {class}"));
        for ((x, y, id), (cx, cy)) in pts.iter().zip(&px) {
            let title = format!(
                "{id}\n{} at {} per call (median of the ids above)",
                rate_text(kind, *y),
                format::bytes(*x)
            );
            svg.circle(*cx, *cy, 3.0, &format!("pt {class}"), &title);
        }
        legend.push(LegendItem::new(class, label.as_str(), "line"));
    }
    let title = format!("{op} — {} against size", kind.unit());
    Chart {
        svg: svg.finish(&title),
        title,
        legend,
        notes,
    }
}

/// Bytes per call, rate, and the ids measured there (one per line).
type SizePoint = (f64, f64, String);

/// One point per size: the median rate of the measurements at that size (repeated runs, or
/// parameter points that move the same bytes), with their ids.
fn points(es: &[&Entry<'_>], kind: RateKind) -> Vec<SizePoint> {
    let sized = es.iter().filter(|e| e.m.bytes > 0.0);
    let mut pts: Vec<SizePoint> = group_by(sized, |e| e.m.bytes.to_bits())
        .into_iter()
        .filter_map(|(bits, g)| {
            let mut rates: Vec<(f64, &str)> = g
                .iter()
                .filter_map(|e| Some((facts::rate(e.m, kind)?, e.m.id.as_str())))
                .collect();
            rates.sort_by(|a, b| a.0.total_cmp(&b.0));
            let (rate, _) = *rates.get(rates.len() / 2)?;
            let ids: Vec<&str> = rates.iter().map(|r| r.1).collect();
            Some((f64::from_bits(bits), rate, ids.join("\n")))
        })
        .collect();
    pts.sort_by(|a, b| a.0.total_cmp(&b.0));
    pts
}

fn rate_text(kind: RateKind, v: f64) -> String {
    match kind {
        RateKind::Gflops => format::gflops(v),
        RateKind::Gbps => format::gbps(v),
    }
}

/// `, log` after an axis title when the axis is logarithmic.
pub fn log_note(axis: &Axis) -> &'static str {
    match axis.kind {
        ScaleKind::Log => " (log)",
        ScaleKind::Linear => "",
    }
}
