//! Placing a measurement under the ceilings measured in the same run.

use crate::schema::{Bound, DType, Peaks, Roofline};

/// Every device's probes publish these two keys in [`Peaks`] (beside detailed ones such as
/// `stream_triad_gbps`): the best measured memory bandwidth and the best measured compute rate.
pub const BANDWIDTH_KEY: &str = "bandwidth_gbps";
pub const COMPUTE_KEY: &str = "compute_gflops";

/// The compute ceiling `dtype` is judged against: [`COMPUTE_KEY`] (the f32 peak) for f32, and
/// `compute_gflops_<dtype>` for every other type, published only by a probe of that type's own
/// arithmetic (int8 dot products, tensor-core f16) — never the f32 peak, which such kernels can
/// exceed several times over.
pub fn compute_key(dtype: DType) -> String {
    match dtype {
        DType::F32 => COMPUTE_KEY.to_string(),
        other => format!("{COMPUTE_KEY}_{}", other.name()),
    }
}

/// Classic roofline: attainable = min(peak compute, intensity × peak bandwidth). A measurement is
/// memory-bound when its arithmetic intensity lies left of the ridge point. `None` when the device
/// has no measured peaks, the workload has no cost model, or its type has no measured compute
/// ceiling (the ridge point is then unknown).
pub fn classify(
    peaks: &Peaks,
    device: &str,
    dtype: DType,
    flops: f64,
    bytes: f64,
    seconds: f64,
) -> Option<Roofline> {
    let dev = peaks.get(device)?;
    if seconds <= 0.0 || (bytes <= 0.0 && flops <= 0.0) {
        return None;
    }
    let key = compute_key(dtype);
    let peak_bw = dev.get(BANDWIDTH_KEY).copied();
    let peak_flops = dev.get(&key).copied();
    if flops > 0.0 && peak_flops.is_none() && dtype != DType::F32 {
        return None;
    }
    let intensity = (bytes > 0.0).then(|| flops / bytes);
    let memory = |bw: f64| Roofline {
        bound: Bound::Memory,
        pct_of_peak: bytes / seconds / 1e9 / bw,
        intensity,
        ceiling: BANDWIDTH_KEY.to_string(),
    };
    let compute = |pf: f64| Roofline {
        bound: Bound::Compute,
        pct_of_peak: flops / seconds / 1e9 / pf,
        intensity,
        ceiling: key.clone(),
    };
    match (intensity, peak_bw, peak_flops) {
        (Some(i), Some(bw), Some(pf)) if flops > 0.0 && i * bw >= pf => Some(compute(pf)),
        (Some(_), Some(bw), _) => Some(memory(bw)),
        (None, _, Some(pf)) if flops > 0.0 => Some(compute(pf)),
        _ => None,
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
}
