//! Several processes of the same suite, merged into one run. The process is the unit of
//! replication: a process's state (thread placement, frequency, memory layout) moves every sample
//! it takes together, so samples from one process cannot tell a code change from a process change.
//! The merged run keeps every sample and records each process's median in
//! `extra.process_medians`; `compare_runs` then asks a change to hold across processes.

use tensorbench_core::roofline::classify_measurement;
use tensorbench_core::schema::{Measurement, Peaks, Run, Status, Throughput};
use tensorbench_core::stats::summarize;
use tensorbench_core::store;

/// The key under which a merged measurement lists its per-process medians (ns).
pub const PROCESS_MEDIANS: &str = "process_medians";

/// Merges runs of the same suite taken in separate processes. Ids follow the first run; a
/// measurement that is not `ok` in some process is taken from that process as it is.
/// `None` for an empty slice.
pub fn merge_runs(parts: &[Run]) -> Option<Run> {
    let first = parts.first()?;
    let peaks = best_peaks(parts);
    let measurements = first
        .measurements
        .iter()
        .map(|m| {
            let same: Vec<&Measurement> = parts.iter().filter_map(|r| r.get(&m.id)).collect();
            merge_measurement(&same, &peaks)
        })
        .collect();
    let mut config = first.config.clone();
    config["repetitions"] = parts.len().into();
    config["part_run_ids"] = parts.iter().map(|r| r.run_id.clone()).collect();
    Some(Run {
        run_id: store::new_run_id(&first.target),
        finished_at: parts.last().and_then(|r| r.finished_at.clone()),
        status: parts
            .iter()
            .map(|r| r.status)
            .max_by_key(|s| *s as u8)
            .unwrap_or(first.status),
        config,
        peaks,
        measurements,
        ..first.clone()
    })
}

fn merge_measurement(same: &[&Measurement], peaks: &Peaks) -> Measurement {
    if let Some(bad) = same.iter().find(|m| m.status != Status::Ok) {
        return (*bad).clone();
    }
    let mut m = same[0].clone();
    let confidence = m.stats.as_ref().map_or(0.95, |s| s.confidence);
    m.samples_ns = same
        .iter()
        .flat_map(|x| x.samples_ns.iter().copied())
        .collect();
    m.stats = summarize(&m.samples_ns, confidence);
    let medians: Vec<f64> = same
        .iter()
        .filter_map(|x| x.stats.as_ref().map(|s| s.median_ns))
        .collect();
    m.extra.insert(PROCESS_MEDIANS.into(), medians.into());
    if let Some(median) = m.stats.as_ref().map(|s| s.median_ns * 1e-9) {
        m.throughput = Some(Throughput {
            gflops: (m.flops > 0.0).then(|| m.flops / median / 1e9),
            gbps: (m.bytes > 0.0).then(|| m.bytes / median / 1e9),
        });
        m.roofline = classify_measurement(peaks, &m, median);
    }
    m
}

/// Per device and ceiling, the best value any process measured.
fn best_peaks(parts: &[Run]) -> Peaks {
    let mut peaks = Peaks::new();
    for (device, values) in parts.iter().flat_map(|r| &r.peaks) {
        let dev = peaks.entry(device.clone()).or_default();
        for (k, v) in values {
            let e = dev.entry(k.clone()).or_insert(*v);
            *e = e.max(*v);
        }
    }
    peaks
}

/// The per-process medians of a merged measurement, when it has at least two.
pub fn process_medians(m: &Measurement) -> Option<Vec<f64>> {
    let v: Vec<f64> = m
        .extra
        .get(PROCESS_MEDIANS)?
        .as_array()?
        .iter()
        .filter_map(|x| x.as_f64())
        .collect();
    (v.len() >= 2).then_some(v)
}
