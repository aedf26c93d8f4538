//! Fused kernels against their unfused compositions and f64, on every instruction set; every
//! fusion pair through the real sampler on both backends and both variants.

mod common;

use common::measure;
use tensorbench_core::data;
use tensorbench_core::schema::Status;
use tensorbench_core::workload::max_rel_err;
use tensorbench_cpu_simd::kernels::simd::{Act, GemmWorkspace, Isa, Kernels};
use tensorbench_cpu_simd::workloads::fusion::{Fusion, Pair, Variant};
use tensorbench_cpu_simd::workloads::models::reference as r;
use tensorbench_cpu_simd::workloads::{Backend, Ctx, Profile};

fn every_isa() -> Vec<Kernels> {
    Isa::available()
        .into_iter()
        .filter_map(Kernels::new)
        .collect()
}

fn act64(act: Act, x: f64) -> f64 {
    match act {
        Act::Identity => x,
        Act::Relu => r::relu(x),
        Act::Gelu => r::gelu(x),
    }
}

#[test]
fn add_relu_equals_add_then_relu() {
    for k in every_isa() {
        let n = 1000 + 7;
        let (a, b) = (data::uniform_f32(n, 1), data::uniform_f32(n, 2));
        let (mut fused, mut sum, mut unfused) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
        k.add_relu(&a, &b, &mut fused);
        k.add(&a, &b, &mut sum);
        k.relu(&sum, &mut unfused);
        assert_eq!(fused, unfused, "{:?}", k.isa());
        assert!(fused.contains(&0.0) && fused.iter().any(|&v| v > 0.0));
    }
}

/// Shapes with edge tiles, k past one packed block (the epilogue must run once, on the last
/// block only), and k = 0 (the output is act(bias)).
#[test]
fn gemm_epilogue_matches_gemm_then_bias_then_act() {
    for k in every_isa() {
        for &(m, n, kk) in &[
            (1, 1, 1),
            (13, 37, 5),
            (29, 70, 300),
            (7, 9, 0),
            (64, 48, 513),
        ] {
            let a = data::uniform_f32(m * kk, 3);
            let b = data::uniform_f32(kk * n, 4);
            let bias = data::uniform_f32(n, 5);
            let mut ws = GemmWorkspace::new();
            let mut plain = vec![0.0; m * n];
            k.gemm(m, n, kk, &a, &b, &mut plain, &mut ws);
            for act in [Act::Identity, Act::Relu, Act::Gelu] {
                let mut fused = vec![f32::NAN; m * n];
                k.gemm_bias_act(m, n, kk, &a, &b, &bias, act, &mut fused, &mut ws);
                let unfused: Vec<f64> = (0..m * n)
                    .map(|e| act64(act, f64::from(plain[e]) + f64::from(bias[e % n])))
                    .collect();
                let mut exact = r::matmul(m, n, kk, &r::widen(&a), &r::widen(&b));
                r::add_bias(&mut exact, &r::widen(&bias));
                exact.iter_mut().for_each(|v| *v = act64(act, *v));
                let what = format!("{:?} {act:?} m={m} n={n} k={kk}", k.isa());
                assert!(max_rel_err(&fused, &unfused) < 1e-5, "{what} vs unfused");
                assert!(max_rel_err(&fused, &exact) < 1e-4, "{what} vs f64");
            }
        }
    }
}

#[test]
fn scale_shift_rows_is_a_per_row_affine_then_act() {
    for k in every_isa() {
        let (rows, cols) = (5, 43);
        let x = data::uniform_f32(rows * cols, 6);
        let scale = data::uniform_f32(rows, 7);
        let shift = data::uniform_f32(rows, 8);
        for act in [Act::Identity, Act::Relu] {
            let mut out = vec![0.0; rows * cols];
            k.scale_shift_rows(&x, &scale, &shift, act, &mut out);
            let want: Vec<f64> = (0..rows * cols)
                .map(|e| {
                    let (r, x) = (e / cols, f64::from(x[e]));
                    act64(act, x * f64::from(scale[r]) + f64::from(shift[r]))
                })
                .collect();
            // One rounding of x·scale before the shift; judged against a floor of 1e-3 of the scale.
            assert!(max_rel_err(&out, &want) < 1e-4, "{:?} {act:?}", k.isa());
        }
    }
}

#[test]
fn every_pair_validates_fused_and_unfused_on_both_backends() {
    let ctx = Ctx::new(Profile::Quick, 2);
    // The second of each is large enough for rayon to split it (rows and tiles of C, groups of
    // rows at uneven boundaries).
    let pairs = [
        Pair::AddRelu { n: 10_007 },
        Pair::AddRelu { n: 100_003 },
        Pair::GemmBiasGelu {
            m: 33,
            n: 70,
            k: 300,
        },
        Pair::GemmBiasGelu {
            m: 70,
            n: 200,
            k: 40,
        },
        Pair::Softmax {
            rows: 37,
            cols: 129,
        },
        Pair::Softmax {
            rows: 300,
            cols: 129,
        },
        Pair::LayerNorm {
            rows: 37,
            cols: 200,
        },
        Pair::LayerNorm {
            rows: 300,
            cols: 200,
        },
    ];
    for pair in pairs {
        for backend in [Backend::Simd, Backend::Rayon] {
            for variant in [Variant::Fused, Variant::Unfused] {
                let mut w = Fusion::new(pair, variant, backend, &ctx).expect("simd and rayon");
                let m = measure(&mut w);
                assert_eq!(
                    m.status,
                    Status::Ok,
                    "{}: {:?} {:?}",
                    m.id,
                    m.reason,
                    m.validation
                );
                let partner = m.extra["partner_id"].as_str().unwrap().to_string();
                assert_ne!(partner, m.id);
                assert_eq!(
                    partner.replace("unfused", "fused"),
                    m.id.replace("unfused", "fused")
                );
                assert!(m.extra["bytes_saved"].as_f64().unwrap() > 0.0);
            }
        }
    }
}

#[test]
fn no_other_backend_has_a_fused_form() {
    let ctx = Ctx::new(Profile::Quick, 2);
    assert!(
        Fusion::new(
            Pair::AddRelu { n: 8 },
            Variant::Fused,
            Backend::Scalar,
            &ctx
        )
        .is_none()
    );
}
