//! Fixture runs for tests: the real schema filled with seeded synthetic values (never shown as
//! results of this machine: they only exercise rendering). They include every status, several
//! backends, framework peers, thread and size sweeps, a second device, and names carrying markup,
//! quotes and ampersands that must show as text.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;
use tensorbench_analysis::{
    ChangePoint, Comparison, History, IdComparison, Severity, TrendPoint, Verdict,
};
use tensorbench_schema::schema::*;

/// A hostile string: it must reach the page as text, never as markup or script.
pub const NASTY: &str = "<script>alert(\"x\")</script> & 'quotes' \"too\" </script><!--";

const OPS: [(&str, f64, f64); 8] = [
    // (op, flops per element, bytes per element)
    ("add", 1.0, 12.0),
    ("mul", 1.0, 12.0),
    ("exp", 8.0, 8.0),
    ("softmax", 5.0, 8.0),
    ("layer_norm", 8.0, 8.0),
    ("sum", 1.0, 4.0),
    ("copy", 0.0, 8.0),
    ("gemm", 0.0, 0.0),
];
const BACKENDS: [(&str, f64); 5] = [
    ("scalar", 0.08),
    ("simd", 0.6),
    ("rayon", 0.9),
    ("numpy", 0.4),
    ("torch", 0.7),
];

fn machine() -> Machine {
    Machine {
        hostname: Some("fixture-host & <b>co</b>".into()),
        cpu_model: Some("Fixture CPU \"X\" @ 3.0GHz".into()),
        arch: "x86_64".into(),
        physical_cores: Some(8),
        logical_cores: 16,
        caches: Caches {
            l1d: Some(49152),
            l2: Some(2 << 20),
            l3: Some(32 << 20),
        },
        features: vec!["avx2".into(), "fma".into(), "avx512f".into()],
        memory_bytes: Some(64 << 30),
        os: Some("Linux (Debian GNU/Linux 12)".into()),
        kernel: Some("6.1.0".into()),
        rustc: Some("rustc 1.95.0".into()),
        governor: Some("powersave".into()),
        load_avg_1m: Some(0.3),
        gpus: vec![GpuInfo {
            name: "Fixture GPU".into(),
            backend: "cuda".into(),
            device_type: Some("discrete".into()),
            driver: Some("550.0".into()),
            extra: BTreeMap::new(),
        }],
    }
}

fn peaks() -> Peaks {
    let mut p = Peaks::new();
    p.insert(
        "cpu".into(),
        [
            ("bandwidth_gbps", 30.0),
            ("compute_gflops", 360.0),
            ("stream_triad_gbps", 29.5),
            ("fma_gflops", 360.0),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect(),
    );
    p.insert(
        "cuda:0".into(),
        [("bandwidth_gbps", 900.0), ("compute_gflops", 19_000.0)]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    );
    p
}

/// An empty run of `target` with `seed` in its id.
pub fn empty_run(target: &str, seed: u64) -> Run {
    Run {
        schema_version: SCHEMA_VERSION,
        run_id: format!("2026-11-2{}T10-00-00Z-{target}-{seed:06x}", seed % 10),
        target: target.into(),
        profile: "quick".into(),
        command: format!("cargo xtask bench --target {target} --filter 'a&b'"),
        started_at: format!("2026-11-2{}T10:00:00.000Z", seed % 10),
        finished_at: Some(format!("2026-11-2{}T10:05:00.000Z", seed % 10)),
        status: RunStatus::Complete,
        git: GitInfo {
            commit: Some("0123456789abcdef0123".into()),
            dirty: Some(true),
            branch: Some("main".into()),
        },
        machine: machine(),
        build_profile: "bench".into(),
        config: serde_json::json!({ "threads": 16 }),
        peaks: peaks(),
        measurements: Vec::new(),
    }
}

/// A timed measurement whose samples scatter around `median_ns` with a long right tail.
#[allow(clippy::too_many_arguments)]
pub fn timed(
    rng: &mut ChaCha8Rng,
    suite: &str,
    op: &str,
    backend: &str,
    device: &str,
    params: &[(&str, serde_json::Value)],
    threads: usize,
    flops: f64,
    bytes: f64,
    median_ns: f64,
    samples: usize,
) -> Measurement {
    let mut s: Vec<f64> = (0..samples)
        .map(|_| {
            let noise: f64 = rng.random_range(-0.02..0.02);
            let tail = if rng.random_bool(0.05) {
                rng.random_range(0.1..0.6)
            } else {
                0.0
            };
            median_ns * (1.0 + noise + tail)
        })
        .collect();
    s.sort_by(f64::total_cmp);
    let med = s[s.len() / 2];
    let mean = s.iter().sum::<f64>() / s.len() as f64;
    let std = (s.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / s.len() as f64).sqrt();
    let secs = med * 1e-9;
    let param_text = params
        .iter()
        .map(|(k, v)| format!("{k}={}", v.as_str().map_or(v.to_string(), str::to_string)))
        .collect::<Vec<_>>()
        .join(",");
    Measurement {
        id: format!("{suite}/{op}/{backend}/f32/{param_text}"),
        op: op.into(),
        backend: backend.into(),
        device: device.into(),
        dtype: DType::F32,
        params: params
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
        threads,
        mode: CacheMode::Hot,
        flops,
        bytes,
        iters_per_sample: 4,
        stats: Some(Stats {
            median_ns: med,
            ci_low_ns: med * 0.995,
            ci_high_ns: med * 1.006,
            confidence: 0.95,
            ci_method: Default::default(),
            effective_samples: None,
            mean_ns: mean,
            std_ns: std,
            mad_ns: med * 0.01,
            min_ns: s[0],
            max_ns: s[s.len() - 1],
            p05_ns: s[s.len() / 20],
            p95_ns: s[s.len() * 19 / 20],
            outliers: OutlierCounts::default(),
        }),
        throughput: Some(Throughput {
            gflops: (flops > 0.0).then(|| flops / secs / 1e9),
            gbps: (bytes > 0.0).then(|| bytes / secs / 1e9),
        }),
        roofline: None,
        validation: Some(Validation {
            max_rel_err: 3.2e-7,
            tolerance: 1e-5,
            passed: true,
            reference: "f64 scalar reference".into(),
        }),
        alloc: Some(AllocCounts { count: 0, bytes: 0 }),
        sampling: Some(SamplingInfo {
            clock_source: ClockSource::Host,
            clock_resolution_ns: 20.0,
            warmup_ns: 5e7,
            total_time_ns: 3e8,
            converged: rng.random_bool(0.9),
            ci_target: 0.01,
            unstable: None,
        }),
        samples_ns: s,
        energy: None,
        status: Status::Ok,
        reason: None,
        extra: BTreeMap::new(),
    }
}

/// A measurement that was not timed, with its reason.
pub fn untimed(
    id: &str,
    op: &str,
    backend: &str,
    device: &str,
    status: Status,
    reason: &str,
) -> Measurement {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut m = timed(
        &mut rng,
        "x",
        op,
        backend,
        device,
        &[("n", 1.into())],
        1,
        1.0,
        1.0,
        1.0,
        5,
    );
    m.id = id.into();
    m.samples_ns.clear();
    m.stats = None;
    m.throughput = None;
    m.sampling = None;
    m.status = status;
    m.reason = Some(reason.into());
    if status == Status::Invalid {
        m.validation = Some(Validation {
            max_rel_err: 0.12,
            tolerance: 1e-5,
            passed: false,
            reference: "f64 scalar reference".into(),
        });
    } else {
        m.validation = None;
    }
    m
}

/// A realistic run of about `n` measurements: ops × backends × sizes × thread counts, plus GPU
/// points, framework peers, one op with a hostile name and every non-ok status.
pub fn run(n: usize, seed: u64) -> Run {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut run = empty_run("cpu", seed);
    let sizes: Vec<u64> = (10..=24).map(|p| 1u64 << p).collect();
    let mut ms = Vec::new();
    'outer: for round in 0.. {
        for (op, fpe, bpe) in OPS {
            for (backend, eff) in BACKENDS {
                for threads in [1usize, 4, 16] {
                    if backend != "rayon" && threads != 16 {
                        continue;
                    }
                    for &n_el in &sizes {
                        if ms.len() >= n.saturating_sub(12) {
                            break 'outer;
                        }
                        let (flops, bytes, params) = if op == "gemm" {
                            let d = ((n_el as f64).sqrt() as u64).max(16);
                            (
                                2.0 * (d * d * d) as f64,
                                12.0 * (d * d) as f64,
                                vec![("m", d.into()), ("n", d.into()), ("k", (d + round).into())],
                            )
                        } else {
                            (
                                fpe * n_el as f64,
                                bpe * n_el as f64,
                                vec![("n", (n_el + round).into())],
                            )
                        };
                        let speed = eff
                            * if backend == "rayon" {
                                threads as f64 / 16.0 * 8.0
                            } else {
                                1.0
                            };
                        let cache_penalty = if bytes > 32e6 { 0.4 } else { 1.0 };
                        let secs = (bytes / (30e9 * cache_penalty)).max(flops / 360e9)
                            / speed.clamp(0.01, 1.0);
                        let suite = if BACKENDS[3..].iter().any(|b| b.0 == backend) {
                            "peers"
                        } else {
                            "cpu-simd"
                        };
                        ms.push(timed(
                            &mut rng,
                            suite,
                            op,
                            backend,
                            "cpu",
                            &params,
                            threads,
                            flops,
                            bytes,
                            secs * 1e9,
                            40,
                        ));
                    }
                }
            }
        }
    }
    // The GPU side of some workloads, for devices side by side.
    for &n_el in &sizes[6..] {
        let bytes = 12.0 * n_el as f64;
        ms.push(timed(
            &mut rng,
            "gpu",
            "add",
            "cuda",
            "cuda:0",
            &[("n", n_el.into())],
            1,
            n_el as f64,
            bytes,
            bytes / 700e9 * 1e9 + 4000.0,
            40,
        ));
    }
    ms.push(timed(
        &mut rng,
        "cpu-simd",
        NASTY,
        "simd & <i>co</i>",
        "cpu",
        &[("layout", "\"nhwc\" & <b>".into())],
        16,
        1e6,
        4e6,
        2e5,
        40,
    ));
    ms.push(untimed(
        "gpu/add/cuda/f32/n=1",
        "add",
        "cuda",
        "cuda:1",
        Status::Skipped,
        "no second CUDA device: found 1",
    ));
    ms.push(untimed(
        "cpu-simd/exp/simd/f16/n=1024",
        "exp",
        "simd",
        "cpu",
        Status::Skipped,
        "f16 needs avx512fp16 <not present> & \"skipped\"",
    ));
    ms.push(untimed(
        "cpu-simd/softmax/scalar/f32/n=7",
        "softmax",
        "scalar",
        "cpu",
        Status::Failed,
        "panicked: index out of bounds: the len is 7 but the index is 7",
    ));
    ms.push(untimed(
        "cpu-simd/gelu/simd/f32/n=4096",
        "gelu",
        "simd",
        "cpu",
        Status::Invalid,
        "output differs from the reference",
    ));
    run.measurements = ms;
    run
}

/// A comparison covering every verdict, built by hand (the verdict logic is analysis's job).
pub fn comparison(new: &Run) -> Comparison {
    let ids: Vec<&Measurement> = new
        .measurements
        .iter()
        .filter(|m| m.stats.is_some())
        .collect();
    let verdicts = [
        (Verdict::Slower, Some(Severity::Major), 1.31),
        (Verdict::Slower, Some(Severity::Minor), 1.06),
        (Verdict::Faster, None, 0.82),
        (Verdict::Same, None, 1.004),
        (Verdict::Ambiguous, None, 1.04),
        (Verdict::New, None, f64::NAN),
        (Verdict::Invalid, None, f64::NAN),
    ];
    let items = ids
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let (verdict, severity, ratio) = verdicts[i % verdicts.len()];
            let med = m.stats.as_ref().map(|s| s.median_ns);
            let has = ratio.is_finite();
            IdComparison {
                id: m.id.clone(),
                op: m.op.clone(),
                backend: m.backend.clone(),
                verdict,
                severity,
                ratio: has.then_some(ratio),
                ratio_ci: has.then_some((ratio * 0.98, ratio * 1.02)),
                p_value: has.then_some(0.001),
                p_adjusted: has.then_some(0.004),
                threshold: 0.05,
                old_median_ns: med.filter(|_| has).map(|v| v / ratio),
                new_median_ns: med,
                note: (i == 0).then(|| NASTY.to_string()),
            }
        })
        .collect();
    Comparison {
        old_label: "baseline main & <em>co</em>".into(),
        new_label: "this run".into(),
        old_run_id: "2026-11-01T00-00-00Z-cpu-000000".into(),
        new_run_id: new.run_id.clone(),
        warnings: vec!["CPU model differs: \"A\" vs <B>".into()],
        items,
        ci_level: 0.95,
    }
}

/// Histories of a few ids over `runs` runs, one with a 20% step from run 6 on.
pub fn history(ids: &[&str], runs: usize) -> Vec<History> {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    ids.iter()
        .enumerate()
        .map(|(k, id)| {
            let base = 1e5 * (k + 1) as f64;
            let points: Vec<TrendPoint> = (0..runs)
                .map(|i| {
                    let step = if k == 0 && i >= 6 { 1.2 } else { 1.0 };
                    let m = base * step * (1.0 + rng.random_range(-0.01..0.01));
                    TrendPoint {
                        run_id: format!("2026-11-{:02}T10-00-00Z-cpu-{i:06x}", i + 1),
                        started_at: format!("2026-11-{:02}T10:00:00Z", i + 1),
                        commit: Some(format!("{i:040x}")),
                        median_ns: m,
                        ci_low_ns: m * 0.99,
                        ci_high_ns: m * 1.01,
                    }
                })
                .collect();
            let steps = if k == 0 && runs > 6 {
                vec![ChangePoint {
                    index: 6,
                    run_id: points[6].run_id.clone(),
                    before_ns: base,
                    after_ns: base * 1.2,
                    ratio: 1.2,
                    confidence: 0.9995,
                }]
            } else {
                Vec::new()
            };
            History {
                id: id.to_string(),
                config: String::new(),
                points,
                steps,
            }
        })
        .collect()
}
