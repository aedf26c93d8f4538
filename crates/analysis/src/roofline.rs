//! Roofline summaries of a run: where each measurement stands under the ceilings measured in the
//! same run (placed by `tensorbench_schema::roofline::classify`), and per op how close it gets.

use crate::stats::median;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use tensorbench_schema::roofline::classify_measurement;
use tensorbench_schema::schema::{Bound, Measurement, Roofline, Run, Status};

/// One measurement on the roofline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RooflinePoint {
    pub id: String,
    pub op: String,
    pub backend: String,
    pub device: String,
    pub roofline: Roofline,
}

/// How one (op, backend, device) does against its ceilings across its parameter points.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpRoofline {
    pub op: String,
    pub backend: String,
    pub device: String,
    pub points: usize,
    pub memory_bound: usize,
    pub compute_bound: usize,
    /// Median and best fraction of the attainable rate (0..~1).
    pub median_pct_of_peak: f64,
    pub best_pct_of_peak: f64,
}

/// The roofline of a measurement: the one it recorded, else placed now from the run's peaks and
/// its median time. `None` without peaks for its device or a cost model.
pub fn place(run: &Run, m: &Measurement) -> Option<Roofline> {
    if m.status != Status::Ok {
        return None;
    }
    m.roofline.clone().or_else(|| {
        let secs = m.stats.as_ref()?.median_ns * 1e-9;
        classify_measurement(&run.peaks, m, secs)
    })
}

/// Every `ok` measurement of `run` that can be placed on the roofline.
pub fn points(run: &Run) -> Vec<RooflinePoint> {
    run.measurements
        .iter()
        .filter_map(|m| {
            Some(RooflinePoint {
                roofline: place(run, m)?,
                id: m.id.clone(),
                op: m.op.clone(),
                backend: m.backend.clone(),
                device: m.device.clone(),
            })
        })
        .collect()
}

/// Per (op, backend, device): how many points are memory- or compute-bound, and the median and best
/// % of ceiling. Sorted by op, backend, device.
pub fn summarize_ops(run: &Run) -> Vec<OpRoofline> {
    let mut groups: BTreeMap<(String, String, String), Vec<Roofline>> = BTreeMap::new();
    for p in points(run) {
        groups
            .entry((p.op, p.backend, p.device))
            .or_default()
            .push(p.roofline);
    }
    groups
        .into_iter()
        .map(|((op, backend, device), rs)| {
            // A rate above its ceiling is a probe's failure, not a result: left out of the %.
            let pcts: Vec<f64> = rs
                .iter()
                .filter(|r| r.above_ceiling.is_none())
                .map(|r| r.pct_of_peak)
                .collect();
            OpRoofline {
                op,
                backend,
                device,
                points: rs.len(),
                memory_bound: rs.iter().filter(|r| r.bound == Bound::Memory).count(),
                compute_bound: rs.iter().filter(|r| r.bound == Bound::Compute).count(),
                median_pct_of_peak: median(&pcts).unwrap_or(0.0),
                best_pct_of_peak: pcts.iter().copied().fold(0.0, f64::max),
            }
        })
        .collect()
}
