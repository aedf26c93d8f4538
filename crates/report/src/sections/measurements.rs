//! The measurement tables: one per suite of each run (timed measurements only), and one listing
//! every measurement that was not timed, with its reason.

use crate::facts::{self, RateKind};
use crate::format;
use crate::model::{Cell, Table, num_key, text_key};
use serde::Serialize;
use tensorbench_schema::schema::{Bound, Measurement, Run, Status};

/// The measurements of one suite of one run.
#[derive(Debug, Clone, Serialize)]
pub struct SuiteTable {
    pub title: String,
    pub table: Table,
    /// How many of the suite's measurements are not in the table (listed under "Not measured").
    pub not_timed: usize,
}

const COLUMNS: [(&str, bool, Option<&str>); 13] = [
    ("op", false, None),
    ("backend", false, None),
    ("device", false, None),
    ("dtype", false, None),
    ("params", false, None),
    ("threads", true, None),
    (
        "median",
        true,
        Some("median time of one call; ⚠ = the CI target was not reached"),
    ),
    (
        "95% CI",
        true,
        Some("half-width of the 95% confidence interval of the median, relative"),
    ),
    (
        "GFLOP/s",
        true,
        Some("floating-point operations per second at the median time"),
    ),
    (
        "GB/s",
        true,
        Some("minimal bytes moved per second at the median time"),
    ),
    (
        "% roofline",
        true,
        Some(
            "achieved rate over the attainable rate at this arithmetic intensity, from the ceilings measured in the same run",
        ),
    ),
    (
        "bound",
        false,
        Some("memory: left of the ridge point; compute: right of it"),
    ),
    (
        "validation",
        true,
        Some("largest relative error against the f64 reference (✓ within tolerance)"),
    ),
];

/// Shown only for suites where a hardware counter gave a figure.
const ENERGY_COLUMNS: [(&str, bool, Option<&str>); 2] = [
    (
        "energy/op",
        true,
        Some("joules per call from a hardware counter (RAPL, NVML) over the sampling loop"),
    ),
    ("GFLOP/J", true, Some("floating-point operations per joule")),
];

fn energy_cells(m: &Measurement) -> (Vec<Cell>, Vec<serde_json::Value>) {
    let energy = m.energy.as_ref();
    let joules = facts::joules_per_iter(m);
    let per_joule = energy.and_then(|e| e.gflops_per_joule);
    let source = energy.and_then(|e| e.source.clone().or(e.unavailable.clone()));
    let cells = vec![
        Cell::text(joules.map_or("–".into(), |j| format::with_unit(j, "J")))
            .with_title(source.unwrap_or_default()),
        Cell::text(per_joule.map_or("–".into(), |v| format::significant(v, 3))),
    ];
    (cells, vec![num_key(joules), num_key(per_joule)])
}

/// One table per (run, suite), in the order the suites first appear.
pub fn suite_tables(runs: &[Run]) -> Vec<SuiteTable> {
    let mut out: Vec<SuiteTable> = Vec::new();
    for (ri, run) in runs.iter().enumerate() {
        let mut suites: Vec<&str> = Vec::new();
        for m in &run.measurements {
            let s = facts::suite(m);
            if !suites.contains(&s) {
                suites.push(s);
            }
        }
        for s in suites {
            let ms: Vec<&Measurement> = run
                .measurements
                .iter()
                .filter(|m| facts::suite(m) == s)
                .collect();
            let with_energy = ms.iter().any(|m| facts::joules_per_iter(m).is_some());
            let mut columns = COLUMNS.to_vec();
            if with_energy {
                columns.extend(ENERGY_COLUMNS);
            }
            let mut table = Table::new(format!("suite-{ri}-{}", out.len()), &columns);
            for m in ms.iter().filter(|m| facts::is_timed(m)) {
                let (mut cells, mut keys) = row(run, m);
                if with_energy {
                    let (c, k) = energy_cells(m);
                    cells.extend(c);
                    keys.extend(k);
                }
                table.push(cells, keys, None);
            }
            let title = if runs.len() > 1 {
                format!("{} · {s} ({})", run.target, run.run_id)
            } else {
                s.to_string()
            };
            out.push(SuiteTable {
                title,
                not_timed: ms.len() - table.rows.len(),
                table,
            });
        }
    }
    out
}

fn row(run: &Run, m: &Measurement) -> (Vec<Cell>, Vec<serde_json::Value>) {
    let stats = m.stats.as_ref();
    let median = stats.map(|s| s.median_ns);
    let converged = m.sampling.as_ref().is_none_or(|s| s.converged);
    let unstable = m.sampling.as_ref().and_then(|s| s.unstable.as_deref());
    let flag = match (unstable, converged) {
        (Some(_), _) => " ⚠ unstable",
        (None, false) => " ⚠",
        _ => "",
    };
    let median_cell = match stats {
        Some(s) => {
            Cell::text(format!("{}{flag}", format::format_ns(s.median_ns))).with_title(format!(
                "{} — {} samples × {} iterations; min {}, max {}{}",
                m.id,
                m.samples_ns.len(),
                m.iters_per_sample,
                format::format_ns(s.min_ns),
                format::format_ns(s.max_ns),
                unstable.map_or(String::new(), |w| format!("; unstable: {w}"))
            ))
        }
        None => Cell::text("–"),
    };
    let ci_rel =
        stats.map(|s| (s.ci_high_ns - s.median_ns).max(s.median_ns - s.ci_low_ns) / s.median_ns);
    let ci_cell = match stats {
        Some(s) => {
            // Only a 95% interval goes unlabelled (too few samples give a lower level).
            let level = if (s.confidence - 0.95).abs() > 1e-9 {
                format!(" ({} CI)", format::percent(s.confidence))
            } else {
                String::new()
            };
            Cell::text(format!(
                "±{}{level}",
                format::percent(ci_rel.unwrap_or(0.0))
            ))
            .with_title(format!(
                "{} – {} ({} confidence)",
                format::format_ns(s.ci_low_ns),
                format::format_ns(s.ci_high_ns),
                format::percent(s.confidence)
            ))
        }
        None => Cell::text("–"),
    };
    let gflops = facts::rate(m, RateKind::Gflops).filter(|_| m.flops > 0.0);
    let gbps = facts::rate(m, RateKind::Gbps).filter(|_| m.bytes > 0.0);
    let roof = tensorbench_analysis::roofline::place(run, m);
    let (val_cell, val_key) = validation_cell(m);
    let params = format::params(&m.params);
    let cells = vec![
        Cell::text(&m.op).with_title(&m.id),
        Cell::text(&m.backend),
        Cell::text(&m.device),
        Cell::text(m.dtype.name()),
        Cell::text(&params),
        Cell::text(m.threads.to_string()),
        median_cell,
        ci_cell,
        Cell::text(gflops.map_or("–".into(), |v| format::significant(v, 3))),
        Cell::text(gbps.map_or("–".into(), |v| format::significant(v, 3))),
        Cell::text(
            roof.as_ref()
                .map_or("–".into(), tensorbench_schema::roofline::label),
        )
        .with_title(roof.as_ref().map_or(String::new(), |r| {
            r.above_ceiling
                .clone()
                .unwrap_or_else(|| format!("against {}", r.ceiling))
        })),
        Cell::text(roof.as_ref().map_or("–", |r| match r.bound {
            Bound::Memory => "memory",
            Bound::Compute => "compute",
        })),
        val_cell,
    ];
    let keys = vec![
        text_key(&m.op),
        text_key(&m.backend),
        text_key(&m.device),
        text_key(m.dtype.name()),
        text_key(&params),
        num_key(Some(m.threads as f64)),
        num_key(median),
        num_key(ci_rel),
        num_key(gflops),
        num_key(gbps),
        num_key(roof.as_ref().map(|r| r.pct_of_peak)),
        text_key(cells[11].text.as_str()),
        val_key,
    ];
    (cells, keys)
}

fn validation_cell(m: &Measurement) -> (Cell, serde_json::Value) {
    match &m.validation {
        Some(v) => (
            Cell::text(format!(
                "{} {}",
                if v.passed { "✓" } else { "✗" },
                sci(v.max_rel_err)
            ))
            .with_title(format!(
                "max relative error {} (tolerance {}) against {}",
                sci(v.max_rel_err),
                sci(v.tolerance),
                v.reference
            )),
            num_key(Some(v.max_rel_err)),
        ),
        None => (Cell::text("–"), num_key(None)),
    }
}

/// A small number in scientific notation (`3.3e-8`), zero as `0`.
fn sci(v: f64) -> String {
    if v == 0.0 {
        "0".into()
    } else {
        format!("{v:.1e}")
    }
}

/// Every measurement that was not timed, with its reason: skipped, failed and invalid ones.
pub fn not_measured(runs: &[Run]) -> Table {
    let mut t = Table::new(
        "not-measured",
        &[
            ("status", false, None),
            ("id", false, None),
            ("run", false, None),
            ("reason", false, None),
        ],
    );
    for e in facts::entries(runs)
        .into_iter()
        .filter(|e| !facts::is_timed(e.m))
    {
        let m = e.m;
        let (status, class) = match m.status {
            Status::Ok => ("ok (no statistics)", "ok"),
            Status::Invalid => ("invalid", "invalid"),
            Status::Failed => ("failed", "failed"),
            Status::Skipped => ("skipped", "skipped"),
        };
        let reason = reason(m);
        t.push(
            vec![
                Cell::text(status).with_class(class),
                Cell::text(&m.id),
                Cell::text(&e.run.run_id),
                Cell::text(&reason),
            ],
            vec![
                text_key(status),
                text_key(&m.id),
                text_key(&e.run.run_id),
                text_key(&reason),
            ],
            Some(&format!("row-{class}")),
        );
    }
    t
}

/// Why a measurement was not timed, in its own words, plus the validation result when invalid.
fn reason(m: &Measurement) -> String {
    let stated = m
        .reason
        .clone()
        .unwrap_or_else(|| "no reason recorded".into());
    match (&m.validation, m.status) {
        (Some(v), Status::Invalid) => format!(
            "{stated} (max relative error {} > tolerance {} against {})",
            sci(v.max_rel_err),
            sci(v.tolerance),
            v.reference
        ),
        _ => stated,
    }
}
