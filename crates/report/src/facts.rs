//! Facts about measurements that several sections need: which suite, which rate, which peer.

use tensorbench_schema::schema::{Measurement, Run, Status};

/// A measurement with the run it belongs to.
#[derive(Debug, Clone, Copy)]
pub struct Entry<'a> {
    pub run: &'a Run,
    pub m: &'a Measurement,
}

/// Every measurement of every run, in order.
pub fn entries(runs: &[Run]) -> Vec<Entry<'_>> {
    runs.iter()
        .flat_map(|run| run.measurements.iter().map(move |m| Entry { run, m }))
        .collect()
}

/// Every `ok` measurement with statistics: the only ones ever shown as speeds.
pub fn timed(runs: &[Run]) -> Vec<Entry<'_>> {
    entries(runs)
        .into_iter()
        .filter(|e| is_timed(e.m))
        .collect()
}

pub fn is_timed(m: &Measurement) -> bool {
    m.status == Status::Ok && m.stats.is_some()
}

/// The suite of a measurement: the first segment of its id (`cpu-simd/add/...` → `cpu-simd`).
pub fn suite(m: &Measurement) -> &str {
    m.id.split('/').next().unwrap_or(&m.id)
}

/// Joules per call, when a hardware counter gave one.
pub fn joules_per_iter(m: &Measurement) -> Option<f64> {
    m.energy.as_ref().and_then(|e| e.joules_per_iter)
}

/// How a run's energy was read: the counters used, or why there is no figure.
pub fn energy_summary(run: &Run) -> String {
    let mut sources: Vec<&str> = Vec::new();
    let mut reasons: Vec<&str> = Vec::new();
    for e in run.measurements.iter().filter_map(|m| m.energy.as_ref()) {
        if let (Some(src), Some(_)) = (&e.source, e.joules_per_iter) {
            if !sources.contains(&src.as_str()) {
                sources.push(src);
            }
        } else if let Some(r) = &e.unavailable
            && !reasons.contains(&r.as_str())
        {
            reasons.push(r);
        }
    }
    match (sources.is_empty(), reasons.first()) {
        (false, _) => sources.join(", "),
        (true, Some(r)) => format!("not measured: {r}"),
        (true, None) => "not recorded".into(),
    }
}

pub fn median_ns(m: &Measurement) -> Option<f64> {
    m.stats.as_ref().map(|s| s.median_ns)
}

/// Which rate describes an op: FLOP/s when it does floating-point work, else bytes/s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateKind {
    Gflops,
    Gbps,
}

impl RateKind {
    pub fn unit(self) -> &'static str {
        match self {
            RateKind::Gflops => "GFLOP/s",
            RateKind::Gbps => "GB/s",
        }
    }
}

/// The rate of kind `kind` of a timed measurement: recorded by the sampler, or the cost model over
/// the measured median when the run did not record it.
pub fn rate(m: &Measurement, kind: RateKind) -> Option<f64> {
    let recorded = m.throughput.as_ref().and_then(|t| match kind {
        RateKind::Gflops => t.gflops,
        RateKind::Gbps => t.gbps,
    });
    let work = match kind {
        RateKind::Gflops => m.flops,
        RateKind::Gbps => m.bytes,
    };
    recorded
        .or_else(|| {
            let secs = median_ns(m)? * 1e-9;
            (work > 0.0 && secs > 0.0).then(|| work / secs / 1e9)
        })
        .filter(|v| v.is_finite() && *v > 0.0)
}

/// The rate an op is best judged by: FLOP/s when all its measurements do floating-point work.
pub fn rate_kind<'a>(ms: impl IntoIterator<Item = &'a Measurement>) -> RateKind {
    if ms.into_iter().all(|m| m.flops > 0.0) {
        RateKind::Gflops
    } else {
        RateKind::Gbps
    }
}

/// Backends that are other frameworks run as peers on the same workloads.
const FRAMEWORKS: [&str; 9] = [
    "numpy",
    "torch",
    "pytorch",
    "jax",
    "tensorflow",
    "onnxruntime",
    "cupy",
    "mlx",
    "candle",
];

pub fn is_framework(backend: &str) -> bool {
    let b = backend.to_ascii_lowercase();
    FRAMEWORKS
        .iter()
        .any(|f| b == *f || b.starts_with(&format!("{f}-")))
}

/// `backend · device`, the name of one way of running an op.
pub fn variant(m: &Measurement) -> String {
    format!("{} · {}", m.backend, m.device)
}
