//! Does the median's 95% CI cover the truth on the samples we actually get? Seeded simulations
//! through the real sampler and its stopping rule (quick profile), with a fake clock replaying
//! iid, AR(1) and drifting series whose true median is known.

mod common;

use common::Scripted;
use tensorbench_core::schema::{CiMethod, Peaks, Status};
use tensorbench_core::stats::summarize;
use tensorbench_core::{Sampler, SamplerConfig};

/// SplitMix64 → standard normals (Box–Muller): a seeded source with no dependency.
struct Rng(u64);

impl Rng {
    fn uniform(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        let u = self.uniform().max(1e-300);
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * self.uniform()).cos()
    }
}

/// Per-iteration times 1000 ns · exp(σ z_t), z a stationary AR(1) with unit variance: the true
/// median is 1000 ns whatever ρ is.
fn ar1(rng: &mut Rng, len: usize, rho: f64, sigma: f64) -> Vec<f64> {
    let mut z = rng.normal();
    (0..len)
        .map(|_| {
            z = rho * z + (1.0 - rho * rho).sqrt() * rng.normal();
            1000.0 * (sigma * z).exp()
        })
        .collect()
}

/// The quick profile, with the wall-clock cap off so the fake clock alone decides (deterministic).
fn quick() -> SamplerConfig {
    SamplerConfig {
        wall_time_cap: false,
        ..SamplerConfig::profile(tensorbench_core::Profile::Quick)
    }
}

struct Coverage {
    covered: usize,
    runs: usize,
    mean_samples: f64,
}

fn coverage(rho: f64, sigma: f64, runs: usize, seed: u64) -> Coverage {
    let mut rng = Rng(seed);
    let (mut covered, mut samples) = (0, 0);
    for _ in 0..runs {
        // Longer than the warm-up plus the 3000-sample cap, so the script never wraps.
        let mut w = Scripted::new(ar1(&mut rng, 4000, rho, sigma));
        let m = Sampler::new(quick(), 1 << 20).measure_on(&w.device(), &mut w, 1, &Peaks::new());
        assert_eq!(m.status, Status::Ok);
        let s = m.stats.unwrap();
        assert!((s.confidence - 0.95).abs() < 1e-12, "{s:?}");
        covered += usize::from(s.ci_low_ns <= 1000.0 && 1000.0 <= s.ci_high_ns);
        samples += m.samples_ns.len();
    }
    Coverage {
        covered,
        runs,
        mean_samples: samples as f64 / runs as f64,
    }
}

fn assert_coverage(rho: f64, sigma: f64, seed: u64) {
    let c = coverage(rho, sigma, 400, seed);
    let rate = c.covered as f64 / c.runs as f64;
    eprintln!(
        "rho={rho} sigma={sigma}: coverage {rate:.3}, mean {:.0} samples",
        c.mean_samples
    );
    assert!(rate >= 0.93, "rho={rho} sigma={sigma}: coverage {rate:.3}");
}

#[test]
fn iid_samples_are_covered() {
    assert_coverage(0.0, 0.05, 1);
}

#[test]
fn ar1_half_samples_are_covered() {
    assert_coverage(0.5, 0.05, 2);
}

#[test]
fn ar1_strong_samples_are_covered() {
    assert_coverage(0.8, 0.03, 3);
}

#[test]
fn a_drifting_series_is_flagged_unstable_and_its_ci_spans_the_drift() {
    let mut rng = Rng(4);
    let mut flagged = 0;
    for _ in 0..20 {
        // +1% every 100 samples, 1% noise: tight halves, far apart.
        let series: Vec<f64> = (0..4000)
            .map(|i| 1000.0 * (1.0 + 1e-4 * f64::from(i)) * (0.01 * rng.normal()).exp())
            .collect();
        let mut w = Scripted::new(series);
        let m = Sampler::new(quick(), 1 << 20).measure_on(&w.device(), &mut w, 1, &Peaks::new());
        let sampling = m.sampling.unwrap();
        let s = m.stats.unwrap();
        if let Some(why) = &sampling.unstable {
            flagged += 1;
            assert!(why.contains("drift"), "{why}");
            assert!(!sampling.converged);
            assert_eq!(m.status, Status::Ok);
            // Sampled to the cap (at 200 µs a sample, 1500 of them in quick's 0.3 s).
            assert!(
                sampling.total_time_ns >= quick().max_time_s * 1e9,
                "{sampling:?}"
            );
            // The CI spans both halves' medians.
            let half = m.samples_ns.len() / 2;
            let med = |x: &[f64]| summarize(x, 0.95).unwrap().median_ns;
            let (a, b) = (med(&m.samples_ns[..half]), med(&m.samples_ns[half..]));
            assert!(s.ci_low_ns <= a.min(b) && s.ci_high_ns >= a.max(b), "{s:?}");
        }
    }
    assert!(flagged >= 19, "{flagged} of 20 flagged");
}

#[test]
fn stationary_series_are_rarely_flagged() {
    let mut rng = Rng(5);
    let flagged = (0..100)
        .filter(|_| {
            let mut w = Scripted::new(ar1(&mut rng, 4000, 0.5, 0.05));
            let m =
                Sampler::new(quick(), 1 << 20).measure_on(&w.device(), &mut w, 1, &Peaks::new());
            m.sampling.unwrap().unstable.is_some()
        })
        .count();
    assert!(flagged <= 3, "{flagged} of 100 stationary series flagged");
}

#[test]
fn small_n_is_never_labelled_95_percent_unless_it_is() {
    for n in 1..6 {
        let s = summarize(&vec![1.0; n], 0.95).unwrap();
        assert_eq!(s.ci_method, CiMethod::Range);
        // (min, max) of n iid samples covers the median with probability 1 - 2^(1-n).
        let level = 1.0 - 0.5f64.powi(n as i32 - 1);
        assert!(
            (s.confidence - level).abs() < 1e-12,
            "n={n}: {}",
            s.confidence
        );
    }
    // n=3: 75%, as the STREAM probes used to report as "95%".
    assert!((summarize(&[1.0, 2.0, 3.0], 0.95).unwrap().confidence - 0.75).abs() < 1e-12);
    let ten: Vec<f64> = (0..10).map(f64::from).collect();
    let s = summarize(&ten, 0.95).unwrap();
    assert_eq!(
        (s.ci_method, s.confidence),
        (CiMethod::OrderStatistic, 0.95)
    );
}

#[test]
fn small_n_coverage_matches_its_label() {
    // For iid n=3..8, the labelled confidence is met in simulation (within 2%).
    let mut rng = Rng(6);
    for n in 3..9 {
        let (mut covered, mut level) = (0, 0.0);
        let runs = 4000;
        for _ in 0..runs {
            let x: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
            let s = summarize(&x, 0.95).unwrap();
            covered += usize::from(s.ci_low_ns <= 0.0 && 0.0 <= s.ci_high_ns);
            level = s.confidence;
        }
        let rate = covered as f64 / f64::from(runs);
        assert!(rate >= level - 0.02, "n={n}: {rate} < {level}");
    }
}

#[test]
fn probes_get_ten_samples_past_the_time_cap() {
    // 100 ms samples: the 0.3 s cap alone would stop at 3.
    let mut cfg = quick();
    cfg.min_samples_cap_s = 3.0;
    let mut w = Scripted::new(vec![1e8]);
    let m = Sampler::new(cfg.clone(), 1 << 20).measure_on(&w.device(), &mut w, 1, &Peaks::new());
    assert_eq!(m.samples_ns.len(), 10);
    // Bounded: 1 s samples stop at the 3 s probe cap.
    let mut w = Scripted::new(vec![1e9]);
    let m = Sampler::new(cfg, 1 << 20).measure_on(&w.device(), &mut w, 1, &Peaks::new());
    assert!(m.samples_ns.len() <= 3, "{}", m.samples_ns.len());
    let mut w = Scripted::new(vec![1e8]);
    let m = Sampler::new(quick(), 1 << 20).measure_on(&w.device(), &mut w, 1, &Peaks::new());
    assert!(m.samples_ns.len() < 10);
}

#[test]
fn a_smooth_ramp_is_flagged_too() {
    // No noise to speak of: inside each half the ramp looks like samples that move together.
    let ramp: Vec<f64> = (0..300).map(|i| 1000.0 + f64::from(i)).collect();
    let (s, why) = tensorbench_core::stats::summarize_checked(&ramp, 0.95).unwrap();
    assert!(why.unwrap().contains("wandering"));
    assert!(s.confidence < 0.95 && s.ci_low_ns <= 1000.0 && s.ci_high_ns >= 1299.0);
}

#[test]
fn files_written_before_the_new_fields_still_read() {
    let stats = r#"{"median_ns": 10.0, "ci_low_ns": 9.0, "ci_high_ns": 11.0, "confidence": 0.95,
        "mean_ns": 10.0, "std_ns": 1.0, "mad_ns": 1.0, "min_ns": 8.0, "max_ns": 12.0,
        "p05_ns": 8.5, "p95_ns": 11.5,
        "outliers": {"low_severe": 0, "low_mild": 0, "high_mild": 0, "high_severe": 0}}"#;
    let s: tensorbench_core::schema::Stats = serde_json::from_str(stats).unwrap();
    assert_eq!(s.ci_method, CiMethod::OrderStatistic);
    assert!(s.effective_samples.is_none());
    let sampling = r#"{"clock_source": "host", "clock_resolution_ns": 20.0, "warmup_ns": 1.0,
        "total_time_ns": 2.0, "converged": true, "ci_target": 0.01}"#;
    let s: tensorbench_core::schema::SamplingInfo = serde_json::from_str(sampling).unwrap();
    assert!(s.unstable.is_none());
}
