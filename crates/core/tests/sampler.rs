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
    }
}

#[test]
fn constant_timings_converge_at_the_minimum_sample_count() {
    let mut w = Scripted::new(vec![1000.0]);
    let m = Sampler::new(config(), 1 << 20).measure(&mut w, 1, &Peaks::new());
    assert_eq!(m.status, Status::Ok);
    assert_eq!(m.samples_ns.len(), 10);
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
    let m = Sampler::new(config(), 1 << 20).measure(&mut w, 1, &Peaks::new());
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
    let m = Sampler::new(cfg, 1 << 20).measure(&mut w, 1, &Peaks::new());
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
    let m = Sampler::new(config(), 1 << 20).measure(&mut w, 1, &peaks);
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
