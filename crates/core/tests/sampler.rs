//! The sampler's rules, driven by a fake clock so the truth is known.

mod common;

use common::{AddOne, Scripted};
use tensorbench_core::clock::ClockSource;
use tensorbench_core::sampler::batch_size;
use tensorbench_core::schema::{Peaks, Status};
use tensorbench_core::{Sampler, SamplerConfig};

fn config() -> SamplerConfig {
    SamplerConfig {
        warmup_s: 1e-3,
        min_samples: 10,
        max_samples: 500,
        min_time_s: 0.0,
        max_time_s: 1.0,
        ci_target: 0.01,
        confidence: 0.95,
        sample_target_s: 1e-4,
        mode: Default::default(),
        wall_time_cap: false,
        min_samples_cap_s: 0.0,
        stop_on: Default::default(),
    }
}

#[test]
fn constant_timings_converge_at_the_minimum_sample_count() {
    let mut w = Scripted::new(vec![1000.0]);
    let m = Sampler::new(config(), 1 << 20).measure_on(&w.device(), &mut w, 1, &Peaks::new());
    assert_eq!(m.status, Status::Ok);
    // Convergence also needs enough samples to estimate their dependence (more than min_samples).
    assert_eq!(
        m.samples_ns.len(),
        tensorbench_core::stats::MIN_DEPENDENT_N.max(10)
    );
    let s = m.stats.unwrap();
    assert_eq!(s.median_ns, 1000.0);
    let sampling = m.sampling.unwrap();
    assert!(sampling.converged);
    assert_eq!(sampling.clock_source, ClockSource::Fake);
}

#[test]
fn batch_is_sized_to_the_sample_target() {
    // 1 µs per iteration, 100 µs wanted per sample → 100 iterations per sample.
    let mut w = Scripted::new(vec![1000.0]);
    let seen = w.iters_seen.clone();
    let m = Sampler::new(config(), 1 << 20).measure_on(&w.device(), &mut w, 1, &Peaks::new());
    assert_eq!(m.iters_per_sample, 100);
    let seen = seen.lock().unwrap();
    // Warm-up doubles 1, 2, 4, ... before sampling settles on the batch size.
    assert_eq!(&seen[..3], &[1, 2, 4]);
    assert!(seen.iter().rev().take(10).all(|&i| i == 100));
    assert_eq!(batch_size(1000.0, 1.0, 1e-4), 100);
    // A coarse clock raises the batch: 1000 ticks of 1 µs = 1 ms → 1000 iterations.
    assert_eq!(batch_size(1000.0, 1000.0, 1e-4), 1000);
    assert_eq!(batch_size(1e9, 1.0, 1e-4), 1);
}

#[test]
fn noisy_timings_run_to_the_cap_and_say_so() {
    // Alternating 1 and 3 µs: the median's CI can never be within ±1%.
    let mut cfg = config();
    cfg.max_samples = 60;
    let mut w = Scripted::new(vec![1000.0, 3000.0, 1500.0, 2600.0]);
    let m = Sampler::new(cfg, 1 << 20).measure_on(&w.device(), &mut w, 1, &Peaks::new());
    assert_eq!(m.samples_ns.len(), 60);
    assert!(!m.sampling.unwrap().converged);
}

#[test]
fn throughput_and_roofline_follow_the_median() {
    let mut peaks = Peaks::new();
    peaks.entry("cpu".into()).or_default().extend([
        ("bandwidth_gbps".to_string(), 8.0),
        ("compute_gflops".to_string(), 100.0),
    ]);
    // 1e6 flops, 4e6 bytes in 1 ms → 1 GFLOP/s, 4 GB/s = 50% of 8 GB/s.
    let mut w = Scripted::new(vec![1e6]);
    let m = Sampler::new(config(), 1 << 20).measure_on(&w.device(), &mut w, 1, &peaks);
    let tp = m.throughput.unwrap();
    assert!((tp.gflops.unwrap() - 1.0).abs() < 1e-9);
    assert!((tp.gbps.unwrap() - 4.0).abs() < 1e-9);
    let r = m.roofline.unwrap();
    assert!((r.pct_of_peak - 0.5).abs() < 1e-9);
}

#[test]
fn a_wrong_kernel_is_invalid_and_never_timed() {
    let mut w = AddOne::new(1000);
    w.wrong = true;
    let m = Sampler::new(config(), 1 << 20).measure(&mut w, 1, &Peaks::new());
    assert_eq!(m.status, Status::Invalid);
    assert!(m.stats.is_none() && m.samples_ns.is_empty() && m.throughput.is_none());
    assert!(!m.validation.unwrap().passed);
}

#[test]
fn a_real_kernel_is_valid_and_timed_on_the_host_clock() {
    let mut w = AddOne::new(4096);
    let m = Sampler::new(config(), 1 << 20).measure(&mut w, 7, &Peaks::new());
    assert_eq!(m.status, Status::Ok, "{:?}", m.reason);
    assert_eq!(m.sampling.unwrap().clock_source, ClockSource::Host);
    assert!(m.stats.unwrap().median_ns > 0.0);
    assert_eq!(m.extra["seed"], 7);
}

/// A counter that charges exactly 1 mJ per `execute`, so the expected energy is known.
struct ChargedAddOne {
    inner: common::AddOne,
    executes: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

struct ExecuteCounter(std::sync::Arc<std::sync::atomic::AtomicU64>);

impl tensorbench_core::energy::EnergyMeter for ExecuteCounter {
    fn source(&self) -> String {
        "test:1mJ-per-execute".into()
    }
    fn joules(&mut self) -> tensorbench_core::Result<f64> {
        Ok(self.0.load(std::sync::atomic::Ordering::SeqCst) as f64 * 1e-3)
    }
}

impl tensorbench_core::Workload for ChargedAddOne {
    fn spec(&self) -> &tensorbench_core::WorkloadSpec {
        self.inner.spec()
    }
    fn prepare(&mut self, seed: u64) -> tensorbench_core::Result<()> {
        self.inner.prepare(seed)
    }
    fn execute(&mut self) {
        self.executes
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.inner.execute();
    }
    fn validate(&mut self) -> tensorbench_core::Result<tensorbench_core::schema::Validation> {
        self.inner.validate()
    }
}

/// A host whose energy counter counts `ChargedAddOne`'s executes.
struct ChargedHost(std::sync::Arc<std::sync::atomic::AtomicU64>);

impl tensorbench_core::Device for ChargedHost {
    fn energy_meter(&self) -> tensorbench_core::device::MeterResult {
        Ok(Box::new(ExecuteCounter(self.0.clone())))
    }
}

impl ChargedAddOne {
    fn device(&self) -> ChargedHost {
        ChargedHost(self.executes.clone())
    }
}

#[test]
fn energy_per_iteration_comes_from_the_workloads_counter() {
    // At least 80 ms of sampling (max_samples cannot stop it first: 500 samples of 1 ms),
    // well above the 50 ms the host meter needs.
    let mut cfg = config();
    cfg.min_time_s = 0.08;
    cfg.sample_target_s = 1e-3;
    let mut w = ChargedAddOne {
        inner: AddOne::new(1024),
        executes: Default::default(),
    };
    let m = Sampler::new(cfg, 1 << 20).measure_on(&w.device(), &mut w, 1, &Peaks::new());
    assert_eq!(m.status, Status::Ok);
    let e = m.energy.expect("energy recorded");
    assert_eq!(e.source.as_deref(), Some("test:1mJ-per-execute"), "{e:?}");
    assert!(e.unavailable.is_none());
    let j = e.joules_per_iter.unwrap();
    assert!((j - 1e-3).abs() < 1e-12, "{j}");
    let gflops_per_joule = e.gflops_per_joule.unwrap();
    assert!((gflops_per_joule - 1024.0 / 1e-3 / 1e9).abs() < 1e-9);
    assert!(e.watts.unwrap() > 0.0);
}

#[test]
fn energy_without_a_counter_carries_the_reason_and_no_figure() {
    let mut cfg = config();
    cfg.min_time_s = 0.06;
    let mut w = AddOne::new(1024);
    let m = Sampler::new(cfg, 1 << 20).measure(&mut w, 1, &Peaks::new());
    let e = m.energy.expect("energy field present");
    if std::path::Path::new("/sys/class/powercap/intel-rapl:0").exists() {
        assert!(e.joules_per_iter.is_some() || e.unavailable.is_some());
    } else {
        assert!(e.joules_per_iter.is_none() && e.gflops_per_joule.is_none());
        assert!(e.unavailable.unwrap().contains("RAPL"));
    }
}

#[test]
fn a_short_loop_reports_no_energy() {
    let mut w = ChargedAddOne {
        inner: AddOne::new(16),
        executes: Default::default(),
    };
    let mut cfg = config();
    cfg.max_samples = 10;
    let m = Sampler::new(cfg, 1 << 20).measure_on(&w.device(), &mut w, 1, &Peaks::new());
    let e = m.energy.unwrap();
    assert!(e.joules_per_iter.is_none());
    assert!(e.unavailable.unwrap().contains("too short"));
}

#[test]
fn counts_per_execute_become_rates_at_the_median() {
    let mut w = Scripted::new(vec![2000.0]);
    w.extra.insert("tokens_per_execute".into(), 128.into());
    let m = Sampler::new(config(), 1 << 20).measure_on(&w.device(), &mut w, 1, &Peaks::new());
    // 128 tokens every 2 µs.
    let rate = m.extra["tokens_per_s"].as_f64().unwrap();
    assert!((rate / (128.0 / 2e-6) - 1.0).abs() < 1e-12, "{rate}");
}
