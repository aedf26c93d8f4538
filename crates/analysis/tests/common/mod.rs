//! Synthetic runs where the truth is known: seeded samples around a planted median.
#![allow(dead_code)]

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tensorbench_schema::WorkloadSpec;
use tensorbench_schema::schema::{
    DType, Machine, Measurement, Run, RunStatus, SCHEMA_VERSION, Status,
};
use tensorbench_schema::stats::summarize;

/// `n` samples `median · exp(noise · z)` with z standard normal (Box–Muller over ChaCha8):
/// log-normal noise, like timing noise, with its median at `median`.
pub fn samples(n: usize, median: f64, noise: f64, seed: u64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            let (u1, u2): (f64, f64) = (rng.random(), rng.random());
            let z = (-2.0 * (1.0 - u1).ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
            median * (noise * z).exp()
        })
        .collect()
}

/// An `ok` measurement of `id` with these samples.
pub fn measurement(id: &str, samples_ns: Vec<f64>) -> Measurement {
    let mut spec = WorkloadSpec::new("synthetic", "add", "scalar", DType::F32).param("n", 1024);
    spec.id = id.to_string();
    let mut m = Measurement::blank(&spec, Default::default());
    m.stats = summarize(&samples_ns, 0.95);
    m.samples_ns = samples_ns;
    m.iters_per_sample = 1;
    m.status = Status::Ok;
    m
}

/// A measurement that was skipped, with its reason.
pub fn skipped(id: &str, reason: &str) -> Measurement {
    let mut m = measurement(id, Vec::new());
    m.stats = None;
    m.status = Status::Skipped;
    m.reason = Some(reason.into());
    m
}

/// A complete run of these measurements on a fixed synthetic machine.
pub fn run(run_id: &str, started_at: &str, measurements: Vec<Measurement>) -> Run {
    Run {
        schema_version: SCHEMA_VERSION,
        run_id: run_id.into(),
        target: "cpu".into(),
        profile: "quick".into(),
        command: "test".into(),
        started_at: started_at.into(),
        finished_at: Some(started_at.into()),
        status: RunStatus::Complete,
        git: Default::default(),
        machine: Machine {
            hostname: Some("test-host".into()),
            cpu_model: Some("Test CPU".into()),
            arch: "x86_64".into(),
            logical_cores: 2,
            ..Default::default()
        },
        build_profile: "bench".into(),
        config: serde_json::Value::Null,
        peaks: Default::default(),
        measurements,
    }
}

/// Two one-id runs: baseline at `old_median`, new at `new_median`, `n` samples each.
pub fn pair(n: usize, old_median: f64, new_median: f64, noise: f64, seed: u64) -> (Run, Run) {
    let id = "synthetic/add/scalar/f32/n=1024";
    (
        run(
            "old",
            "2026-01-01T00:00:00Z",
            vec![measurement(id, samples(n, old_median, noise, seed))],
        ),
        run(
            "new",
            "2026-01-02T00:00:00Z",
            vec![measurement(id, samples(n, new_median, noise, seed + 1000))],
        ),
    )
}
