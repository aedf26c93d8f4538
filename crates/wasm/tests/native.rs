//! The ops natively: every kernel family matches the f64 reference, and the ids are what the
//! driver and comparisons join on.

use tensorbench_core::workload::max_rel_err;
use tensorbench_cpu_simd::kernels::simd::Kernels;
use tensorbench_wasm::ops::{self, Flavor, Inputs, Op, Point};

#[test]
fn every_op_matches_the_reference_natively() {
    for flavor in [Flavor::Scalar, Flavor::Simd(Kernels::best())] {
        for op in Op::ALL {
            let n = match op {
                Op::Softmax => 3 * ops::SOFTMAX_COLS,
                Op::Gemm | Op::GemmI8 => 23,
                _ => 4099,
            };
            let p = Point { op, n };
            let got = ops::run_once(p, flavor, 5).unwrap();
            let err = max_rel_err(&got, &ops::reference(p, &Inputs::generate(p, 5)));
            assert!(err <= ops::tolerance(p), "{op:?} {flavor:?}: {err:e}");
        }
    }
}

#[test]
fn a_wrong_result_fails_the_check() {
    let p = Point {
        op: Op::DotI8,
        n: 100,
    };
    let mut got = ops::run_once(p, Flavor::Scalar, 1).unwrap();
    got[0] += 1.0;
    let err = max_rel_err(&got, &ops::reference(p, &Inputs::generate(p, 1)));
    assert!(err > ops::tolerance(p));
}

#[test]
fn ids_carry_backend_and_runtime() {
    let p = Point {
        op: Op::Add,
        n: 1 << 16,
    };
    assert_eq!(
        ops::spec(p, "native-simd", None).id,
        "wasm/add/native-simd/f32/n=65536"
    );
    assert_eq!(
        ops::spec(p, "wasm-simd128", Some("chromium")).id,
        "wasm/add/wasm-simd128/f32/n=65536,runtime=chromium"
    );
    let g = Point {
        op: Op::GemmI8,
        n: 64,
    };
    assert_eq!(
        ops::spec(g, "wasm-scalar", None).id,
        "wasm/gemm_i8/wasm-scalar/i8/k=64,m=64,n=64"
    );
}
