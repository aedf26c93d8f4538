//! Every WGSL kernel validated against the f64 reference on whatever adapter wgpu finds
//! (Mesa lavapipe in CI). Without any adapter the tests print why and pass.
#![cfg(feature = "wgpu")]

use std::sync::Arc;
use tensorbench_core::schema::{Peaks, Status};
use tensorbench_core::{ClockSource, Sampler, SamplerConfig, Workload};
use tensorbench_gpu::catalog::{Backend, Point, kernel_spec, point_spec};
use tensorbench_gpu::problem::{BinaryOp, Kernel, Shape, UnaryOp};
use tensorbench_gpu::wgpu_backend::context::{Timestamps, WgpuContext};
use tensorbench_gpu::wgpu_backend::kernel::KernelWorkload;
use tensorbench_gpu::wgpu_backend::transfer::{DataWorkload, Movement};
use tensorbench_gpu::wgpu_backend::{self, clock};

fn context() -> Option<Arc<WgpuContext>> {
    match wgpu_backend::open() {
        Ok(ctx) => Some(ctx),
        Err(reason) => {
            eprintln!("skipping: no wgpu adapter: {reason}");
            None
        }
    }
}

fn kernel(ctx: &Arc<WgpuContext>, k: Kernel, shape: Shape) -> KernelWorkload {
    KernelWorkload::new(
        kernel_spec(k, shape, "wgpu", "wgpu:0"),
        ctx.clone(),
        k,
        shape,
    )
}

/// prepare → execute → sync → validate, as the sampler does before timing.
fn check(w: &mut dyn Workload) {
    w.prepare(7)
        .unwrap_or_else(|e| panic!("{}: prepare: {e}", w.spec().id));
    w.execute();
    w.sync()
        .unwrap_or_else(|e| panic!("{}: sync: {e}", w.spec().id));
    let v = w
        .validate()
        .unwrap_or_else(|e| panic!("{}: validate: {e}", w.spec().id));
    assert!(v.passed, "{}: {v:?}", w.spec().id);
}

#[test]
fn elementwise_kernels_match_the_reference() {
    let Some(ctx) = context() else { return };
    for n in [4, 1 << 12, 3 << 10] {
        for op in BinaryOp::ALL {
            check(&mut kernel(&ctx, Kernel::Binary(op), Shape::Flat(n)));
        }
        for op in UnaryOp::ALL {
            check(&mut kernel(&ctx, Kernel::Unary(op), Shape::Flat(n)));
        }
    }
}

#[test]
fn reductions_match_the_reference() {
    let Some(ctx) = context() else { return };
    for n in [4, 1000, 1 << 18, 1 << 22] {
        check(&mut kernel(&ctx, Kernel::Sum, Shape::Flat(n)));
    }
    for (rows, cols) in [(1, 1), (5, 300), (64, 1024), (3, 4097)] {
        check(&mut kernel(
            &ctx,
            Kernel::RowSum,
            Shape::Rows { rows, cols },
        ));
    }
}

#[test]
fn softmax_and_layer_norm_match_the_reference() {
    let Some(ctx) = context() else { return };
    for (rows, cols) in [(1, 7), (5, 300), (64, 1024), (2, 5000)] {
        check(&mut kernel(
            &ctx,
            Kernel::Softmax,
            Shape::Rows { rows, cols },
        ));
        check(&mut kernel(
            &ctx,
            Kernel::LayerNorm,
            Shape::Rows { rows, cols },
        ));
    }
}

#[test]
fn mlp_forward_matches_the_f64_reference() {
    let Some(ctx) = context() else { return };
    for (batch, width, layers) in [(4, 64, 1), (70, 96, 3), (64, 256, 2)] {
        let shape = Shape::Mlp {
            batch,
            width,
            layers,
        };
        check(&mut kernel(&ctx, Kernel::Mlp, shape));
    }
}

#[test]
fn matmul_matches_the_reference_on_ragged_shapes() {
    let Some(ctx) = context() else { return };
    for (m, n, k) in [(64, 64, 16), (70, 50, 33), (1, 130, 7), (128, 256, 96)] {
        check(&mut kernel(&ctx, Kernel::Gemm, Shape::Gemm { m, n, k }));
    }
}

#[test]
fn transpose_matches_the_reference() {
    let Some(ctx) = context() else { return };
    for (rows, cols) in [(1, 1), (16, 16), (37, 19), (256, 512)] {
        check(&mut kernel(
            &ctx,
            Kernel::Transpose,
            Shape::Rows { rows, cols },
        ));
    }
}

#[test]
fn transfers_and_copies_move_the_data_exactly() {
    let Some(ctx) = context() else { return };
    for (movement, point) in [
        (
            Movement::Upload,
            Point::Transfer {
                to_device: true,
                pinned: false,
                n: 1 << 16,
            },
        ),
        (
            Movement::Download,
            Point::Transfer {
                to_device: false,
                pinned: false,
                n: 1 << 16,
            },
        ),
        (Movement::DeviceCopy, Point::Copy(1 << 16)),
    ] {
        let spec = point_spec(point, Backend::Wgpu);
        check(&mut DataWorkload::new(spec, ctx.clone(), movement, 1 << 16));
    }
}

#[test]
fn device_clock_times_through_the_sampler() {
    let Some(ctx) = context() else { return };
    let mut w = kernel(&ctx, Kernel::Binary(BinaryOp::Add), Shape::Flat(1 << 16));
    let config = SamplerConfig {
        warmup_s: 0.01,
        min_samples: 5,
        min_time_s: 0.01,
        max_time_s: 0.2,
        ..SamplerConfig::default()
    };
    let device = tensorbench_gpu::wgpu_backend::device::WgpuDevice {
        ctx: ctx.clone(),
        timing: tensorbench_gpu::wgpu_backend::device::Timing::Device,
    };
    let m = Sampler::new(config, 1 << 20).measure_on(&device, &mut w, 1, &Peaks::new());
    assert_eq!(m.status, Status::Ok, "{:?}", m.reason);
    let sampling = m.sampling.expect("sampled");
    let expected = match ctx.timestamps {
        Timestamps::None => ClockSource::Host,
        _ => ClockSource::WgpuTimestamp,
    };
    assert_eq!(sampling.clock_source, expected);
    assert!(m.samples_ns.iter().all(|&s| s > 0.0));
    assert_eq!(
        m.extra["adapter"],
        serde_json::Value::from(ctx.info.name.clone())
    );
}

#[test]
fn timestamp_interval_lies_within_the_host_interval() {
    let Some(ctx) = context() else { return };
    for mode in [Timestamps::Passes, Timestamps::Encoders] {
        let supported = match ctx.timestamps {
            Timestamps::Encoders => true,
            Timestamps::Passes => mode == Timestamps::Passes,
            Timestamps::None => false,
        };
        if !supported {
            eprintln!("skipping {mode:?}: adapter lacks it");
            continue;
        }
        let mut c = clock::TimestampClock::new(ctx.clone(), mode);
        let mut w = kernel(
            &ctx,
            Kernel::Gemm,
            Shape::Gemm {
                m: 128,
                n: 128,
                k: 128,
            },
        );
        w.prepare(1).unwrap();
        let host = std::time::Instant::now();
        tensorbench_core::Clock::start(&mut c).unwrap();
        for _ in 0..4 {
            w.execute();
        }
        let device_ns = tensorbench_core::Clock::stop(&mut c).unwrap();
        let host_ns = host.elapsed().as_nanos() as f64;
        assert!(device_ns > 0.0, "{mode:?}: no time elapsed on the device");
        assert!(
            device_ns <= host_ns,
            "{mode:?}: device {device_ns} ns > host {host_ns} ns"
        );
    }
}
