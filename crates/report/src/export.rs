//! CSV of every measurement of every run, one row each, for spreadsheets and scripts.

use crate::Result;
use crate::facts::{self, RateKind};
use crate::format;
use std::io::Write;
use tensorbench_schema::schema::{Bound, CacheMode, Run, Status};

const HEADER: [&str; 35] = [
    "run_id",
    "target",
    "id",
    "suite",
    "op",
    "backend",
    "device",
    "dtype",
    "params",
    "threads",
    "mode",
    "status",
    "reason",
    "flops",
    "bytes",
    "samples",
    "iters_per_sample",
    "median_ns",
    "ci_low_ns",
    "ci_high_ns",
    "mean_ns",
    "std_ns",
    "min_ns",
    "max_ns",
    "gflops",
    "gbps",
    "pct_of_roofline",
    "bound",
    "validation_passed",
    "max_rel_err",
    "tolerance",
    "converged",
    "allocs_per_iter",
    "joules_per_iter",
    "gflops_per_joule",
];

/// A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return, and is not a plain
/// number, gets a leading `'`, so that a spreadsheet shows it as text rather than evaluating it
/// (OWASP's advice against CSV injection: `=HYPERLINK(...)` in an id must not become a live link).
/// Numbers we wrote ourselves (`-0.5`, `-inf`) stay numbers.
fn neutralise(cell: &str) -> std::borrow::Cow<'_, str> {
    let risky = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if risky && cell.parse::<f64>().is_err() {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

/// Writes a header and one row per measurement of every run. Text is quoted by the `csv` crate
/// wherever it needs to be (commas, quotes, line breaks); missing values are empty cells. A cell
/// a spreadsheet would take for a formula is neutralised ([`neutralise`]).
pub fn write_csv<W: Write>(runs: &[Run], out: W) -> Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(HEADER)?;
    for run in runs {
        for m in &run.measurements {
            let s = m.stats.as_ref();
            let stat = |f: fn(&tensorbench_schema::schema::Stats) -> f64| {
                s.map_or(String::new(), |s| f(s).to_string())
            };
            let opt = |v: Option<f64>| v.map_or(String::new(), |v| v.to_string());
            let timed = facts::is_timed(m);
            let roof = tensorbench_analysis::roofline::place(run, m);
            let v = m.validation.as_ref();
            let record: [String; 35] = [
                run.run_id.clone(),
                run.target.clone(),
                m.id.clone(),
                facts::suite(m).to_string(),
                m.op.clone(),
                m.backend.clone(),
                m.device.clone(),
                m.dtype.name().to_string(),
                format::params(&m.params),
                m.threads.to_string(),
                match m.mode {
                    CacheMode::Hot => "hot".into(),
                    CacheMode::Cold => "cold".into(),
                },
                match m.status {
                    Status::Ok => "ok".into(),
                    Status::Invalid => "invalid".into(),
                    Status::Failed => "failed".into(),
                    Status::Skipped => "skipped".into(),
                },
                m.reason.clone().unwrap_or_default(),
                m.flops.to_string(),
                m.bytes.to_string(),
                m.samples_ns.len().to_string(),
                m.iters_per_sample.to_string(),
                stat(|s| s.median_ns),
                stat(|s| s.ci_low_ns),
                stat(|s| s.ci_high_ns),
                stat(|s| s.mean_ns),
                stat(|s| s.std_ns),
                stat(|s| s.min_ns),
                stat(|s| s.max_ns),
                // Never a speed for a measurement that was not timed.
                opt(facts::rate(m, RateKind::Gflops).filter(|_| timed && m.flops > 0.0)),
                opt(facts::rate(m, RateKind::Gbps).filter(|_| timed && m.bytes > 0.0)),
                // Above its ceiling is a probe's failure, never a figure.
                opt(roof
                    .as_ref()
                    .filter(|r| r.above_ceiling.is_none())
                    .map(|r| r.pct_of_peak)),
                roof.map_or(String::new(), |r| match r.bound {
                    Bound::Memory => "memory".into(),
                    Bound::Compute => "compute".into(),
                }),
                v.map_or(String::new(), |v| v.passed.to_string()),
                opt(v.map(|v| v.max_rel_err)),
                opt(v.map(|v| v.tolerance)),
                m.sampling
                    .as_ref()
                    .map_or(String::new(), |s| s.converged.to_string()),
                m.alloc.map_or(String::new(), |a| a.count.to_string()),
                opt(facts::joules_per_iter(m).filter(|_| timed)),
                opt(m
                    .energy
                    .as_ref()
                    .and_then(|e| e.gflops_per_joule)
                    .filter(|_| timed)),
            ];
            w.write_record(record.iter().map(|c| neutralise(c).into_owned()))?;
        }
    }
    w.flush().map_err(|e| crate::Error::Io {
        path: "<csv output>".into(),
        source: e,
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::neutralise;

    #[test]
    fn formulas_become_text_and_numbers_stay() {
        assert_eq!(neutralise("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(neutralise("+1+cmd"), "'+1+cmd");
        assert_eq!(neutralise("-2+3"), "'-2+3");
        assert_eq!(neutralise("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(neutralise("\tx"), "'\tx");
        assert_eq!(neutralise("\rx"), "'\rx");
        assert_eq!(neutralise("-0.5"), "-0.5");
        assert_eq!(neutralise("-inf"), "-inf");
        assert_eq!(neutralise("cpu-simd/add"), "cpu-simd/add");
        assert_eq!(neutralise(""), "");
    }
}
