//! Several processes of the same suite, merged into one run. The process is the unit of
//! replication: a process's state (thread placement, frequency, memory layout) moves every sample
//! it takes together, so samples from one process cannot tell a code change from a process change.
//! The merged run keeps every sample and records each process's median in
//! `extra.process_medians`; `compare_runs` then asks a change to hold across processes.
//!
//! The merged CI is hierarchical: the standard error of the level is the spread of the process
//! medians over √K (which holds both the process-to-process and the within-process variance),
//! never less than the processes' own standard errors would give, with a t quantile of K - 1
//! degrees of freedom. Ceilings are the median of the processes' (a single lucky process does not
//! raise every roofline).

use tensorbench_schema::roofline::classify_measurement;
use tensorbench_schema::schema::{CiMethod, Measurement, Peaks, Run, Stats, Status, Throughput};
use tensorbench_schema::stats::{summarize, t_quantile};
use tensorbench_schema::store;

/// The key under which a merged measurement lists its per-process medians (ns).
pub const PROCESS_MEDIANS: &str = "process_medians";

/// Merges runs of the same suite taken in separate processes. Ids follow the first run; a
/// measurement that is not `ok` in some process is taken from that process as it is.
/// `None` for an empty slice.
pub fn merge_runs(parts: &[Run]) -> Option<Run> {
    let first = parts.first()?;
    let peaks = median_peaks(parts);
    // Every id any part measured, in order of first appearance: a part cut short (interrupted,
    // or a process that crashed mid-suite) must not drop what later parts measured.
    let mut seen = std::collections::BTreeSet::new();
    let measurements = parts
        .iter()
        .flat_map(|r| r.measurements.iter())
        .filter(|m| seen.insert(m.id.clone()))
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
    let per_process: Vec<&Stats> = same.iter().filter_map(|x| x.stats.as_ref()).collect();
    let medians: Vec<f64> = per_process.iter().map(|s| s.median_ns).collect();
    if let Some(st) = m.stats.as_mut() {
        hierarchical_ci(st, &per_process);
    }
    if let Some(why) = same
        .iter()
        .find_map(|x| x.sampling.as_ref().and_then(|s| s.unstable.clone()))
        && let Some(s) = m.sampling.as_mut()
    {
        s.unstable = Some(why);
    }
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

/// The merged CI from K processes' statistics (see the module docs); unchanged for K < 2.
fn hierarchical_ci(st: &mut Stats, parts: &[&Stats]) {
    let k = parts.len();
    if k < 2 {
        return;
    }
    let kf = k as f64;
    let mean = parts.iter().map(|s| s.median_ns).sum::<f64>() / kf;
    let between = parts
        .iter()
        .map(|s| (s.median_ns - mean).powi(2))
        .sum::<f64>()
        / (kf - 1.0);
    // A process's own standard error, from its CI at the normal quantile of its level.
    let within = parts
        .iter()
        .map(|s| {
            let z = normal_quantile(s.confidence);
            ((s.ci_high_ns - s.ci_low_ns) / (2.0 * z)).powi(2)
        })
        .sum::<f64>()
        / kf;
    let se = (between.max(within) / kf).sqrt();
    let half = t_quantile(st.confidence, k - 1) * se;
    st.ci_low_ns = st.ci_low_ns.min(st.median_ns - half);
    st.ci_high_ns = st.ci_high_ns.max(st.median_ns + half);
    st.ci_method = CiMethod::Hierarchical;
    st.effective_samples = None;
}

fn normal_quantile(confidence: f64) -> f64 {
    use statrs::distribution::{ContinuousCDF, Normal};
    Normal::standard().inverse_cdf(0.5 + confidence.clamp(0.5, 0.999_999) / 2.0)
}

/// Per device and ceiling, the median of the processes' values.
fn median_peaks(parts: &[Run]) -> Peaks {
    let mut all: std::collections::BTreeMap<(String, String), Vec<f64>> = Default::default();
    for (device, values) in parts.iter().flat_map(|r| &r.peaks) {
        for (k, v) in values {
            all.entry((device.clone(), k.clone())).or_default().push(*v);
        }
    }
    let mut peaks = Peaks::new();
    for ((device, k), v) in all {
        if let Some(med) = crate::stats::median(&v) {
            peaks.entry(device).or_default().insert(k, med);
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
