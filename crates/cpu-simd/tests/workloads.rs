//! Each workload validates at a small size through the real sampler, and a planted wrong kernel
//! is reported `invalid` (never timed).

mod common;

use common::{ctx, measure, measure_ok};
use tensorbench_core::Workload;
use tensorbench_core::schema::Status;
use tensorbench_cpu_simd::kernels::Reduction;
use tensorbench_cpu_simd::kernels::conv::ConvShape;
use tensorbench_cpu_simd::probes::{FmaPeak, Stream, StreamKind, WorkingSet};
use tensorbench_cpu_simd::workloads::conv2d::Conv2d;
use tensorbench_cpu_simd::workloads::elementwise::Kernel;
use tensorbench_cpu_simd::workloads::gemm::{Gemm, GemmKernel};
use tensorbench_cpu_simd::workloads::layer_norm::{self, LayerNorm};
use tensorbench_cpu_simd::workloads::reduce::{self, Reduce};
use tensorbench_cpu_simd::workloads::reduce_axis::{Along, ReduceAxis};
use tensorbench_cpu_simd::workloads::softmax::{self, Softmax};
use tensorbench_cpu_simd::workloads::{Backend, binary, creation};

#[test]
fn elementwise_workloads_validate_on_every_backend() {
    let ctx = ctx();
    for op in [
        "add",
        "sub",
        "mul",
        "div",
        "add_scalar",
        "sub_scalar",
        "mul_scalar",
        "div_scalar",
    ] {
        for backend in [
            Backend::Scalar,
            Backend::Simd,
            Backend::Rayon,
            Backend::Ndarray,
        ] {
            if let Some(mut w) = binary::workload(op, backend, 1031, &ctx) {
                measure_ok(&mut w);
            }
        }
    }
    measure_ok(&mut creation::Random::new(1031, &ctx));
}

#[test]
fn reductions_validate() {
    let ctx = ctx();
    for op in Reduction::ALL {
        for backend in [
            Backend::Scalar,
            Backend::Simd,
            Backend::Rayon,
            Backend::Ndarray,
        ] {
            let k = reduce::kernel(backend).expect("every one of these has reductions");
            measure_ok(&mut Reduce::new(op, backend, k, 4099, &ctx));
            for along in [Along::Rows, Along::Cols] {
                measure_ok(
                    &mut ReduceAxis::new(op, along, backend, 33, 65, &ctx).expect("kernel exists"),
                );
            }
        }
    }
}

#[test]
fn row_ops_validate() {
    let ctx = ctx();
    for backend in Backend::OWN {
        measure_ok(&mut Softmax::new(
            backend,
            softmax::kernel(backend).unwrap(),
            9,
            1000,
            &ctx,
        ));
        measure_ok(&mut LayerNorm::new(
            backend,
            layer_norm::kernel(backend).unwrap(),
            9,
            1000,
            &ctx,
        ));
    }
}

#[test]
fn gemm_and_conv_validate() {
    let ctx = ctx();
    for backend in [
        Backend::Scalar,
        Backend::Simd,
        Backend::Rayon,
        Backend::GemmCrate,
        Backend::Matrixmultiply,
    ] {
        let kernel = GemmKernel::for_backend(backend, &ctx).unwrap();
        measure_ok(&mut Gemm::new(backend, kernel, (37, 45, 70), &ctx));
    }
    let shape = ConvShape {
        batch: 2,
        c_in: 3,
        h: 9,
        w: 11,
        c_out: 5,
        kh: 3,
        kw: 3,
        stride: 2,
        pad: 1,
    };
    for backend in [
        Backend::Scalar,
        Backend::Simd,
        Backend::Rayon,
        Backend::GemmCrate,
    ] {
        measure_ok(&mut Conv2d::new(backend, shape, &ctx));
    }
}

#[test]
fn sampled_gemm_validation_catches_a_wrong_product() {
    // 600³ is above the full-reference limit, so only sampled outputs are checked.
    let ctx = ctx();
    let mut good = Gemm::new(Backend::Rayon, GemmKernel::Rayon, (600, 600, 600), &ctx);
    measure_ok(&mut good);
    fn wrong(m: usize, n: usize, k: usize, a: &[f32], b: &[f32], c: &mut [f32]) {
        tensorbench_cpu_simd::kernels::par::gemm(m, n, k, a, b, c);
        c.iter_mut().skip(1).step_by(7).for_each(|v| *v *= 1.01);
    }
    let mut bad = Gemm::new(
        Backend::Rayon,
        GemmKernel::Custom(wrong),
        (600, 600, 600),
        &ctx,
    );
    assert_eq!(measure(&mut bad).status, Status::Invalid);
}

#[test]
fn planted_wrong_kernels_are_invalid() {
    let ctx = ctx();
    // Off by one element at the tail: the classic remainder-loop bug.
    let skips_tail = Kernel::Binary(|a, b, out| {
        let n = out.len();
        tensorbench_cpu_simd::kernels::scalar::add(&a[..n - 1], &b[..n - 1], &mut out[..n - 1]);
    });
    let mut w = binary::with_kernel("add", Backend::Simd, 1031, &ctx, skips_tail).unwrap();
    let m = measure(&mut w);
    assert_eq!(m.status, Status::Invalid);
    assert!(m.stats.is_none(), "an invalid kernel must not be timed");

    // Slightly wrong everywhere: a subtraction where an addition belongs, 1e-3 off.
    let slightly_off = Kernel::Binary(|a, b, out| {
        for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
            *o = (x + y) * 1.001;
        }
    });
    let mut w = binary::with_kernel("add", Backend::Simd, 1031, &ctx, slightly_off).unwrap();
    assert_eq!(measure(&mut w).status, Status::Invalid);

    // A naive sequential f32 sum at 2^24 positive values is beyond the sum tolerance.
    let naive: reduce::ReduceFn = |_, x| x.iter().sum();
    let mut w = Reduce::new(Reduction::Sum, Backend::Scalar, naive, 1 << 24, &ctx);
    assert_eq!(measure(&mut w).status, Status::Invalid);
}

#[test]
fn probes_validate_at_small_sizes() {
    for kind in StreamKind::ALL {
        measure_ok(&mut Stream::new(kind, 10_007, 2));
    }
    measure_ok(&mut WorkingSet::new(64 << 10));
    measure_ok(&mut FmaPeak::new(rayon::current_num_threads()));
}

#[test]
fn tensors_are_exposed_for_peer_cross_checks() {
    let ctx = ctx();
    let mut w = binary::workload("add", Backend::Simd, 17, &ctx).unwrap();
    w.prepare(1).unwrap();
    w.execute();
    let t = w.tensors();
    assert_eq!(
        t.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
        ["a", "b", "out"]
    );
    let sum: Vec<f32> = t[0]
        .data
        .iter()
        .zip(&t[1].data)
        .map(|(a, b)| a + b)
        .collect();
    assert_eq!(sum, t[2].data);
    let mut g = Gemm::new(
        Backend::Simd,
        GemmKernel::for_backend(Backend::Simd, &ctx).unwrap(),
        (3, 4, 5),
        &ctx,
    );
    g.prepare(1).unwrap();
    g.execute();
    assert_eq!(
        g.tensors()
            .iter()
            .map(|t| t.shape.clone())
            .collect::<Vec<_>>(),
        [vec![3, 5], vec![5, 4], vec![3, 4]]
    );
}

#[test]
fn the_cpu_suite_lists_specs_and_refuses_unknown_flags() {
    let bin = env!("CARGO_BIN_EXE_tensorbench-cpu");
    let out = std::process::Command::new(bin)
        .args(["--list-json", "--filter", "/add/"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let specs: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert!(!specs.is_empty() && specs.iter().all(|s| s["op"] == "add"));
    let out = std::process::Command::new(bin)
        .arg("--no-such-flag")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--no-such-flag"));
}
