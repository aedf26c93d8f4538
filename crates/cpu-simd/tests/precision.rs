//! int8 quantization and GEMM, f16/bf16 GEMM and GEMV: correctness of the kernels on awkward
//! shapes, and the workloads through the real sampler (valid, accuracy cost recorded, a planted
//! wrong kernel reported `invalid`).

mod common;

use common::{assert_ok, ctx, measure};
use half::{bf16, f16};
use tensorbench_core::schema::Status;
use tensorbench_core::{Workload, data};
use tensorbench_cpu_simd::kernels::half_prec::{self, GemvStorage, HalfGemmWorkspace, Storage};
use tensorbench_cpu_simd::kernels::int8_gemm::{self, Int8Gemm, Int8Path, Int8Workspace};
use tensorbench_cpu_simd::kernels::quant::Granularity;
use tensorbench_cpu_simd::kernels::quant::{self, QMAX};
use tensorbench_cpu_simd::workloads::precision::{Gemv, HalfGemm, frobenius_rel_err};
use tensorbench_cpu_simd::workloads::quant::{Int8GemmWorkload, Int8Kernel, QuantOp, transpose};
use tensorbench_cpu_simd::workloads::{Backend, gemm_tolerance};

fn random_i8(n: usize, seed: u64) -> Vec<i8> {
    data::uniform_f32_in(n, seed, -128.0, 128.0)
        .into_iter()
        .map(|v| v.floor() as i8)
        .collect()
}

#[test]
fn quantize_round_trip_is_within_half_a_step() {
    let x: Vec<f32> = data::uniform_f32(3000, 1).iter().map(|v| v * 5.0).collect();
    let mut q = vec![0i8; x.len()];
    let s = quant::quantize_tensor(&x, &mut q);
    let amax = x.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    assert!(
        (s - amax / QMAX).abs() <= 1e-6 * s,
        "scale {s} vs {}",
        amax / QMAX
    );
    assert!(
        q.iter().any(|&v| v.abs() == 127),
        "the largest value maps to ±127"
    );
    let mut back = vec![0.0; x.len()];
    quant::dequantize(&q, s, &mut back);
    for (&a, &b) in x.iter().zip(&back) {
        assert!(
            (a - b).abs() <= s / 2.0 * 1.0001,
            "{a} came back as {b} (scale {s})"
        );
    }
}

#[test]
fn quantize_rounds_ties_to_even_in_the_vector_body_and_the_tail() {
    // max|x| = 127 makes the scale exactly 1; 37 values cover a 32-wide body and a tail.
    let pattern = [0.5f32, 1.5, 2.5, -0.5, -2.5, 126.5];
    let want = [0i8, 2, 2, 0, -2, 126];
    let mut x = vec![127.0f32];
    x.extend(pattern.iter().cycle().take(36));
    let mut q = vec![0i8; x.len()];
    assert_eq!(quant::quantize_tensor(&x, &mut q), 1.0);
    for (i, &v) in q.iter().enumerate().skip(1) {
        assert_eq!(v, want[(i - 1) % 6], "x[{i}] = {}", x[i]);
    }
}

#[test]
fn per_channel_scales_follow_each_row() {
    let (rows, cols) = (5, 33);
    let mut x = data::uniform_f32(rows * cols, 2);
    for (r, row) in x.chunks_mut(cols).enumerate() {
        row.iter_mut().for_each(|v| *v *= 10f32.powi(r as i32 - 2));
    }
    let (mut q, mut scales, mut back) = (vec![0; x.len()], vec![0.0; rows], vec![0.0; x.len()]);
    quant::quantize_rows(&x, cols, &mut scales, &mut q);
    quant::dequantize_rows(&q, cols, &scales, &mut back);
    for r in 0..rows {
        let row = &x[r * cols..(r + 1) * cols];
        let amax = row.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        assert!((scales[r] - amax / QMAX).abs() <= 1e-6 * scales[r]);
        for c in 0..cols {
            let e = (back[r * cols + c] - row[c]).abs();
            assert!(e <= scales[r] / 2.0 * 1.0001, "row {r} col {c}: error {e}");
        }
    }
}

#[test]
fn all_zero_tensor_quantizes_to_zero() {
    let x = vec![0.0f32; 10];
    let mut q = vec![1i8; 10];
    let s = quant::quantize_tensor(&x, &mut q);
    assert_eq!(s, 1.0);
    assert!(q.iter().all(|&v| v == 0));
}

/// Shapes that are not multiples of any tile, with k odd and across several depth blocks.
const ODD_SHAPES: &[(usize, usize, usize)] = &[
    (1, 1, 1),
    (7, 5, 3),
    (13, 37, 301),
    (29, 70, 513),
    (50, 33, 1),
    (3, 100, 64),
    (0, 4, 4),
    (4, 4, 0),
];

fn check_exact(m: usize, n: usize, k: usize, a: &[i8], bt: &[i8], c: &[i32], what: &str) {
    for i in 0..m {
        for j in 0..n {
            let want = int8_gemm::dot_i64(a, bt, k, i, j);
            assert_eq!(
                i64::from(c[i * n + j]),
                want,
                "{what} {m}×{n}×{k} at ({i},{j})"
            );
        }
    }
}

#[test]
fn int8_gemm_is_exact_on_every_path_and_odd_shapes() {
    for &(m, n, k) in ODD_SHAPES {
        let a = random_i8(m * k, 3);
        let bt = random_i8(n * k, 4);
        for path in Int8Path::available() {
            let g = Int8Gemm::new(path).expect("available");
            let mut c = vec![i32::MIN; m * n];
            let mut ws = Int8Workspace::new();
            g.gemm(m, n, k, &a, &bt, &mut c, &mut ws);
            check_exact(m, n, k, &a, &bt, &c, path.name());
            // A second call reuses the workspace and must overwrite, not accumulate.
            g.gemm(m, n, k, &a, &bt, &mut c, &mut ws);
            check_exact(m, n, k, &a, &bt, &c, path.name());
        }
        let mut c = vec![i32::MIN; m * n];
        int8_gemm::par_gemm(m, n, k, &a, &bt, &mut c);
        check_exact(m, n, k, &a, &bt, &c, "rayon");
        let mut c = vec![i32::MIN; m * n];
        int8_gemm::scalar_gemm(m, n, k, &a, &bt, &mut c);
        check_exact(m, n, k, &a, &bt, &c, "scalar");
    }
}

#[test]
fn int8_gemm_extremes_do_not_overflow() {
    // -128·-128 pairs are the one case where i16 pair sums reach 2^15.
    let (m, n, k) = (3, 17, 1001);
    let a = vec![-128i8; m * k];
    let bt = vec![-128i8; n * k];
    for path in Int8Path::available() {
        let mut c = vec![0; m * n];
        Int8Gemm::new(path)
            .unwrap()
            .gemm(m, n, k, &a, &bt, &mut c, &mut Int8Workspace::new());
        assert!(
            c.iter().all(|&v| v == 128 * 128 * k as i32),
            "{}",
            path.name()
        );
    }
}

#[test]
fn int8_gemm_is_exact_where_partial_sums_wrap() {
    // On the VNNI path A is biased by +128, so 127·127 products are summed as 255·127: past
    // k ≈ 66 000 the partial sums wrap while the true result still fits i32.
    let (m, n, k) = (2, 3, 70_000);
    let a = vec![127i8; m * k];
    let bt = vec![127i8; n * k];
    for path in Int8Path::available() {
        let mut c = vec![0; m * n];
        Int8Gemm::new(path)
            .unwrap()
            .gemm(m, n, k, &a, &bt, &mut c, &mut Int8Workspace::new());
        assert!(
            c.iter().all(|&v| v == 127 * 127 * k as i32),
            "{}",
            path.name()
        );
    }
}

#[cfg(target_arch = "x86_64")]
#[test]
fn int8_paths_follow_the_cpu() {
    let paths = Int8Path::available();
    let vnni = std::arch::is_x86_feature_detected!("avx512vnni")
        && std::arch::is_x86_feature_detected!("avx512bw");
    assert_eq!(paths.contains(&Int8Path::Avx512Vnni), vnni);
    assert_eq!(
        paths.contains(&Int8Path::Avx2),
        std::arch::is_x86_feature_detected!("avx2")
    );
    assert_eq!(Int8Path::best(), *paths.last().unwrap());
}

fn f64_gemm(m: usize, n: usize, k: usize, a: &[f32], b: &[f32]) -> Vec<f64> {
    let mut c = vec![0.0; m * n];
    for i in 0..m {
        for p in 0..k {
            let av = f64::from(a[i * k + p]);
            for j in 0..n {
                c[i * n + j] += av * f64::from(b[p * n + j]);
            }
        }
    }
    c
}

fn max_rel(got: &[f32], want: &[f64]) -> f64 {
    tensorbench_core::workload::max_rel_err(got, want)
}

fn check_half_gemm<T: Storage>(name: &str, round_trip_bound: f64) {
    for &(m, n, k) in &[(7, 5, 3), (200, 33, 130), (13, 70, 300), (4, 4, 0)] {
        let a32 = data::uniform_f32(m * k, 5);
        let b32 = data::uniform_f32(k * n, 6);
        let a: Vec<T> = half_prec::narrow(&a32);
        let b: Vec<T> = half_prec::narrow(&b32);
        let want = f64_gemm(
            m,
            n,
            k,
            &half_prec::widen_vec(&a),
            &half_prec::widen_vec(&b),
        );
        let mut c = vec![f32::NAN; m * n];
        half_prec::gemm(m, n, k, &a, &b, &mut c, &mut HalfGemmWorkspace::new());
        let e = max_rel(&c, &want);
        assert!(e < gemm_tolerance(k), "{name} simd {m}×{n}×{k}: {e}");
        let mut c2 = vec![f32::NAN; m * n];
        half_prec::par_gemm(m, n, k, &a, &b, &mut c2, &mut Vec::new());
        let e = max_rel(&c2, &want);
        assert!(e < gemm_tolerance(k), "{name} rayon {m}×{n}×{k}: {e}");
        if k > 0 {
            // The rounding cost against the unrounded inputs is small but not zero.
            let exact: Vec<f32> = f64_gemm(m, n, k, &a32, &b32)
                .iter()
                .map(|&v| v as f32)
                .collect();
            let e = frobenius_rel_err(&c, &exact);
            assert!(e > 0.0 && e < round_trip_bound, "{name} {m}×{n}×{k}: {e}");
        }
    }
}

#[test]
fn f16_and_bf16_gemm_match_f64_on_rounded_inputs() {
    check_half_gemm::<f16>("f16", 2e-3);
    check_half_gemm::<bf16>("bf16", 1.6e-2);
}

fn check_gemv<T: GemvStorage>(name: &str) {
    for &(m, k) in &[(1, 1), (5, 7), (70, 37), (3, 300), (130, 64)] {
        let a: Vec<T> = half_prec::narrow(&data::uniform_f32(m * k, 8));
        let x = data::uniform_f32(k, 9);
        let wide = half_prec::widen_vec(&a);
        let want: Vec<f64> = wide
            .chunks(k)
            .map(|r| {
                r.iter()
                    .zip(&x)
                    .map(|(&a, &b)| f64::from(a) * f64::from(b))
                    .sum()
            })
            .collect();
        let mut y = vec![f32::NAN; m];
        half_prec::gemv(&a, &x, &mut y);
        let e = max_rel(&y, &want);
        assert!(e < gemm_tolerance(k), "{name} gemv {m}×{k}: {e}");
        let mut y = vec![f32::NAN; m];
        half_prec::par_gemv(&a, &x, &mut y);
        let e = max_rel(&y, &want);
        assert!(e < gemm_tolerance(k), "{name} par gemv {m}×{k}: {e}");
    }
}

#[test]
fn gemv_matches_f64_for_every_storage_type() {
    check_gemv::<f32>("f32");
    check_gemv::<f16>("f16");
    check_gemv::<bf16>("bf16");
}

#[test]
fn transpose_swaps_rows_and_columns() {
    let x: Vec<f32> = (0..6).map(|v| v as f32).collect();
    assert_eq!(transpose(&x, 2, 3), vec![0.0, 3.0, 1.0, 4.0, 2.0, 5.0]);
}

#[test]
fn precision_workloads_validate_and_record_their_accuracy_cost() {
    let ctx = ctx();
    let mut ws: Vec<Box<dyn Workload>> = vec![
        Box::new(HalfGemm::<f16>::new(Backend::Simd, (40, 50, 60), &ctx)),
        Box::new(HalfGemm::<bf16>::new(Backend::Rayon, (40, 50, 60), &ctx)),
        Box::new(Gemv::<f16>::new(Backend::Simd, 64, 100, &ctx)),
        Box::new(Gemv::<bf16>::new(Backend::Rayon, 64, 100, &ctx)),
    ];
    for w in &mut ws {
        let m = measure(w.as_mut());
        assert_ok(&m);
        let e = m.extra["rel_err_vs_f32"]
            .as_f64()
            .expect("accuracy cost recorded");
        let bound = if m.dtype.name() == "f16" {
            2e-3
        } else {
            1.6e-2
        };
        assert!(e > 0.0 && e < bound, "{}: {e}", m.id);
        assert!(m.extra["f32_partner"].as_str().unwrap().contains("/f32/"));
    }
    let mut plain = Gemv::<f32>::new(Backend::Simd, 64, 100, &ctx);
    assert_ok(&measure(&mut plain));
}

#[test]
fn int8_workloads_validate_exactly_and_record_both_granularities() {
    let ctx = ctx();
    for backend in [Backend::Scalar, Backend::Simd, Backend::Rayon] {
        let kernel = Int8Kernel::for_backend(backend).unwrap();
        let mut w = Int8GemmWorkload::new(backend, kernel, (30, 40, 77), &ctx);
        let m = measure(&mut w);
        assert_ok(&m);
        assert_eq!(m.validation.as_ref().unwrap().max_rel_err, 0.0);
        let pt = m.extra["rel_err_vs_f32_per_tensor"].as_f64().unwrap();
        let pc = m.extra["rel_err_vs_f32_per_channel"].as_f64().unwrap();
        // int8 of uniform data costs about 1% relative error; per channel is never much worse.
        assert!(pt > 1e-4 && pt < 0.05, "per tensor {pt}");
        assert!(
            pc > 1e-4 && pc < 0.05 && pc <= pt * 1.2,
            "per channel {pc} vs {pt}"
        );
        assert_eq!(
            m.extra["f32_partner"],
            format!("cpu-simd/gemm/{}/f32/k=77,m=30,n=40", backend.name())
        );
    }
}

#[test]
fn a_wrong_int8_kernel_is_invalid() {
    fn off_by_one(m: usize, n: usize, k: usize, a: &[i8], bt: &[i8], c: &mut [i32]) {
        int8_gemm::scalar_gemm(m, n, k, a, bt, c);
        c[m * n - 1] += 1;
    }
    let kernel = Int8Kernel::Custom(off_by_one);
    let mut w = Int8GemmWorkload::new(Backend::Simd, kernel, (9, 9, 9), &ctx());
    let m = measure(&mut w);
    assert_eq!(m.status, Status::Invalid, "{:?}", m.validation);
    assert!(m.stats.is_none(), "an invalid kernel is never timed");
}

#[test]
fn quantize_workloads_validate() {
    let ctx = ctx();
    for dequant in [false, true] {
        for gran in Granularity::ALL {
            let mut w = QuantOp::new(dequant, gran, 4096, &ctx);
            assert_ok(&measure(&mut w));
        }
    }
}
