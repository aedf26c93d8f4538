//! Placing a measurement under the ceilings measured in the same run.
//!
//! The probes publish, per device, one bandwidth ceiling per memory level (L1, L2, L3, DRAM) and
//! one compute ceiling per element type, each for every thread count they were measured at
//! (`bandwidth_l2_gbps_t1`, `compute_gflops_i8_t2`), and the capacities that decide which level a
//! footprint lands in (`level_l2_bytes_t2`; L3 ends at the measured working-set knee). A
//! measurement is judged against the level its footprint lands in, at its own thread count, and
//! against the compute ceiling of its own type only. Runs written before the levels existed
//! carry only [`BANDWIDTH_KEY`] and [`COMPUTE_KEY`]; they are placed against those as before.

use crate::schema::{Bound, DType, Measurement, Peaks, Roofline};
use std::collections::BTreeMap;

/// The DRAM bandwidth ceiling at the run's thread count (the best ordinary-store STREAM kernel).
/// Every device's probes publish it and [`COMPUTE_KEY`].
pub const BANDWIDTH_KEY: &str = "bandwidth_gbps";
/// The f32 compute ceiling at the run's thread count.
pub const COMPUTE_KEY: &str = "compute_gflops";
/// Where a measurement records its footprint (bytes it allocates) in `extra`.
pub const FOOTPRINT_KEY: &str = "footprint_bytes";

/// A level of the memory hierarchy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// The level-1 data cache.
    L1,
    /// The level-2 cache.
    L2,
    /// The level-3 (last-level) cache, up to the measured working-set knee.
    L3,
    /// Main memory.
    Dram,
}

impl Level {
    /// Every level, nearest the core first.
    pub const ALL: [Level; 4] = [Level::L1, Level::L2, Level::L3, Level::Dram];

    /// How tables name it: `L1`, `L2`, `L3`, `DRAM`.
    pub fn name(self) -> &'static str {
        match self {
            Level::L1 => "L1",
            Level::L2 => "L2",
            Level::L3 => "L3",
            Level::Dram => "DRAM",
        }
    }

    fn key(self) -> &'static str {
        match self {
            Level::L1 => "l1",
            Level::L2 => "l2",
            Level::L3 => "l3",
            Level::Dram => "dram",
        }
    }

    /// The next faster level, toward L1.
    fn faster(self) -> Option<Level> {
        match self {
            Level::L1 => None,
            Level::L2 => Some(Level::L1),
            Level::L3 => Some(Level::L2),
            Level::Dram => Some(Level::L3),
        }
    }
}

/// The bandwidth ceiling of `level` at `threads`, e.g. `bandwidth_l2_gbps_t1`.
pub fn bandwidth_key(level: Level, threads: usize) -> String {
    format!("bandwidth_{}_gbps_t{threads}", level.key())
}

/// The largest footprint (bytes, all threads together) still placed in `level` at `threads`,
/// e.g. `level_l1_bytes_t2`. Footprints at or above the L3 capacity (the knee) are DRAM.
pub fn capacity_key(level: Level, threads: usize) -> String {
    format!("level_{}_bytes_t{threads}", level.key())
}

/// The compute ceiling `dtype` is judged against: [`COMPUTE_KEY`] (the f32 peak) for f32, and
/// `compute_gflops_<dtype>` for every other type, published only by a probe of that type's own
/// arithmetic (int8 dot products, bf16 dot products, tensor-core f16) — never the f32 peak, which
/// such kernels can exceed several times over.
pub fn compute_key(dtype: DType) -> String {
    match dtype {
        DType::F32 => COMPUTE_KEY.to_string(),
        other => format!("{COMPUTE_KEY}_{}", other.name()),
    }
}

/// [`compute_key`] at a thread count, e.g. `compute_gflops_t1`.
pub fn compute_key_at(dtype: DType, threads: usize) -> String {
    format!("{}_t{threads}", compute_key(dtype))
}

/// What is being placed: one measurement's cost model, rate and shape.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    /// The device whose ceilings apply (a key of the run's `peaks`).
    pub device: &'a str,
    /// Element type: picks the compute ceiling.
    pub dtype: DType,
    /// FLOPs of one iteration.
    pub flops: f64,
    /// Minimal bytes one iteration moves.
    pub bytes: f64,
    /// Time of one iteration (the median), in seconds.
    pub seconds: f64,
    /// Threads the kernel used; 0 when unknown (then the run's thread count's ceilings apply).
    pub threads: usize,
    /// Bytes the kernel's data occupy; 0 when unknown (then `bytes` stands for it).
    pub footprint_bytes: f64,
}

/// Classic roofline with the legacy keys only: attainable = min(peak compute, intensity × DRAM
/// bandwidth). Kept for callers that know no footprint or thread count.
pub fn classify(
    peaks: &Peaks,
    device: &str,
    dtype: DType,
    flops: f64,
    bytes: f64,
    seconds: f64,
) -> Option<Roofline> {
    let s = Subject {
        device,
        dtype,
        flops,
        bytes,
        seconds,
        threads: 0,
        footprint_bytes: 0.0,
    };
    place(peaks, &s)
}

/// [`place`] for a measurement, at its median `seconds`, with its threads and recorded footprint.
pub fn classify_measurement(peaks: &Peaks, m: &Measurement, seconds: f64) -> Option<Roofline> {
    let footprint = m
        .extra
        .get(FOOTPRINT_KEY)
        .and_then(serde_json::Value::as_f64)
        .unwrap_or(0.0);
    let s = Subject {
        device: &m.device,
        dtype: m.dtype,
        flops: m.flops,
        bytes: m.bytes,
        seconds,
        threads: m.threads,
        footprint_bytes: footprint,
    };
    place(peaks, &s)
}

/// A probe's rates at its fastest sample, (GB/s, GFLOP/s): what it publishes as a ceiling.
/// STREAM's rule (its "best rate"): interference on a shared machine only ever slows a sample,
/// so the fastest one is the machine's, and a ceiling must bound every median placed under it.
pub fn best_rates(m: &Measurement) -> (Option<f64>, Option<f64>) {
    let Some(secs) = m
        .stats
        .as_ref()
        .map(|s| s.min_ns * 1e-9)
        .filter(|&s| s > 0.0)
    else {
        return (None, None);
    };
    let rate = |amount: f64| (amount > 0.0).then(|| amount / secs / 1e9);
    (rate(m.bytes), rate(m.flops))
}

/// The ceiling a subject is compared with: its key, value and the thread count it was measured at.
#[derive(Debug, Clone, PartialEq)]
struct Chosen {
    key: String,
    value: f64,
    threads: Option<usize>,
}

/// `base_t<N>` for the thread count closest to `threads` from above (a ceiling measured with more
/// threads than the kernel used is an upper bound, never an inflated %), else the largest below;
/// the unsuffixed legacy `base` when no thread count was recorded.
fn pick(dev: &BTreeMap<String, f64>, base: &str, threads: usize) -> Option<Chosen> {
    let prefix = format!("{base}_t");
    let mut counts: Vec<(usize, f64)> = dev
        .iter()
        .filter_map(|(k, &v)| Some((k.strip_prefix(&prefix)?.parse().ok()?, v)))
        .collect();
    counts.sort_by_key(|c| c.0);
    let at = counts
        .iter()
        .find(|c| c.0 >= threads.max(1) && threads > 0)
        .or_else(|| counts.last());
    match at {
        Some(&(t, value)) => Some(Chosen {
            key: format!("{prefix}{t}"),
            value,
            threads: Some(t),
        }),
        None => dev.get(base).map(|&value| Chosen {
            key: base.to_string(),
            value,
            threads: None,
        }),
    }
}

/// How far past a private cache's capacity a footprint is still judged against that cache.
/// Adaptive replacement keeps most of a footprint just past the capacity resident (a 4 MiB matrix
/// plus its 4 KiB row of sums runs at L2 speed on two cores' 2 MiB L2s), and a ceiling must stay an
/// upper bound: near a boundary, the faster level is the safe choice.
pub const PRIVATE_LEVEL_SLACK: f64 = 1.0 / 8.0;

/// The level a footprint lands in at `threads`: the first whose capacity holds it (a private
/// level with [`PRIVATE_LEVEL_SLACK`]; L3's capacity is the measured knee, past which is DRAM).
pub fn level_of(dev: &BTreeMap<String, f64>, footprint: f64, threads: usize) -> Level {
    for level in [Level::L1, Level::L2, Level::L3] {
        let base = format!("level_{}_bytes", level.key());
        let Some(cap) = pick(dev, &base, threads) else {
            continue;
        };
        let fits = if level == Level::L3 {
            footprint < cap.value
        } else {
            footprint <= cap.value * (1.0 + PRIVATE_LEVEL_SLACK)
        };
        if fits {
            return level;
        }
    }
    Level::Dram
}

/// The bandwidth ceiling for `level` at `threads`; a level without its own measured ceiling takes
/// the next faster one's (higher, so the % is never inflated); a run without levels, the legacy
/// DRAM key.
fn bandwidth_ceiling(
    dev: &BTreeMap<String, f64>,
    level: Level,
    threads: usize,
) -> Option<(Chosen, Option<Level>)> {
    let mut at = Some(level);
    while let Some(l) = at {
        if let Some(c) = pick(dev, &format!("bandwidth_{}_gbps", l.key()), threads) {
            return Some((c, Some(l)));
        }
        at = l.faster();
    }
    dev.get(BANDWIDTH_KEY).map(|&value| {
        let c = Chosen {
            key: BANDWIDTH_KEY.to_string(),
            value,
            threads: None,
        };
        (c, None)
    })
}

/// Places a subject under the ceilings of its device: the bandwidth of the level its footprint
/// lands in at its thread count, and the compute peak of its own type at its thread count. A
/// measurement is memory-bound when its arithmetic intensity lies left of the ridge point of those
/// two. `None` when the device has no measured peaks, the workload has no cost model, or its type
/// has no measured compute ceiling (the ridge point is then unknown). A rate above the ceiling is
/// kept, flagged with the reason in `above_ceiling`, and must never be shown as a result.
pub fn place(peaks: &Peaks, s: &Subject<'_>) -> Option<Roofline> {
    let dev = peaks.get(s.device)?;
    let (flops, bytes, seconds) = (s.flops, s.bytes, s.seconds);
    if seconds <= 0.0 || (bytes <= 0.0 && flops <= 0.0) {
        return None;
    }
    let compute = pick(dev, &compute_key(s.dtype), s.threads);
    if flops > 0.0 && compute.is_none() && s.dtype != DType::F32 {
        return None;
    }
    let footprint = if s.footprint_bytes > 0.0 {
        s.footprint_bytes
    } else {
        bytes
    };
    let level = level_of(dev, footprint, s.threads);
    let memory = (bytes > 0.0)
        .then(|| bandwidth_ceiling(dev, level, s.threads))
        .flatten();
    let intensity = (bytes > 0.0).then(|| flops / bytes);
    let compute_bound = match (&memory, &compute, intensity) {
        (Some((bw, _)), Some(pf), Some(i)) => flops > 0.0 && i * bw.value >= pf.value,
        (None, Some(_), _) => flops > 0.0,
        _ => false,
    };
    let r = if compute_bound {
        let pf = compute?;
        let rate = flops / seconds / 1e9;
        roofline(Bound::Compute, rate, pf, None, intensity)
    } else {
        let (bw, level) = memory?;
        let rate = bytes / seconds / 1e9;
        roofline(Bound::Memory, rate, bw, level, intensity)
    };
    Some(r)
}

fn roofline(
    bound: Bound,
    rate: f64,
    c: Chosen,
    level: Option<Level>,
    intensity: Option<f64>,
) -> Roofline {
    let pct = rate / c.value;
    let unit = if bound == Bound::Memory {
        "GB/s"
    } else {
        "GFLOP/s"
    };
    let what = level.map_or_else(|| c.key.clone(), |l| format!("{} ceiling", l.name()));
    let above_ceiling = (pct > 1.0).then(|| {
        format!(
            "{rate:.3} {unit} is {:.0}% of the {what} ({:.3} {unit}): a rate above the measured \
             ceiling means the probe under-measures it, so this is no result",
            pct * 100.0,
            c.value
        )
    });
    Roofline {
        bound,
        pct_of_peak: pct,
        intensity,
        ceiling: c.key,
        level: level.map(|l| l.name().to_string()),
        ceiling_threads: c.threads,
        ceiling_value: Some(c.value),
        above_ceiling,
    }
}

/// How a table names a placement: `82% of L2`, `41% of f32 peak`, or `above L2 ceiling` (never
/// a figure above 100%).
pub fn label(r: &Roofline) -> String {
    let of = match (&r.level, r.bound) {
        (Some(l), _) => l.clone(),
        (None, Bound::Memory) => "DRAM".to_string(),
        (None, Bound::Compute) => "peak".to_string(),
    };
    if r.above_ceiling.is_some() {
        format!("above {of} ceiling")
    } else {
        format!("{:.0}% of {of}", r.pct_of_peak * 100.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peaks() -> Peaks {
        let mut p = Peaks::new();
        p.entry("cpu".into()).or_default().extend([
            (BANDWIDTH_KEY.to_string(), 10.0),
            (COMPUTE_KEY.to_string(), 100.0),
        ]);
        p
    }

    #[test]
    fn low_intensity_is_memory_bound() {
        // 1 GB in 0.2 s = 5 GB/s of 10: 50%.
        let r = classify(&peaks(), "cpu", DType::F32, 1e8, 1e9, 0.2).unwrap();
        assert_eq!(r.bound, Bound::Memory);
        assert!((r.pct_of_peak - 0.5).abs() < 1e-12);
        assert!(r.above_ceiling.is_none());
    }

    #[test]
    fn high_intensity_is_compute_bound() {
        // 2e11 flops in 4 s = 50 GFLOP/s of 100; intensity 200 ≫ ridge 10.
        let r = classify(&peaks(), "cpu", DType::F32, 2e11, 1e9, 4.0).unwrap();
        assert_eq!(r.bound, Bound::Compute);
        assert!((r.pct_of_peak - 0.5).abs() < 1e-12);
    }

    #[test]
    fn other_types_need_their_own_compute_ceiling() {
        // int8 at 300 "GFLOP/s" must not be judged against the f32 peak of 100.
        assert!(classify(&peaks(), "cpu", DType::I8, 3e11, 1e9, 1.0).is_none());
        let mut p = peaks();
        p.get_mut("cpu")
            .unwrap()
            .insert("compute_gflops_i8".into(), 400.0);
        let r = classify(&p, "cpu", DType::I8, 3e11, 1e9, 1.0).unwrap();
        assert_eq!(r.ceiling, "compute_gflops_i8");
        assert!((r.pct_of_peak - 0.75).abs() < 1e-12);
        // Copies of any type are placed against the bandwidth alone.
        let r = classify(&peaks(), "cpu", DType::I8, 0.0, 1e9, 0.2).unwrap();
        assert_eq!(r.bound, Bound::Memory);
    }

    #[test]
    fn unknown_device_has_no_roofline() {
        assert!(classify(&peaks(), "cuda:0", DType::F32, 1.0, 1.0, 1.0).is_none());
    }

    /// A two-core machine: 48 KiB L1 and 2 MiB L2 per core, knee at 64 MiB; ceilings per level
    /// for 1 and 2 threads, f32 and bf16 compute for both.
    fn levels() -> Peaks {
        let mut p = peaks();
        let dev = p.get_mut("cpu").unwrap();
        for (t, scale) in [(1usize, 1.0), (2, 2.0)] {
            let caps = [
                (Level::L1, 48.0 * 1024.0 * t as f64),
                (Level::L2, 2.0 * 1048576.0 * t as f64),
                (Level::L3, 64.0 * 1048576.0),
            ];
            for (l, cap) in caps {
                dev.insert(capacity_key(l, t), cap);
            }
            let bws = [(Level::L1, 400.0), (Level::L2, 150.0), (Level::L3, 60.0)];
            for (l, bw) in bws {
                dev.insert(bandwidth_key(l, t), bw * scale);
            }
            dev.insert(bandwidth_key(Level::Dram, t), 12.0 + 8.0 * (scale - 1.0));
            dev.insert(compute_key_at(DType::F32, t), 100.0 * scale);
            dev.insert(compute_key_at(DType::Bf16, t), 400.0 * scale);
        }
        p
    }

    fn memory_subject(threads: usize, footprint: f64, gbps: f64) -> Subject<'static> {
        Subject {
            device: "cpu",
            dtype: DType::F32,
            flops: 0.0,
            bytes: 1e9,
            seconds: 1.0 / gbps,
            threads,
            footprint_bytes: footprint,
        }
    }

    #[test]
    fn each_footprint_is_judged_against_its_own_level() {
        let p = levels();
        let cases = [
            (24.0 * 1024.0, "L1", "bandwidth_l1_gbps_t1", 400.0),
            (48.0 * 1024.0, "L1", "bandwidth_l1_gbps_t1", 400.0),
            (1048576.0, "L2", "bandwidth_l2_gbps_t1", 150.0),
            // Just past the 2 MiB L2 (a matrix and its row of sums): still L2.
            (
                2.0 * 1048576.0 + 4096.0,
                "L2",
                "bandwidth_l2_gbps_t1",
                150.0,
            ),
            (2.5 * 1048576.0, "L3", "bandwidth_l3_gbps_t1", 60.0),
            (32.0 * 1048576.0, "L3", "bandwidth_l3_gbps_t1", 60.0),
            (64.0 * 1048576.0, "DRAM", "bandwidth_dram_gbps_t1", 12.0),
            (1e10, "DRAM", "bandwidth_dram_gbps_t1", 12.0),
        ];
        for (footprint, level, key, ceiling) in cases {
            let r = place(&p, &memory_subject(1, footprint, ceiling * 0.82)).unwrap();
            assert_eq!(r.level.as_deref(), Some(level), "{footprint}");
            assert_eq!(r.ceiling, key);
            assert!((r.pct_of_peak - 0.82).abs() < 1e-9, "{r:?}");
            assert_eq!(label(&r), format!("82% of {level}"));
        }
    }

    #[test]
    fn two_threads_hold_twice_the_private_caches() {
        let p = levels();
        // 80 KiB: past one core's L1, inside two cores' L1s.
        let one = place(&p, &memory_subject(1, 80.0 * 1024.0, 100.0)).unwrap();
        let two = place(&p, &memory_subject(2, 80.0 * 1024.0, 100.0)).unwrap();
        assert_eq!(one.level.as_deref(), Some("L2"));
        assert_eq!(two.level.as_deref(), Some("L1"));
        assert_eq!(two.ceiling, "bandwidth_l1_gbps_t2");
        assert_eq!(two.ceiling_threads, Some(2));
    }

    #[test]
    fn one_thread_is_judged_against_one_thread() {
        let p = levels();
        let gemm = |threads| Subject {
            device: "cpu",
            dtype: DType::F32,
            flops: 88e9,
            bytes: 1e8,
            seconds: 1.0,
            threads,
            footprint_bytes: 1e8,
        };
        let r1 = place(&p, &gemm(1)).unwrap();
        assert_eq!(r1.bound, Bound::Compute);
        assert_eq!(r1.ceiling, "compute_gflops_t1");
        assert!((r1.pct_of_peak - 0.88).abs() < 1e-9);
        let r2 = place(&p, &gemm(2)).unwrap();
        assert_eq!(r2.ceiling, "compute_gflops_t2");
        assert!((r2.pct_of_peak - 0.44).abs() < 1e-9);
        // Three threads have no ceiling of their own: the largest measured count, never a smaller one.
        assert_eq!(place(&p, &gemm(3)).unwrap().ceiling, "compute_gflops_t2");
    }

    #[test]
    fn each_dtype_gets_its_own_compute_ceiling() {
        let p = levels();
        let op = |dtype| Subject {
            device: "cpu",
            dtype,
            flops: 300e9,
            bytes: 1e8,
            seconds: 1.0,
            threads: 1,
            footprint_bytes: 1e8,
        };
        let r = place(&p, &op(DType::Bf16)).unwrap();
        assert_eq!(r.ceiling, "compute_gflops_bf16_t1");
        assert!((r.pct_of_peak - 0.75).abs() < 1e-9);
        // f16 has no probe here: no compute roofline rather than the f32 or bf16 peak.
        assert!(place(&p, &op(DType::F16)).is_none());
        // f32 at 300 exceeds its 100: flagged, never shown as a figure.
        let r = place(&p, &op(DType::F32)).unwrap();
        assert!(r.above_ceiling.is_some());
        assert_eq!(label(&r), "above peak ceiling");
    }

    #[test]
    fn above_the_ceiling_is_flagged_not_shown() {
        let p = levels();
        let r = place(&p, &memory_subject(1, 1e10, 13.2)).unwrap();
        assert!((r.pct_of_peak - 1.1).abs() < 1e-9);
        let why = r.above_ceiling.as_deref().unwrap();
        assert!(why.contains("DRAM ceiling"), "{why}");
        assert_eq!(label(&r), "above DRAM ceiling");
    }

    #[test]
    fn a_missing_level_falls_back_to_a_faster_one() {
        let mut p = levels();
        p.get_mut("cpu")
            .unwrap()
            .retain(|k, _| !k.starts_with("bandwidth_l3"));
        let r = place(&p, &memory_subject(1, 32.0 * 1048576.0, 75.0)).unwrap();
        assert_eq!(r.level.as_deref(), Some("L2"));
        assert!((r.pct_of_peak - 0.5).abs() < 1e-9);
    }
}
