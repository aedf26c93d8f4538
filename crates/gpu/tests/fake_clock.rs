//! The timing path of a device backend, without a device: a workload whose `execute` only
//! enqueues, and a clock whose `stop` returns scripted device time for what was enqueued since
//! `start` — driven through the one Sampler, which must divide by the batch and take the median.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tensorbench_core::schema::{Peaks, Status, Validation};
use tensorbench_core::{
    Clock, ClockSource, DType, Device, Result, Sampler, SamplerConfig, Workload, WorkloadSpec,
};

/// Per-iteration device times the fake device takes, cycled one batch at a time.
const SCRIPT_NS: [f64; 4] = [100.0, 100.0, 100.0, 400.0];

struct FakeDeviceClock {
    enqueued: Arc<AtomicU64>,
    batches: usize,
    at_start: u64,
}

impl Clock for FakeDeviceClock {
    fn source(&self) -> ClockSource {
        ClockSource::Fake
    }
    fn resolution_ns(&self) -> f64 {
        1.0
    }
    fn start(&mut self) -> Result<()> {
        self.at_start = self.enqueued.load(Ordering::SeqCst);
        Ok(())
    }
    fn stop(&mut self) -> Result<f64> {
        let iters = self.enqueued.load(Ordering::SeqCst) - self.at_start;
        let per_iter = SCRIPT_NS[self.batches % SCRIPT_NS.len()];
        self.batches += 1;
        Ok(iters as f64 * per_iter)
    }
}

struct Enqueuer {
    spec: WorkloadSpec,
    enqueued: Arc<AtomicU64>,
}

impl Workload for Enqueuer {
    fn spec(&self) -> &WorkloadSpec {
        &self.spec
    }
    fn prepare(&mut self, _seed: u64) -> Result<()> {
        Ok(())
    }
    fn execute(&mut self) {
        self.enqueued.fetch_add(1, Ordering::SeqCst);
    }
    fn validate(&mut self) -> Result<Validation> {
        Ok(Validation {
            max_rel_err: 0.0,
            tolerance: 0.0,
            passed: true,
            reference: "fake".into(),
        })
    }
}

/// The fake device: its clock sees what the workload enqueued.
struct FakeDevice {
    enqueued: Arc<AtomicU64>,
}

impl Device for FakeDevice {
    fn clock(&self) -> Result<Box<dyn Clock>> {
        Ok(Box::new(FakeDeviceClock {
            enqueued: self.enqueued.clone(),
            batches: 0,
            at_start: 0,
        }))
    }
}

#[test]
fn sampler_reports_the_per_iteration_median_of_device_time() {
    let spec = WorkloadSpec::new("gpu", "add", "fake", DType::F32)
        .param("n", 1024)
        .cost(1024.0, 12.0 * 1024.0);
    let enqueued = Arc::new(AtomicU64::new(0));
    let device = FakeDevice {
        enqueued: enqueued.clone(),
    };
    let mut w = Enqueuer { spec, enqueued };
    let m = Sampler::new(SamplerConfig::default(), 1 << 20).measure_on(
        &device,
        &mut w,
        1,
        &Peaks::new(),
    );
    assert_eq!(m.status, Status::Ok, "{:?}", m.reason);
    assert!(
        m.iters_per_sample > 1,
        "batches sized from the clock: {}",
        m.iters_per_sample
    );
    // Every sample is one batch's scripted time divided by its iterations.
    assert!(m.samples_ns.len() >= 10);
    assert!(
        m.samples_ns.iter().all(|s| SCRIPT_NS.contains(s)),
        "{:?}",
        m.samples_ns
    );
    assert!(
        m.samples_ns.contains(&400.0),
        "the slow batches are sampled too"
    );
    let stats = m.stats.expect("stats");
    assert_eq!(stats.median_ns, 100.0);
    assert!(stats.mean_ns > 100.0 && stats.max_ns == 400.0);
    let gbps = m.throughput.and_then(|t| t.gbps).expect("throughput");
    assert!((gbps - 12.0 * 1024.0 / 100.0).abs() < 1e-9, "{gbps}");
    assert_eq!(
        m.sampling.expect("sampling").clock_source,
        ClockSource::Fake
    );
}
